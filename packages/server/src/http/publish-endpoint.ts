/**
 * `POST {path}/publish` `{channel, data, ext?}`: publishing for back ends in any language. Closed by
 * default (see `publishEndpoint`): a trusted back end sends the `publishKey`; anyone else goes
 * through the same `authenticate` and `authorize` as a Bayeux publish.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  bayeuxErrors,
  formatBayeuxError,
  type HandshakeRequest,
  jsonTextDepthExceeds,
  type MessageExt,
  ProtocolError,
  parseChannel,
} from '@push/protocol';
import { publishRefusal } from '../bayeux/publish.js';
import type { Engine } from '../engine.js';
import type { PushIdentity, RequestInfo } from '../options.js';
import { readBody, sendJson } from './body.js';

/** True when the request carries `key` as `authorization: Bearer KEY` or `x-push-key: KEY`. */
function hasPublishKey(req: IncomingMessage, key: string): boolean {
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

/** Why a request without credentials is refused when nothing secures the endpoint. */
export const PUBLISH_CLOSED_ERROR = formatBayeuxError(
  403,
  [],
  "Publishing over HTTP is closed: configure publishKey (CLI --publish-key KEY) or an authenticate hook, or set publishEndpoint: 'open' for local development (CLI --open-publish)",
);

/** The identity of an HTTP publish when no `authenticate` hook is set (as for Bayeux clients). */
const ANONYMOUS: PushIdentity = Object.freeze({});

/**
 * The handshake `authenticate` sees for an HTTP publish: long-polling, with the body's `ext`
 * (e.g. `ext.auth.token` for `jwtAuthenticator`).
 */
function syntheticHandshake(ext: unknown): HandshakeRequest {
  const handshake: HandshakeRequest = {
    channel: '/meta/handshake',
    version: '1.0',
    supportedConnectionTypes: ['long-polling'],
  };
  if (typeof ext === 'object' && ext !== null && !Array.isArray(ext)) handshake.ext = ext as MessageExt;
  return handshake;
}

/**
 * Who may publish this request: the identity `authenticate` gives it (or `{}` without a hook), or
 * a refusal already answered on `res` (undefined).
 */
async function identify(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  ext: unknown,
): Promise<PushIdentity | undefined> {
  const { authenticate, publishKey } = engine.options;
  if (!authenticate) return ANONYMOUS;
  const request: RequestInfo = {
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    transport: 'long-polling',
  };
  let identity: PushIdentity | null | undefined;
  try {
    identity = await authenticate(syntheticHandshake(ext), request);
  } catch {
    identity = undefined;
  }
  if (!identity) {
    const hint =
      publishKey === undefined ? 'Authentication failed' : 'Authentication failed (or send the publish key)';
    fail(res, 401, bayeuxErrors.unauthenticated(hint));
    return undefined;
  }
  if (identity.expiresAt !== undefined && identity.expiresAt <= engine.clock.now()) {
    fail(res, 401, bayeuxErrors.unauthenticated('Token expired'));
    return undefined;
  }
  return identity;
}

/**
 * Publishes `{channel, data}` for a trusted back end (with the `publishKey`), or for a caller that
 * passes the same `authenticate` and `authorize` as a Bayeux publish. Closed when nothing secures
 * it, unless `publishEndpoint: 'open'`.
 */
export async function handlePublishEndpoint(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { publishKey, authenticate, authorize, publishEndpoint } = engine.options;
  const trusted = publishKey !== undefined && hasPublishKey(req, publishKey);
  // Refused before the body is read: nothing an unauthenticated caller sends is parsed.
  if (!trusted && authenticate === undefined) {
    if (publishKey !== undefined) {
      return fail(
        res,
        401,
        bayeuxErrors.unauthenticated(
          'Publish key required: send "authorization: Bearer KEY" or "x-push-key: KEY"',
        ),
      );
    }
    if (publishEndpoint !== 'open') return fail(res, 403, PUBLISH_CLOSED_ERROR);
  }
  let body: unknown;
  try {
    const text = await readBody(req, engine.options.limits.maxMessageBytes);
    // Deep data parses fine but overflows every later JSON.stringify (fan-out, history, resume).
    const { maxDepth } = engine.options.limits;
    if (jsonTextDepthExceeds(text, maxDepth)) {
      engine.metrics.refused('too-deep');
      return fail(res, 400, bayeuxErrors.limitExceeded('depth', maxDepth));
    }
    body = JSON.parse(text);
  } catch (error) {
    if (error instanceof ProtocolError) return fail(res, 413, error.bayeux);
    return fail(res, 400, bayeuxErrors.badRequest('body must be JSON {"channel": "/a/b", "data": ...}'));
  }
  const input = body as { channel?: unknown; data?: unknown; ext?: unknown } | null;
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
  if (!trusted) {
    const identity = await identify(engine, req, res, input.ext);
    if (!identity) return;
    if (authorize && !(await authorize(identity, 'publish', channel))) {
      return fail(res, 403, bayeuxErrors.forbidden(channel, 'publish'));
    }
  }
  engine.metrics.messagesIn++;
  const stored = await engine.publish({ channel, data: input.data });
  sendJson(
    res,
    200,
    JSON.stringify({ successful: true, channel, offset: stored.offset, epoch: stored.epoch }),
  );
}
