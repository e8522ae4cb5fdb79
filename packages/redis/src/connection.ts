/**
 * Redis connections that never give up: ioredis reconnects with capped exponential backoff, and
 * each connection logs once when it is lost and once when it is back. Commands never wait in an
 * offline queue: an operation waits at most `commandTimeout` for the connection, then fails with a
 * typed {@link RedisBrokerError}.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { RedisBrokerError } from './errors.js';
import type { RedisBrokerLogger } from './log.js';

/** Backoff between reconnect attempts: 50 ms doubling up to `max`, forever. */
export function reconnectDelay(attempt: number, max = 2_000): number {
  return Math.min(50 * 2 ** Math.min(attempt, 16), max);
}

/** Options of {@link openConnection}. */
export interface ConnectionOptions {
  url: string;
  /** `commands` or `subscriber`: shows up in log lines. */
  role: string;
  logger: RedisBrokerLogger;
  /** Extra ioredis options (TLS, password, …); the resilience options below override them. */
  redis?: RedisOptions;
  /** Per-command timeout in ms (commands connection only). */
  commandTimeout?: number;
  /** Longest pause between reconnect attempts. @defaultValue 2_000 */
  maxReconnectDelay?: number;
  /** Called each time the connection becomes ready again after it was lost. */
  onReconnect?: () => void | Promise<void>;
  /** The line logged after `onReconnect` ran. @defaultValue 'redis: reconnected' */
  reconnectedMessage?: string;
}

/** A connection plus its health. */
export interface Connection {
  readonly redis: Redis;
  /** Resolves when the connection is ready, or rejects with `redis-unavailable` after `ms`. */
  waitReady(ms: number, operation: string): Promise<void>;
  /**
   * Quits (or, if Redis is away, disconnects) and stops reconnecting. `force` disconnects at once:
   * for a connection blocked in a read, where QUIT would wait behind it.
   */
  close(force?: boolean): Promise<void>;
}

/** Opens a connection to `url` that reconnects forever and logs what happens. */
export function openConnection(options: ConnectionOptions): Connection {
  const { logger, role } = options;
  const maxDelay = options.maxReconnectDelay ?? 2_000;
  const redis = new Redis(options.url, {
    ...options.redis,
    connectionName: `${options.redis?.connectionName ?? 'push'}:${role}`,
    lazyConnect: true,
    retryStrategy: (attempt) => reconnectDelay(attempt, maxDelay),
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    enableReadyCheck: true,
    ...(options.commandTimeout === undefined ? {} : { commandTimeout: options.commandTimeout }),
  });
  let everReady = false;
  let lost = false;
  let closing = false;
  let lastError: string | undefined;
  /** One shared wait for the next 'ready', however many operations are waiting. */
  let nextReady: Promise<void> | undefined;
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  redis.on('close', () => {
    if (closing || lost) return;
    lost = true;
    if (everReady) logger('warn', 'redis: connection lost, retrying…', { role, url: redact(options.url) });
  });
  redis.on('reconnecting', () => {
    if (!everReady && !closing && lastError !== undefined) {
      logger('warn', 'redis: cannot connect, retrying…', {
        role,
        url: redact(options.url),
        error: lastError,
      });
      lastError = undefined;
    }
  });
  redis.on('ready', () => {
    const wasLost = lost && everReady;
    everReady = true;
    lost = false;
    void (async () => {
      try {
        await options.onReconnect?.();
        if (wasLost) logger('info', options.reconnectedMessage ?? 'redis: reconnected', { role });
      } catch (error) {
        logger('error', 'redis: reconnected but could not restore state, will retry on the next reconnect', {
          role,
          error: String(error),
        });
      }
    })();
  });
  redis.connect().catch(() => {
    // The retry strategy keeps trying; `waitReady` reports the outage to callers.
  });

  return {
    redis,
    waitReady(ms, operation) {
      if (redis.status === 'ready') return Promise.resolve();
      if (closing)
        return Promise.reject(new RedisBrokerError('closed', operation, 'The Redis broker is closed'));
      nextReady ??= new Promise<void>((resolve) => {
        redis.once('ready', () => {
          nextReady = undefined;
          resolve();
        });
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new RedisBrokerError(
              'redis-unavailable',
              operation,
              `Redis at ${redact(options.url)} is unreachable (${lastError ?? redis.status}); ${operation} failed after ${ms} ms — retry later`,
            ),
          );
        }, ms);
      });
      return Promise.race([nextReady, timeout]).finally(() => clearTimeout(timer));
    },
    async close(force = false) {
      closing = true;
      if (redis.status === 'ready' && !force) {
        try {
          await redis.quit();
          return;
        } catch {
          // fall through to disconnect
        }
      }
      redis.disconnect(false);
    },
  };
}

/** The URL without its password, for log lines. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
