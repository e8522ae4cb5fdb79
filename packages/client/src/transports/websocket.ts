/** WebSocket: `ws(s)://host{path}`, one JSON array of Bayeux messages per frame, handshake included. */
import { encodeBatch } from '@push/protocol';
import type { TransportFactory, WebSocketLike } from '../types.js';
import { parseBatch } from '../wire.js';

/**
 * The WebSocket transport factory. Inject a constructor (`ws` in Node) with the client's
 * `WebSocket` option.
 * @example createClient({ url, transports: [websocket()], WebSocket: WS });
 */
export function websocket(): TransportFactory {
  return {
    type: 'websocket',
    duplex: true,
    isSupported: (env) => !!env.WebSocket,
    create(url, events, env) {
      let socket: WebSocketLike | undefined;
      let closed = false;
      const close = (reason?: string) => {
        if (closed) return;
        closed = true; // later socket events find `closed` set (and a closed link): dropped
        try {
          socket?.close();
        } catch {}
        if (reason) events.close(reason);
      };
      return {
        type: 'websocket',
        open() {
          const target = new URL(url.href);
          target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
          try {
            socket = new env.WebSocket!(target.href);
          } catch (error) {
            Promise.resolve().then(() => close(`socket-failed: ${(error as Error).message}`));
            return;
          }
          socket.onopen = () => events.open();
          socket.onmessage = (event) => events.message(parseBatch(String(event.data)));
          socket.onerror = () => close('socket-error');
          socket.onclose = () => close('socket-closed');
        },
        async send(batch) {
          if (closed || socket?.readyState !== 1) throw new Error('socket not open');
          socket.send(encodeBatch(batch));
        },
        pause: async () => {},
        close: () => close(),
      };
    },
  };
}
