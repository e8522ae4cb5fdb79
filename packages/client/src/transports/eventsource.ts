/**
 * Server-Sent Events in Faye's form: `GET {path}/{clientId}` with `Accept: text/event-stream`,
 * read over fetch streaming (so headers and credentials are ours) by `sseReader`;
 * upstream goes by POST with `connectionType: "eventsource"`. Any first bytes (the server's
 * padding comment) count as the liveness signal, so a buffering proxy is caught by the deadline.
 */
import { parseBatch } from '../wire.js';
import { createStreamTransport, openStream, unreachable } from './http.js';
import { sseReader } from './sse.js';
import type { TransportFactory } from './transport.js';

/**
 * The eventsource (SSE) transport factory. A stream silent for `idleTimeout` ms (no message, no
 * heartbeat comment) is declared dead and replaced.
 * @param options.idleTimeout default 25 000 ms (two of the server's 10 s heartbeats plus margin)
 * @example createClient({ url, transports: [eventSource({ idleTimeout: 30_000 }), longPolling()] });
 */
export function eventSource(options: { idleTimeout?: number } = {}): TransportFactory {
  return {
    type: 'eventsource',
    duplex: false, // = TRANSPORTS.eventsource.duplex (@push/protocol; checked by transport.test.ts)
    outage: unreachable,
    isSupported: (env) => !!env.fetch && typeof ReadableStream !== 'undefined',
    create(url, events, env) {
      const feed = sseReader((data) => events.message(parseBatch(data)));
      return createStreamTransport('eventsource', url, events, env, (clientId, onData, onEnd) =>
        openStream(
          `${url.href.replace(/\/$/, '')}/${encodeURIComponent(clientId)}`,
          'text/event-stream',
          env,
          (text) => {
            onData();
            feed(text);
          },
          onEnd,
          options.idleTimeout,
        ),
      );
    },
  };
}
