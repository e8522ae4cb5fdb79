/**
 * Forever-iframe: `GET {path}/iframe?clientId=…&callback=…` streams an HTML document of
 * `<script>parent.<callback>(batch)</script>` chunks; upstream goes by POST. In browsers the
 * document loads in a hidden iframe (inside an `htmlfile` ActiveX document where that exists, so
 * the page shows no busy cursor); elsewhere (Node) it is fetched and decoded with
 * `createIframeDecoder`. The `null` open signal is the liveness probe.
 */
import { createIframeDecoder, type Message } from '@push/protocol';
import {
  createStreamTransport,
  openStream,
  STREAM_IDLE_TIMEOUT,
  type StreamEnd,
  unreachable,
} from './http.js';
import type { Platform, TransportFactory } from './transport.js';

/**
 * Opens the frame document and calls `onBatch` per chunk (`null` first), and `onEnd` once with a
 * TransportError code when it ends (`closed`, `error`, `idle`, `bad-frame`, …); returns a closer.
 * @example iframe(fetchFrame) // or your own opener
 */
export type FrameOpener = (
  src: string,
  callback: string,
  env: Platform,
  onBatch: (batch: Message[] | null) => void,
  onEnd: StreamEnd,
  idleTimeout?: number,
) => () => void;

/**
 * Frame opener for environments without a DOM: fetch streaming + `createIframeDecoder`.
 * @example createClient({ url, transports: [longPolling(), iframe(fetchFrame)] });
 */
export const fetchFrame: FrameOpener = (src, _callback, env, onBatch, onEnd, idleTimeout) => {
  const decoder = createIframeDecoder({ onBatch, onError: (cause) => onEnd('bad-frame', { cause }) });
  return openStream(src, 'text/html', env, decoder.feed, onEnd, idleTimeout);
};

/**
 * Frame opener for browsers: a hidden iframe, hosted in an `htmlfile` document where it exists.
 * @example iframe(domFrame) // the default
 */
export const domFrame: FrameOpener = (
  src,
  callback,
  env,
  onBatch,
  onEnd,
  idleTimeout = STREAM_IDLE_TIMEOUT,
) => {
  const g = globalThis as unknown as Record<string, unknown> & { ActiveXObject?: new (n: string) => unknown };
  let doc = env.document!;
  let host: Record<string, unknown> = g;
  if (g.ActiveXObject) {
    const html = new g.ActiveXObject('htmlfile') as Document & { parentWindow: Record<string, unknown> };
    html.open();
    html.write('<html><body></body></html>');
    html.close();
    doc = html;
    host = html.parentWindow;
  }
  const frame = doc.createElement('iframe');
  let watch: unknown;
  let idle: unknown;
  let ended = false;
  const end: StreamEnd = (code, details) => {
    if (ended) return;
    ended = true;
    env.clock.clearTimeout(watch);
    env.clock.clearTimeout(idle);
    onEnd(code, details);
  };
  // Every call, heartbeats included (the server sends an empty batch every 10 s), proves the
  // stream alive; silence for idleTimeout means a dead or half-open connection.
  const alive = () => {
    env.clock.clearTimeout(idle);
    idle = env.clock.setTimeout(() => end('idle'), idleTimeout);
  };
  // Chromium and Firefox fire no load or error event when a streaming document's connection is
  // reset, so once the stream has started its document is watched: when it is no longer being
  // parsed (or became an unreadable error page), the stream is over.
  const watchDocument = () => {
    watch = env.clock.setTimeout(() => {
      let parsing = false;
      try {
        parsing = frame.contentDocument?.readyState === 'loading';
      } catch {}
      if (parsing) watchDocument();
      else end('closed');
    }, FRAME_WATCH_INTERVAL);
  };
  host[callback] = (batch: Message[] | null) => {
    if (ended) return;
    if (batch === null && !g.ActiveXObject) watchDocument();
    alive();
    onBatch(batch);
  };
  frame.style.display = 'none';
  frame.onerror = (event) => end('error', { cause: event });
  frame.onload = () => end('closed'); // the document finished: the server ended the stream
  frame.src = src;
  doc.body.appendChild(frame);
  return () => {
    ended = true;
    env.clock.clearTimeout(watch);
    env.clock.clearTimeout(idle);
    frame.onload = frame.onerror = null;
    frame.src = 'about:blank';
    frame.remove();
    delete host[callback];
  };
};

/** How often a streaming frame's document is checked for a dropped connection, ms. */
export const FRAME_WATCH_INTERVAL = 1000;

let counter = 0;

/**
 * The forever-iframe transport factory.
 * @param frame how the document is opened; default `domFrame` (needs a DOM). Outside browsers
 * pass `fetchFrame` (kept out of browser bundles unless imported).
 * @param options.idleTimeout silence (no batch, no heartbeat) after which the stream is declared
 * dead and replaced; default 25 000 ms (the server's 10 s heartbeat, missed twice, plus margin).
 * @example createClient({ url, transports: [websocket(), iframe()] });
 */
export function iframe(frame?: FrameOpener, options: { idleTimeout?: number } = {}): TransportFactory {
  return {
    type: 'iframe',
    duplex: false, // = TRANSPORTS.iframe.duplex (@push/protocol; checked by transport.test.ts)
    outage: unreachable,
    isSupported: (env) => !!env.fetch && (!!frame || !!env.document),
    create(url, events, env) {
      return createStreamTransport('iframe', url, events, env, (clientId, onData, onEnd) => {
        const callback = `__push${++counter}_${Math.floor(env.random() * 1e9)}`;
        const src = new URL(`${url.pathname.replace(/\/$/, '')}/iframe`, url);
        src.searchParams.set('clientId', clientId);
        src.searchParams.set('callback', callback);
        return (frame ?? domFrame)(
          src.href,
          callback,
          env,
          (batch) => {
            onData();
            if (batch?.length) events.message(batch);
          },
          onEnd,
          options.idleTimeout,
        );
      });
    },
  };
}
