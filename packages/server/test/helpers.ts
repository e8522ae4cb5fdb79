/**
 * A real server on 127.0.0.1:0 for the tests, and the one cleanup every test file shares (raw
 * Bayeux clients and the clock are in @push/test-kit).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createPushServer, type PushServer, type PushServerOptions } from '../src/index.js';

export interface Running {
  http: Server;
  push: PushServer;
  port: number;
  /** http://127.0.0.1:port/push */
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** Servers started and not closed yet: what `closeAfterEach` closes. */
const open = new Set<Running>();

export async function startServer(options: PushServerOptions = {}): Promise<Running> {
  const http = createServer();
  const push = createPushServer({ server: http, ...options });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const path = options.path ?? '/push';
  const running: Running = {
    http,
    push,
    port,
    url: `http://127.0.0.1:${port}${path}`,
    wsUrl: `ws://127.0.0.1:${port}${path}`,
    async close() {
      open.delete(running);
      await push.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  open.add(running);
  return running;
}

/**
 * Registers the calling file's cleanup: after each test, the clients pushed on the returned list
 * close (in order), then every server `startServer` started that the test did not close, then
 * `after` runs (restore mocks, reset the file's state).
 * @example
 * const clients = closeAfterEach<WsClient>();
 * it('…', async () => { const server = await startServer(); clients.push(await WsClient.open(server.wsUrl)); });
 */
export function closeAfterEach<T extends { close(): unknown }>(after?: () => unknown): T[] {
  const clients: T[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    for (const server of [...open]) await server.close();
    await after?.();
  });
  return clients;
}

/**
 * Opens the SSE stream of `clientId` on the server at `url` (its `url`): the response, and `abort`
 * to end it from the client side.
 * @example const { response, abort } = await openEventStream(server.url, clientId);
 */
export async function openEventStream(
  url: string,
  clientId: string,
): Promise<{ response: Response; abort(): void }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/${clientId}`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  return { response, abort: () => controller.abort() };
}
