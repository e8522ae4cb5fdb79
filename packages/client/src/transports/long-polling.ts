/** Long-polling: every batch is a `POST {path}`; the server holds `/meta/connect` until it has messages. */
import { createPoster, unreachable } from './http.js';
import type { TransportFactory } from './transport.js';

/**
 * The long-polling transport factory (fetch + AbortController).
 * @example createClient({ url, transports: [longPolling()] });
 */
export function longPolling(): TransportFactory {
  return {
    type: 'long-polling',
    duplex: false, // = TRANSPORTS['long-polling'].duplex (@push/protocol; checked by transport.test.ts)
    outage: unreachable,
    isSupported: (env) => !!env.fetch,
    create(url, events, env) {
      const poster = createPoster('long-polling', url, events, env);
      return {
        type: 'long-polling',
        open: () => void Promise.resolve().then(() => poster.closed || events.open()),
        send: poster.send,
        pause: poster.pause,
        close: poster.close,
      };
    },
  };
}
