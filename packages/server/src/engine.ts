/**
 * The server core shared by every transport and handler: sessions, the subscription index, the
 * broker feed and fan-out. Transports hand it batches; it never touches sockets itself.
 */
import { EventEmitter } from 'node:events';
import {
  bayeuxErrors,
  isServiceChannel,
  type PresenceEvent,
  presenceChannel,
  type Reply,
  SubscriptionIndex,
} from '@push/protocol';
import { ChannelGate, type DeliveryGate } from './authorization.js';
import type { Broker, BrokerMessage, BrokerPublishInput } from './broker/types.js';
import { endExpiredSession } from './credentials.js';
import { Deadlines } from './deadlines.js';
import { createDelivery } from './delivery.js';
import { messageOf } from './errors.js';
import type { PushServerEvents } from './events.js';
import { ServerMetrics } from './metrics.js';
import type { PushIdentity, ResolvedOptions } from './options.js';
import { RateLimiter } from './rate-limit.js';
import type { Relay } from './relay.js';
import { Session, type SessionEndReason, type SessionHost } from './session.js';
import { createClientId, SessionRegistry } from './session-registry.js';

/** What a service-channel listener gets. */
export interface ServiceRequest {
  channel: string;
  data: unknown;
  clientId: string;
  identity: PushIdentity;
}

/**
 * A server-side listener on a `/service/**` channel. Its return value becomes the reply's `data`;
 * throwing a `ServiceError` fails the reply with that Bayeux error.
 */
export type ServiceHandler = (request: ServiceRequest) => unknown;

/**
 * Thrown by a {@link ServiceHandler} to refuse with a Bayeux error string.
 * @example
 * push.service('/service/rpc', ({ data }) => {
 *   if (!data) throw new ServiceError(bayeuxErrors.badRequest('rpc needs data'));
 *   return { ok: true };
 * });
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(readonly bayeux: string) {
    super(bayeux);
  }
}

/** The core behind a PushServer (internal: not exported from the package). */
export class Engine implements SessionHost {
  readonly registry: SessionRegistry;
  readonly deadlines: Deadlines;
  /** Serves sessions of other nodes when the broker shares sessions (set by the server). */
  relay: Relay | undefined = undefined;
  readonly index = new SubscriptionIndex<Session>();
  readonly metrics: ServerMetrics;
  readonly events = new EventEmitter<PushServerEvents>();
  readonly services = new Map<string, ServiceHandler>();
  /** Handshakes per source and minute (`limits.handshakesPerMinute`). */
  readonly handshakeRate: RateLimiter;
  /** Per-delivered-channel authorization; undefined (no cost in fan-out) without `authorize`. */
  readonly gate: DeliveryGate | undefined;
  private fanoutSeq = 0;
  /** Sessions with deliveries to write at the end of this tick (see flushSoon). */
  private toFlush: Session[] = [];
  private readonly offBroker: () => void;

  constructor(
    readonly options: ResolvedOptions,
    readonly broker: Broker,
  ) {
    this.deadlines = new Deadlines(options.clock, (target, error) =>
      this.fault(target instanceof Session ? target : undefined, 'held connect deadline', error),
    );
    this.registry = new SessionRegistry({
      clock: options.clock,
      sessionTimeout: options.sessionTimeout,
      onExpire: (session) => this.endSession(session, 'expired'),
      onCredentialsExpire: (session) => endExpiredSession(this, session),
    });
    this.handshakeRate = new RateLimiter(options.limits.handshakesPerMinute, () => options.clock.now());
    this.metrics = new ServerMetrics({ sessions: () => this.registry.values() });
    this.gate = options.authorize
      ? new ChannelGate(options.authorize, this, options.limits.maxQueue)
      : undefined;
    this.offBroker = broker.onMessage((message) => this.fanOut(message));
  }

  get clock() {
    return this.options.clock;
  }

  createSession(identity: PushIdentity): Session {
    const session = new Session(createClientId(), identity, this, this.options.limits.maxQueue);
    this.registry.add(session);
    session.awaitFirstConnect(this.options.limits.handshakeTimeout);
    return session;
  }

  /**
   * Records a new session in the broker's shared session store, if any, so requests for it that
   * reach other nodes are relayed here. A store that is away leaves the session local.
   */
  async shareSession(session: Session): Promise<void> {
    const store = this.broker.sessions;
    if (!store) return;
    try {
      await store.claim(session.id, this.options.sessionTimeout * 2);
    } catch {
      // Served here only: other nodes answer its requests with 402 and the client handshakes again.
    }
  }

