/**
 * Shared sessions without sticky load balancing. A session lives on the node (server process) that
 * created it, its *owner*, which records `clientId -> node` in the broker's {@link SessionStore}.
 * When another node gets an HTTP request for a clientId it does not hold, it asks the store for the
 * owner and relays the request there over the store's node-to-node channel:
 *
 * - a POST batch (long-polling, callback-polling, the upstream of SSE and iframe) is run by the
 *   owner exactly as if it had arrived there, a `/meta/connect` held there included; the answer
 *   comes back and is written to the waiting HTTP response;
 * - a stream GET (SSE, forever-iframe) is opened where it landed and attached to the session on
 *   the owner as a {@link RemoteConnection}: what the owner writes to it is forwarded and framed
 *   by the node holding the socket;
 * - a WebSocket is both: its batches are relayed like POSTs (answered on the socket) and its
 *   `/meta/connect` attaches it to the session on the owner like a stream.
 *
 * The session's queue, subscriptions, ack state and presence never move, so every message is
 * delivered once and in order whichever node the client's requests reach. When the owner is gone
 * the store answers "unknown" and the client gets `402::Unknown client` (it handshakes again and
 * resumes from history).
 */
import { bayeuxErrors, type ConnectionType, type Message } from '@push/protocol';
import { failure } from './bayeux/context.js';
import type { SessionStore } from './broker/types.js';
import type { TimerHandle } from './clock.js';
import { type Delivery, deliveryFromJson } from './delivery.js';
import type { Engine } from './engine.js';
import type { Session } from './session.js';
import type { Connection } from './transports/connection.js';
import { type HttpAnswer, runBatch } from './transports/http-batch.js';

/** What nodes send each other. `id` names one relayed request or stream (unique per sender). */
type Packet =
  | { t: 'batch'; id: string; from: string; transport: ConnectionType; messages: Message[] }
  | { t: 'answer'; id: string; replies: Message[]; deliveries: string[] }
  | { t: 'held'; id: string; timeout: number }
  | { t: 'cancel'; id: string }
  | { t: 'attach'; id: string; from: string; clientId: string; type: ConnectionType }
  | { t: 'write'; id: string; deliveries: string[] }
  | { t: 'frame'; id: string; replies: Message[]; deliveries: string[] }
  | { t: 'close'; id: string; error?: string }
  | { t: 'detach'; id: string };

/**
 * How long a relayed request waits for the owner to answer, or to say it holds the connect; and,
 * once held, how much longer than the longest hold it waits. Then it fails with 503 and advice
 * `retry` (the owner may be gone; the next attempt learns it from the store).
 */
const RELAY_WAIT_MS = 5_000;

/**
 * What a relayed request is answered on, or what holds a relayed stream: an HTTP response, or a
 * WebSocket seen the same way. `close` is the client going away.
 */
export interface RelayPeer {
  /** True once the answer was written in full (then `close` is not the client going away). */
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** A stream socket held on this node for a session that lives on another. */
interface LocalStream {
  connection: Connection;
  /** Ends the stream with a failed `/meta/connect` carrying `error`. */
  fail(error: string): void;
  /** Stops watching the socket (the owner closed this stream). */
  release(): void;
}

/**
 * The owner's end of a stream held by another node: everything written goes there as JSON.
 * Back-pressure is the holding node's business: it never reports blocked.
 */
class RemoteConnection implements Connection {
  closed = false;

  constructor(
    readonly type: ConnectionType,
    private readonly id: string,
    private readonly node: string,
    private readonly relay: Relay,
  ) {}

  isBlocked(): boolean {
    return false;
  }

  onceUnblocked(callback: () => void): void {
    queueMicrotask(callback);
  }

  write(deliveries: readonly Delivery[]): void {
    if (this.closed || deliveries.length === 0) return;
    this.relay.send(this.node, {
      t: 'write',
      id: this.id,
      deliveries: deliveries.map((delivery) => delivery.json),
    });
  }

