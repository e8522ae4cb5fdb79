// Issue 14, the Redis relay without loss: @push/client subscribers on two server processes while
// numbered messages flow and Redis blips, a node is killed, or a member vanishes without a FIN.
// Everything that reached Redis arrives once and in order; presence ends within its bound.
import { rmSync } from 'node:fs';
import { createClient, longPolling, type PushClient, type TransportFactory, websocket } from '@push/client';
import { postBatch, type Wire, WsClient } from '@push/test-kit/bayeux-client';
import { deleteKeys, REDIS_URL, sleep, uniquePrefix, until } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Bundles, buildBundles } from './bundle.js';
import { type NodeProcess, publishHttp, spawnNode } from './processes.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let bundles: Bundles;
const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  bundles = await buildBundles();
}, 30_000);

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close().catch(() => {});
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
  rmSync(bundles.dir, { recursive: true, force: true });
});

function freshPrefix(): string {
  const prefix = uniquePrefix('durable');
  prefixes.push(prefix);
  return prefix;
}

/** A node-entry process whose Redis connections are named `<prefix><name>:<role>`. */
async function node(prefix: string, name: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  const started = await spawnNode(bundles.node, [], {
    REDIS_URL,
    PUSH_REDIS_PREFIX: prefix,
    REDIS_NAME: `${prefix}${name}`,
    CONNECT_TIMEOUT: '1000',
    ...env,
  });
  cleanup.push(() => started.kill());
  return started;
}

async function proxy(...ports: number[]): Promise<TcpProxy> {
  const started = await startTcpProxy(...ports);
  cleanup.push(() => started.close());
  return started;
}

function client(url: string, transport: TransportFactory): PushClient {
  const created = createClient({
    url,
    transports: [transport],
    WebSocket: WebSocket as never,
    storage: null,
    backoff: { base: 20, max: 200 },
  });
  cleanup.push(() => created.close());
  return created;
}

