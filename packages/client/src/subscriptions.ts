/**
 * Subscriptions: handles share one server subscription per pattern; after a new session every
 * pattern is renewed with `ext.push.resume` built from the last position seen per channel; data
 * carrying offsets is deduplicated so the app sees each message once and in order;
 * `recovered: false` is surfaced when the server's history window was exceeded.
 */

import {
  channelMatches,
  type DataMessage,
  isDataMessage,
  isValidChannel,
  isWildcard,
  type Message,
  parseBayeuxError,
  type Reply,
  type StreamPosition,
} from '@push/protocol';
import { defer } from './defer.js';
import { PushError } from './errors.js';
import type { ClientEvents, MessageHandler, SubscribeOptions, Subscription } from './types.js';

interface Entry {
  pattern: string;
  handles: Set<Handle>;
  resume: boolean;
  subscribed?: boolean;
  sending?: boolean;
  /** Another send was asked for while one was in flight. */
  again?: boolean;
}

interface Handle extends Subscription {
  /** A field, not a getter over a closure: a delivery reads it for every handle. */
  state: Subscription['state'];
  handler: MessageHandler;
  settle(error?: PushError): void;
}

/**
 * What the client keeps per concrete channel, in one record: a delivery finds its position, its
 * gap and its handles with one lookup (with 1,000 clients in one process, each object a delivery
 * touches is a likely cache miss).
 */
interface ChannelState {
  /**
   * Last position delivered to the app (both set, or neither). Fields, not a position object: a
   * delivery updates them in place instead of allocating one (and the epoch rarely changes).
   */
  offset?: number;
  epoch?: string;
  /** Messages held back behind a gap, until the resume fills it. */
  gap?: Map<number, DataMessage>;
  /** The last resume sent for it: only that resume's wait may give up. */
  resumed?: number;
  /**
   * The handles its messages go to, in subscription order, while `at` is the current generation:
   * the handle itself when there is one (most channels), an array when there are more.
   */
  receivers?: Handle | Handle[];
  at?: number;
}

export interface SubscriptionsDeps {
  connected(): boolean;
  /** Messages held behind a gap, per channel (`maxGapBuffer`). @defaultValue 1000 */
  max?: number;
  request(message: Message): Promise<Reply>;
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void;
  /** Runs `fn` after the resume deadline. */
  later(fn: () => void): void;
  /** When the current link last delivered anything (the client's clock; 0 without a link). */
  heard?(): number;
}

