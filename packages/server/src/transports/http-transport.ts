/**
 * The shape of one HTTP transport (Faye's transport registry, server side): which requests it
 * takes and how it serves them. The router (`http/router.ts`) walks a list of these and never
 * branches on a transport's name; what a transport *is* (duplex, streamed, URL, framing) is its
 * entry in `TRANSPORTS` (`@push/protocol`). WebSocket enters by upgrade, not by request, so it is
 * a class of its own (`websocket.ts`) with the same `type`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionType } from '@push/protocol';
import type { Engine } from '../engine.js';

export interface HttpTransport {
  /** The Bayeux connection type it serves. */
  readonly type: ConnectionType;
  /** True when the request is this transport's: `sub` is its path under `{path}` ('' or '/…'). */
  matches(req: IncomingMessage, sub: string, query: URLSearchParams): boolean;
  /** Serves the request. Rejects only for a fault: the router answers it `500` (or `503`). */
  handle(
    engine: Engine,
    req: IncomingMessage,
    res: ServerResponse,
    sub: string,
    query: URLSearchParams,
  ): Promise<void>;
}

/** True for a GET (or HEAD) request: the method of every downstream request but long-polling's. */
export function isGet(req: IncomingMessage): boolean {
  const method = req.method ?? 'GET';
  return method === 'GET' || method === 'HEAD';
}