/** Cuts every Redis connection of a node (`<prefix><name>:…`): a blip; Redis itself stays up. */
async function cutRedis(prefix: string, name: string): Promise<number> {
  const list = String(await admin.client('LIST')).split('\n');
  const ids = list
    .filter((line) => line.includes(` name=${prefix}${name}:`))
    .map((line) => /id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client('KILL', 'ID', id);
  return ids.length;
}

/** A numbered subscriber: what it got, and any `recovered: false` it was told of. */
function numbered(c: PushClient, channel: string) {
  const got: number[] = [];
  const unrecovered: string[] = [];
  c.on('recovered', (event) => {
    if (!event.recovered) unrecovered.push(event.channel);
  });
  const sub = c.subscribe(channel, (data) => got.push(data as number));
  return { got, unrecovered, ready: sub.ready };
}

/**
 * Publishes 0..total-1 at a steady pace, each through `via(i)`; `during(i)` runs before number i.
 * Resolves with the numbers whose publish succeeded (they reached Redis) and those that failed.
 */
async function stream(
  total: number,
  via: (i: number) => string,
  during: (i: number) => Promise<void> = async () => {},
): Promise<{ sent: number[]; failed: number[] }> {
  const sent: number[] = [];
  const failed: number[] = [];
  for (let i = 0; i < total; i++) {
    await during(i);
    try {
      await publishHttp(via(i), '/n', i);
      sent.push(i);
    } catch {
      failed.push(i); // refused or unanswered: it may or may not have reached Redis
    }
    await sleep(5);
  }
  return { sent, failed };
}

/** Each number at most once, in order, and every number that reached Redis is there. */
function expectLossless(got: number[], sent: number[], failed: number[]): void {
  expect(new Set(got).size).toBe(got.length);
  expect([...got].sort((x, y) => x - y)).toEqual(got);
  const missing = sent.filter((n) => !got.includes(n));
  expect(missing).toEqual([]);
  // A number whose publish failed arrived only if Redis had stored it: never anything else.
  expect(got.filter((n) => !sent.includes(n) && !failed.includes(n))).toEqual([]);
}

describe('the Redis relay without loss', () => {
  it('Redis blips on each node while 300 numbered messages flow: each once, in order, on both nodes', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix, 'A'), node(prefix, 'B')]);
    const onA = numbered(client(a.base, websocket()), '/n');
    const onB = numbered(client(b.base, longPolling()), '/n');
    await Promise.all([onA.ready, onB.ready]);
    const cuts: number[] = [];
    const { sent, failed } = await stream(
      300,
      (i) => (i % 2 ? a.base : b.base),
      async (i) => {
        if (i === 80 || i === 150) cuts.push(await cutRedis(prefix, 'A'));
        if (i === 220) cuts.push(await cutRedis(prefix, 'B'));
      },
    );
    // Each cut hit the node's three connections: commands, subscriber, relay.
    expect(cuts).toEqual([3, 3, 3]);
    await until(
      () => sent.every((n) => onA.got.includes(n) && onB.got.includes(n)),
      15_000,
      'every published number on both nodes',
    );
    await sleep(300); // a duplicate would have arrived by now
    expectLossless(onA.got, sent, failed);
    expectLossless(onB.got, sent, failed);
    expect([...onA.unrecovered, ...onB.unrecovered]).toEqual([]);
  }, 60_000);

  it('Redis blips on each node while a WebSocket on one node serves a session on the other (relayed): nothing lost', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix, 'A'), node(prefix, 'B')]);
    const [handshake] = await postBatch(a.base, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling', 'websocket'] },
    ]);
    // The session lives on A; the socket on B: every delivery crosses B's relay Stream.
    const ws = await WsClient.open(b.base.replace(/^http/, 'ws'));
    cleanup.push(() => ws.close());
    ws.clientId = handshake!.clientId!;
    ws.connect();
    expect((await ws.subscribe('/n')).successful).toBe(true);
    const { sent, failed } = await stream(
      240,
      (i) => (i % 2 ? a.base : b.base),
      async (i) => {
        if (i === 60) await cutRedis(prefix, 'B');
        if (i === 150) await cutRedis(prefix, 'A');
      },
    );
    const wire = () =>
      ws.received.filter((m) => m.channel === '/n' && !('successful' in m)).map((m) => m as Wire);
    // The client's rule: drop what is at or below the last offset seen (at-least-once on the wire).
    const deduplicated = () => {
      let last = 0;
      const got: number[] = [];
      for (const m of wire()) {
        const offset = m.ext?.push?.offset ?? 0;
        if (offset <= last) continue;
        last = offset;
        got.push(m.data as number);
      }
      return got;
    };
    await until(
      () => sent.every((n) => deduplicated().includes(n)),
      15_000,
      'every number on the relayed socket',
    );
    await sleep(300);
    expectLossless(deduplicated(), sent, failed);
    // Offsets leave no gap: nothing was skipped on the wire either.
    const offsets = [...new Set(wire().map((m) => m.ext?.push?.offset ?? 0))].sort((x, y) => x - y);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i + 1));
    expect(ws.received.filter((m) => 'successful' in m && m.successful === false)).toEqual([]);
  }, 60_000);

  it('a @push/client WebSocket cut three times reconnects through a round-robin balancer onto the other node and keeps its session', async () => {
    const prefix = freshPrefix();
    const [a, b] = await Promise.all([node(prefix, 'A'), node(prefix, 'B')]);
    const lb = await proxy(a.port, b.port);
    const c = client(lb.base, websocket());
    const sub = numbered(c, '/n');
    await sub.ready;
    const clientId = c.clientId;
    expect(clientId).toBeDefined();
    const { sent, failed } = await stream(
      200,
      (i) => (i % 2 ? a.base : b.base),
      async (i) => {
        if (i % 50 === 25) lb.cut(); // the next socket lands on the other node
      },
    );
    await until(() => sent.every((n) => sub.got.includes(n)), 15_000, 'every number after the cuts');
    await sleep(300);
    expectLossless(sub.got, sent, failed);
    expect(sub.unrecovered).toEqual([]);
    // Relayed to the owner, not refused with 402: the session (and its queue) survived each move.
    expect(c.clientId).toBe(clientId);
  }, 60_000);

  it('a node killed mid-stream: its clients reconnect to the other node and lose nothing that reached Redis', async () => {
    const prefix = freshPrefix();
    // What a client misses while it fails over must stay in history: a request relayed to A in the
    // moment before its heartbeat expires waits 5 s for an answer, some 200 messages at this pace.
    const env = { NODE_TTL: '300', HISTORY_SIZE: '1000' };
    const [a, b] = await Promise.all([node(prefix, 'A', env), node(prefix, 'B', env)]);
    // The load balancer in front: every connection to A until A dies, then to B.
    const [lbWs, lbPoll] = await Promise.all([proxy(a.port), proxy(a.port)]);
    const ws = numbered(client(lbWs.base, websocket()), '/n');
    const poll = numbered(client(lbPoll.base, longPolling()), '/n');
    await Promise.all([ws.ready, poll.ready]);
    const { sent, failed } = await stream(
      300,
      () => b.base,
      async (i) => {
        if (i !== 100) return;
        await a.kill();
        lbWs.retarget(b.port);
        lbPoll.retarget(b.port);
      },
    );
    expect(failed).toEqual([]); // B published everything: it all reached Redis
    await until(
      () => sent.every((n) => ws.got.includes(n) && poll.got.includes(n)),
      20_000,
      'every published number through the failover',
    );
    await sleep(300);
    expectLossless(ws.got, sent, failed);
    expectLossless(poll.got, sent, failed);
    expect([...ws.unrecovered, ...poll.unrecovered]).toEqual([]);
  }, 60_000);
});

