/**
 * `callback-polling` (JSONP): `GET {path}?message=<json batch>&jsonp=<callback>`, answered with
 * `/**\/callback([...]);`. Off unless enabled in `transports`; callback names are validated.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors, encodeJsonp, isValidCallbackName, ProtocolError } from '@push/protocol';
import { unreadableBatchReply } from '../bayeux/dispatch.js';
import { readBatch } from '../bayeux/read-batch.js';
import type { Engine } from '../engine.js';
import { send, sendRefusal } from '../http/body.js';
import { answerBatch } from './http-batch.js';

const JS = 'text/javascript; charset=utf-8';

export async function handleJsonp(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const callback = query.get('jsonp') ?? 'jsonpcallback';
  if (!engine.options.transports.has('callback-polling')) {
    sendRefusal(res, 400, bayeuxErrors.unsupportedConnectionType(['callback-polling']));
    return;
  }
  if (!isValidCallbackName(callback)) {
    sendRefusal(res, 400, bayeuxErrors.badRequest('jsonp must be a JavaScript identifier path'));
    return;
  }
  res.setHeader('x-content-type-options', 'nosniff');
  const messages = readBatch(engine, query.get('message') ?? '');
  if (messages instanceof ProtocolError) {
    send(res, 200, JS, encodeJsonp(callback, [unreadableBatchReply(messages.bayeux)]));
    return;
  }
  const request = {
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    transport: 'callback-polling' as const,
  };
  await answerBatch(
    { engine, transport: 'callback-polling', request, source: engine.options.sourceOf(request) },
    messages,
    res,
    (replies, deliveries) => {
      send(
        res,
        200,
        JS,
        encodeJsonp(callback, [...replies, ...deliveries.map((delivery) => delivery.message)]),
      );
    },
  );
}
