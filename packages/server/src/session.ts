/**
 * One Bayeux client session: its subscriptions, its bounded queue, the connection or held
 * `/meta/connect` its messages go out on, and the ack extension's batches.
 */
import { type Advice, type ConnectionType, type Message, type Reply, TRANSPORTS } from '@push/protocol';
import { ReplayBacklog } from './backlog.js';
import type { BrokerMessage } from './broker/types.js';
import type { Clock } from './clock.js';
import type { Deadline, Deadlines, DeadlineTarget } from './deadlines.js';
import type { Delivery } from './delivery.js';
import type { PushIdentity } from './options.js';
import { DeliveryQueue } from './queue.js';
import type { Connection } from './transports/connection.js';

/** Deliveries of one tick written as one frame, at most (a bigger burst takes several). */
const FRAME_BATCH = 64;

/** Answers a held `/meta/connect` (long-polling response, WebSocket frame, JSONP body). */
export interface ConnectResponder {
  answerConnect(replies: Message[], deliveries: Delivery[]): void;
}

interface AckBatch {
  batch: number;
  /** The stream's deliveries the batch numbered (first), then those its connect reply carried. */
  deliveries: Delivery[];
  /** How many of `deliveries` went out on a stream. */
  streamed: number;
}

/**
 * What the ack extension tracks while something is unconfirmed: deliveries not yet numbered, and
 * batches not yet acked. An idle client has none (the batch counter lives on the session).
 */
interface AckBook {
  /** Delivered on a stream since the last connect reply (they join its batch). */
  open: Delivery[];
  unacked: AckBatch[];
  unackedCount: number;
}

/** Session booleans, folded into one small-integer field (an idle client is mostly fields). */
const CLOSED = 1;
const CONNECTED = 2;
const ACK_ENABLED = 4;
const RELEASE_SCHEDULED = 8;
const WAITING_UNBLOCK = 16;
/** The stream attached carried a `/meta/connect` of its own type: the client adopted it. */
const STREAM_CONFIRMED = 32;

/**
 * Times are kept relative to the first time read from their clock: a small integer is stored in
 * the field itself, an epoch-based millisecond count (past 2^31) is a boxed number of its own.
 */
const epochs = new WeakMap<Clock, number>();
function epochOf(clock: Clock): number {
  let epoch = epochs.get(clock);
  if (epoch === undefined) {
    epoch = clock.now();
    epochs.set(clock, epoch);
  }
  return epoch;
}

/** What a session needs from the server around it. */
export interface SessionHost {
  readonly clock: Clock;
  /** Shared timers for held connects (one per duration, not one per session). */
  readonly deadlines: Deadlines;
  /** Called when the client's queue (or unacked window) overflows: the host ends the session. */
  overflow(session: Session): void;
  /** Counts deliveries written to clients. */
  delivered(count: number): void;
  /**
   * Calls `session.flush()` once the current tick's fan-outs are done, so messages published
   * together leave in one frame (shared by every subscriber that gets the same ones).
   */
  flushSoon(session: Session): void;
  /** An exception while serving this session (never the process): the host logs it and ends the session. */
  fault(session: Session, where: string, error: unknown): void;
  /** Its client sent no `/meta/connect` within the time {@link Session.awaitFirstConnect} gave it. */
  firstConnectMissed(session: Session): void;
}

/** Why a session ended. */
export type SessionEndReason =
  | 'disconnect'
  | 'expired'
  | 'overflow'
  | 'server-close'
  /** Its client never sent a `/meta/connect` within `limits.handshakeTimeout`. */
  | 'handshake-timeout'
  /** Serving it threw (a contained fault, logged). */
  | 'fault';

/**
 * A client session. Fan-out calls {@link deliver}; it never waits on the client's socket.
 * @example
 * session.deliver(delivery); // queued, then written or sent with the next connect reply
 */
