// Orchestrator: runs every target side by side in one run and prints/writes the table.
//
//   node src/run.mjs            (from bench/; `npm run bench` at the root builds first)
//
// Environment (all optional):
//   BENCH_TARGETS=ws,sse,...    subset / order of targets (default: all below)
//   BENCH_SUBSCRIBERS=1000      subscribers per target
//   BENCH_WINDOW=16             closed-loop window: messages published but not yet at every subscriber
//   BENCH_SATURATION_MS=2000    one measured saturation round
//   BENCH_ROUNDS=3              saturation rounds per target (best deliveries/s and lowest CPU/delivery count)
//   BENCH_WARMUP_MS=1000        unmeasured saturation warm-up per target
//   BENCH_RATE=20 BENCH_LATENCY_COUNT=60   latency run: messages/s and how many
//   BENCH_PUSH_SOURCE=1         run @push/server from its TypeScript sources (esbuild bundle)
//   BENCH_CPU_PROF=push-ws      write a V8 CPU profile of that target's server to bench/results/
//   BENCH_HEAP_SNAPSHOT=push-ws write a heap snapshot of that target's server with its idle connections
//   BENCH_SCALE_N=20000 BENCH_SCALE_HTTP_N=10000 BENCH_SCALE_TARGETS=...   scale phase (README, 7.)
//   BENCH_SCALE_CPU_PROF=push-ws,push-sse   CPU profile of those scale servers over the 1 msg/s round
//   BENCH_OUT=results/latest.md where the Markdown goes (relative to bench/)

import { execFileSync, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, sleep } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.resolve(here, '..');
const rootDir = path.resolve(benchDir, '..');
const resultsDir = path.join(benchDir, 'results');

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 16);
/**
 * Subscribers opened and closed before the memory baseline (see setupTarget): 50 on WebSocket,
 * whose subscribers all leave at once (Bayeux ones say /meta/disconnect); 5 on HTTP, whose
 * Bayeux sessions would linger until they time out.
 */
const warmSubscribers = (kind) =>
  ['ws-raw', 'sio-ws', 'sio-client-ws', 'bayeux-ws', 'client-ws'].includes(kind) ? 50 : 5;
const SAT_MS = Number(process.env.BENCH_SATURATION_MS ?? 1500);
/** The batched row: the same closed loop with the whole window published in one tick. */
const BATCH_MS = Number(process.env.BENCH_BATCH_MS ?? 800);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const LAT_COUNT = Number(process.env.BENCH_LATENCY_COUNT ?? 20);
const IDLE_SETTLE_MS = 1000;
const TARGET_TIMEOUT_MS = 90_000;
const DRAIN_NOTE = '10 s';
/** A best round where neither process got this much of a core is marked contended. */
const CONTENDED_PCT = 75;
/** Children live as long as the whole run may (they stay up between phases). */
const CHILD_ENV = { BENCH_SERVER_LIFETIME_MS: '600000', BENCH_SUBS_LIFETIME_MS: '600000' };
const TOTAL_TIMEOUT_MS = 15 * 60_000;
/**
 * Scale phase: connections per WebSocket target (0 skips the phase) and per HTTP target, the
 * targets, and latency messages at SCALE_RATE msg/s.
 */
const SCALE_N = Number(process.env.BENCH_SCALE_N ?? 20_000);
const SCALE_HTTP_N = Number(process.env.BENCH_SCALE_HTTP_N ?? 10_000);
const SCALE_TARGETS = (process.env.BENCH_SCALE_TARGETS ?? 'ws,push-ws,sse,push-sse,push-iframe,push-lp')
  .split(',')
  .filter(Boolean);
const SCALE_RATE = Number(process.env.BENCH_SCALE_RATE ?? 1);
const SCALE_COUNT = Number(process.env.BENCH_SCALE_COUNT ?? 10);
/** Each scale target, from its server's start to its processes' exit. */
const SCALE_TIMEOUT_MS = Number(process.env.BENCH_SCALE_TIMEOUT_MS ?? 180_000);
/**
 * Subscriber processes per scale target (floors alike): the machine's two cores then run the
 * server and two client processes. More when the open-file limit or the port range needs them.
 */
const SCALE_PROCS = Number(process.env.BENCH_SCALE_PROCS ?? 2);
/**
 * Messages at SCALE_RATE before the measured ones (JIT, first publish): a saturation warm-up at
 * this size would leave seconds of backlog on a busy machine, and the scale rows measure no
 * saturation.
 */
const SCALE_WARMUP_COUNT = 2;
/** Scale rows' idle window: server CPU with every connection open and nothing published. */
const SCALE_IDLE_MS = 3000;
/**
 * File descriptors a process needs besides its connections (stdio, IPC, epoll, libuv, listen
 * sockets, modules being read): the scale phase opens at most the open-file limit minus this.
 */
const FD_RESERVE = 40;
/**
 * Sockets one subscriber may hold at once against the server: a stream or a held request, plus
 * one keep-alive socket for the POSTs (acks, connects) a stream transport sends next to it.
 */
const socketsPerSubscriber = (kind) => (['client-sse', 'client-iframe', 'bayeux-sse'].includes(kind) ? 2 : 1);
/** In the scale table, what each row is compared with (HTTP rows: the SSE floor at the same size). */
const SCALE_CPU_PROF = (process.env.BENCH_SCALE_CPU_PROF ?? '').split(',').filter(Boolean);
const SCALE_REF = { 'push-ws': 'ws', 'push-sse': 'sse', 'push-iframe': 'sse', 'push-lp': 'sse' };
const OUT_FILE = path.resolve(benchDir, process.env.BENCH_OUT ?? 'results/latest.md');

/**
 * Targets: server = server.mjs target, kind = subscriber kind, ref = the row its ratios are
 * against (the floor of its family, or Socket.IO polling for our long-polling).
 */
