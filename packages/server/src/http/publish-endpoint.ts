/** `POST {path}/publish` `{channel, data}`: publishing for back ends in any language. */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bayeuxErrors, ProtocolError, parseChannel } from '@push/protocol';
import { publishRefusal } from '../bayeux/publish.js';
import type { Engine } from '../engine.js';
import { readBody, sendJson } from './body.js';

/** True when the request carries `key` as `authorization: Bearer KEY` or `x-push-key: KEY`. */
export function hasPublishKey(req: IncomingMessage, key: string): boolean {
  const header = req.headers.authorization;
  const bearer = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
  const direct = req.headers['x-push-key'];
  const given = bearer ?? (typeof direct === 'string' ? direct : undefined);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

function fail(res: ServerResponse, status: number, error: string): void {
  sendJson(res, status, JSON.stringify({ successful: false, error }));
}

export async function handlePublishEndpoint(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const key = engine.options.publishKey;
  if (key !== undefined && !hasPublishKey(req, key)) {
    fail(
      res,
      401,
      bayeuxErrors.unauthenticated(
        'Publish key required: send "authorization: Bearer KEY" or "x-push-key: KEY"',
      ),
    );
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, engine.options.limits.maxMessageBytes));
  } catch (error) {
    if (error instanceof ProtocolError) return fail(res, 413, error.bayeux);
    return fail(res, 400, bayeuxErrors.badRequest('body must be JSON {"channel": "/a/b", "data": ...}'));
  }
  const input = body as { channel?: unknown; data?: unknown } | null;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return fail(res, 400, bayeuxErrors.badRequest('body must be a JSON object {"channel", "data"}'));
  }
  const refusal = publishRefusal(input.channel);
  if (refusal) return fail(res, 400, refusal);
  const channel = input.channel as string;
  if (parseChannel(channel)?.kind === 'service') {
    return fail(res, 400, bayeuxErrors.channelForbidden(channel, 'Service channels are not broadcast'));
  }
  if (!('data' in input)) return fail(res, 400, bayeuxErrors.badRequest('publish needs "data"'));
  engine.metrics.messagesIn++;
  const stored = await engine.publish({ channel, data: input.data });
  sendJson(
    res,
    200,
    JSON.stringify({ successful: true, channel, offset: stored.offset, epoch: stored.epoch }),
  );
}
