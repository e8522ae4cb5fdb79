/** Options of `createPushServer` and their defaults. */
import type { Server as HttpServer, IncomingHttpHeaders } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type ConnectionType, DEFAULT_ORDER, type HandshakeRequest, TRANSPORTS } from '@push/protocol';
import type { Broker } from './broker/types.js';
import { type Clock, systemClock } from './clock.js';
import { PushServerError } from './errors.js';
import type { PublishDedupeOptions } from './publish-dedupe.js';

/** Who a session belongs to, as returned by `authenticate`. */
export interface PushIdentity {
  /** A stable user id, if there is one. */
  id?: string;
  /**
   * When the credentials behind this identity stop being valid, in epoch milliseconds (the
   * server's `clock`). The server then ends the session with `401::Token expired` and
   * `advice.reconnect: 'handshake'`, so the client handshakes again with fresh credentials.
   * `jwtAuthenticator` sets it from the token's `exp`. @defaultValue none: the session never expires
   */
  expiresAt?: number;
  [key: string]: unknown;
}

/** What `authenticate` learns about the request that carried the handshake. */
export interface RequestInfo {
  headers: IncomingHttpHeaders;
  remoteAddress: string | undefined;
  /** The connection type the handshake arrived on (`websocket` or an HTTP one). */
  transport: ConnectionType;
}

/** Actions `authorize` is asked about. `presence` covers entering a channel's presence set. */
export type AuthorizeAction = 'subscribe' | 'publish' | 'presence';

/**
 * Decides who a handshake belongs to. Return an identity to accept, `null`/`undefined` to refuse
 * with `401::Authentication failed`. Throwing refuses too (the message is not sent to the client).
 */
export type Authenticate = (
  handshake: HandshakeRequest,
  request: RequestInfo,
) => PushIdentity | null | undefined | Promise<PushIdentity | null | undefined>;

/** Decides whether `identity` may do `action` on `channel` (a pattern for subscribe). */
export type Authorize = (
  identity: PushIdentity,
  action: AuthorizeAction,
  channel: string,
) => boolean | Promise<boolean>;

/** Limits; each refusal is a Bayeux error (413, 429 or 503). */
export interface PushLimits {
  /** Largest batch (HTTP body, WebSocket frame, JSONP `message`) in bytes. @defaultValue 262_144 */
  maxMessageBytes?: number;
  /** Subscriptions per client. @defaultValue 1_000 */
  maxSubscriptions?: number;
  /** Messages queued for one client before it is cut off. @defaultValue 1_000 */
  maxQueue?: number;
  /** Concurrent sessions. @defaultValue 100_000 */
  maxConnections?: number;
  /** Bytes buffered on one socket before the server stops writing to it. @defaultValue 1_048_576 */
  maxBufferedBytes?: number;
  /**
   * Presence channels one session may have entered at once; one more `enter` is refused with
   * `429:presence,N:Limit exceeded: presence`. @defaultValue 100
   */
  maxPresence?: number;
  /**
   * Deepest nesting of arrays and objects in an inbound batch (the batch array is level 1), `data`
   * included, on every ingress; deeper input is refused with `429:depth,N:`. @defaultValue 64
   */
  maxDepth?: number;
  /** Messages in one inbound batch; more is refused with `429:batch,N:`. @defaultValue 1_000 */
  maxBatchMessages?: number;
  /**
   * Failed replies in one batch: past it the rest of the batch is refused with one
   * `429:failures,N:` reply, so a batch of bogus messages cannot get a reply larger than itself.
   * @defaultValue 32
   */
  maxFailuresPerBatch?: number;
  /** `/meta/handshake` messages in one batch; more are refused with `429:handshakes,N:`. @defaultValue 1 */
  maxHandshakesPerBatch?: number;
  /**
   * Handshakes one source (see `sourceOf`) may make per minute, as a token bucket that refills
   * continuously; past it handshakes get `429:handshake-rate,N:` with advice to retry later.
   * @defaultValue 600
   */
  handshakesPerMinute?: number;
  /**
   * Milliseconds a WebSocket may stay open without sending its first message, and a session may
   * live without its first `/meta/connect`; then it is closed or ended. @defaultValue 10_000
   */
  handshakeTimeout?: number;
  /**
   * Batches of one WebSocket being processed or waiting: past it (or while the socket's send
   * buffer is over `maxBufferedBytes`) the server stops reading that socket until it catches up,
   * so a client that sends without reading cannot grow the server's memory. @defaultValue 16
   */
  maxPendingBatches?: number;
  /**
   * Milliseconds a WebSocket may stay over `maxBufferedBytes` (its client not reading) before it
   * is cut. @defaultValue 30_000
   */
  writeTimeout?: number;
}

