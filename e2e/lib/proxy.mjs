// Fault-injecting HTTP/WebSocket proxy on 127.0.0.1, placed in front of the harness server.
//
// Modes:
//   pass       forward everything (HTTP and WebSocket upgrades) untouched
//   refuse-ws  answer every WebSocket upgrade with 403 and close; HTTP passes
//   silent-ws  answer upgrades with a valid 101, then never send a byte (and swallow the client's);
//              HTTP passes
//   buffer     hold every HTTP response until the upstream response is complete, then send it with
//              a Content-Length (no streaming); upgrades refused, like a buffering reverse proxy
//   cut        forward, but kill connections under the push path at random moments: every
//              WebSocket and every request gets a random lifetime, after which both sides are
//              destroyed (request lost, or processed but its response lost, or stream cut midway),
//              and 15% of responses are dropped whole after the server produced them
//   blackhole  a peer that vanished without a FIN (tab killed, network gone): push connections
//              already open are frozen (nothing forwarded either way, neither side closed, even when
//              the browser gives up on its side), new ones are accepted and never answered
//
// The mode can change while the proxy runs (`setMode`, optionally cutting the connections already
// open, as when a buffering proxy appears on the path), and `setStall` holds the start of each push
// response (and each WebSocket upgrade) for a random time: a slow or stalling network.
// With `controlPath` (e.g. '/__proxy'), a page loaded through the proxy drives it on its own origin:
// `GET {controlPath}/mode?set=buffer&cut=1` and `GET {controlPath}/stats` (stats plus `wire`: what
// reached the server per kind — WebSocket upgrades, event streams, POSTs).
//
// Requests outside `pushPath` (the test pages and bundles) are never faulted, except by `buffer`,
// which buffers everything (harmless for static files).
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

/** The proxy's listen backlog (Node's default is 511; the kernel caps it at net.core.somaxconn). */
export const ACCEPT_BACKLOG = 4096;

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Small deterministic PRNG (mulberry32) so a run's fault schedule can be replayed by seed. */
export function createRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function filterHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  }
  return out;
}

/**
 * @param {{ mode: 'pass'|'refuse-ws'|'silent-ws'|'buffer'|'cut'|'blackhole', target: () => {host: string, port: number},
 *           pushPath?: string, seed?: number, cut?: { minMs: number, maxMs: number, probability: number },
 *           maxSockets?: number }} options
 */
