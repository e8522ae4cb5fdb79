/** What a Bayeux handler gets and gives back, and the reply helpers they share. */
import { bayeuxErrors, type ConnectionType, type Message, type Reply } from '@push/protocol';
import { credentialsExpired, endExpiredSession } from '../credentials.js';
import type { Delivery } from '../delivery.js';
import type { Engine } from '../engine.js';
import type { RequestInfo } from '../options.js';
import type { Session } from '../session.js';

/** One inbound batch: where it came from. */
export interface BatchContext {
  engine: Engine;
  /** The transport the batch arrived on (`websocket`, `long-polling` for any POST, `callback-polling`). */
  transport: ConnectionType;
  request: RequestInfo;
  /** Who sent it, as `sourceOf` names them (per-source limits count on it). */
  source: string;
}

/** A `/meta/connect` the transport must hold open. */
interface HoldRequest {
  session: Session;
  reply: Reply;
  timeout: number;
}

/** What processing a batch produced. */
export interface BatchResult {
  replies: Message[];
  /** Deliveries answered at once with a connect (they go after the replies). */
  deliveries: Delivery[];
  hold: HoldRequest | undefined;
  /** The session the batch spoke for (last known clientId seen). */
  session: Session | undefined;
  /** The `connectionType` of a `/meta/connect` in the batch. */
  connectionType: ConnectionType | undefined;
  /** Work to run once the replies are on their way (e.g. resumed messages go after the reply). */
  after: Array<() => void>;
}

/** The reply skeleton for `message`: same channel and id. */
export function replyTo(message: Message, successful: boolean): Reply {
  const reply: Reply = { channel: message.channel, successful };
  if (message.id !== undefined) reply.id = message.id;
  if (typeof message.clientId === 'string') reply.clientId = message.clientId;
  return reply;
}

/** A failed reply carrying a Bayeux error string (and advice, if any). */
export function failure(message: Message, error: string, advice?: Reply['advice']): Reply {
  const reply = replyTo(message, false);
  reply.error = error;
  if (advice) reply.advice = advice;
  return reply;
}

/**
 * The session a message speaks for, recorded on `result`; undefined when there is none, after
 * replying the failure: `402::Unknown client` with `advice.reconnect: 'handshake'` (or the reason
 * the client was cut off).
 */
export function sessionFor(ctx: BatchContext, message: Message, result: BatchResult): Session | undefined {
  const session = ctx.engine.registry.get(message.clientId);
  // Expired credentials are refused on the spot, not only by the next sweep: no request runs on
  // an identity that is no longer valid. Ending it leaves the tombstone read below.
  if (session && credentialsExpired(session.identity, ctx.engine.clock.now())) {
    endExpiredSession(ctx.engine, session);
  } else if (session) {
    session.touch();
    result.session = session;
    return session;
  }
  const error = ctx.engine.registry.tombstone(message.clientId) ?? bayeuxErrors.unknownClient();
  result.replies.push(failure(message, error, { reconnect: 'handshake', interval: 0 }));
  return undefined;
}

/** Normalizes `subscription` to a non-empty list of strings, or undefined. */
export function subscriptionList(value: unknown): string[] | undefined {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!list || list.length === 0 || !list.every((item) => typeof item === 'string')) return undefined;
  return list as string[];
}