/** A structured log line from the server (see {@link PushServerOptions.logger}). */
export interface PushLogEntry {
  /** Stable identifier of what happened, e.g. `fault` or `limit`. */
  code: string;
  message: string;
  clientId?: string;
  error?: unknown;
}

/** Where the server writes what an operator should know (a contained fault). */
export interface PushLogger {
  warn(entry: PushLogEntry): void;
}

/**
 * Options of `createPushServer`.
 * @example
 * createPushServer({ server, path: '/push', publishKey: process.env.PUSH_KEY, limits: { maxQueue: 500 } });
 */
export interface PushServerOptions {
  /** The node:http or node:https server to attach to. Omit to use `handler`/`handleUpgrade` yourself. */
  server?: HttpServer | HttpsServer;
  /** The path prefix every transport lives under. @defaultValue '/push' */
  path?: string;
  /** Cross-process fan-out, history and presence. @defaultValue an in-memory broker */
  broker?: Broker;
  /**
   * History bounds of the default in-memory broker: messages per channel, their age in ms, total
   * bytes (approximated by the JSON size of `data`) and channels kept. Past `maxBytes` or
   * `maxChannels` the oldest messages are evicted first. @defaultValue
   * `{ maxCount: 100, maxAge: 300_000, maxBytes: 67_108_864, maxChannels: 10_000 }`
   */
  history?: { maxCount?: number; maxAge?: number; maxBytes?: number; maxChannels?: number };
  /**
   * Connection types offered in the handshake.
   * @defaultValue `DEFAULT_ORDER` of `@push/protocol` (WebSocket, SSE, long-polling, iframe);
   * `callback-polling` (JSONP) is off unless listed
   */
  transports?: ConnectionType[];
  /** Milliseconds a `/meta/connect` is held (advice.timeout). @defaultValue 30_000 */
  timeout?: number;
  /** Milliseconds the client waits between connects (advice.interval). @defaultValue 0 */
  interval?: number;
  /**
   * Plain polling: when set, HTTP clients are advised `timeout: 0, interval: pollingInterval`
   * and connects are answered at once. Clients that send `advice.timeout: 0` are honoured anyway.
   */
  pollingInterval?: number;
  /** Milliseconds a session lives without any request from its client. @defaultValue 60_000 */
  sessionTimeout?: number;
  /**
   * Milliseconds between SSE heartbeat comments / iframe heartbeat calls. `@push/client` declares a
   * stream dead after 25 s of silence, so keep this well below that. @defaultValue 10_000
   */
  heartbeatInterval?: number;
  /** Limits per client and per server. */
  limits?: PushLimits;
  /**
   * Sites allowed to use this server from a browser (exact origins such as
   * `'https://app.example'`, or a predicate), for WebSocket upgrades, CORS and requests that carry
   * no `Origin` (JSONP `<script>`, form posts, iframes: judged by `Sec-Fetch-Site` and `Referer`).
   * Only listed origins get `access-control-allow-credentials`.
   *
   * Without a list any site may open a WebSocket to this server and run JSONP/iframe requests, and
   * the browser sends your cookies along: CORS never allows credentials then, but a WebSocket is
   * not covered by CORS. So an `authenticate` hook that trusts cookies (or any ambient
   * credential) needs `origins`; tokens sent in `ext.auth` do not.
   * @defaultValue none: any origin, CORS without credentials
   */
  origins?: readonly string[] | ((origin: string) => boolean);
  /** Handshake authentication hook (see `jwtAuthenticator`). @defaultValue everyone is `{}` */
  authenticate?: Authenticate;
  /** Subscribe/publish/presence authorization hook. @defaultValue everything allowed */
  authorize?: Authorize;
  /**
   * Key that makes a `POST {path}/publish` request a trusted back end (`authorization: Bearer KEY`
   * or `x-push-key: KEY`): it may publish anywhere, `authenticate`/`authorize` are not asked.
   * @defaultValue none
   */
  publishKey?: string;
  /**
   * Whether `POST {path}/publish` accepts requests without credentials. The endpoint is closed by
   * default: a request needs the `publishKey`, or passes `authenticate` (called with a handshake
   * whose `ext` is the body's `ext`) and `authorize(identity, 'publish', channel)` like a Bayeux
   * publish. With neither configured every request gets
   * `403::Publishing over HTTP is closed: …`. `'open'` lets anyone publish (still subject to
   * `authorize` with the identity `{}`): for local development, or behind a proxy that guards it.
   * It cannot be combined with `publishKey` or `authenticate`, which already secure the endpoint.
   * @defaultValue 'closed'
   */
  publishEndpoint?: 'closed' | 'open';
  /**
   * De-duplication of client publishes by idempotency key (`ext.push.key`, which `@push/client`
   * sends): a key repeated within `window` ms, by the same identity on the same channel, is
   * answered with the first publish's reply and not published again. At most `maxKeys` keys are
   * kept, the oldest evicted first. Per server process (see `publish-dedupe.ts`).
   * @defaultValue `{ window: 300_000, maxKeys: 50_000 }`
   */
  publishDedupe?: PublishDedupeOptions;
  /** Time source for session expiry, held connects and heartbeats. @defaultValue the system clock */
  clock?: Clock;
  /**
   * Who a request comes from, for the per-source handshake rate. Behind a reverse proxy every
   * request comes from the proxy: return the client address it forwards (and trust only yours).
   * @defaultValue the socket's remote address
   * @example sourceOf: (request) => String(request.headers['x-real-ip'] ?? request.remoteAddress)
   */
  sourceOf?: (request: RequestInfo) => string;
  /**
   * Receives contained faults: an exception caused by one client's input or connection, which
   * ended only that client's connection or session. `false` silences them.
   * @defaultValue writes one line to `console.warn`
   */
  logger?: PushLogger | false;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  path: string;
  transports: ReadonlySet<ConnectionType>;
  transportList: ConnectionType[];
  timeout: number;
  interval: number;
  pollingInterval: number | undefined;
  sessionTimeout: number;
  heartbeatInterval: number;
  limits: Required<PushLimits>;
  isOriginAllowed: (origin: string | undefined) => boolean;
  authenticate: Authenticate | undefined;
  authorize: Authorize | undefined;
  publishKey: string | undefined;
  publishEndpoint: 'closed' | 'open';
  publishDedupe: Required<PublishDedupeOptions>;
  /** True when `origins` was given (CORS then allows credentials, Origin-less requests are checked). */
  hasOriginList: boolean;
  clock: Clock;
  sourceOf: (request: RequestInfo) => string;
  logger: PushLogger | undefined;
}

