/**
 * Shared HTTP plumbing of the non-duplex transports: upstream POSTs whose replies feed
 * `events.message`, and a streaming GET read chunk by chunk. Every request can be aborted.
 */
import { type ConnectionType, encodeBatch, type Message } from '@push/protocol';
import { parseBatch } from '../wire.js';
import {
  type Platform,
  type Transport,
  TransportError,
  type TransportErrorCode,
  type TransportEvents,
} from './transport.js';

/** Upstream by POST: tracks requests in flight so `pause()` can drain them. */
export interface Poster {
  send(batch: Message[]): Promise<void>;
  pause(): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

export { unreachable } from './unreachable.js';

/** Default deadline of an upstream request other than a held connect (`ClientOptions.requestTimeout`). */
export const REQUEST_TIMEOUT = 10_000;

const isConnect = (batch: Message[]) => batch.some((m) => m.channel === '/meta/connect');

/** Creates the POST side of a `type` transport; a failed POST closes the transport with its error. */
export function createPoster(type: ConnectionType, url: URL, events: TransportEvents, env: Platform): Poster {
  const inflight = new Map<Promise<void>, { controller: AbortController; connect: boolean }>();
  /** Held connects have no deadline of their own, only `close()`: they share one controller. */
  const connects = new AbortController();
  let closed = false;
  const fail = (error: TransportError) => {
    if (closed) return;
    poster.close();
    events.close(error);
  };
  const poster: Poster = {
    get closed() {
      return closed;
    },
    send(batch) {
      if (closed) return Promise.reject(new TransportError('not-open', type));
      const connect = isConnect(batch);
      const controller = connect ? connects : new AbortController();
      // A held connect has the cycle's heartbeat; any other request gets `requestTimeout`. One that
      // never ends (a POST stuck in a proxy) fails the transport: the client reconnects and
      // renews, where it would wait for that subscribe or publish for good.
      let late = false;
      const deadline = connect
        ? undefined
        : env.clock.setTimeout(() => {
            late = true;
            controller.abort();
          }, env.requestTimeout ?? REQUEST_TIMEOUT);
      let request: Promise<void> | undefined;
      request = (async () => {
        try {
          const response = await env.fetch!(url.href, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...env.headers },
            body: encodeBatch(batch),
            credentials: env.credentials ?? 'same-origin',
            signal: controller.signal,
          });
          if (!response.ok) throw new TransportError('http-status', type, { status: response.status });
          const replies = parseBatch(await response.text());
          if (!closed) events.message(replies);
        } catch (cause) {
          // A non-2xx answer, no answer at all (network), or aborted by our own close().
          const error =
            cause instanceof TransportError
              ? cause
              : new TransportError(closed ? 'closed' : late ? 'timeout' : 'network', type, { cause });
          fail(error);
          throw error;
        } finally {
          env.clock.clearTimeout(deadline);
          inflight.delete(request!);
        }
      })();
      inflight.set(request, { controller, connect });
      return request;
    },
    async pause() {
      const pending = [...inflight].filter(([, r]) => !r.connect).map(([p]) => p.catch(() => {}));
      await Promise.all(pending);
    },
    close() {
      closed = true;
      for (const { controller } of inflight.values()) controller.abort();
      inflight.clear();
    },
  };
  return poster;
}

/** Default silence after which a stream counts as dead: two of the server's 10 s heartbeats plus margin. */
export const STREAM_IDLE_TIMEOUT = 25_000;

/** `decode()` options of a stream's chunks: one object, not one per chunk. */
const STREAMING = { stream: true };

/**
 * How a downstream reports its end: the {@link TransportError} code, with the HTTP status or the
 * underlying error. The transport that owns the downstream turns it into its TransportError.
 * @example onEnd('http-status', { status: 502 })
 */
export type StreamEnd = (code: TransportErrorCode, details?: { status?: number; cause?: unknown }) => void;

/**
 * Opens a streaming GET and hands its text to `onText` as it arrives. Calls `onEnd` once when the
 * stream ends (`closed`) or fails (`http-status`, `network`), or with `idle` when nothing (not
 * even a heartbeat comment) arrived for `idleTimeout` ms — a half-open connection. Returns the
 * stopper; `onEnd` is not called after it.
 */
export function openStream(
  url: string,
  accept: string,
  env: Platform,
  onText: (text: string) => void,
  onEnd: StreamEnd,
  idleTimeout = STREAM_IDLE_TIMEOUT,
): () => void {
  const controller = new AbortController();
  const { clock } = env;
  let watchdog: unknown;
  /** When the last bytes arrived: a chunk only stamps it (no timer churn per message). */
  let last = clock.now();
  const end: StreamEnd = (code, details) => {
    clock.clearTimeout(watchdog);
    if (controller.signal.aborted) return;
    controller.abort();
    onEnd(code, details);
  };
  // One timer per idle period, re-armed for what is left of it since the last chunk.
  const watch = (ms: number) => {
    watchdog = clock.setTimeout(() => {
      const silent = clock.now() - last;
      if (silent >= idleTimeout) end('idle');
      else watch(idleTimeout - silent);
    }, ms);
  };
  watch(idleTimeout);
  (async () => {
    const response = await env.fetch!(url, {
      headers: { accept, ...env.headers },
      credentials: env.credentials ?? 'same-origin',
      signal: controller.signal,
      cache: 'no-store',
    });
    if (!response.ok || !response.body) return end('http-status', { status: response.status });
    const take = (text: string) => {
      last = clock.now();
      onText(text);
    };
    if (response.readText)
      return response.readText(take, (cause) =>
        cause === undefined ? end('closed') : end('network', { cause }),
      );
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return end('closed');
      take(decoder.decode(value, STREAMING));
    }
  })().catch((cause: unknown) => end('network', { cause }));
  return () => {
    clock.clearTimeout(watchdog);
    controller.abort();
  };
}

/**
 * A non-duplex transport with a streaming downstream (SSE, forever-iframe): upstream by POST, and
 * a downstream opened per clientId by `openDownstream`, which reports data through `onData` (the
 * first call is the open signal) and its end through `onEnd`, and returns its stopper.
 */
export function createStreamTransport(
  type: ConnectionType,
  url: URL,
  events: TransportEvents,
  env: Platform,
  openDownstream: (clientId: string, onData: () => void, onEnd: StreamEnd) => () => void,
): Transport {
  const poster = createPoster(type, url, events, env);
  let stop: (() => void) | undefined;
  let opened = false;
  let closed = false;
  const close = () => {
    closed = true;
    poster.close();
    stop?.();
    stop = undefined;
  };
  return {
    type,
    open(clientId) {
      const stopper = openDownstream(
        clientId ?? '',
        () => {
          if (!opened) {
            opened = true;
            events.open();
          }
        },
        (code, details) => {
          if (closed) return;
          close();
          events.close(new TransportError(code, type, details));
        },
      );
      // An opener may report its end before returning (it failed at once): stop it now.
      if (closed) stopper();
      else stop = stopper;
    },
    send: poster.send,
    pause: poster.pause,
    close,
  };
}
