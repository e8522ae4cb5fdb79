import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeTextFrame, rawSocketOf } from './ws-frame.js';

/** Sends each frame as it is on a server socket and returns the text messages a ws client reads. */
async function receivedByWsClient(frames: Buffer[]): Promise<string[]> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
  const got: string[] = [];
  const expected = frames.length + 1; // and ws's own message after them
  const done = new Promise<void>((resolve, reject) => {
    client.on('message', (data, binary) => {
      if (binary) reject(new Error('a binary message'));
      got.push(String(data));
      if (got.length === expected) resolve();
    });
    client.on('error', reject);
  });
  const [socket] = (await once(wss, 'connection')) as [WebSocket];
  // ws keeps it in a private field (`_socket`): this fails if ws renames it.
  expect(rawSocketOf(socket)).toBeInstanceOf(Socket);
  for (const frame of frames) rawSocketOf(socket).write(frame);
  // ws's own frames keep their order with them.
  socket.send('after');
  await done;
  client.close();
  wss.close();
  http.close();
  return got;
}

describe('encodeTextFrame', () => {
  it('builds unmasked text frames that a ws client reads, at every length boundary', async () => {
    const texts = [
      '',
      '[]',
      'x'.repeat(125),
      'x'.repeat(126),
      'é'.repeat(40_000), // 80,000 bytes: a 64-bit length
      '😀'.repeat(16_383) + 'abc', // 65,535 bytes
      'y'.repeat(65_536),
    ];
    expect([...encodeTextFrame('[]')]).toEqual([0x81, 2, 0x5b, 0x5d]);
    expect(encodeTextFrame('x'.repeat(126)).subarray(0, 4)).toEqual(Buffer.from([0x81, 126, 0, 126]));
    const received = await receivedByWsClient(texts.map(encodeTextFrame));
    expect(received).toEqual([...texts, 'after']);
  });
});
