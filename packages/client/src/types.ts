/**
 * Public types of `@push/client`: options, the client, its events and handles. The transport seam
 * and the injected platform are in `transports/transport.ts` and re-exported here.
 */
import type { ConnectionType, DataMessage } from '@push/protocol';
import type { PushError } from './errors.js';
import type {
  Clock,
  FetchLike,
  KeyValueStorage,
  Logger,
  OnlineSignal,
  TransportError,
  TransportFactory,
  WebSocketCtor,
} from './transports/transport.js';

export type { ConnectionType, Message } from '@push/protocol';
export type {
  Clock,
  FetchInit,
  FetchLike,
  FetchResponse,
  KeyValueStorage,
  Logger,
  OnlineSignal,
  Platform,
  Transport,
  TransportErrorCode,
  TransportEvents,
  TransportFactory,
  WebSocketCtor,
  WebSocketLike,
} from './transports/transport.js';

/**
 * The connection's state. What each state allows is the table in `state.ts`.
 * - `idle`: created with `autoConnect: false`, `connect()` not called yet.
 * - `connecting`: the first negotiation is running.
 * - `connected`: a transport is up and `/meta/connect` is cycling.
 * - `reconnecting`: the connection was lost; a retry is scheduled (backoff) or running.
 * - `disconnected`: the client is offline (`reason.code: 'offline'`), or the server advised
 *   `reconnect: none` (`'refused'`: only `connect()` starts again); it waits.
 * - `closed`: `close()` was called; terminal.
 * @example client.on('state', (state, previous, reason) => console.log(previous, '->', state, reason.code));
 */
export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'closed';

/**
 * Why the connection entered its state (the third argument of the `state` event).
 * - `created`: the client was created (`idle`).
 * - `connect`: `connect()` (or `autoConnect`) started a negotiation.
 * - `negotiated`: a transport connected.
 * - `transport-failed`: the transport died; `error` is its {@link TransportError}.
 * - `negotiation-failed`: a negotiation round failed; `error` is the PushError also emitted on
 *   `error` (`negotiation-failed`, `auth-failed`, or a refused handshake the server said to retry).
 * - `advice`: the server refused a `/meta/connect` and advised `retry` or `handshake` (`error`).
 * - `offline` / `online`: the online signal changed.
 * - `refused`: the server advised `reconnect: none` (`error`); the client waits for `connect()`.
 * - `close`: `close()` was called.
 * @example client.on('state', (state, _previous, { code, error }) => code === 'refused' && signIn(error));
 */
export interface StateReason {
  code:
    | 'created'
    | 'connect'
    | 'negotiated'
    | 'transport-failed'
    | 'negotiation-failed'
    | 'advice'
    | 'offline'
    | 'online'
    | 'refused'
    | 'close';
  /** The failure behind the move, when there was one. */
  error?: TransportError | PushError;
}

/**
 * Why the client left a transport for the next one.
 * @example client.fallbacks.filter((f) => f.reason === 'open-timeout') // buffering proxies
 */
export type FallbackReason =
  | 'unsupported'
  | 'open-timeout'
  | 'open-failed'
  | 'handshake-timeout'
  | 'handshake-failed'
  | 'connect-timeout'
  | 'connect-failed';

/**
 * One fallback step of the negotiation that produced the current connection.
 * @example client.fallbacks // [{ from: 'websocket', to: 'eventsource', reason: 'open-timeout', at: 1700000000000 }]
 */
export interface Fallback {
  from: ConnectionType;
  to: ConnectionType;
  reason: FallbackReason;
  at: number;
}

/**
 * Credentials sent in the handshake's `ext.auth`.
 * @example createClient({ url, auth: async () => ({ token: await getToken() }) });
 */
export interface AuthToken {
  token: string;
}

/**
 * Options of {@link createClient}.
 * @example createClient({ url: 'https://example.com/push', transports: ['websocket', 'long-polling'] });
 */
