/**
 * `iframe` (forever-iframe / htmlfile, Push's own): `GET {path}/iframe?clientId=<id>&callback=<name>`
 * returns `text/html` streamed as `<script>parent.<callback>([...]);</script>` chunks (payloads
 * escaped by the protocol's script-safe codec), after ~1 KiB of padding and a `null` open call;
 * heartbeats are calls with an empty batch (the page sees them, so it can tell a dead stream).
 * Upstream goes by POST with `connectionType: "iframe"`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeIframeChunk, encodeIframeEnd, encodeIframeHeartbeat, encodeIframeStart } from '@push/protocol';
import { refusalJson, scriptTransportRefusal, streamRefusal } from '../bayeux/refusals.js';
import type { Engine } from '../engine.js';
import { sendJson } from '../http/body.js';
import { attachStream, type StreamFraming } from './http-stream.js';
import { type HttpTransport, isGet } from './http-transport.js';

function framingFor(callback: string): StreamFraming {
  return {
    deliveries: (deliveries) =>
      encodeIframeChunk(
        callback,
        deliveries.map((delivery) => delivery.message),
      ),
    batch: (replies, deliveries) =>
      encodeIframeChunk(callback, [...replies, ...deliveries.map((delivery) => delivery.message)]),
    heartbeat: () => encodeIframeHeartbeat(callback),
  };
}

export const iframe: HttpTransport = {
  type: 'iframe',
  matches: (req, sub) => isGet(req) && sub === '/iframe',
  handle: (engine, req, res, _sub, query) => handleIframe(engine, req, res, query),
};

async function handleIframe(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const callback = query.get('callback') ?? '';
  const clientId = query.get('clientId') ?? '';
  const refusal = scriptTransportRefusal(engine.options.transports, 'iframe', 'callback', callback);
  if (refusal !== undefined) {
    sendJson(res, 400, refusalJson(refusal));
    return;
  }
  const framing = framingFor(callback);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
  });
  res.write(encodeIframeStart(callback));
  const fail = (error: string) => {
    res.write(framing.batch([streamRefusal(error)], []));
    res.end(encodeIframeEnd());
  };
  await attachStream(engine, req, res, 'iframe', clientId, framing, fail);
}
