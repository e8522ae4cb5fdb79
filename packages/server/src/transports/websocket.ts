/**
 * `websocket` on the `ws` library: `{path}` upgraded, one JSON array of messages per frame.
 * The handshake may come over the socket (CometD) or over HTTP first (Faye); the socket is bound
 * to its session by the first `/meta/connect` with `connectionType: "websocket"`. A socket whose
 * session lives on another node (shared sessions, see relay.ts) has its batches relayed there and
 * is attached to that session as a remote stream.
 */
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { bayeuxErrors, type Message, ProtocolError } from '@push/protocol';
import { type ClientOptions, type RawData, WebSocket, WebSocketServer } from 'ws';
import { processBatch } from '../bayeux/dispatch.js';
import { readBatch } from '../bayeux/read-batch.js';
import { refusalJson, unreadableBatchReply } from '../bayeux/refusals.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Deadline, DeadlineTarget } from '../deadlines.js';
import { type Delivery, encodeMixedBatch, wsRunFrameOf } from '../delivery.js';
import type { Engine } from '../engine.js';
import { endSocketWithJson } from '../http/body.js';
import { originRefusal } from '../http/origin.js';
import type { RequestInfo } from '../options.js';
import type { Relay, RelayPeer } from '../relay.js';
import type { ConnectResponder, Session } from '../session.js';
import type { Connection } from './connection.js';
import { encodeTextFrame, rawSocketOf } from './ws-frame.js';

/** The request info of sockets on a server without an `authenticate` hook (nobody reads it). */
const NO_REQUEST: RequestInfo = Object.freeze({
  headers: {},
  remoteAddress: undefined,
  transport: 'websocket',
});

/** What a {@link WebSocketConnection} needs from its transport (one object shared by every socket). */
interface SocketPolicy {
  readonly clock: Clock;
  readonly maxBufferedBytes: number;
  /** Milliseconds a socket may stay over `maxBufferedBytes` before it is cut. */
  readonly writeTimeout: number;
  /** Counts a limit hit on one socket (metrics). */
  limitHit(limit: 'handshake-timeout' | 'write-timeout'): void;
  /** A frame arrived on the connection's socket. */
  received(connection: WebSocketConnection, data: RawData): void;
  /** The connection's socket closed. */
  closed(connection: WebSocketConnection): void;
}

/** A blocked socket's wait for its buffer to drain (allocated only while it is blocked). */
interface DrainWatch {
  timer: TimerHandle | undefined;
  readonly waiters: Array<() => void>;
  readonly since: number;
  /** The poll, bound to its connection once per blocked spell (not once per connection). */
  readonly check: () => void;
}

/** {@link WebSocketConnection} booleans, in one small-integer field. */
const HOLDING = 1;
const PAUSED = 2;

/**
 * A WebSocket as a session connection. Never waits on the socket: it checks `bufferedAmount`.
 * An idle connection is mostly its fields (memory per idle connection is one of the server's
 * targets): state that only a blocked socket needs lives in a {@link DrainWatch}.
 */
export class WebSocketConnection implements Connection, ConnectResponder, DeadlineTarget {
  session: Session | undefined;
  /** Batches of one socket run in order: the last one queued, and how many are unfinished. */
  chain: Promise<void> | undefined;
  running = 0;
  /** HOLDING, PAUSED. */
  private flags = 0;
  /** Closes the socket if it has no session by then (`limits.handshakeTimeout`). */
  handshakeDeadline: Deadline | undefined;
  /** Shared sessions only: the socket as the relay sees it, and the remote session it serves. */
  private remote: { readonly peer: RelayPeer; clientId: string | undefined } | undefined;
  private drain: DrainWatch | undefined;

  constructor(
    readonly ws: WebSocket,
    /** Who opened it, as `sourceOf` names them (computed once: per-source limits count on it). */
    readonly source: string,
    readonly policy: SocketPolicy,
  ) {}

  /** On the prototype, not a field per socket. */
  get type(): 'websocket' {
    return 'websocket';
  }

  /** A `/meta/connect` of this socket is held by its session (answered through answerConnect). */
  get holding(): boolean {
    return (this.flags & HOLDING) !== 0;
  }
  set holding(value: boolean) {
    this.flags = value ? this.flags | HOLDING : this.flags & ~HOLDING;
  }

