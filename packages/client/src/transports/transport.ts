/**
 * The transport seam: what a transport is given (the platform: clock, fetch, WebSocket, storage,
 * online signal, document, logger), what it implements (`TransportFactory` -> `Transport`), what
 * it reports (`TransportEvents`), and the one error it raises and closes with (`TransportError`).
 * The negotiator and the connection see transports only through these; they never branch on a name.
 */
import type { ConnectionType, Message } from '@push/protocol';
import type { PushError } from '../errors.js';

/**
 * Why a transport failed.
 * - `open-failed`: it could not be started (the WebSocket constructor threw: bad URL, CSP).
 * - `error`: the socket or frame reported an error.
 * - `closed`: the server or the network ended it (socket closed, stream or frame document ended).
 * - `http-status`: an HTTP request was answered with a status other than 2xx (see `status`).
 * - `network`: an HTTP request got no answer (offline, DNS, CORS, connection reset).
 * - `idle`: a stream was silent (no batch, no heartbeat) for its idle timeout: half-open.
 * - `bad-frame`: a downstream chunk could not be decoded.
 * - `not-open`: `send()` before the transport opened or after it closed.
 * - `timeout`: it did not answer in time: a negotiation step missed its deadline (a buffering
 *   proxy holds the first bytes back), or a held `/meta/connect` went unanswered for its hold
 *   plus `heartbeatGrace` (a dead connection).
 * @example client.on('transport', ({ error }) => error?.code === 'timeout' && warnAboutProxy());
 */
export type TransportErrorCode =
  | 'open-failed'
  | 'error'
  | 'closed'
  | 'http-status'
  | 'network'
  | 'idle'
  | 'bad-frame'
  | 'not-open'
  | 'timeout';

/**
 * The error every transport raises and closes with. Always retriable: the connection reconnects
 * (or falls back) by itself; it reaches the app as the `error` of `state` and `transport` events
 * and as the `cause` of a `connection-lost` PushError.
 * @example if (error instanceof TransportError && error.code === 'http-status') console.log(error.status);
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** A transport failure never says the request was wrong: trying again may succeed. */
  readonly retriable = true;
  // `declare`: set in the constructor, not declared again as class fields (bytes in the bundle).
  /** Why it failed. */
  declare readonly code: TransportErrorCode;
  /** The transport that failed. */
  declare readonly transport: ConnectionType;
  /** The HTTP status, for `http-status`. */
  declare readonly status: number | undefined;

  constructor(
    code: TransportErrorCode,
    transport: ConnectionType,
    details: { status?: number; cause?: unknown } = {},
  ) {
    super(`${transport} ${code}${details.status ? ` ${details.status}` : ''}`, details);
    this.code = code;
    this.transport = transport;
    this.status = details.status;
  }
}

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
  /**
   * Node's `ws` has its own event API as well as the `on…` properties; messages are taken through
   * it when present (`ws` wraps every message in an event object for `onmessage`).
   */
  on?(event: 'message', listener: (data: { toString(): string }) => void): unknown;
}

/**
 * Tiny tagged logger; off by default.
 * @example createClient({ url, logger: (level, tag, detail) => console.log(level, tag, detail) });
 */
export type Logger = (level: 'debug' | 'warn', tag: string, detail: unknown) => void;

/**
 * What the HTTP transports need of `fetch`: the global `fetch` is one, and so is the Node build's
 * `nodeFetch`. Only these fields are used, so a platform can supply a lighter implementation.
 * @example const env: Platform = { clock, online, random: Math.random, log: () => {}, fetch: globalThis.fetch };
 */
export type FetchLike = (url: string, init?: FetchInit) => Promise<FetchResponse>;

/** The request options the HTTP transports pass to {@link FetchLike}. */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: RequestCredentials;
  signal?: AbortSignal;
  cache?: RequestCache;
}

