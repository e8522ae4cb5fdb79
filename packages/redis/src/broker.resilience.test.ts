import type { BrokerMessage } from '@push/server';
import { freePort, PrivateRedis, sleep, uniquePrefix, until } from '@push/test-kit/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './broker.js';
import { RedisBrokerError } from './errors.js';
import { memoryLogger } from './test-helpers.js';

// A redis-server of our own, so stopping it does not disturb other suites.
let redis: PrivateRedis;
const brokers: RedisBroker[] = [];

function node(options: RedisBrokerOptions & { prefix: string }): RedisBroker & { lines: string[] } {
  const logger = memoryLogger();
  const broker = createRedisBroker({
    url: redis.url,
    logger,
    commandTimeout: 400,
    maxReconnectDelay: 100,
    ...options,
  });
  brokers.push(broker);
  return Object.assign(broker, { lines: logger.lines });
}

/**
 * Waits until `broker` is ready. Each ready() gives up after the short commandTimeout these tests
 * use; on a loaded machine connecting may take longer than that, which is not what they test.
 */
async function readyWithin(broker: RedisBroker, ms = 5_000): Promise<void> {
  await until(
    () =>
      broker.ready().then(
        () => true,
        () => false,
      ),
    ms,
    'ready',
  );
}

beforeAll(async () => {
  redis = new PrivateRedis(await freePort());
  await redis.start();
});

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  await redis.stop();
});

describe('Redis restarts and outages', () => {
  it('fails publishes with a typed error while Redis is down, then reconnects, resubscribes and carries on', async () => {
    const prefix = uniquePrefix('restart');
    const a = node({ prefix });
    const b = node({ prefix });
    await Promise.all([readyWithin(a), readyWithin(b)]);
    const onB: BrokerMessage[] = [];
    b.onMessage((m) => onB.push(m));
    const before = await a.publish({ channel: '/r', data: 'before' });
    await until(() => onB.length === 1, 2_000, 'first delivery');

    await redis.stop();
    await until(
      () => a.lines.some((l) => l.includes('redis: connection lost, retrying…')),
      2_000,
      'lost log line',
    );
    const started = Date.now();
    const error = await a.publish({ channel: '/r', data: 'during' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisBrokerError);
    expect(error).toMatchObject({ code: 'redis-unavailable', operation: 'publish', retriable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(b.history('/r', { offset: 0, epoch: before.epoch })).rejects.toMatchObject({
      code: 'redis-unavailable',
    });

    await redis.start();
    await until(
      () => b.lines.some((l) => l.includes('redis: reconnected, resubscribed')),
      5_000,
      'resubscribed log line',
    );
    await readyWithin(a);
    const after = await a.publish({ channel: '/r', data: 'after' });
    await until(() => onB.length === 2, 2_000, 'delivery after restart');
    expect(onB.map((m) => m.data)).toEqual(['before', 'after']);
    // No persistence: the channel's history is gone, so it has a new epoch and resuming says so.
    expect(after).toMatchObject({ offset: 1 });
    expect(after.epoch).not.toBe(before.epoch);
    expect(await b.history('/r', { offset: 1, epoch: before.epoch })).toMatchObject({
      recovered: false,
      messages: [],
    });
    expect(a.lines.filter((l) => l.includes('connection lost')).length).toBe(3); // commands, subscriber, relay: once each
  });

  it('lets a publish ride out an outage shorter than commandTimeout', async () => {
    const prefix = uniquePrefix('blip');
    const a = node({ prefix, commandTimeout: 4_000 });
    await a.ready();
    await redis.stop();
    await until(() => a.lines.some((l) => l.includes('connection lost')), 2_000, 'lost');
    const pending = a.publish({ channel: '/blip', data: 1 });
    await sleep(300);
    await redis.start();
    await expect(pending).resolves.toMatchObject({ offset: 1, data: 1 });
  });

  it('starts while Redis is down, says so, and works once Redis is up', async () => {
    const prefix = uniquePrefix('late');
    await redis.stop();
    const a = node({ prefix });
    await expect(a.ready()).rejects.toMatchObject({ code: 'redis-unavailable' });
    expect(a.lines.some((l) => l.includes('redis: cannot connect, retrying…'))).toBe(true);
    await redis.start();
    await readyWithin(a);
    await expect(a.publish({ channel: '/late', data: 1 })).resolves.toMatchObject({ offset: 1 });
  });

  it('refuses work after close with a typed error', async () => {
    const a = node({ prefix: uniquePrefix('closed') });
    await readyWithin(a);
    await a.close();
    await expect(a.publish({ channel: '/c', data: 1 })).rejects.toMatchObject({ code: 'closed' });
  });
});
