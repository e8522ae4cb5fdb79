// The persistent outbox over memory rows (Node has no IndexedDB; the IndexedDB rows run in the
// browsers, e2e scenario `outbox-reload`). A "reload" is a second client attached to the same rows
// while the first, whose publish never got its ack, is simply left behind (no close()).
import type { DataMessage } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { setup } from '../testing/fakes.js';
import { indexedDbOutbox } from './index.js';
import { persistentOutbox, type UnloadBackup } from './outbox.js';
import { memoryRows, type Rows } from './rows.js';

function page(rows: Rows, now = () => 1000, maxAge = 300_000, backup?: UnloadBackup) {
  const outbox = persistentOutbox(Promise.resolve([rows, 'memory']), maxAge, now, backup);
  const t = setup({ order: ['websocket'] });
  outbox.attach(t.client);
  return { ...t, outbox };
}

const sentOn = (t: ReturnType<typeof setup>, channel: string) =>
  t.server.received.filter((m) => m.channel === channel) as DataMessage[];

describe('a persistent outbox (attach)', () => {
  it('keeps a publish until its ack and sends it again after a reload, with the same key', async () => {
    const rows = memoryRows();
    const first = page(rows);
    await first.clock.advance(0);
    first.factories.websocket.created.at(-1)!.send = async () => {}; // never answered
    void first.client.publish('/q', 'before the reload');
    await first.clock.advance(0);
    const [kept] = await rows.all();
    expect(kept).toMatchObject({ channel: '/q', data: 'before the reload' });

    const second = page(rows); // the reloaded page
    await second.clock.advance(0);
    const restored = await second.outbox.restored;
    await restored.sent[0]?.settled;
    expect(sentOn(second, '/q').map((m) => [m.data, m.ext?.push?.key])).toEqual([
      ['before the reload', kept?.key],
    ]);
    expect(restored.sent.map((p) => p.key)).toEqual([kept?.key]);
    expect(restored.expired).toEqual([]);
    expect(await rows.all()).toEqual([]);
  });

  it('removes a publish on its ack, and keeps none of the service requests', async () => {
    const rows = memoryRows();
    const t = page(rows);
    await t.clock.advance(0);
    await t.client.publish('/q', 1);
    await t.client.publish('/service/echo', 2);
    expect(await rows.all()).toEqual([]);
    expect(sentOn(t, '/q')[0]?.ext?.push?.key).toMatch(/^-?\d+(,-?\d+){3}$/);
    expect(sentOn(t, '/service/echo')[0]?.ext).toBeUndefined();
  });

  it('sends what was left oldest first (the order they were made in, within one millisecond too)', async () => {
    const rows = memoryRows();
    rows.put({ key: 'b', channel: '/q', data: 2, at: 1000, seq: 1 });
    rows.put({ key: 'c', channel: '/q', data: 3, at: 1001, seq: 0 });
    rows.put({ key: 'a', channel: '/q', data: 1, at: 1000, seq: 0 });
    const t = page(rows, () => 2000);
    await t.clock.advance(0);
    await Promise.all((await t.outbox.restored).sent.map((p) => p.settled));
    expect(sentOn(t, '/q').map((m) => [m.data, m.ext?.push?.key])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('drops what is older than maxAge unsent and reports it as expired', async () => {
    const rows = memoryRows();
    rows.put({ key: 'old', channel: '/q', data: 'old', at: 0, seq: 0 });
    rows.put({ key: 'new', channel: '/q', data: 'new', at: 500, seq: 1 });
    const t = page(rows, () => 1000, 1000);
    await t.clock.advance(0);
    const restored = await t.outbox.restored;
    expect(restored.expired).toEqual([{ key: 'old', channel: '/q', data: 'old', at: 0 }]);
    await restored.sent[0]?.settled;
    expect(sentOn(t, '/q').map((m) => m.data)).toEqual(['new']);
    expect(await rows.all()).toEqual([]);
  });

  it('rejects the settled promise of a restored publish the server refuses, and removes it', async () => {
    const rows = memoryRows();
    rows.put({ key: 'k', channel: '/forbidden', data: 1, at: 1000, seq: 0 });
    const t = page(rows);
    await t.clock.advance(0);
    const [refused] = (await t.outbox.restored).sent;
    await expect(refused?.settled).rejects.toMatchObject({ code: 'rejected' });
    expect(await rows.all()).toEqual([]);
  });

  it('keeps no more than the client queues: a publish the full queue refuses is not kept', async () => {
    const rows = memoryRows();
    const outbox = persistentOutbox(Promise.resolve([rows, 'memory']), 300_000, () => 1000);
    const t = setup({ client: { autoConnect: false, maxQueue: 2 } });
    outbox.attach(t.client);
    const kept = [t.client.publish('/q', 1), t.client.publish('/q', 2)];
    await expect(t.client.publish('/q', 3)).rejects.toMatchObject({ code: 'queue-full' });
    expect((await rows.all()).map((row) => row.data)).toEqual([1, 2]);
    t.client.connect();
    await t.clock.advance(0);
    await Promise.all(kept);
    expect(await rows.all()).toEqual([]);
  });

  it('removes what close() rejects: a later page does not send it', async () => {
    const rows = memoryRows();
    const outbox = persistentOutbox(Promise.resolve([rows, 'memory']), 300_000, () => 1000);
    const t = setup({ client: { autoConnect: false } });
    outbox.attach(t.client);
    const p = t.client.publish('/q', 1);
    await t.client.close();
    await expect(p).rejects.toMatchObject({ code: 'closed' });
    expect(await rows.all()).toEqual([]);
  });
});

describe('indexedDbOutbox', () => {
  it('keeps publishes in memory where there is no IndexedDB', async () => {
    await expect(indexedDbOutbox({ name: 't' }).kept).resolves.toBe('memory');
  });

  it('falls back to memory when IndexedDB refuses to open', async () => {
    const refusing = {
      open() {
        const request = { error: new Error('denied') } as unknown as IDBOpenDBRequest;
        queueMicrotask(() => request.onerror?.(new Event('error')));
        return request;
      },
    } as unknown as IDBFactory;
    await expect(indexedDbOutbox({ name: 't', indexedDB: refusing }).kept).resolves.toBe('memory');
  });
});

describe('a publish made in the task that reloads (issue 14)', () => {
  /** A page's synchronous storage and its lifecycle events, kept across its "reload". */
  function browserish() {
    const items = new Map<string, string>();
    const listeners = new Map<string, Array<() => void>>();
    return {
      items,
      fire: (event: string) => {
        for (const fn of listeners.get(event) ?? []) fn();
      },
      backup: () => ({
        storage: {
          getItem: (key: string) => items.get(key) ?? null,
          setItem: (key: string, value: string) => void items.set(key, value),
          removeItem: (key: string) => void items.delete(key),
        },
        key: 'push-outbox:test',
        on: (event: string, fn: () => void) => listeners.set(event, [...(listeners.get(event) ?? []), fn]),
      }),
    };
  }
  /** Database rows whose writes never land (the document unloaded first). */
  const lostWrites = (): Rows => ({ all: async () => [], put: () => {}, delete: () => {} });

  it('is copied at pagehide and sent by the next page with its key, when its database write was lost', async () => {
    const browser = browserish();
    const first = page(lostWrites(), undefined, undefined, browser.backup());
    await first.clock.advance(0);
    first.factories.websocket.created.at(-1)!.send = async () => {}; // never answered: deaf, reloading
    void first.client.publish('/q', 'in the reloading task');
    browser.fire('pagehide');
    expect(browser.items.size).toBe(1);

    const second = page(memoryRows(), undefined, undefined, browser.backup());
    browser.fire('pageshow'); // the new page's own pageshow: the copy was read already
    await second.clock.advance(0);
    const restored = await second.outbox.restored;
    await restored.sent[0]?.settled;
    expect(sentOn(second, '/q').map((m) => m.data)).toEqual(['in the reloading task']);
    expect(restored.sent.map((p) => p.data)).toEqual(['in the reloading task']);
    expect(browser.items.size).toBe(0);
  });

  it('leaves nothing behind for a page that comes back from the back/forward cache', async () => {
    const browser = browserish();
    const t = page(memoryRows(), undefined, undefined, browser.backup());
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)!.send = async () => {};
    void t.client.publish('/q', 'kept');
    browser.fire('pagehide');
    expect(browser.items.size).toBe(1);
    browser.fire('pageshow'); // restored: the page and its database go on
    expect(browser.items.size).toBe(0);
  });

  it('loads past a corrupt or foreign copy, keeping only its well-formed rows', async () => {
    const browser = browserish();
    const good = { key: 'k1', channel: '/q', data: 'good', at: 1000, seq: 0 };
    browser.items.set('push-outbox:test', JSON.stringify([null, 7, { key: 5 }, good]));
    const t = page(memoryRows(), undefined, undefined, browser.backup());
    await t.clock.advance(0);
    const restored = await t.outbox.restored;
    expect(restored.sent.map((p) => [p.key, p.data])).toEqual([['k1', 'good']]);
  });
});
