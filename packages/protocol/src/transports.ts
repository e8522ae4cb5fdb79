/**
 * The transports as data, in the spirit of Faye's transport registry: what each Bayeux connection
 * type is, so the client, the server, the CLI and the docs branch on a trait, never on a name, and
 * the default preference order is written down once.
 */
import type { ConnectionType } from './messages.js';

/**
 * What a connection type is on the wire. See docs/protocol.md, "Transports and their wire forms".
 * @example TRANSPORTS.eventsource // { duplex: false, streamed: true, defaultEnabled: true, … }
 */
export interface TransportTraits {
  /**
   * Both directions on one connection (WebSocket): the handshake may travel over it and replies
   * come back on it. The others send upstream by HTTP and get replies in the HTTP response.
   */
  readonly duplex: boolean;
  /**
   * Deliveries go down one long-lived response (SSE, forever-iframe): the server writes each batch
   * to the stream as it happens, so a `/meta/connect` on it is answered at once, never held.
   */
  readonly streamed: boolean;
  /** Offered when the app (client) or operator (server) names no list; JSONP is opt-in. */
  readonly defaultEnabled: boolean;
  /** The downstream request under the endpoint `{path}`. */
  readonly url:
    | 'GET {path} upgraded'
    | 'POST {path}'
    | 'GET {path}/{clientId}'
    | 'GET {path}/iframe?clientId&callback'
    | 'GET {path}?message&jsonp';
  /** How downstream batches are framed (the codec in `codecs/`). */
  readonly framing: 'json-batch' | 'sse' | 'iframe' | 'jsonp';
}

/**
 * Every connection type Push knows, with its traits.
 * @example const streamed = (type: ConnectionType) => TRANSPORTS[type].streamed;
 */
export const TRANSPORTS: Readonly<Record<ConnectionType, TransportTraits>> = {
  websocket: {
    duplex: true,
    streamed: false,
    defaultEnabled: true,
    url: 'GET {path} upgraded',
    framing: 'json-batch',
  },
  eventsource: {
    duplex: false,
    streamed: true,
    defaultEnabled: true,
    url: 'GET {path}/{clientId}',
    framing: 'sse',
  },
  'long-polling': {
    duplex: false,
    streamed: false,
    defaultEnabled: true,
    url: 'POST {path}',
    framing: 'json-batch',
  },
  iframe: {
    duplex: false,
    streamed: true,
    defaultEnabled: true,
    url: 'GET {path}/iframe?clientId&callback',
    framing: 'iframe',
  },
  'callback-polling': {
    duplex: false,
    streamed: false,
    defaultEnabled: false,
    url: 'GET {path}?message&jsonp',
    framing: 'jsonp',
  },
};

/**
 * The default preference order: the transports enabled by default, best first (WebSocket, then
 * SSE, long-polling, forever-iframe). The client negotiates in this order; the server offers these.
 * @example createClient({ url, transports: DEFAULT_ORDER.filter((t) => t !== 'iframe') });
 */
export const DEFAULT_ORDER: readonly ConnectionType[] = [
  'websocket',
  'eventsource',
  'long-polling',
  'iframe',
];
