/** A real server on 127.0.0.1:0 for the tests (raw Bayeux clients and the clock are in @push/test-kit). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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

export async function startServer(options: PushServerOptions = {}): Promise<Running> {
  const http = createServer();
  const push = createPushServer({ server: http, ...options });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const path = options.path ?? '/push';
  return {
    http,
    push,
    port,
    url: `http://127.0.0.1:${port}${path}`,
    wsUrl: `ws://127.0.0.1:${port}${path}`,
    async close() {
      await push.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
