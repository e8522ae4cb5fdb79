/**
 * Issue 12, the rows about survival and bounded memory: each test sends what an attacker would
 * and asserts the refusal or the bound, then that the server still serves a fresh client.
 */
import type { Message, Reply } from '@push/protocol';
import { eventually, handshake, handshakeMessage, post, WsClient } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import {
  type Broker,
  type BrokerListener,
  createMemoryBroker,
  type MemoryBroker,
  type PushLogEntry,
  type PushServerOptions,
} from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';
import { clientFrame, closedBy, deepJson, rawUpgrade } from './raw-socket.js';

let server: Running | undefined;
const logged: PushLogEntry[] = [];
const clients = closeAfterEach<WsClient>(() => {
  logged.length = 0;
});

async function start(options: PushServerOptions = {}): Promise<Running> {
  server = await startServer({ logger: { warn: (entry) => logged.push(entry) }, ...options });
  return server;
}

async function openClient(url: string): Promise<WsClient> {
  const client = await WsClient.open(url);
  clients.push(client);
  return client;
}

/** The server still serves: a fresh client handshakes and gets a clientId. */
async function stillServes(running: Running): Promise<void> {
  await expect(handshake(running.url)).resolves.toMatch(/^[0-9a-f]{32}$/);
}

const DEPTH_REFUSAL = /^429:depth,64:/;
/** A held connect (advice.timeout 500) whose id nests 6,000 deep, as raw JSON text. */
const deepConnect = (clientId: string, type: string) =>
  `[{"channel":"/meta/connect","clientId":"${clientId}","connectionType":"${type}","advice":{"timeout":500},"id":${deepJson(6000)}}]`;