  /** Reading is paused: too many batches pending, or the client does not read its replies. */
  get paused(): boolean {
    return (this.flags & PAUSED) !== 0;
  }
  set paused(value: boolean) {
    this.flags = value ? this.flags | PAUSED : this.flags & ~PAUSED;
  }

  isBlocked(): boolean {
    return this.ws.bufferedAmount > this.policy.maxBufferedBytes;
  }

  onceUnblocked(callback: () => void): void {
    if (this.drain) {
      this.drain.waiters.push(callback);
      return;
    }
    const { clock } = this.policy;
    const drain: DrainWatch = {
      timer: undefined,
      waiters: [callback],
      since: clock.now(),
      check: () => this.checkDrained(drain),
    };
    this.drain = drain;
    drain.timer = clock.setTimeout(drain.check, 20);
  }

  /** ws has no drain event on the WebSocket itself: poll the buffered amount while blocked. */
  private checkDrained(drain: DrainWatch): void {
    if (this.drain !== drain) return;
    drain.timer = undefined;
    const { clock, writeTimeout } = this.policy;
    if (this.ws.readyState === WebSocket.OPEN && this.isBlocked()) {
      if (clock.now() - drain.since <= writeTimeout) {
        drain.timer = clock.setTimeout(drain.check, 20);
        return;
      }
      // The client has not read for writeTimeout: it is not coming back for what it asked.
      this.policy.limitHit('write-timeout');
      this.ws.terminate();
    }
    this.drain = undefined;
    for (const waiter of drain.waiters) waiter();
  }

  /** The socket as the relay sees a request: made only for a socket whose session is elsewhere. */
  get peer(): RelayPeer {
    return this.remoteState().peer;
  }

  /** The clientId whose session on another node this socket is attached to (shared sessions). */
  get remoteClientId(): string | undefined {
    return this.remote?.clientId;
  }
  set remoteClientId(clientId: string | undefined) {
    if (clientId !== undefined || this.remote) this.remoteState().clientId = clientId;
  }

  private remoteState(): { readonly peer: RelayPeer; clientId: string | undefined } {
    if (this.remote) return this.remote;
    const ws = this.ws;
    const peer: RelayPeer = {
      // A socket is never "answered in full": its close is always the client going away.
      writableEnded: false,
      get destroyed() {
        return ws.readyState !== WebSocket.OPEN;
      },
      on: (event, listener) => ws.on(event, listener),
      off: (event, listener) => ws.off(event, listener),
    };
    this.remote = { peer, clientId: undefined };
    return this.remote;
  }

  /** The handshake deadline: a socket that never got a session is closed (it holds a slot). */
  onDeadline(): void {
    this.handshakeDeadline = undefined;
    if (this.session || this.ws.readyState !== WebSocket.OPEN) return;
    this.policy.limitHit('handshake-timeout');
    // No closing handshake: a client that never spoke would not answer one either.
    this.ws.terminate();
  }

  write(deliveries: readonly Delivery[]): void {
    // The shared frame as it is: see ws-frame.ts.
    if (this.ws.readyState === WebSocket.OPEN) rawSocketOf(this.ws).write(wsRunFrameOf(deliveries));
  }

  /** Answers the held `/meta/connect` (the socket is its own responder: no closure per connect). */
  answerConnect(replies: Message[], deliveries: Delivery[]): void {
    this.holding = false;
    this.writeBatch(replies, deliveries);
  }

  writeBatch(replies: readonly Message[], deliveries: readonly Delivery[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    let frame: Buffer;
    try {
      frame = encodeTextFrame(encodeMixedBatch(replies, deliveries));
    } catch (error) {
      // Nothing half-written: close this socket (1011) and let the caller end the session.
      this.ws.close(1011, 'server error');
      throw error;
    }
    // One buffer and one write, as deliveries go (ws-frame.ts): ws.send would build a header and
    // write both through a writev, for each of the four replies of every connect (handshake,
    // confirm, subscribe, connect): about 2.7 KB of the 42 KB a connection allocated in a storm.
    rawSocketOf(this.ws).write(frame);
  }

  sendError(error: string): void {
    this.writeBatch([unreadableBatchReply(error)], []);
  }

  close(): void {
    if (this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING) return;
    // Not terminate(), even when blocked: what was written before (a final 429 notice) still goes
    // out to a client that is only slow; ws cuts a socket whose closing handshake never completes
    // after its closeTimeout (30 s), so one that never reads is still bounded.
    this.ws.close(1000, 'session ended');
  }

  stopDrainTimer(): void {
    const drain = this.drain;
    if (drain?.timer !== undefined) this.policy.clock.clearTimeout(drain.timer);
    this.drain = undefined;
  }
}

/** What ws passes a WebSocket it makes (the server's options) or a client gives one. */
type SocketOptions = ClientOptions | ClientRequestArgs;

/** The extensions of every {@link PushSocket}: none. */
const NO_EXTENSIONS = Object.freeze({});

/**
 * ws's WebSocket as the transport makes it (ws's `WebSocket` option): the socket's connection
 * in a field, and ws's events handled by `emit` on the prototype instead of listeners added to
 * every socket, so an idle connection costs no closure, no map entry and no listener slots
 * (memory per idle connection is one of the server's targets). Listeners added by others (the
 * relay's, on `close`) still run, after the transport's handling.
 */
export class PushSocket extends WebSocket {
  /** Set when the transport accepts the socket, before ws can emit anything on it. */
  connection: WebSocketConnection | undefined = undefined;

