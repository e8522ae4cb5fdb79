/**
 * A real `@push/server` on 127.0.0.1:0 for the client's end-to-end tests, and their one cleanup:
 * what a test opened (servers, clients) closes after it, last opened first.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createPushServer, type PushServer, type PushServerOptions } from '@push/server';
import { afterEach } from 'vitest';

export interface Harness {
  http: http.Server;
  push: PushServer;
  /** http://127.0.0.1:port/push */
  url: string;
  wsUrl: string;
  /** The server's open sockets, to kill connections without a goodbye. */
  sockets: Set<Socket>;
  killAll(): void;
}

const open: Array<() => unknown> = [];

/**
 * Registers the calling file's cleanup; returns `closeLater`, which queues what a test opened.
 * @example
 * const closeLater = closeAfterEach();
 * const client = createClient({ url }); closeLater(() => client.close());
 */
export function closeAfterEach(): (close: () => unknown) => void {
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });
  return (close) => void open.push(close);
}

/** Starts a server at `/push` with `options`; it closes after the test (with `closeAfterEach`). */
export async function startServer(options: PushServerOptions = {}): Promise<Harness> {
  const server = http.createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const push = createPushServer({ server, path: '/push', ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  open.push(async () => {
    await push.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    http: server,
    push,
    url,
    wsUrl: url.replace('http', 'ws'),
    sockets,
    killAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}
