// Integration against @push/server on 127.0.0.1, every transport, including a server that kills
// every connection mid-stream: the subscriber must see every sequence number once, in order.
import {
  createClient,
  eventSource,
  fetchFrame,
  iframe,
  longPolling,
  type PushClient,
  websocket,
} from '@push/client';
import type { PushServerOptions } from '@push/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAfterEach, startServer } from './harness.js';

const closeLater = closeAfterEach();
const start = (options: PushServerOptions = {}) =>
  startServer({ timeout: 2000, heartbeatInterval: 500, ...options });

const factories = {
  websocket: websocket(),
  eventsource: eventSource(),
  'long-polling': longPolling(),
  iframe: iframe(fetchFrame),
};

function client(url: string, transport: keyof typeof factories): PushClient {
  const c = createClient({
    url,
    transports: [factories[transport]],
    WebSocket: WebSocket as never,
    storage: null,
    attemptTimeout: 2000,
    heartbeatGrace: 2000,
    backoff: { base: 20, max: 200 },
  });
  closeLater(() => c.close());
  return c;
}

const until = async (check: () => boolean, ms = 10_000) => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.each(Object.keys(factories) as (keyof typeof factories)[])('@push/server over %s', (transport) => {
  it('connects, subscribes, publishes with ack and receives', async () => {
    const h = await start();
    const c = client(h.url, transport);
    const got: unknown[] = [];
    const sub = c.subscribe('/chat/*', (data) => got.push(data));
    await sub.ready;
    expect(c.state).toBe('connected');
    expect(c.transport).toBe(transport);
    await c.publish('/chat/lobby', { text: 'hi' });
    await h.push.publish('/chat/lobby', { text: 'server' });
    await until(() => got.length === 2);
    expect(got).toEqual([{ text: 'hi' }, { text: 'server' }]);
    await expect(c.publish('/meta/nope', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
  });

  it('delivers every sequence number once, in order, while the server kills connections mid-stream', async () => {
    const h = await start();
    const c = client(h.url, transport);
    const got: number[] = [];
    await c.subscribe('/seq', (data) => got.push((data as { n: number }).n)).ready;
    const total = 300;
    for (let n = 1; n <= total; n++) {
      await h.push.publish('/seq', { n });
      if (n % 75 === 0) h.killAll();
      if (n % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => got.length >= total, 15_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('presence: enter, members, join and leave events', async () => {
    const h = await start();
    const a = client(h.url, transport);
    const b = client(h.url, transport);
    const joins: unknown[] = [];
    const leaves: unknown[] = [];
    const pa = a.presence('/room');
    pa.on('join', (m) => joins.push(m.data));
    pa.on('leave', (m) => leaves.push(m.data));
    await pa.enter({ name: 'ann' });
    const pb = b.presence('/room');
    const members = await pb.enter({ name: 'bob' });
    expect(members.map((m) => m.data)).toEqual(expect.arrayContaining([{ name: 'ann' }, { name: 'bob' }]));
    await until(() => joins.length === 2);
    await pb.leave();
    await until(() => leaves.length === 1);
    expect(leaves).toEqual([{ name: 'bob' }]);
    expect((await pa.members()).map((m) => m.data)).toEqual([{ name: 'ann' }]);
  });
});

describe('@push/server upgrade', () => {
  it('upgrades from long-polling to WebSocket in the background without a gap or a duplicate', async () => {
    const h = await start();
    const storage = new Map<string, string>([[`push:transport:${new URL(h.url).origin}`, 'long-polling']]);
    const c = createClient({
      url: h.url,
      transports: [websocket(), longPolling()],
      WebSocket: WebSocket as never,
      storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
      upgradeDelay: 150,
      backoff: { base: 20, max: 200 },
    });
    closeLater(() => c.close());
    const changes: unknown[] = [];
    c.on('transport', (e) => changes.push(e));
    const got: number[] = [];
    await c.subscribe('/seq', (data) => got.push((data as { n: number }).n)).ready;
    expect(c.transport).toBe('long-polling');
    const total = 200;
    for (let n = 1; n <= total; n++) {
      await h.push.publish('/seq', { n });
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => got.length >= total);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.transport).toBe('websocket');
    expect(changes.at(-1)).toEqual({ transport: 'websocket', previous: 'long-polling', reason: 'upgrade' });
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await c.publish('/after', 1);
  });
});
