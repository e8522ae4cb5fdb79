/**
 * Routes every request under the server's path prefix to its endpoint or transport:
 *
 * | request | goes to |
 * |---|---|
 * | any, from a site not on the `origins` list | `403` (origin.ts) |
 * | `OPTIONS {path}/**` | CORS preflight |
 * | `GET {path}/metrics` | Prometheus metrics |
 * | `POST {path}/publish` | HTTP publish |
 * | anything else | the first of {@link HTTP_TRANSPORTS} whose `matches` is true |
 *
 * The transports, in the order they are asked:
 *
 * | request | transport |
 * |---|---|
 * | `GET {path}/iframe?clientId=&callback=` | forever-iframe stream |
 * | `GET {path}/{clientId}` + `Accept: text/event-stream` | SSE stream |
 * | `GET {path}?message=&jsonp=` | callback-polling |
 * | `POST {path}` or `POST {path}/**` | long-polling / upstream of SSE and iframe |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors } from '@push/protocol';
import { faultRefusal, refusalJson } from '../bayeux/refusals.js';
import type { Engine } from '../engine.js';
import { isRetriable } from '../errors.js';
import { eventSource } from '../transports/eventsource.js';
import type { HttpTransport } from '../transports/http-transport.js';
import { iframe } from '../transports/iframe.js';
import { jsonp } from '../transports/jsonp.js';
import { longPolling } from '../transports/long-polling.js';
import { sendJson } from './body.js';
import { applyCors } from './cors.js';
import { handleMetricsEndpoint } from './metrics-endpoint.js';
import { originRefusal } from './origin.js';
import { handlePublishEndpoint } from './publish-endpoint.js';

/**
 * The HTTP transports, in the order their `matches` is asked (first match serves). To add one,
 * write its module (see transports/http-transport.ts) and list it here.
 */
const HTTP_TRANSPORTS: readonly HttpTransport[] = [iframe, eventSource, jsonp, longPolling];

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
  // With an `origins` list, a site not on it is refused, with or without an Origin header.
  const originError = originRefusal(req.headers, engine.options);
  if (originError !== undefined) {
    sendJson(res, 403, refusalJson(originError));
    return true;
  }
  if (applyCors(req, res, engine.options)) return true;
  dispatch(engine, req, res, sub, target.searchParams).catch((error: unknown) => {
    // A broker that is away is an outage, not a fault of this request.
    if (!isRetriable(error)) engine.fault(undefined, `${req.method} ${sub || '/'}`, error);
    if (res.headersSent) return res.destroy();
    const refused = faultRefusal(error);
    sendJson(res, refused.status, refusalJson(refused.error));
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
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    res.setHeader('allow', 'GET, POST, OPTIONS');
    return sendJson(res, 405, refusalJson(bayeuxErrors.badRequest(`method ${method} not allowed`)));
  }
  if (method === 'POST' && sub === '/publish') return handlePublishEndpoint(engine, req, res);
  if (method !== 'POST' && sub === '/metrics') return handleMetricsEndpoint(engine, res);
  const transport = HTTP_TRANSPORTS.find((candidate) => candidate.matches(req, sub, query));
  if (transport) return transport.handle(engine, req, res, sub, query);
  sendJson(
    res,
    400,
    refusalJson(
      bayeuxErrors.badRequest(
        'use POST with a JSON batch, a WebSocket upgrade, GET {path}/{clientId} with Accept: text/event-stream, or GET {path}/iframe?clientId=&callback=',
      ),
    ),
  );
}
