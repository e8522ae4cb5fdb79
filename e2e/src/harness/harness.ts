// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
// The e2e harness server: a node http server with @push/server attached at /push, the test pages
// and bundles, a ticker channel, and control endpoints (/e2e-ctl/*, CORS *) through which the
// in-page scenarios make the server publish, stream and disconnect clients.
//
// Run as a child process by lib/stack.mjs (so it can be restarted). Env:
//   E2E_PORT          port to listen on (0: any; printed as "E2E_HARNESS_LISTENING <port>")
//   E2E_ROOT          the e2e/ folder (pages in static/, bundles in .build/)
//   E2E_HISTORY_FILE  when set, history lives in this file and survives restarts (file broker)
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { createPushServer, type PushServerOptions } from '@push/server';
import { createFileBroker } from './file-broker.js';

const port = Number(process.env.E2E_PORT ?? 0);
const root = process.env.E2E_ROOT ?? process.cwd();
const buildDir = process.env.E2E_BUILD_DIR ?? join(root, 'node_modules', '.cache', 'push-e2e');
const historyFile = process.env.E2E_HISTORY_FILE;
const PATH = '/push';

// Our own routes (pages, bundles, /e2e-ctl/*) are the server's request listener *before*
// createPushServer attaches: it then hands us every request outside its path.
const httpServer = http.createServer((req, res) => route(req, res));

const options: PushServerOptions = {
  server: httpServer,
  path: PATH,
  // Larger than the default 100 so the resume scenarios test resume, not the window size.
  history: { maxCount: 5000 },
  // Stream heartbeats every second so the pages' 2.5 s stream idle timeout (see e2e-page.ts) finds a
  // reset forever-iframe in Chromium (which fires no event for it) well inside a scenario's budget.
  heartbeatInterval: 1000,
};
if (historyFile) options.broker = createFileBroker(historyFile);
const push = createPushServer(options);

/**
 * A second server on the same HTTP server, for the durability scenarios (issue 14), with a bound
 * short enough to observe inside a case: a session whose client vanished without a FIN ends within
 * `timeout` + `sessionTimeout` + one sweep (`min(sessionTimeout / 4, 5 s)`), so presence loses the
 * member then; and a history window so small that a cut of a few seconds exceeds it.
 * Reached at `/push-tight`, its controls at `/e2e-ctl/tight/*`.
 */
const TIGHT_PATH = '/push-tight';
const TIGHT = { timeout: 1000, sessionTimeout: 3000, historyMaxCount: 10 } as const;
const tight = createPushServer({
  server: httpServer,
  path: TIGHT_PATH,
  timeout: TIGHT.timeout,
  sessionTimeout: TIGHT.sessionTimeout,
  history: { maxCount: TIGHT.historyMaxCount },
  heartbeatInterval: 1000,
});
const tightEvents = recordEvents(tight);

/** What the server saw happen to sessions (handshakes and ends with their reason), newest last. */
function recordEvents(server: typeof push) {
  const events: { t: number; event: string; clientId: string; detail?: string }[] = [];
  const add = (event: string, clientId: string, detail?: string) => {
    events.push({ t: Date.now(), event, clientId, detail });
    if (events.length > 2000) events.splice(0, 1000);
  };
  server.on('handshake', (e) => add('handshake', e.clientId, e.transport));
  server.on('disconnect', (e) => add('disconnect', e.clientId, e.reason));
  return events;
}

// Sockets that carry push traffic (WebSocket, SSE and iframe streams, long-polls): a
// server-initiated disconnect destroys them. Added after attach, so it sees every request.
const pushSockets = new Set<Socket>();
httpServer.on('request', (req) => {
  if (req.url?.startsWith(PATH)) markPush(req.socket);
});
httpServer.on('upgrade', (req, socket: Socket) => {
  if (req.url?.startsWith(PATH)) markPush(socket);
});
function markPush(s: Socket) {
  if (pushSockets.has(s)) return;
  pushSockets.add(s);
  s.once('close', () => pushSockets.delete(s));
}

async function publish(channel: string, data: unknown, server = push): Promise<unknown> {
  return await server.publish(channel, data);
}

/**
 * Server-initiated disconnect. @push/server has no API to end one session, so the server drops
 * every push connection it holds (the scenarios that use it run one client at a time per harness).
 */
