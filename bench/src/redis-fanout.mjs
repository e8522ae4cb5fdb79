// Cross-node fan-out on the Redis broker vs one node, in one run (loopback only, < 2 minutes).
//
//   node bench/src/redis-fanout.mjs            (Redis at REDIS_URL, default redis://127.0.0.1:6379)
//   SUBSCRIBERS=1000 MESSAGES=300 RATE=50 PACED=150 WORKERS=2 node bench/src/redis-fanout.mjs  (the defaults)
// Subscribers run in WORKERS worker threads of this process; everything shares the machine,
// so on a small box the 3-node case measures Redis overhead and CPU contention, not scaling.
//
// Scenarios, each with SUBSCRIBERS WebSocket (Bayeux) subscribers on one channel:
//   single/memory  one push-server process, in-memory broker (the baseline)
//   single/redis   one process on the Redis broker (cost of going through Redis)
//   3 nodes/redis  publish on A, subscribers spread evenly over A, B and C (cross-node fan-out)
// Two phases per scenario: paced (RATE msg/s, latency percentiles publish -> delivery) and burst
// (MESSAGES as fast as 32 concurrent HTTP publishes allow; deliveries/s until the last arrives).
// Server processes are built from packages/integration/src/redis/node-entry.ts with esbuild.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { nowUs, percentile, sleep } from './common.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const WORKERS = Number(process.env.WORKERS ?? 2);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const MESSAGES = Number(process.env.MESSAGES ?? 300);
const RATE = Number(process.env.RATE ?? 50);
const PACED = Number(process.env.PACED ?? 150);
const CHANNEL = '/bench/redis';
/** The key the spawned servers trust on POST /push/publish (closed without one). */
const PUBLISH_KEY = 'bench-redis-fanout-publish-key';
const DEADLINE = Date.now() + 110_000;

