import { type PresenceEvent, presenceChannel } from '@push/protocol';
import type { BrokerMessage } from '@push/server';
import { deleteKeys, REDIS_URL, sleep, uniquePrefix, until } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './broker.js';
import { memoryLogger } from './test-helpers.js';

const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
const brokers: RedisBroker[] = [];

async function node(prefix: string, options: RedisBrokerOptions = {}): Promise<RedisBroker> {
  if (!prefixes.includes(prefix)) prefixes.push(prefix);
  const broker = createRedisBroker({ url: REDIS_URL, prefix, logger: memoryLogger(), ...options });
  brokers.push(broker);
  await broker.ready();
  return broker;
}

function events(broker: RedisBroker, channel: string): PresenceEvent[] {
  const seen: PresenceEvent[] = [];
  broker.onMessage((m: BrokerMessage) => {
    if (m.channel === presenceChannel(channel)) seen.push(m.data as PresenceEvent);
  });
  return seen;
}

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
});

describe('presence', () => {
  it('enters, lists and leaves members across nodes', async () => {
    const prefix = uniquePrefix('presence');
    const [a, b] = [await node(prefix), await node(prefix)];
    expect(await a.presence.enter('/room', { clientId: 'c1', data: { name: 'Ann' } }, 60_000)).toBe(true);
    expect(await a.presence.enter('/room', { clientId: 'c1', data: { name: 'Ann B.' } }, 60_000)).toBe(false);
    expect(await b.presence.enter('/room', { clientId: 'c2' }, 60_000)).toBe(true);
    const members = await b.presence.members('/room');
    expect(members.sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([
      { clientId: 'c1', data: { name: 'Ann B.' } },
      { clientId: 'c2' },
    ]);
    expect(await b.presence.leave('/room', 'c1')).toEqual({ clientId: 'c1', data: { name: 'Ann B.' } });
    expect(await a.presence.leave('/room', 'c1')).toBeUndefined();
    expect(await a.presence.members('/room')).toEqual([{ clientId: 'c2' }]);
    expect(await a.presence.members('/nobody')).toEqual([]);
  });

  it('keeps members of a live node past their TTL (the owner refreshes them)', async () => {
    const prefix = uniquePrefix('refresh');
    const a = await node(prefix, { presenceTtl: 300, presenceSweepInterval: 50 });
    await a.presence.enter('/live', { clientId: 'alive' }, 60_000);
    await sleep(900);
    expect(await a.presence.members('/live')).toEqual([{ clientId: 'alive' }]);
  });

  it("expires a crashed node's members after the TTL; a surviving node publishes each leave once", async () => {
    const prefix = uniquePrefix('expire');
    const options = { presenceTtl: 400, presenceSweepInterval: 50 };
    const [doomed, survivor1, survivor2] = [
      await node(prefix, options),
      await node(prefix, options),
      await node(prefix, options),
    ];
    const seen1 = events(survivor1, '/lobby');
    const seen2 = events(survivor2, '/lobby');
    await doomed.presence.enter('/lobby', { clientId: 'ghost', data: 'boo' }, 60_000);
    await survivor1.presence.enter('/lobby', { clientId: 'stays' }, 60_000);
    expect((await survivor2.presence.members('/lobby')).length).toBe(2);
    // A crash: the node stops refreshing and never calls leave.
    doomed.presence.stop();
    const crashedAt = Date.now();
    await until(
      async () => (await survivor1.presence.members('/lobby')).length === 1,
      3_000,
      'ghost to expire',
    );
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(150);
    expect(await survivor2.presence.members('/lobby')).toEqual([{ clientId: 'stays' }]);
    await until(() => seen1.length === 1 && seen2.length === 1, 2_000, 'leave event');
    await sleep(200);
    expect(seen1).toEqual([{ type: 'leave', channel: '/lobby', member: { clientId: 'ghost', data: 'boo' } }]);
    expect(seen2).toEqual(seen1);
    expect(await admin.zcard(survivor1.keys.presenceExpiry)).toBe(1);
  });

  it('rejoins (with a join event) a member that a sweep removed while its node was cut off', async () => {
    const prefix = uniquePrefix('rejoin');
    const a = await node(prefix, { presenceTtl: 300, presenceSweepInterval: 10_000 });
    const seen = events(a, '/back');
    await a.presence.enter('/back', { clientId: 'me' }, 60_000);
    await admin.del(a.keys.members('/back'));
    await until(() => seen.length === 1, 2_000, 'join event');
    expect(seen).toEqual([{ type: 'join', channel: '/back', member: { clientId: 'me' } }]);
    expect(await a.presence.members('/back')).toEqual([{ clientId: 'me' }]);
  });
});