export interface ClientOptions {
  /** The server endpoint, e.g. `http://localhost:8080/push` (`ws:`/`wss:` are derived). */
  url: string;
  /**
   * Transports to negotiate, in preference order: names of registered factories or factories.
   * @defaultValue `['websocket', 'eventsource', 'long-polling', 'iframe']`
   */
  transports?: ReadonlyArray<ConnectionType | TransportFactory>;
  /** Token (or an async function returning one, called on each handshake). */
  auth?: AuthToken | (() => Promise<AuthToken>);
  /** @defaultValue true */
  autoConnect?: boolean;
  WebSocket?: WebSocketCtor;
  /**
   * The HTTP transports' requests. @defaultValue the global `fetch` (in Node, the `node` build's
   * `nodeFetch` over `node:http`)
   */
  fetch?: FetchLike;
  /** Where the working transport is remembered. @defaultValue `localStorage` when available */
  storage?: KeyValueStorage | null;
  clock?: Clock;
  online?: OnlineSignal;
  document?: Document;
  /** Extra headers on HTTP requests. */
  headers?: Record<string, string>;
  /**
   * Whether HTTP transports send cookies. Cross-origin cookies need `'include'` here and the
   * server's `origins` list (a server without one never allows credentialed CORS).
   * @defaultValue 'same-origin' (fetch's own default)
   */
  credentials?: RequestCredentials;
  /** Random source for backoff jitter. @defaultValue Math.random */
  random?: () => number;
  logger?: Logger;
  /**
   * Deadline of each negotiation step (open, handshake, first connect). A WebSocket that opens but
   * stays silent is left after this long, so the next transport delivers within about this bound.
   * @defaultValue 2500 ms
   */
  attemptTimeout?: number;
  /**
   * How long an HTTP request other than a held `/meta/connect` (subscribe, publish, unsubscribe
   * over long-polling, SSE or the iframe) may go unanswered. Past it the transport counts as
   * failed (`TransportError` code `timeout`): the client reconnects and sends it again (a publish
   * under the same idempotency key), instead of waiting for a request stuck in a proxy for good.
   * @defaultValue 10000 ms
   * @example createClient({ url, requestTimeout: 20_000 }) // a slow link
   */
  requestTimeout?: number;
  /** Extra wait beyond `advice.timeout` before a held `/meta/connect` is declared dead. @defaultValue 10000 ms */
  heartbeatGrace?: number;
  /**
   * Messages held back behind a gap, per channel, while a resume fetches what is missing. One more
   * and the client stops waiting for that channel: it delivers what it holds, in offset order,
   * emits `recovered` with `{ channel, recovered: false }` (the concrete channel: what was in the
   * gap is lost to this client) and goes on from the newest message. Memory stays bounded whatever
   * arrives. A resume reply that comes later replays nothing twice.
   * @defaultValue 1000
   * @example createClient({ url, maxGapBuffer: 5000 }); // fast streams, slow resumes
   */
  maxGapBuffer?: number;
  /** Backoff bounds: first delay and cap. @defaultValue `{ base: 500, max: 30000 }` */
  backoff?: { base?: number; max?: number };
  /** Delay after connecting on a non-preferred transport before better ones are re-probed; 0 disables. @defaultValue 30000 ms */
  upgradeDelay?: number;
  /** Publishes kept while offline. @defaultValue 100 */
  maxQueue?: number;
  /**
   * Water marks of the send queue (publishes queued or awaiting their ack): the `backpressure`
   * event fires with `high: true` when `high` are pending, then `high: false` once down to `low`.
   * @defaultValue `{ high: 64, low: 16 }`
   */
  backpressure?: { high?: number; low?: number };
  /**
   * Share one connection among all tabs of this origin (same `url` and credentials): honoured by
   * `createClient` from `@push/client/share`; the core `createClient` refuses it with an
   * `invalid-option` PushError. See the README's "Sharing one connection".
   */
  share?: boolean | import('./share/types.js').ShareOptions;
}

/**
 * Options of {@link PushClient.publish}.
 * @example await client.publish('/orders', order, { key: `order-${order.id}` });
 */
export interface PublishOptions {
  /**
   * Idempotency key, sent as `ext.push.key` (at most 128 characters): within its
   * `publishDedupe.window` the server publishes a key once, per user and channel, and answers a
   * repeat with the first reply. A publish in flight when the connection drops is sent again with
   * its key. Give your own to make your retries safe too (e.g. one derived from a draft's id).
   * @defaultValue a random key (128 bits) per publish
   */
  key?: string;
}

/**
 * Handler of channel messages.
 * @example const onPrice: MessageHandler<{ price: number }> = (data, message) => show(message.channel, data.price);
 */
export type MessageHandler<T = unknown> = (data: T, message: DataMessage<T>) => void;

