/** `/meta/handshake`: version and connection type negotiation, authentication, a new clientId. */
import {
  BAYEUX_VERSION,
  bayeuxErrors,
  type ConnectionType,
  type HandshakeRequest,
  type MessageExt,
  type Reply,
} from '@push/protocol';
import { credentialsExpired } from '../credentials.js';
import type { PushIdentity } from '../options.js';
import { connectAdvice } from './connect.js';
import { type BatchContext, type BatchResult, failure, replyTo } from './context.js';

/** The identity of every session when no `authenticate` hook is set (one shared object). */
const ANONYMOUS: PushIdentity = Object.freeze({});

export async function handleHandshake(
  ctx: BatchContext,
  message: HandshakeRequest,
  result: BatchResult,
): Promise<void> {
  const { engine } = ctx;
  const { options } = engine;
  const fail = (error: string, reconnect: 'none' | 'handshake' = 'none') => {
    const reply = failure(message, error, { reconnect, interval: reconnect === 'none' ? 0 : 1_000 });
    reply.version = BAYEUX_VERSION;
    reply.supportedConnectionTypes = options.transportList;
    result.replies.push(reply);
  };
  if (typeof message.version !== 'string') return fail(bayeuxErrors.badRequest('handshake needs "version"'));
  if (!Array.isArray(message.supportedConnectionTypes)) {
    return fail(bayeuxErrors.badRequest('handshake needs "supportedConnectionTypes"'));
  }
  const offered = message.supportedConnectionTypes.filter((type): type is string => typeof type === 'string');
  if (!offered.some((type) => options.transports.has(type as ConnectionType))) {
    return fail(bayeuxErrors.unsupportedConnectionType(offered.slice(0, 8)));
  }
  if (!engine.handshakeRate.take(ctx.source)) {
    engine.metrics.refused('handshake-rate');
    return fail(
      bayeuxErrors.limitExceeded('handshake-rate', options.limits.handshakesPerMinute),
      'handshake',
    );
  }
  if (engine.registry.size >= options.limits.maxConnections) {
    return fail(bayeuxErrors.unavailable('Server unavailable: connection limit reached'), 'handshake');
  }
  const ext = (message.ext ?? {}) as MessageExt;
  engine.metrics.reportFallbacks(ext.push?.fallbacks);

  let identity: PushIdentity | null | undefined = ANONYMOUS;
  if (options.authenticate) {
    try {
      identity = await options.authenticate(message, ctx.request);
    } catch {
      identity = undefined;
    }
  }
  if (!identity) return fail(bayeuxErrors.unauthenticated());
  // Credentials that are over already would open a session that ends at the next sweep.
  if (credentialsExpired(identity, options.clock.now()))
    return fail(bayeuxErrors.unauthenticated('Token expired'));

  const session = engine.createSession(identity);
  await engine.shareSession(session);
  session.transport = ctx.transport;
  const reply: Reply = replyTo(message, true);
  reply.clientId = session.id;
  reply.version = BAYEUX_VERSION;
  reply.supportedConnectionTypes = options.transportList;
  reply.advice = connectAdvice(ctx, ctx.transport);
  if (ext.ack === true) {
    session.ackEnabled = true;
    reply.ext = { ack: true };
  }
  result.replies.push(reply);
  result.session = session;
  engine.events.emit('handshake', { clientId: session.id, identity, transport: ctx.transport });
}
