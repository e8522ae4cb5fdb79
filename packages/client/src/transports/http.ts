/**
 * Shared HTTP plumbing of the non-duplex transports: upstream POSTs whose replies feed
 * `events.message`, and a streaming GET read chunk by chunk. Every request can be aborted.
 */
import { encodeBatch, type Message } from '@push/protocol';
import type { ConnectionType, Platform, Transport, TransportEvents } from '../types.js';
import { parseBatch } from '../wire.js';

/** Upstream by POST: tracks requests in flight so `pause()` can drain them. */
export interface Poster {
  send(batch: Message[]): Promise<void>;
  pause(): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

const isConnect = (batch: Message[]) => batch.some((m) => m.channel === '/meta/connect');

/** Creates the POST side of a transport; a failed POST closes the transport with `reason`. */
export function createPoster(url: URL, events: TransportEvents, env: Platform): Poster {
  const inflight = new Map<Promise<void>, { controller: AbortController; connect: boolean }>();
  let closed = false;
  const fail = (reason: string) => {
    if (closed) return;
    poster.close();
    events.close(reason);
  };
  const poster: Poster = {
    get closed() {
      return closed;
    },
    send(batch) {
      if (closed) return Promise.reject(new Error('transport closed'));
      const controller = new AbortController();
      let request: Promise<void> | undefined;
      request = (async () => {
        try {
          const response = await env.fetch!(url.href, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...env.headers },
            body: encodeBatch(batch),
            credentials: env.credentials ?? 'include',
            signal: controller.signal,
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const replies = parseBatch(await response.text());
          if (!closed) events.message(replies);
        } catch (error) {
          fail(closed ? 'closed' : `post-failed: ${(error as Error).message}`);
          throw error;
        } finally {
          inflight.delete(request!);
        }
      })();
      inflight.set(request, { controller, connect: isConnect(batch) });
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

/**
 * Opens a streaming GET and hands its text to `onText` as it arrives. Calls `onEnd` once when the
 * stream ends or fails, or with `stream-idle` when nothing (not even a heartbeat comment) arrived
 * for `idleTimeout` ms — a half-open connection. Returns the stopper; `onEnd` is not called after it.
 */
export function openStream(
  url: string,
  accept: string,
  env: Platform,
  onText: (text: string) => void,
  onEnd: (reason: string) => void,
  idleTimeout = STREAM_IDLE_TIMEOUT,
): () => void {
  const controller = new AbortController();
  let watchdog: unknown;
  const end = (reason: string) => {
    env.clock.clearTimeout(watchdog);
    if (controller.signal.aborted) return;
    controller.abort();
    onEnd(reason);
  };
  const alive = () => {
    env.clock.clearTimeout(watchdog);
    watchdog = env.clock.setTimeout(() => end('stream-idle'), idleTimeout);
  };
  alive();
  (async () => {
    const response = await env.fetch!(url, {
      headers: { accept, ...env.headers },
      credentials: env.credentials ?? 'include',
      signal: controller.signal,
      cache: 'no-store',
    });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'stream-ended';
      alive();
      onText(decoder.decode(value, { stream: true }));
    }
  })().then(end, (error: Error) => end(`stream-failed: ${error.message}`));
  return () => {
    env.clock.clearTimeout(watchdog);
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
  openDownstream: (clientId: string, onData: () => void, onEnd: (reason: string) => void) => () => void,
): Transport {
  const poster = createPoster(url, events, env);
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
        (reason) => {
          if (closed) return;
          close();
          events.close(reason);
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
