/**
 * A real `@push/server` on 127.0.0.1 (port 0) for the integration tests, recording what it saw:
 * handshakes, subscribes, unsubscribes and disconnects, and able to drop every TCP connection.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createPushServer, type PushServer, type PushServerEvents } from '@push/server';
import { cleanup, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, expect } from 'vitest';

type Seen = { [E in keyof PushServerEvents]: PushServerEvents[E][0][] };

/** A started server. */
export interface TestServer {
  readonly url: string;
  readonly push: PushServer;
  readonly seen: Seen;
  /** Destroys every open TCP connection (WebSocket, SSE stream, held long-poll). */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * Starts a Push server on an ephemeral port.
 *
 * @example
 * const server = await startPushServer();
 * server.seen.subscribe; // [{ clientId, channel }]
 */
export async function startPushServer(): Promise<TestServer> {
  const http: Server = createServer();
  const sockets = new Set<Socket>();
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const push = createPushServer({ server: http, path: '/push' });
  const seen: Seen = { handshake: [], subscribe: [], unsubscribe: [], publish: [], disconnect: [] };
  const record = <E extends keyof Seen>(event: E) =>
    push.on(event, (...args: PushServerEvents[E]) => {
      (seen[event] as PushServerEvents[E][0][]).push(args[0]);
    });
  for (const event of Object.keys(seen) as (keyof Seen)[]) record(event);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/push`,
    push,
    seen,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      await push.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * Gives each test of the calling file a fresh server, and after each unmounts the tree, waits for
 * every session to end (the provider closes its client on a later macrotask: it says goodbye
 * before the server goes) and stops the server. Returns a getter for the current server.
 *
 * @example
 * const server = serverPerTest();
 * it('…', () => render(<PushProvider options={{ url: server().url }} />));
 */
export function serverPerTest(): () => TestServer {
  let server: TestServer | undefined;
  beforeEach(async () => {
    server = await startPushServer();
  });
  afterEach(async () => {
    cleanup();
    const current = server!;
    await waitFor(() => expect(current.push.metrics().sessions).toBe(0));
    await current.close();
  });
  return () => server!;
}
