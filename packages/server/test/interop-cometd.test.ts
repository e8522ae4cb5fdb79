/** Interop: the official CometD JavaScript client (cometd + cometd-nodejs-client) over websocket and long-polling. */

import { eventually } from '@push/test-kit/bayeux-client';
import { AckExtension, CometD, type Message } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Running, startServer } from './helpers.js';

let server: Running;
let clients: CometD[] = [];

beforeAll(() => {
  adapt();
});
beforeEach(async () => {
  server = await startServer();
});
afterEach(async () => {
  await Promise.all(
    clients.map((client) => new Promise<void>((resolve) => client.disconnect(() => resolve()))),
  );
  clients = [];
  await server.close();
});

function call<T extends Message>(register: (callback: (message: T) => void) => void): Promise<T> {
  return new Promise((resolve) => register(resolve));
}

for (const mode of ['websocket', 'long-polling'] as const) {
  describe(`CometD client over ${mode}`, () => {
    const create = async () => {
      const cometd = new CometD();
      if (mode === 'long-polling') cometd.unregisterTransport('websocket');
      cometd.configure({ url: server.url, logLevel: 'warn' });
      clients.push(cometd);
      const reply = await call((cb) => cometd.handshake(cb));
      expect(reply.successful).toBe(true);
      return cometd;
    };

    it('handshakes, subscribes (plain and wildcard), publishes and receives', async () => {
      const a = await create();
      const b = await create();
      expect(a.getTransport()?.type ?? (a.getTransport() as unknown as { getType(): string }).getType()).toBe(
        mode,
      );
      const received: Array<[string, unknown]> = [];
      const sub1 = await call((cb) =>
        a.subscribe('/cometd/room', (m) => received.push(['plain', m.data]), cb),
      );
      const sub2 = await call((cb) => a.subscribe('/cometd/*', (m) => received.push(['one', m.data]), cb));
      const sub3 = await call((cb) => b.subscribe('/cometd/**', (m) => received.push(['deep', m.data]), cb));
      expect([sub1.successful, sub2.successful, sub3.successful]).toEqual([true, true, true]);
      const published = await call((cb) => b.publish('/cometd/room', { text: 'hi' }, cb));
      expect(published.successful).toBe(true);
      await eventually(() => received.length === 3);
      expect(received.map(([kind]) => kind).sort()).toEqual(['deep', 'one', 'plain']);
      expect(received.every(([, data]) => (data as { text: string }).text === 'hi')).toBe(true);
      await eventually(() => (server.push.metrics().connections[mode] ?? 0) === 2);

      await server.push.publish('/cometd/x/y', 7);
      await eventually(() => received.some(([kind, data]) => kind === 'deep' && data === 7));
    });
  });
}

describe('CometD client with its AckExtension', () => {
  it('negotiates acks and receives every message over long-polling', async () => {
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.registerExtension('ack', new AckExtension());
    cometd.configure({ url: server.url, logLevel: 'warn' });
    clients.push(cometd);
    const acks: unknown[] = [];
    cometd.addListener('/meta/connect', (m) => acks.push((m.ext as { ack?: unknown } | undefined)?.ack));
    const reply = await call((cb) => cometd.handshake(cb));
    expect((reply.ext as { ack?: unknown } | undefined)?.ack).toBe(true);
    const received: unknown[] = [];
    await call((cb) => cometd.subscribe('/acked', (m) => received.push(m.data), cb));
    for (let i = 0; i < 5; i++) await server.push.publish('/acked', i);
    await eventually(() => received.length === 5);
    expect(received).toEqual([0, 1, 2, 3, 4]);
    expect(acks.some((ack) => typeof ack === 'number')).toBe(true);
  });
});

describe('CometD client with its AckExtension over websocket', () => {
  it('receives every message as it is published, and acks the numbered batches', async () => {
    await server.close();
    server = await startServer({ timeout: 2_000 });
    const cometd = new CometD();
    cometd.registerExtension('ack', new AckExtension());
    cometd.configure({ url: server.url, logLevel: 'warn' });
    clients.push(cometd);
    const batches: number[] = [];
    cometd.addListener('/meta/connect', (m) => {
      const ack = (m.ext as { ack?: unknown } | undefined)?.ack;
      if (typeof ack === 'number') batches.push(ack);
    });
    const reply = await call((cb) => cometd.handshake(cb));
    expect((reply.ext as { ack?: unknown } | undefined)?.ack).toBe(true);
    const received: unknown[] = [];
    await call((cb) => cometd.subscribe('/acked/ws', (m) => received.push(m.data), cb));
    await eventually(() => (server.push.metrics().connections.websocket ?? 0) === 1);
    const before = batches.length;
    for (let i = 0; i < 5; i++) await server.push.publish('/acked/ws', i);
    // Delivered at once, not with the held connect's reply (2 s here).
    await eventually(() => received.length === 5, 1_000);
    expect(received).toEqual([0, 1, 2, 3, 4]);
    await eventually(() => batches.length > before, 4_000);
    expect(server.push.metrics().queueOverflows).toBe(0);
  });
});
