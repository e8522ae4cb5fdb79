import type { BrokerMessage } from '@push/server';
import { deleteKeys, killConnection, REDIS_URL, uniquePrefix, until } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './broker.js';
import { memoryLogger } from './test-helpers.js';

const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
const brokers: RedisBroker[] = [];

const logs = new Map<RedisBroker, string[]>();

async function pair(name: string, options: RedisBrokerOptions = {}): Promise<[RedisBroker, RedisBroker]> {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  const make = (connectionName: string) => {
    const logger = memoryLogger();
    const broker = createRedisBroker({
      url: REDIS_URL,
      prefix,
      logger,
      redis: { connectionName },
      ...options,
    });
    logs.set(broker, logger.lines);
    return broker;
  };
  const created: [RedisBroker, RedisBroker] = [make(`${prefix}A`), make(`${prefix}B`)];
  brokers.push(...created);
  await Promise.all(created.map((b) => b.ready()));
  return created;
}

function collect(broker: RedisBroker): BrokerMessage[] {
  const seen: BrokerMessage[] = [];
  broker.onMessage((m) => seen.push(m));
  return seen;
}

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
});

describe('fan-out between broker instances', () => {
  it('delivers a publish on A to listeners on A and B, with its offset and epoch', async () => {
    const [a, b] = await pair('fan');
    const onA = collect(a);
    const onB = collect(b);
    const stored = await a.publish({
      channel: '/chat/lobby',
      data: { text: 'hi' },
      id: '7',
      publisherId: 'c1',
    });
    await until(() => onA.length === 1 && onB.length === 1, 2_000, 'both listeners');
    expect(onB[0]).toEqual(stored);
    expect(onA[0]).toEqual(stored);
  });

  it('keeps publish order per channel across publishers, and offsets agree with fan-out order', async () => {
    const [a, b] = await pair('order');
    const onB = collect(b);
    const onA = collect(a);
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).publish({ channel: `/o/${i % 3}`, data: i })),
    );
    await until(() => onB.length === 200 && onA.length === 200, 3_000, '200 messages');
    for (const seen of [onA, onB]) {
      for (const channel of ['/o/0', '/o/1', '/o/2']) {
        const offsets = seen.filter((m) => m.channel === channel).map((m) => m.offset);
        expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i + 1));
      }
    }
    expect(onA.map((m) => `${m.channel}#${m.offset}`)).toEqual(onB.map((m) => `${m.channel}#${m.offset}`));
  });

  it('stops calling a listener once it unsubscribes, and survives a listener that throws', async () => {
    const [a, b] = await pair('off');
    const got: number[] = [];
    b.onMessage(() => {
      throw new Error('listener bug');
    });
    const off = b.onMessage((m) => got.push(m.offset));
    await a.publish({ channel: '/x', data: 1 });
    await until(() => got.length === 1, 2_000, 'first');
    off();
    await a.publish({ channel: '/x', data: 2 });
    const probe = collect(b);
    await a.publish({ channel: '/x', data: 3 });
    await until(() => probe.some((m) => m.offset === 3), 2_000, 'probe');
    expect(got).toEqual([1]);
  });

  it('fills a gap from history when its subscriber connection was cut, without duplicates', async () => {
    const [a, b] = await pair('gap');
    const onB = collect(b);
    await a.publish({ channel: '/g', data: 0 });
    await until(() => onB.length === 1, 2_000, 'first message');
    // Cut only B's subscriber connection; Redis stays up, A keeps publishing meanwhile.
    await killConnection(admin, `${prefixes.at(-1)}B`, 'subscriber');
    for (let i = 1; i <= 30; i++) await a.publish({ channel: '/g', data: i });
    await a.publish({ channel: '/h', data: 'other' });
    await until(() => onB.length === 32, 5_000, 'all 32 messages on B').catch((e) => {
      console.log(onB.map((m) => m.channel + m.offset).join(','), logs.get(b));
      throw e;
    });
    const g = onB.filter((m) => m.channel === '/g');
    expect(g.map((m) => m.offset)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(g.map((m) => m.data)).toEqual(Array.from({ length: 31 }, (_, i) => i));
    await until(
      () => (logs.get(b) ?? []).some((l) => l.includes('redis: reconnected, resubscribed')),
      2_000,
      'log line',
    );
    expect(logs.get(b)).toContainEqual(expect.stringContaining('redis: connection lost, retrying…'));
    expect(logs.get(a)).toEqual([]);
  });
});

describe('bus log', () => {
  it('replays what a node missed even before it had received anything', async () => {
    const [a, b] = await pair('fresh', {});
    const onA = collect(a);
    await a.publish({ channel: '/warm', data: 0 });
    await until(() => onA.length === 1, 2_000, 'warm-up on A');
    // A third node that has delivered nothing yet loses its subscriber connection at once.
    const prefix = prefixes.at(-1)!;
    const c = createRedisBroker({
      url: REDIS_URL,
      prefix,
      logger: memoryLogger(),
      redis: { connectionName: `${prefix}C` },
    });
    brokers.push(c);
    await c.ready();
    const onC = collect(c);
    await killConnection(admin, `${prefix}C`, 'subscriber');
    for (let i = 1; i <= 10; i++) await b.publish({ channel: '/new', data: i });
    await until(() => onC.length === 10, 5_000, 'ten on C');
    expect(onC.map((m) => m.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('starts a new bus epoch when the bus log is lost, so later messages are not taken for duplicates', async () => {
    const [a, b] = await pair('buslost');
    const onB = collect(b);
    for (let i = 0; i < 5; i++) await a.publish({ channel: '/bl', data: i });
    await until(() => onB.length === 5, 2_000, 'five');
    await admin.del(a.keys.busLog);
    await a.publish({ channel: '/bl', data: 5 });
    await until(() => onB.length === 6, 2_000, 'the sixth');
    expect(onB.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
