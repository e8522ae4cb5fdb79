import { describe, expect, it } from 'vitest';
import { bayeuxErrors, formatBayeuxError, parseBayeuxError } from './errors.js';

describe('Bayeux error strings', () => {
  it('formats the errors Bayeux clients expect', () => {
    expect(bayeuxErrors.unknownClient()).toBe('402::Unknown client');
    expect(bayeuxErrors.unknownClient('abc')).toBe('402:abc:Unknown client');
    expect(bayeuxErrors.forbidden('/chat', 'publish')).toBe('403:/chat:Forbidden: publish denied');
    expect(bayeuxErrors.badRequest('no channel')).toBe('400::Bad request: no channel');
    expect(bayeuxErrors.tooLarge(1024)).toBe('413:1024:Message too large (limit 1024 bytes)');
  });

  it('parses what it formats', () => {
    expect(parseBayeuxError(formatBayeuxError(429, ['subscriptions', '100'], 'Limit exceeded'))).toEqual({
      code: 429,
      args: ['subscriptions', '100'],
      message: 'Limit exceeded',
    });
    expect(parseBayeuxError('402::Unknown client')).toEqual({
      code: 402,
      args: [],
      message: 'Unknown client',
    });
  });

  it('returns undefined for strings that are not Bayeux errors', () => {
    expect(parseBayeuxError('oops')).toBeUndefined();
    expect(parseBayeuxError('4000::x')).toBeUndefined();
  });
});
