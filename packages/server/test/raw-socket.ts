/** Attack-test tools below the WebSocket library: raw upgrades and hand-built frames. */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** A masked client WebSocket text frame (RFC 6455); a Buffer payload goes as is (even invalid UTF-8). */
export function clientFrame(text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const mask = randomBytes(4);
  const length = payload.length;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0x81, 0x80 | length]);
  else if (length < 65_536) header = Buffer.from([0x81, 0x80 | 126, (length >> 8) & 0xff, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/** Opens a WebSocket by hand; resolves with the socket once the 101 arrived (nothing else read). */
export async function rawUpgrade(
  port: number,
  path = '/push',
): Promise<{ socket: Socket; response: string }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const response = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))),
  );
  return { socket, response };
}

/**
 * Resolves when `socket` is closed by the other side (or rejects after `timeoutMs`). It reads
 * (and drops) what arrives meanwhile: a paused socket never sees the end of its stream.
 */
export function closedBy(socket: Socket, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
    socket.resume();
  });
}

/** A JSON text nesting `levels` arrays around `1` (built as text: JSON.stringify would overflow). */
export function deepJson(levels: number): string {
  return `${'['.repeat(levels)}1${']'.repeat(levels)}`;
}
