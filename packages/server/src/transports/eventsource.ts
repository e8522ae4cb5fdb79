/**
 * `eventsource` (Faye's form): `GET {path}/{clientId}` with `Accept: text/event-stream` opens
 * the downstream; upstream goes by POST with `connectionType: "eventsource"`. A 2 KiB padding
 * comment is written at once (buffering-proxy probe), then one event per message with `id:` (the
 * channel offset) and `data: [message]`, and heartbeat comments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors, encodeSseComment, encodeSseEvent, encodeSsePadding } from '@push/protocol';
import { streamRefusal } from '../bayeux/refusals.js';
import { encodeMixedBatch, sseChunkOf, sseRunOf } from '../delivery.js';
import type { Engine } from '../engine.js';
import { attachStream, type StreamFraming } from './http-stream.js';
import { type HttpTransport, isGet } from './http-transport.js';

const framing: StreamFraming = {
  deliveries: sseRunOf,
  chunk: sseChunkOf,
  batch: (replies, deliveries) => encodeSseEvent({ data: encodeMixedBatch(replies, deliveries) }),
  heartbeat: () => encodeSseComment('heartbeat'),
};

/**
 * A GET that accepts an event stream. The clientId is the one path segment under `{path}`
 * (Faye), else the `clientId` query parameter.
 */
export const eventSource: HttpTransport = {
  type: 'eventsource',
  matches: (req) => isGet(req) && (req.headers.accept ?? '').includes('text/event-stream'),
  handle: (engine, req, res, sub, query) => {
    const clientId = sub.length > 1 && !sub.includes('/', 1) ? sub.slice(1) : (query.get('clientId') ?? '');
    return handleEventSource(engine, req, res, clientId);
  },
};

async function handleEventSource(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  clientId: string,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(encodeSsePadding());
  // Refused inside the stream: an EventSource cannot read the body of an error response.
  const fail = (error: string) => res.end(framing.batch([streamRefusal(error)], []));
  if (!engine.options.transports.has('eventsource')) {
    fail(bayeuxErrors.unsupportedConnectionType(['eventsource']));
    return;
  }
  await attachStream(engine, req, res, 'eventsource', clientId, framing, fail);
}