async function bundleNode(dir) {
  const outfile = join(dir, 'node.js');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await build({
    entryPoints: [resolve(here, '../../packages/integration/src/redis/node-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@push/source'],
    external: ['bufferutil', 'utf-8-validate'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'error',
  });
  return outfile;
}

function startNode(script, env) {
  const child = spawn(process.execPath, [script], {
    // HTTP publish is closed without a key: the bench publishes as a trusted back end.
    env: { ...process.env, PUSH_PUBLISH_KEY: PUBLISH_KEY, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePort, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) resolvePort({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`node exited ${code}`)));
  });
}

/** A Bayeux-over-WebSocket subscriber; calls onData(data) for each delivered message. */
function subscriber(port, onData) {
  return new Promise((ready, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/push`);
    let clientId;
    let id = 0;
    const send = (batch) => ws.send(JSON.stringify(batch));
    ws.on('error', fail);
    ws.on('open', () =>
      send([
        {
          channel: '/meta/handshake',
          version: '1.0',
          supportedConnectionTypes: ['websocket'],
          id: String(++id),
        },
      ]),
    );
    ws.on('message', (raw) => {
      for (const m of JSON.parse(raw.toString())) {
        if (m.channel === '/meta/handshake') {
          clientId = m.clientId;
          send([
            { channel: '/meta/subscribe', clientId, subscription: CHANNEL, id: String(++id) },
            { channel: '/meta/connect', clientId, connectionType: 'websocket', id: String(++id) },
          ]);
        } else if (m.channel === '/meta/subscribe') {
          if (!m.successful) fail(new Error(m.error));
          else ready(ws);
        } else if (m.channel === '/meta/connect') {
          send([{ channel: '/meta/connect', clientId, connectionType: 'websocket', id: String(++id) }]);
        } else if (m.channel === CHANNEL) onData(m.data);
      }
    });
  });
}

async function publish(port, data) {
  const response = await fetch(`http://127.0.0.1:${port}/push/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-push-key': PUBLISH_KEY },
    body: JSON.stringify({ channel: CHANNEL, data }),
  });
  if (response.status !== 200) throw new Error(`publish ${response.status}`);
  await response.arrayBuffer();
}

/** Worker thread: hosts a share of the subscribers, counts deliveries, records paced latencies. */
async function runWorker({ ports }) {
  let phase = 'paced';
  let delivered = 0;
  const latencies = [];
  const onData = (data) => {
    delivered++;
    if (phase === 'paced') latencies.push(nowUs() - data.t);
  };
  const sockets = [];
  for (let i = 0; i < ports.length; i += 50) {
    sockets.push(...(await Promise.all(ports.slice(i, i + 50).map((port) => subscriber(port, onData)))));
  }
  parentPort.postMessage({ type: 'ready' });
  parentPort.on('message', (command) => {
    if (command === 'count') parentPort.postMessage({ type: 'count', delivered });
    else if (command === 'burst') {
      parentPort.postMessage({ type: 'latencies', latencies });
      phase = 'burst';
      delivered = 0;
    } else if (command === 'close') {
      for (const ws of sockets) ws.terminate();
      parentPort.postMessage({ type: 'closed' });
    }
  });
}

function ask(worker, command, type) {
  return new Promise((resolveAnswer) => {
    const onMessage = (message) => {
      if (message.type === type) {
        worker.off('message', onMessage);
        resolveAnswer(message);
      }
    };
    worker.on('message', onMessage);
    if (command) worker.postMessage(command);
  });
}

async function deliveredSoFar(workers) {
  const counts = await Promise.all(workers.map((w) => ask(w, 'count', 'count')));
  return counts.reduce((sum, c) => sum + c.delivered, 0);
}

/** Polls the workers until `expected` deliveries arrived or `ms` passed; returns the count. */
async function waitForDeliveries(workers, expected, ms, pollMs) {
  const until = Date.now() + ms;
  for (;;) {
    const delivered = await deliveredSoFar(workers);
    if (delivered >= expected || Date.now() > until) return delivered;
    await sleep(pollMs);
  }
}

async function scenario(name, script, count, env) {
  const nodes = [];
  for (let i = 0; i < count; i++) nodes.push(await startNode(script, env));
  const portsOf = (w) => {
    const ports = [];
    for (let j = w; j < SUBSCRIBERS; j += WORKERS) ports.push(nodes[j % count].port);
    return ports;
  };
  const workers = Array.from(
    { length: WORKERS },
    (_, w) => new Worker(fileURLToPath(import.meta.url), { workerData: { ports: portsOf(w) } }),
  );
  await Promise.all(workers.map((w) => ask(w, undefined, 'ready')));
  const publisher = nodes[0].port;
  // Paced phase: latency.
  for (let i = 0; i < PACED && Date.now() < DEADLINE; i++) {
    await publish(publisher, { t: nowUs(), i });
    await sleep(1000 / RATE);
  }
  const pacedExpected = PACED * SUBSCRIBERS;
  const pacedDelivered = await waitForDeliveries(workers, pacedExpected, 15_000, 20);
  const latencies = (await Promise.all(workers.map((w) => ask(w, 'burst', 'latencies')))).flatMap(
    (m) => m.latencies,
  );
  // Burst phase: throughput.
  const started = nowUs();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < MESSAGES) {
        const i = next++;
        await publish(publisher, { t: nowUs(), i });
      }
    }),
  );
  const burstExpected = MESSAGES * SUBSCRIBERS;
  const delivered = await waitForDeliveries(workers, burstExpected, 30_000, 5);
  const seconds = (nowUs() - started) / 1e6;
  await Promise.all(workers.map((w) => ask(w, 'close', 'closed')));
  await Promise.all(workers.map((w) => w.terminate()));
  for (const { child } of nodes) child.kill('SIGKILL');
  latencies.sort((a, b) => a - b);
  return {
    name,
    nodes: count,
    subscribers: SUBSCRIBERS,
    pacedDelivered: `${pacedDelivered}/${pacedExpected}`,
    p50ms: +(percentile(latencies, 50) / 1000).toFixed(2),
    p99ms: +(percentile(latencies, 99) / 1000).toFixed(2),
    maxms: +(latencies.at(-1) / 1000).toFixed(2),
    burstDelivered: `${delivered}/${burstExpected}`,
    deliveriesPerSec: Math.round(delivered / seconds),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'push-redis-bench-'));
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const admin = new Redis(REDIS_URL);
  try {
    const script = await bundleNode(dir);
    const env = { REDIS_URL, PUSH_REDIS_PREFIX: prefix };
    const results = [];
    results.push(await scenario('single/memory', script, 1, { ...env, BROKER: 'memory' }));
    results.push(await scenario('single/redis', script, 1, env));
    results.push(await scenario('3 nodes/redis', script, 3, env));
    console.table(results);
    const [base, , cross] = results;
    console.log(
      `cross-node (3 nodes, Redis) vs single node (memory): deliveries/s ratio ${(cross.deliveriesPerSec / base.deliveriesPerSec).toFixed(2)}, ` +
        `p99 ${cross.p99ms} ms vs ${base.p99ms} ms`,
    );
  } finally {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length) await admin.del(...keys);
    } while (cursor !== '0');
    await admin.quit();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await runWorker(workerData);