  /** As ws makes it: `new PushSocket(null, undefined, serverOptions)`. */
  constructor(
    address: string | URL | null,
    protocols?: string | string[] | SocketOptions,
    options?: SocketOptions,
  ) {
    super(address as string, protocols as string[], options);
    // ws gives every socket its own empty extensions object (shared with its receiver and sender,
    // made after this): 56 B per idle connection. The transport never negotiates an extension
    // (perMessageDeflate is off), so all its sockets share one frozen empty object. The field is
    // private to ws; `websocket.test.ts` fails if it is renamed, instead of this saving nothing.
    (this as unknown as { _extensions: object })._extensions = NO_EXTENSIONS;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const connection = this.connection;
    if (event === 'message' && connection !== undefined) {
      connection.policy.received(connection, args[0] as RawData);
      releaseReceiveBuffer(this);
      return true;
    }
    if (event === 'ping' && connection !== undefined) {
      answerPing(this, args[0] as Buffer, connection.policy.maxBufferedBytes);
      return true;
    }
    if (event === 'close' && connection !== undefined) connection.policy.closed(connection);
    if (event === 'error') {
      // A socket error ends the socket (its `close` then detaches it from its session); with no
      // listener of its own, EventEmitter would throw it.
      this.terminate();
      if (this.listenerCount('error') === 0) return true;
    }
    return super.emit(event, ...args);
  }
}

/**
 * Accepts upgrades for the server's path and runs each socket's batches in order. Sockets are
 * {@link PushSocket}s: ws's events reach the transport through the socket's connection.
 */
export class WebSocketTransport {
  /** The connection type, as on every transport (its traits: `TRANSPORTS.websocket`, duplex). */
  readonly type = 'websocket' as const;
  private readonly wss: WebSocketServer;
  /** Open sockets (ws's own client tracking is off: this set does it). */
  private readonly sockets = new Set<PushSocket>();
  /**
   * The upgrade request of each socket, kept only when an `authenticate` hook reads it (a field
   * per connection would cost every server without one).
   */
  private readonly requests = new WeakMap<WebSocketConnection, RequestInfo>();

  private readonly policy: SocketPolicy;
  private readonly maxPending: number;
  /** See {@link shareSource}. */
  private lastSource = '';

