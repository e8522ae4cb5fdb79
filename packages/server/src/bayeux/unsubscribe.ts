/** `/meta/unsubscribe`. Unsubscribing from something not subscribed succeeds (idempotent). */
import { bayeuxErrors, parseChannel, type UnsubscribeRequest } from '@push/protocol';
import {
  type BatchContext,
  type BatchResult,
  failure,
  replyTo,
  sessionFor,
  subscriptionList,
} from './context.js';

export function handleUnsubscribe(ctx: BatchContext, message: UnsubscribeRequest, result: BatchResult): void {
  const session = sessionFor(ctx, message, result);
  if (!session) return;
  const channels = subscriptionList(message.subscription);
  if (!channels) {
    result.replies.push(
      failure(message, bayeuxErrors.badRequest('unsubscribe needs "subscription" (a channel or a list)')),
    );
    return;
  }
  const invalid = channels.find((channel) => parseChannel(channel) === undefined);
  if (invalid !== undefined) {
    const reply = failure(message, bayeuxErrors.invalidChannel(invalid.slice(0, 512)));
    reply.subscription = message.subscription;
    result.replies.push(reply);
    return;
  }
  for (const channel of channels) {
    if (!session.removeSubscription(channel)) continue;
    ctx.engine.index.remove(channel, session);
    ctx.engine.events.emit('unsubscribe', { clientId: session.id, channel });
  }
  const reply = replyTo(message, true);
  reply.subscription = message.subscription;
  result.replies.push(reply);
}
