import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { PushSocket, peerAddress, releaseReceiveBuffer } from './websocket.js';

const servers: WebSocketServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A ws server on 127.0.0.1 with `options`, one client connected to it, and its server-side socket. */
async function connected(options: ConstructorParameters<typeof WebSocketServer>[0]) {
  const server = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => client.once('open', resolve));
  return { server, port, client, socket: await accepted };
}

/** The server side of a ws connection whose client sent one frame, and ws's receive buffer then. */
async function afterOneFrame(): Promise<{ socket: WebSocket; buffers: () => unknown }> {
  const { client, socket } = await connected({});
  const received = new Promise((resolve) => socket.once('message', resolve));
  client.send('[{"channel":"/meta/connect"}]');
  await received;
  // Closed before the tests touch the buffer: nothing more is read into it.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  client.close();
  await closed;
  const buffers = () => (socket as unknown as { _receiver: { _buffers: unknown } })._receiver._buffers;
  return { socket, buffers };
}

describe('releaseReceiveBuffer', () => {
  it("swaps ws's emptied receive buffer for a new array (the field it relies on still exists)", async () => {
    const { socket, buffers } = await afterOneFrame();
    const used = buffers();
    expect(Array.isArray(used)).toBe(true);
    expect(used).toHaveLength(0);
    releaseReceiveBuffer(socket);
    expect(buffers()).not.toBe(used);
    expect(buffers()).toEqual([]);
  });

  it('leaves a buffer that still holds data alone', async () => {
    const { socket, buffers } = await afterOneFrame();
    const held = buffers() as Buffer[];
    held.push(Buffer.from('partial frame'));
    releaseReceiveBuffer(socket);
    expect(buffers()).toBe(held);
  });
});

describe('peerAddress', () => {
  const opened: Array<() => void> = [];
  afterEach(() => {
    for (const close of opened.splice(0)) close();
  });

  /** The server side of a plain TCP connection from 127.0.0.1. */
  async function acceptedSocket(): Promise<Socket> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const socket = await accepted;
    opened.push(() => {
      client.destroy();
      socket.destroy();
      server.close();
    });
    return socket;
  }

  it("reads a TCP socket's address without Node caching it on the socket (the handle it relies on still exists)", async () => {
    const socket = await acceptedSocket();
    expect(peerAddress(socket)).toBe('127.0.0.1');
    // What it saves: remoteAddress keeps this object (and a property slot) for the socket's life.
    expect((socket as unknown as { _peername?: unknown })._peername).toBeUndefined();
    expect(socket.remoteAddress).toBe('127.0.0.1');
  });

  it('falls back to remoteAddress for a stream without a TCP handle', () => {
    const stream = Object.assign(new PassThrough(), { remoteAddress: '10.0.0.7' });
    expect(peerAddress(stream)).toBe('10.0.0.7');
    expect(peerAddress(new PassThrough())).toBeUndefined();
  });
});

describe('PushSocket', () => {
  it('shares one frozen empty extensions object with its receiver and sender (the fields it relies on still exist)', async () => {
    const opened = await connected({ WebSocket: PushSocket, perMessageDeflate: false });
    const { server, port, client } = opened;
    const socket = opened.socket as unknown as {
      _extensions: object;
      _receiver: { _extensions: object };
      _sender: { _extensions: object };
    };
    const again = new WebSocket(`ws://127.0.0.1:${port}`);
    const second = (await new Promise<WebSocket>((resolve) =>
      server.once('connection', resolve),
    )) as unknown as {
      _extensions: object;
    };
    expect(socket).toBeInstanceOf(PushSocket);
    expect(Object.isFrozen(socket._extensions)).toBe(true);
    expect(Object.keys(socket._extensions)).toEqual([]);
    expect(socket._receiver._extensions).toBe(socket._extensions);
    expect(socket._sender._extensions).toBe(socket._extensions);
    expect(second._extensions).toBe(socket._extensions);
    // Frames still go both ways.
    const echoed = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
    (socket as unknown as WebSocket).send('hello');
    expect(await echoed).toBe('hello');
    client.close();
    again.close();
  });
});
