import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../messages.js';
import { messageBatch } from './arbitraries.test-helpers.js';
import { isValidCallbackName } from './callback-name.js';
import { decodeJsonp, encodeJsonp } from './jsonp.js';

function runJsonp(body: string, callback: string): unknown[] {
  const calls: unknown[] = [];
  const root = callback.split('.')[0]!;
  const scope: Record<string, unknown> = {};
  // Build `root.a.b = fn` for dotted names.
  const parts = callback.split('.');
  let target: Record<string, unknown> = scope;
  for (const part of parts.slice(0, -1)) {
    const next: Record<string, unknown> = {};
    target[part] = next;
    target = next;
  }
  target[parts.at(-1)!] = (value: unknown) => calls.push(value);
  new Function(root, body)(scope[root]);
  return calls;
}

describe('JSONP codec', () => {
  it('round-trips arbitrary batches, and executing the body delivers them intact', () => {
    fc.assert(
      fc.property(messageBatch, (batch) => {
        const body = encodeJsonp('jsonp1', batch);
        const expected = JSON.parse(JSON.stringify(batch)) as Message[];
        expect(decodeJsonp(body)).toEqual({ callback: 'jsonp1', messages: expected });
        expect(runJsonp(body, 'jsonp1')).toEqual([expected]);
        expect(body).not.toMatch(/[<>\u2028\u2029]/);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts dotted identifiers and refuses anything else', () => {
    expect(isValidCallbackName('jQuery123_456.cb')).toBe(true);
    expect(isValidCallbackName('$')).toBe(true);
    for (const bad of ['', '1a', 'a b', 'alert(1)', 'a;b', 'a..b', 'a.', 'a[0]', `a${'x'.repeat(200)}`, 5]) {
      expect(isValidCallbackName(bad)).toBe(false);
    }
    expect(() => encodeJsonp('alert(document.cookie)//', [])).toThrow(/Invalid JSONP callback/);
  });
});
