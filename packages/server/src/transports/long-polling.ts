/** `long-polling`: `POST {path}` (or any path under it) with a JSON batch; connects are held. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError } from '@push/protocol';
import { readBatch } from '../bayeux/read-batch.js';
import { encodeMixedBatch } from '../delivery.js';
import type { Engine } from '../engine.js';
import { batchText, readBody, sendJson, sendRefusal } from '../http/body.js';
import { answerBatch } from './http-batch.js';

export async function handleLongPolling(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body: string;
  try {
    body = await readBody(req, engine.options.limits.maxMessageBytes);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    engine.metrics.messagesIn++;
    sendRefusal(res, 413, error.bayeux);
    return;
  }
  const messages = readBatch(engine, batchText(req, body));
  if (messages instanceof ProtocolError) {
    sendRefusal(res, messages.code === 'too-large' ? 413 : 400, messages.bayeux);
    return;
  }
  const request = {
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    transport: 'long-polling' as const,
  };
  await answerBatch(
    { engine, transport: 'long-polling', request, source: engine.options.sourceOf(request) },
    messages,
    res,
    (replies, deliveries) => {
      sendJson(res, 200, encodeMixedBatch(replies, deliveries));
    },
  );
}
