// The outbox loaded with the first publish: what must answer at once does, calls made while the
// code loads reach one outbox in order, and a failed load is a typed error or a wait, never a hang.
import type { DataMessage, Message, Reply } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { PushError } from './errors.js';
import * as chunk from './outbox.js';
import { outboxOnDemand, type PublishDeps } from './outbox-on-demand.js';

type Chunk = typeof chunk;
const failing = () => Promise.reject(new TypeError('Failed to fetch dynamically imported module'));
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Deps over a fake request that acks every publish; `connected` and `closed` are switches. */
function deps(over: Partial<PublishDeps> = {}) {
  const sent: Message[] = [];
  const edges: [number, boolean][] = [];
  const state = { connected: true, closed: false };
  const d: PublishDeps = {
    connected: () => state.connected,
    closed: () => state.closed,
    request: async (message) => {
      sent.push(message);
      return { channel: message.channel, successful: true } as Reply;
    },
    max: 100,
    high: 3,
    low: 1,
    pressure: (pending, high) => void edges.push([pending, high]),
    ...over,
  };
  return { d, sent, edges, state };
}

/** A load that waits for `loaded()`, counting its calls. */
function gate(result: () => Promise<Chunk> = () => Promise.resolve(chunk)) {
  let loaded!: () => void;
  const wait = new Promise<void>((resolve) => {
    loaded = resolve;
  });
  const calls = { n: 0 };
  const load = () => {
    calls.n++;
    return wait.then(result);
  };
  return { load, loaded, calls };
}

describe('outbox on demand', () => {
  it('sends publishes made while its code loads in order, through one outbox', async () => {
    const { d, sent, state } = deps({ max: 2 });
    state.connected = false;
    const { load, loaded } = gate();
    const outbox = outboxOnDemand(d, load);
    const results = [1, 2, 3].map((n) => outbox.send('/q', n).catch((e: unknown) => e));
    loaded();
    // One outbox: its queue of 2 refuses the third.
    expect(await results[2]).toMatchObject({ code: 'queue-full' });
    state.connected = true;
    outbox.flush();
    await Promise.all(results.slice(0, 2));
    expect(sent.map((m) => (m as DataMessage).data)).toEqual([1, 2]);
  });

  it('a publish made while the waiting ones are handed over goes behind them', async () => {
    const { d, sent } = deps();
    const { load, loaded } = gate();
    const outbox = outboxOnDemand(d, load);
    const results = ['a1', 'a2', 'a3'].map((n) => outbox.send('/q', n));
    // Publishes from code that runs 0-7 microtasks after the code arrived.
    const later = Promise.resolve().then(async () => {
      const hop = async (n: number) => {
        for (let i = 0; i < n; i++) await null;
        return outbox.send('/q', `b${n}`);
      };
      await loading;
      return Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(hop));
    });
    const loading = Promise.resolve().then(loaded);
    await Promise.all([...results, later]);
    expect(sent.map((m) => (m as DataMessage).data)).toEqual([
      'a1',
      'a2',
      'a3',
      'b0',
      'b1',
      'b2',
      'b3',
      'b4',
      'b5',
      'b6',
      'b7',
    ]);
  });

  it('refuses an invalid channel or a closed client at once, without loading anything', async () => {
    const { d, state } = deps();
    const { load, calls } = gate();
    const outbox = outboxOnDemand(d, load);
    await expect(outbox.send('/a/*', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
    await expect(outbox.send('/meta/x', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
    state.closed = true;
    await expect(outbox.send('/a', 1)).rejects.toMatchObject({ code: 'closed' });
    expect(calls.n).toBe(0);
  });

  it('counts backpressure from the publish, before its code arrived', async () => {
    const { d, edges } = deps();
    const { load, loaded } = gate();
    const outbox = outboxOnDemand(d, load);
    const results = [1, 2, 3].map((n) => outbox.send('/q', n));
    expect(edges).toEqual([[3, true]]);
    loaded();
    await Promise.all(results);
    expect(edges).toEqual([
      [3, true],
      [1, false],
    ]);
  });

  it('rejects with load-failed when the code cannot be loaded while connected; the next publish loads again', async () => {
    const { d, sent } = deps();
    let attempts = 0;
    const outbox = outboxOnDemand(d, () => (++attempts === 1 ? failing() : Promise.resolve(chunk)));
    const error = await outbox.send('/q', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error).toMatchObject({ code: 'load-failed', retriable: true });
    expect((error as PushError).cause).toBeInstanceOf(TypeError);
    await outbox.send('/q', 2);
    expect(attempts).toBe(2);
    expect(sent.map((m) => (m as DataMessage).data)).toEqual([2]);
  });

  it('offline, a failed load waits like a queued publish and is tried again at the next connect', async () => {
    const { d, sent, state } = deps();
    state.connected = false;
    let attempts = 0;
    const outbox = outboxOnDemand(d, () => (++attempts === 1 ? failing() : Promise.resolve(chunk)));
    let settled = false;
    const result = outbox.send('/q', 1).finally(() => {
      settled = true;
    });
    await tick();
    expect([attempts, settled]).toEqual([1, false]);
    state.connected = true;
    outbox.flush(); // connected
    await result;
    expect(attempts).toBe(2);
    expect(sent.map((m) => (m as DataMessage).data)).toEqual([1]);
  });

  it('close rejects what still waits for its code', async () => {
    const { d, state } = deps();
    state.connected = false;
    const outbox = outboxOnDemand(d, failing);
    const result = outbox.send('/q', 1).catch((e: unknown) => e);
    await tick();
    state.closed = true;
    outbox.fail(new PushError('closed', 'Client closed'));
    expect(await result).toMatchObject({ code: 'closed' });
  });

  it('closed while its code loaded: the publish is refused, not queued for ever', async () => {
    const { d, state } = deps();
    state.connected = false;
    const { load, loaded } = gate();
    const outbox = outboxOnDemand(d, load);
    const result = outbox.send('/q', 1).catch((e: unknown) => e);
    state.closed = true;
    outbox.fail(new PushError('closed', 'Client closed'));
    loaded();
    expect(await result).toMatchObject({ code: 'closed' });
  });
});
