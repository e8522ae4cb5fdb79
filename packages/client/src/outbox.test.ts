// Publishes: acks, typed refusals, and the bounded offline outbox that sends each publish once.
import type { DataMessage, Message } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { setup } from './testing/fakes.js';

describe('publish and the offline outbox', () => {
  it('resolves on the ack and rejects with a typed error on refusal', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    await expect(t.client.publish('/chat', { text: 'hi' })).resolves.toBeUndefined();
    const refused = t.client.publish('/forbidden', 1);
    await expect(refused).rejects.toMatchObject({
      code: 'rejected',
      bayeux: '403:/forbidden:Forbidden',
      bayeuxCode: 403,
    });
    await expect(t.client.publish('/meta/x', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
    await expect(t.client.publish('/a/*', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
  });

  it('queues publishes while offline and sends each exactly once on reconnect, in order', async () => {
    const t = setup({ order: ['websocket'] });
    t.online.set(false);
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)?.kill();
    await t.clock.advance(0);
    const results = [1, 2, 3].map((n) => t.client.publish('/q', n));
    await t.clock.advance(60_000);
    expect(t.server.received.filter((m) => m.channel === '/q')).toHaveLength(0);
    t.online.set(true);
    await t.clock.advance(100); // the first backoff step (jittered; random is 1 here)
    await Promise.all(results);
    expect(t.server.received.filter((m) => m.channel === '/q').map((m) => (m as DataMessage).data)).toEqual([
      1, 2, 3,
    ]);
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(1000);
    expect(t.server.received.filter((m) => m.channel === '/q')).toHaveLength(3);
  });

  it('bounds the queue', async () => {
    const t = setup({ order: ['websocket'], client: { maxQueue: 2, autoConnect: false } });
    const ok = [t.client.publish('/q', 1), t.client.publish('/q', 2)];
    await expect(t.client.publish('/q', 3)).rejects.toMatchObject({ code: 'queue-full' });
    t.client.connect();
    await t.clock.advance(0);
    await Promise.all(ok);
  });

  it('resends a publish in flight when the connection drops, with the same key, and resolves once', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.send = async () => {}; // lost on the wire (or its ack was)
    let resolved = 0;
    const p = t.client.publish('/q', 1).then(() => resolved++);
    await t.clock.advance(0);
    socket.kill();
    await t.clock.advance(100); // the first backoff step
    await p;
    const sent = t.server.received.filter((m) => m.channel === '/q');
    expect(sent).toHaveLength(1); // the first copy never reached the fake server
    expect(resolved).toBe(1);
    const key = sent[0]?.ext?.push?.key;
    expect(key).toMatch(/^-?\d+(,-?\d+){3}$/);
    await t.clock.advance(1000);
    expect(resolved).toBe(1);
  });

  it('resends with the key the first attempt carried, and every publish has its own key', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    const first: Message[] = [];
    const send = socket.send.bind(socket);
    socket.send = async (batch) => {
      first.push(...batch.filter((m) => m.channel === '/q'));
      const sent = send(batch); // reaches the server, but the ack is lost with the socket
      socket.kill();
      await sent;
    };
    const p = t.client.publish('/q', 1);
    await t.clock.advance(100);
    await p;
    const keys = t.server.received.filter((m) => m.channel === '/q').map((m) => m.ext?.push?.key);
    expect(keys).toHaveLength(2); // the fake server does not de-duplicate: the real one does
    expect(keys[1]).toBe(keys[0]);
    expect(first[0]?.ext?.push?.key).toBe(keys[0]);
    await t.client.publish('/q', 2);
    const last = t.server.received.filter((m) => m.channel === '/q').at(-1);
    expect(last?.ext?.push?.key).not.toBe(keys[0]);
  });

  it("sends the app's own key when it gives one, and none on a service channel", async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    await t.client.publish('/q', 1, { key: 'order-42' });
    await t.client.publish('/service/echo', 2, { key: 'ignored' });
    expect(t.server.received.find((m) => m.channel === '/q')?.ext?.push?.key).toBe('order-42');
    expect(t.server.received.find((m) => m.channel === '/service/echo')?.ext).toBeUndefined();
  });

  it('still rejects a service request in flight when the connection drops (no key, never resent)', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.send = async () => {};
    const p = t.client.publish('/service/echo', 1);
    await t.clock.advance(0);
    socket.kill();
    await expect(p).rejects.toMatchObject({
      code: 'connection-lost',
      retriable: true,
      cause: { name: 'TransportError', code: 'closed', transport: 'websocket' },
    });
    await t.clock.advance(1000);
    expect(t.server.received.filter((m) => m.channel === '/service/echo')).toHaveLength(0);
  });

  it('close() rejects a keyed publish in flight instead of keeping it for a resend', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)!.send = async () => {};
    const p = t.client.publish('/q', 1);
    await t.clock.advance(0);
    const rejected = expect(p).rejects.toMatchObject({ code: 'connection-lost' });
    await Promise.all([t.client.close(), t.clock.advance(1000)]);
    await rejected;
    expect(t.server.received.filter((m) => m.channel === '/q')).toHaveLength(0);
  });

  it('close() rejects what is still queued', async () => {
    const t = setup({ client: { autoConnect: false } });
    const p = t.client.publish('/q', 1);
    await t.client.close();
    await expect(p).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('backpressure', () => {
  it('fires high once the send queue reaches its high mark and low once it drains to the low one', async () => {
    const t = setup({ order: ['websocket'], client: { backpressure: { high: 5, low: 2 }, maxQueue: 20 } });
    const events: Array<{ queued: number; high: boolean }> = [];
    t.client.on('backpressure', (event) => events.push(event));
    t.online.set(false);
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)?.kill();
    await t.clock.advance(0);
    const results = Array.from({ length: 8 }, (_, n) => t.client.publish('/bp', n));
    expect(events).toEqual([{ queued: 5, high: true }]);
    t.online.set(true);
    await t.clock.advance(100);
    await Promise.all(results);
    // Acks drain it: one low edge at 2 pending, nothing more while it empties.
    expect(events).toEqual([
      { queued: 5, high: true },
      { queued: 2, high: false },
    ]);
    // Refused and failed publishes count down too: a full queue never sticks at high.
    t.online.set(false);
    t.factories.websocket.created.at(-1)?.kill();
    await t.clock.advance(0);
    const more = Array.from({ length: 21 }, (_, n) => t.client.publish('/bp', n).catch((error) => error));
    expect((await more[20]) as { code?: string }).toMatchObject({ code: 'queue-full' });
    await t.client.close();
    await Promise.all(more);
    expect(events.at(-1)).toEqual({ queued: 2, high: false });
  });
});