async function disconnect(own: Socket): Promise<Record<string, unknown>> {
  // Never the socket this control request came on (a keep-alive socket may have carried push
  // requests before): destroying it would make the browser retry the control request.
  // Between two long-polls the client may hold no connection at all: wait (up to 2 s) for one.
  for (let waited = 0; ; waited += 10) {
    let n = 0;
    for (const s of pushSockets) {
      if (s === own) continue;
      s.destroy();
      n++;
    }
    if (n > 0 || waited >= 2000) return { via: 'socket-drop', sockets: n, waitedMs: waited };
    await new Promise((r) => setTimeout(r, 10));
  }
}

// A steady ticker, for time-to-first-message and time-to-fallback measurements.
let tick = 0;
const ticker = setInterval(() => {
  tick++;
  publish('/e2e/tick', { n: tick, t: Date.now() }).catch(() => {});
}, 25);

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css',
};

function cors(res: http.ServerResponse) {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
  res.setHeader('access-control-allow-headers', 'content-type');
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  cors(res);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function body(req: http.IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

async function control(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
  // `tight/<action>`: the same controls against the tight server.
  const server = path.startsWith('tight/') ? tight : push;
  const action = server === tight ? path.slice('tight/'.length) : path;
  if (req.method === 'OPTIONS') {
    cors(res);
    res.writeHead(204);
    res.end();
    return;
  }
  try {
    const b = await body(req);
    switch (action) {
      case 'publish':
        await publish(b.channel, b.data, server);
        return json(res, 200, { ok: true });
      case 'stream': {
        // Publish {seq: 1..count} on b.channel, perTick messages every intervalMs, in order.
        const count = Number(b.count);
        const perTick = Number(b.perTick ?? 1);
        const interval = Number(b.intervalMs ?? 5);
        let seq = 0;
        const step = async () => {
          for (let i = 0; i < perTick && seq < count; i++) {
            seq++;
            await publish(b.channel, { seq }, server);
          }
          if (seq < count) setTimeout(step, interval);
        };
        setTimeout(step, 0);
        return json(res, 200, { ok: true, count });
      }
      case 'disconnect':
        return json(res, 200, { ok: true, ...(await disconnect(req.socket)) });
      case 'info':
        return json(res, 200, {
          ok: true,
          pid: process.pid,
          tick,
          pushSockets: pushSockets.size,
          metrics: server.metrics(),
          ...(server === tight ? { bounds: TIGHT } : {}),
        });
      case 'events':
        // The tight server's session log since `since` (ms epoch), for the durability checks.
        return json(res, 200, {
          ok: true,
          now: Date.now(),
          events: (server === tight ? tightEvents : []).filter((e) => e.t >= Number(b.since ?? 0)),
        });
      default:
        return json(res, 404, { error: `unknown control ${action}` });
    }
  } catch (e) {
    return json(res, 500, { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
}

async function serveStatic(_req: http.IncomingMessage, res: http.ServerResponse, pathname: string) {
  const rel = pathname === '/' ? '/index.html' : pathname;
  // /.build/* -> the esbuild bundles; anything else -> static/
  const [dir, name] = rel.startsWith('/.build/')
    ? [buildDir, rel.slice('/.build'.length)]
    : [join(root, 'static'), rel];
  const file = normalize(join(dir, name));
  if (!file.startsWith(dir)) {
    res.writeHead(403);
    res.end();
    return;
  }
  try {
    const data = await readFile(file);
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      // Revalidated on every load, but not `no-store`, which keeps a page out of the back/forward
      // cache: the share suite restores pages from it.
      'cache-control': 'no-cache',
    });
    res.end(data);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
}

function route(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname.startsWith('/e2e-ctl/')) {
    void control(req, res, url.pathname.slice('/e2e-ctl/'.length));
    return;
  }
  void serveStatic(req, res, url.pathname);
}

httpServer.listen(port, '127.0.0.1', () => {
  const addr = httpServer.address() as { port: number };
  process.stdout.write(`E2E_HARNESS_LISTENING ${addr.port}\n`);
});

async function shutdown() {
  clearInterval(ticker);
  try {
    await tight.close();
    await push.close();
  } catch {}
  for (const s of pushSockets) s.destroy();
  httpServer.closeAllConnections?.();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
