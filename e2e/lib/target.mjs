// The "stack" of a run against an existing deployment (`--target https://host/push`): no push
// server of ours, only a local page server that
//   - serves the test pages and bundles (the browsers load them from here; the client inside
//     talks to the target cross-origin, so the deployment must accept this Origin),
//   - relays the pages' server-side actions to the deployment: /e2e-ctl/publish ->
//     POST {target}/publish with the publish key from the environment (the key never reaches a
//     browser), /e2e-ctl/info -> GET {target}/metrics parsed, /e2e-ctl/ticker -> a 25 ms ticker on
//     /e2e/tick published only while a page holds a lease (first-message and fallback timings).
//
//   - relays {pages}/__push/* to {target}/* for the forever-iframe transport only: its document
//     calls parent.<callback>(), which a browser allows only when the page and the push endpoint
//     share an origin. Streams pass chunk by chunk, so a buffering deployment still shows.
//
// Environment: PUSH_PUBLISH_KEY (sent as "authorization: Bearer KEY" on publishes), PUSH_TOKEN
// (handed to the pages' clients as `auth: { token }`, for deployments that authenticate handshakes).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { extname, join, normalize } from 'node:path';
import { BUILD_DIR, E2E_ROOT } from './stack.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** The page server's path that relays to the deployment (same-origin iframe transport). */
export const RELAY_PATH = '/__push';
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const endToEnd = (headers) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));

/** Forwards one request under RELAY_PATH to the deployment, streaming the response as it comes. */
function relay(target, req, res, rest) {
  const t = new URL(target);
  const client = t.protocol === 'https:' ? https : http;
  const up = client.request(
    {
      protocol: t.protocol,
      hostname: t.hostname,
      port: t.port || undefined,
      method: req.method,
      path: `${t.pathname.replace(/\/$/, '')}${rest}`,
      headers: { ...endToEnd(req.headers), host: t.host },
    },
    (ur) => {
      res.writeHead(ur.statusCode ?? 502, endToEnd(ur.headers));
      res.flushHeaders();
      ur.on('data', (c) => res.write(c));
      ur.on('end', () => res.end());
      ur.on('error', () => res.destroy());
    },
  );
  up.on('error', (e) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`e2e relay: ${target}: ${e.message}`);
  });
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** Parses the Prometheus exposition of GET {path}/metrics into the shape of `push.metrics()`. */
export function parseMetrics(text) {
  const out = {
    sessions: 0,
    connections: {},
    subscriptions: 0,
    messagesIn: 0,
    messagesOut: 0,
    fallbacks: {},
  };
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, rawLabels = '', rawValue] = m;
    const value = Number(rawValue);
    const labels = Object.fromEntries([...rawLabels.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (name === 'push_sessions') out.sessions = value;
    else if (name === 'push_subscriptions') out.subscriptions = value;
    else if (name === 'push_connections' && labels.transport) out.connections[labels.transport] = value;
    else if (name === 'push_messages_in_total') out.messagesIn = value;
    else if (name === 'push_messages_out_total') out.messagesOut = value;
    else if (name === 'push_fallbacks_total' && labels.from)
      out.fallbacks[`${labels.from}->${labels.to}`] = value;
  }
  return out;
}

/** GET {target}/metrics, parsed; throws with the reason when it is not reachable. */
export async function fetchTargetMetrics(target) {
  const res = await fetch(`${target}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${target}/metrics -> HTTP ${res.status}: ${text.slice(0, 200)}`);
  if (!/^push_sessions\b/m.test(text))
    throw new Error(`GET ${target}/metrics did not return push metrics: ${text.slice(0, 120)}`);
  return parseMetrics(text);
}

/** POST {target}/publish {channel, data} with the publish key; throws a readable error. */
export async function publishToTarget(target, publishKey, channel, data) {
  const headers = { 'content-type': 'application/json' };
  if (publishKey) headers.authorization = `Bearer ${publishKey}`;
  const res = await fetch(`${target}/publish`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ channel, data }),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  if (!res.ok) {
    const hint =
      res.status === 401 || res.status === 403
        ? publishKey
          ? ' (PUSH_PUBLISH_KEY was refused)'
          : ' (set PUSH_PUBLISH_KEY to the deployment publish key)'
        : res.status === 404
          ? ' (the deployment has no HTTP publish endpoint: enable it with a publish key)'
          : '';
    throw new Error(`POST ${target}/publish -> HTTP ${res.status}${hint}: ${text.slice(0, 200)}`);
  }
  return text ? JSON.parse(text) : {};
}

/**
 * Checks a deployment before any browser starts: a handshake answers, a publish with the key is
 * accepted, and whether GET {path}/metrics is reachable (it decides if server-side transport
 * counts are asserted). Returns { metrics: boolean, metricsReason?: string }.
 */
