/** A streaming HTTP response used as a session's connection (SSE and forever-iframe share it). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { bayeuxErrors, type ConnectionType, type Message } from '@push/protocol';
import type { Clock, TimerHandle } from '../clock.js';
import type { Delivery } from '../delivery.js';
import type { Engine } from '../engine.js';
import type { Connection } from './connection.js';

/** How a stream transport frames what it writes. */
export interface StreamFraming {
  /** Bytes when they are shared by every subscriber (SSE), a string when made per stream. */
  deliveries(deliveries: readonly Delivery[]): string | Buffer;
  /**
   * The same bytes as one chunk of a chunked body, shared by every subscriber (SSE): written to
   * the socket as they are when the response allows it (see `HttpStreamConnection.write`).
   */
  chunk?(deliveries: readonly Delivery[]): Buffer;
  batch(replies: readonly Message[], deliveries: readonly Delivery[]): string;
  heartbeat(): string;
}

/** A long-lived HTTP response: writes never block; `res.write() === false` means wait for `drain`. */
class HttpStreamConnection implements Connection {
  private heartbeat: TimerHandle | undefined;

  constructor(
    readonly type: ConnectionType,
    private readonly res: ServerResponse,
    private readonly framing: StreamFraming,
    private readonly options: { clock: Clock; heartbeatInterval: number; maxBufferedBytes: number },
  ) {
    this.scheduleHeartbeat();
    res.on('close', () => this.stopHeartbeat());
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  isBlocked(): boolean {
    return this.res.writableNeedDrain || this.res.writableLength > this.options.maxBufferedBytes;
  }

  onceUnblocked(callback: () => void): void {
    let done = false;
    const fire = () => {
      if (done) return;
      done = true;
      this.res.off('drain', fire);
      this.res.off('close', fire);
      callback();
    };
    this.res.on('drain', fire);
    this.res.on('close', fire);
  }

  write(deliveries: readonly Delivery[]): void {
    if (!this.open) return;
    const socket = this.framing.chunk && this.chunkedSocket();
    if (socket) socket.write(this.framing.chunk!(deliveries));
    else this.res.write(this.framing.deliveries(deliveries));
  }

  /**
   * The socket, when a shared chunk may go to it directly: `res.write` would frame the bytes as a
   * chunk itself, in four writes gathered into one `writev` on the next tick, for every
   * subscriber. Only when the body is chunked, its headers are out and nothing of the response
   * waits outside the socket (so the chunk lands after everything written before it), and the
   * socket is not backed up (then `res.write` is used, so the response waits for its `drain`).
   * `_headerSent` is private to Node: the eventsource test that checks each socket gets the shared
   * chunk in one write (`test/transports.test.ts`) fails if it goes, rather than every chunk
   * silently taking the slow path.
   */
  private chunkedSocket(): Socket | undefined {
    const { res } = this;
    const socket = res.socket;
    if (!socket || !res.chunkedEncoding || socket.writableNeedDrain) return undefined;
    if ((res as { _headerSent?: boolean })._headerSent !== true) return undefined;
    return res.writableLength === socket.writableLength ? socket : undefined;
  }

  writeBatch(replies: readonly Message[], deliveries: readonly Delivery[]): void {
    if (this.open) this.res.write(this.framing.batch(replies, deliveries));
  }

  close(): void {
    this.stopHeartbeat();
    if (!this.open) return;
    if (this.isBlocked()) this.res.destroy();
    else this.res.end();
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.options.clock.setTimeout(() => {
      if (!this.open) return;
      if (!this.isBlocked()) this.res.write(this.framing.heartbeat());
      this.scheduleHeartbeat();
    }, this.options.heartbeatInterval);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) this.options.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }
}

/**
 * Serves a stream GET whose opening is written: the response becomes the connection of the
 * client's session here, or of its session on another node (shared sessions); when no node knows
 * the client, `fail` ends the stream with the reason.
 */
export async function attachStream(
  engine: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  type: ConnectionType,
  clientId: string,
  framing: StreamFraming,
  fail: (error: string) => void,
): Promise<void> {
  const session = engine.registry.get(clientId);
  const owner = session ? undefined : await engine.relay?.ownerOf(clientId);
  if (!session && owner === undefined) {
    fail(engine.registry.tombstone(clientId) ?? bayeuxErrors.unknownClient());
    return;
  }
  const { clock, heartbeatInterval, limits } = engine.options;
  const connection = new HttpStreamConnection(type, res, framing, {
    clock,
    heartbeatInterval,
    maxBufferedBytes: limits.maxBufferedBytes,
  });
  req.socket.setNoDelay(true);
  if (!session) {
    // The session lives on another node: this socket becomes its connection there.
    if (owner !== undefined) engine.relay?.attachRemote(owner, clientId, type, connection, res, fail);
    return;
  }
  // A request whose client already went (it waited in a proxy or behind the lookup) is not
  // attached: its 'close' came before this listener, so it would never be detached and would
  // take the session's deliveries into a closed socket.
  if (!connection.open || req.socket.destroyed) {
    connection.close();
    return;
  }
  res.on('close', () => session.detach(connection));
  session.touch();
  session.attach(connection, type);
}
