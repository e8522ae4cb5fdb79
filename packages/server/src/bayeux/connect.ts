/** `/meta/connect`: keeps the session alive; held open (long-polling) until messages or timeout. */
import {
  type Advice,
  bayeuxErrors,
  type ConnectionType,
  type ConnectRequest,
  type Reply,
  TRANSPORTS,
} from '@push/protocol';
import { type BatchContext, type BatchResult, failure, sessionFor } from './context.js';

/** The three advices a server gives, built once per server: every held connect shares one. */
const advices = new WeakMap<object, Record<'streamed' | 'polling' | 'held', Readonly<Advice>>>();

/** The advice for a connect over `type` (a shared, frozen object). */
export function connectAdvice(ctx: BatchContext, type: ConnectionType): Readonly<Advice> {
  const { options } = ctx.engine;
  let byKind = advices.get(options);
  if (!byKind) {
    byKind = {
      streamed: Object.freeze({ reconnect: 'retry', interval: options.timeout, timeout: 0 }),
      polling: Object.freeze({ reconnect: 'retry', interval: options.pollingInterval ?? 0, timeout: 0 }),
      held: Object.freeze({ reconnect: 'retry', interval: options.interval, timeout: options.timeout }),
    };
    advices.set(options, byKind);
  }
  // A stream carries deliveries as they happen: its connect is answered at once.
  const { streamed, duplex } = TRANSPORTS[type];
  if (streamed) return byKind.streamed;
  if (options.pollingInterval !== undefined && !duplex) return byKind.polling;
  return byKind.held;
}

export function handleConnect(ctx: BatchContext, message: ConnectRequest, result: BatchResult): void {
  const session = sessionFor(ctx, message, result);
  if (!session) return;
  const type = message.connectionType;
  if (typeof type !== 'string') {
    result.replies.push(failure(message, bayeuxErrors.badRequest('connect needs "connectionType"')));
    return;
  }
  if (!ctx.engine.options.transports.has(type as ConnectionType)) {
    result.replies.push(failure(message, bayeuxErrors.unsupportedConnectionType([type.slice(0, 32)])));
    return;
  }
  const connectionType = type as ConnectionType;
  session.connected = true;
  result.connectionType = connectionType;
  session.transport = connectionType;
  // Before the ack: a stale stream's deliveries must not count as confirmed (see connectedOver).
  session.connectedOver(connectionType);
  const ack = message.ext?.ack;
  if (session.ackEnabled && typeof ack === 'number') session.acknowledge(ack);

  const advice = connectAdvice(ctx, connectionType);
  // One literal with every field (no properties added later) and the session's own clientId
  // string, not the parsed copy: a held connect is kept per idle client.
  const reply: Reply =
    message.id === undefined
      ? { channel: '/meta/connect', successful: true, clientId: session.id, advice }
      : { channel: '/meta/connect', successful: true, id: message.id, clientId: session.id, advice };
  const clientTimeout = message.advice?.timeout;
  const answerNow = advice.timeout === 0 || clientTimeout === 0;
  if (answerNow) {
    const answer = session.answerNow(reply);
    result.replies.push(...answer.replies);
    result.deliveries.push(...answer.deliveries);
    return;
  }
  const timeout =
    typeof clientTimeout === 'number' && clientTimeout > 0
      ? Math.min(clientTimeout, ctx.engine.options.timeout)
      : ctx.engine.options.timeout;
  result.hold = { session, reply, timeout };
}
