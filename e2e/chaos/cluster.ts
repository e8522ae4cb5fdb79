// The servers behind the chaos proxy. `memory`: one in-process server on a file-backed broker,
// restarted once (a crash: sockets destroyed, no goodbye), the new process reloading history from
// the file. `redis`: two child-process nodes on @push/redis behind one proxy that sends every new
// connection to the next live node in turn (no sticky sessions), one of them SIGKILLed mid-run so
// its clients land on the other; the stream is published by a third, in-process server on the same
// Redis (the back end), so a node's death never loses or doubles a publish.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedisBroker } from '@push/redis';
import { type Broker, createPushServer, type PushServer } from '@push/server';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { ACCEPT_BACKLOG } from '../lib/proxy.mjs';
import { createFileBroker } from '../src/harness/file-broker.js';
import { CHAOS_HISTORY, CHAOS_SERVER_OPTIONS } from './server-options.js';

export type BrokerKind = 'memory' | 'redis';

/** A session the server cut as slow, and when (`Date.now()`). */
export interface Overflowed {
  clientId: string;
  at: number;
}

export interface Cluster {
  /** Where the proxy sends the next connection. */
  target(): { host: string; port: number };
  publish(channel: string, data: unknown): Promise<void>;
  /** The run's one crash; resolves with what happened, once the cluster serves again. */
  crash(random: () => number): Promise<string>;
  /** Sessions the servers cut as slow (`429:queue`) so far, where the servers can be asked. */
  overflows(): number | undefined;
  /** Those sessions (the server's `disconnect` events): clientId and when, where it can be asked. */
  overflowed(): readonly Overflowed[] | undefined;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Local {
  http: http.Server;
  push: PushServer;
  sockets: Set<Socket>;
}

async function listen(port: number, broker: Broker): Promise<Local> {
  const server = http.createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const push = createPushServer({ ...CHAOS_SERVER_OPTIONS, server, broker });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', backlog: ACCEPT_BACKLOG }, resolve);
  });
  return { http: server, push, sockets };
}

async function crashLocal(s: Local): Promise<void> {
  for (const socket of s.sockets) socket.destroy(); // no goodbye to anyone
  await s.push.close();
  s.http.closeAllConnections();
  await new Promise((resolve) => s.http.close(resolve));
}

/** One in-process server whose history survives its restart in a JSON-lines file. */
export async function memoryCluster(): Promise<Cluster> {
  const historyFile = join(tmpdir(), `push-chaos-${process.pid}-${Date.now()}.jsonl`);
  let server = await listen(0, createFileBroker(historyFile, CHAOS_HISTORY));
  const port = (server.http.address() as AddressInfo).port;
  let overflows = 0;
  const overflowed: Overflowed[] = [];
  const watch = (local: Local) =>
    local.push.on(
      'disconnect',
      ({ clientId, reason }) => reason === 'overflow' && overflowed.push({ clientId, at: Date.now() }),
    );
  watch(server);
  let down: Promise<void> | undefined;
  return {
    target: () => ({ host: '127.0.0.1', port }),
    async publish(channel, data) {
      await down;
      await server.push.publish(channel, data);
    },
    async crash(random) {
      const pause = Math.round(300 + random() * 500);
      const restart = async () => {
        overflows += server.push.metrics().queueOverflows;
        await crashLocal(server);
        await sleep(pause);
        server = await listen(port, createFileBroker(historyFile, CHAOS_HISTORY));
        watch(server);
      };
      down = restart();
      await down;
      down = undefined;
      return `server restarted after ${pause}ms down`;
    },
    overflows: () => overflows + server.push.metrics().queueOverflows,
    overflowed: () => overflowed,
    async close() {
      await crashLocal(server);
      rmSync(historyFile, { force: true });
    },
  };
}

interface Node {
  port: number;
  child: ChildProcess;
  alive: boolean;
  output: string[];
}

/** Bundles redis-node.ts (on the sources, like the tests) so a plain `node` runs it. */
async function bundleNode(): Promise<{ dir: string; script: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'push-chaos-redis-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'node.mjs');
  await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'redis-node.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@push/source'],
    external: ['bufferutil', 'utf-8-validate'], // ws's optional native add-ons
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'error',
  });
  return { dir, script };
}

function spawnNode(script: string, env: Record<string, string>): Promise<Node> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chaos: a Redis node did not start within 15 s:\n${output.join('')}`));
    }, 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /ready (\d+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), child, alive: true, output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chaos: a Redis node exited (${code}) before it was ready:\n${output.join('')}`));
    });
  });
}

const killed = (node: Node) =>
  new Promise<void>((resolve) => {
    if (node.child.exitCode !== null || node.child.signalCode !== null) return resolve();
    node.child.once('exit', () => resolve());
    node.child.kill('SIGKILL');
  });

/** Two nodes on Redis at `url` under a fresh key prefix (deleted at close), and a publisher. */
export async function redisCluster(
  url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
): Promise<Cluster> {
  const prefix = `push-chaos-${process.pid}-${Date.now().toString(36)}:`;
  const { dir, script } = await bundleNode();
  const env = { REDIS_URL: url, PUSH_REDIS_PREFIX: prefix };
  const nodes = await Promise.all([spawnNode(script, env), spawnNode(script, env)]);
  const broker = createRedisBroker({ url, prefix, historySize: CHAOS_HISTORY });
  await broker.ready();
  const publisher = createPushServer({ ...CHAOS_SERVER_OPTIONS, broker });
  let turn = 0;
  return {
    target() {
      const live = nodes.filter((n) => n.alive);
      return { host: '127.0.0.1', port: live[turn++ % live.length]!.port };
    },
    async publish(channel, data) {
      await publisher.publish(channel, data);
    },
    async crash(random) {
      const index = Math.floor(random() * nodes.length);
      const node = nodes[index]!;
      node.alive = false; // new connections go to the other node from now on
      await killed(node);
      return `node ${index + 1} of ${nodes.length} killed (SIGKILL)`;
    },
    overflows: () => undefined, // the nodes are other processes: their 429s show up at the clients
    overflowed: () => undefined,
    async close() {
      await Promise.all(nodes.map(killed));
      await publisher.close();
      await broker.close();
      const admin = new Redis(url);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await admin.del(...keys);
        } while (cursor !== '0');
      } finally {
        admin.disconnect();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
