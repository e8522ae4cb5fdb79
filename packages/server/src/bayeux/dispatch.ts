/** Routes each message of a batch to the handler of its channel, in order. */
import {
  bayeuxErrors,
  type ConnectRequest,
  type DataMessage,
  type DisconnectRequest,
  type HandshakeRequest,
  isMetaChannel,
  META,
  type Message,
  type Reply,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from '@push/protocol';
import { handleConnect } from './connect.js';
import { type BatchContext, type BatchResult, failure } from './context.js';
import { handleDisconnect } from './disconnect.js';
import { handleHandshake } from './handshake.js';
import { handlePublish } from './publish.js';
import { faultRefusal, unreadableBatchReply } from './refusals.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

type Handler = (ctx: BatchContext, message: Message, result: BatchResult) => void | Promise<void>;

/**
 * A Map, not an object literal: the channel is client input, and `handlers['constructor']` would
 * find Object's constructor on the prototype (the fuzzer found that: a batch answered with `[]`).
 */
const META_HANDLERS = new Map<string, Handler>([
  [META.handshake, (ctx, m, r) => handleHandshake(ctx, m as HandshakeRequest, r)],
  [META.connect, (ctx, m, r) => handleConnect(ctx, m as ConnectRequest, r)],
  [META.subscribe, (ctx, m, r) => handleSubscribe(ctx, m as SubscribeRequest, r)],
  [META.unsubscribe, (ctx, m, r) => handleUnsubscribe(ctx, m as UnsubscribeRequest, r)],
  [META.disconnect, (ctx, m, r) => handleDisconnect(ctx, m as DisconnectRequest, r)],
]);

/**
 * Processes a decoded batch. Never throws for bad input: every problem becomes a failed reply.
 * @example const result = await processBatch(ctx, decodeBatch(body));
 */
export async function processBatch(ctx: BatchContext, messages: readonly Message[]): Promise<BatchResult> {
  const result: BatchResult = {
    replies: [],
    deliveries: [],
    hold: undefined,
    session: undefined,
    connectionType: undefined,
    after: [],
  };
  const { metrics, options } = ctx.engine;
  const { maxFailuresPerBatch, maxHandshakesPerBatch } = options.limits;
  metrics.messagesIn += messages.length;
  let handshakes = 0;
  let failures = 0;
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    const repliesBefore = result.replies.length;
    try {
      const handler = META_HANDLERS.get(message.channel);
      if (message.channel === META.handshake && ++handshakes > maxHandshakesPerBatch) {
        metrics.refused('handshakes-per-batch');
        result.replies.push(
          failure(message, bayeuxErrors.limitExceeded('handshakes', maxHandshakesPerBatch)),
        );
      } else if (handler) {
        // Only an async handler is awaited: /meta/connect, the most frequent message, is sync.
        const pending = handler(ctx, message, result);
        if (pending) await pending;
      } else if (isMetaChannel(message.channel)) {
        result.replies.push(
          failure(message, bayeuxErrors.channelForbidden(message.channel, 'Unknown meta channel')),
        );
      } else await handlePublish(ctx, message as DataMessage, result);
    } catch (error) {
      result.replies.push(failureFor(message, error));
    } finally {
      for (let reply = repliesBefore; reply < result.replies.length; reply++)
        if ((result.replies[reply] as Reply).successful === false) failures++;
    }
    if (failures >= maxFailuresPerBatch && index < messages.length - 1) {
      // The rest is refused with one reply: a batch of bogus messages gets a bounded answer.
      metrics.refused('failures-per-batch');
      result.replies.push(unreadableBatchReply(bayeuxErrors.limitExceeded('failures', maxFailuresPerBatch)));
      break;
    }
  }
  return result;
}

/**
 * The failed reply to a message whose handling threw: `503` with advice to retry for a passing
 * failure (see {@link faultRefusal}), else `500`.
 */
function failureFor(message: Message, error: unknown): Reply {
  const refused = faultRefusal(error);
  return refused.status === 503
    ? failure(message, refused.error, RETRY_SOON)
    : failure(message, refused.error);
}

const RETRY_SOON = Object.freeze({ reconnect: 'retry', interval: 1000 } as const);
