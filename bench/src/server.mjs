// Server child process: one target on 127.0.0.1 with the publisher inside this process.
// Measures its own CPU (process.cpuUsage) and memory (after global.gc) on request.
//
//   node --expose-gc server.mjs <target>
//
// The orchestrator drives it over IPC:
//   {cmd:'mem'}                                  -> {type:'mem', rss, heapUsed, ...}
//   {cmd:'run', mode:'window', window, ms, ph, perTick}   closed loop: at most `window` messages
//                                                published but not yet received by every subscriber,
//                                                at most `perTick` per event-loop turn (default: all)
//   {cmd:'run', mode:'rate', rate, count, ph}    open loop at a fixed rate
//   {cmd:'progress', upTo}                       every seq <= upTo has reached every subscriber
//   -> {type:'done', first, last, upTo, cpu, wallUs, drained}
//   {cmd:'cpu'}                                  -> {type:'cpu', cpu, t} (process.cpuUsage, nowUs)
//   {cmd:'profile', on:true} / {cmd:'profile', on:false, file}   V8 CPU profile of what runs in
//                                                between (inspector), written to `file`
//
// Environment: BENCH_MAX_CONNECTIONS (httpServer.maxConnections, default 10,000),
// BENCH_LISTEN_PORTS (default 1): how many ports to listen on; every extra port hands its sockets
// to the same HTTP server, so subscriber processes can spread over several (host, port) pairs
// when one pair's ephemeral source ports would not cover their connections.

import { readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { CHANNEL, MAXSEQ, nowUs, PAD, SIO_EVENT, SIO_ROOM } from './common.mjs';

const target = process.argv[2];
const LIFETIME_MS = Number(process.env.BENCH_SERVER_LIFETIME_MS ?? 120_000);
const DRAIN_TIMEOUT_MS = 10_000;

setTimeout(() => {
  console.error(`[server ${target}] lifetime exceeded, exiting`);
  process.exit(3);
}, LIFETIME_MS).unref();

const httpServer = http.createServer();
httpServer.keepAliveTimeout = 65_000;
httpServer.headersTimeout = 66_000;
httpServer.requestTimeout = 0;
httpServer.maxConnections = Number(process.env.BENCH_MAX_CONNECTIONS ?? 10_000);
const LISTEN_PORTS = Math.max(1, Number(process.env.BENCH_LISTEN_PORTS ?? 1));

/** Each target returns { path, publish(data) } and sets up its handlers on httpServer. */
const targets = {
  /** (a) The websocket floor: one pre-serialized buffer sent to every socket. */
  async ws() {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({
      server: httpServer,
      path: '/ws',
      perMessageDeflate: false,
      clientTracking: false,
    });
    const clients = new Set();
    wss.on('connection', (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => {});
    });
    return {
      path: '/ws',
      publish(data) {
        const buf = Buffer.from(JSON.stringify(data));
        for (const ws of clients) ws.send(buf, { binary: false });
      },
    };
  },

  /** (b) The SSE floor: node:http responses, one pre-serialized event written to each. */
  async sse() {
    const clients = new Set();
    httpServer.on('request', (req, res) => {
      if (req.url !== '/sse') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(':ok\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
    });
    return {
      path: '/sse',
      publish(data) {
        const buf = Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
        for (const res of clients) res.write(buf);
      },
    };
  },

  /** (c) Socket.IO 4, websocket transport only; subscribers join one room. */
  async 'sio-ws'() {
    return socketIo(['websocket']);
  },

  /** (c') Socket.IO 4, HTTP long-polling only: the long-polling reference. */
  async 'sio-polling'() {
    return socketIo(['polling']);
  },

  /** (d) Faye 1.4 (the Bayeux peer); the publisher is Faye's in-process client. */
  async faye() {
    const faye = (await import('faye')).default;
    const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 45 });
    bayeux.attach(httpServer);
    const client = bayeux.getClient();
    // Let the in-process client finish its handshake before the run, so that warm-up publishes
    // are not queued behind it.
    await client.publish('/warmup', { hello: true });
    return {
      path: '/faye',
      publish(data) {
        client.publish(CHANNEL, data);
      },
    };
  },

  /** (e) Our @push/server (every transport on /push). */
  async push() {
    const mod = await loadPush();
    // Every bench client comes from 127.0.0.1: the per-source handshake rate would count them
    // as one attacker.
    const push = mod.createPushServer({
      server: httpServer,
      path: '/push',
      limits: { handshakesPerMinute: 1_000_000 },
    });
    return {
      path: '/push',
      publish(data) {
        const r = push.publish(CHANNEL, data);
        if (r && typeof r.catch === 'function') r.catch((e) => console.error('[push publish]', e));
      },
    };
  },
};

