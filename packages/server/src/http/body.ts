/**
 * Bytes in and out of HTTP: reading request bodies with a byte limit, writing responses. What the
 * bodies say (Bayeux refusals) is built in `bayeux/refusals.ts`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bayeuxErrors, ProtocolError } from '@push/protocol';

/**
 * Reads the whole body as UTF-8, rejecting with a `too-large` ProtocolError past `maxBytes`
 * (the rest of the body is discarded, the connection is kept).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(
        new ProtocolError(
          'too-large',
          `Body of ${declared} bytes exceeds ${maxBytes}`,
          bayeuxErrors.tooLarge(maxBytes),
        ),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(
          new ProtocolError('too-large', `Body exceeds ${maxBytes} bytes`, bayeuxErrors.tooLarge(maxBytes)),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (error) => {
      if (!failed) reject(error);
      failed = true;
    });
  });
}

/** Extracts the Bayeux batch text from a body: JSON, or the `message` field of a form post. */
export function batchText(req: IncomingMessage, body: string): string {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body).get('message') ?? '';
  }
  return body;
}

/** Ends `res` with a body, unless the client went away. */
export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-cache, no-store',
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: string): void {
  send(res, status, 'application/json; charset=utf-8', body);
}

/**
 * Answers an upgrade request on its raw socket (it never became a WebSocket) with `status` (e.g.
 * `403 Forbidden`) and a JSON body, then closes it.
 */
export function endSocketWithJson(socket: Duplex, status: string, body: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
