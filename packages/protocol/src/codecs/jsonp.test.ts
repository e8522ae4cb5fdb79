import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DataMessage, Message } from '../messages.js';
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

  it('delivers a __proto__ key as an own property, as JSON.parse does, not as a prototype', () => {
    const batch = JSON.parse('[{"channel":"/a","data":{"__proto__":{"admin":true},"n":1}}]') as Message[];
    const body = encodeJsonp('cb', batch);
    const [delivered] = runJsonp(body, 'cb') as [Message[]];
    const data = (delivered[0] as DataMessage).data as Record<string, unknown>;
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(delivered).toEqual(batch);
    expect(decodeJsonp(body).messages).toEqual(batch);
    // A batch without such a key stays a plain literal.
    expect(encodeJsonp('cb', [{ channel: '/a', data: '__proto__' }])).toBe(
      '/**/cb([{"channel":"/a","data":"__proto__"}]);',
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
