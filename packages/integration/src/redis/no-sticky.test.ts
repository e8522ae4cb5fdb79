/**
 * No sticky sessions: every HTTP request of a client may land on another server process
 * (round-robin), and the client still gets every message exactly once, in order.
 */
import { rmSync } from 'node:fs';
import { eventually, LongPollClient, postBatch, type Wire, WsClient } from '@push/test-kit/bayeux-client';
import { deleteKeys, REDIS_URL, sleep, uniquePrefix } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Bundles, buildBundles } from './bundle.js';
import { type NodeProcess, publishHttp, spawnNode } from './processes.js';

let bundles: Bundles;
const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
let running: NodeProcess[] = [];

function freshPrefix(): string {
  const prefix = uniquePrefix('nosticky');
  prefixes.push(prefix);
  return prefix;
}

/** A node-entry process on `prefix`. */
async function node(prefix: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  const started = await spawnNode(bundles.node, [], {
    REDIS_URL,
    PUSH_REDIS_PREFIX: prefix,
    CONNECT_TIMEOUT: '1000',
    ...env,
  });
  running.push(started);
  return started;
}

/** The real CLI, `push-server --redis URL`: shared sessions come with the Redis broker. */
async function cli(prefix: string): Promise<NodeProcess> {
  const started = await spawnNode(bundles.cli, ['--port', '0', '--path', '/push', '--redis', REDIS_URL], {
    PUSH_REDIS_PREFIX: prefix,
  });
  running.push(started);
  return started;
}

/** Connects, each request to the next base in turn, until `count` messages arrived. */
async function receiveRoundRobin(client: LongPollClient, bases: string[], count: number, ms = 10_000) {
  const deadline = Date.now() + ms;
  let turn = 0;
  while (client.received.length < count) {
    if (Date.now() > deadline) throw new Error(`got ${client.received.length} of ${count} messages`);
    client.base = bases[turn++ % bases.length]!;
    const reply = await client.connect();
    if (reply.successful === false) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
  }
  return client.received;
}

const offsets = (messages: Wire[]) => messages.map((m) => m.ext?.push?.offset);

beforeAll(async () => {
  bundles = await buildBundles();
}, 30_000);

afterEach(async () => {
  await Promise.all(running.map((process) => process.kill()));
  running = [];
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
  rmSync(bundles.dir, { recursive: true, force: true });
});

