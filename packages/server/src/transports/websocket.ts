/**
 * `websocket` on the `ws` library: `{path}` upgraded, one JSON array of messages per frame.
 * The handshake may come over the socket (CometD) or over HTTP first (Faye); the socket is bound
 * to its session by the first `/meta/connect` with `connectionType: "websocket"`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { bayeuxErrors, decodeBatch, type Message, ProtocolError } from '@push/protocol';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { processBatch, unreadableBatchReply } from '../bayeux/dispatch.js';
import type { Clock, TimerHandle } from '../clock.js';
import { type Delivery, encodeMixedBatch, wsRunFrameOf } from '../delivery.js';
import type { Engine } from '../engine.js';
import { originRefusal } from '../http/origin.js';
import type { RequestInfo } from '../options.js';
import type { ConnectResponder, Session } from '../session.js';
import type { Connection } from './connection.js';

const TEXT = { binary: false } as const;

/** The request info of sockets on a server without an `authenticate` hook (nobody reads it). */
const NO_REQUEST: RequestInfo = Object.freeze({
  headers: {},
  remoteAddress: undefined,
  transport: 'websocket',
});

/** A socket error ends the socket (its `close` then detaches it from its session). */
function terminate(this: WebSocket): void {
  this.terminate();
}

/** A WebSocket as a session connection. Never waits on the socket: it checks `bufferedAmount`. */
export class WebSocketConnection implements Connection, ConnectResponder {
  readonly type = 'websocket' as const;
  session: Session | undefined;
  /** A `/meta/connect` of this socket is held by its session (answered through answerConnect). */
  holding = false;
  /** Batches of one socket run in order: the last one queued, and how many are unfinished. */
  chain: Promise<void> | undefined;
  running = 0;
  private drainTimer: TimerHandle | undefined;

  constructor(
    readonly ws: WebSocket,
    /** The upgrade request as the `authenticate` hook sees it. */
    readonly request: RequestInfo,
    private readonly clock: Clock,
    private readonly maxBufferedBytes: number,
  ) {}

  isBlocked(): boolean {
    return this.ws.bufferedAmount > this.maxBufferedBytes;
  }

  onceUnblocked(callback: () => void): void {
    // ws has no drain event on the WebSocket itself: poll the buffered amount while blocked.
    const check = () => {
      this.drainTimer = undefined;
      if (this.ws.readyState !== WebSocket.OPEN || !this.isBlocked()) callback();
      else this.drainTimer = this.clock.setTimeout(check, 20);
    };
    if (this.drainTimer === undefined) this.drainTimer = this.clock.setTimeout(check, 20);
  }

  write(deliveries: readonly Delivery[]): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(wsRunFrameOf(deliveries), TEXT);
  }

  /** Answers the held `/meta/connect` (the socket is its own responder: no closure per connect). */
  answerConnect(replies: Message[], deliveries: Delivery[]): void {
    this.holding = false;
    this.writeBatch(replies, deliveries);
  }

  writeBatch(replies: readonly Message[], deliveries: readonly Delivery[]): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeMixedBatch(replies, deliveries));
  }

  sendError(error: string): void {
    this.writeBatch([unreadableBatchReply(error)], []);
  }

  close(): void {
    this.stopDrainTimer();
    if (this.ws.readyState === WebSocket.CLOSED) return;
    // A socket that does not read would never finish the closing handshake: cut it.
    if (this.isBlocked()) this.ws.terminate();
    else this.ws.close(1000, 'session ended');
  }

  stopDrainTimer(): void {
    if (this.drainTimer !== undefined) this.clock.clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
  }
}

/**
 * Accepts upgrades for the server's path and runs each socket's batches in order. Every socket
 * shares the same three listeners (found through {@link connections}), so an idle connection costs
 * no closures: memory per idle connection is one of the server's targets.
 */
export class WebSocketTransport {
  private readonly wss: WebSocketServer;
  /** Open sockets and their connections (ws's own client tracking is off: this map does it). */
  private readonly connections = new Map<WebSocket, WebSocketConnection>();
  private readonly onMessage: (this: WebSocket, data: RawData) => void;
  private readonly onClose: (this: WebSocket) => void;