/**
 * Options of {@link PushClient.subscribe}.
 * @example client.subscribe('/ticker', onTick, { resume: false }); // live only
 */
export interface SubscribeOptions {
  /** Resume from the last seen offset after reconnects (server history). @defaultValue true */
  resume?: boolean;
  /**
   * Last positions already seen, per concrete channel: the subscription resumes after them (with
   * `resume`). Positions the client already knows win.
   * @example client.subscribe('/news', onNews, { from: { '/news': { offset: 41, epoch: 'e1' } } });
   */
  from?: Record<string, import('@push/protocol').StreamPosition>;
  /**
   * Called once, when the server confirms the subscription, with the position each channel starts
   * after: the last one delivered or resumed from, else the channel's top when it was subscribed.
   * What `from` takes to resume it with no gap where nothing has arrived yet (a shared
   * connection's holder hands it to the tabs for the next holder).
   * @example client.subscribe('/news', onNews, { onReady: (positions) => save(positions) });
   */
  onReady?(positions: Record<string, import('@push/protocol').StreamPosition>): void;
}

/**
 * A subscription handle.
 * @example const sub = client.subscribe('/chat/*', onMessage); await sub.ready; sub.unsubscribe();
 */
export interface Subscription {
  readonly channel: string;
  readonly state: 'pending' | 'subscribed' | 'failed' | 'unsubscribed';
  /** Resolves when the server confirmed the subscription; rejects with a {@link PushError}. */
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

/**
 * Presence on one channel.
 * @example const p = client.presence('/chat/lobby'); await p.enter({ name: 'ann' }); p.on('join', (m) => {});
 */
export interface Presence {
  readonly channel: string;
  enter(data?: unknown): Promise<import('@push/protocol').PresenceMember[]>;
  leave(): Promise<void>;
  members(): Promise<import('@push/protocol').PresenceMember[]>;
  on(event: 'join' | 'leave', fn: (member: import('@push/protocol').PresenceMember) => void): () => void;
  off(event: 'join' | 'leave', fn: (member: import('@push/protocol').PresenceMember) => void): void;
  /**
   * Leaves (if entered), stops listening for join/leave and forgets the channel; a later
   * `client.presence(channel)` starts afresh. Shared by everyone holding this channel's handle.
   * @example await client.presence('/chat/lobby').close();
   */
  close(): Promise<void>;
}

/**
 * A transport switch (`previous` undefined on the first connection).
 * @example client.on('transport', ({ transport, previous, reason, error }) => console.log(previous, '->', transport, reason, error?.code));
 */
export interface TransportChange {
  transport: ConnectionType;
  previous: ConnectionType | undefined;
  reason: 'connect' | 'fallback' | 'upgrade' | 'reconnect';
  /**
   * The failure that made the client leave the transport before: for `fallback`, what ended the
   * last failed attempt of the negotiation; for `reconnect`, what ended the previous transport.
   */
  error?: TransportError | PushError;
}

/**
 * Events of the client, with their handler arguments.
 * @example client.on('recovered', ({ channel, recovered }) => recovered || reload(channel));
 */
export interface ClientEvents {
  state: [state: ConnectionState, previous: ConnectionState, reason: StateReason];
  transport: [change: TransportChange];
  error: [error: PushError];
  recovered: [event: { channel: string; recovered: boolean }];
  /** The send queue passed its high water mark (`high: true`) or drained to its low one. */
  backpressure: [event: { queued: number; high: boolean }];
}

/**
 * The client returned by {@link createClient}.
 * @example
 * const client = createClient({ url: 'http://localhost:8080/push' });
 * client.subscribe('/news', (data) => console.log(data));
 */
export interface PushClient {
  readonly state: ConnectionState;
  readonly transport: ConnectionType | undefined;
  readonly clientId: string | undefined;
  readonly fallbacks: readonly Fallback[];
  subscribe<T = unknown>(
    channel: string,
    handler: MessageHandler<T>,
    options?: SubscribeOptions,
  ): Subscription;
  /**
   * Publishes `data` on `channel`; resolves once the server acknowledged it. Exactly once: a
   * publish in flight when the connection drops is sent again with its idempotency key.
   * @example await client.publish('/chat', { text: 'hi' });
   */
  publish(channel: string, data: unknown, options?: PublishOptions): Promise<void>;
  presence(channel: string): Presence;
  on<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void): void;
  connect(): void;
  close(): Promise<void>;
}