describe('row 1: a /meta/connect whose id nests 6,000 deep cannot end the process', () => {
  it('over long-polling it is refused with 429 depth, and the server answers after the hold would have ended', async () => {
    const running = await start();
    const clientId = await handshake(running.url);
    const { status, body } = await post(running.url, deepConnect(clientId, 'long-polling'));
    expect(status).toBe(400);
    expect(body[0]!.error).toMatch(DEPTH_REFUSAL);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await stillServes(running);
    expect(running.push.metrics().faults).toBe(0);
  });

  it('over WebSocket it gets an error frame and the socket stays usable', async () => {
    const running = await start();
    const client = await openClient(running.wsUrl);
    await client.start();
    client.send(deepConnect(client.clientId, 'websocket'));
    const refusal = (await client.waitFor((m) => m.channel === '/meta/unsuccessful')) as Reply;
    expect(refusal.error).toMatch(DEPTH_REFUSAL);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect((await client.subscribe('/still/here')).successful).toBe(true);
    await stillServes(running);
  });

  it('over JSONP (GET ?message=) it is answered with the refusal in the callback', async () => {
    const running = await start({
      transports: ['websocket', 'eventsource', 'long-polling', 'iframe', 'callback-polling'],
    });
    const clientId = await handshake(running.url, ['callback-polling']);
    const response = await fetch(
      `${running.url}?jsonp=cb&message=${deepConnect(clientId, 'callback-polling')}`,
    );
    const text = await response.text();
    expect(text).toMatch(/^\/\*\*\/cb\(\[\{"channel":"\/meta\/unsuccessful"/);
    expect(text).toContain('"error":"429:depth,64:');
    await new Promise((resolve) => setTimeout(resolve, 600));
    await stillServes(running);
  });

  it('a reply that cannot be serialized ends only that client: logged, 500 or socket closed, process up', async () => {
    const running = await start();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    running.push.service('/service/cyclic', () => cyclic);
    // Long-polling: the request gets a 500, the fault is logged.
    const clientId = await handshake(running.url);
    const { status } = await post(running.url, [{ channel: '/service/cyclic', clientId, data: 1 }]);
    expect(status).toBe(500);
    // WebSocket: the socket is closed (1011) and the session ended.
    const client = await openClient(running.wsUrl);
    await client.start();
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    client.send([{ channel: '/service/cyclic', clientId: client.clientId, data: 1 }]);
    expect(await closed).toBe(1011);
    await eventually(() => running.push.metrics().faults === 2);
    expect(logged.map((entry) => entry.code)).toEqual(['fault', 'fault']);
    expect(logged[1]!.clientId).toBe(client.clientId);
    await stillServes(running);
  });
});

describe('row 2: a WebSocket client that sends batches and never reads', () => {
  it('is no longer read once its replies back up: server-side buffers stay bounded, then it is cut', async () => {
    const maxBufferedBytes = 64 * 1024;
    const running = await start({ limits: { maxBufferedBytes, writeTimeout: 1_500 } });
    let serverSide: import('node:net').Socket | undefined;
    running.http.on('upgrade', (_req, socket) => {
      serverSide = socket as import('node:net').Socket;
    });
    const { socket } = await rawUpgrade(running.port);
    socket.pause(); // never read again
    // Each batch gets 32 `402::Unknown client` refusals and one cut-off reply: ~4 KB of replies.
    const batch = clientFrame(
      JSON.stringify(
        Array.from({ length: 40 }, (_, i) => ({
          channel: '/meta/subscribe',
          clientId: 'x',
          subscription: '/a',
          id: `${i}`,
        })),
      ),
    );
    let written = 0;
    for (let i = 0; i < 4_000 && socket.writableLength < 4 * 1024 * 1024; i++) {
      socket.write(batch);
      written++;
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await eventually(() => (running.push.metrics().refusals['pending-batches'] ?? 0) > 0, 5_000);
    // The server stopped reading: it has processed only part of what was written, and no more
    // arrives while the client does not read (a few frames already parsed may still run).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const processed = running.push.metrics().messagesIn;
    expect(processed).toBeLessThan(written * 40);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(running.push.metrics().messagesIn - processed).toBeLessThanOrEqual(16 * 40);
    // What the server holds for this client is its send buffer (bounded), not the replies to all.
    expect(serverSide!.writableLength).toBeLessThan(maxBufferedBytes + 256 * 1024);
    // And a client that never reads is cut after writeTimeout.
    await eventually(() => serverSide!.destroyed, 5_000);
    expect(running.push.metrics().refusals['write-timeout']).toBe(1);
    await stillServes(running);
  });

  it('a client that reads slowly is only paused, then served to the end', async () => {
    const running = await start({ limits: { maxPendingBatches: 2 } });
    const client = await openClient(running.wsUrl);
    await client.start();
    for (let i = 0; i < 200; i++)
      client.send([
        { channel: '/meta/subscribe', clientId: client.clientId, subscription: `/s/${i}`, id: `s${i}` },
      ]);
    await client.waitFor((m) => m.id === 's199', 10_000);
    expect(
      client.received.filter((m) => m.channel === '/meta/subscribe' && (m as Reply).successful),
    ).toHaveLength(200);
  });
});

describe('row 3: history of channels nobody touches again is reclaimed', () => {
  it('total history bytes stay under history.maxBytes, oldest first, and maxAge empties it on a timer', async () => {
    const running = await start({ history: { maxBytes: 8 * 1024 * 1024, maxAge: 400 } });
    const broker = running.push.broker as MemoryBroker;
    const payload = 'p'.repeat(200 * 1024);
    for (let i = 0; i < 300; i++) await running.push.publish(`/flood/${i}`, { payload });
    const size = broker.historySize();
    expect(size.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(size.channels).toBeLessThan(300);
    // The newest channel kept its message; the oldest lost theirs.
    const client = await openClient(running.wsUrl);
    await client.start();
    const stale = await client.subscribe('/flood/0', {
      push: { resume: { '/flood/0': { offset: 0, epoch: 'x' } } },
    });
    expect(stale.successful).toBe(true);
    await eventually(() => broker.historySize().bytes === 0, 3_000);
    expect(broker.historySize()).toEqual({ bytes: 0, channels: 0, messages: 0 });
  });

  it('history.maxChannels bounds the channels kept; a dropped channel resumes as recovered: false', async () => {
    const running = await start({ history: { maxChannels: 10 } });
    const broker = running.push.broker as MemoryBroker;
    const first = await running.push.publish('/c/0', 'first');
    for (let i = 1; i <= 20; i++) await running.push.publish(`/c/${i}`, i);
    expect(broker.historySize().channels).toBe(10);
    await running.push.publish('/c/0', 'again');
    const client = await openClient(running.wsUrl);
    await client.start();
    const reply = await client.subscribe('/c/0', {
      push: { resume: { '/c/0': { offset: first.offset, epoch: first.epoch } } },
    });
    expect(reply.ext?.push).toMatchObject({ recovered: false });
  });
});

describe('row 6: handshake floods cannot take every session slot', () => {
  it('one handshake per batch: a POST of 2,500 handshakes is refused whole, one of 999 creates one session', async () => {
    const running = await start({ limits: { maxMessageBytes: 1024 * 1024 } });
    const handshakes = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ ...handshakeMessage(), id: String(i) }));
    const whole = await post(running.url, handshakes(2_500));
    expect(whole.body).toHaveLength(1);
    expect(whole.body[0]!.error).toBe('429:batch,1000:Limit exceeded: batch');
    const { body } = await post(running.url, handshakes(999));
    expect(body.filter((reply) => reply.successful)).toHaveLength(1);
    expect(body.length).toBeLessThanOrEqual(34);
    expect(body.find((reply) => !reply.successful)?.error).toBe(
      '429:handshakes,1:Limit exceeded: handshakes',
    );
    expect(running.push.metrics().sessions).toBe(1);
  });

  it('handshakes per source are rate limited with advice to retry, and sessions that never connect end', async () => {
    const running = await start({ limits: { handshakesPerMinute: 20, handshakeTimeout: 300 } });
    const results = await Promise.all(
      Array.from({ length: 30 }, () => post(running.url, [handshakeMessage()]).then(({ body }) => body[0]!)),
    );
    expect(results.filter((reply) => reply.successful)).toHaveLength(20);
    const limited = results.find((reply) => !reply.successful)!;
    expect(limited.error).toBe('429:handshake-rate,20:Limit exceeded: handshake-rate');
    expect(limited.advice).toMatchObject({ reconnect: 'handshake' });
    expect(running.push.metrics().sessions).toBe(20);
    // None of them connected: their slots free up after handshakeTimeout.
    await eventually(() => running.push.metrics().sessions === 0, 3_000);
    expect(running.push.metrics().refusals['handshake-timeout']).toBe(20);
  });

  it('a session that connects is not ended by the handshake timeout', async () => {
    const running = await start({ limits: { handshakeTimeout: 200 } });
    const client = await openClient(running.wsUrl);
    await client.start(['/alive']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(running.push.metrics().sessions).toBe(1);
    await running.push.publish('/alive', 1);
    await eventually(() => client.data('/alive').length === 1);
  });
});

describe('row 8: WebSockets that upgrade and never send a byte', () => {
  it('are closed after handshakeTimeout, so they cannot hold maxConnections', async () => {
    const running = await start({ limits: { handshakeTimeout: 300, maxConnections: 2 } });
    const silent = await Promise.all([rawUpgrade(running.port), rawUpgrade(running.port)]);
    for (const { response } of silent) expect(response).toMatch(/^HTTP\/1.1 101/);
    const refused = await rawUpgrade(running.port);
    expect(refused.response).toMatch(/^HTTP\/1.1 503/);
    await Promise.all(silent.map(({ socket }) => closedBy(socket, 3_000)));
    expect(running.push.metrics().refusals['handshake-timeout']).toBe(2);
    const client = await openClient(running.wsUrl);
    await client.start(['/ok']);
    expect(client.clientId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('row 9: data nesting 10,000 levels cannot poison a channel', () => {
  it('is refused on every publish ingress; subscribers and resumes are unaffected', async () => {
    const running = await start({ publishEndpoint: 'open' });
    const subscriber = await openClient(running.wsUrl);
    await subscriber.start(['/deep']);
    const deep = deepJson(10_000);
    // Bayeux publish over WebSocket.
    subscriber.send(`[{"channel":"/deep","clientId":"${subscriber.clientId}","id":"p1","data":${deep}}]`);
    const wsRefusal = (await subscriber.waitFor((m) => m.channel === '/meta/unsuccessful')) as Reply;
    expect(wsRefusal.error).toMatch(DEPTH_REFUSAL);
    // Bayeux publish over long-polling.
    const clientId = await handshake(running.url);
    const lp = await post(running.url, `[{"channel":"/deep","clientId":"${clientId}","data":${deep}}]`);
    expect(lp.body[0]!.error).toMatch(DEPTH_REFUSAL);
    // HTTP publish endpoint.
    const http = await fetch(`${running.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"channel":"/deep","data":${deep}}`,
    });
    expect(http.status).toBe(400);
    expect(((await http.json()) as Reply).error).toMatch(DEPTH_REFUSAL);
    // The server API.
    let nested: unknown = 1;
    for (let i = 0; i < 10_000; i++) nested = [nested];
    await expect(running.push.publish('/deep', nested)).rejects.toMatchObject({ code: 'invalid-data' });
    // Nothing was stored: the next message is offset 1 and reaches the subscriber; resume works.
    const stored = await running.push.publish('/deep', 'fine');
    expect(stored.offset).toBe(1);
    await eventually(() => subscriber.data('/deep').length === 1);
    const late = await openClient(running.wsUrl);
    await late.start();
    const reply = await late.subscribe('/deep', {
      push: { resume: { '/deep': { offset: 0, epoch: stored.epoch } } },
    });
    expect(reply.ext?.push).toMatchObject({ recovered: true });
    await eventually(() => late.data('/deep').length === 1);
  });

  it('a broker that fans out data which cannot be serialized loses that message only, logged', async () => {
    // A custom broker is trusted code, but a bug in one must not take the server down.
    const inner = createMemoryBroker();
    let fanOut: BrokerListener = () => {};
    const broker: Broker = {
      ...inner,
      presence: inner.presence,
      onMessage(listener) {
        fanOut = listener;
        return inner.onMessage(listener);
      },
    };
    const running = await start({ broker });
    const subscriber = await openClient(running.wsUrl);
    await subscriber.start(['/poison']);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    fanOut({ channel: '/poison', data: cyclic, offset: 1, epoch: 'e', time: Date.now() });
    expect(running.push.metrics().faults).toBe(1);
    expect(logged[0]!.message).toMatch(/^fan-out of \/poison/);
    await running.push.publish('/poison', 2);
    await eventually(() => subscriber.data('/poison').length === 1);
    expect(subscriber.data('/poison')).toEqual([2]);
    await stillServes(running);
    await inner.close();
  });
});

describe('weaker items', () => {
  it('the 429 queue notice reaches a WebSocket client that was only slow', async () => {
    const running = await start({ limits: { maxQueue: 20, maxBufferedBytes: 16 * 1024 } });
    const clientId = await handshake(running.url, ['websocket']);
    const subscribed = new Promise<void>((resolve) => running.push.on('subscribe', () => resolve()));
    const { socket } = await rawUpgrade(running.port);
    socket.write(
      clientFrame(JSON.stringify([{ channel: '/meta/connect', clientId, connectionType: 'websocket' }])),
    );
    socket.write(
      clientFrame(JSON.stringify([{ channel: '/meta/subscribe', clientId, subscription: '/slow' }])),
    );
    await subscribed;
    socket.pause();
    const big = 'b'.repeat(32 * 1024);
    for (let n = 0; n < 200 && running.push.metrics().queueOverflows === 0; n++) {
      await running.push.publish('/slow', { n, big });
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(running.push.metrics().queueOverflows).toBe(1);
    // The client reads again: after what was buffered comes the notice, then the close frame.
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.resume();
    await eventually(() => text.includes('"error":"429:queue,20:Limit exceeded: queue"'), 10_000);
    await eventually(() => text.includes('session ended'), 5_000);
  });

  it('a batch of 15,000 bogus messages is refused whole; 999 of them get a reply smaller than the batch', async () => {
    const running = await start({ limits: { maxMessageBytes: 1024 * 1024 } });
    const bogus = (n: number) =>
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ channel: `/meta/x${i}` })));
    const huge = await post(running.url, bogus(15_000));
    expect(huge.body).toHaveLength(1);
    expect(huge.body[0]!.error).toBe('429:batch,1000:Limit exceeded: batch');
    const request = bogus(999);
    const response = await fetch(running.url, {
      method: 'POST',
      body: request,
      headers: { 'content-type': 'application/json' },
    });
    const reply = await response.text();
    expect(reply.length).toBeLessThan(request.length);
    expect((JSON.parse(reply) as Message[]).length).toBe(33);
  });
});
