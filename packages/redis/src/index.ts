/**
 * @push/redis — the Push broker on Redis, for more than one server process: fan-out over pub/sub,
 * channel history and offsets in Streams, presence with TTL heartbeats.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createPushServer } from '@push/server';
 * import { createRedisBroker } from '@push/redis';
 * const http = createServer();
 * createPushServer({ server: http, broker: createRedisBroker({ url: process.env.REDIS_URL }) });
 * http.listen(8080);
 */
export { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './broker.js';
export { reconnectDelay } from './connection.js';
export { RedisBrokerError, type RedisBrokerErrorCode } from './errors.js';
export { createKeyLayout, type KeyLayout } from './keys.js';
export { type RedisBrokerLogger, silentLogger, stderrLogger } from './log.js';
export { RedisPresence } from './presence.js';
export { RedisSessions } from './sessions.js';