  /** Ends a session everywhere: index, presence, registry; tells the client with `final` if given. */
  endSession(session: Session, reason: SessionEndReason, final?: Reply): void {
    if (session.closed) return;
    for (const pattern of session.subscriptions()) this.index.remove(pattern, session);
    session.end(final);
    this.registry.remove(session, reason, final?.error);
    for (const channel of session.presence ?? []) {
      // A broker that is away cannot be told now; presence entries carry a TTL and expire there.
      this.leavePresence(session, channel).catch(() => {});
    }
    session.presence = undefined;
    // On shutdown the store drops this whole node at once (other nodes then answer 402).
    if (reason !== 'server-close') this.broker.sessions?.release(session.id).catch(() => {});
    this.events.emit('disconnect', { clientId: session.id, reason });
  }

  /** Publishes through the broker (so every server process fans it out). */
  async publish(input: BrokerPublishInput): Promise<BrokerMessage> {
    const stored = await this.broker.publish(input);
    this.events.emit('publish', {
      clientId: input.publisherId,
      channel: stored.channel,
      data: stored.data,
      offset: stored.offset,
    });
    return stored;
  }

  /** SessionHost: the client's queue overflowed; cut it off with a clear error, carry on. */
  overflow(session: Session): void {
    if (session.closed) return;
    this.metrics.queueOverflows++;
    const error = bayeuxErrors.limitExceeded('queue', this.options.limits.maxQueue);
    this.endSession(session, 'overflow', {
      channel: '/meta/connect',
      clientId: session.id,
      successful: false,
      error,
      advice: { reconnect: 'handshake', interval: 0 },
    });
  }

  /** SessionHost: a handshake whose client never connected within `limits.handshakeTimeout`. */
  firstConnectMissed(session: Session): void {
    if (session.closed) return;
    this.metrics.refused('handshake-timeout');
    this.endSession(session, 'handshake-timeout');
  }

  /** SessionHost: counts deliveries. */
  delivered(count: number): void {
    this.metrics.messagesOut += count;
  }

  /** SessionHost: one microtask writes every session's deliveries of this tick. */
  flushSoon(session: Session): void {
    if (this.toFlush.push(session) === 1) queueMicrotask(this.flushSessions);
  }

  private readonly flushSessions = (): void => {
    const sessions = this.toFlush;
    this.toFlush = [];
    for (const session of sessions) {
      try {
        session.flush();
      } catch (error) {
        this.fault(session, 'flush', error);
      }
    }
  };

  /**
   * SessionHost: contains an exception caused by one client. It is logged and counted, and the
   * client's session (if known) ends with `500` and advice to handshake again; nothing else is
   * touched, so one client's input can never end the process or another client's session.
   */
  fault(session: Session | undefined, where: string, error: unknown): void {
    this.metrics.faults++;
    this.options.logger?.warn({
      code: 'fault',
      message: `${where}: ${messageOf(error)}`,
      ...(session ? { clientId: session.id } : {}),
      error,
    });
    if (!session || session.closed) return;
    try {
      this.endSession(session, 'fault', {
        channel: '/meta/connect',
        clientId: session.id,
        successful: false,
        error: bayeuxErrors.serverError(),
        advice: { reconnect: 'handshake', interval: 0 },
      });
    } catch (second) {
      // Ending it threw too (its socket is broken): forget it without telling the client.
      for (const pattern of session.subscriptions()) this.index.remove(pattern, session);
      session.closed = true;
      this.registry.remove(session, 'fault');
      this.options.logger?.warn({
        code: 'fault',
        message: `ending session: ${String(second)}`,
        error: second,
      });
    }
  }

  async leavePresence(session: Session, channel: string): Promise<void> {
    session.presence?.delete(channel);
    const member = await this.broker.presence.leave(channel, session.id);
    if (member) {
      const event: PresenceEvent = { type: 'leave', channel, member };
      await this.publish({ channel: presenceChannel(channel), data: event });
    }
  }

  /**
   * Fan-out: serialize once, hand the same delivery to every matching session. Never awaits a
   * client. With an `authorize` hook each delivery passes the gate, which holds authorization per
   * concrete channel (a wildcard subscription does not open every channel it matches).
   */
  private fanOut(message: BrokerMessage): void {
    if (isServiceChannel(message.channel)) return;
    const seq = ++this.fanoutSeq;
    const gate = this.gate;
    let delivery: ReturnType<typeof createDelivery> | undefined;
    try {
      this.index.forEachMatch(message.channel, (session) => {
        if (session.lastFanout === seq) return;
        session.lastFanout = seq;
        // Serialized once; a message that cannot be serialized throws here, out of the loop.
        delivery ??= createDelivery(message);
        try {
          if (gate === undefined) session.deliver(delivery);
          else gate.deliver(session, delivery);
        } catch (error) {
          this.fault(session, 'delivery', error);
        }
      });
    } catch (error) {
      // Only this message is lost (a broker handed over data JSON cannot encode); fan-out goes on.
      this.fault(undefined, `fan-out of ${message.channel}`, error);
    }
  }

  async close(): Promise<void> {
    this.offBroker();
    for (const session of [...this.registry.values()]) this.endSession(session, 'server-close');
    this.registry.stop();
    this.deadlines.clear();
  }
}
