/**
 * Bad input: each case asserts a clear Bayeux error AND that another connected client (the
 * witness) keeps receiving.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Reply } from '@push/protocol';
import { eventually, handshake, post, WsClient } from '@push/test-kit/bayeux-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Running, startServer } from './helpers.js';

let server: Running;
let witness: WsClient;
let other: WsClient | undefined;
let witnessCount = 0;

async function startWith(options: Parameters<typeof startServer>[0] = {}): Promise<void> {
  server = await startServer(options);
  witness = await WsClient.open(server.wsUrl);
  await witness.start(['/witness']);
}

beforeEach(async () => {
  await startWith({ limits: { maxMessageBytes: 4096 } });
});
afterEach(async () => {
  await other?.close();
  other = undefined;
  await witness.close();
  await server.close();
});

/** Publishes on /witness and waits until the witness got it. */
async function witnessStillReceives(): Promise<void> {
  const n = ++witnessCount;
  await server.push.publish('/witness', { n });
  await witness.waitFor((m) => m.channel === '/witness' && (m as { data?: { n?: number } }).data?.n === n);
}

describe('HTTP bad input', () => {
  it('malformed JSON -> 400 with a Bayeux 400 error', async () => {
    const { status, body } = await post(server.url, '[{"channel": "/meta/handshake",');
    expect(status).toBe(400);
    expect(body[0]).toMatchObject({ successful: false, error: '400::Bad request: Body is not valid JSON' });
    await witnessStillReceives();
  });

  it('a body that is not a message array', async () => {
    for (const bad of ['"hello"', '42', '[]', '[1, 2]', '[{"data": 1}]']) {
      const { status, body } = await post(server.url, bad);
      expect(status).toBe(400);
      expect(body[0]!.error).toMatch(
        /^400::Bad request: (Body must be a JSON array|Batch is empty|Message 0[ :])/,
      );
    }
    await witnessStillReceives();
  });

  it('unknown clientId -> 402::Unknown client with advice.reconnect handshake', async () => {
    for (const channel of [
      '/meta/connect',
      '/meta/subscribe',
      '/meta/unsubscribe',
      '/meta/disconnect',
      '/data',
    ]) {
      const { body } = await post(server.url, [
        {
          channel,
          clientId: 'deadbeef',
          connectionType: 'long-polling',
          subscription: '/a',
          data: 1,
          id: '9',
        },
      ]);
      expect(body[0]).toMatchObject({
        successful: false,
        error: '402::Unknown client',
        advice: { reconnect: 'handshake' },
        id: '9',
      });
    }
    await witnessStillReceives();
  });

  it('missing fields', async () => {
    const clientId = await handshake(server.url);
    const cases: Array<[object, string]> = [
      [
        { channel: '/meta/handshake', supportedConnectionTypes: ['long-polling'] },
        '400::Bad request: handshake needs "version"',
      ],
      [
        { channel: '/meta/handshake', version: '1.0' },
        '400::Bad request: handshake needs "supportedConnectionTypes"',
      ],
      [{ channel: '/meta/connect', clientId }, '400::Bad request: connect needs "connectionType"'],
      [
        { channel: '/meta/subscribe', clientId },
        '400::Bad request: subscribe needs "subscription" (a channel or a list)',
      ],
      [
        { channel: '/meta/unsubscribe', clientId },
        '400::Bad request: unsubscribe needs "subscription" (a channel or a list)',
      ],
      [{ channel: '/chat', clientId }, '400::Bad request: publish needs "data"'],
    ];
    for (const [message, error] of cases) {
      const { body } = await post(server.url, [message]);
      expect(body[0]).toMatchObject({ successful: false, error });
    }
    await witnessStillReceives();
  });

  it('oversize body -> 413', async () => {
    const { status, body } = await post(
      server.url,
      JSON.stringify([{ channel: '/x', data: 'x'.repeat(10_000) }]),
    );
    expect(status).toBe(413);
    expect(body[0]!.error).toBe('413:4096:Message too large (limit 4096 bytes)');
    await witnessStillReceives();
  });

  it('invalid channel names -> 407', async () => {
    const clientId = await handshake(server.url);
    for (const channel of ['no-slash', '/bad channel', '/a/**/b', '/', '/a//b']) {
      const { body } = await post(server.url, [
        { channel: '/meta/subscribe', clientId, subscription: channel },
      ]);
      expect(body[0]).toMatchObject({ successful: false, error: `407:${channel}:Invalid channel` });
    }
    const published = await post(server.url, [{ channel: '/wild/*', clientId, data: 1 }]);
    expect(published.body[0]!.error).toBe('407:/wild/*:Invalid channel');
    await witnessStillReceives();
  });

  it('publish to /meta/* -> 405, also through HTTP publish', async () => {
    const clientId = await handshake(server.url);
    const { body } = await post(server.url, [{ channel: '/meta/custom', clientId, data: 1 }]);
    expect(body[0]).toMatchObject({ successful: false, error: '405:/meta/custom:Unknown meta channel' });
    const sub = await post(server.url, [
      { channel: '/meta/subscribe', clientId, subscription: '/meta/connect' },
    ]);
    expect(sub.body[0]!.error).toBe('405:/meta/connect:Cannot subscribe to a meta channel');
    // A fresh server whose endpoint is open: the channel check, not the closed endpoint, refuses.
    const open = await startServer({ publishEndpoint: 'open' });
    const http = await post(`${open.url}/publish`, { channel: '/meta/connect', data: 1 }).finally(() =>
      open.close(),
    );
    expect(http.status).toBe(400);
    expect((http.body as unknown as Reply).error).toBe('405:/meta/connect:Cannot publish to a meta channel');
    await expect(server.push.publish('/meta/x', 1)).rejects.toMatchObject({ code: 'invalid-channel' });
    await witnessStillReceives();
  });
});