  constructor(private readonly engine: Engine) {
    const { maxMessageBytes } = engine.options.limits;
    // Frames up to 4x the limit are read and refused with a Bayeux 413; larger ones close the socket (1009).
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxMessageBytes * 4,
      perMessageDeflate: false,
      clientTracking: false,
    });
    const connections = this.connections;
    const transport = this;
    this.onMessage = function (this: WebSocket, data: RawData) {
      const connection = connections.get(this);
      if (connection) transport.enqueue(connection, data);
    };
    this.onClose = function (this: WebSocket) {
      const connection = connections.get(this);
      connections.delete(this);
      if (connection) transport.closed(connection);
    };
  }

  get size(): number {
    return this.connections.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { options } = this.engine;
    const refuse = (status: string, error: string) => {
      const body = JSON.stringify([unreadableBatchReply(error)]);
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    // Cross-site WebSocket hijacking: browsers send Origin on every upgrade (the same rules as
    // HTTP apply when one does not).
    const originError = originRefusal(req.headers, options);
    if (!options.transports.has('websocket')) {
      refuse('400 Bad Request', bayeuxErrors.unsupportedConnectionType(['websocket']));
    } else if (originError !== undefined) {
      refuse('403 Forbidden', originError);
    } else if (this.connections.size >= options.limits.maxConnections) {
      refuse(
        '503 Service Unavailable',
        bayeuxErrors.unavailable('Server unavailable: connection limit reached'),
      );
    } else {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
    }
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const { options } = this.engine;
    // Only an `authenticate` hook reads the upgrade request: without one, nothing of it is kept.
    const request: RequestInfo = options.authenticate
      ? { headers: req.headers, remoteAddress: req.socket.remoteAddress, transport: 'websocket' }
      : NO_REQUEST;
    const connection = new WebSocketConnection(ws, request, options.clock, options.limits.maxBufferedBytes);
    this.connections.set(ws, connection);
    ws.on('message', this.onMessage);
    ws.on('error', terminate);
    ws.on('close', this.onClose);
  }

  /** Runs a frame's batch now, or after the socket's batches still running. */
  private enqueue(connection: WebSocketConnection, data: RawData): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    connection.running++;
    // Most frames find the socket idle: they run at once, with no promise chain to build.
    connection.chain = connection.chain
      ? connection.chain.then(() => this.runBatch(connection, text))
      : this.runBatch(connection, text);
  }

  /** Runs one batch; never rejects (a failure is answered on the socket). */
  private async runBatch(connection: WebSocketConnection, text: string): Promise<void> {
    try {
      await this.onBatch(connection, text);
    } catch {
      connection.sendError(bayeuxErrors.serverError());
    }
    if (--connection.running === 0) connection.chain = undefined;
  }

  private closed(connection: WebSocketConnection): void {
    connection.stopDrainTimer();
    const session = connection.session;
    if (!session) return;
    session.detach(connection);
    if (connection.holding) session.dropHeld(connection);
  }

  private async onBatch(connection: WebSocketConnection, text: string): Promise<void> {
    const { engine } = this;
    const max = engine.options.limits.maxMessageBytes;
    let messages: Message[];
    try {
      if (Buffer.byteLength(text) > max)
        throw new ProtocolError('too-large', 'frame too large', bayeuxErrors.tooLarge(max));
      messages = decodeBatch(text, { maxLength: max });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      engine.metrics.messagesIn++;
      connection.sendError(error.bayeux);
      return;
    }
    const result = await processBatch(
      { engine, transport: 'websocket', request: connection.request },
      messages,
    );
    const session = result.session;
    if (
      session &&
      !session.closed &&
      result.connectionType === 'websocket' &&
      connection.session !== session
    ) {
      connection.session?.detach(connection);
      connection.session = session;
      session.attach(connection, 'websocket');
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

  close(): void {
    for (const ws of this.connections.keys()) ws.terminate();
    this.wss.close();
  }
}
