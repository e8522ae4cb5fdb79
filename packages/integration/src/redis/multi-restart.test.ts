import { rmSync } from 'node:fs';
import { LongPollClient, postBatch } from '@push/test-kit/bayeux-client';
import { freePort, PrivateRedis, uniquePrefix, until } from '@push/test-kit/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bundles, buildBundles } from './bundle.js';
import { type NodeProcess, PUBLISH_KEY, spawnNode } from './processes.js';

let bundles: Bundles;
let redis: PrivateRedis;
const nodes: NodeProcess[] = [];

beforeAll(async () => {
  [bundles, redis] = await Promise.all([buildBundles(), freePort().then((port) => new PrivateRedis(port))]);
  await redis.start();
}, 30_000);

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.kill()));
  await redis.stop();
  rmSync(bundles.dir, { recursive: true, force: true });
});

describe('Redis restarts under running server processes', () => {
  it('logs the outage, refuses publishes meanwhile (never drops them silently), then reconnects and delivers again', async () => {
    const env = { REDIS_URL: redis.url, PUSH_REDIS_PREFIX: uniquePrefix('restart'), CONNECT_TIMEOUT: '500' };
    const [a, b] = await Promise.all([spawnNode(bundles.node, [], env), spawnNode(bundles.node, [], env)]);
    nodes.push(a, b);
    const client = new LongPollClient(a.base);
    await client.handshake();
    await client.subscribe('/status');
    await client.connect();
    const publish = (data: unknown) =>
      fetch(`${b.base}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-push-key': PUBLISH_KEY },
        body: JSON.stringify({ channel: '/status', data }),
      });
    expect((await publish('before')).status).toBe(200);
    await client.receive(1);

    await redis.stop();
    await until(
      () => b.output.join('').includes('redis: connection lost, retrying…'),
      5_000,
      'lost line on B',
    );
    await until(
      () => a.output.join('').includes('redis: connection lost, retrying…'),
      5_000,
      'lost line on A',
    );
    const during = await publish('during');
    // Redis unreachable is a passing failure: 503 with advice to retry, never a silent drop.
    expect(during.status).toBe(503);
    expect(JSON.stringify(await during.json())).toMatch(
      /"successful":false.*"error":"503::Server unavailable: try again".*"reconnect":"retry"/,
    );

    await redis.start();
    await until(
      () => a.output.join('').includes('redis: reconnected, resubscribed'),
      10_000,
      'resubscribed line on A',
    );
    await until(async () => (await publish('after')).status === 200, 5_000, 'publish after restart');
    await client.receive(2);
    expect(client.received.map((m) => m.data)).toEqual(['before', 'after']);
    // Redis ran without persistence: the channel starts a new epoch, and a resume says so.
    const [before, after] = client.received;
    expect(after?.ext?.push?.epoch).not.toBe(before?.ext?.push?.epoch);
    const fresh = new LongPollClient(b.base);
    await fresh.handshake();
    const reply = await fresh.subscribe('/status', {
      '/status': { offset: 1, epoch: before!.ext!.push!.epoch! },
    });
    expect(reply.ext?.push?.recovered).toBe(false);
    // The session of the client on A survived the outage: it is still known there.
    const [connect] = await postBatch(a.base, [
      {
        channel: '/meta/connect',
        clientId: client.clientId,
        connectionType: 'long-polling',
        advice: { timeout: 0 },
      },
    ]);
    expect(connect?.successful).toBe(true);
  });
});