async function socketIo(transports) {
  const { Server } = await import('socket.io');
  const io = new Server(httpServer, { transports, serveClient: false, cors: undefined });
  io.on('connection', (socket) => socket.join(SIO_ROOM));
  return {
    path: '/socket.io/',
    publish(data) {
      io.to(SIO_ROOM).emit(SIO_EVENT, data);
    },
  };
}

/** @push/server from its built dist, or (BENCH_PUSH_SOURCE=1 / no dist) the esbuild bundle of its sources. */
async function loadPush() {
  const bundle = process.env.BENCH_PUSH_BUNDLE;
  if (bundle) return import(bundle);
  return import('@push/server');
}

// ---------------------------------------------------------------------------------------------

let seq = 0;
let upTo = 0;
let active = null;

function payload(ph) {
  seq++;
  return { s: seq, t: nowUs(), ph, p: PAD };
}

function startRun(t, msg) {
  const first = seq + 1;
  const cpu0 = process.cpuUsage();
  const t0 = nowUs();
  let publishing = true;
  let timer;
  const run = { pump: () => {}, checkDrained: () => {} };
  active = run;

  const end = () => {
    publishing = false;
    clearInterval(timer);
    const last = seq;
    const deadline = setTimeout(() => done(false), DRAIN_TIMEOUT_MS);
    run.pump = () => {};
    run.checkDrained = () => {
      if (upTo >= last) {
        clearTimeout(deadline);
        done(true);
      }
    };
    run.checkDrained();
    function done(drained) {
      if (active !== run) return;
      active = null;
      const cpu = process.cpuUsage(cpu0);
      process.send({ type: 'done', first, last, upTo, cpu, wallUs: nowUs() - t0, drained, fds: openFds() });
    }
  };

  if (msg.mode === 'window') {
    // perTick: messages published per event-loop turn. 1 (the headline) publishes one, then
    // yields (setImmediate) before the next, so no two messages share a tick (and a frame);
    // Infinity (the batched row) fills the whole window in one tick.
    const perTick = msg.perTick ?? Number.POSITIVE_INFINITY;
    let scheduled = false;
    const room = () => publishing && seq - upTo < msg.window && seq < MAXSEQ;
    const tick = () => {
      scheduled = false;
      let k = 0;
      while (k < perTick && room()) {
        t.publish(payload(msg.ph));
        k++;
      }
      if (k === perTick && room()) {
        scheduled = true;
        setImmediate(tick);
      }
    };
    // A progress report tops the window up on a turn of its own too: several reports read in one
    // go (IPC delivers them in one turn when the subscribers are ahead) each calling tick() would
    // publish several messages in one turn, which @push/server then sends as one frame.
    run.pump = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(tick);
    };
    setTimeout(end, msg.ms);
    run.pump();
  } else {
    let sent = 0;
    timer = setInterval(() => {
      if (sent >= msg.count || seq >= MAXSEQ) return end();
      sent++;
      t.publish(payload(msg.ph));
    }, 1000 / msg.rate);
  }
}

const setup = targets[target];
if (!setup) {
  console.error(`unknown target ${target}`);
  process.exit(2);
}
const t = await setup();
await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const ports = [httpServer.address().port];
for (let k = 1; k < LISTEN_PORTS; k++) {
  // Same options the HTTP server gives its own sockets (node:http sets no-delay by default).
  const extra = net.createServer({ noDelay: true }, (socket) => httpServer.emit('connection', socket));
  await new Promise((resolve) => extra.listen(0, '127.0.0.1', resolve));
  ports.push(extra.address().port);
}

/** Open file descriptors of this process (sockets included), for the scale phase's log. */
function openFds() {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Number.NaN;
  }
}

let profiler;

process.on('message', async (msg) => {
  if (msg.cmd === 'progress') {
    if (msg.upTo > upTo) upTo = msg.upTo;
    active?.pump();
    active?.checkDrained();
  } else if (msg.cmd === 'mem') {
    global.gc?.();
    global.gc?.();
    const m = process.memoryUsage();
    process.send({
      type: 'mem',
      fds: openFds(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      gc: typeof global.gc === 'function',
    });
  } else if (msg.cmd === 'snapshot') {
    const { writeHeapSnapshot } = await import('node:v8');
    writeHeapSnapshot(msg.file);
    process.send({ type: 'snapshot' });
  } else if (msg.cmd === 'cpu') {
    process.send({ type: 'cpu', cpu: process.cpuUsage(), t: nowUs() });
  } else if (msg.cmd === 'profile') {
    if (msg.on) {
      const { Session } = await import('node:inspector/promises');
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      process.send({ type: 'profile' });
    } else {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(msg.file, JSON.stringify(profile));
      process.send({ type: 'profile' });
    }
  } else if (msg.cmd === 'run') {
    startRun(t, msg);
  } else if (msg.cmd === 'close') {
    process.exit(0);
  }
});

process.send({ type: 'ready', port: ports[0], ports, path: t.path });
