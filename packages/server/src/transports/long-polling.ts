/** `long-polling`: `POST {path}` (or any path under it) with a JSON batch; connects are held. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError } from '@push/protocol';
import { countUnreadable, readBatch } from '../bayeux/read-batch.js';
import { refusalJson } from '../bayeux/refusals.js';
import { encodeMixedBatch } from '../delivery.js';
import type { Engine } from '../engine.js';
import { batchText, readBody, sendJson } from '../http/body.js';
import { answerBatch } from './http-batch.js';
import type { HttpTransport } from './http-transport.js';

/**
 * Every POST the router does not keep for itself (`{path}/publish`): long-polling's batches and
 * the upstream of the stream transports (SSE, iframe), which is the same request.
 */
export const longPolling: HttpTransport = {
  type: 'long-polling',
  matches: (req) => req.method === 'POST',
  handle: (engine, req, res) => handleLongPolling(engine, req, res),
};

async function handleLongPolling(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: string;
  try {
    body = await readBody(req, engine.options.limits.maxMessageBytes);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    countUnreadable(engine, error);
    sendJson(res, 413, refusalJson(error.bayeux));
    return;
  }
  const messages = readBatch(engine, batchText(req, body));
  if (messages instanceof ProtocolError) {
    sendJson(res, messages.code === 'too-large' ? 413 : 400, refusalJson(messages.bayeux));
    return;
  }
  await answerBatch(engine, req, 'long-polling', messages, res, (replies, deliveries) => {
    sendJson(res, 200, encodeMixedBatch(replies, deliveries));
  });
}