describe('presence after an abrupt drop, across Redis nodes', () => {
  const sessionTimeout = 600;
  const connectTimeout = 300;

  it('a member whose socket vanishes without a FIN leaves the list within timeout + 1.25 × sessionTimeout', async () => {
    const prefix = freshPrefix();
    const env = { SESSION_TIMEOUT: String(sessionTimeout), CONNECT_TIMEOUT: String(connectTimeout) };
    const [a, b] = await Promise.all([node(prefix, 'A', env), node(prefix, 'B', env)]);
    const watcher = client(b.base, websocket()).presence('/room/lobby');
    const left: unknown[] = [];
    watcher.on('leave', (member) => left.push(member.data));
    await watcher.enter({ name: 'watcher' });
    const lb = await proxy(a.port);
    const member = client(lb.base, websocket()).presence('/room/lobby');
    await member.enter({ name: 'gone' });
    await until(async () => (await watcher.members()).length === 2, 5_000, 'two members');

    lb.freeze();
    const dropped = Date.now();
    await until(() => left.length === 1, 10_000, 'the leave on the other node');
    // Documented bound: the held connect ends after `timeout`, the session `sessionTimeout` after
    // the last request, found by a sweep every sessionTimeout / 4; plus 1 s for a loaded machine.
    expect(Date.now() - dropped).toBeLessThan(connectTimeout + sessionTimeout * 1.25 + 1_000);
    expect(left).toEqual([{ name: 'gone' }]);
    expect((await watcher.members()).map((m) => m.data)).toEqual([{ name: 'watcher' }]);
  }, 30_000);

  it('a member whose node is killed leaves the list within the presence TTL plus one sweep', async () => {
    const prefix = freshPrefix();
    const presenceTtl = 600;
    const env = { PRESENCE_TTL: String(presenceTtl) };
    const [a, b] = await Promise.all([node(prefix, 'A', env), node(prefix, 'B', env)]);
    const watcher = client(b.base, websocket()).presence('/room/lobby');
    const left: unknown[] = [];
    watcher.on('leave', (member) => left.push(member.data));
    await watcher.enter({ name: 'watcher' });
    const lb = await proxy(a.port);
    const member = client(lb.base, websocket()).presence('/room/lobby');
    await member.enter({ name: 'gone' });
    await until(async () => (await watcher.members()).length === 2, 5_000, 'two members');
    lb.freeze(); // its client must not come back through another node meanwhile

    await a.kill();
    const killed = Date.now();
    await until(() => left.length === 1, 10_000, 'the leave from the surviving node');
    // Nobody refreshes the entry any more: it expires after the TTL and the next sweep (every
    // TTL / 4 here) on B claims it; plus 1 s for a loaded machine.
    expect(Date.now() - killed).toBeLessThan(presenceTtl * 1.25 + 1_000);
    expect(left).toEqual([{ name: 'gone' }]);
    expect((await watcher.members()).map((m) => m.data)).toEqual([{ name: 'watcher' }]);
  }, 30_000);
});
