/** `long-polling`: `POST {path}` (or any path under it) with a JSON batch; connects are held. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeBatch, ProtocolError } from '@push/protocol';
import { encodeMixedBatch } from '../delivery.js';
import type { Engine } from '../engine.js';
import { batchText, readBody, sendJson, sendRefusal } from '../http/body.js';
import { answerBatch } from './http-batch.js';

export async function handleLongPolling(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const max = engine.options.limits.maxMessageBytes;
  let messages: ReturnType<typeof decodeBatch>;
  try {
    const body = await readBody(req, max);
    messages = decodeBatch(batchText(req, body), { maxLength: max });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    engine.metrics.messagesIn++;
    const status = error.code === 'too-large' ? 413 : 400;
    sendRefusal(res, status, error.bayeux);
    return;
  }
  const request = {
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    transport: 'long-polling' as const,
  };
  await answerBatch({ engine, transport: 'long-polling', request }, messages, res, (replies, deliveries) => {
    sendJson(res, 200, encodeMixedBatch(replies, deliveries));
  });
}
