/**
 * `eventsource` (Faye's form): `GET {path}/{clientId}` with `Accept: text/event-stream` opens
 * the downstream; upstream goes by POST with `connectionType: "eventsource"`. A 2 KiB padding
 * comment is written at once (buffering-proxy probe), then one event per message with `id:` (the
 * channel offset) and `data: [message]`, and heartbeat comments.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors, encodeSseComment, encodeSseEvent, encodeSsePadding } from '@push/protocol';
import { encodeMixedBatch, sseRunOf } from '../delivery.js';
import type { Engine } from '../engine.js';
import { attachStream, type StreamFraming, streamRefusal } from './http-stream.js';

const framing: StreamFraming = {
  deliveries: sseRunOf,
  batch: (replies, deliveries) => encodeSseEvent({ data: encodeMixedBatch(replies, deliveries) }),
  heartbeat: () => encodeSseComment('heartbeat'),
};

/** True when `req` asks for an event stream. */
export function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

export async function handleEventSource(
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
  const fail = (error: string) => res.end(framing.batch([streamRefusal(error)], []));
  if (!engine.options.transports.has('eventsource')) {
    fail(bayeuxErrors.unsupportedConnectionType(['eventsource']));
    return;
  }
  await attachStream(engine, req, res, 'eventsource', clientId, framing, fail);
}
