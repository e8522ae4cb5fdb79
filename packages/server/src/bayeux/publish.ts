/** Publishes from clients: data channels are broadcast; `/service/**` goes to server-side listeners. */
import { bayeuxErrors, type DataMessage, parseChannel } from '@push/protocol';
import { type Engine, ServiceError } from '../engine.js';
import { dedupeScope, PublishDedupe, publishKey } from '../publish-dedupe.js';
import { type BatchContext, type BatchResult, failure, replyTo, sessionFor } from './context.js';

/** Why a client may not publish to `channel`, as a Bayeux error, or undefined when it may. */
export function publishRefusal(channel: unknown): string | undefined {
  const parsed = parseChannel(channel);
  if (!parsed) return bayeuxErrors.invalidChannel(String(channel).slice(0, 512));
  if (parsed.wildcard !== 'none') return bayeuxErrors.invalidChannel(parsed.name);
  if (parsed.kind === 'meta')
    return bayeuxErrors.channelForbidden(parsed.name, 'Cannot publish to a meta channel');
  if (parsed.segments[0] === 'presence') {
    return bayeuxErrors.channelForbidden(parsed.name, 'Presence channels are written by the server only');
  }
  return undefined;
}

export async function handlePublish(
  ctx: BatchContext,
  message: DataMessage,
  result: BatchResult,
): Promise<void> {
  const refusal = publishRefusal(message.channel);
  if (refusal) {
    result.replies.push(failure(message, refusal));
    return;
  }
  const session = sessionFor(ctx, message, result);
  if (!session) return;
  if (!('data' in message)) {
    result.replies.push(failure(message, bayeuxErrors.badRequest('publish needs "data"')));
    return;
  }
  const { engine } = ctx;
  const channel = message.channel;
  if (parseChannel(channel)?.kind === 'service') {
    const handler = engine.services.get(channel);
    const reply = replyTo(message, true);
    if (handler) {
      try {
        const data = await handler({
          channel,
          data: message.data,
          clientId: session.id,
          identity: session.identity,
        });
        if (data !== undefined) reply.data = data;
      } catch (error) {
        result.replies.push(
          failure(message, error instanceof ServiceError ? error.bayeux : bayeuxErrors.serverError()),
        );
        return;
      }
    }
    result.replies.push(reply);
    return;
  }
  const authorize = engine.options.authorize;
  if (authorize && !(await authorize(session.identity, 'publish', channel))) {
    result.replies.push(failure(message, bayeuxErrors.forbidden(channel, 'publish')));
    return;
  }
  const { key, error } = publishKey(message);
  if (error) {
    result.replies.push(failure(message, error));
    return;
  }
  const publish = () =>
    engine.publish({
      channel,
      data: message.data,
      publisherId: session.id,
      ...(typeof message.id === 'string' ? { id: message.id } : {}),
    });
  // A repeated key gets the first publish's reply: the client resent it after a drop or a reload.
  const stored = key
    ? await dedupeOf(engine).once(dedupeScope(session.identity), channel, key, publish)
    : await publish();
  const reply = replyTo(message, true);
  reply.ext = { push: { offset: stored.offset, epoch: stored.epoch } };
  result.replies.push(reply);
}

/** Each server's key store, made on its first keyed publish. */
const dedupes = new WeakMap<Engine, PublishDedupe>();

function dedupeOf(engine: Engine): PublishDedupe {
  let dedupe = dedupes.get(engine);
  if (!dedupe) {
    dedupe = new PublishDedupe(engine.options.publishDedupe, engine.clock);
    dedupes.set(engine, dedupe);
  }
  return dedupe;
}
