import { describe, expect, it } from 'vitest';
import {
  assertChannel,
  channelMatches,
  isMetaChannel,
  isServiceChannel,
  isValidChannel,
  parseChannel,
} from './channel.js';
import { ProtocolError } from './errors.js';

describe('parseChannel', () => {
  it('classifies meta, service and data channels', () => {
    expect(parseChannel('/meta/handshake')?.kind).toBe('meta');
    expect(parseChannel('/service/presence')?.kind).toBe('service');
    expect(parseChannel('/stocks/aex')?.kind).toBe('data');
  });

  it('recognises trailing wildcards only', () => {
    expect(parseChannel('/a/*')).toMatchObject({ segments: ['a'], wildcard: 'one' });
    expect(parseChannel('/a/**')).toMatchObject({ segments: ['a'], wildcard: 'deep' });
    expect(parseChannel('/**')).toMatchObject({ segments: [], wildcard: 'deep' });
    expect(parseChannel('/a/*/b')).toBeUndefined();
    expect(parseChannel('/a/***')).toBeUndefined();
  });

  it.each(['', '/', 'a/b', '/a//b', '/a/', '/a b', '/a/<script>', '/a/b\n', 42, null, `/${'x'.repeat(600)}`])(
    'rejects %j',
    (name) => {
      expect(isValidChannel(name)).toBe(false);
    },
  );

  it('accepts Bayeux marks in segments', () => {
    expect(isValidChannel('/chat/room-1_a!~()$@.x')).toBe(true);
  });
});

describe('assertChannel', () => {
  it('throws a ProtocolError with a Bayeux 407 string', () => {
    const error = (() => {
      try {
        assertChannel('nope', true);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ bayeux: '407:nope:Invalid channel' });
  });

  it('refuses wildcards where they are not allowed', () => {
    expect(() => assertChannel('/a/*', false)).toThrow(/Wildcards are not allowed/);
    expect(assertChannel('/a/*', true).wildcard).toBe('one');
  });
});

describe('channelMatches', () => {
  it.each([
    ['/a/b', '/a/b', true],
    ['/a/b', '/a/c', false],
    ['/a/*', '/a/b', true],
    ['/a/*', '/a/b/c', false],
    ['/a/*', '/a', false],
    ['/a/**', '/a/b', true],
    ['/a/**', '/a/b/c/d', true],
    ['/a/**', '/a', false],
    ['/**', '/x', true],
    ['/*', '/x/y', false],
    ['/a/*', '/a/*', false],
  ])('%s matches %s: %s', (pattern, channel, expected) => {
    expect(channelMatches(pattern, channel)).toBe(expected);
  });
});

describe('meta and service helpers', () => {
  it('tells meta and service channels apart', () => {
    expect(isMetaChannel('/meta/connect')).toBe(true);
    expect(isMetaChannel('/metadata')).toBe(false);
    expect(isServiceChannel('/service/echo')).toBe(true);
    expect(isServiceChannel('/services')).toBe(false);
  });
});