describe('WebSocket bad input', () => {
  it('malformed JSON and non-arrays get an error frame; the socket stays usable', async () => {
    other = await WsClient.open(server.wsUrl);
    other.send('{not json');
    await other.waitFor((m) => (m as Reply).error === '400::Bad request: Body is not valid JSON');
    other.send('"just a string"');
    await other.waitFor(
      (m) => (m as Reply).error === '400::Bad request: Body must be a JSON array of Bayeux messages',
    );
    await other.start(['/after']);
    await witnessStillReceives();
  });

  it('an oversize frame gets 413; a frame past 4x the limit closes the socket with 1009', async () => {
    other = await WsClient.open(server.wsUrl);
    other.send(JSON.stringify([{ channel: '/x', data: 'y'.repeat(6000) }]));
    await other.waitFor((m) => (m as Reply).error === '413:4096:Message too large (limit 4096 bytes)');
    const closed = new Promise<number>((resolve) => other!.ws.once('close', (code) => resolve(code)));
    other.send(JSON.stringify([{ channel: '/x', data: 'y'.repeat(20_000) }]));
    expect(await closed).toBe(1009);
    await witnessStillReceives();
  });

  it('10,000 subscriptions from one client: the first 1,000 succeed, the rest get a bounded 429 answer; the server is fine', async () => {
    await server.close();
    await witness.close();
    await startWith();
    other = await WsClient.open(server.wsUrl);
    await other.start();
    const clientId = other.clientId;
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({
        channel: '/meta/subscribe',
        clientId,
        subscription: `/many/${batch * 1000 + i}`,
        id: `s${batch * 1000 + i}`,
      }));
      other.send(messages);
    }
    // Each refused batch is answered with 32 refusals, then one reply for the rest of it.
    await other.waitFor(
      () => other!.received.filter((m) => (m as Reply).error?.startsWith('429:failures,32:')).length === 9,
      15_000,
    );
    const replies = other.received.filter((m) => m.channel === '/meta/subscribe') as Reply[];
    expect(replies.filter((r) => r.successful)).toHaveLength(1000);
    const refused = replies.filter((r) => !r.successful);
    expect(refused).toHaveLength(9 * 32);
    expect(refused[0]!.error).toBe('429:subscriptions,1000:Limit exceeded: subscriptions');
    expect(server.push.metrics().subscriptions).toBe(1001);
    await witnessStillReceives();
  });
});

/** A masked client WebSocket text frame (RFC 6455). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x81, 0x80 | length])
      : Buffer.from([0x81, 0x80 | 126, (length >> 8) & 0xff, length & 0xff]);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

describe('a stalled reader (TCP window full)', () => {
  it('is cut off with a queue-overflow error while the others get every message', async () => {
    await server.close();
    await witness.close();
    await startWith({ limits: { maxQueue: 100, maxBufferedBytes: 256 * 1024 } });
    const clientId = await handshake(server.url, ['websocket']);
    const subscribed = new Promise<void>((resolve) => server.push.on('subscribe', () => resolve()));
    const socket: Socket = connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.setNoDelay(true);
    socket.write(
      `GET /push HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    // Read only the 101 response, then never read again: the kernel buffers fill up.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    socket.write(
      clientFrame(JSON.stringify([{ channel: '/meta/connect', clientId, connectionType: 'websocket' }])),
    );
    socket.write(
      clientFrame(JSON.stringify([{ channel: '/meta/subscribe', clientId, subscription: '/witness' }])),
    );
    await subscribed;

    const big = 'z'.repeat(64 * 1024);
    const started = Date.now();
    for (let n = 1; n <= 400; n++) {
      await server.push.publish('/witness', { n, big });
      // Closed loop: the witness (maxQueue 100 too) is never more than 50 behind, so only the
      // stalled reader can overflow. Open loop, a witness starved of CPU by other work on the
      // machine fell 100 behind and was cut as well (clean-clone run: 10 s without all 400).
      if (n % 10 === 0) await eventually(() => witness.data('/witness').length >= n - 50, 10_000);
    }
    await eventually(() => witness.data('/witness').length === 400, 10_000);
    const got = witness.data('/witness').map((data) => (data as { n: number }).n);
    expect(got).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(Date.now() - started).toBeLessThan(10_000);
    await eventually(() => server.push.metrics().queueOverflows === 1);
    expect(server.push.metrics().sessions).toBe(1);
    // The cut-off client learns why when it comes back.
    const { body } = await post(server.url, [
      { channel: '/meta/connect', clientId, connectionType: 'long-polling' },
    ]);
    expect(body[0]).toMatchObject({
      successful: false,
      error: '429:queue,100:Limit exceeded: queue',
      advice: { reconnect: 'handshake' },
    });
    socket.destroy();
    witnessCount = 1000;
    await witnessStillReceives();
  });
});

describe('channels named like Object.prototype members', () => {
  it('get a Bayeux answer each (no handler is looked up on a prototype)', async () => {
    const running = await startServer();
    try {
      for (const channel of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const { status, body } = await post(running.url, [{ channel, advice: { timeout: 10 } }]);
        expect(status).toBe(200);
        expect(body).toHaveLength(1);
        expect(body[0]).toMatchObject({ successful: false });
      }
    } finally {
      await running.close();
    }
  });
});
