/** The public facade: `createPushServer(options)`. */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { jsonValueDepthExceeds, PRESENCE_SERVICE } from '@push/protocol';
import { publishRefusal } from './bayeux/publish.js';
import { createMemoryBroker } from './broker/memory.js';
import type { Broker, BrokerMessage } from './broker/types.js';
import { Engine, type ServiceHandler } from './engine.js';
import { PushServerError } from './errors.js';
import type { PushServerEvents } from './events.js';
import { parseTarget, route, subPath } from './http/router.js';
import type { MetricsSnapshot } from './metrics.js';
import { type PushServerOptions, resolveOptions } from './options.js';
import { presenceService } from './presence.js';
import { Relay } from './relay.js';
import { WebSocketTransport } from './transports/websocket.js';
import { configurationWarnings } from './warnings.js';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A running Push server. */
export interface PushServer {
  /** The path prefix it serves. */
  readonly path: string;
  /** The broker in use. */
  readonly broker: Broker;
  /**
   * Middleware for Express/Fastify/Hono (node adapter)/node:http: handles requests under the path,
   * calls `next()` (or answers 404 without `next`) for anything else.
   * @example app.use(push.handler);
   */
  handler(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /**
   * Hands a WebSocket upgrade to the server; returns false (socket untouched) when `req` is not
   * under the path.
   * @example httpServer.on('upgrade', (req, socket, head) => push.handleUpgrade(req, socket, head) || socket.destroy());
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Publishes from the server side to every subscriber of `channel` (on every process). */
  publish(channel: string, data: unknown): Promise<BrokerMessage>;
  /** Registers a server-side listener on a `/service/**` channel; returns the remover. */
  service(channel: string, handler: ServiceHandler): () => void;
  on<E extends keyof PushServerEvents>(event: E, listener: (...args: PushServerEvents[E]) => void): this;
  off<E extends keyof PushServerEvents>(event: E, listener: (...args: PushServerEvents[E]) => void): this;
  /** Counters and gauges now. */
  metrics(): MetricsSnapshot;
  /** The same metrics in the Prometheus text format (what `GET {path}/metrics` serves). */
  metricsText(): Promise<string>;
  /** Ends every session, closes every socket, detaches from the HTTP server, closes its own broker. */
  close(): Promise<void>;
}

/**
 * Creates a Push server. With `server`, it attaches to that node:http/https server (requests and
 * upgrades under `path`; everything else still reaches your handlers). Without it, wire
 * `handler` and `handleUpgrade` yourself. It never calls `listen()`.
 * @example
 * import { createServer } from 'node:http';
 * import { createPushServer } from '@push/server';
 * const http = createServer();
 * const push = createPushServer({ server: http, path: '/push' });
 * http.listen(8080);
 * await push.publish('/stocks/aex/philips', { price: 123.45 });
 */
export function createPushServer(options: PushServerOptions = {}): PushServer {
  const resolved = resolveOptions(options);
  const ownBroker = options.broker === undefined;
  const broker =
    options.broker ??
    createMemoryBroker({
      historySize: options.history?.maxCount,
      historyAge: options.history?.maxAge,
      historyBytes: options.history?.maxBytes,
      historyChannels: options.history?.maxChannels,
      now: () => resolved.clock.now(),
    });
  const engine = new Engine(resolved, broker);
  for (const warning of configurationWarnings(options)) resolved.logger?.warn(warning);
  engine.services.set(PRESENCE_SERVICE, presenceService(engine));
  // A broker that shares sessions (Redis) lets HTTP clients reach any node: no sticky sessions.
  if (broker.sessions) engine.relay = new Relay(engine, broker.sessions);
  const websocket = new WebSocketTransport(engine);
  let closed = false;

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const target = parseTarget(req.url);
    if (!target || subPath(resolved.path, target.pathname) === undefined) return false;
    if (closed) {
      socket.destroy();
      return true;
    }
    websocket.handleUpgrade(req, socket, head);
    return true;
  };

  const handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    if (!closed && route(engine, req, res)) return;
    if (next) next();
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found');
    }
  };

  const detach = attach(options.server, resolved.path, handler, handleUpgrade);

  const server: PushServer = {
    path: resolved.path,
    broker,
    handler,
    handleUpgrade,
    async publish(channel, data) {
      if (closed) throw new PushServerError('closed', 'This Push server is closed');
      const refusal = publishRefusal(channel);
      if (refusal)
        throw new PushServerError('invalid-channel', `Cannot publish to ${String(channel)}: ${refusal}`);
      const { maxDepth } = resolved.limits;
      if (jsonValueDepthExceeds(data, maxDepth)) {
        throw new PushServerError(
          'invalid-data',
          `Cannot publish to ${channel}: data nests deeper than limits.maxDepth (${maxDepth}) or is cyclic`,
        );
      }
      engine.metrics.messagesIn++;
      return engine.publish({ channel, data });
    },
    service(channel, serviceHandler) {
      if (!channel.startsWith('/service/')) {
        throw new PushServerError('invalid-channel', `Service channels start with /service/, got ${channel}`);
      }
      engine.services.set(channel, serviceHandler);
      return () => {
        if (engine.services.get(channel) === serviceHandler) engine.services.delete(channel);
      };
    },
    on(event, listener) {
      engine.events.on(event, listener as never);
      return server;
    },
    off(event, listener) {
      engine.events.off(event, listener as never);
      return server;
    },
    metrics: () => engine.metrics.snapshot(),
    metricsText: () => engine.metrics.text(),
    async close() {
      if (closed) return;
      closed = true;
      detach();
      await engine.close();
      engine.relay?.close();
      websocket.close();
      if (ownBroker) await broker.close();
    },
  };
  return server;
}

/** Wraps the HTTP server's request listeners so only our path is taken; returns the undo. */
function attach(
  http: HttpServer | undefined,
  path: string,
  handler: (req: IncomingMessage, res: ServerResponse, next?: () => void) => void,
  handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean,
): () => void {
  if (!http) return () => {};
  const previous = http.listeners('request') as RequestListener[];
  http.removeAllListeners('request');
  const onRequest: RequestListener = (req, res) => {
    handler(req, res, () => {
      if (previous.length === 0) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`Not found (Push serves ${path})`);
        return;
      }
      for (const listener of previous) listener.call(http, req, res);
    });
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (handleUpgrade(req, socket, head)) return;
    // Nobody else handles upgrades: do not leave the socket hanging.
    if (http.listenerCount('upgrade') === 1) socket.destroy();
  };
  http.on('request', onRequest);
  http.on('upgrade', onUpgrade);
  return () => {
    http.off('request', onRequest);
    http.off('upgrade', onUpgrade);
    for (const listener of previous) http.on('request', listener);
  };
}
