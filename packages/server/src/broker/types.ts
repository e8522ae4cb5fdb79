/**
 * The broker: what a Push server shares with the other server processes (fan-out, history,
 * presence). The in-memory broker is the default; `@push/redis` implements the same interface on
 * Redis (streams for history and offsets, pub/sub for fan-out, presence with a TTL).
 *
 * Every method is async-friendly: a Redis implementation returns promises, the memory broker
 * resolves at once. A method that fails for a passing reason (the store is unreachable) should
 * reject with an error whose `retriable` is `true` (the contract of `isRetriable` in errors.ts):
 * the client then gets `503` with advice to retry instead of `500`.
 */
import type { PresenceMember, StreamPosition } from '@push/protocol';

/** What a server hands to {@link Broker.publish}. */
export interface BrokerPublishInput {
  /** A concrete (non-wildcard) data or presence channel. */
  channel: string;
  data: unknown;
  /** The publishing client's message id, if any. */
  id?: string;
  /** The publishing session's clientId, if the message came from a client. */
  publisherId?: string;
}

/** A message as stored and fanned out by the broker, with its position in the channel history. */
export interface BrokerMessage {
  channel: string;
  data: unknown;
  id?: string;
  publisherId?: string;
  /** Position in the channel's history; the first message of a channel has offset 1. */
  offset: number;
  /** Names the history instance the offsets belong to; changes when history is lost. */
  epoch: string;
  /** Milliseconds since the epoch when the broker accepted it. */
  time: number;
  /**
   * `JSON.stringify(data)`, when the broker already computed it (the memory broker does, to count
   * history bytes): fan-out splices it in instead of serializing `data` a second time.
   */
  dataJson?: string;
}

/** The answer to {@link Broker.history}. */
export interface HistoryResult {
  /**
   * True when `messages` holds every message published after the asked position; false when the
   * window no longer reaches back that far or the epoch changed (then `messages` is empty).
   */
  recovered: boolean;
  /** Missed messages in offset order. */
  messages: BrokerMessage[];
  /** The channel's current top position. */
  position: StreamPosition;
}

/** Presence store: members per channel with the data each client supplied. */
export interface PresenceStore {
  /**
   * Adds or updates a member. Returns true when the member is new (a join event is due).
   * `ttlMs` is how long the entry may outlive a server that died without calling `leave`.
   */
  enter(channel: string, member: PresenceMember, ttlMs: number): Promise<boolean>;
  /** Removes a member; returns it when it was there (a leave event is due). */
  leave(channel: string, clientId: string): Promise<PresenceMember | undefined>;
  /** Current members of `channel`. */
  members(channel: string): Promise<PresenceMember[]>;
}

/**
 * Shared sessions, for HTTP clients whose requests land on any server process (no sticky
 * sessions): a directory `clientId -> node` and a point-to-point channel between nodes. A session
 * stays on the node that created it; another node that gets one of its requests relays the request
 * there and writes the answer back (see the server's `relay.ts`). Optional: a broker without it
 * (the in-memory one) keeps every session to its own process. A store is one node: give each Push
 * server its own broker instance when it has one.
 */
export interface SessionStore {
  /** This process's id among the nodes sharing the store. */
  readonly nodeId: string;
  /** Records that `clientId` lives on this node; kept while this node lives (refreshed), else `ttlMs`. */
  claim(clientId: string, ttlMs: number): Promise<void>;
  /** Forgets `clientId` (its session ended on this node). */
  release(clientId: string): Promise<void>;
  /** The live node holding `clientId`, or undefined (unknown, or its node is gone). */
  owner(clientId: string): Promise<string | undefined>;
  /** Sends `payload` to the node `nodeId` (in order per sender; at most once). */
  send(nodeId: string, payload: string): Promise<void>;
  /** Receives what other nodes {@link send} to this one; returns the unsubscribe function. */
  onRelay(listener: (payload: string) => void): () => void;
}

/** Listener for every message published through the broker, from any server process. */
export type BrokerListener = (message: BrokerMessage) => void;

/**
 * Cross-process publish/subscribe, history and presence.
 * @example
 * const broker: Broker = createMemoryBroker({ historySize: 100, historyAge: 60_000 });
 * const off = broker.onMessage((m) => console.log(m.channel, m.offset));
 * await broker.publish({ channel: '/chat', data: 'hi' });
 */
export interface Broker {
  /**
   * Assigns the next offset of the channel, appends to its history and fans the message out to
   * every `onMessage` listener of every process. Resolves with the stored message.
   */
  publish(input: BrokerPublishInput): Promise<BrokerMessage>;
  /** Subscribes to every message published anywhere; returns the unsubscribe function. */
  onMessage(listener: BrokerListener): () => void;
  /** Messages of `channel` after `after` (exclusive), within the history window. */
  history(channel: string, after: StreamPosition): Promise<HistoryResult>;
  /** The current top position of `channel` (offset 0 when nothing was published). */
  position(channel: string): Promise<StreamPosition>;
  /** Presence members per channel. */
  readonly presence: PresenceStore;
  /** Shared sessions across processes (no sticky sessions needed); absent: sessions are local. */
  readonly sessions?: SessionStore;
  /** Releases connections and timers. The server calls it only for the broker it created. */
  close(): Promise<void>;
}