  writeBatch(replies: readonly Message[], deliveries: readonly Delivery[]): void {
    if (this.closed) return;
    this.relay.send(this.node, {
      t: 'frame',
      id: this.id,
      replies: [...replies],
      deliveries: deliveries.map((delivery) => delivery.json),
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.relay.remoteClosed(this.id);
    this.relay.send(this.node, { t: 'close', id: this.id });
  }
}

/** Relays requests for sessions held by other nodes, and serves those relayed to this one. */
export class Relay {
  private seq = 0;
  private readonly off: () => void;
  /** This node waits for these answers (requests it relayed). */
  private readonly waiting = new Map<
    string,
    {
      finish(replies: Message[], deliveries: Delivery[]): void;
      held(timeout: number): void;
      /** Gives up: answers the client with 503 and advice `retry`. */
      abort(): void;
    }
  >();
  /** Streams held here for sessions elsewhere. */
  private readonly streams = new Map<string, LocalStream>();
  /** Relayed connects held here: how to forget each when its request goes away. */
  private readonly held = new Map<string, () => void>();
  /** Relayed batches still running here, and those of them cancelled meanwhile. */
  private readonly runningBatches = new Set<string>();
  private readonly cancelled = new Set<string>();
  /** Streams held elsewhere for sessions here. */
  private readonly remotes = new Map<string, { session: Session; connection: RemoteConnection }>();

  constructor(
    private readonly engine: Engine,
    readonly store: SessionStore,
  ) {
    this.off = store.onRelay((payload) => this.receive(payload));
  }

  /** The other node holding `clientId`'s session, when this node does not. */
  async ownerOf(clientId: unknown): Promise<string | undefined> {
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 256) return undefined;
    const { registry } = this.engine;
    if (registry.get(clientId) || registry.tombstone(clientId) !== undefined) return undefined;
    try {
      const owner = await this.store.owner(clientId);
      return owner !== undefined && owner !== this.store.nodeId ? owner : undefined;
    } catch {
      return undefined; // store unreachable: answer as a single node would (402)
    }
  }

  /** The node to relay a batch to: the owner of the first clientId this node does not know. */
  async ownerOfBatch(messages: readonly Message[]): Promise<string | undefined> {
    const clientId = messages.find((message) => typeof message.clientId === 'string')?.clientId;
    return this.ownerOf(clientId);
  }

  /** Relays a batch to `owner` and answers `res` with what comes back. */
  forwardBatch(
    owner: string,
    transport: ConnectionType,
    messages: Message[],
    res: RelayPeer,
    answer: HttpAnswer,
  ): void {
    const id = this.nextId();
    const { clock } = this.engine.options;
    let timer: TimerHandle | undefined;
    const onClose = () => {
      if (res.writableEnded || !this.waiting.delete(id)) return;
      if (timer !== undefined) clock.clearTimeout(timer);
      this.send(owner, { t: 'cancel', id });
    };
    const finish = (replies: Message[], deliveries: Delivery[]) => {
      if (!this.waiting.delete(id)) return;
      // A WebSocket carries many requests: each stops watching it once answered.
      res.off('close', onClose);
      if (timer !== undefined) clock.clearTimeout(timer);
      if (!res.writableEnded) answer(replies, deliveries);
    };
    const unavailable = () => {
      // The owner may still hold the connect: it must not take messages for an answer nobody reads.
      if (this.waiting.has(id)) this.send(owner, { t: 'cancel', id });
      finish(
        messages.map((message) =>
          failure(message, bayeuxErrors.unavailable('Server unavailable: the session did not answer'), {
            reconnect: 'retry',
            interval: 1_000,
          }),
        ),
        [],
      );
    };
    const held = (timeout: number) => {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = clock.setTimeout(unavailable, timeout + RELAY_WAIT_MS);
    };
    this.waiting.set(id, { finish, held, abort: unavailable });
    timer = clock.setTimeout(unavailable, RELAY_WAIT_MS);
    res.on('close', onClose);
    this.store
      .send(owner, JSON.stringify({ t: 'batch', id, from: this.store.nodeId, transport, messages }))
      .catch(unavailable);
  }

  /**
   * Attaches a stream opened here to `clientId`'s session on `owner`. `fail` ends the stream with
   * an error when the owner no longer has the session.
   */
  attachRemote(
    owner: string,
    clientId: string,
    type: ConnectionType,
    connection: Connection,
    res: RelayPeer,
    fail: (error: string) => void,
  ): void {
    if (res.destroyed) return;
    const id = this.nextId();
    const onClose = () => {
      if (this.streams.delete(id)) this.send(owner, { t: 'detach', id });
    };
    this.streams.set(id, { connection, fail, release: () => res.off('close', onClose) });
    res.on('close', onClose);
    this.store
      .send(owner, JSON.stringify({ t: 'attach', id, from: this.store.nodeId, clientId, type }))
      .catch(() => {
        if (!this.streams.delete(id)) return;
        res.off('close', onClose);
        fail(bayeuxErrors.unavailable());
      });
  }

  /** Sends a packet to `node`; a failure (the store is away) is the receiver's timeout to handle. */
  send(node: string, packet: Packet): void {
    this.store.send(node, JSON.stringify(packet)).catch(() => {});
  }

  /** A remote connection closed by its session. */
  remoteClosed(id: string): void {
    this.remotes.delete(id);
  }

  /** Stops relaying: relayed requests waiting here are answered, streams held here closed. */
  close(): void {
    this.off();
    for (const waiting of [...this.waiting.values()]) waiting.abort();
    for (const stream of this.streams.values()) stream.connection.close();
    this.streams.clear();
    for (const cancel of this.held.values()) cancel();
    this.held.clear();
  }

  private nextId(): string {
    return `${this.store.nodeId}.${++this.seq}`;
  }

  private receive(payload: string): void {
    let packet: Packet;
    try {
      packet = JSON.parse(payload) as Packet;
    } catch {
      return;
    }
    switch (packet.t) {
      case 'batch':
        void this.runRelayed(packet);
        break;
      case 'answer':
        this.waiting.get(packet.id)?.finish(packet.replies, packet.deliveries.map(deliveryFromJson));
        break;
      case 'held':
        this.waiting.get(packet.id)?.held(packet.timeout);
        break;
      case 'cancel': {
        const cancel = this.held.get(packet.id);
        this.held.delete(packet.id);
        if (cancel) cancel();
        else if (this.runningBatches.has(packet.id)) this.cancelled.add(packet.id);
        break;
      }
      case 'attach':
        this.attachHere(packet);
        break;
      case 'write':
        this.streams.get(packet.id)?.connection.write(packet.deliveries.map(deliveryFromJson));
        break;
      case 'frame':
        this.streams
          .get(packet.id)
          ?.connection.writeBatch(packet.replies, packet.deliveries.map(deliveryFromJson));
        break;
      case 'close': {
        const stream = this.streams.get(packet.id);
        this.streams.delete(packet.id);
        stream?.release();
        if (stream && packet.error) stream.fail(packet.error);
        else stream?.connection.close();
        break;
      }
      case 'detach': {
        const remote = this.remotes.get(packet.id);
        this.remotes.delete(packet.id);
        if (remote) {
          remote.connection.closed = true;
          remote.session.detach(remote.connection);
          remote.session.touch();
        }
        break;
      }
    }
  }

  /** Runs a batch relayed by another node as if it had arrived here; sends the answer back. */
  private async runRelayed(packet: Extract<Packet, { t: 'batch' }>): Promise<void> {
    const { id, from, transport } = packet;
    let answered = false;
    const answer: HttpAnswer = (replies, deliveries) => {
      answered = true;
      this.held.delete(id);
      this.send(from, {
        t: 'answer',
        id,
        replies: [...replies],
        deliveries: deliveries.map((delivery) => delivery.json),
      });
    };
    // The request's headers stay on the node that received it: they only matter to a handshake,
    // which is never relayed.
    const request = { headers: {}, remoteAddress: undefined, transport };
    const ctx = { engine: this.engine, transport, request, source: this.engine.options.sourceOf(request) };
    this.runningBatches.add(id);
    try {
      const held = await runBatch(ctx, packet.messages, answer);
      if (held && this.cancelled.has(id)) held.cancel();
      else if (held && !answered) {
        this.held.set(id, held.cancel);
        this.send(from, { t: 'held', id, timeout: held.timeout });
      }
    } catch {
      if (!answered)
        answer(
          packet.messages.map((message) => failure(message, bayeuxErrors.serverError())),
          [],
        );
    } finally {
      this.runningBatches.delete(id);
      this.cancelled.delete(id);
    }
  }

  /** A stream for a session of this node was opened on another node. */
  private attachHere(packet: Extract<Packet, { t: 'attach' }>): void {
    const { id, from, clientId, type } = packet;
    const session = this.engine.registry.get(clientId);
    if (!session || session.closed || !this.engine.options.transports.has(type)) {
      const error = !session
        ? (this.engine.registry.tombstone(clientId) ?? bayeuxErrors.unknownClient())
        : bayeuxErrors.unsupportedConnectionType([type]);
      this.send(from, { t: 'close', id, error });
      return;
    }
    const connection = new RemoteConnection(type, id, from, this);
    this.remotes.set(id, { session, connection });
    session.touch();
    session.attach(connection, type);
  }
}