const consoleLogger: PushLogger = {
  warn: ({ code, message, clientId }) =>
    console.warn(`[push] ${code}: ${message}${clientId === undefined ? '' : ` (client ${clientId})`}`),
};

/** `sourceOf` that cannot throw: a failing hook counts the request under its socket address. */
function guardedSourceOf(hook: PushServerOptions['sourceOf']): (request: RequestInfo) => string {
  const fallback = (request: RequestInfo) => request.remoteAddress ?? 'unknown';
  if (!hook) return fallback;
  return (request) => {
    try {
      return String(hook(request)).slice(0, 256);
    } catch {
      return fallback(request);
    }
  };
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new PushServerError(
      'invalid-option',
      `Option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`,
    );
  }
  return value;
}

function resolvePublishEndpoint(options: PushServerOptions): 'closed' | 'open' {
  const value = options.publishEndpoint ?? 'closed';
  if (value !== 'closed' && value !== 'open') {
    throw new PushServerError(
      'invalid-option',
      `Option publishEndpoint must be 'closed' or 'open', got ${String(value)}`,
    );
  }
  if (value === 'open' && (options.publishKey !== undefined || options.authenticate !== undefined)) {
    // Two settings that disagree on how the endpoint is secured: refuse rather than guess.
    throw new PushServerError(
      'invalid-option',
      "Option publishEndpoint: 'open' cannot be combined with publishKey or authenticate, which secure POST {path}/publish; remove one",
    );
  }
  return value;
}

