/**
 * WebSocket text frames built once per message and written as they are to every subscriber's
 * socket. A server's frames are never masked (RFC 6455 5.1), so the frame of a delivery is the
 * same bytes for every socket; `ws.send` would build a header and write header and payload as two
 * buffers (one `writev`) for each socket. Written directly, a delivery costs each socket one
 * `write` of a shared buffer.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** FIN + opcode 1 (text): a whole message in one frame. */
const FIN_TEXT = 0x81;

/**
 * The complete unmasked frame (header and payload) carrying `text` as one text message.
 * @example encodeTextFrame('[]') // <Buffer 81 02 5b 5d>
 */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = FIN_TEXT;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header);
  return frame;
}

/**
 * The TCP socket under a ws WebSocket (`_socket`, private to ws; `ws-frame.test.ts` fails if it
 * is renamed). Writing whole frames to it keeps their order with ws's own frames (pongs, close):
 * ws writes straight to it too, and the transport never uses what could hold a frame back in ws's
 * sender (compression, Blob payloads).
 */
export function rawSocketOf(ws: WebSocket): Duplex {
  return (ws as unknown as { _socket: Duplex })._socket;
}