  constructor(private readonly engine: Engine) {
    const { maxMessageBytes, maxBufferedBytes, writeTimeout, maxPendingBatches } = engine.options.limits;
    this.maxPending = maxPendingBatches;
    this.policy = {
      clock: engine.options.clock,
      maxBufferedBytes,
      writeTimeout,
      limitHit: (limit) => engine.metrics.refused(limit),
      received: (connection, data) => this.enqueue(connection, data),
      closed: (connection) => {
        this.sockets.delete(connection.ws as PushSocket);
        this.closed(connection);
      },
    };
    // Frames up to 4x the limit are read and refused with a Bayeux 413; larger ones close the socket (1009).
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxMessageBytes * 4,
      perMessageDeflate: false,
      clientTracking: false,
      WebSocket: PushSocket,
      // ws answers pings through a closure and three fields it adds to every socket; PushSocket
      // answers them from the prototype (answerPing).
      autoPong: false,
    });
  }

  get size(): number {
    return this.sockets.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { options } = this.engine;
    const refuse = (status: string, error: string) => endSocketWithJson(socket, status, refusalJson(error));
    // Cross-site WebSocket hijacking: browsers send Origin on every upgrade (the same rules as
    // HTTP apply when one does not).
    const originError = originRefusal(req.headers, options);
    if (!options.transports.has(this.type)) {
      refuse('400 Bad Request', bayeuxErrors.unsupportedConnectionType([this.type]));
    } else if (originError !== undefined) {
      refuse('403 Forbidden', originError);
    } else if (this.sockets.size >= options.limits.maxConnections) {
      refuse(
        '503 Service Unavailable',
        bayeuxErrors.unavailable('Server unavailable: connection limit reached'),
      );
    } else {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws as PushSocket, req));
    }
  }

  private accept(ws: PushSocket, req: IncomingMessage): void {
    const { options } = this.engine;
    const remoteAddress = peerAddress(req.socket);
    const source = this.shareSource(
      options.sourceOf({ headers: req.headers, remoteAddress, transport: 'websocket' }),
    );
    const connection = new WebSocketConnection(ws, source, this.policy);
    // Only an `authenticate` hook reads the upgrade request: without one, nothing of it is kept.
    if (options.authenticate) {
      this.requests.set(connection, { headers: req.headers, remoteAddress, transport: 'websocket' });
    }
    connection.handshakeDeadline = this.engine.deadlines.add(options.limits.handshakeTimeout, connection);
    ws.connection = connection;
    this.sockets.add(ws);
  }

  /**
   * The source string of the previous socket when this one's is equal: sockets from one address
   * (a proxy, a NAT, a test host) then share one string instead of holding a copy each.
   */
  private shareSource(source: string): string {
    if (source === this.lastSource) return this.lastSource;
    this.lastSource = source;
    return source;
  }

  /** Runs a frame's batch now, or after the socket's batches still running. */
  private enqueue(connection: WebSocketConnection, data: RawData): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    connection.running++;
    if (!connection.paused && (connection.running >= this.maxPending || connection.isBlocked()))
      this.pauseReading(connection);
    // Most frames find the socket idle: they run at once, with no promise chain to build.
    connection.chain = connection.chain
      ? connection.chain.then(() => this.runBatch(connection, text))
      : this.runBatch(connection, text);
  }

  /** Runs one batch; never rejects (a failure is answered on the socket). */
  private async runBatch(connection: WebSocketConnection, text: string): Promise<void> {
    try {
      await this.onBatch(connection, text);
    } catch (error) {
      this.engine.fault(connection.session, 'websocket batch', error);
      connection.sendError(bayeuxErrors.serverError());
    }
    if (--connection.running === 0) connection.chain = undefined;
    if (connection.paused) this.maybeResume(connection);
  }

  /**
   * Stops reading a socket whose client sends faster than it reads: its pending batches and
   * unread replies can then grow no further (TCP pushes back on the client).
   */
  private pauseReading(connection: WebSocketConnection): void {
    connection.paused = true;
    connection.ws.pause();
    this.engine.metrics.refused('pending-batches');
  }

  private maybeResume(connection: WebSocketConnection): void {
    if (connection.running >= this.maxPending || connection.ws.readyState !== WebSocket.OPEN) return;
    if (connection.isBlocked()) {
      connection.onceUnblocked(() => this.maybeResume(connection));
      return;
    }
    connection.paused = false;
    connection.ws.resume();
  }

  private cancelHandshakeDeadline(connection: WebSocketConnection): void {
    const deadline = connection.handshakeDeadline;
    if (deadline === undefined) return;
    this.engine.deadlines.cancel(this.engine.options.limits.handshakeTimeout, deadline);
    connection.handshakeDeadline = undefined;
  }

  private closed(connection: WebSocketConnection): void {
    connection.stopDrainTimer();
    this.cancelHandshakeDeadline(connection);
    const session = connection.session;
    if (!session) return;
    session.detach(connection);
    if (connection.holding) session.dropHeld(connection);
  }

  private async onBatch(connection: WebSocketConnection, text: string): Promise<void> {
    const { engine } = this;
    const messages = readBatch(engine, text);
    if (messages instanceof ProtocolError) {
      connection.sendError(messages.bayeux);
      return;
    }
    const relay = engine.relay;
    const owner = relay && !connection.session ? await relay.ownerOfBatch(messages) : undefined;
    if (relay && owner !== undefined) {
      this.relayBatch(relay, owner, connection, messages);
      return;
    }
    const result = await processBatch(
      {
        engine,
        transport: this.type,
        request: this.requests.get(connection) ?? NO_REQUEST,
        source: connection.source,
      },
      messages,
    );
    const session = result.session;
    if (session && !session.closed && result.connectionType === this.type && connection.session !== session) {
      connection.session?.detach(connection);
      connection.session = session;
      // Its deadline would do nothing now: cancelled, its slot leaves the lane at once.
      this.cancelHandshakeDeadline(connection);
      session.attach(connection, this.type);
    }
    if (result.replies.length > 0 || result.deliveries.length > 0)
      connection.writeBatch(result.replies, result.deliveries);
    for (const task of result.after) task();
    const hold = result.hold;
    if (hold && !hold.session.closed) {
      hold.session.hold(hold.reply, connection, hold.timeout);
      // After hold(): answering a previous held connect clears the flag. A connect answered at
      // once leaves it set, which only makes a later dropHeld a no-op.
      connection.holding = true;
    }
  }

  /**
   * A batch for a session on another node: relayed there and answered on this socket. Its
   * `/meta/connect` attaches the socket to that session first (the relay keeps the order), so
   * what the session delivers is written here, exactly as for a local session.
   */
  private relayBatch(
    relay: Relay,
    owner: string,
    connection: WebSocketConnection,
    messages: Message[],
  ): void {
    // The socket serves a session now, on another node: the handshake deadline does not apply.
    this.cancelHandshakeDeadline(connection);
    const clientId = messages.find(
      (message) =>
        message.channel === '/meta/connect' &&
        'connectionType' in message &&
        message.connectionType === this.type,
    )?.clientId;
    if (typeof clientId === 'string' && connection.remoteClientId !== clientId) {
      connection.remoteClientId = clientId;
      relay.attachRemote(owner, clientId, this.type, connection, connection.peer, () => {
        // The owner no longer has the session: the relayed connect is answered 402 by it.
        if (connection.remoteClientId === clientId) connection.remoteClientId = undefined;
      });
    }
    relay.forwardBatch(owner, this.type, messages, connection.peer, (replies, deliveries) =>
      connection.writeBatch(replies, deliveries),
    );
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }
}