/** The part of a `Response` the HTTP transports read. */
export interface FetchResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } } | null;
  text(): Promise<string>;
  /**
   * Not in the Fetch standard, optional: hands the body over as decoded text the moment each chunk
   * arrives, then calls `onEnd` once (with the error, if it failed), instead of a promise per chunk
   * through `body.getReader()`. The streaming transports use it when present; `nodeFetch` has it.
   */
  readText?(onText: (text: string) => void, onEnd: (error?: unknown) => void): void;
}

/**
 * Everything the client takes from the platform; browser (and Node 20) defaults are used for
 * what is not given (`platform.ts`). Transports receive it in `create()`.
 * @example const env: Platform = { clock, online, random: Math.random, log: () => {}, fetch };
 */
export interface Platform {
  clock: Clock;
  fetch?: FetchLike;
  WebSocket?: WebSocketCtor;
  /** Where the transport memory keeps what worked; `null`: nowhere, undefined: `localStorage`. */
  storage?: KeyValueStorage | null;
  online: OnlineSignal;
  /** Used by the iframe transport in browsers; absent in Node. */
  document?: Document;
  /** Extra request headers for HTTP transports (e.g. from `auth`). */
  headers?: Record<string, string>;
  /** `fetch` credentials mode for HTTP transports; default `'same-origin'`. */
  credentials?: RequestCredentials;
  /** Deadline of an HTTP request other than a held `/meta/connect`, ms; default 10 000. */
  requestTimeout?: number;
  random: () => number;
  log: Logger;
}

/**
 * Events a transport reports to its owner.
 * @example events.open(); events.message(batch); events.close(new TransportError('closed', 'websocket'));
 */
export interface TransportEvents {
  /** The transport is usable (socket open, stream's first bytes arrived). */
  open(): void;
  /** A batch arrived from the server (downstream, or the reply to an upstream POST). */
  message(batch: Message[]): void;
  /**
   * A frame of text arrived (a WebSocket message: a string, or a Node Buffer): the owner parses
   * it as a batch and takes it as `message` would. Optional: a transport may parse and call
   * `message` itself. The link implements it so that a frame reaches it with no closure of the
   * transport's in between (with many clients in one process, each is a likely cache miss).
   */
  text?(frame: { toString(): string }): void;
  /** The transport died (not called after the owner's `close()`); it will not be used again. */
  close(error: TransportError): void;
}

/**
 * One live transport. I/O starts in `open()`, never in `create()`. `send()` resolves when the
 * batch is handed over (duplex) or when the POST answered; its replies arrive through
 * `events.message`. It rejects with a {@link TransportError} (`not-open` once closed).
 * @example const t = factory.create(url, events, env); t.open(clientId); await t.send([message]); t.close();
 */
export interface Transport {
  readonly type: ConnectionType;
  /** Starts I/O. Stream transports need the session's `clientId` (they open after the handshake). */
  open(clientId?: string): void;
  send(batch: Message[]): Promise<void>;
  /** Resolves when requests in flight (other than held `/meta/connect`s) have finished. */
  pause(): Promise<void>;
  /** Stops I/O; `events.close` is not called for it. */
  close(): void;
}

/**
 * Creates transports of one connection type. Export one per transport file so unused ones tree-shake.
 * `duplex: true` transports carry the handshake themselves; the others send upstream by POST
 * and open their downstream (if any) after the handshake. Take `duplex` from `TRANSPORTS[type]`
 * of `@push/protocol`.
 * @example createClient({ url, transports: [websocket(), longPolling()] });
 */
export interface TransportFactory {
  readonly type: ConnectionType;
  readonly duplex: boolean;
  isSupported(env: Platform): boolean;
  create(url: URL, events: TransportEvents, env: Platform): Transport;
  /**
   * True when `failure` (a negotiation step's) says the server is unreachable, not that this
   * transport is broken: the round stops instead of falling back, and the next one walks the same
   * order again. The HTTP transports tell by status (`unreachable`); absent: every failure falls back.
   */
  outage?(failure: TransportError | PushError): boolean;
}
