/**
 * `callback-polling` (JSONP): `GET {path}?message=<json batch>&jsonp=<callback>`, answered with
 * `/**\/callback([...]);`. Off unless enabled in `transports`; callback names are validated.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeJsonp, ProtocolError } from '@push/protocol';
import { readBatch } from '../bayeux/read-batch.js';
import { refusalJson, scriptTransportRefusal, unreadableBatchReply } from '../bayeux/refusals.js';
import type { Engine } from '../engine.js';
import { send, sendJson } from '../http/body.js';
import { answerBatch } from './http-batch.js';
import { type HttpTransport, isGet } from './http-transport.js';

const JS = 'text/javascript; charset=utf-8';

export const jsonp: HttpTransport = {
  type: 'callback-polling',
  matches: (req, _sub, query) => isGet(req) && query.has('message'),
  handle: (engine, req, res, _sub, query) => handleJsonp(engine, req, res, query),
};

async function handleJsonp(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const callback = query.get('jsonp') ?? 'jsonpcallback';
  const refusal = scriptTransportRefusal(engine.options.transports, 'callback-polling', 'jsonp', callback);
  if (refusal !== undefined) {
    sendJson(res, 400, refusalJson(refusal));
    return;
  }
  res.setHeader('x-content-type-options', 'nosniff');
  const messages = readBatch(engine, query.get('message') ?? '');
  if (messages instanceof ProtocolError) {
    send(res, 200, JS, encodeJsonp(callback, [unreadableBatchReply(messages.bayeux)]));
    return;
  }
  await answerBatch(engine, req, 'callback-polling', messages, res, (replies, deliveries) => {
    send(
      res,
      200,
      JS,
      encodeJsonp(callback, [...replies, ...deliveries.map((delivery) => delivery.message)]),
    );
  });
}
