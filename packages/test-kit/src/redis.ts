/**
 * Redis for tests: the URL (`REDIS_URL`, else the local default), unique key prefixes, key cleanup,
 * cutting one connection, polling, free ports and a private redis-server a test may stop and start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other test uses. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * Cuts the connection a broker named `${name}:${role}` (`CLIENT SETNAME`) through `admin` with
 * `CLIENT KILL`: that one connection dies, Redis stays up. Throws when there is no such connection.
 */
export async function killConnection(admin: Redis, name: string, role: string): Promise<void> {
  const clients = String(await admin.client('LIST'));
  const line = clients.split('\n').find((l) => l.includes(`name=${name}:${role}`));
  const id = /id=(\d+)/.exec(line ?? '')?.[1];
  if (id === undefined) throw new Error(`no Redis connection named ${name}:${role}`);
  await admin.client('KILL', 'ID', id);
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `ms`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  ms = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server (no persistence) that tests may stop and start. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    this.child = child;
    const probe = new Redis(this.url, {
      lazyConnect: true,
      retryStrategy: () => 20,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    try {
      await until(
        async () => {
          try {
            if (probe.status !== 'ready') await probe.connect();
            return (await probe.ping()) === 'PONG';
          } catch {
            return false;
          }
        },
        5_000,
        `redis-server on ${this.port}`,
      );
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