/**
 * Once its client has sent a frame, ws keeps the array its receiver gathers incoming chunks in,
 * emptied but with its backing store (room for ~17 chunks, 152 B), for the life of the socket.
 * Every Bayeux client sends frames (its connects), so every idle subscriber paid it (a raw ws
 * client that never sends does not): an empty one is swapped for a new array with none. The field
 * is private to ws; `websocket.test.ts` fails if it is renamed, instead of this saving nothing.
 */
export function releaseReceiveBuffer(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: { _buffers?: unknown } })._receiver;
  if (receiver && Array.isArray(receiver._buffers) && receiver._buffers.length === 0) receiver._buffers = [];
}

/** What {@link peerAddress} reads: the socket's libuv handle (`net.Socket#_handle`, private to Node). */
interface PeerHandle {
  getpeername?(out: { address?: string }): number;
}

/**
 * The socket's remote address, without Node keeping it: `socket.remoteAddress` caches a
 * `{ address, family, port }` object in a property it adds to the socket, ~100 B for the life of
 * every connection (memory per idle connection is one of the server's targets), though the
 * address is read once, at the upgrade. Asks the handle directly when it can (a TCP socket), else
 * falls back to `remoteAddress` (a TLS socket, a test double). `websocket.test.ts` fails if Node
 * stops offering the handle's `getpeername`, instead of this saving nothing.
 */
export function peerAddress(socket: Duplex): string | undefined {
  const handle = (socket as unknown as { _handle?: PeerHandle | null })._handle;
  if (typeof handle?.getpeername === 'function') {
    const out: { address?: string } = {};
    if (handle.getpeername(out) === 0 && typeof out.address === 'string') return out.address;
  }
  return (socket as Partial<Socket>).remoteAddress;
}

/**
 * Answers a ping with a pong carrying its data (RFC 6455 5.5.2), as ws's `autoPong` would. A
 * socket over `maxBufferedBytes` (its client does not read) gets none: the RFC lets an endpoint
 * answer only the latest of several pings, and pongs never pile up for a client that pings
 * without reading (ws cut such a client after 60 unsent pongs).
 */
export function answerPing(ws: WebSocket, data: Buffer, maxBufferedBytes: number): void {
  if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount <= maxBufferedBytes) ws.pong(data);
}
