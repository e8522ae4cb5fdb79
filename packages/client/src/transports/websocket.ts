/** WebSocket: `ws(s)://host{path}`, one JSON array of Bayeux messages per frame, handshake included. */
import { encodeBatch } from '@push/protocol';
import { parseBatch } from '../wire.js';
import {
  TransportError,
  type TransportErrorCode,
  type TransportFactory,
  type WebSocketLike,
} from './transport.js';

/**
 * The WebSocket transport factory. Inject a constructor (`ws` in Node) with the client's
 * `WebSocket` option.
 * @example createClient({ url, transports: [websocket()], WebSocket: WS });
 */
export function websocket(): TransportFactory {
  return {
    type: 'websocket',
    duplex: true, // = TRANSPORTS.websocket.duplex (@push/protocol; checked by transport.test.ts)
    isSupported: (env) => !!env.WebSocket,
    create(url, events, env) {
      let socket: WebSocketLike | undefined;
      let closed = false;
      const close = (code?: TransportErrorCode, cause?: unknown) => {
        if (closed) return;
        closed = true; // later socket events find `closed` set (and a closed link): dropped
        try {
          socket?.close();
        } catch {}
        if (code) events.close(new TransportError(code, 'websocket', { cause }));
      };
      return {
        type: 'websocket',
        open() {
          const target = new URL(url.href);
          target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
          try {
            socket = new env.WebSocket!(target.href);
          } catch (error) {
            Promise.resolve().then(() => close('open-failed', error));
            return;
          }
          socket.onopen = () => events.open();
          // The owner's own frame handler when it has one (the link does): ws calls it directly.
          // Node's ws hands a text frame over as a Buffer, parsed from its toString() (String()
          // costs twice as much, through ToPrimitive); a browser's event.data is a string already.
          const take =
            events.text ?? ((frame: { toString(): string }) => events.message(parseBatch(frame.toString())));
          if (socket.on) socket.on('message', take);
          else socket.onmessage = (event) => take(String(event.data));
          socket.onerror = (event) => close('error', event);
          socket.onclose = (event) => close('closed', event);
        },
        async send(batch) {
          if (closed || socket?.readyState !== 1) throw new TransportError('not-open', 'websocket');
          socket.send(encodeBatch(batch));
        },
        pause: async () => {},
        close: () => close(),
      };
    },
  };
}
