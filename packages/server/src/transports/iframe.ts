/**
 * `iframe` (forever-iframe / htmlfile, Push's own): `GET {path}/iframe?clientId=<id>&callback=<name>`
 * returns `text/html` streamed as `<script>parent.<callback>([...]);</script>` chunks (payloads
 * escaped by the protocol's script-safe codec), after ~1 KiB of padding and a `null` open call;
 * heartbeats are calls with an empty batch (the page sees them, so it can tell a dead stream).
 * Upstream goes by POST with `connectionType: "iframe"`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bayeuxErrors,
  encodeIframeChunk,
  encodeIframeEnd,
  encodeIframeHeartbeat,
  encodeIframeStart,
  isValidCallbackName,
} from '@push/protocol';
import type { Engine } from '../engine.js';
import { sendRefusal } from '../http/body.js';
import { attachStream, type StreamFraming, streamRefusal } from './http-stream.js';

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

export async function handleIframe(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const callback = query.get('callback') ?? '';
  const clientId = query.get('clientId') ?? '';
  if (!engine.options.transports.has('iframe')) {
    sendRefusal(res, 400, bayeuxErrors.unsupportedConnectionType(['iframe']));
    return;
  }
  if (!isValidCallbackName(callback)) {
    sendRefusal(res, 400, bayeuxErrors.badRequest('callback must be a JavaScript identifier path'));
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
