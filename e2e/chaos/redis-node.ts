// One chaos node on the Redis broker, run as a child process (bundled by redis-cluster.ts) so it
// can be SIGKILLed mid-run like a crashed machine. Environment: REDIS_URL, PUSH_REDIS_PREFIX.
// Prints `ready <port>` once listening on 127.0.0.1.
import { createServer } from 'node:http';
import { createRedisBroker } from '@push/redis';
import { createPushServer } from '@push/server';
import { ACCEPT_BACKLOG } from '../lib/proxy.mjs';
import { CHAOS_HISTORY, CHAOS_SERVER_OPTIONS } from './server-options.js';

const broker = createRedisBroker({
  url: process.env.REDIS_URL,
  prefix: process.env.PUSH_REDIS_PREFIX,
  historySize: CHAOS_HISTORY,
});
const http = createServer();
http.keepAliveTimeout = 65_000; // as the CLI: the proxy never reuses a socket the node is closing
createPushServer({ ...CHAOS_SERVER_OPTIONS, server: http, broker });
await broker.ready();
http.listen({ port: 0, host: '127.0.0.1', backlog: ACCEPT_BACKLOG }, () => {
  const address = http.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
});
