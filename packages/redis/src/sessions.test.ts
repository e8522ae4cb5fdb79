import { deleteKeys, killConnection, REDIS_URL, sleep, uniquePrefix, until } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from './broker.js';
import { RedisBrokerError } from './errors.js';
import { memoryLogger } from './test-helpers.js';

const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
const brokers: RedisBroker[] = [];

async function broker(prefix: string, name: string, options: RedisBrokerOptions = {}): Promise<RedisBroker> {
  const created = createRedisBroker({
    url: REDIS_URL,
    prefix,
    logger: memoryLogger(),
    redis: { connectionName: `${prefix}${name}` },
    ...options,
  });
  brokers.push(created);
  await created.ready();
  return created;
}

function fresh(name: string): string {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return prefix;
}

afterAll(async () => {
  await Promise.all(brokers.map((b) => b.close()));
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
});

describe('the shared-sessions relay between nodes', () => {
  it('loses nothing when the reading connection is cut while payloads flow: each once, in order', async () => {
    const prefix = fresh('relay-blip');
    const [a, b] = await Promise.all([broker(prefix, 'A'), broker(prefix, 'B')]);
    const got: number[] = [];
    b.sessions.onRelay((payload) => got.push(Number(payload)));
    const total = 400;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        await a.sessions.send(b.sessions.nodeId, String(i));
        if (i % 20 === 0) await sleep(1);
      }
    })();
    await until(() => got.length >= 50, 5_000, 'the first 50');
    await killConnection(admin, `${prefix}B`, 'relay');
    await until(() => got.length >= 200, 5_000, '200 after the cut');
    await killConnection(admin, `${prefix}B`, 'relay');
    await sending;
    await until(() => got.length >= total, 10_000, `all ${total}`);
    await sleep(50);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it('keeps only what is unread in the Stream: the reader trims what it handled', async () => {
    const prefix = fresh('relay-trim');
    const [a, b] = await Promise.all([broker(prefix, 'A'), broker(prefix, 'B')]);
    let got = 0;
    b.sessions.onRelay(() => got++);
    for (let i = 0; i < 150; i++) await a.sessions.send(b.sessions.nodeId, `p${i}`);
    await until(() => got === 150, 5_000, 'all 150');
    // Trimmed every 100 entries, and the rest once the reader is idle (its blocking read ends).
    await until(async () => (await admin.xlen(b.keys.relay(b.sessions.nodeId))) === 0, 5_000, 'trimmed');
  });

  it('refuses a send to a node with relayBacklog entries unread, with a typed error', async () => {
    const prefix = fresh('relay-backlog');
    const a = await broker(prefix, 'A', { relayBacklog: 3 });
    // Nobody reads the Stream of a node that does not exist.
    for (let i = 0; i < 3; i++) await a.sessions.send('stuck', `p${i}`);
    const error = await a.sessions.send('stuck', 'p3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisBrokerError);
    expect(error).toMatchObject({ code: 'relay-backlog', operation: 'sessions.send', retriable: false });
    expect(await admin.xlen(a.keys.relay('stuck'))).toBe(3);
    // A Stream nobody reads expires (a node that died without cleaning up).
    expect(await admin.pttl(a.keys.relay('stuck'))).toBeGreaterThan(0);
  });

  it('refuses an out-of-range relayBacklog with a typed error', () => {
    expect(() => createRedisBroker({ relayBacklog: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });
});
