/** `/meta/subscribe`: validation, limits, authorization, and resume from history (`ext.push.resume`). */
import {
  bayeuxErrors,
  channelMatches,
  parseChannel,
  type Reply,
  type StreamPosition,
  type SubscribeRequest,
} from '@push/protocol';
import { presenceTarget } from '../authorization.js';
import type { Session } from '../session.js';
import {
  type BatchContext,
  type BatchResult,
  failure,
  replyTo,
  sessionFor,
  subscriptionList,
} from './context.js';

/** Why `channel` may not be subscribed to, as a Bayeux error, or undefined when it may. */
function subscribeRefusal(channel: string): string | undefined {
  const parsed = parseChannel(channel);
  if (!parsed) return bayeuxErrors.invalidChannel(channel.slice(0, 512));
  if (parsed.kind === 'meta')
    return bayeuxErrors.channelForbidden(channel, 'Cannot subscribe to a meta channel');
  if (parsed.kind === 'service') {
    return bayeuxErrors.channelForbidden(
      channel,
      'Service channels are not broadcast: publish to them instead',
    );
  }
  return undefined;
}

function isPosition(value: unknown): value is StreamPosition {
  const candidate = value as StreamPosition | undefined;
  return (
    typeof candidate?.offset === 'number' &&
    Number.isInteger(candidate.offset) &&
    typeof candidate.epoch === 'string'
  );
}

export async function handleSubscribe(
  ctx: BatchContext,
  message: SubscribeRequest,
  result: BatchResult,
): Promise<void> {
  const session = sessionFor(ctx, message, result);
  if (!session) return;
  const { engine } = ctx;
  const channels = subscriptionList(message.subscription);
  if (!channels) {
    result.replies.push(
      failure(message, bayeuxErrors.badRequest('subscribe needs "subscription" (a channel or a list)')),
    );
    return;
  }
  const refuse = (error: string) => {
    const reply = failure(message, error);
    reply.subscription = message.subscription;
    result.replies.push(reply);
  };
  for (const channel of channels) {
    const refusal = subscribeRefusal(channel);
    if (refusal) return refuse(refusal);
  }
  const fresh = channels.filter((channel) => !session.isSubscribed(channel));
  const max = engine.options.limits.maxSubscriptions;
  if (session.subscriptionCount + fresh.length > max)
    return refuse(bayeuxErrors.limitExceeded('subscriptions', max));
  const authorize = engine.options.authorize;
  if (authorize) {
    for (const channel of channels) {
      if (!(await authorize(session.identity, 'subscribe', channel)))
        return refuse(bayeuxErrors.forbidden(channel, 'subscribe'));
      // A concrete presence subscription is not rechecked per delivery: it needs the `presence`
      // right on the channel it reports now. Wildcards are judged per delivered channel instead.
      const target = presenceTarget(channel);
      if (
        target !== undefined &&
        parseChannel(channel)?.wildcard === 'none' &&
        !(await authorize(session.identity, 'presence', target))
      )
        return refuse(bayeuxErrors.forbidden(channel, 'presence'));
    }
  }
  if (session.closed) return refuse(bayeuxErrors.unknownClient());
  for (const channel of fresh) {
    session.addSubscription(channel);
    engine.index.add(channel, session);
    engine.events.emit('subscribe', { clientId: session.id, channel });
  }
  const reply: Reply = replyTo(message, true);
  reply.subscription = message.subscription;
  result.replies.push(reply);
  await addPositions(ctx, session, channels, message, reply, result);
}

/** Fills `ext.push.positions` (and `recovered`) and schedules resumed messages after the reply. */
async function addPositions(
  ctx: BatchContext,
  session: Session,
  channels: string[],
  message: SubscribeRequest,
  reply: Reply,
  result: BatchResult,
): Promise<void> {
  const { broker } = ctx.engine;
  const resume = message.ext?.push?.resume;
  const positions: Record<string, StreamPosition> = {};
  let recovered: boolean | undefined;
  const concrete = channels.filter((channel) => parseChannel(channel)?.wildcard === 'none');
  // A wildcard subscription resumes the concrete channels it matches that the client names.
  const patterns = channels.filter((channel) => !concrete.includes(channel));
  // Bounded like subscriptions: each resumed channel costs a history read.
  const requested = (resume && typeof resume === 'object' ? Object.keys(resume) : []).slice(
    0,
    ctx.engine.options.limits.maxSubscriptions,
  );
  const gate = ctx.engine.gate;
  for (const channel of requested) {
    if (concrete.includes(channel) || parseChannel(channel)?.wildcard !== 'none') continue;
    if (!patterns.some((pattern) => channelMatches(pattern, channel))) continue;
    // History goes through the same per-channel gate as live fan-out: a wildcard does not open
    // the history (nor the position) of a channel this identity may not receive.
    if (gate && !(await gate.allows(session, channel))) continue;
    concrete.push(channel);
  }
  const resumes: Array<[string, StreamPosition]> = [];
  for (const channel of concrete) {
    const from = resume && typeof resume === 'object' ? resume[channel] : undefined;
    if (isPosition(from)) {
      session.resuming ??= new Map();
      session.resuming.set(channel, []);
      resumes.push([channel, from]);
    }
  }
  for (const channel of concrete) {
    const from = resumes.find(([name]) => name === channel)?.[1];
    if (!from) {
      positions[channel] = await broker.position(channel);
      continue;
    }
    const history = await broker.history(channel, from);
    positions[channel] = history.position;
    recovered = (recovered ?? true) && history.recovered;
    result.after.push(() => {
      const buffered = session.resuming?.get(channel) ?? [];
      session.resuming?.delete(channel);
      if (session.resuming?.size === 0) session.resuming = undefined;
      const last = history.messages.at(-1)?.offset ?? from.offset;
      const live = buffered.filter((delivery) => delivery.offset > last || !history.recovered);
      session.replay(history.messages, live);
    });
  }
  if (resume !== undefined && typeof resume === 'object' && recovered === undefined) {
    // Resume was asked only for channels this subscribe does not cover.
    recovered = Object.keys(resume).length === 0;
  }
  reply.ext = { push: { positions, ...(recovered === undefined ? {} : { recovered }) } };
}
