// The key store: a repeat within the window gets the first result, later it publishes again; the
// cap evicts the oldest key; a failed publish is forgotten; scopes and channels keep keys apart.
import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { dedupeScope, PublishDedupe, publishKey } from './publish-dedupe.js';

function store(window = 1000, maxKeys = 10) {
  const clock = new FakeClock();
  const dedupe = new PublishDedupe({ window, maxKeys }, clock);
  let offset = 0;
  const published: number[] = [];
  const publish = () => {
    offset++;
    published.push(offset);
    return Promise.resolve({ offset, epoch: 'e' });
  };
  return { clock, dedupe, publish, published };
}

describe('PublishDedupe', () => {
  it('answers a repeat within the window with the first result, and publishes again after it', async () => {
    const t = store(1000);
    await expect(t.dedupe.once('s', '/c', 'k', t.publish)).resolves.toEqual({ offset: 1, epoch: 'e' });
    t.clock.advanceSync(999);
    await expect(t.dedupe.once('s', '/c', 'k', t.publish)).resolves.toEqual({ offset: 1, epoch: 'e' });
    expect(t.published).toEqual([1]);
    t.clock.advanceSync(1);
    await expect(t.dedupe.once('s', '/c', 'k', t.publish)).resolves.toEqual({ offset: 2, epoch: 'e' });
    expect(t.published).toEqual([1, 2]);
  });

  it('forgets expired keys as time passes (the window bounds memory as well)', async () => {
    const t = store(1000);
    await t.dedupe.once('s', '/c', 'a', t.publish);
    await t.dedupe.once('s', '/c', 'b', t.publish);
    t.clock.advanceSync(1000);
    await t.dedupe.once('s', '/c', 'c', t.publish);
    expect(t.dedupe.size).toBe(1);
  });

  it('evicts the oldest key past maxKeys: a repeat of it is published again, a newer one is not', async () => {
    const t = store(60_000, 2);
    for (const key of ['a', 'b', 'c']) await t.dedupe.once('s', '/c', key, t.publish);
    expect(t.dedupe.size).toBe(2);
    await t.dedupe.once('s', '/c', 'c', t.publish);
    expect(t.published).toEqual([1, 2, 3]);
    await t.dedupe.once('s', '/c', 'a', t.publish);
    expect(t.published).toEqual([1, 2, 3, 4]);
  });

  it('gives a repeat that arrives while the first is still publishing the same result', async () => {
    const t = store();
    let finish: (at: { offset: number; epoch: string }) => void = () => {};
    const first = t.dedupe.once('s', '/c', 'k', () => new Promise((resolve) => (finish = resolve)));
    const repeat = t.dedupe.once('s', '/c', 'k', t.publish);
    finish({ offset: 7, epoch: 'e' });
    await expect(Promise.all([first, repeat])).resolves.toEqual([
      { offset: 7, epoch: 'e' },
      { offset: 7, epoch: 'e' },
    ]);
    expect(t.published).toEqual([]);
  });

  it('forgets a publish that failed, so its resend is published', async () => {
    const t = store();
    await expect(
      t.dedupe.once('s', '/c', 'k', () => Promise.reject(new Error('broker away'))),
    ).rejects.toThrow('broker away');
    await expect(t.dedupe.once('s', '/c', 'k', t.publish)).resolves.toEqual({ offset: 1, epoch: 'e' });
  });

  it('keeps keys of different scopes and channels apart', async () => {
    const t = store();
    await t.dedupe.once(dedupeScope({ id: 'ann' }), '/c', 'k', t.publish);
    await t.dedupe.once(dedupeScope({ id: 'bob' }), '/c', 'k', t.publish);
    await t.dedupe.once(dedupeScope({}), '/c', 'k', t.publish);
    await t.dedupe.once(dedupeScope({ id: 'ann' }), '/d', 'k', t.publish);
    expect(t.published).toEqual([1, 2, 3, 4]);
  });
});

describe('publishKey', () => {
  it('reads ext.push.key and refuses one that is not a string of 1 to 128 characters', () => {
    expect(publishKey({ channel: '/c', data: 1 })).toEqual({});
    expect(publishKey({ channel: '/c', data: 1, ext: { push: { key: 'k1' } } })).toEqual({ key: 'k1' });
    for (const key of ['', 'x'.repeat(129), 5, null]) {
      expect(publishKey({ channel: '/c', data: 1, ext: { push: { key } } } as never).error).toMatch(
        /^400::Bad request: ext.push.key/,
      );
    }
    expect(publishKey({ channel: '/c', data: 1, ext: { push: { key: 'x'.repeat(128) } } }).key).toHaveLength(
      128,
    );
  });
});
