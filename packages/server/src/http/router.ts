/**
 * Routes every request under the server's path prefix to its transport or endpoint:
 *
 * | request | goes to |
 * |---|---|
 * | `OPTIONS {path}/**` | CORS preflight |
 * | `GET {path}/metrics` | Prometheus metrics |
 * | `POST {path}/publish` | HTTP publish |
 * | `GET {path}/iframe?clientId=&callback=` | forever-iframe stream |
 * | `GET {path}/{clientId}` + `Accept: text/event-stream` | SSE stream |
 * | `GET {path}?message=&jsonp=` | callback-polling |
 * | `POST {path}` or `POST {path}/**` | long-polling / upstream of SSE and iframe |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors } from '@push/protocol';
import { isRetriable } from '../bayeux/dispatch.js';
import type { Engine } from '../engine.js';
import { handleEventSource, wantsEventStream } from '../transports/eventsource.js';
import { handleIframe } from '../transports/iframe.js';
import { handleJsonp } from '../transports/jsonp.js';
import { handleLongPolling } from '../transports/long-polling.js';
import { sendRefusal } from './body.js';
import { applyCors } from './cors.js';
import { handleMetricsEndpoint } from './metrics-endpoint.js';
import { handlePublishEndpoint } from './publish-endpoint.js';

/** The part of `url` under `prefix` ('' or '/...'), or undefined when `url` is not under it. */
export function subPath(prefix: string, pathname: string): string | undefined {
  if (prefix === '/') return pathname === '/' ? '' : pathname;
  if (pathname === prefix) return '';
  if (pathname.startsWith(`${prefix}/`)) return pathname.slice(prefix.length);
  return undefined;
}

/** Parses a request target; undefined when it is not a usable URL. */
export function parseTarget(url: string | undefined): URL | undefined {
  try {
    return new URL(url ?? '/', 'http://push.invalid');
  } catch {
    return undefined;
  }
}

/** Handles `req` when it is under the path; returns false (untouched) when it is not. */
export function route(engine: Engine, req: IncomingMessage, res: ServerResponse): boolean {
  const target = parseTarget((req as { originalUrl?: string }).originalUrl ?? req.url);
  const sub = target && subPath(engine.options.path, target.pathname);
  if (!target || sub === undefined) return false;
  if (applyCors(req, res, engine.options)) return true;
  dispatch(engine, req, res, sub, target.searchParams).catch((error: unknown) => {
    // A broker that is away is an outage, not a fault of this request.
    if (!isRetriable(error)) engine.fault(undefined, `${req.method} ${sub || '/'}`, error);
    if (res.headersSent) return res.destroy();
    if (isRetriable(error)) sendRefusal(res, 503, bayeuxErrors.unavailable('Server unavailable: try again'));
    else sendRefusal(res, 500, bayeuxErrors.serverError());
  });
  return true;
}

async function dispatch(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  sub: string,
  query: URLSearchParams,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'POST') {
    if (sub === '/publish') return handlePublishEndpoint(engine, req, res);
    return handleLongPolling(engine, req, res);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('allow', 'GET, POST, OPTIONS');
    return sendRefusal(res, 405, bayeuxErrors.badRequest(`method ${method} not allowed`));
  }
  if (sub === '/metrics') return handleMetricsEndpoint(engine, res);
  if (sub === '/iframe') return handleIframe(engine, req, res, query);
  if (wantsEventStream(req)) {
    const clientId = sub.length > 1 && !sub.includes('/', 1) ? sub.slice(1) : (query.get('clientId') ?? '');
    return handleEventSource(engine, req, res, clientId);
  }
  if (query.has('message')) return handleJsonp(engine, req, res, query);
  sendRefusal(
    res,
    400,
    bayeuxErrors.badRequest(
      'use POST with a JSON batch, a WebSocket upgrade, GET {path}/{clientId} with Accept: text/event-stream, or GET {path}/iframe?clientId=&callback=',
    ),
  );
}
