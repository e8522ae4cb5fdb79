/** Channel history, resume on subscribe (`ext.push.resume`) and the ack extension (`ext.ack`). */
import type { Reply, StreamPosition } from '@push/protocol';
import { eventually, handshake, post, WsClient } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import { ChannelHistory } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

describe('ChannelHistory', () => {
  it('bounds history by count and by age, and reports lost windows', () => {
    let now = 0;
    const history = new ChannelHistory({ maxCount: 3, maxAge: 1000, now: () => now, epoch: 'e1' });
    for (let i = 1; i <= 5; i++) history.append({ channel: '/h', data: i });
    expect(history.position('/h')).toEqual({ offset: 5, epoch: 'e1' });
    expect(history.since('/h', { offset: 2, epoch: 'e1' })).toMatchObject({
      recovered: true,
      messages: [{ data: 3 }, { data: 4 }, { data: 5 }],
    });
    expect(history.since('/h', { offset: 1, epoch: 'e1' })).toMatchObject({ recovered: false, messages: [] });
    expect(history.since('/h', { offset: 5, epoch: 'e1' })).toMatchObject({ recovered: true, messages: [] });
    expect(history.since('/h', { offset: 4, epoch: 'other' })).toMatchObject({
      recovered: false,
      messages: [],
    });
    now = 1500;
    history.append({ channel: '/h', data: 6 });
    expect(history.since('/h', { offset: 4, epoch: 'e1' })).toMatchObject({ recovered: false });
    expect(history.since('/h', { offset: 5, epoch: 'e1' })).toMatchObject({
      recovered: true,
      messages: [{ data: 6, offset: 6 }],
    });
  });
});

describe('resume from history', () => {
  it('a reconnecting client gets exactly the missed messages, after the subscribe reply, in order', async () => {
    server = await startServer();
    const first = await WsClient.open(server.wsUrl);
    clients.push(first);
    await first.start();
    const reply = await first.subscribe('/room');
    const position = (reply.ext!.push!.positions as Record<string, StreamPosition>)['/room']!;
    expect(position.offset).toBe(0);
    await server.push.publish('/room', 'seen');
    await first.waitFor((m) => (m as { data?: unknown }).data === 'seen');
    const seen = first.received.find((m) => (m as { data?: unknown }).data === 'seen')!;
    const last = seen.ext!.push as StreamPosition;
    await first.close();

    for (const text of ['missed-1', 'missed-2', 'missed-3']) await server.push.publish('/room', text);
    const second = await WsClient.open(server.wsUrl);
    clients.push(second);
    await second.start();
    const resumed = await second.subscribe('/room', {
      push: { resume: { '/room': { offset: last.offset, epoch: last.epoch } } },
    });
    expect(resumed.ext?.push).toMatchObject({
      recovered: true,
      positions: { '/room': { offset: 4, epoch: last.epoch } },
    });
    await server.push.publish('/room', 'live');
    await second.waitFor((m) => (m as { data?: unknown }).data === 'live');
    expect(second.data('/room')).toEqual(['missed-1', 'missed-2', 'missed-3', 'live']);
    const replyIndex = second.received.indexOf(resumed);
    const firstMissed = second.received.findIndex((m) => (m as { data?: unknown }).data === 'missed-1');
    expect(firstMissed).toBeGreaterThan(replyIndex);
  });

  it('a wildcard subscription resumes each concrete channel the client names, and nothing else', async () => {
    server = await startServer();
    const a = await server.push.publish('/stocks/a', 'a0');
    const b = await server.push.publish('/stocks/b', 'b0');
    for (const text of ['a1', 'a2']) await server.push.publish('/stocks/a', text);
    await server.push.publish('/stocks/b', 'b1');
    await server.push.publish('/other/x', 'not matched');
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start();
    const reply = await client.subscribe('/stocks/*', {
      push: {
        resume: {
          '/stocks/a': { offset: a.offset, epoch: a.epoch },
          '/stocks/b': { offset: b.offset, epoch: b.epoch },
          '/other/x': { offset: 0, epoch: a.epoch }, // not under the pattern: ignored
        },
      },
    });
    expect(reply.ext?.push).toMatchObject({
      recovered: true,
      positions: { '/stocks/a': { offset: a.offset + 2 }, '/stocks/b': { offset: b.offset + 1 } },
    });
    expect(reply.ext?.push?.positions).not.toHaveProperty('/other/x');
    await server.push.publish('/stocks/a', 'live');
    await client.waitFor((m) => (m as { data?: unknown }).data === 'live');
    expect(client.data('/stocks/a')).toEqual(['a1', 'a2', 'live']);
    expect(client.data('/stocks/b')).toEqual(['b1']);
    expect(client.data('/other/x')).toEqual([]);
  });

  it('says recovered: false when the window is gone', async () => {
    server = await startServer({ history: { maxCount: 2 } });
    const probe = await WsClient.open(server.wsUrl);
    clients.push(probe);
    await probe.start();
    const epoch = ((await probe.subscribe('/gone')).ext!.push!.positions as Record<string, StreamPosition>)[
      '/gone'
    ]!.epoch;
    for (let i = 0; i < 5; i++) await server.push.publish('/gone', i);
    const reply = await probe.subscribe('/gone2', { push: { resume: { '/gone2': { offset: 0, epoch } } } });
    expect(reply.ext?.push?.recovered).toBe(true);
    const clientId = await handshake(server.url);
    const { body } = await post(server.url, [
      {
        channel: '/meta/subscribe',
        clientId,
        subscription: '/gone',
        ext: { push: { resume: { '/gone': { offset: 1, epoch } } } },
      },
    ]);
    expect(body[0]!.ext?.push).toMatchObject({
      recovered: false,
      positions: { '/gone': { offset: 5, epoch } },
    });
    expect(body).toHaveLength(1);
  });
});