const ALL = [
  { name: 'ws', label: 'ws floor', server: 'ws', kind: 'ws-raw', transport: 'websocket', ref: null },
  {
    name: 'sse',
    label: 'node:http SSE floor',
    server: 'sse',
    kind: 'sse-raw',
    transport: 'eventsource',
    ref: null,
  },
  // Socket.IO as its users run it: socket.io-client, one transport each.
  {
    name: 'sio-ws',
    label: 'Socket.IO 4.8.4',
    server: 'sio-ws',
    kind: 'sio-client-ws',
    transport: 'websocket',
    ref: 'ws',
  },
  {
    name: 'sio-polling',
    label: 'Socket.IO 4.8.4',
    server: 'sio-polling',
    kind: 'sio-client-polling',
    transport: 'polling',
    ref: 'ws',
  },
  {
    name: 'faye-ws',
    label: 'Faye 1.4.3',
    server: 'faye',
    kind: 'bayeux-ws',
    transport: 'websocket',
    ref: 'ws',
  },
  // Ours, as users run it: @push/client (acks on, resume on) forced to one transport.
  {
    name: 'push-ws',
    label: '@push/server + @push/client',
    server: 'push',
    kind: 'client-ws',
    transport: 'websocket',
    ref: 'ws',
    ours: true,
  },
  {
    name: 'push-sse',
    label: '@push/server + @push/client',
    server: 'push',
    kind: 'client-sse',
    transport: 'eventsource',
    ref: 'sse',
    ours: true,
  },
  {
    name: 'push-lp',
    label: '@push/server + @push/client',
    server: 'push',
    kind: 'client-lp',
    transport: 'long-polling',
    ref: 'sio-polling',
    ours: true,
  },
  {
    name: 'push-iframe',
    label: '@push/server + @push/client',
    server: 'push',
    kind: 'client-iframe',
    transport: 'iframe',
    ref: 'sse',
    ours: true,
  },
  // Extra rows, not run by default (BENCH_TARGETS=...): our server with thin raw Bayeux
  // subscribers (no acks), and Faye's HTTP transports.
  {
    name: 'push-ws-raw',
    label: '@push/server, raw Bayeux subscribers (no acks)',
    server: 'push',
    kind: 'bayeux-ws',
    transport: 'websocket',
    ref: 'ws',
  },
  {
    name: 'push-sse-raw',
    label: '@push/server, raw Bayeux subscribers (no acks)',
    server: 'push',
    kind: 'bayeux-sse',
    transport: 'eventsource',
    ref: 'sse',
  },
  {
    name: 'push-lp-raw',
    label: '@push/server, raw Bayeux subscribers (no acks)',
    server: 'push',
    kind: 'bayeux-lp',
    transport: 'long-polling',
    ref: 'sio-polling',
  },
  {
    name: 'sio-ws-raw',
    label: 'Socket.IO 4.8.4, raw engine.io subscribers',
    server: 'sio-ws',
    kind: 'sio-ws',
    transport: 'websocket',
    ref: 'ws',
  },
  {
    name: 'sio-polling-raw',
    label: 'Socket.IO 4.8.4, raw engine.io subscribers',
    server: 'sio-polling',
    kind: 'sio-polling',
    transport: 'polling',
    ref: 'ws',
  },
  {
    name: 'faye-lp',
    label: 'Faye 1.4.3',
    server: 'faye',
    kind: 'bayeux-lp',
    transport: 'long-polling',
    ref: 'sio-polling',
  },
  {
    name: 'faye-sse',
    label: 'Faye 1.4.3',
    server: 'faye',
    kind: 'bayeux-sse',
    transport: 'eventsource',
    ref: 'sse',
  },
];
// Run order keeps each of our rows next to its reference, so load drift on the machine hurts less.
const DEFAULT = ['ws', 'push-ws', 'sio-ws', 'faye-ws', 'sse', 'push-sse', 'sio-polling', 'push-lp'];
const wanted = (process.env.BENCH_TARGETS ?? DEFAULT.join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const TARGETS = wanted.map((n) => {
  const t = ALL.find((x) => x.name === n);
  if (!t) throw new Error(`unknown target ${n}; known: ${ALL.map((x) => x.name).join(', ')}`);
  return t;
});

const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

const overall = setTimeout(() => {
  log(`whole run exceeded ${TOTAL_TIMEOUT_MS / 1000} s, giving up`);
  for (const c of live) c.kill('SIGKILL');
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
overall.unref();

const live = new Set();

// ---------------------------------------------------------------------------------------------
// @push/server: built dist by default (`npm run bench` builds first); sources via esbuild on request
// or when there is no dist.

async function pushBundle() {
  const dist = path.join(rootDir, 'packages/server/dist/index.js');
  if (process.env.BENCH_PUSH_SOURCE !== '1' && existsSync(dist))
    return { env: {}, from: 'packages/server/dist' };
  const src = path.join(rootDir, 'packages/server/src/index.ts');
  if (!existsSync(src)) return { error: 'packages/server/src/index.ts does not exist yet' };
  const esbuild = await import('esbuild');
  const outfile = path.join(rootDir, 'node_modules/.cache/push-bench/push-server.mjs');
  await esbuild.build({
    entryPoints: [src],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['@push/source'],
    // Workspace packages are bundled from source; npm dependencies stay external.
    plugins: [
      {
        name: 'external-npm',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@push/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
    logLevel: 'warning',
  });
  return { env: { BENCH_PUSH_BUNDLE: outfile }, from: 'packages/server/src (esbuild bundle)' };
}

// ---------------------------------------------------------------------------------------------
// Child process plumbing.

function spawn(file, args, opts = {}) {
  const child = fork(path.join(here, file), args, {
    cwd: benchDir,
    execArgv: opts.execArgv ?? [],
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  live.add(child);
  child.stderrText = '';
  child.stderr.on('data', (d) => {
    child.stderrText = (child.stderrText + d).slice(-4000);
  });
  child.on('exit', () => live.delete(child));
  return child;
}

/** Resolves with the next IPC message of `type` from child (optionally matching pred). */
function next(child, type, ms, pred = () => true) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m?.type === type && pred(m)) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(
        new Error(
          `child exited (${code}) while waiting for ${type}: ${child.stderrText.trim().slice(-1500)}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for ${type}`));
    }, ms);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMsg);
      child.off('exit', onExit);
    };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

/**
 * The subscriber side of one target: one or more `subs.mjs` processes, each with its share of
 * the subscribers, seen by the rest of this file as one child. `send` goes to every process; a
 * reply is emitted once every process gave its own, merged ('progress': the lowest of their
 * marks, since a message is delivered when every process has it). It "exits" when any does.
 */
class SubsGroup extends EventEmitter {
  constructor(children) {
    super();
    this.children = children;
    this.exitCode = null;
    this.signalCode = null;
    /** Replies waiting for the other processes' own: type -> one queue per process. */
    this.waiting = new Map();
    this.upTo = children.map(() => 0);
    this.sentUpTo = 0;
    children.forEach((c, k) => {
      c.on('message', (m) => this.take(k, m));
      c.once('exit', (code, signal) => {
        if (this.exitCode !== null || this.signalCode !== null) return;
        this.exitCode = code;
        this.signalCode = signal;
        this.emit('exit', code ?? signal);
      });
    });
  }

  get connected() {
    return this.children.every((c) => c.connected);
  }

  get stderrText() {
    return this.children.map((c) => c.stderrText.trim()).join('\n');
  }

  send(msg) {
    // Several processes' latency samples are merged here, so each sends its own.
    const m = msg.cmd === 'lat' && this.children.length > 1 ? { ...msg, values: true } : msg;
    for (const c of this.children) c.send(m);
  }

  take(k, m) {
    if (m?.type === 'progress') {
      this.upTo[k] = m.upTo;
      const low = Math.min(...this.upTo);
      if (low > this.sentUpTo) {
        this.sentUpTo = low;
        this.emit('message', { type: 'progress', upTo: low });
      }
      return;
    }
    if (this.children.length === 1) return this.emit('message', m);
    let queues = this.waiting.get(m.type);
    if (!queues) {
      queues = this.children.map(() => []);
      this.waiting.set(m.type, queues);
    }
    queues[k].push(m);
    if (queues.every((q) => q.length > 0)) this.emit('message', merge(queues.map((q) => q.shift())));
  }
}

const sum = (list, key) => list.reduce((a, m) => a + (get(m, key) ?? 0), 0);

/** One reply out of every subscriber process's own (SubsGroup). */
function merge(list) {
  const m = { ...list[0] };
  const samples = () => list.flatMap((x) => x.errorSamples ?? []).slice(0, 5);
  switch (m.type) {
    case 'ready':
      return {
        ...m,
        failed: sum(list, 'failed'),
        openMs: Math.max(...list.map((x) => x.openMs)),
        errorSamples: samples(),
      };
    case 'mark':
      return {
        ...m,
        cpu: { user: sum(list, 'cpu.user'), system: sum(list, 'cpu.system') },
        t: Math.max(...list.map((x) => x.t)),
        total: sum(list, 'total'),
        httpRequests: sum(list, 'httpRequests'),
        wsFrames: sum(list, 'wsFrames'),
      };
    case 'lat': {
      const values = Float64Array.from(list.flatMap((x) => x.values ?? [])).sort();
      return {
        type: 'lat',
        samples: values.length,
        p50: percentile(values, 50) / 1000,
        p99: percentile(values, 99) / 1000,
      };
    }
    case 'report': {
      for (const key of [
        'total',
        'expected',
        'missing',
        'subsWithMissing',
        'dups',
        'outOfOrder',
        'badMessages',
        'errors',
        'openErrors',
        'latSamples',
      ])
        m[key] = sum(list, key);
      m.errorSamples = samples();
      m.max = Math.max(...list.map((x) => x.max));
      // Per-process percentiles do not merge; latency comes from 'lat'.
      m.p50 = m.p99 = undefined;
      return m;
    }
    default:
      return m;
  }
}

async function stop(child) {
  if (child instanceof SubsGroup) {
    await Promise.all(child.children.map(stop));
    return;
  }
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    child.send({ cmd: 'close' });
  } catch {}
  await Promise.race([exited, sleep(2000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(1000)]);
  }
}

const cpuUs = (c) => c.user + c.system;

/** Machine-wide CPU ticks (all cores), to tell a saturated machine from a saturated server. */
function hostCpu() {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const { user, nice, sys, idle, irq } = c.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

/**
 * Phase 1 of a target: server up, idle memory with N subscribers, warm-up, latency. Leaves the
 * server and subscriber processes running (idle) for the saturation rounds.
 * `scale` (the scale phase): `procs` subscriber processes share the `n` subscribers, the server
 * listens on `listenPorts` ports (process k connects to port k mod listenPorts), and the idle
 * window is SCALE_IDLE_MS with the server's CPU over it measured.
 */
async function setupTarget(t, push, { n = N, procs = 1, listenPorts = 1, scale = false } = {}) {
  const ctx = { row: { ...t }, server: undefined, subs: undefined, n, scale };
  const { row } = ctx;
  if (t.server === 'push' && push.error) {
    row.error = `not run: ${push.error}`;
    return ctx;
  }
  const execArgv = ['--expose-gc'];
  if (!scale && process.env.BENCH_CPU_PROF === t.name) {
    mkdirSync(resultsDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${t.name}.cpuprofile`);
  }
  const server = spawn('server.mjs', [t.server], {
    execArgv,
    env: {
      ...CHILD_ENV,
      ...(t.server === 'push' ? push.env : {}),
      ...(scale
        ? {
            BENCH_LISTEN_PORTS: String(listenPorts),
            BENCH_MAX_CONNECTIONS: String(n * socketsPerSubscriber(t.kind) + 1000),
          }
        : {}),
    },
  });
  ctx.server = server;
  const ready = await next(server, 'ready', 20_000);
  const subPath = t.server === 'push' ? '/push' : t.server === 'faye' ? '/faye' : ready.path;
  // A few subscribers come and go first, so code compiled lazily on first use (once per process,
  // not per connection) is in the baseline of every target alike.
  const warmers = spawn('subs.mjs', [t.kind, String(ready.port), String(warmSubscribers(t.kind)), subPath], {
    env: CHILD_ENV,
  });
  await next(warmers, 'ready', 20_000);
  warmers.send({ cmd: 'close' });
  await new Promise((resolve) => (warmers.exitCode === null ? warmers.once('exit', resolve) : resolve()));
  await sleep(300);
  server.send({ cmd: 'mem' });
  const mem0 = await next(server, 'mem', 5000);

  const children = [];
  for (let k = 0; k < procs; k++) {
    // Process k's share: n split as evenly as it goes.
    const share = Math.floor((n * (k + 1)) / procs) - Math.floor((n * k) / procs);
    const subsArgv = share > 5000 ? ['--max-old-space-size=4096'] : [];
    if (!scale && process.env.BENCH_SUBS_CPU_PROF === t.name) {
      mkdirSync(resultsDir, { recursive: true });
      subsArgv.push(
        '--cpu-prof',
        `--cpu-prof-dir=${resultsDir}`,
        `--cpu-prof-name=${t.name}-subs.cpuprofile`,
      );
    }
    const port = ready.ports[k % ready.ports.length];
    children.push(
      spawn('subs.mjs', [t.kind, String(port), String(share), subPath], {
        env: CHILD_ENV,
        execArgv: subsArgv,
      }),
    );
  }
  const subs = new SubsGroup(children);
  ctx.subs = subs;
  subs.on('message', (m) => {
    if (m.type === 'progress' && server.connected) server.send({ cmd: 'progress', upTo: m.upTo });
  });
  const sready = await next(subs, 'ready', n > 5000 ? 120_000 : 60_000);
  row.openMs = sready.openMs;
  if (sready.failed > 0)
    throw new Error(`${sready.failed}/${n} subscribers failed to open: ${sready.errorSamples.join(' | ')}`);

  let idle0;
  if (scale) {
    server.send({ cmd: 'cpu' });
    idle0 = await next(server, 'cpu', 5000);
  }
  await sleep(scale ? SCALE_IDLE_MS : IDLE_SETTLE_MS);
  if (scale) {
    server.send({ cmd: 'cpu' });
    const idle1 = await next(server, 'cpu', 5000);
    row.idleCpuPct = (100 * (cpuUs(idle1.cpu) - cpuUs(idle0.cpu))) / (idle1.t - idle0.t);
  }
  server.send({ cmd: 'mem' });
  const mem1 = await next(server, 'mem', 5000);
  row.serverFds = mem1.fds;
  if (process.env.BENCH_HEAP_SNAPSHOT === t.name) {
    mkdirSync(resultsDir, { recursive: true });
    server.send({ cmd: 'snapshot', file: path.join(resultsDir, `${t.name}.heapsnapshot`) });
    await next(server, 'snapshot', 60_000);
  }
  row.rssPerConn = (mem1.rss - mem0.rss) / n;
  row.heapPerConn = (mem1.heapUsed - mem0.heapUsed) / n;
  row.serverRss = mem1.rss;

  ctx.run = async (msg, ms) => {
    server.send({ cmd: 'run', ...msg });
    return next(server, 'done', ms);
  };
  // Warm-up (JIT, first-publish setup); unmeasured.
  const warm = scale
    ? await ctx.run(
        { mode: 'rate', rate: SCALE_RATE, count: SCALE_WARMUP_COUNT, ph: 0 },
        (SCALE_WARMUP_COUNT / SCALE_RATE) * 1000 + 20_000,
      )
    : await ctx.run({ mode: 'window', window: WINDOW, perTick: 1, ms: WARMUP_MS, ph: 0 }, WARMUP_MS + 15_000);
  ctx.last = warm.last;
  row.latRounds = [];
  row.rounds = [];
  row.batchRounds = [];
  return ctx;
}

/**
 * One closed-loop saturation measure: `perTick` 1 publishes one message per event-loop turn (the
 * headline), Infinity fills the window in one tick (the batched row).
 */
async function saturate(ctx, k, perTick, ms) {
  const { subs } = ctx;
  subs.send({ cmd: 'mark', name: `sat${k}` });
  const m0 = await next(subs, 'mark', 5000);
  const host0 = hostCpu();
  const sat = await ctx.run({ mode: 'window', window: WINDOW, perTick, ms, ph: 2 }, ms + 15_000);
  subs.send({ cmd: 'mark', name: `sat${k}end` });
  const m1 = await next(subs, 'mark', 5000);
  const host1 = hostCpu();
  ctx.last = sat.last;
  const msgs = Math.max(0, Math.min(sat.upTo, sat.last) - sat.first + 1);
  const deliveries = msgs * ctx.n;
  const round = {
    deliveries,
    dps: deliveries / (sat.wallUs / 1e6),
    cpuPerDelivery: cpuUs(sat.cpu) / deliveries,
    serverCpuPct: (100 * cpuUs(sat.cpu)) / sat.wallUs,
    subsCpuPct: (100 * (cpuUs(m1.cpu) - cpuUs(m0.cpu))) / (m1.t - m0.t),
    subsCpuPerDelivery: (cpuUs(m1.cpu) - cpuUs(m0.cpu)) / Math.max(1, m1.total - m0.total),
    // Deliveries per WebSocket frame or HTTP request (SSE streams count neither): batching.
    perRequest:
      m1.httpRequests + m1.wsFrames > m0.httpRequests + m0.wsFrames
        ? (m1.total - m0.total) / (m1.httpRequests + m1.wsFrames - m0.httpRequests - m0.wsFrames)
        : Number.NaN,
    hostBusyPct: (100 * (host1.busy - host0.busy)) / (host1.total - host0.total),
    drained: sat.drained,
  };
  if (!sat.drained)
    throw new Error(
      `saturation round ${k + 1} (${perTick === 1 ? 'per tick' : 'batched'}) did not drain within ${DRAIN_NOTE}`,
    );
  return round;
}

/** One round of a target (phase 2, interleaved across targets): saturation, latency, batched. */
async function saturationRound(ctx, k) {
  const { row, subs } = ctx;
  row.rounds.push(await saturate(ctx, k, 1, SAT_MS));
  // Latency round: LAT_COUNT messages at RATE msg/s (open loop), one per tick.
  subs.send({ cmd: 'mark', name: `lat${k}` });
  const m0 = await next(subs, 'mark', 5000);
  const latRun = await ctx.run(
    { mode: 'rate', rate: RATE, count: LAT_COUNT, ph: 1 },
    (LAT_COUNT / RATE) * 1000 + 15_000,
  );
  subs.send({ cmd: 'mark', name: `lat${k}end` });
  const m1 = await next(subs, 'mark', 5000);
  ctx.last = latRun.last;
  subs.send({ cmd: 'lat' });
  const lat = await next(subs, 'lat', 5000);
  row.latRounds.push({
    ...lat,
    drained: latRun.drained,
    cpuPerDelivery: cpuUs(latRun.cpu) / (LAT_COUNT * ctx.n),
    serverCpuPct: (100 * cpuUs(latRun.cpu)) / latRun.wallUs,
    subsCpuPerDelivery: (cpuUs(m1.cpu) - cpuUs(m0.cpu)) / Math.max(1, m1.total - m0.total),
  });
  if (!latRun.drained) throw new Error(`latency round ${k + 1} did not drain within ${DRAIN_NOTE}`);
  if (BATCH_MS > 0) row.batchRounds.push(await saturate(ctx, k, Number.POSITIVE_INFINITY, BATCH_MS));
}

/** Phase 3: the best round, the delivery check, then both processes stop. */
async function finishTarget(ctx) {
  const { row, subs } = ctx;
  try {
    if (row.rounds?.length) {
      // Noise on a shared machine only ever slows a round down: the best round counts.
      const best = row.rounds.reduce((a, b) => (b.dps > a.dps ? b : a));
      Object.assign(row, best);
      row.cpuPerDelivery = Math.min(...row.rounds.map((r) => r.cpuPerDelivery));
      row.subsCpuPerDelivery = Math.min(...row.rounds.map((r) => r.subsCpuPerDelivery));
      row.satDrained = row.rounds.every((r) => r.drained) && row.batchRounds.every((r) => r.drained);
      if (row.batchRounds.length) {
        const bestBatch = row.batchRounds.reduce((a, b) => (b.dps > a.dps ? b : a));
        row.batch = {
          ...bestBatch,
          cpuPerDelivery: Math.min(...row.batchRounds.map((r) => r.cpuPerDelivery)),
          subsCpuPerDelivery: Math.min(...row.batchRounds.map((r) => r.subsCpuPerDelivery)),
        };
      }
      // Neither the server nor the subscribers had a full core in the best round: other work on
      // the machine set the pace, so deliveries/s (and latency) of this row say little.
      row.contended = Math.max(best.serverCpuPct, best.subsCpuPct) < CONTENDED_PCT;
    }
    if (row.latRounds?.length) {
      // Same reasoning for latency: the round with the lowest p99 counts.
      const bestLat = row.latRounds.reduce((a, b) => (b.p99 < a.p99 ? b : a));
      row.p50 = bestLat.p50;
      row.p99 = bestLat.p99;
      row.latCpuPerDelivery = Math.min(...row.latRounds.map((r) => r.cpuPerDelivery));
      row.latSubsCpuPerDelivery = Math.min(...row.latRounds.map((r) => r.subsCpuPerDelivery));
      row.latDrained = row.latRounds.every((r) => r.drained);
    }
    if (subs && ctx.last !== undefined && subs.connected) {
      subs.send({ cmd: 'finish', last: ctx.last });
      const rep = await next(subs, 'report', 10_000);
      row.check = rep;
      row.ok =
        !row.error &&
        rep.missing === 0 &&
        rep.dups === 0 &&
        rep.outOfOrder === 0 &&
        rep.badMessages === 0 &&
        // Scale rows open thousands of clients at once: a client that timed out on its handshake
        // and opened on its retry (the client's own behaviour under a connect storm) is shown in
        // the check column, not failed; any error once every client had opened fails it.
        rep.errors - (ctx.scale ? rep.openErrors : 0) === 0 &&
        row.satDrained &&
        row.latDrained;
    }
  } catch (e) {
    row.error ??= e.message;
  } finally {
    await stop(subs);
    await stop(ctx.server);
  }
  return row;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} exceeded ${ms / 1000} s`)), ms);
    }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Table.

const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const fmt = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const ratio = (a, b) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '—';
const get = (r, k) => k.split('.').reduce((o, p) => o?.[p], r);

function checkText(r) {
  return r.error
    ? `ERROR: ${r.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 160)}`
    : r.ok
      ? `ok (${fmtInt(r.check.total)} deliveries${r.check.errors ? `; ${r.check.errors} client errors while opening, every client opened: ${r.check.errorSamples[0]?.replace(/\|/g, '/').slice(0, 100)}` : ''})`
      : r.check
        ? `FAIL: missing ${r.check.missing} (${r.check.subsWithMissing} subs), dups ${r.check.dups}, out-of-order ${r.check.outOfOrder}, bad ${r.check.badMessages}, errors ${r.check.errors}${r.satDrained ? '' : ', not drained'}${r.check.errorSamples?.length ? ` (${r.check.errorSamples[0].replace(/\|/g, '/').slice(0, 120)})` : ''}`
        : 'FAIL: no check';
}

/** A Markdown table of `rows`: columns are [header, key or fn(row), digits, ratio to ref?]. */
function mdTable(rows, cols) {
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  const head = [];
  for (const [h, , , withRatio] of cols) {
    head.push(h);
    if (withRatio) head.push('x ref');
  }
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((h) => (['target', 'transport', 'subscribers', 'ref', 'check'].includes(h) ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of rows) {
    const ref = r.ref ? byName[r.ref] : undefined;
    const refOk = ref && !ref.error;
    const cells = [];
    for (const [, key, digits, withRatio] of cols) {
      const v = typeof key === 'function' ? key(r) : get(r, key);
      cells.push(typeof v === 'string' ? v : digits === 'int' ? fmtInt(v) : fmt(v, digits));
      if (withRatio) cells.push(refOk && typeof key === 'string' ? ratio(v, get(ref, key)) : '—');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

const nameCols = [
  ['target', (r) => `${r.label}${r.ours ? ' **(ours)**' : ''}`],
  ['transport', (r) => r.transport],
  ['subscribers', (r) => SUBSCRIBER_LABEL[r.kind] ?? r.kind],
  ['ref', (r) => r.ref ?? 'floor'],
];

/** What runs on the subscriber side of each kind (see src/subs.mjs). */
const SUBSCRIBER_LABEL = {
  'ws-raw': 'ws 8.23 client',
  'sse-raw': 'http.get + eventsource-parser',
  'sio-ws': 'raw engine.io/socket.io packets',
  'sio-polling': 'raw engine.io polling',
  'sio-client-ws': 'socket.io-client 4.8.4',
  'sio-client-polling': 'socket.io-client 4.8.4',
  'bayeux-ws': 'raw Bayeux (no acks)',
  'bayeux-sse': 'raw Bayeux (no acks)',
  'bayeux-lp': 'raw Bayeux (no acks)',
  'client-ws': '@push/client (ws 8.23)',
  'client-sse': '@push/client (Node build: node:http)',
  'client-lp': '@push/client (Node build: node:http)',
  'client-iframe': '@push/client, iframe(fetchFrame) (Node build: node:http)',
};

function headlineTable(rows) {
  return mdTable(rows, [
    ...nameCols,
    ['p50 ms @20/s', 'p50', 2, true],
    ['p99 ms @20/s', 'p99', 2, true],
    ['server CPU µs/delivery', 'cpuPerDelivery', 2, true],
    ['client CPU µs/delivery', 'subsCpuPerDelivery', 2, true],
    ['server µs/dlv @20/s', 'latCpuPerDelivery', 2, true],
    ['client µs/dlv @20/s', 'latSubsCpuPerDelivery', 2, true],
    ['deliveries/s', (r) => `${fmtInt(r.dps)}${r.contended ? ' †' : ''}`],
    ['x ref', (r) => (r.ref && r.refRow && !r.refRow.error ? ratio(r.dps, r.refRow.dps) : '—')],
    ['RSS KB/idle conn', (r) => fmt(r.rssPerConn / 1024, 1)],
    ['x ref', (r) => (r.refRow && !r.refRow.error ? ratio(r.rssPerConn, r.refRow.rssPerConn) : '—')],
    ['heap KB/idle conn', (r) => fmt(r.heapPerConn / 1024, 1)],
    ['x ref', (r) => (r.refRow && !r.refRow.error ? ratio(r.heapPerConn, r.refRow.heapPerConn) : '—')],
    ['server CPU %', 'serverCpuPct', 0],
    ['client CPU %', 'subsCpuPct', 0],
    ['deliveries/frame or request', 'perRequest', 1],
    ['host busy %', 'hostBusyPct', 0],
    ['check', checkText],
  ]);
}

function batchTable(rows) {
  return mdTable(
    rows.filter((r) => r.batch),
    [
      ...nameCols,
      ['deliveries/s', 'batch.dps', 'int', true],
      ['server CPU µs/delivery', 'batch.cpuPerDelivery', 2, true],
      ['client CPU µs/delivery', 'batch.subsCpuPerDelivery', 2, true],
      ['server CPU %', 'batch.serverCpuPct', 0],
      ['client CPU %', 'batch.subsCpuPct', 0],
      ['deliveries/frame or request', 'batch.perRequest', 1],
    ],
  );
}

/** The issue's targets (issue 15) for our rows, as PASS/FAIL lines; `failed` collects the FAILs. */
function targetChecks(rows, failed) {
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const out = [];
  const check = (label, name, key, refName, bound) => {
    const r = by[name];
    const ref = by[refName];
    if (!r || !ref) return;
    const a = get(r, key);
    const b = get(ref, key);
    if (r.error || ref.error || !Number.isFinite(a) || !Number.isFinite(b)) {
      const why = r.error ? `${name} did not run` : ref.error ? `${refName} did not run` : 'no value';
      out.push(`- FAIL ${label}: ${why}`);
      failed.push(label);
      return;
    }
    const x = a / b;
    const pass = x <= bound;
    if (!pass) failed.push(label);
    out.push(
      `- ${pass ? 'PASS' : 'FAIL'} ${label}: ${x.toFixed(2)}x ${refName} (${fmt(a)} vs ${fmt(b)}; target <= ${bound}x)`,
    );
  };
  check('websocket p99 @20 msg/s', 'push-ws', 'p99', 'ws', 1.3);
  check('websocket server CPU/delivery (one message per tick)', 'push-ws', 'cpuPerDelivery', 'ws', 1.3);
  check('websocket server CPU/delivery @20 msg/s', 'push-ws', 'latCpuPerDelivery', 'ws', 1.3);
  check('eventsource p99 @20 msg/s', 'push-sse', 'p99', 'sse', 1.3);
  check('long-polling p50 @20 msg/s', 'push-lp', 'p50', 'sio-polling', 1.0);
  check('long-polling p99 @20 msg/s', 'push-lp', 'p99', 'sio-polling', 1.0);
  check('websocket client CPU/delivery', 'push-ws', 'subsCpuPerDelivery', 'ws', 1.5);
  check('eventsource client CPU/delivery', 'push-sse', 'subsCpuPerDelivery', 'sse', 1.5);
  check('long-polling client CPU/delivery', 'push-lp', 'subsCpuPerDelivery', 'sio-polling', 1.5);
  // At 20 msg/s every frame carries one message (no backpressure batching): the per-message cost.
  check('websocket client CPU/delivery @20 msg/s', 'push-ws', 'latSubsCpuPerDelivery', 'ws', 1.5);
  check('eventsource client CPU/delivery @20 msg/s', 'push-sse', 'latSubsCpuPerDelivery', 'sse', 1.5);
  check('long-polling client CPU/delivery @20 msg/s', 'push-lp', 'latSubsCpuPerDelivery', 'sio-polling', 1.5);
  check('websocket RSS/idle conn', 'push-ws', 'rssPerConn', 'ws', 1.5);
  check('websocket heap/idle conn', 'push-ws', 'heapPerConn', 'ws', 1.3);
  for (const r of rows) {
    if (!r.error && !r.ok) {
      out.push(`- FAIL ${r.name}: delivery check failed (see check column)`);
      failed.push(`${r.name} delivery check`);
    } else if (r.error) {
      out.push(`- FAIL ${r.name}: ${r.error.slice(0, 200)}`);
      failed.push(`${r.name} error`);
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

let fdLimit = 'unknown';
try {
  fdLimit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
} catch {}
/** Open files a process may hold (what every child inherits). */
const fdMax = fdLimit === 'unlimited' ? Number.POSITIVE_INFINITY : Number(fdLimit) || 1024;
if (SCALE_N > 0 && fdMax < SCALE_N + FD_RESERVE) {
  log(
    `warning: open-file limit ${fdLimit} is below ${SCALE_N + FD_RESERVE}, needed by the scale phase's server for ${SCALE_N} connections: it opens fewer and says so; \`npm run bench\` raises the limit with ulimit -n (up to the hard limit, ulimit -Hn), or set BENCH_SCALE_N`,
  );
}
/** The ephemeral (source) port range: how many connections one address may open to one port. */
const portRange = (() => {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (high >= low) return { low, high, size: high - low + 1 };
  } catch {}
  return { low: 32768, high: 60999, size: 28232 }; // Linux's default
})();

/**
 * How a scale target runs: its size (the asked one, unless the open-file limit cannot hold it in
 * one server process), how many subscriber processes share it, how many ports the server listens
 * on. SCALE_PROCS subscriber processes, or more if one would hold more sockets than the
 * open-file limit; the sockets to one listen port stay within 90% of the ephemeral port
 * range (the rest is for other work and connections still in TIME_WAIT), else the server listens
 * on more ports and the processes spread over them, rather than touching sysctl.
 */
function scalePlan(t) {
  const asked = t.transport === 'websocket' ? SCALE_N : SCALE_HTTP_N;
  const per = socketsPerSubscriber(t.kind);
  const usable = fdMax - FD_RESERVE;
  // The server holds one socket per subscriber plus the POST sockets in use at a time (few).
  const n = Math.max(1, Math.min(asked, usable));
  const short =
    n < asked
      ? `open-file limit ${fdLimit}, one server process holds at most ${fmtInt(usable)} connections`
      : undefined;
  const listenPorts = Math.max(1, Math.ceil((n * per) / Math.floor(0.9 * portRange.size)));
  const procs = Math.max(SCALE_PROCS, Math.ceil((n * per) / usable), listenPorts);
  return { asked, n, short, procs, listenPorts };
}
if (fdLimit !== 'unlimited' && Number(fdLimit) < 2 * N + 200) {
  log(
    `warning: open-file limit ${fdLimit} is low for ${N} subscribers (each child needs ~${N + 100}, long-polling ~${2 * N + 100}); raise it with ulimit -n`,
  );
}

const started = Date.now();
const loadAtStart = os
  .loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const idle0 = hostCpu();
await sleep(1000);
const idle1 = hostCpu();
const busyBefore = (100 * (idle1.busy - idle0.busy)) / (idle1.total - idle0.total);
log(
  `machine busy before the run: ${busyBefore.toFixed(0)}% of ${os.cpus().length} cores (load average ${loadAtStart})`,
);
if (busyBefore > 25)
  log('warning: the machine is busy with other work; absolute numbers will be low and noisy, ratios less so');
let push;
const scaleServers = SCALE_N > 0 ? SCALE_TARGETS.map((n) => ALL.find((x) => x.name === n)?.server) : [];
if (TARGETS.some((t) => t.server === 'push') || scaleServers.includes('push')) {
  try {
    push = await pushBundle();
  } catch (e) {
    push = { error: `could not bundle @push/server: ${e.message.split('\n')[0]}` };
  }
  log(`@push/server: ${push.error ?? push.from}`);
}

// Phase 1, one target after the other; every target's processes stay up (idle) afterwards.
const ctxs = [];
for (const t of TARGETS) {
  const t0 = Date.now();
  log(`${t.name}: memory, warm-up, latency`);
  const pending = setupTarget(t, push ?? {});
  let ctx;
  try {
    ctx = await withTimeout(pending, TARGET_TIMEOUT_MS, `${t.name} setup`);
  } catch (e) {
    ctx = { row: { ...t, error: e.message } };
    // setupTarget may still hold processes: stop them once it settles (bounded by its own timeouts).
    pending.then((c) => Promise.all([stop(c.subs), stop(c.server)])).catch(() => {});
  }
  if (ctx.row.error) {
    await stop(ctx.subs);
    await stop(ctx.server);
  }
  ctxs.push(ctx);
  const r = ctx.row;
  log(
    `${t.name}: ${r.error ? `ERROR ${r.error}` : `opened ${N} in ${fmtInt(r.openMs)} ms, ${fmt(r.rssPerConn / 1024, 1)} KB RSS/conn, ${fmt(r.heapPerConn / 1024, 1)} KB heap/conn`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );
}
// Phase 2: saturation rounds interleaved across targets (round 1 of every target, then round 2…),
// so a target and its reference see the same load on the machine.
for (let k = 0; k < ROUNDS; k++) {
  for (const ctx of ctxs) {
    if (ctx.row.error) continue;
    try {
      await withTimeout(saturationRound(ctx, k), SAT_MS + 30_000, `${ctx.row.name} round ${k + 1}`);
      const r = ctx.row.rounds.at(-1);
      log(
        `${ctx.row.name} round ${k + 1}: ${fmtInt(r.dps)} deliveries/s, ${fmt(r.cpuPerDelivery)} µs CPU/delivery (server ${fmt(r.serverCpuPct, 0)}%, subs ${fmt(r.subsCpuPct, 0)}%, host ${fmt(r.hostBusyPct, 0)}%); p50/p99 ${fmt(ctx.row.latRounds.at(-1).p50)}/${fmt(ctx.row.latRounds.at(-1).p99)} ms @${RATE}/s (server ${fmt(ctx.row.latRounds.at(-1).cpuPerDelivery)} µs CPU/delivery, ${fmt(ctx.row.latRounds.at(-1).serverCpuPct, 0)}%)`,
      );
    } catch (e) {
      ctx.row.error = e.message;
      log(`${ctx.row.name}: ERROR ${e.message}`);
    }
  }
}
// Phase 3: delivery checks, processes down.
const rows = [];
for (const ctx of ctxs) {
  const row = await finishTarget(ctx);
  rows.push(row);
  if (!row.error && !row.ok)
    log(
      `FAIL ${row.name}: every subscriber did not get every sequence number exactly once: ${JSON.stringify(row.check)}`,
    );
}
for (const c of live) c.kill('SIGKILL');
{
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  for (const r of rows) r.refRow = r.ref ? byName[r.ref] : undefined;
}

// Phase 4: scale. SCALE_N connections per WebSocket target and SCALE_HTTP_N per HTTP target on
// one server process (each target alone, our rows with @push/client): connect rate, idle memory
// and idle CPU, latency at SCALE_RATE msg/s across all of them and the delivery check. Bounded:
// each target has SCALE_TIMEOUT_MS.
const scaleRows = [];
if (SCALE_N > 0) {
  log(
    `scale: open-file limit ${fdLimit}, ephemeral ports ${portRange.low}-${portRange.high} (${fmtInt(portRange.size)} per destination address and port)`,
  );
  for (const name of SCALE_TARGETS) {
    const t = ALL.find((x) => x.name === name);
    if (!t) {
      log(`scale: unknown target ${name}, skipped`);
      continue;
    }
    const plan = scalePlan(t);
    const t0 = Date.now();
    log(
      `scale ${name}: ${fmtInt(plan.n)} connections${plan.n < plan.asked ? ` (asked ${fmtInt(plan.asked)}: ${plan.short})` : ''}, ${plan.procs} subscriber process(es), ${plan.listenPorts} listen port(s)`,
    );
    const prof = SCALE_CPU_PROF.includes(name)
      ? path.join(resultsDir, `${name}-scale.cpuprofile`)
      : undefined;
    const pending = (async () => {
      const ctx = await setupTarget(t, push ?? {}, { ...plan, scale: true });
      if (ctx.row.error) return ctx;
      ctx.subs.send({ cmd: 'lat' }); // drops the warm-up's samples
      await next(ctx.subs, 'lat', 10_000);
      if (prof) {
        ctx.server.send({ cmd: 'profile', on: true });
        await next(ctx.server, 'profile', 10_000);
      }
      let latRun;
      try {
        latRun = await ctx.run(
          { mode: 'rate', rate: SCALE_RATE, count: SCALE_COUNT, ph: 1 },
          (SCALE_COUNT / SCALE_RATE) * 1000 + 20_000,
        );
      } finally {
        // Also when the round failed: the profile then shows what kept the server busy.
        if (prof) {
          mkdirSync(resultsDir, { recursive: true });
          ctx.server.send({ cmd: 'profile', on: false, file: prof });
          await next(ctx.server, 'profile', 30_000);
          log(
            `scale ${name}: CPU profile of the ${SCALE_RATE} msg/s round in ${path.relative(rootDir, prof)}`,
          );
        }
      }
      ctx.last = latRun.last;
      ctx.subs.send({ cmd: 'lat' });
      const lat = await next(ctx.subs, 'lat', 20_000);
      Object.assign(ctx.row, {
        p50: lat.p50,
        p99: lat.p99,
        latCpuPerDelivery: cpuUs(latRun.cpu) / (SCALE_COUNT * plan.n),
        latDrained: latRun.drained,
        satDrained: true,
        latFds: latRun.fds,
      });
      return ctx;
    })();
    let ctx;
    try {
      ctx = await withTimeout(pending, SCALE_TIMEOUT_MS, `scale ${name}`);
    } catch (e) {
      ctx = { row: { ...t, error: e.message } };
      pending.then((c) => Promise.all([stop(c.subs), stop(c.server)])).catch(() => {});
    }
    const row = await finishTarget(ctx);
    Object.assign(row, {
      n: plan.n,
      asked: plan.asked,
      short: plan.short,
      procs: plan.procs,
      ref: SCALE_REF[name] ?? null,
    });
    scaleRows.push(row);
    log(
      `scale ${name}: ${row.error ? `ERROR ${row.error}` : `${fmtInt(plan.n / (row.openMs / 1000))} connections/s, ${fmt(row.rssPerConn / 1024, 1)} KB RSS/conn, ${fmt(row.heapPerConn / 1024, 1)} KB heap/conn, idle server CPU ${fmt(row.idleCpuPct, 1)}%, server fds ${row.serverFds} idle / ${row.latFds} after the ${SCALE_RATE}/s round, p50/p99 ${fmt(row.p50)}/${fmt(row.p99)} ms @${SCALE_RATE}/s, ${checkText(row)}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
  const byName = Object.fromEntries(scaleRows.map((r) => [r.name, r]));
  for (const r of scaleRows) r.refRow = r.ref ? byName[r.ref] : undefined;
}
for (const c of live) c.kill('SIGKILL');

function scaleTable(list) {
  return mdTable(list, [
    ...nameCols,
    ['connections', (r) => `${fmtInt(r.n)}${r.n < r.asked ? ` (of ${fmtInt(r.asked)} ‡)` : ''}`],
    ['subscriber processes', (r) => String(r.procs)],
    ['connect rate /s', (r) => fmtInt(r.n / (r.openMs / 1000))],
    ['server RSS MB', (r) => fmt(r.serverRss / 2 ** 20, 0)],
    ['idle server CPU %', 'idleCpuPct', 1],
    ['RSS KB/idle conn', (r) => fmt(r.rssPerConn / 1024, 1)],
    ['x ref', (r) => (r.refRow && !r.refRow.error ? ratio(r.rssPerConn, r.refRow.rssPerConn) : '—')],
    ['heap KB/idle conn', (r) => fmt(r.heapPerConn / 1024, 1)],
    ['x ref', (r) => (r.refRow && !r.refRow.error ? ratio(r.heapPerConn, r.refRow.heapPerConn) : '—')],
    [`p50 ms @${SCALE_RATE}/s`, 'p50', 2, true],
    [`p99 ms @${SCALE_RATE}/s`, 'p99', 2, true],
    [`server µs/dlv @${SCALE_RATE}/s`, 'latCpuPerDelivery', 2, true],
    ['check', checkText],
  ]);
}

const failed = [];
const targetsText = targetChecks(rows, failed);
const scaleFailures = scaleRows.filter((r) => r.error || !r.ok);
const scaleShort = scaleRows.filter((r) => r.n < r.asked);
for (const r of scaleRows.filter((x) => x.error || !x.ok)) failed.push(`scale ${r.name}`);

const cpu = os.cpus();
const md = `# Push bench — latest run

- Date: ${new Date().toISOString()}; duration ${((Date.now() - started) / 1000).toFixed(0)} s
- Machine: ${cpu[0]?.model ?? '?'} x ${cpu.length}, ${os.platform()} ${os.release()}, Node ${process.version}, open-file limit ${fdLimit}; load average at start ${loadAtStart}, machine busy ${busyBefore.toFixed(0)}% in the second before the run
- ${N} subscribers per target on one channel, all on 127.0.0.1; server and subscribers in separate processes; publisher inside the server process
- Our rows' subscribers are \`@push/client\` (built dist, defaults: acks on, resume on) forced to one transport; the floors' are the standard Node libraries (see the subscribers column)
- Headline = one message per tick. Saturation: closed loop, at most ${WINDOW} messages (${fmtInt(WINDOW * N)} deliveries) in flight, published one per event-loop turn; ${ROUNDS} rounds of ${SAT_MS} ms per target after ${WARMUP_MS} ms warm-up, rounds interleaved across targets; deliveries/s and the CPU % columns from the best round, CPU/delivery (server and client) the lowest round
- Latency: after each saturation round, ${LAT_COUNT} messages at ${RATE} msg/s; publish call -> subscriber receipt over all ${fmtInt(LAT_COUNT * N)} deliveries of the round; the round with the lowest p99 is shown
- Batched (separate table): after each latency round, ${BATCH_MS} ms of the same closed loop with the whole window published in one tick
- Memory: server process after global.gc(), before and after opening ${N} idle subscribed connections (the baseline is taken after 50 WebSocket or 5 HTTP subscribers came and went, so code compiled once per process is not counted per connection)${push ? `\n- @push/server from ${push.error ? `(not run: ${push.error})` : push.from}` : ''}
- Command: \`npm run bench\` (at the repository root${process.env.BENCH_TARGETS ? `; BENCH_TARGETS=${process.env.BENCH_TARGETS}` : ''})

## One message per tick (headline)

${headlineTable(rows)}

Ratios are to the \`ref\` row of the same run: the ws floor for websocket, Socket.IO and Faye rows, the SSE floor for eventsource rows, Socket.IO polling for our long-polling. \`x ref\` > 1 is worse for times, CPU and memory, better for deliveries/s.
† contended: in its best round neither the server nor the subscriber process got ${CONTENDED_PCT}% of a core (other work on the machine set the pace); its deliveries/s and latency say little, CPU/delivery and memory still hold.
server/client CPU µs/delivery: the process's CPU (user + system) over the saturation round / deliveries (lowest round); \`@20/s\`: the same over the latency round. CPU % columns: share of one core in the best saturation round. deliveries/frame or request: how many deliveries each WebSocket frame or HTTP poll/POST carried on average (SSE: —).

## Batched publishing (${WINDOW} messages per tick)

${batchTable(rows) || '(not run)'}

The same closed loop with the whole window published in one tick: @push/server then writes the messages of a tick as one frame per subscriber, the floors and Socket.IO one frame per message. Not a target; it shows what batching buys.
${
  scaleRows.length
    ? `
## Scale: ${fmtInt(SCALE_N)} WebSocket and ${fmtInt(SCALE_HTTP_N)} HTTP connections on one server process

${scaleTable(scaleRows)}

Each target alone on the machine (one server process, its subscribers split evenly over the subscriber processes shown), after the main run; ${SCALE_WARMUP_COUNT} warm-up messages then ${SCALE_COUNT} messages at ${SCALE_RATE} msg/s across all connections, p50/p99 over every delivery of them; memory as above with every connection open and idle; idle server CPU: the server's share of one core over ${SCALE_IDLE_MS / 1000} s with every connection open and nothing published (heartbeats, timers). Refs: the ws floor for websocket, the node:http SSE floor at the same size for every HTTP row (eventsource and iframe are streams like it; long-polling has no floor, so for it the SSE floor is the cost of one idle HTTP connection, and its latency a lower bound). Open-file limit ${fdLimit} (\`npm run bench\` raises it with \`ulimit -n\`, see README); ephemeral ports ${portRange.low}-${portRange.high}.${scaleShort.length ? `\n‡ fewer connections than asked: ${scaleShort[0].short} (the hard limit, \`ulimit -Hn\`, is what \`npm run bench\` could raise it to).` : ''}
`
    : ''
}
## Targets (issue 15)

${targetsText || '- (our server was not part of this run)'}
${scaleFailures.map((r) => `- FAIL scale ${r.name}: ${checkText(r)}`).join('\n')}
${scaleShort.map((r) => `- SHORT scale ${r.name}: ${fmtInt(r.n)} of the ${fmtInt(r.asked)} connections asked (${r.short}); not counted as a failure`).join('\n')}
`;

console.log(md);
mkdirSync(path.dirname(OUT_FILE), { recursive: true });
writeFileSync(OUT_FILE, md);
log(`wrote ${path.relative(rootDir, OUT_FILE)}`);
if (failed.length) {
  log(`FAIL: ${failed.length} target(s) or check(s) failed: ${failed.join('; ')}`);
  process.exit(1);
}
log('every target met, every delivery check ok');
process.exit(0);
