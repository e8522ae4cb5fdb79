/**
 * Authorization that holds on what is delivered, not on the pattern typed.
 *
 * `authorize(identity, 'subscribe', pattern)` at subscribe time only judges the pattern: `/**` may
 * be fine while `/admin/secrets`, which it matches, is not. So a message that reaches a session
 * through a wildcard is delivered only if `authorize(identity, 'subscribe', channel)` allows its
 * concrete channel, and a presence event on `/presence<x>` only if `authorize(identity, 'presence',
 * x)` allows too. Each (session, channel) decision is taken once and cached in a small per-session
 * cache, so fan-out pays one map lookup per wildcard delivery, not one hook call.
 *
 * A server without an `authorize` hook has no gate at all (the engine delivers directly).
 */
import type { Delivery } from './delivery.js';
import type { Authorize, PushIdentity } from './options.js';
import type { Session } from './session.js';

/**
 * Decisions kept per session. Past this many channels the oldest decision is forgotten first (a
 * later delivery on it asks `authorize` again). Oldest-first rather than least-recently-used, so a
 * cache hit costs one lookup and no reordering.
 */
export const AUTHORIZATION_CACHE_SIZE = 256;

const PRESENCE_PREFIX = '/presence/';

/**
 * The channel whose presence events `channel` carries (`/presence/a/b` -> `/a/b`), or undefined
 * when `channel` is not a presence channel.
 * @example presenceTarget('/presence/chat/lobby') === '/chat/lobby'
 */
export function presenceTarget(channel: string): string | undefined {
  return channel.startsWith(PRESENCE_PREFIX) ? channel.slice(PRESENCE_PREFIX.length - 1) : undefined;
}

/** What the gate needs from the server around it. */
export interface GateHost {
  /** Too many deliveries wait for decisions: the session is cut off like a full queue. */
  overflow(session: Session): void;
}

/** The check the engine runs for every delivery that may need one. */
export interface DeliveryGate {
  /** Delivers now, after the decision arrives (in order), or never. */
  deliver(session: Session, delivery: Delivery): void;
  /** Whether `session` may receive messages on the concrete `channel` (cached like deliveries). */
  allows(session: Session, channel: string): boolean | Promise<boolean>;
}

/** A decision still on its way: the deliveries that wait for it, in order. */
interface Pending {
  readonly waiting: Delivery[];
  readonly decision: Promise<boolean>;
}

type Grant = boolean | Pending;

interface Grants {
  readonly entries: Map<string, Grant>;
  /** Entries holding a decision (pending ones are bounded by `waiting` instead). */
  decided: number;
  /** Deliveries waiting for a decision, over every pending channel of the session. */
  waiting: number;
}

/** Calls the hook; a throw or a rejection denies (an authorization failure never opens a channel). */
function ask(
  authorize: Authorize,
  identity: PushIdentity,
  action: 'subscribe' | 'presence',
  channel: string,
): boolean | Promise<boolean> {
  try {
    const answer = authorize(identity, action, channel);
    if (typeof answer === 'boolean') return answer;
    return Promise.resolve(answer).then(
      (value) => Boolean(value),
      () => false,
    );
  } catch {
    return false;
  }
}

/**
 * The decision for `identity` on concrete `channel`: `subscribe` on the channel, and for a presence
 * channel `presence` on the channel it reports. Synchronous when the hook is.
 */
function decideDelivery(
  authorize: Authorize,
  identity: PushIdentity,
  channel: string,
): boolean | Promise<boolean> {
  const subscribe = ask(authorize, identity, 'subscribe', channel);
  const target = presenceTarget(channel);
  if (target === undefined) return subscribe;
  if (subscribe === false) return false;
  if (subscribe === true) return ask(authorize, identity, 'presence', target);
  return subscribe.then((allowed) => allowed && ask(authorize, identity, 'presence', target));
}

/**
 * The per-delivered-channel gate.
 * @example
 * const gate = new ChannelGate(authorize, engine, 1_000);
 * gate.deliver(session, delivery); // delivered once `authorize` allows its channel for the session
 */
export class ChannelGate implements DeliveryGate {
  /** Weak: a session's decisions go with the session. */
  private readonly grants = new WeakMap<Session, Grants>();

  constructor(
    private readonly authorize: Authorize,
    private readonly host: GateHost,
    /** Deliveries one session may have waiting for decisions (the queue limit: they are queued). */
    private readonly maxWaiting: number,
    private readonly maxEntries: number = AUTHORIZATION_CACHE_SIZE,
  ) {}

  deliver(session: Session, delivery: Delivery): void {
    // A concrete subscription was authorized at subscribe time (presence included).
    if (session.isSubscribed(delivery.channel)) {
      session.deliver(delivery);
      return;
    }
    const grants = this.grantsOf(session);
    const grant = grants.entries.get(delivery.channel) ?? this.decide(session, grants, delivery.channel);
    if (grant === true) session.deliver(delivery);
    else if (grant !== false) this.wait(session, grants, grant, delivery);
  }

  allows(session: Session, channel: string): boolean | Promise<boolean> {
    if (session.isSubscribed(channel)) return true;
    const grants = this.grantsOf(session);
    const grant = grants.entries.get(channel) ?? this.decide(session, grants, channel);
    return typeof grant === 'boolean' ? grant : grant.decision;
  }

  /** How many decisions (settled or not) are cached for `session` (for tests and metrics). */
  cachedFor(session: Session): number {
    return this.grants.get(session)?.entries.size ?? 0;
  }

  private grantsOf(session: Session): Grants {
    let grants = this.grants.get(session);
    if (!grants) {
      grants = { entries: new Map(), decided: 0, waiting: 0 };
      this.grants.set(session, grants);
    }
    return grants;
  }

  private decide(session: Session, grants: Grants, channel: string): Grant {
    const decision = decideDelivery(this.authorize, session.identity, channel);
    if (typeof decision === 'boolean') {
      this.remember(grants, channel, decision);
      return decision;
    }
    const pending: Pending = { waiting: [], decision };
    grants.entries.set(channel, pending);
    // Registered before anyone else can await `decision`: the waiting deliveries go out before a
    // resume that awaited the same decision reads history, so nothing is delivered twice.
    decision.then((allowed) => this.settle(session, grants, channel, pending, allowed));
    return pending;
  }

  private wait(session: Session, grants: Grants, pending: Pending, delivery: Delivery): void {
    if (grants.waiting >= this.maxWaiting) {
      this.host.overflow(session);
      return;
    }
    pending.waiting.push(delivery);
    grants.waiting++;
  }

  private settle(
    session: Session,
    grants: Grants,
    channel: string,
    pending: Pending,
    allowed: boolean,
  ): void {
    grants.waiting -= pending.waiting.length;
    if (grants.entries.get(channel) === pending) {
      grants.entries.delete(channel);
      this.remember(grants, channel, allowed);
    }
    if (allowed && !session.closed) for (const delivery of pending.waiting) session.deliver(delivery);
    pending.waiting.length = 0;
  }

  /** Caches a decision, forgetting the oldest decided channels past `maxEntries`. */
  private remember(grants: Grants, channel: string, allowed: boolean): void {
    grants.entries.set(channel, allowed);
    grants.decided++;
    if (grants.decided <= this.maxEntries) return;
    for (const [name, grant] of grants.entries) {
      if (typeof grant !== 'boolean') continue;
      grants.entries.delete(name);
      if (--grants.decided <= this.maxEntries) return;
    }
  }
}