describe('ack extension (CometD compatible)', () => {
  it('numbers each connect batch; unacked batches are delivered again on the next connect, acked ones never', async () => {
    server = await startServer();
    const { body } = await post(server.url, [
      {
        channel: '/meta/handshake',
        version: '1.0',
        supportedConnectionTypes: ['long-polling'],
        ext: { ack: true },
      },
    ]);
    expect(body[0]!.ext).toEqual({ ack: true });
    const clientId = body[0]!.clientId!;
    const sub = await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/acked' }]);
    // With acks, messages ride only on /meta/connect replies, never piggyback.
    await server.push.publish('/acked', 'a');
    expect(sub.body).toHaveLength(1);
    const connect = (ack?: number) =>
      post(server!.url, [
        {
          channel: '/meta/connect',
          clientId,
          connectionType: 'long-polling',
          advice: { timeout: 0 },
          ...(ack === undefined ? {} : { ext: { ack } }),
        },
      ]);
    const r1 = await connect();
    const batch1 = r1.body[0]!.ext!.ack as number;
    expect(typeof batch1).toBe('number');
    expect(r1.body.slice(1).map((m) => m.data)).toEqual(['a']);
    // The client never saw batch1 (lost response): it acks the previous batch, so 'a' comes again.
    await server.push.publish('/acked', 'b');
    const r2 = await connect(batch1 - 1);
    expect(r2.body.slice(1).map((m) => m.data)).toEqual(['a', 'b']);
    const batch2 = r2.body[0]!.ext!.ack as number;
    expect(batch2).toBeGreaterThan(batch1);
    // Acked: nothing is repeated.
    await server.push.publish('/acked', 'c');
    const r3 = await connect(batch2);
    expect(r3.body.slice(1).map((m) => m.data)).toEqual(['c']);
    const r4 = await connect(r3.body[0]!.ext!.ack as number);
    expect(r4.body).toHaveLength(1);
  });

  it('over WebSocket, ack sessions get messages at once; the held connect reply numbers them later', async () => {
    server = await startServer({ timeout: 400 });
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start(['/wsack'], { ack: true });
    const connectsBefore = client.received.filter((m) => m.channel === '/meta/connect').length;
    await server.push.publish('/wsack', 1);
    await client.waitFor((m) => m.channel === '/wsack', 1_000);
    // Delivered without waiting for a connect round trip.
    expect(client.received.filter((m) => m.channel === '/meta/connect')).toHaveLength(connectsBefore);
    // The held connect is answered at its timeout with the batch number covering message 1.
    const reply = (await client.waitFor(
      (m) => m.channel === '/meta/connect' && typeof m.ext?.ack === 'number',
    )) as Reply;
    expect(reply.successful).toBe(true);
    expect(client.data('/wsack')).toEqual([1]);
  });

  it('over WebSocket, a fast stream gets its batch numbered at half maxQueue, before the window fills', async () => {
    server = await startServer({ limits: { maxQueue: 20 } });
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start(['/fast'], { ack: true });
    // The client acks every numbered batch with its next connect, as CometD's extension does.
    client.ws.on('message', (data) => {
      for (const m of JSON.parse(data.toString()) as Reply[])
        if (m.channel === '/meta/connect' && typeof m.ext?.ack === 'number')
          client.connect({ ack: m.ext.ack });
    });
    for (let n = 1; n <= 200; n++) {
      await server.push.publish('/fast', n);
      if (n % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await eventually(() => client.data('/fast').length === 200, 5_000);
    expect(client.data('/fast')).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(server.push.metrics().queueOverflows).toBe(0);
  });
});