export async function preflight(target, publishKey, pageOrigin) {
  // CORS as a browser on the page origin will see it: a list that leaves the origin out refuses
  // it; `*` (no list) cannot carry credentials, so the pages' clients then use credentials: 'omit'.
  let cors;
  try {
    const res = await fetch(target, {
      method: 'OPTIONS',
      headers: {
        origin: pageOrigin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
      signal: AbortSignal.timeout(10000),
    });
    cors = {
      status: res.status,
      allowOrigin: res.headers.get('access-control-allow-origin'),
      allowCredentials: res.headers.get('access-control-allow-credentials') === 'true',
    };
  } catch (e) {
    throw new Error(`cannot reach ${target}: ${e?.cause?.message ?? e?.message ?? e}`);
  }
  if (cors.status === 403 || (cors.allowOrigin !== '*' && cors.allowOrigin !== pageOrigin))
    throw new Error(
      `${target} refuses pages from ${pageOrigin} (preflight HTTP ${cors.status}, access-control-allow-origin ${cors.allowOrigin ?? 'absent'}): add ${pageOrigin} to the server's origins list (pick the port with --pages-port)`,
    );
  const credentials = cors.allowOrigin === pageOrigin && cors.allowCredentials ? 'include' : 'omit';
  const handshake = [
    {
      channel: '/meta/handshake',
      version: '1.0',
      supportedConnectionTypes: ['long-polling'],
      ext: process.env.PUSH_TOKEN ? { auth: { token: process.env.PUSH_TOKEN } } : undefined,
    },
  ];
  let res;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(handshake),
      signal: AbortSignal.timeout(10000),
    });
  } catch (e) {
    throw new Error(`cannot reach ${target}: ${e?.cause?.message ?? e?.message ?? e}`);
  }
  const text = await res.text();
  let reply;
  try {
    reply = JSON.parse(text);
  } catch {}
  if (!res.ok || !Array.isArray(reply) || reply[0]?.successful !== true)
    throw new Error(`handshake with ${target} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  await publishToTarget(target, publishKey, '/e2e/preflight', { at: Date.now() });
  try {
    await fetchTargetMetrics(target);
    return { metrics: true, credentials, cors };
  } catch (e) {
    return { metrics: false, metricsReason: String(e?.message ?? e), credentials, cors };
  }
}

/**
 * One per run (scripts/run.mjs starts it; both runners use it through E2E_TARGET_STACK).
 * @param {{ name?: string, target: string, publishKey?: string, token?: string, port?: number,
 *           log?: (line: string) => void }} opts
 */
export async function startTargetStack(opts) {
  const { target, publishKey } = opts;
  const name = opts.name ?? 'target';
  // Ticker leases: id -> expiry. The ticker publishes while any lease is live.
  const leases = new Map();
  let tick = 0;
  let ticking = false;
  const tickerLoop = async () => {
    if (ticking) return;
    ticking = true;
    try {
      for (;;) {
        const now = Date.now();
        for (const [id, until] of leases) if (until < now) leases.delete(id);
        if (leases.size === 0) break;
        tick++;
        await publishToTarget(target, publishKey, '/e2e/tick', { n: tick, t: now }).catch((e) =>
          opts.log?.(`[${name}] tick publish failed: ${e.message}`),
        );
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      ticking = false;
    }
  };

  async function control(req, res, action) {
    const send = (status, obj) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
      });
      res.end(JSON.stringify(obj));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
      });
      return res.end();
    }
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      const b = text ? JSON.parse(text) : {};
      switch (action) {
        case 'publish':
          await publishToTarget(target, publishKey, b.channel, b.data);
          return send(200, { ok: true });
        case 'ticker':
          if (b.on) {
            leases.set(String(b.id), Date.now() + Number(b.ms ?? 60000));
            void tickerLoop();
          } else leases.delete(String(b.id));
          return send(200, { ok: true, leases: leases.size });
        case 'info':
          return send(200, { ok: true, target, metrics: await fetchTargetMetrics(target) });
        default:
          return send(404, {
            error: `${action} needs the local stack: not available against a deployment (--target)`,
          });
      }
    } catch (e) {
      return send(502, { error: String(e?.message ?? e) });
    }
  }

  async function serveStatic(res, pathname) {
    const rel = pathname === '/' ? '/index.html' : pathname;
    const [dir, file] = rel.startsWith('/.build/')
      ? [BUILD_DIR, rel.slice('/.build'.length)]
      : [join(E2E_ROOT, 'static'), rel];
    const path = normalize(join(dir, file));
    if (!path.startsWith(dir)) {
      res.writeHead(403);
      return res.end();
    }
    try {
      const data = await readFile(path);
      res.writeHead(200, {
        'content-type': MIME[extname(path)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(data);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/e2e-ctl/')) return void control(req, res, url.pathname.slice(9));
    if (url.pathname === RELAY_PATH || url.pathname.startsWith(`${RELAY_PATH}/`))
      return relay(target, req, res, `${url.pathname.slice(RELAY_PATH.length)}${url.search}`);
    void serveStatic(res, url.pathname);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const info = {
    name,
    mode: 'target',
    target,
    harness: origin,
    pages: origin,
    relay: `${origin}${RELAY_PATH}`,
    token: opts.token,
  };
  return {
    info,
    /** The deployment's counters now (undefined when not reachable). */
    async serverMetrics() {
      return await fetchTargetMetrics(target).catch(() => undefined);
    },
    async stop() {
      leases.clear();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * With --target, the page server scripts/run.mjs started (E2E_TARGET_STACK), as a stack the
 * runners use and do not own; undefined for a local run.
 */
export function targetStackFromEnv(env = process.env) {
  if (!env.E2E_TARGET) return undefined;
  if (!env.E2E_TARGET_STACK)
    throw new Error('E2E_TARGET is set without E2E_TARGET_STACK: run through `npm run e2e -- --target URL`');
  const info = JSON.parse(env.E2E_TARGET_STACK);
  return { info, stop: async () => {}, serverMetrics: async () => undefined };
}