export async function startProxy(options) {
  const { target } = options;
  let mode = options.mode;
  let stallMs = 0;
  const pushPath = options.pushPath ?? '/push';
  let seed = options.seed ?? Date.now() & 0xffffffff;
  let rng = createRng(seed);
  const cutCfg = { minMs: 30, maxMs: 400, probability: 1, dropResponse: 0.15, ...(options.cut ?? {}) };
  let cutting = true;
  // Set by setCutting(true, { dropNext: true }): the next push response is dropped whatever the
  // dice say, so a fault window always holds at least one fault even for a client whose requests
  // all finish faster than the shortest cut (plain polling after the client adapted to the cuts).
  let dropNext = false;
  const stats = {
    requests: 0,
    upgrades: 0,
    refused: 0,
    silenced: 0,
    buffered: 0,
    cuts: 0,
    errors: 0,
    stalls: 0,
    blackholed: 0,
  };
  /** Connections under the push path (WebSockets and requests), for setMode's cutExisting. */
  const pushSockets = new Set();
  /** Freezes of the push connections in flight, called when the mode turns to `blackhole`. */
  const freezers = new Set();
  const discard = () => {};
  const sockets = new Set();
  // Upstream sockets at once (held connects and streams each keep one): `maxSockets`, default 64;
  // a run with hundreds of streaming clients raises it, or streams past it wait in the agent's queue.
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });

  const isPush = (url) =>
    url === pushPath || url.startsWith(`${pushPath}/`) || url.startsWith(`${pushPath}?`);
  const lifetime = () => cutCfg.minMs + rng() * (cutCfg.maxMs - cutCfg.minMs);

  /** What the proxy forwarded to the server under the push path, per kind. */
  const wire = { websockets: 0, eventStreams: 0, posts: 0, gets: 0 };
  const controlPath = options.controlPath;
  function control(req, res) {
    const url = new URL(req.url, 'http://proxy');
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === `${controlPath}/mode`) {
      const next = url.searchParams.get('set');
      if (!['pass', 'refuse-ws', 'silent-ws', 'buffer', 'cut', 'blackhole'].includes(next))
        return reply(400, { error: `unknown mode ${next}` });
      // This request's own connection is not cut: a keep-alive socket that carried push requests
      // before (the page's fetches share it) would take the control reply down with it (WebKit:
      // "TypeError: Load failed" in switch-buffering, clean-clone run).
      pushSockets.delete(req.socket);
      proxy.setMode(next, { cutExisting: url.searchParams.get('cut') === '1' });
      return reply(200, { ok: true, mode });
    }
    if (url.pathname === `${controlPath}/stats`) return reply(200, { ...stats, wire: { ...wire }, mode });
    return reply(404, { error: `unknown ${url.pathname}` });
  }

  const server = http.createServer((req, res) => {
    if (controlPath && req.url?.startsWith(`${controlPath}/`)) return control(req, res);
    stats.requests++;
    if (mode === 'blackhole' && isPush(req.url)) {
      // Never forwarded, never answered; the browser's own deadline is all that ends it.
      stats.blackholed++;
      pushSockets.add(req.socket);
      req.socket.once('close', () => pushSockets.delete(req.socket));
      req.resume();
      return;
    }
    if (isPush(req.url)) {
      if (req.method === 'POST') wire.posts++;
      else if (String(req.headers.accept ?? '').includes('text/event-stream')) wire.eventStreams++;
      else wire.gets++;
    }
    if (isPush(req.url) && !pushSockets.has(req.socket)) {
      const socket = req.socket;
      pushSockets.add(socket);
      socket.once('close', () => pushSockets.delete(socket));
    }
    const { host, port } = target();
    const upstream = http.request({
      host,
      port,
      method: req.method,
      path: req.url,
      headers: { ...filterHeaders(req.headers), host: `${host}:${port}` },
      agent,
    });
    let cutTimer;
    // Frozen by a switch to blackhole: the upstream is drained and kept open, the client gets nothing.
    let frozen = false;
    const freeze = () => {
      frozen = true;
    };
    if (isPush(req.url)) freezers.add(freeze);
    const cleanup = () => {
      clearTimeout(cutTimer);
      freezers.delete(freeze);
    };
    if (mode === 'cut' && cutting && isPush(req.url) && rng() < cutCfg.probability) {
      cutTimer = setTimeout(() => {
        stats.cuts++;
        upstream.destroy();
        req.socket.destroy();
      }, lifetime());
    }
    upstream.on('response', (up) => {
      if (stallMs > 0 && isPush(req.url)) {
        stats.stalls++;
        up.pause();
        setTimeout(() => {
          up.resume();
          respond(up);
        }, rng() * stallMs);
      } else respond(up);
    });
    const respond = (up) => {
      if (frozen) return up.resume();
      if (mode === 'cut' && cutting && isPush(req.url) && (dropNext || rng() < cutCfg.dropResponse)) {
        dropNext = false;
        // The server handled the request, but its response never reaches the client.
        stats.cuts++;
        cleanup();
        up.destroy();
        req.socket.destroy();
        return;
      }
      const headers = filterHeaders(up.headers);
      if (mode === 'buffer') {
        const chunks = [];
        up.on('data', (c) => chunks.push(c));
        up.on('end', () => {
          stats.buffered++;
          const body = Buffer.concat(chunks);
          delete headers['content-length'];
          res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
          res.end(body);
          cleanup();
        });
        up.on('error', () => res.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 502, headers);
      // Flush headers at once so streaming responses (SSE, iframe) start immediately.
      res.flushHeaders();
      up.on('data', (c) => frozen || res.write(c));
      up.on('end', () => {
        if (!frozen) res.end();
        cleanup();
      });
      up.on('error', () => res.destroy());
    };
    upstream.on('error', () => {
      stats.errors++;
      cleanup();
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('proxy: upstream error');
      } else res.destroy();
    });
    req.on('aborted', () => {
      if (frozen) return;
      cleanup();
      upstream.destroy();
    });
    res.on('close', () => {
      if (frozen) return;
      // Client went away before the response completed: drop upstream too.
      if (!res.writableFinished) upstream.destroy();
      cleanup();
    });
    req.pipe(upstream);
  });

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('upgrade', (req, socket, head) => {
    stats.upgrades++;
    socket.on('error', () => {});
    pushSockets.add(socket);
    socket.once('close', () => pushSockets.delete(socket));
    if (stallMs > 0) {
      stats.stalls++;
      const wait = rng() * stallMs;
      setTimeout(() => socket.destroyed || upgrade(req, socket, head), wait);
      return;
    }
    upgrade(req, socket, head);
  });

  function upgrade(req, socket, head) {
    if (mode === 'blackhole') {
      stats.blackholed++;
      socket.on('data', discard); // no 101, no close: the browser's deadline ends it
      return;
    }
    if (mode === 'refuse-ws' || mode === 'buffer') {
      stats.refused++;
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nWebSocket not here.\n',
      );
      return;
    }
    if (mode === 'silent-ws') {
      stats.silenced++;
      const key = req.headers['sec-websocket-key'];
      const accept = createHash('sha1').update(`${key}${WS_GUID}`).digest('base64');
      const protocols = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const lines = [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Accept: ${accept}`,
      ];
      if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols[0]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      socket.on('data', () => {}); // swallow everything, answer nothing
      return;
    }
    const { host, port } = target();
    wire.websockets++;
    const up = net.connect(port, host);
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => socket.destroy());
    let frozen = false;
    const freeze = () => {
      frozen = true;
      up.unpipe(socket);
      socket.unpipe(up);
      up.on('data', discard);
      socket.on('data', discard);
    };
    freezers.add(freeze);
    socket.on('close', () => {
      freezers.delete(freeze);
      if (!frozen) up.destroy();
    });
    up.on('connect', () => {
      if (frozen) return;
      let head0 = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        const value = name.toLowerCase() === 'host' ? `${host}:${port}` : req.rawHeaders[i + 1];
        head0 += `${name}: ${value}\r\n`;
      }
      up.write(`${head0}\r\n`);
      if (head && head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    if (mode === 'cut' && cutting && isPush(req.url ?? '')) {
      const timer = setTimeout(() => {
        stats.cuts++;
        up.destroy();
        socket.destroy();
      }, lifetime());
      socket.on('close', () => clearTimeout(timer));
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue, as a production proxy has: with Node's default (511) a reconnect storm
    // of the full chaos run overflowed the kernel's listen queue (21k drops a run) and SYN
    // retransmits held requests 10-40 s, so the run measured the proxy's accept loop.
    server.listen({ port: 0, host: '127.0.0.1', backlog: ACCEPT_BACKLOG }, resolve);
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const proxy = {
    get mode() {
      return mode;
    },
    port,
    url: `http://127.0.0.1:${port}`,
    stats,
    get seed() {
      return seed;
    },
    /**
     * cut mode: switch fault injection on or off (connections already doomed still die); with
     * `seed`, the fault schedule restarts from that seed (one case replays with --seed).
     */
    /** @param {boolean} on @param {{ dropNext?: boolean, seed?: number }} [opts] */
    setCutting(on, opts = {}) {
      if (typeof opts.seed === 'number') {
        seed = opts.seed >>> 0;
        rng = createRng(seed);
      }
      cutting = !!on;
      dropNext = cutting && !!opts.dropNext;
    },
    /**
     * Changes the mode from now on; with `cutExisting`, the push connections already open (streams,
     * WebSockets, held requests) are destroyed, as when a new proxy appears on the network path.
     * Turning to `blackhole` freezes the push connections already open (see the modes above).
     * @param {'pass'|'refuse-ws'|'silent-ws'|'buffer'|'cut'|'blackhole'} next @param {{ cutExisting?: boolean }} [opts]
     */
    setMode(next, opts = {}) {
      mode = next;
      if (next === 'blackhole') {
        for (const freeze of freezers) freeze();
        freezers.clear();
      }
      if (opts.cutExisting) {
        for (const socket of pushSockets) {
          stats.cuts++;
          socket.destroy();
        }
      }
    },
    /** Holds each push response (and upgrade) for a random 0..ms before it starts; 0 turns it off. */
    setStall(ms) {
      stallMs = ms;
    },
    resetStats() {
      for (const k of Object.keys(stats)) stats[k] = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise((r) => server.close(() => r()));
    },
  };
  return proxy;
}
