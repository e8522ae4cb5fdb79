import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelMatches } from './channel.js';
import { SubscriptionIndex } from './subscription-index.js';

const segment = fc.constantFrom('a', 'b', 'c', 'stocks', 'aex');
const channelArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
const patternArb = fc
  .tuple(fc.array(segment, { minLength: 0, maxLength: 3 }), fc.constantFrom('', '*', '**'))
  .filter(([parts, wildcard]) => parts.length > 0 || wildcard !== '')
  .map(([parts, wildcard]) => `/${[...parts, ...(wildcard ? [wildcard] : [])].join('/')}`);

describe('SubscriptionIndex', () => {
  it('matches exact, one-segment and deep wildcards', () => {
    const index = new SubscriptionIndex<string>();
    index.add('/stocks/aex/philips', 'exact');
    index.add('/stocks/aex/*', 'one');
    index.add('/stocks/**', 'deep');
    index.add('/**', 'all');
    expect(index.match('/stocks/aex/philips')).toEqual(new Set(['exact', 'one', 'deep', 'all']));
    expect(index.match('/stocks/aex')).toEqual(new Set(['deep', 'all']));
    expect(index.match('/stocks/aex/asml/x')).toEqual(new Set(['deep', 'all']));
    expect(index.match('/other')).toEqual(new Set(['all']));
  });

  it('delivers once to a subscriber matched by several patterns', () => {
    const index = new SubscriptionIndex<string>();
    index.add('/a/*', 'alice');
    index.add('/a/b', 'alice');
    expect([...index.match('/a/b')]).toEqual(['alice']);
  });

  it('counts, refuses duplicates and prunes on remove', () => {
    const index = new SubscriptionIndex<number>();
    expect(index.add('/a/b/c', 1)).toBe(true);
    expect(index.add('/a/b/c', 1)).toBe(false);
    expect(index.size).toBe(1);
    expect(index.remove('/a/b/c', 2)).toBe(false);
    expect(index.remove('/a/b/c', 1)).toBe(true);
    expect(index.size).toBe(0);
    expect(index.hasMatch('/a/b/c')).toBe(false);
    expect(index.remove('/x/y', 1)).toBe(false);
  });

  it('throws on an invalid pattern or a wildcard lookup', () => {
    const index = new SubscriptionIndex<number>();
    expect(() => index.add('bad', 1)).toThrow(/Invalid channel/);
    expect(() => index.match('/a/*')).toThrow(/Wildcards are not allowed/);
  });

  it('stays fast with 100,000 subscriptions', () => {
    const index = new SubscriptionIndex<number>();
    for (let i = 0; i < 100_000; i++) index.add(`/room/${i % 1000}/user/${i}`, i);
    index.add('/room/7/**', -1);
    expect(index.size).toBe(100_001);
    // 10,000 lookups over a 100k index: a loop of regexes would make 10^9 tests (minutes);
    // the trie walks 4 levels per lookup. The bound is loose so a loaded CI machine cannot flake.
    const started = performance.now();
    let hits = 0;
    for (let i = 0; i < 10_000; i++) hits += index.match(`/room/${i % 1000}/user/${i}`).size;
    const elapsed = performance.now() - started;
    expect(hits).toBe(10_000 + 10);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('agrees with the naive reference matcher on random channels and patterns', () => {
    fc.assert(
      fc.property(fc.uniqueArray(patternArb, { maxLength: 12 }), channelArb, (patterns, channel) => {
        const index = new SubscriptionIndex<string>();
        for (const pattern of patterns) index.add(pattern, pattern);
        const expected = new Set(patterns.filter((pattern) => channelMatches(pattern, channel)));
        expect(index.match(channel)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with the reference after random removals', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(patternArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat()),
        channelArb,
        (patterns, removals, channel) => {
          const index = new SubscriptionIndex<string>();
          for (const pattern of patterns) index.add(pattern, pattern);
          const kept = new Set(patterns);
          for (const pick of removals) {
            const pattern = patterns[pick % patterns.length]!;
            expect(index.remove(pattern, pattern)).toBe(kept.delete(pattern));
          }
          expect(index.size).toBe(kept.size);
          expect(index.match(channel)).toEqual(new Set([...kept].filter((p) => channelMatches(p, channel))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
