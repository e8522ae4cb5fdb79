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

import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './common.mjs';

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
const warmSubscribers = (kind) => (['ws-raw', 'sio-ws', 'bayeux-ws'].includes(kind) ? 50 : 5);
const SAT_MS = Number(process.env.BENCH_SATURATION_MS ?? 1500);
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
const TOTAL_TIMEOUT_MS = 9 * 60_000;

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
  {
    name: 'sio-ws',
    label: 'Socket.IO 4.8.4',
    server: 'sio-ws',
    kind: 'sio-ws',
    transport: 'websocket',
    ref: 'ws',
  },
  {
    name: 'sio-polling',
    label: 'Socket.IO 4.8.4',
    server: 'sio-polling',
    kind: 'sio-polling',
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
  {
    name: 'push-ws',
    label: '@push/server',
    server: 'push',
    kind: 'bayeux-ws',
    transport: 'websocket',
    ref: 'ws',
    ours: true,
  },
  {
    name: 'push-sse',
    label: '@push/server',
    server: 'push',
    kind: 'bayeux-sse',
    transport: 'eventsource',
    ref: 'sse',
    ours: true,
  },
  {
    name: 'push-lp',
    label: '@push/server',
    server: 'push',
    kind: 'bayeux-lp',
    transport: 'long-polling',
    ref: 'sio-polling',
    ours: true,
  },
  // Extra references, not run by default (BENCH_TARGETS=...,faye-lp,faye-sse).
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

async function stop(child) {
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
 */
async function setupTarget(t, push) {
  const ctx = { row: { ...t }, server: undefined, subs: undefined };
  const { row } = ctx;
  if (t.server === 'push' && push.error) {
    row.error = `not run: ${push.error}`;
    return ctx;
  }
  const execArgv = ['--expose-gc'];
  if (process.env.BENCH_CPU_PROF === t.name) {
    mkdirSync(resultsDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${resultsDir}`, `--cpu-prof-name=${t.name}.cpuprofile`);
  }
  const server = spawn('server.mjs', [t.server], {
    execArgv,
    env: { ...CHILD_ENV, ...(t.server === 'push' ? push.env : {}) },
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

  const subs = spawn('subs.mjs', [t.kind, String(ready.port), String(N), subPath], { env: CHILD_ENV });
  ctx.subs = subs;
  subs.on('message', (m) => {
    if (m.type === 'progress' && server.connected) server.send({ cmd: 'progress', upTo: m.upTo });
  });
  const sready = await next(subs, 'ready', 60_000);
  row.openMs = sready.openMs;
  if (sready.failed > 0)
    throw new Error(`${sready.failed}/${N} subscribers failed to open: ${sready.errorSamples.join(' | ')}`);

  await sleep(IDLE_SETTLE_MS);
  server.send({ cmd: 'mem' });
  const mem1 = await next(server, 'mem', 5000);
  if (process.env.BENCH_HEAP_SNAPSHOT === t.name) {
    mkdirSync(resultsDir, { recursive: true });
    server.send({ cmd: 'snapshot', file: path.join(resultsDir, `${t.name}.heapsnapshot`) });
    await next(server, 'snapshot', 60_000);
  }
  row.rssPerConn = (mem1.rss - mem0.rss) / N;
  row.heapPerConn = (mem1.heapUsed - mem0.heapUsed) / N;

  ctx.run = async (msg, ms) => {
    server.send({ cmd: 'run', ...msg });
    return next(server, 'done', ms);
  };
  // Warm-up (JIT, first-publish setup); unmeasured.
  const warm = await ctx.run({ mode: 'window', window: WINDOW, ms: WARMUP_MS, ph: 0 }, WARMUP_MS + 15_000);
  ctx.last = warm.last;
  row.latRounds = [];
  row.rounds = [];
  return ctx;
}

/** One closed-loop saturation round of a target (phase 2, interleaved across targets). */
async function saturationRound(ctx, k) {
  const { row, subs } = ctx;
  subs.send({ cmd: 'mark', name: `sat${k}` });
  const m0 = await next(subs, 'mark', 5000);
  const host0 = hostCpu();
  const sat = await ctx.run({ mode: 'window', window: WINDOW, ms: SAT_MS, ph: 2 }, SAT_MS + 15_000);
  subs.send({ cmd: 'mark', name: `sat${k}end` });
  const m1 = await next(subs, 'mark', 5000);
  const host1 = hostCpu();
  ctx.last = sat.last;
  const msgs = Math.max(0, Math.min(sat.upTo, sat.last) - sat.first + 1);
  const deliveries = msgs * N;
  row.rounds.push({
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
  });
  if (!sat.drained) throw new Error(`saturation round ${k + 1} did not drain within ${DRAIN_NOTE}`);
  // Latency round: LAT_COUNT messages at RATE msg/s (open loop).
  const latRun = await ctx.run(
    { mode: 'rate', rate: RATE, count: LAT_COUNT, ph: 1 },
    (LAT_COUNT / RATE) * 1000 + 15_000,
  );
  ctx.last = latRun.last;
  subs.send({ cmd: 'lat' });
  const lat = await next(subs, 'lat', 5000);
  row.latRounds.push({
    ...lat,
    drained: latRun.drained,
    cpuPerDelivery: cpuUs(latRun.cpu) / (LAT_COUNT * N),
    serverCpuPct: (100 * cpuUs(latRun.cpu)) / latRun.wallUs,
  });
  if (!latRun.drained) throw new Error(`latency round ${k + 1} did not drain within ${DRAIN_NOTE}`);
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
      row.satDrained = row.rounds.every((r) => r.drained);
      // Neither the server nor the subscribers had a full core in the best round: other work on
      // the machine set the pace, so deliveries/s (and latency) of this row say little.
      row.contended = Math.max(best.serverCpuPct, best.subsCpuPct) < CONTENDED_PCT;
    }
    if (row.latRounds?.length) {
      // Same reasoning for latency: the round with the lowest p99 counts.
      const bestLat = row.latRounds.reduce((a, b) => (b.p99 < a.p99 ? b : a));
      row.p50 = bestLat.p50;
      row.p99 = bestLat.p99;
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
        rep.errors === 0 &&
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

function table(rows) {
  const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
  const head = [
    'target',
    'transport',
    'ref',
    'deliveries/s',
    'x ref',
    'server CPU µs/delivery',
    'x ref',
    'p50 ms @20/s',
    'p99 ms @20/s',
    'p99 x ref',
    'RSS KB/idle conn',
    'x ref',
    'heap KB/idle conn',
    'x ref',
    'server CPU %',
    'subs CPU %',
    'subs CPU µs/delivery',
    'deliveries/frame or request',
    'host busy %',
    'check',
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i < 3 || i === head.length - 1 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of rows) {
    const ref = r.ref ? byName[r.ref] : undefined;
    const refOk = ref && !ref.error;
    const check = r.error
      ? `ERROR: ${r.error.replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 160)}`
      : r.ok
        ? `ok (${fmtInt(r.check.total)} deliveries)`
        : `FAIL: missing ${r.check.missing} (${r.check.subsWithMissing} subs), dups ${r.check.dups}, out-of-order ${r.check.outOfOrder}, bad ${r.check.badMessages}, errors ${r.check.errors}${r.satDrained ? '' : ', not drained'}`;
    const rr = (k) => (refOk ? ratio(r[k], ref[k]) : '—');
    lines.push(
      `| ${[
        `${r.label}${r.ours ? ' **(ours)**' : ''}`,
        r.transport,
        r.ref ? r.ref : 'floor',
        `${fmtInt(r.dps)}${r.contended ? ' †' : ''}`,
        rr('dps'),
        fmt(r.cpuPerDelivery),
        rr('cpuPerDelivery'),
        fmt(r.p50),
        fmt(r.p99),
        rr('p99'),
        fmt(r.rssPerConn / 1024, 1),
        rr('rssPerConn'),
        fmt(r.heapPerConn / 1024, 1),
        rr('heapPerConn'),
        fmt(r.serverCpuPct, 0),
        fmt(r.subsCpuPct, 0),
        fmt(r.subsCpuPerDelivery),
        fmt(r.perRequest, 1),
        fmt(r.hostBusyPct, 0),
        check,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** The issue's targets for our server, as PASS/FAIL lines. */
function targetChecks(rows) {
  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const out = [];
  const check = (label, name, key, refName, op, bound) => {
    const r = by[name];
    const ref = by[refName];
    if (!r || !ref) return;
    if (r.error || ref.error || !Number.isFinite(r[key]) || !Number.isFinite(ref[key])) {
      out.push(
        `- N/A  ${label}: ${r.error ? `${name} did not run` : ref.error ? `${refName} did not run` : 'no value'}`,
      );
      return;
    }
    const x = r[key] / ref[key];
    const pass = op === '>=' ? x >= bound : x <= bound;
    if ((key === 'dps' || key === 'p99') && (r.contended || ref.contended)) {
      out.push(
        `- UNRELIABLE ${label}: ${x.toFixed(3)}x ${refName} (target ${op} ${bound}x), but ${[r, ref]
          .filter((q) => q.contended)
          .map((q) => q.name)
          .join(' and ')} ran on a machine busy with other work (†)`,
      );
      return;
    }
    out.push(`- ${pass ? 'PASS' : 'FAIL'} ${label}: ${x.toFixed(3)}x ${refName} (target ${op} ${bound}x)`);
  };
  check('websocket deliveries/s', 'push-ws', 'dps', 'ws', '>=', 0.85);
  check('websocket server CPU/delivery', 'push-ws', 'cpuPerDelivery', 'ws', '<=', 1.2);
  check('websocket RSS/idle conn', 'push-ws', 'rssPerConn', 'ws', '<=', 1.5);
  check('websocket heap/idle conn', 'push-ws', 'heapPerConn', 'ws', '<=', 1.5);
  check('websocket p99 @20 msg/s', 'push-ws', 'p99', 'ws', '<=', 1.5);
  check('eventsource deliveries/s', 'push-sse', 'dps', 'sse', '>=', 0.85);
  check('eventsource RSS/idle conn', 'push-sse', 'rssPerConn', 'sse', '<=', 1.5);
  check('eventsource heap/idle conn', 'push-sse', 'heapPerConn', 'sse', '<=', 1.5);
  check('eventsource p99 @20 msg/s', 'push-sse', 'p99', 'sse', '<=', 1.5);
  check('long-polling deliveries/s (same window)', 'push-lp', 'dps', 'sio-polling', '>=', 1.0);
  for (const r of rows) {
    if (r.ours && !r.error && !r.ok) out.push(`- FAIL ${r.name}: delivery check failed (see check column)`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

let fdLimit = 'unknown';
try {
  fdLimit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
} catch {}
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
if (TARGETS.some((t) => t.server === 'push')) {
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

const cpu = os.cpus();
const md = `# Push bench — latest run

- Date: ${new Date().toISOString()}; duration ${((Date.now() - started) / 1000).toFixed(0)} s
- Machine: ${cpu[0]?.model ?? '?'} x ${cpu.length}, ${os.platform()} ${os.release()}, Node ${process.version}, open-file limit ${fdLimit}; load average at start ${loadAtStart}, machine busy ${busyBefore.toFixed(0)}% in the second before the run
- ${N} subscribers per target on one channel, all on 127.0.0.1; server and subscribers in separate processes; publisher inside the server process
- Saturation: closed loop, window ${WINDOW} messages (${fmtInt(WINDOW * N)} deliveries) in flight; ${ROUNDS} rounds of ${SAT_MS} ms per target after ${WARMUP_MS} ms warm-up, rounds interleaved across targets; deliveries/s and the CPU % columns from the best round, CPU/delivery the lowest round
- Latency: after each saturation round, ${LAT_COUNT} messages at ${RATE} msg/s; publish call -> subscriber receipt over all ${fmtInt(LAT_COUNT * N)} deliveries of the round; the round with the lowest p99 is shown
- Memory: server process after global.gc(), before and after opening ${N} idle subscribed connections (the baseline is taken after 50 WebSocket or 5 HTTP subscribers came and went, so code compiled once per process is not counted per connection)${push ? `\n- @push/server from ${push.error ? `(not run: ${push.error})` : push.from}` : ''}
- Command: \`npm run bench\` (at the repository root${process.env.BENCH_TARGETS ? `; BENCH_TARGETS=${process.env.BENCH_TARGETS}` : ''})

${table(rows)}

Ratios are to the \`ref\` row of the same run: the ws floor for websocket, Socket.IO and Faye rows, the SSE floor for eventsource rows, Socket.IO polling for our long-polling.
† contended: in its best round neither the server nor the subscriber process got ${CONTENDED_PCT}% of a core (other work on the machine set the pace); its deliveries/s and latency say little, CPU/delivery and memory still hold. Rerun on a quiet machine.
CPU % columns: share of one core used by the server / subscriber process in the best saturation round; a subscriber process near 100% means the clients, not the server, set the pace (then compare server CPU µs/delivery). host busy %: the whole machine, all cores. deliveries/frame or request: how many deliveries each WebSocket frame or HTTP poll/POST carried on average in the best round (batching: the ws floor and Socket.IO send one frame per message; Bayeux sends message arrays, and @push/server puts the messages published in one tick into one frame per subscriber, built once and shared).

## Targets (issue 4)

${targetChecks(rows) || '- (our server was not part of this run)'}
`;

console.log(md);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, 'latest.md'), md);
log(`wrote ${path.relative(rootDir, path.join(resultsDir, 'latest.md'))}`);
const failed = rows.filter((r) => !r.error && !r.ok);
if (failed.length) log(`FAIL: delivery check failed for ${failed.map((r) => r.name).join(', ')}`);
process.exit(0);
