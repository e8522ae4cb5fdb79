/**
 * Public types of `@push/client`: options, the client and its handles, the transport seam and
 * the injected platform (clock, fetch, WebSocket, storage, online signal, document).
 */
import type { ConnectionType, DataMessage, Message } from '@push/protocol';
import type { PushError } from './errors.js';

export type { ConnectionType, Message } from '@push/protocol';

/**
 * The connection's state.
 * - `idle`: created with `autoConnect: false`, `connect()` not called yet.
 * - `connecting`: the first negotiation is running.
 * - `connected`: a transport is up and `/meta/connect` is cycling.
 * - `reconnecting`: the connection was lost; a retry is scheduled (backoff) or running.
 * - `disconnected`: the server advised `reconnect: none`, or the client is offline; it waits.
 * - `closed`: `close()` was called; terminal.
 * @example client.on('state', (state, previous) => console.log(previous, '->', state));
 */
export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'disconnected'
  | 'closed';

/**
 * Time, injectable so tests drive it with a fake clock.
 * @example const clock: Clock = { now: () => Date.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h) };
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Key/value storage where the client remembers which transport worked per origin
 * (`localStorage` by default when it exists).
 * @example const storage: KeyValueStorage = new Map<string, string>() as never; // any get/set pair
 */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Network reachability: `online()` now, and a subscription to changes (browser `online`/`offline`).
 * @example const online: OnlineSignal = { online: () => true, subscribe: () => () => {} };
 */
export interface OnlineSignal {
  online(): boolean;
  subscribe(listener: (online: boolean) => void): () => void;
}

/**
 * The subset of the WebSocket constructor the client uses (browser `WebSocket` or `ws`).
 * @example import WebSocket from 'ws'; createClient({ url, WebSocket });
 */
export type WebSocketCtor = new (url: string) => WebSocketLike;

/**
 * The subset of a WebSocket instance the client uses.
 * @example const socket: WebSocketLike = new WebSocket('wss://example.com/push');
 */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Tiny tagged logger; off by default.
 * @example createClient({ url, logger: (level, tag, detail) => console.log(level, tag, detail) });
 */
export type Logger = (level: 'debug' | 'warn', tag: string, detail: unknown) => void;

/**
 * Everything the client takes from the platform.
 * @example const env: Platform = { clock, online, random: Math.random, log: () => {}, fetch }; // what transports receive Browser (and Node 20) defaults are used for
 * what is not given.
 */
export interface Platform {
  clock: Clock;
  fetch?: typeof fetch;
  WebSocket?: WebSocketCtor;
  /** Where the transport memory keeps what worked; `null`: nowhere, undefined: `localStorage`. */
  storage?: KeyValueStorage | null;
  online: OnlineSignal;
  /** Used by the iframe transport in browsers; absent in Node. */
  document?: Document;
  /** Extra request headers for HTTP transports (e.g. from `auth`). */
  headers?: Record<string, string>;
  /** `fetch` credentials mode for HTTP transports; default `'include'`. */
  credentials?: RequestCredentials;
  random: () => number;
  log: Logger;
}

/**
 * Events a transport reports to its owner.
 * @example events.open(); events.message(batch); events.close('socket-closed');
 */
export interface TransportEvents {
  /** The transport is usable (socket open, stream's first bytes arrived). */
  open(): void;
  /** A batch arrived from the server (downstream, or the reply to an upstream POST). */
  message(batch: Message[]): void;
  /** The transport died; it will not be used again. */
  close(reason: string): void;
}

/**
 * One live transport.
 * @example const t = factory.create(url, events, env); t.open(clientId); await t.send([message]); t.close(); I/O starts in `open()`, never in `create()`.
 * `send()` resolves when the batch is handed over (duplex) or when the POST answered; its replies
 * arrive through `events.message`.
 */
export interface Transport {
  readonly type: ConnectionType;
  /** Starts I/O. Stream transports need the session's `clientId` (they open after the handshake). */
  open(clientId?: string): void;
  send(batch: Message[]): Promise<void>;
  /** Resolves when requests in flight (other than held `/meta/connect`s) have finished. */
  pause(): Promise<void>;
  close(): void;
}

/**
 * Creates transports of one connection type. Export one per transport file so unused ones tree-shake.
 * `duplex: true` transports carry the handshake themselves; the others send upstream by POST
 * and open their downstream (if any) after the handshake.
 * @example createClient({ url, transports: [websocket(), longPolling()] });
 */
export interface TransportFactory {
  readonly type: ConnectionType;
  readonly duplex: boolean;
  isSupported(env: Platform): boolean;
  create(url: URL, events: TransportEvents, env: Platform): Transport;
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
  fetch?: typeof fetch;
  /** Where the working transport is remembered. @defaultValue `localStorage` when available */
  storage?: KeyValueStorage | null;
  clock?: Clock;
  online?: OnlineSignal;
  document?: Document;
  /** Extra headers on HTTP requests. */
  headers?: Record<string, string>;
  /** @defaultValue 'include' */
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
  /** Extra wait beyond `advice.timeout` before a held `/meta/connect` is declared dead. @defaultValue 10000 ms */
  heartbeatGrace?: number;
  /** Backoff bounds: first delay and cap. @defaultValue `{ base: 500, max: 30000 }` */
  backoff?: { base?: number; max?: number };
  /** Delay after connecting on a non-preferred transport before better ones are re-probed; 0 disables. @defaultValue 30000 ms */
  upgradeDelay?: number;
  /** Publishes kept while offline. @defaultValue 100 */
  maxQueue?: number;
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
 * @example client.on('transport', ({ transport, previous, reason }) => console.log(previous, '->', transport, reason));
 */
export interface TransportChange {
  transport: ConnectionType;
  previous: ConnectionType | undefined;
  reason: 'connect' | 'fallback' | 'upgrade' | 'reconnect';
}

/**
 * Events of the client, with their handler arguments.
 * @example client.on('recovered', ({ channel, recovered }) => recovered || reload(channel));
 */
export interface ClientEvents {
  state: [state: ConnectionState, previous: ConnectionState];
  transport: [change: TransportChange];
  error: [error: PushError];
  recovered: [event: { channel: string; recovered: boolean }];
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
  publish(channel: string, data: unknown): Promise<void>;
  presence(channel: string): Presence;
  on<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void): () => void;
  off<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void): void;
  connect(): void;
  close(): Promise<void>;
}
