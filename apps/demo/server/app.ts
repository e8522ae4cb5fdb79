/**
 * The demo server: a plain node:http server that serves the built pages and a small JSON API, with
 * `@push/server` attached on `/push`. It is an app using the library, not a fork of it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createPushServer, jwtAuthenticator, type PushServer } from '@push/server';
import type { DemoConfig, LoginResponse } from '../shared/types.js';
import { cleanName, issueToken, TOKEN_AUDIENCE, TOKEN_TTL_SECONDS } from './auth.js';
import { chooseBroker } from './broker.js';
import { ChatLog } from './chat.js';
import type { DemoServerConfig } from './config.js';
import { faultsOf, hold, isBrokenStream } from './faults.js';
import { startMonitor } from './monitor.js';
import { createStaticHandler } from './static.js';
import { startStockSimulator } from './stocks.js';

export interface DemoServer {
  readonly http: Server;
  readonly push: PushServer;
  /** The URL the pages are served at, e.g. `http://localhost:8080`. */
  readonly url: string;
  close(): Promise<void>;
}

const PUSH_PATH = '/push';
/** Channels clients may publish on; quotes and metrics come from the server only. */
const CLIENT_PUBLISH = /^\/chat\/[a-z0-9-]{1,32}(\/typing)?$/;

export async function startDemoServer(config: DemoServerConfig): Promise<DemoServer> {
  const { kind, broker } = await chooseBroker(config.redisUrl, config.redisPrefix);
  // The Push server is wired through its `handler` and `handleUpgrade` (rather than `server:`) so the
  // demo can put its fault switch in front of it.
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) json(res, 500, { error: error.message });
      else res.destroy();
    });
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (faultsOf(req).has('websocket')) {
      socket.destroy(); // like a proxy that does not pass WebSocket upgrades
      return;
    }
    if (!push.handleUpgrade(req, socket, head)) socket.destroy();
  });
  const serveStatic = createStaticHandler(config.staticDir);
  const chat = new ChatLog();

  const push = createPushServer({
    path: PUSH_PATH,
    ...(broker ? { broker } : {}),
    history: { maxCount: 200 },
    // POST /push/publish is closed by default. With login on, it takes the same JWT as a handshake
    // (`ext.auth.token` in the body); without login the demo opens it on purpose, and `authorize`
    // below still limits it to the chat channels clients may publish on.
    ...(config.auth
      ? { authenticate: jwtAuthenticator({ secret: config.secret, audience: TOKEN_AUDIENCE }) }
      : { publishEndpoint: 'open' as const }),
    authorize: (_identity, action, channel) =>
      action === 'subscribe' ||
      CLIENT_PUBLISH.test(channel) ||
      (action === 'presence' && channel.startsWith('/chat/')),
  });
  push.service('/service/ping', ({ data }) => ({ pong: Date.now(), echo: data }));
  push.on('publish', ({ channel, data }) => chat.record(channel, data));

  const stocks = config.simulators
    ? startStockSimulator({ publish: (channel, data) => push.publish(channel, data) })
    : undefined;
  const monitor = startMonitor({
    metrics: () => push.metrics(),
    publish: (channel, data) => (config.simulators ? push.publish(channel, data) : undefined),
    broker: kind,
  });

  const demoConfig: DemoConfig = { auth: config.auth, broker: kind, path: PUSH_PATH };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://demo.invalid');
    const path = url.pathname;
    if (path === PUSH_PATH || path.startsWith(`${PUSH_PATH}/`)) {
      if (isBrokenStream(req, path)) return hold(res);
      return push.handler(req, res);
    }
    if (path === '/api/config') return json(res, 200, demoConfig);
    if (path === '/api/stocks') return json(res, 200, stocks?.snapshot() ?? { quotes: [] });
    if (path === '/api/monitor') return json(res, 200, monitor.history());
    if (path.startsWith('/api/chat/')) return json(res, 200, chat.recent(path.slice('/api/chat/'.length)));
    if (path === '/api/health') return json(res, 200, { ok: true, broker: kind, auth: config.auth });
    if (path === '/login') return login(req, res);
    if (await serveStatic(req, res, path)) return;
    if (path.startsWith('/api/')) return json(res, 404, { error: `No such endpoint: ${path}` });
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      path === '/' || path === '/index.html'
        ? 'The pages are not built: run `npm run demo` from the repository root (or `npm run build -w @push/demo`).'
        : 'Not found',
    );
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return json(res, 405, { error: 'POST /login with {"name": "..."}' });
    if (!config.auth)
      return json(res, 404, { error: 'Login is off: start the demo with DEMO_AUTH=1 to require it.' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 4_096));
    } catch {
      return json(res, 400, { error: 'Send JSON: {"name": "..."}' });
    }
    const name = cleanName((body as { name?: unknown } | null)?.name);
    if (!name) return json(res, 400, { error: 'A name of 1-24 characters is required.' });
    const answer: LoginResponse = {
      token: issueToken(name, config.secret),
      name,
      expiresIn: TOKEN_TTL_SECONDS,
    };
    return json(res, 200, answer);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = !config.host || config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    http,
    push,
    url,
    close() {
      closing ??= (async () => {
        stocks?.stop();
        monitor.stop();
        await push.close();
        if (broker) await broker.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return closing;
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
