// The Node build of @push/client (`@push/client/node`, what `@push/client` resolves to under the
// `node` condition) against @push/server on 127.0.0.1: its HTTP transports run over nodeFetch, never
// the global fetch, and deliver a numbered stream once, in order.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, fetchFrame, iframe, type PushClient } from '@push/client/node';
import { createPushServer, type PushServer } from '@push/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let server: http.Server;
let push: PushServer;
let url: string;
const clients: PushClient[] = [];

beforeEach(async () => {
  server = http.createServer();
  push = createPushServer({ server, path: '/push', publishEndpoint: 'open' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  // Any use of the global fetch fails the test.
  vi.stubGlobal('fetch', () => Promise.reject(new Error('the Node build must not use the global fetch')));
});
afterEach(async () => {
  vi.unstubAllGlobals();
  for (const client of clients.splice(0)) await client.close();
  await push.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('@push/client/node', () => {
  for (const transport of ['long-polling', 'eventsource', 'iframe'] as const) {
    it(`delivers a numbered stream once, in order, on ${transport} over nodeFetch`, async () => {
      const client = createClient({
        url,
        transports: [transport === 'iframe' ? iframe(fetchFrame) : transport],
        storage: null,
      });
      clients.push(client);
      const received: number[] = [];
      const sub = client.subscribe<{ n: number }>('/node/stream', ({ n }) => received.push(n));
      await sub.ready;
      expect(client.transport).toBe(transport);
      for (let n = 1; n <= 50; n++) await push.publish('/node/stream', { n });
      await vi.waitFor(() => expect(received).toHaveLength(50), { timeout: 5000 });
      expect(received).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const published = await client.publish('/node/stream', { n: 51 });
      expect(published).toBeUndefined();
      await vi.waitFor(() => expect(received.at(-1)).toBe(51));
      expect(push.metrics().connections[transport]).toBe(1);
    });
  }
});
