/**
 * The broker: in-memory by default (the Push server's own), Redis when `REDIS_URL` is set (keys under
 * `PUSH_REDIS_PREFIX`: @push/redis reads no environment itself). The Redis
 * broker lives in `@push/redis`, imported only when asked for, so the default demo needs nothing else.
 */
import type { Broker } from '@push/server';

export interface BrokerChoice {
  kind: 'memory' | 'redis';
  /** Undefined: let the Push server create its in-memory broker. */
  broker: Broker | undefined;
}

export async function chooseBroker(redisUrl: string | undefined, prefix?: string): Promise<BrokerChoice> {
  if (!redisUrl) return { kind: 'memory', broker: undefined };
  let mod: typeof import('@push/redis');
  try {
    mod = await import('@push/redis');
  } catch (error) {
    throw new Error(
      `REDIS_URL is set but @push/redis could not be loaded (${(error as Error).message}). ` +
        'Build it with `npx turbo run build --filter=@push/redis`, or unset REDIS_URL to use the in-memory broker.',
    );
  }
  if (typeof mod.createRedisBroker !== 'function') {
    throw new Error('This @push/redis has no createRedisBroker(); cannot use REDIS_URL with it.');
  }
  const broker = mod.createRedisBroker({ url: redisUrl, historySize: 200, ...(prefix ? { prefix } : {}) });
  try {
    await broker.ready();
  } catch (error) {
    await broker.close().catch(() => {});
    throw new Error(
      `Cannot reach Redis at REDIS_URL (${(error as Error).message}). Start Redis, fix REDIS_URL, or unset it to use the in-memory broker.`,
    );
  }
  return { kind: 'redis', broker };
}