export class Session implements DeadlineTarget {
  /**
   * Subscribed patterns: most clients hold one, kept as the string itself (a Set costs ~200 bytes
   * per idle client); a Set from the second on.
   */
  private subs: string | Set<string> | undefined;
  /** Channels this client entered presence on (allocated on first use: most clients never do). */
  presence: Set<string> | undefined;
  /** Current upstream/downstream connection type (for metrics). */
  transport: ConnectionType | undefined;
  /** Last heard of, relative to its clock's epoch (see {@link lastSeen}). */
  private seen: number;
  /** Fan-out stamp: a session matched by several patterns gets a message once. */
  lastFanout = -1;
  /** CLOSED, CONNECTED, ACK_ENABLED, RELEASE_SCHEDULED, WAITING_UNBLOCK, STREAM_CONFIRMED. */
  private flags = 0;
  /** Live deliveries buffered per channel while history for a resume is being fetched. */
  resuming: Map<string, Delivery[]> | undefined;
  /** A resume's replay not queued yet (and the live deliveries behind it), while there is one. */
  private backlog: ReplayBacklog | undefined;

  /** Allocated while something is queued: an idle client (its queue drained) has none. */
  private queue: DeliveryQueue | undefined;
  private connection: Connection | undefined;
  /**
   * The held `/meta/connect`: its id and advice (its reply is built when it is answered), who
   * answers it and its deadline (set together).
   */
  private heldId: string | undefined;
  private heldAdvice: Advice | undefined;
  private heldResponder: ConnectResponder | undefined;
  private heldDeadline: Deadline | undefined;
  /** The held deadline's duration (its lane: a deadline is cancelled with it). */
  private heldTimeout = 0;
  /** Ack extension: the number of the last batch (connect reply) it numbered. */
  private ackCounter = 0;
  /** Ack extension state, allocated while something is unconfirmed. */
  private ackBook: AckBook | undefined;

  constructor(
    readonly id: string,
    readonly identity: PushIdentity,
    private readonly host: SessionHost,
    /** The queue's bound, also the bound of the unacked window. */
    private readonly maxQueue: number,
  ) {
    this.seen = host.clock.now() - epochOf(host.clock);
  }

  /** When its client was last heard of (the session's clock). */
  get lastSeen(): number {
    return this.seen + epochOf(this.host.clock);
  }

