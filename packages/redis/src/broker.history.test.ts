import { deleteKeys, REDIS_URL, sleep, uniquePrefix } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisBroker, type RedisBroker } from './broker.js';
import { RedisBrokerError } from './errors.js';
import { memoryLogger } from './test-helpers.js';

const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
const brokers: RedisBroker[] = [];

function broker(options: Parameters<typeof createRedisBroker>[0] = {}): RedisBroker {
  const prefix = options.prefix ?? uniquePrefix('history');
  prefixes.push(prefix);
  const created = createRedisBroker({ url: REDIS_URL, logger: memoryLogger(), ...options, prefix });
  brokers.push(created);
  return created;
}

beforeAll(async () => {
  await admin.ping();
});

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
});

describe('offsets and epoch', () => {
  it('numbers each channel 1, 2, 3… with one epoch per channel', async () => {
    const b = broker();
    const a1 = await b.publish({ channel: '/a', data: 1, id: 'm1', publisherId: 'c1' });
    const a2 = await b.publish({ channel: '/a', data: 2 });
    const b1 = await b.publish({ channel: '/b', data: 'x' });
    expect([a1.offset, a2.offset, b1.offset]).toEqual([1, 2, 1]);
    expect(a1).toMatchObject({ channel: '/a', data: 1, id: 'm1', publisherId: 'c1' });
    expect(a2.epoch).toBe(a1.epoch);
    expect(b1.epoch).not.toBe(a1.epoch);
    expect(a1.epoch).toMatch(/^[0-9a-f]{16}$/);
    expect(Math.abs(a1.time - Date.now())).toBeLessThan(5_000);
  });

  it('gives an empty channel a position whose epoch survives the first publish', async () => {
    const b = broker();
    const before = await b.position('/empty');
    expect(before.offset).toBe(0);
    const first = await b.publish({ channel: '/empty', data: 1 });
    expect(first.epoch).toBe(before.epoch);
    expect(await b.history('/empty', before)).toMatchObject({
      recovered: true,
      messages: [{ offset: 1, data: 1 }],
    });
  });

  it('keeps offsets dense when two brokers publish concurrently to one channel', async () => {
    const prefix = uniquePrefix('dense');
    const [x, y] = [broker({ prefix }), broker({ prefix })];
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? x : y).publish({ channel: '/dense', data: i })),
    );
    const offsets = results.map((m) => m.offset).sort((p, q) => p - q);
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await x.position('/dense')).toEqual({ offset: 100, epoch: results[0]!.epoch });
  });
});

