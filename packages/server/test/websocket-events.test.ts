/**
 * ws's events on the server's sockets, handled by PushSocket's `emit` instead of listeners per
 * socket: pings answered, socket errors contained, other listeners still called.
 */
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { answerPing } from '../src/transports/websocket.js';
import { closeAfterEach, startServer } from './helpers.js';
import { closedBy, rawUpgrade } from './raw-socket.js';

const clients = closeAfterEach<{ close(): unknown }>();

async function openWs(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  clients.push({ close: () => ws.terminate() });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

describe('a ping', () => {
  it('is answered with a pong carrying its data', async () => {
    const running = await startServer();
    const ws = await openWs(running.wsUrl);
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('are you there');
    expect((await pong).toString()).toBe('are you there');
  });

  it('gets no pong while the socket is over its write-buffer limit (its client does not read)', () => {
    const pong = vi.fn();
    const socket = (bufferedAmount: number, readyState: number = WebSocket.OPEN) =>
      ({ readyState, bufferedAmount, pong }) as unknown as WebSocket;
    answerPing(socket(100), Buffer.from('a'), 100);
    expect(pong).toHaveBeenCalledTimes(1);
    answerPing(socket(101), Buffer.from('b'), 100);
    answerPing(socket(0, WebSocket.CLOSING), Buffer.from('c'), 100);
    expect(pong).toHaveBeenCalledTimes(1);
  });
});

describe('a socket error', () => {
  it('closes that socket only: no exception, and the server goes on serving', async () => {
    const running = await startServer();
    const { socket, response } = await rawUpgrade(running.port);
    expect(response).toMatch(/^HTTP\/1.1 101/);
    // An unmasked client frame: ws's receiver fails it and emits 'error' on the server's socket.
    socket.write(Buffer.from([0x81, 0x02, 0x5b, 0x5d]));
    await closedBy(socket, 3_000);
    const ws = await openWs(running.wsUrl);
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('still here');
    expect((await pong).toString()).toBe('still here');
  });
});