  get closed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }
  set closed(value: boolean) {
    this.setFlag(CLOSED, value);
  }

  /** Its client sent a `/meta/connect` (until then it lives only `limits.handshakeTimeout`). */
  get connected(): boolean {
    return (this.flags & CONNECTED) !== 0;
  }
  set connected(value: boolean) {
    // The first connect: the deadline that would end a handshake-only session is no longer due.
    if (value && !this.connected && this.heldDeadline !== undefined && !this.heldResponder) {
      this.host.deadlines.cancel(this.heldTimeout, this.heldDeadline);
      this.heldDeadline = undefined;
    }
    this.setFlag(CONNECTED, value);
  }

  /**
   * Ends the session (through the host) unless its client connects within `ms`: handshakes alone
   * cannot hold session slots. Until the first connect nothing is held, so the held connect's
   * deadline slot carries this one: no object per session, and it is gone at the first connect
   * (a separate timer object stayed for the whole `handshakeTimeout`, ~56 B per new session).
   */
  awaitFirstConnect(ms: number): void {
    this.heldDeadline = this.host.deadlines.add(ms, this);
    this.heldTimeout = ms;
  }

  /** Its client uses the ack extension. */
  get ackEnabled(): boolean {
    return (this.flags & ACK_ENABLED) !== 0;
  }
  set ackEnabled(value: boolean) {
    this.setFlag(ACK_ENABLED, value);
  }

  get subscriptionCount(): number {
    const subs = this.subs;
    return subs === undefined ? 0 : typeof subs === 'string' ? 1 : subs.size;
  }

  /** The subscribed patterns. */
  subscriptions(): Iterable<string> {
    const subs = this.subs;
    return subs === undefined ? [] : typeof subs === 'string' ? [subs] : subs;
  }

  isSubscribed(pattern: string): boolean {
    const subs = this.subs;
    return typeof subs === 'string' ? subs === pattern : subs?.has(pattern) === true;
  }

  addSubscription(pattern: string): void {
    const subs = this.subs;
    if (subs === undefined) this.subs = pattern;
    else if (typeof subs !== 'string') subs.add(pattern);
    else if (subs !== pattern) this.subs = new Set([subs, pattern]);
  }

  /** False when `pattern` was not subscribed. */
  removeSubscription(pattern: string): boolean {
    const subs = this.subs;
    if (typeof subs !== 'string') return subs?.delete(pattern) === true;
    if (subs !== pattern) return false;
    this.subs = undefined;
    return true;
  }

  /** True while a `/meta/connect` is held open for this client. */
  get isHeld(): boolean {
    return this.heldResponder !== undefined;
  }

  get queued(): number {
    return this.queue?.length ?? 0;
  }

  /** The current streaming connection, if any. */
  get current(): Connection | undefined {
    return this.connection;
  }

  touch(): void {
    this.seen = this.host.clock.now() - epochOf(this.host.clock);
  }

  /** Queues a delivery and writes it as soon as the client's connection allows. */
  deliver(delivery: Delivery): void {
    if (this.closed) return;
    if (this.resuming !== undefined) {
      const buffer = this.resuming.get(delivery.channel);
      if (buffer) {
        buffer.push(delivery);
        return;
      }
    }
    if (this.backlog !== undefined) {
      // Behind the replay, so its channel stays in order.
      if (this.backlog.addLive(delivery)) this.refill();
      else this.host.overflow(this);
      return;
    }
    this.queue ??= new DeliveryQueue(this.maxQueue);
    if (!this.queue.push(delivery)) {
      this.host.overflow(this);
      return;
    }
    const connection = this.stream;
    // A stream writes at the end of the tick: the first delivery queued asks for the flush. A
    // long burst in one tick goes out in frames of FRAME_BATCH, so it never fills the queue.
    if (connection) {
      if (this.queued === 1) this.host.flushSoon(this);
      else if (this.queued >= FRAME_BATCH) this.flush();
      return;
    }
    this.flush();
  }

  /**
   * Replays a resume's missed `history`, then the `live` deliveries that arrived while it was
   * read, as fast as the client takes them: at most half the queue's bound is queued at a time,
   * more as it drains, so a long replay never overflows a client that reads.
   */
  replay(history: readonly BrokerMessage[], live: readonly Delivery[]): void {
    if (this.closed || history.length + live.length === 0) return;
    this.backlog ??= new ReplayBacklog(this.maxQueue);
    const backlog = this.backlog;
    backlog.addHistory(history);
    for (const delivery of live) {
      if (!backlog.addLive(delivery)) {
        this.host.overflow(this);
        return;
      }
    }
    this.refill();
  }

  /** Writes what is queued if the connection can take it, or answers a held connect. */
  flush(): void {
    if (this.closed || this.queued === 0) return;
    const connection = this.stream;
    if (connection) {
      if (connection.isBlocked()) {
        this.waitForDrain(connection);
        return;
      }
      const batch = this.takeQueued();
      connection.write(batch);
      this.host.delivered(batch.length);
      if (this.ackEnabled) {
        const book = this.acks();
        book.open.push(...batch);
        // Number what went out before it is half the unacked bound: the client acks it with its
        // next connect, long before the window could overflow.
        if (book.open.length >= this.maxQueue / 2 && this.heldResponder) this.release();
        // Without a held connect to number them (SSE connects every `timeout`) the oldest stop
        // being tracked: they went out on the stream, and if it lost them the client's resume
        // from its last offset brings them back. Tracked, they grew with the stream's rate.
        const over = book.open.length - this.replayWindow;
        if (over > 0) book.open.splice(0, over);
      }
      this.refill();
      return;
    }
    if (this.heldResponder && (this.flags & RELEASE_SCHEDULED) === 0) {
      // Let messages published in the same tick share one response.
      this.flags |= RELEASE_SCHEDULED;
      setImmediate(() => {
        this.flags &= ~RELEASE_SCHEDULED;
        try {
          if (this.heldResponder && this.queued > 0) this.release();
        } catch (error) {
          this.host.fault(this, 'held connect release', error);
        }
      });
    }
  }

  /**
   * Attaches a streaming connection (WebSocket, SSE, iframe); the previous one is closed. A
   * WebSocket attaches with the connect it carried; an HTTP stream is adopted if its client's
   * connects come over its type, else (an upgrade probe the client may still give up on) once
   * one does.
   */
  attach(connection: Connection, type: ConnectionType): void {
    const previous = this.connection;
    if (previous && previous !== connection) this.letGo(previous, true);
    // Its client's connects already come over this type (the stream may arrive after the connect).
    const adopted = TRANSPORTS[type].duplex || (this.connected && this.transport === type);
    this.connection = connection;
    this.transport = type;
    this.setFlag(STREAM_CONFIRMED, adopted);
    this.flush();
  }

  /**
   * The stream deliveries go out on: with acks, only one its client adopted (a connect came over
   * its type since it attached). Until then they go where the client's connects come from (a
   * held poll), as engine.io keeps using the old transport while it probes: an SSE probe behind a
   * stalling proxy took a whole replay, the client gave it up, and only what the ack book still
   * tracked (the last half queue) went out again (full chaos run: 430 of one client's tail lost,
   * no later message to reveal the gap). Without acks (Faye, CometD) a stream is used at once.
   */
  private get stream(): Connection | undefined {
    return this.ackEnabled && (this.flags & STREAM_CONFIRMED) === 0 ? undefined : this.connection;
  }

  /**
   * A `/meta/connect` came over `type`. A stream of another type is not what the client reads:
   * an abandoned attempt kept open by a proxy, or a stream request that arrived after its client
   * moved on. It is closed, and what it carried that the client has not confirmed over its own
   * transport goes out again (the client drops what it already has by offset). Left attached, it
   * took every delivery while the client polled, and the connect replies numbered them as sent.
   */
  connectedOver(type: ConnectionType): void {
    const stale = this.connection;
    if (stale === undefined) return;
    if (stale.type === type) {
      // The client reads this stream: what waited for that goes out now.
      if ((this.flags & STREAM_CONFIRMED) === 0) {
        this.flags |= STREAM_CONFIRMED;
        if (this.queued > 0) this.host.flushSoon(this);
      }
      return;
    }
    this.letGo(stale, true);
  }

  /**
   * The current stream stops being the session's (closed by the caller if `close`); what it
   * carried unconfirmed goes out again. One its client never adopted carried nothing (`stream`).
   */
  private letGo(current: Connection, close: boolean): void {
    const carried = this.stream === current;
    this.connection = undefined;
    if (close) current.close();
    if (carried) this.resendUnconfirmed();
  }

  /**
   * The session's stream went away (closed, or replaced by another): what it carried that the
   * client has not confirmed is queued again, for the next connect reply or stream. Numbered
   * batches too: a connect answered while the stream was attached numbered the stream's
   * deliveries, and the client would ack that batch without having seen them. The client drops
   * what it already has by offset. Without this, an upgrade probe the client gave up on (closed
   * right after it attached) took a replay's tail, and the next poll's reply numbered it as sent:
   * the tail was never delivered and no later message revealed the gap.
   *
   * What a batch's connect reply carried itself did not ride on the stream: it stays numbered, and
   * the client's next ack says whether it arrived (`acknowledge`). Queued again here too, it went
   * out twice, and after a resume the copies filled the queue: an SSE client whose stream was cut
   * twice within two connects of a replay had 990 queued, nearly all of them already read, and was
   * cut as too slow (chaos run, 100 msg/s).
   */
  private resendUnconfirmed(): void {
    const book = this.ackBook;
    if (book === undefined) return;
    const unseen: Delivery[] = [];
    const replied: AckBatch[] = [];
    let repliedCount = 0;
    for (const entry of book.unacked) {
      const { batch, deliveries, streamed } = entry;
      if (streamed === 0) replied.push(entry);
      else {
        for (let i = 0; i < streamed; i++) unseen.push(deliveries[i]!);
        if (streamed < deliveries.length)
          replied.push({ batch, deliveries: deliveries.slice(streamed), streamed: 0 });
      }
      repliedCount += deliveries.length - streamed;
    }
    for (const delivery of book.open) unseen.push(delivery);
    if (replied.length > 0) {
      book.unacked = replied;
      book.unackedCount = repliedCount;
      book.open = [];
    } else this.ackBook = undefined;
    if (unseen.length > 0) this.requeue(unseen);
  }

  /** Puts deliveries back at the head of the queue; false (and the session overflows) when they do not fit. */
  private requeue(deliveries: readonly Delivery[]): boolean {
    this.queue ??= new DeliveryQueue(this.maxQueue);
    if (this.queue.unshift(deliveries)) return true;
    this.host.overflow(this);
    return false;
  }

  /**
   * Detaches `connection` if it is the current one (the socket closed); what it carried
   * unconfirmed goes out again (see resendUnconfirmed).
   */
  detach(connection: Connection): void {
    if (this.connection !== connection) return;
    this.letGo(connection, false);
    // A poll held meanwhile takes them now (with a stream attached it was left waiting).
    if (this.heldResponder && this.queued > 0) this.flush();
  }

  /**
   * Holds a `/meta/connect` until a message arrives or `timeoutMs` passes. A connect already held
   * is answered at once (empty), as a client has one connect in flight at a time.
   */
  hold(reply: Reply, respond: ConnectResponder, timeoutMs: number): void {
    if (this.heldResponder) this.release();
    this.heldId = reply.id;
    this.heldAdvice = reply.advice;
    this.heldResponder = respond;
    this.heldDeadline = this.host.deadlines.add(timeoutMs, this);
    this.heldTimeout = timeoutMs;
    // With a stream, queued messages go out on it; without one, they answer this connect.
    if (this.stream) this.flush();
    else if (this.queued > 0) this.release();
  }

  /** The held connect's time is up: answer it (empty, or with what is queued); or the first connect never came. */
  onDeadline(): void {
    if (this.connected) {
      this.release();
      return;
    }
    this.heldDeadline = undefined;
    this.host.firstConnectMissed(this);
  }

  /** Forgets a held connect whose request went away (the client closed it). */
  dropHeld(respond: ConnectResponder): void {
    if (this.heldResponder !== respond) return;
    this.unhold();
    this.touch();
  }

  /** Answers the held connect now with whatever is queued (or an overriding reply). */
  release(override?: Reply): void {
    const respond = this.heldResponder;
    if (!respond) return;
    const reply = this.heldConnectReply();
    this.unhold();
    this.touch();
    if (override) {
      // The client matches the answer to its connect by id (long-polling clients ignore others).
      const answer =
        reply.id === undefined || override.id !== undefined ? override : { ...override, id: reply.id };
      respond.answerConnect([answer], []);
      return;
    }
    const deliveries = this.stream ? [] : this.takeQueued();
    respond.answerConnect([this.completeConnectReply(reply, deliveries)], deliveries);
    this.host.delivered(deliveries.length);
    this.refill();
  }

  /**
   * Answers a connect at once (plain polling, stream transports): queued messages ride along
   * unless they go out on a stream.
   */
  answerNow(reply: Reply): { replies: Message[]; deliveries: Delivery[] } {
    const deliveries = this.stream ? [] : this.takeQueued();
    this.host.delivered(deliveries.length);
    const replies = [this.completeConnectReply(reply, deliveries)];
    this.refill();
    return { replies, deliveries };
  }

  /** Piggyback: queued messages that may ride on the response to any HTTP request. */
  takePiggyback(): Delivery[] {
    if (this.ackEnabled || this.queued === 0) return [];
    const connection = this.connection;
    if (connection) return [];
    const deliveries = this.takeQueued();
    this.host.delivered(deliveries.length);
    this.refill();
    return deliveries;
  }

  /**
   * Ack extension: the client confirmed every batch up to `batch`. Batches sent after it never
   * arrived: they are queued again, in order, to go out once more.
   */
  acknowledge(batch: number): void {
    const book = this.ackBook;
    if (!book) return;
    const missed: Delivery[] = [];
    for (const entry of book.unacked) if (entry.batch > batch) missed.push(...entry.deliveries);
    book.unacked = [];
    book.unackedCount = 0;
    if (book.open.length === 0) this.ackBook = undefined;
    if (missed.length === 0 || !this.requeue(missed)) return;
    // On a stream nothing else writes them: the connect's reply does not carry them, and after
    // the last live message no delivery asks for a flush. Left queued, they also held back every
    // later replay (it refills only below half the queue) while heartbeats kept the stream alive.
    if (this.stream) this.host.flushSoon(this);
  }

  /** Ends the session: answers a held connect with `final` (if given) and closes the connection. */
  end(final?: Reply): void {
    if (this.closed) return;
    // Deliveries of this tick still waiting for their flush go out before the stream closes.
    if (this.connection) this.flush();
    const wasHeld = this.heldResponder !== undefined;
    // A held request is always answered, so no HTTP response or client is left hanging.
    this.release(final);
    this.flags |= CLOSED;
    if (final && !wasHeld && this.connection) this.connection.writeBatch([final], []);
    this.connection?.close();
    this.connection = undefined;
    this.queue = undefined;
    this.resuming = undefined;
    this.backlog = undefined;
    this.ackBook = undefined;
  }

  /** How much of a replay is queued at a time: half the queue, so redelivered batches still fit. */
  private get replayWindow(): number {
    return Math.max(1, Math.floor(this.maxQueue / 2));
  }

  /** Moves the next part of a replay into the queue once the queue has drained below the window. */
  private refill(): void {
    const backlog = this.backlog;
    if (backlog === undefined || this.closed) return;
    const room = this.replayWindow - this.queued;
    if (room <= 0) return;
    this.queue ??= new DeliveryQueue(this.maxQueue);
    const queue = this.queue;
    for (const delivery of backlog.take(room)) queue.push(delivery);
    if (backlog.size === 0) this.backlog = undefined;
    if (this.queued === 0) return;
    // A stream writes at the end of the tick (the flush may be the caller); a held connect is
    // answered with it; otherwise it waits for the next connect.
    if (this.stream) this.host.flushSoon(this);
    else this.flush();
  }

  private unhold(): void {
    if (this.heldDeadline !== undefined) this.host.deadlines.cancel(this.heldTimeout, this.heldDeadline);
    this.heldId = undefined;
    this.heldAdvice = undefined;
    this.heldResponder = undefined;
    this.heldDeadline = undefined;
  }

  /** Everything queued, in order. */
  private takeQueued(): Delivery[] {
    // The emptied queue stays for the next delivery: a stream drains it every tick, and a new
    // one each time was an allocation per delivery per subscriber.
    return this.queue?.drain() ?? [];
  }

  private setFlag(flag: number, value: boolean): void {
    if (value) this.flags |= flag;
    else this.flags &= ~flag;
  }

  /** The held connect's reply, as `handleConnect` built it (one literal, every field). */
  private heldConnectReply(): Reply {
    const { heldId: id, heldAdvice: advice } = this;
    return id === undefined
      ? { channel: '/meta/connect', successful: true, clientId: this.id, advice }
      : { channel: '/meta/connect', successful: true, id, clientId: this.id, advice };
  }

  private acks(): AckBook {
    this.ackBook ??= { open: [], unacked: [], unackedCount: 0 };
    return this.ackBook;
  }

  private completeConnectReply(reply: Reply, deliveries: Delivery[]): Reply {
    if (!this.ackEnabled) return reply;
    const batch = ++this.ackCounter;
    const book = this.ackBook;
    const open = book?.open;
    const streamed = open?.length ?? 0;
    const sent = streamed > 0 ? [...open!, ...deliveries] : deliveries;
    if (book) book.open = [];
    if (sent.length > 0) {
      const unconfirmed = this.acks();
      unconfirmed.unacked.push({ batch, deliveries: sent, streamed });
      unconfirmed.unackedCount += sent.length;
      if (unconfirmed.unackedCount > this.maxQueue) queueMicrotask(() => this.host.overflow(this));
    } else if (book && book.unacked.length === 0) {
      // Nothing unconfirmed: an idle client keeps no book.
      this.ackBook = undefined;
    }
    return { ...reply, ext: { ...reply.ext, ack: batch } };
  }

  private waitForDrain(connection: Connection): void {
    if ((this.flags & WAITING_UNBLOCK) !== 0) return;
    this.flags |= WAITING_UNBLOCK;
    connection.onceUnblocked(() => {
      this.flags &= ~WAITING_UNBLOCK;
      this.flush();
    });
  }
}
