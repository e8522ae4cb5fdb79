/**
 * One Push server process on the Redis broker, for the multi-process tests and the bench. Bundled
 * with esbuild at test time. Configured by environment: PORT, REDIS_URL, PUSH_REDIS_PREFIX,
 * PRESENCE_TTL, SESSION_TIMEOUT, CONNECT_TIMEOUT, NODE_TTL, REDIS_NAME (connection name prefix, so a
 * test can cut this node's Redis connections), HISTORY_SIZE (messages of history per channel),
 * PUSH_PUBLISH_KEY (HTTP publish stays closed
 * without it), and BROKER=memory for the single-process baseline of the bench. Prints `ready <port>`
 * once listening.
 */
import { createServer } from 'node:http';
import { createRedisBroker } from '@push/redis';
import { createMemoryBroker, createPushServer } from '@push/server';

const env = process.env;
const numberFrom = (value: string | undefined): number | undefined => (value ? Number(value) : undefined);

const presenceTtl = numberFrom(env.PRESENCE_TTL);
const nodeTtl = numberFrom(env.NODE_TTL);
const historySize = numberFrom(env.HISTORY_SIZE);
const redis =
  env.BROKER === 'memory'
    ? undefined
    : createRedisBroker({
        ...(env.REDIS_URL ? { url: env.REDIS_URL } : {}),
        ...(env.PUSH_REDIS_PREFIX ? { prefix: env.PUSH_REDIS_PREFIX } : {}),
        ...(presenceTtl ? { presenceTtl, presenceSweepInterval: Math.max(50, presenceTtl / 4) } : {}),
        ...(nodeTtl ? { nodeTtl } : {}),
        ...(historySize ? { historySize } : {}),
        ...(env.REDIS_NAME ? { redis: { connectionName: env.REDIS_NAME } } : {}),
      });
const broker = redis ?? createMemoryBroker();
const http = createServer();
// As the CLI: clients never reuse a keep-alive socket the server is about to close.
http.keepAliveTimeout = 65_000;
const sessionTimeout = numberFrom(env.SESSION_TIMEOUT);
const timeout = numberFrom(env.CONNECT_TIMEOUT);
const push = createPushServer({
  server: http,
  path: '/push',
  broker,
  ...(sessionTimeout ? { sessionTimeout } : {}),
  ...(timeout ? { timeout } : {}),
  ...(env.PUSH_PUBLISH_KEY ? { publishKey: env.PUSH_PUBLISH_KEY } : {}),
  // Every test and bench client comes from 127.0.0.1: no per-source handshake rate here.
  limits: { maxQueue: 100_000, maxConnections: 1_000_000, handshakesPerMinute: 1_000_000 },
});

await redis?.ready();
http.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  const address = http.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
});

const shutdown = () => {
  void push
    .close()
    .then(() => broker.close())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