export interface Subscriptions {
  subscribe(channel: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  /**
   * Delivers a data message to matching handles, dropping what was already seen; ignores any other
   * message (the connection passes on everything that is not a reply to a request).
   */
  deliver(message: Message): void;
  /** Renews subscriptions after (re)connecting; all of them when the session is new. */
  renew(fresh: boolean): void;
}

export function createSubscriptions(deps: SubscriptionsDeps): Subscriptions {
  const entries = new Map<string, Entry>();
  /**
   * Per concrete channel: kept while a subscription covers it and it has a position, a gap or
   * handles found for it, dropped with the last subscription covering it.
   */
  const channels = new Map<string, ChannelState>();
  const stateFor = (channel: string, known = channels.get(channel)): ChannelState => {
    if (known) return known;
    const state: ChannelState = {};
    channels.set(channel, state);
    return state;
  };
  const place = (state: ChannelState, { offset, epoch }: StreamPosition) => {
    state.offset = offset;
    if (state.epoch !== epoch) state.epoch = epoch;
  };
  const positionOf = ({ offset, epoch }: ChannelState): StreamPosition | undefined =>
    epoch === undefined ? undefined : { offset: offset!, epoch };
  /**
   * New messages delivered, on any channel: the session's queue is moving. A resume replays every
   * resumed channel from its position, one channel after another, and most of them have no gap the
   * client knows of (nothing after the loss reached it yet): a long replay of those fills no gap
   * for many round trips, yet the gap's own replay is behind it in the same queue.
   */
  let moved = 0;
  /** Resumes sent (each channel's last one is in its state). */
  let resumes = 0;

  /** Takes positions the client does not know yet. */
  const seed = (from: Record<string, StreamPosition> = {}) => {
    for (const c in from) {
      const state = stateFor(c);
      if (state.epoch === undefined) place(state, from[c]!);
    }
  };
  /** The subscriptions covering a concrete channel. */
  const covering = (channel: string) =>
    [...entries.values()].filter((e) => channelMatches(e.pattern, channel));
  /**
   * The handles a channel's messages go to, in subscription order, found once and kept until a
   * subscription or a handle comes or goes (`track`): a delivery then reads the one handle (or a
   * short array), not every pattern and their sets. Only channels something covers get a state.
   */
  let generation = 0;
  const receiversOf = (channel: string, known = channels.get(channel)): ChannelState['receivers'] => {
    if (known?.at === generation) return known.receivers;
    const found = covering(channel).flatMap((entry) => [...entry.handles]);
    const receivers = found.length > 1 ? found : found[0];
    if (receivers) {
      const state = stateFor(channel, known);
      state.receivers = receivers;
      state.at = generation;
    } else if (known) known.receivers = undefined;
    return receivers;
  };
  /** Every change to `entries` or to a subscription's handles goes through here. */
  const track = <T>(change: T): T => {
    generation++;
    return change;
  };

  /**
   * Ends a subscription and forgets the state (position, held gap) of the channels it covered that
   * no other one covers: an app churning through channels all day must not keep one per channel.
   */
  function drop(pattern: string): void {
    track(entries.delete(pattern));
    // A plain channel is a lookup: ending many subscriptions must not scan every channel.
    for (const channel of isWildcard(pattern) ? [...channels.keys()] : [pattern])
      if (channelMatches(pattern, channel) && !covering(channel)[0]) channels.delete(channel);
  }

  /** Last positions of the channels `pattern` covers (itself, or those under a wildcard). */
  function seenUnder(pattern: string): Record<string, StreamPosition> | undefined {
    if (!isWildcard(pattern)) {
      // A plain channel is a lookup: renewing or ending many subscriptions must not scan every position.
      const state = channels.get(pattern);
      const position = state && positionOf(state);
      return position && { [pattern]: position };
    }
    let seen: Record<string, StreamPosition> | undefined;
    for (const [channel, state] of channels) {
      const position = channelMatches(pattern, channel) && positionOf(state);
      if (!position) continue;
      seen ??= {};
      seen[channel] = position;
    }
    return seen;
  }

  const leave = (pattern: string) =>
    void deps.request({ channel: '/meta/unsubscribe', subscription: pattern } as Message).catch(() => {});

  async function send(entry: Entry): Promise<void> {
    if (entry.sending || !deps.connected()) {
      entry.again = entry.sending;
      return;
    }
    entry.sending = true;
    entry.again = false;
    const { pattern } = entry;
    const message = { channel: '/meta/subscribe', subscription: pattern } as Message;
    const resume = entry.resume ? seenUnder(pattern) : undefined;
    if (resume) {
      message.ext = { push: { resume } };
      resumes++;
      for (const channel in resume) stateFor(channel).resumed = resumes;
    }
    try {
      const reply = await deps.request(message);
      if (entries.get(pattern) !== entry) {
        // Left while the subscribe was in flight: undo it, unless subscribed again since.
        if (reply.successful && !entries.has(pattern)) leave(pattern);
        return;
      }
      if (!reply.successful) {
        const code = reply.error ? parseBayeuxError(reply.error)?.code : undefined;
        // A refusal that says the session failed, not the subscription: 402 (unknown client), 503
        // (server unavailable), or 429 with advice to handshake again (the session is being cut).
        // Anything else (403, 405, 407, 400, a plain 429 limit) is final.
        if (code === 402 || code === 503 || (code === 429 && reply.advice?.reconnect === 'handshake')) {
          // Keep the subscription (and its handles) and send it again, after the new handshake
          // (renew) or, for a passing 503, after a pause.
          entry.subscribed = false;
          if (code === 503 && reply.advice?.reconnect !== 'handshake')
            deps.later(() => entries.get(pattern) === entry && !entry.subscribed && void send(entry));
          return;
        }
        const error = new PushError('rejected', `${pattern} refused`, reply.error, reply.advice);
        drop(pattern);
        for (const handle of entry.handles) handle.settle(error);
        return deps.emit('error', error);
      }
      entry.subscribed = true;
      const push = reply.ext?.push;
      // Each channel's position when the subscription began: a message lost before the first one
      // arrives (a stream dying right after subscribing) is then a gap that a resume fills.
      seed(push?.positions);
      if (resume && push?.recovered !== undefined) {
        for (const channel in resume) {
          if (!push.recovered) {
            flushGap(channel);
            const top = push.positions?.[channel];
            if (top) place(stateFor(channel), top);
          } else if (channels.get(channel)?.gap) awaitFill(channel);
        }
        deps.emit('recovered', { channel: pattern, recovered: push.recovered });
      }
      for (const handle of entry.handles) handle.settle();
    } catch {
      // The request's link went away before the reply. After a reconnect, renew sends it again;
      // but the client may still be connected (an upgrade moved it to another link), and then no
      // renew comes: the subscription was never made on a new session (or its resume never ran)
      // and its channels went silent for good. It is sent again after a pause instead.
      if (deps.connected())
        deps.later(() => entries.get(pattern) === entry && !entry.sending && void send(entry));
    } finally {
      entry.sending = false;
      if (entry.again) void send(entry);
    }
  }

  function dispatch(message: DataMessage, known = channels.get(message.channel)): void {
    const { channel } = message;
    const push = message.ext?.push;
    const hit = receiversOf(channel, known);
    // No subscription covers it (one in flight past an unsubscribe): no position to keep either.
    if (!hit) return;
    if (typeof push?.offset === 'number' && typeof push.epoch === 'string') {
      place(stateFor(channel, known), push as StreamPosition);
    }
    if (Array.isArray(hit)) for (const handle of hit) call(handle, message);
    else call(hit, message);
  }

  function call(handle: Handle, message: DataMessage): void {
    // One that an earlier handler of this message unsubscribed gets nothing more.
    if (handle.state === 'unsubscribed') return;
    try {
      handle.handler(message.data, message);
    } catch (cause) {
      // The app's own bug, not the server's refusal: its own code, delivery goes on.
      const text = `${handle.channel} handler threw: ${cause}`;
      deps.emit('error', new PushError('handler-failed', text, undefined, undefined, { cause }));
    }
  }

  /** Delivers what is held behind a gap, in offset order (the gap stays: history was exceeded). */
  /**
   * The missed messages follow the resume's reply; if they stop coming, stop waiting. A long
   * replay is paced by the server (half its queue per round trip) and replays one channel after
   * another, so a gap is waited for as long as new messages arrive on any channel. A link that
   * carried nothing at all meanwhile is stalled, not done: the heartbeat replaces it and the
   * renewal resumes again; so is a client with no link (reconnecting). Only `attemptTimeout` in
   * which the link carried something but no new message ends it (and `maxGapBuffer` bounds what is
   * held meanwhile).
   */
  function awaitFill(channel: string): void {
    const before = moved;
    const heard = deps.heard?.();
    const mine = channels.get(channel)?.resumed;
    deps.later(() => {
      // Filled, or a newer resume (after a reconnect, a new session) waits in its place.
      const state = channels.get(channel);
      if (!state?.gap || state.resumed !== mine) return;
      // Without a link (reconnecting) nothing can arrive: the renewal after it resumes again.
      const stalled = !deps.connected() || (heard !== undefined && deps.heard?.() === heard);
      if (moved !== before || stalled) awaitFill(channel);
      else flushGap(channel, true);
    });
  }

  /** Delivers what waited behind a gap that is filled now, in order, up to the next hole. */
  function fillFrom(channel: string, gap: Map<number, DataMessage>): void {
    // No position once a handler unsubscribed the last subscription covering it: NaN ends the loop.
    const after = () => (channels.get(channel)?.offset ?? Number.NaN) + 1;
    for (let next = gap.get(after()); next; next = gap.get(after())) {
      gap.delete(next.ext!.push!.offset!);
      dispatch(next);
    }
    const state = channels.get(channel);
    if (gap.size === 0 && state?.gap === gap) state.gap = undefined;
  }

  function flushGap(channel: string, lost?: boolean): void {
    const state = channels.get(channel);
    const gap = state?.gap;
    if (state) state.gap = undefined;
    if (lost) deps.emit('recovered', { channel, recovered: false });
    for (const offset of [...(gap?.keys() ?? [])].sort((a, b) => a - b)) dispatch(gap!.get(offset)!);
  }

  return {
    subscribe(channel, handler, options = {}) {
      if (!isValidChannel(channel)) throw new PushError('invalid-channel', `Invalid channel: ${channel}`);
      const owner =
        entries.get(channel) ??
        track(
          entries.set(channel, { pattern: channel, handles: new Set(), resume: options.resume !== false }),
        ).get(channel)!;
      // Positions to resume from (a shared connection's new leader passes the tabs' last ones).
      seed(options.from);
      const ready = defer();
      const handle: Handle = {
        channel,
        handler: handler as MessageHandler,
        state: 'pending',
        ready: ready.promise,
        settle(error) {
          const { state } = handle;
          // A refused renewal fails a handle that was subscribed, too: it must not read `subscribed`.
          if (state === 'pending') {
            if (error) ready.reject(error);
            else {
              options.onReady?.(seenUnder(channel) ?? {});
              ready.resolve();
            }
          } else if (state !== 'subscribed' || !error) return;
          handle.state = error ? 'failed' : 'subscribed';
        },
        unsubscribe() {
          if (handle.state === 'unsubscribed') return;
          if (handle.state === 'pending') ready.reject(new PushError('closed', 'Unsubscribed'));
          handle.state = 'unsubscribed';
          track(owner.handles.delete(handle));
          if (owner.handles.size > 0 || entries.get(channel) !== owner) return;
          drop(channel);
          if (owner.subscribed && deps.connected()) leave(channel);
        },
      };
      track(owner.handles.add(handle));
      if (owner.subscribed) handle.settle();
      else void send(owner);
      return handle;
    },

    deliver(message) {
      if (!isDataMessage(message)) return;
      const { channel } = message;
      const push = message.ext?.push;
      const state = channels.get(channel);
      const seen = state?.offset;
      if (seen !== undefined && typeof push?.offset === 'number' && state!.epoch === push.epoch) {
        if (push.offset <= seen || state!.gap?.has(push.offset)) return; // duplicate
        // a gap (messages lost with a dead stream): hold back and resume from the last offset
        const entry = push.offset > seen + 1 && covering(channel).find((e) => e.resume);
        if (entry) {
          let gap = state!.gap;
          if (!gap) {
            gap = new Map();
            state!.gap = gap;
            void send(entry);
          }
          gap.set(push.offset, message);
          // Past the cap, stop waiting: what is held goes out in order and the loss is reported.
          if (gap.size > (deps.max ?? 1000)) flushGap(channel, true);
          return;
        }
      }
      moved++;
      dispatch(message, state);
      // The gap may be filled now: deliver what was held back (unless a handler dropped the channel).
      if (state?.gap && channels.get(channel) === state) fillFrom(channel, state.gap);
    },

    renew(fresh) {
      for (const entry of entries.values()) {
        if (fresh) entry.subscribed = false;
        // after a reconnect on the same session, resume anyway: a dead stream may have lost a tail
        if (!entry.subscribed || (entry.resume && seenUnder(entry.pattern))) void send(entry);
      }
    },
  };
}