describe('no sticky sessions: HTTP requests of one client spread over the nodes', () => {
  it('a long-polling client alternating nodes on every request gets each of 200 messages once, in order, while publishes hit either node', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix), cli(prefix)]);
    const bases = [a.base, b.base];
    // One client whose session lives on the node-entry process, one on the CLI process.
    const clients = [new LongPollClient(a.base), new LongPollClient(b.base)];
    for (const client of clients) {
      await client.handshake();
      client.base = client.base === a.base ? b.base : a.base; // subscribe through the other node
      await client.subscribe('/ticker');
    }
    const total = 200;
    const publishing = (async () => {
      for (let i = 0; i < total; i++) await publishHttp(bases[i % 2]!, '/ticker', i);
    })();
    // A failed publish fails the test at once (not as an unhandled rejection after a timeout).
    const [, ...received] = await Promise.all([
      publishing,
      ...clients.map((client) => receiveRoundRobin(client, bases, total)),
    ]);
    const expected = Array.from({ length: total }, (_, i) => i);
    for (const messages of received) {
      expect(messages.map((m) => m.data)).toEqual(expected);
      expect(offsets(messages)).toEqual(expected.map((i) => i + 1));
    }
  });

  it('a publish made while the connect is held on the other node reaches the client at once, once, in order', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix, { CONNECT_TIMEOUT: '2000' }), node(prefix)]);
    const client = new LongPollClient(a.base);
    await client.handshake(); // the session lives on A
    client.base = b.base;
    await client.subscribe('/held');

    const heldOn = async (base: string, publish: () => Promise<unknown>, count: number, timed = true) => {
      client.base = base;
      const started = Date.now();
      const connect = client.connect();
      await sleep(150); // the connect is held by now
      await publish();
      const reply = await connect;
      expect(reply.successful).toBe(true);
      expect(client.received).toHaveLength(count);
      // Answered by the message, not by the end of the 2 s hold.
      if (timed) expect(Date.now() - started).toBeLessThan(1_000);
    };
    // Held through B (relayed to A); publish on A, then on B.
    await heldOn(b.base, () => publishHttp(a.base, '/held', 'one'), 1);
    await heldOn(b.base, () => publishHttp(b.base, '/held', 'two'), 2);
    // Held on A itself; publish on B.
    await heldOn(a.base, () => publishHttp(b.base, '/held', 'three'), 3);
    // Held through B; the client publishes itself through A, then (held on A) through B. The
    // message may ride on the publish's response instead (piggyback), so only the count is checked.
    const selfPublish = (base: string, data: string) => async () => {
      const request = client.base;
      client.base = base;
      const reply = client.publish('/held', data); // the request is on its way: restore the base
      client.base = request;
      expect((await reply).successful).toBe(true);
    };
    await heldOn(b.base, selfPublish(a.base, 'four'), 4, false);
    await heldOn(a.base, selfPublish(b.base, 'five'), 5, false);
    expect(client.received.map((m) => m.data)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(offsets(client.received)).toEqual([1, 2, 3, 4, 5]);

    // 60 more: each connect alternates nodes and each publish goes to the node it is not held on.
    const more = 60;
    for (let i = 0; i < more; i++) {
      const [held, other] = i % 2 ? [a, b] : [b, a];
      client.base = held.base;
      const connect = client.connect();
      await sleep(15);
      await publishHttp(other.base, '/held', i);
      expect((await connect).successful).toBe(true);
      expect(client.received).toHaveLength(6 + i); // that message, on that connect
    }
    expect(client.received.slice(5).map((m) => m.data)).toEqual(Array.from({ length: more }, (_, i) => i));
    expect(offsets(client.received)).toEqual(Array.from({ length: 5 + more }, (_, i) => i + 1));
  });

  it('an SSE stream opened on one node serves a session of another; upstream POSTs alternate', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix), node(prefix)]);
    const [handshake] = await postBatch(a.base, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['eventsource'] },
    ]);
    const clientId = handshake!.clientId!;
    const connect = (base: string) =>
      postBatch(base, [{ channel: '/meta/connect', clientId, connectionType: 'eventsource' }]);
    const abort = new AbortController();
    const stream = await fetch(`${b.base}/${clientId}`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    const events: Wire[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of stream.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            for (const line of buffer.slice(0, end).split('\n'))
              if (line.startsWith('data: ')) events.push(...(JSON.parse(line.slice(6)) as Wire[]));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // aborted at the end of the test
      }
    })();
    await sleep(100); // the stream is attached to the session on A
    const [subscribed] = await postBatch(a.base, [
      { channel: '/meta/subscribe', clientId, subscription: '/sse' },
    ]);
    expect(subscribed?.successful).toBe(true);
    const total = 50;
    for (let i = 0; i < total; i++) {
      const [reply] = await connect(i % 2 ? a.base : b.base);
      expect(reply?.successful).toBe(true);
      await publishHttp(i % 3 ? a.base : b.base, '/sse', i);
    }
    const deadline = Date.now() + 5_000;
    while (events.filter((m) => m.channel === '/sse').length < total && Date.now() < deadline)
      await sleep(10);
    abort.abort();
    await reading;
    const data = events.filter((m) => m.channel === '/sse');
    expect(data.map((m) => m.data)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(events.filter((m) => m.successful === false)).toEqual([]);
  });

  it('a WebSocket opened on one node serves a session of another: its batches are relayed, every message written to it once, in order', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix), node(prefix)]);
    // Handshake over HTTP on A (as a client that upgrades later), then the socket lands on B.
    const [handshake] = await postBatch(a.base, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling', 'websocket'] },
    ]);
    const ws = await WsClient.open(b.base.replace(/^http/, 'ws'));
    ws.clientId = handshake!.clientId!;
    ws.connect(); // relayed to A, where it attaches the socket to the session and is held
    expect((await ws.subscribe('/ws')).successful).toBe(true);
    const total = 100;
    for (let i = 0; i < total; i++) {
      await publishHttp(i % 2 ? a.base : b.base, '/ws', i);
      // Each answered connect is followed by the next one, as a client does.
      if (ws.received.filter((m) => m.channel === '/meta/connect').length > i % 7) ws.connect();
    }
    // The client's own publish over the socket: relayed to A, answered on the socket, delivered.
    expect((await ws.publish('/ws', 'mine')).successful).toBe(true);
    await eventually(() => ws.data('/ws').length >= total + 1, 5_000);
    await sleep(100); // a duplicate would have arrived by now
    expect(ws.data('/ws')).toEqual([...Array.from({ length: total }, (_, i) => i), 'mine']);
    const offsetsOnWs = ws.received
      .filter((m) => m.channel === '/ws' && !('successful' in m))
      .map((m) => (m as Wire).ext?.push?.offset);
    expect(offsetsOnWs).toEqual(Array.from({ length: total + 1 }, (_, i) => i + 1));
    expect(ws.received.filter((m) => 'successful' in m && m.successful === false)).toEqual([]);
    await ws.close();
  });

  it('answers 402 for a session whose node died, and for a clientId no node knows', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix, { NODE_TTL: '300' }), node(prefix, { NODE_TTL: '300' })]);
    const client = new LongPollClient(a.base);
    await client.handshake();
    const [unknown] = await postBatch(b.base, [
      { channel: '/meta/connect', clientId: 'nobody', connectionType: 'long-polling' },
    ]);
    expect(unknown?.error).toMatch(/^402:/);
    client.base = b.base;
    expect((await client.subscribe('/x')).successful).toBe(true); // relayed to A while it lives
    await a.kill();
    await sleep(400); // A's heartbeat expires
    const [gone] = await postBatch(b.base, [
      { channel: '/meta/connect', clientId: client.clientId, connectionType: 'long-polling' },
    ]);
    expect(gone).toMatchObject({ successful: false, advice: { reconnect: 'handshake' } });
    expect(gone?.error).toMatch(/^402:/);
  });
});