/** Validates options and fills in defaults. Throws `PushServerError('invalid-option')`. */
export function resolveOptions(options: PushServerOptions): ResolvedOptions {
  const path = (options.path ?? '/push').replace(/\/+$/, '');
  if (!path.startsWith('/') || path.includes('?')) {
    throw new PushServerError(
      'invalid-option',
      `Option path must start with "/" and hold no query, got ${options.path}`,
    );
  }
  const transportList = [...(options.transports ?? DEFAULT_ORDER)];
  if (transportList.length === 0)
    throw new PushServerError('invalid-option', 'Option transports must name at least one transport');
  const unknown = transportList.find((type) => !Object.hasOwn(TRANSPORTS, type));
  if (unknown !== undefined) {
    throw new PushServerError(
      'invalid-option',
      `Option transports: unknown connection type ${JSON.stringify(unknown)}; use ${Object.keys(TRANSPORTS).join(', ')}`,
    );
  }
  const origins = options.origins;
  const isOriginAllowed =
    origins === undefined
      ? () => true
      : typeof origins === 'function'
        ? (origin: string | undefined) => origin === undefined || origins(origin)
        : (origin: string | undefined) => origin === undefined || origins.includes(origin);
  const limits = options.limits ?? {};
  return {
    path: path === '' ? '/' : path,
    transports: new Set(transportList),
    transportList,
    timeout: positive('timeout', options.timeout, 30_000, true),
    interval: positive('interval', options.interval, 0, true),
    pollingInterval:
      options.pollingInterval === undefined
        ? undefined
        : positive('pollingInterval', options.pollingInterval, 0, true),
    sessionTimeout: positive('sessionTimeout', options.sessionTimeout, 60_000),
    heartbeatInterval: positive('heartbeatInterval', options.heartbeatInterval, 10_000),
    limits: {
      maxMessageBytes: positive('limits.maxMessageBytes', limits.maxMessageBytes, 256 * 1024),
      maxSubscriptions: positive('limits.maxSubscriptions', limits.maxSubscriptions, 1_000),
      maxQueue: positive('limits.maxQueue', limits.maxQueue, 1_000),
      maxConnections: positive('limits.maxConnections', limits.maxConnections, 100_000),
      maxBufferedBytes: positive('limits.maxBufferedBytes', limits.maxBufferedBytes, 1024 * 1024),
      maxPresence: positive('limits.maxPresence', limits.maxPresence, 100),
      maxDepth: positive('limits.maxDepth', limits.maxDepth, 64),
      maxBatchMessages: positive('limits.maxBatchMessages', limits.maxBatchMessages, 1_000),
      maxFailuresPerBatch: positive('limits.maxFailuresPerBatch', limits.maxFailuresPerBatch, 32),
      maxHandshakesPerBatch: positive('limits.maxHandshakesPerBatch', limits.maxHandshakesPerBatch, 1),
      handshakesPerMinute: positive('limits.handshakesPerMinute', limits.handshakesPerMinute, 600),
      handshakeTimeout: positive('limits.handshakeTimeout', limits.handshakeTimeout, 10_000),
      maxPendingBatches: positive('limits.maxPendingBatches', limits.maxPendingBatches, 16),
      writeTimeout: positive('limits.writeTimeout', limits.writeTimeout, 30_000),
    },
    isOriginAllowed,
    authenticate: options.authenticate,
    authorize: options.authorize,
    publishKey: options.publishKey,
    publishEndpoint: resolvePublishEndpoint(options),
    publishDedupe: {
      window: positive('publishDedupe.window', options.publishDedupe?.window, 300_000),
      maxKeys: positive('publishDedupe.maxKeys', options.publishDedupe?.maxKeys, 50_000),
    },
    hasOriginList: origins !== undefined,
    clock: options.clock ?? systemClock,
    sourceOf: guardedSourceOf(options.sourceOf),
    logger: options.logger === false ? undefined : (options.logger ?? consoleLogger),
  };
}
