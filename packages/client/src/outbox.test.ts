// Publishes: acks, typed refusals, and the bounded offline outbox that sends each publish once.
import type { DataMessage } from '@push/protocol';
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

  it('rejects a publish in flight when the connection drops, and does not resend it', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.send = async () => {}; // lost on the wire
    const p = t.client.publish('/q', 1);
    await t.clock.advance(0);
    socket.kill();
    await expect(p).rejects.toMatchObject({
      code: 'connection-lost',
      retriable: true,
      cause: { name: 'TransportError', code: 'closed', transport: 'websocket' },
    });
    await t.clock.advance(1000);
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
