// Interop: our client against an unmodified Faye server (plain Bayeux, no offsets or acks).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type PushClient } from '@push/client';
import Faye from 'faye';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

let server: http.Server;
let url: string;
let bayeux: { getClient(): { publish(channel: string, data: unknown): Promise<unknown> } };

beforeAll(async () => {
  bayeux = new Faye.NodeAdapter({ mount: '/faye', timeout: 5 });
  server = http.createServer();
  (bayeux as unknown as { attach(s: http.Server): void }).attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/faye`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const until = async (check: () => boolean, ms = 5000) => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.each(['websocket', 'eventsource', 'long-polling'] as const)('against Faye over %s', (transport) => {
  it('handshakes, subscribes, publishes and receives', async () => {
    const client: PushClient = createClient({
      url,
      transports: [transport],
      WebSocket: WebSocket as never,
      storage: null,
    });
    try {
      const received: unknown[] = [];
      const sub = client.subscribe('/chat/*', (data) => received.push(data));
      await sub.ready;
      expect(client.state).toBe('connected');
      expect(client.transport).toBe(transport);
      expect(client.clientId).toMatch(/\w+/);
      await client.publish('/chat/lobby', { text: 'hi' });
      await bayeux.getClient().publish('/chat/lobby', { text: 'from server' });
      await until(() => received.length === 2);
      expect(received).toEqual([{ text: 'hi' }, { text: 'from server' }]);
    } finally {
      await client.close();
    }
    expect(client.state).toBe('closed');
  });
});