describe('history and resume', () => {
  it('returns exactly what came after a position, in order', async () => {
    const b = broker();
    const sent = [];
    for (let i = 1; i <= 10; i++) sent.push(await b.publish({ channel: '/r', data: { i } }));
    const epoch = sent[0]!.epoch;
    const result = await b.history('/r', { offset: 6, epoch });
    expect(result.recovered).toBe(true);
    expect(result.messages.map((m) => m.offset)).toEqual([7, 8, 9, 10]);
    expect(result.messages.map((m) => m.data)).toEqual([{ i: 7 }, { i: 8 }, { i: 9 }, { i: 10 }]);
    expect(result.messages[0]).toEqual(sent[6]);
    expect(result.position).toEqual({ offset: 10, epoch });
    expect(await b.history('/r', { offset: 10, epoch })).toEqual({
      recovered: true,
      messages: [],
      position: { offset: 10, epoch },
    });
  });

  it('bounds history by count: older positions are not recovered', async () => {
    const b = broker({ historySize: 5 });
    let epoch = '';
    for (let i = 1; i <= 12; i++) epoch = (await b.publish({ channel: '/count', data: i })).epoch;
    const inWindow = await b.history('/count', { offset: 7, epoch });
    expect(inWindow.recovered).toBe(true);
    expect(inWindow.messages.map((m) => m.offset)).toEqual([8, 9, 10, 11, 12]);
    const outside = await b.history('/count', { offset: 6, epoch });
    expect(outside).toEqual({ recovered: false, messages: [], position: { offset: 12, epoch } });
  });

  it('trims the stream itself (MAXLEN ~) so Redis memory stays bounded', async () => {
    const b = broker({ historySize: 10 });
    for (let i = 0; i < 400; i++) await b.publish({ channel: '/trim', data: i });
    const length = await admin.xlen(b.keys.log('/trim'));
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(250);
  });

  it('bounds history by age', async () => {
    const b = broker({ historyAge: 300 });
    const first = await b.publish({ channel: '/age', data: 'old' });
    await sleep(400);
    await b.publish({ channel: '/age', data: 'new' });
    expect(await b.history('/age', { offset: 0, epoch: first.epoch })).toMatchObject({
      recovered: false,
      messages: [],
    });
    const recent = await b.history('/age', { offset: 1, epoch: first.epoch });
    expect(recent).toMatchObject({ recovered: true, messages: [{ offset: 2, data: 'new' }] });
    expect(await admin.pttl(b.keys.log('/age'))).toBeLessThanOrEqual(300);
  });

  it('still counts offsets with history off (historySize 0) but recovers nothing', async () => {
    const b = broker({ historySize: 0 });
    const m = await b.publish({ channel: '/none', data: 1 });
    await b.publish({ channel: '/none', data: 2 });
    expect(await b.history('/none', { offset: 0, epoch: m.epoch })).toMatchObject({ recovered: false });
    expect(await b.history('/none', { offset: 2, epoch: m.epoch })).toMatchObject({ recovered: true });
    expect(await admin.exists(b.keys.log('/none'))).toBe(0);
  });

  it('starts a new epoch when the channel history is lost: recovered false, offsets from 1', async () => {
    const b = broker();
    const old = await b.publish({ channel: '/lost', data: 1 });
    await b.publish({ channel: '/lost', data: 2 });
    await admin.del(b.keys.meta('/lost'), b.keys.log('/lost'));
    const fresh = await b.publish({ channel: '/lost', data: 3 });
    expect(fresh.offset).toBe(1);
    expect(fresh.epoch).not.toBe(old.epoch);
    expect(await b.history('/lost', { offset: 2, epoch: old.epoch })).toEqual({
      recovered: false,
      messages: [],
      position: { offset: 1, epoch: fresh.epoch },
    });
  });

  it('notices a log that lost entries the counter says exist', async () => {
    const b = broker();
    const m = await b.publish({ channel: '/hole', data: 1 });
    await b.publish({ channel: '/hole', data: 2 });
    await admin.del(b.keys.log('/hole'));
    expect(await b.history('/hole', { offset: 0, epoch: m.epoch })).toMatchObject({ recovered: false });
  });

  it('fails a publish to a key of the wrong type with a typed redis-reply error', async () => {
    const b = broker();
    await admin.set(b.keys.meta('/wrong'), 'not a hash');
    const error = await b.publish({ channel: '/wrong', data: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisBrokerError);
    expect(error).toMatchObject({ code: 'redis-reply', operation: 'publish', retriable: false });
  });

  it('reads no environment variable: the caller passes url and prefix', async () => {
    vi.stubEnv('PUSH_REDIS_PREFIX', 'from-env:');
    vi.stubEnv('REDIS_URL', 'redis://127.0.0.1:1');
    const b = createRedisBroker({ url: REDIS_URL, logger: memoryLogger() });
    try {
      expect(b.keys.meta('/a')).toMatch(/^push:/);
      await b.ready(); // connected to REDIS_URL as passed, not the environment's unreachable one
    } finally {
      vi.unstubAllEnvs();
      await b.close();
    }
  });

  it('refuses out-of-range options with a typed error', () => {
    expect(() => createRedisBroker({ historyAge: 0 })).toThrow(RedisBrokerError);
    expect(() => createRedisBroker({ historySize: -1 })).toThrow(/historySize/);
  });
});
