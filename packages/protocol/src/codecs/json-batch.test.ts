import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { messageBatch } from './arbitraries.test-helpers.js';
import { decodeBatch, encodeBatch, jsonTextDepthExceeds, jsonValueDepthExceeds } from './json-batch.js';

/** What `fn` threw: a ProtocolError, `'not-a-protocol-error'` for anything else, undefined for nothing. */
function thrownBy(fn: () => unknown): ProtocolError | 'not-a-protocol-error' | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProtocolError ? error : 'not-a-protocol-error';
  }
  return undefined;
}

function codeOf(fn: () => unknown): string | undefined {
  const error = thrownBy(fn);
  return error instanceof ProtocolError ? error.code : error;
}

describe('JSON batch codec', () => {
  it('round-trips arbitrary batches', () => {
    fc.assert(
      fc.property(messageBatch, (batch) => {
        expect(decodeBatch(encodeBatch(batch))).toEqual(JSON.parse(JSON.stringify(batch)));
      }),
      { numRuns: 300 },
    );
  });

  it('wraps a single message object', () => {
    expect(decodeBatch('{"channel":"/a","data":1}')).toEqual([{ channel: '/a', data: 1 }]);
  });

  it.each([
    ['{oops', 'malformed-json'],
    ['42', 'not-a-batch'],
    ['"x"', 'not-a-batch'],
    ['[]', 'not-a-batch'],
    ['[1]', 'invalid-message'],
    ['[{"data":1}]', 'invalid-message'],
    ['[{"channel":5}]', 'invalid-message'],
  ])('rejects %s with %s', (text, code) => {
    expect(codeOf(() => decodeBatch(text))).toBe(code);
  });

  it('rejects oversize input before parsing, with a 413 Bayeux error', () => {
    const error = thrownBy(() =>
      decodeBatch(`[{"channel":"/a","data":"${'x'.repeat(200)}"}]`, { maxLength: 100 }),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'too-large', bayeux: expect.stringMatching(/^413:100:/) });
  });
});

describe('JSON batch bounds', () => {
  const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

  it('refuses nesting deeper than maxDepth before parsing, with a 429 depth error', () => {
    const text = `[{"channel":"/meta/connect","id":${deep(6000)}}]`;
    const caught = thrownBy(() => decodeBatch(text));
    expect(caught).toBeInstanceOf(ProtocolError);
    expect(caught).toMatchObject({ code: 'too-deep', bayeux: expect.stringMatching(/^429:depth,64:/) });
    // The batch array is level 1, the message level 2: data may nest 62 more.
    expect(() => decodeBatch(`[{"channel":"/a","data":${deep(62)}}]`)).not.toThrow();
    expect(codeOf(() => decodeBatch(`[{"channel":"/a","data":${deep(63)}}]`))).toBe('too-deep');
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify([{ channel: '/a', data: `\\"${'['.repeat(500)}` }]);
    expect(decodeBatch(text)).toHaveLength(1);
  });

  it('counts depth of arbitrary JSON exactly like the parsed value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 8 }), (value, max) => {
        expect(jsonTextDepthExceeds(JSON.stringify(value), max)).toBe(jsonValueDepthExceeds(value, max));
      }),
      { numRuns: 500 },
    );
  });

  it('treats a cyclic value as too deep', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonValueDepthExceeds(cyclic, 64)).toBe(true);
  });

  it('refuses more messages than maxMessages with a 429 batch error', () => {
    const text = JSON.stringify(Array.from({ length: 11 }, () => ({ channel: '/a' })));
    expect(codeOf(() => decodeBatch(text, { maxMessages: 10 }))).toBe('too-large');
    expect(decodeBatch(text, { maxMessages: 11 })).toHaveLength(11);
  });

  it.each([
    ['an object id', { channel: '/a', id: { x: 1 } }],
    ['an array id', { channel: '/a', id: [1] }],
    ['an over-long id', { channel: '/a', id: 'i'.repeat(257) }],
    ['an over-long channel', { channel: `/${'c'.repeat(1024)}` }],
    ['a numeric clientId', { channel: '/meta/connect', clientId: 5 }],
    ['an array connectionType', { channel: '/meta/connect', connectionType: ['websocket'] }],
    ['a string advice', { channel: '/meta/connect', advice: 'x' }],
    ['an array ext', { channel: '/a', ext: [] }],
    ['supportedConnectionTypes of numbers', { channel: '/meta/handshake', supportedConnectionTypes: [1] }],
    ['a subscription object', { channel: '/meta/subscribe', subscription: { a: 1 } }],
  ])('refuses %s with invalid-message', (_name, message) => {
    expect(codeOf(() => decodeBatch(JSON.stringify([message])))).toBe('invalid-message');
  });

  it('accepts the spec types: string or integer ids, string lists, objects', () => {
    const batch = [
      { channel: '/meta/handshake', id: '1', version: '1.0', supportedConnectionTypes: ['websocket'] },
      { channel: '/meta/subscribe', id: 2, clientId: 'c', subscription: ['/a', '/b/*'], ext: {} },
      { channel: '/meta/connect', clientId: 'c', connectionType: 'long-polling', advice: { timeout: 0 } },
    ];
    expect(decodeBatch(JSON.stringify(batch))).toHaveLength(3);
  });
});
