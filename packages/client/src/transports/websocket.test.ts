// The WebSocket transport over the two socket shapes it meets: a browser WebSocket (`onmessage`
// with an event) and Node's `ws` (its own `on('message')` with the raw data).
import type { Message } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import type { Platform, TransportEvents, WebSocketLike } from './transport.js';
import { websocket } from './websocket.js';

class BrowserSocket implements WebSocketLike {
  static last: BrowserSocket;
  readyState = 1;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  sent: string[] = [];
  constructor(readonly url: string) {
    BrowserSocket.last = this;
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {}
  /** What the server sends, the way this kind of socket hands it over. */
  receive(text: string) {
    this.onmessage?.({ data: text });
  }
}

class NodeWsSocket extends BrowserSocket {
  listeners: ((data: { toString(): string }) => void)[] = [];
  on(_event: 'message', listener: (data: { toString(): string }) => void) {
    this.listeners.push(listener);
  }
  override receive(text: string) {
    // `ws` hands a text frame's Buffer to its own listeners.
    for (const listener of this.listeners) listener(Buffer.from(text));
  }
}

function open(Socket: typeof BrowserSocket) {
  const got: Message[][] = [];
  const events: TransportEvents = { open: () => {}, message: (batch) => got.push(batch), close: () => {} };
  const env = { WebSocket: Socket } as unknown as Platform;
  const transport = websocket().create(new URL('https://example.com/push'), events, env);
  transport.open();
  return { socket: Socket.last, got, transport };
}

describe('websocket transport', () => {
  for (const Socket of [BrowserSocket, NodeWsSocket]) {
    it(`${Socket.name}: opens wss for https, parses each frame's batch, drops what is not one`, async () => {
      const { socket, got, transport } = open(Socket);
      expect(socket.url).toBe('wss://example.com/push');
      socket.receive('[{"channel":"/a","data":1},{"channel":"/b","data":2}]');
      socket.receive('not json');
      socket.receive('{"channel":"/c","data":3}');
      expect(got).toEqual([
        [
          { channel: '/a', data: 1 },
          { channel: '/b', data: 2 },
        ],
        [],
        [{ channel: '/c', data: 3 }],
      ]);
      await transport.send([{ channel: '/meta/connect', clientId: 'c1' } as Message]);
      expect(socket.sent).toEqual(['[{"channel":"/meta/connect","clientId":"c1"}]']);
    });
  }

  it('takes messages through ws’s own listener only: one frame, one batch', () => {
    const { socket, got } = open(NodeWsSocket);
    expect(socket.onmessage).toBeNull();
    expect((socket as NodeWsSocket).listeners).toHaveLength(1);
    socket.receive('[{"channel":"/a","data":1}]');
    expect(got).toHaveLength(1);
  });

  for (const Socket of [BrowserSocket, NodeWsSocket]) {
    it(`${Socket.name}: hands each frame's text to the owner's text() when it has one, as a string or a Buffer`, () => {
      const frames: string[] = [];
      const events: TransportEvents = {
        open: () => {},
        message: () => {
          throw new Error('parsed by the transport');
        },
        text: (frame) => frames.push(frame.toString()),
        close: () => {},
      };
      websocket()
        .create(new URL('https://example.com/push'), events, { WebSocket: Socket } as unknown as Platform)
        .open();
      Socket.last.receive('[{"channel":"/a","data":1}]');
      expect(frames).toEqual(['[{"channel":"/a","data":1}]']);
    });
  }
});
