import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { messageBatch } from './arbitraries.test-helpers.js';
import { decodeBatch, encodeBatch } from './json-batch.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'not-a-protocol-error';
  }
  return undefined;
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
    const error = (() => {
      try {
        decodeBatch(`[{"channel":"/a","data":"${'x'.repeat(200)}"}]`, { maxLength: 100 });
      } catch (caught) {
        return caught as ProtocolError;
      }
    })();
    expect(error?.code).toBe('too-large');
    expect(error?.bayeux).toMatch(/^413:100:/);
  });
});
