import { rmSync } from 'node:fs';
import { LongPollClient, type Wire } from '@push/test-kit/bayeux-client';
import { deleteKeys, REDIS_URL, uniquePrefix, until } from '@push/test-kit/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Bundles, buildBundles } from './bundle.js';
import { type NodeProcess, publishHttp, spawnNode } from './processes.js';

let bundles: Bundles;
const admin = new Redis(REDIS_URL);
const prefixes: string[] = [];
let running: NodeProcess[] = [];

/** Starts `count` server processes sharing one fresh key prefix. */
async function cluster(count: number, env: Record<string, string> = {}): Promise<NodeProcess[]> {
  const prefix = uniquePrefix('multi');
  prefixes.push(prefix);
  const nodes = await Promise.all(
    Array.from({ length: count }, () =>
      spawnNode(bundles.node, [], { REDIS_URL, PUSH_REDIS_PREFIX: prefix, CONNECT_TIMEOUT: '1000', ...env }),
    ),
  );
  running.push(...nodes);
  return nodes;
}

const data = (messages: Wire[], channel?: string) =>
  messages.filter((m) => channel === undefined || m.channel === channel).map((m) => m.data);

beforeAll(async () => {
  bundles = await buildBundles();
}, 30_000);

afterEach(async () => {
  await Promise.all(running.map((node) => node.kill()));
  running = [];
});

afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(admin, prefix);
  await admin.quit();
  rmSync(bundles.dir, { recursive: true, force: true });
});

describe('several push-server processes on one Redis', () => {
  it('delivers a publish made on node B to a subscriber on node A, wildcards included', async () => {
    const [a, b] = await cluster(2);
    const client = new LongPollClient(a!.base);
    await client.handshake();
    await client.subscribe(['/stocks/aex/*', '/news/**', '/exact']);
    await client.connect(); // first connect is answered at once
    await publishHttp(b!.base, '/stocks/aex/philips', { price: 1 });
    await publishHttp(b!.base, '/news/eu/nl/today', 'deep');
    await publishHttp(b!.base, '/stocks/other/x', 'not matched');
    await publishHttp(b!.base, '/exact', 'exact');
    await client.receive(3);
    expect(client.received.map((m) => [m.channel, m.data, m.ext?.push?.offset])).toEqual([
      ['/stocks/aex/philips', { price: 1 }, 1],
      ['/news/eu/nl/today', 'deep', 1],
      ['/exact', 'exact', 1],
    ]);
  });

  it('delivers across three nodes both ways: Bayeux publishes from clients on B and C reach A in order', async () => {
    const [a, b, c] = await cluster(3);
    const listener = new LongPollClient(a!.base);
    await listener.handshake();
    await listener.subscribe('/chat/room');
    await listener.connect();
    const onB = new LongPollClient(b!.base);
    const onC = new LongPollClient(c!.base);
    await Promise.all([onB.handshake(), onC.handshake()]);
    for (let i = 0; i < 10; i++) {
      const reply = await (i % 2 ? onB : onC).publish('/chat/room', i);
      expect(reply.successful).toBe(true);
    }
    await listener.receive(10);
    expect(data(listener.received)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(listener.received.map((m) => m.ext?.push?.offset)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('lets a client whose node was killed resume on another node with no gap and no duplicate', async () => {
    const [a, b, c] = await cluster(3);
    const client = new LongPollClient(a!.base);
    await client.handshake();
    await client.subscribe('/ticker');
    await client.connect();
    for (let i = 1; i <= 3; i++) await publishHttp(c!.base, '/ticker', i);
    await client.receive(3);
    const position = client.position('/ticker')!;
    expect(position.offset).toBe(3);

    await a!.kill();
    for (let i = 4; i <= 6; i++) await publishHttp(c!.base, '/ticker', i);

    client.base = b!.base; // what a client does when its node is gone: the next node in the list
    await client.handshake();
    const reply = await client.subscribe('/ticker', { '/ticker': position });
    expect(reply.ext?.push?.recovered).toBe(true);
    await publishHttp(c!.base, '/ticker', 7);
    await client.receive(7);
    expect(data(client.received)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(client.received.map((m) => m.ext?.push?.offset)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("expires the presence of a killed node's clients and tells the others", async () => {
    const [a, b] = await cluster(2, { PRESENCE_TTL: '600' });
    const watcher = new LongPollClient(b!.base);
    await watcher.handshake();
    await watcher.subscribe('/presence/lobby');
    await watcher.connect();
    const doomed = new LongPollClient(a!.base);
    await doomed.handshake();
    const entered = await doomed.publish('/service/presence', {
      action: 'enter',
      channel: '/lobby',
      data: { name: 'Ann' },
    });
    expect(entered.successful).toBe(true);
    await watcher.receive(1);
    expect(watcher.received[0]?.data).toMatchObject({ type: 'join', member: { clientId: doomed.clientId } });

    const members = async () => {
      const reply = await watcher.publish('/service/presence', { action: 'members', channel: '/lobby' });
      return (reply.data as { members: unknown[] }).members;
    };
    expect(await members()).toEqual([{ clientId: doomed.clientId, data: { name: 'Ann' } }]);
    await a!.kill();
    const killedAt = Date.now();
    await watcher.receive(2, 5_000);
    expect(watcher.received[1]?.data).toEqual({
      type: 'leave',
      channel: '/lobby',
      member: { clientId: doomed.clientId, data: { name: 'Ann' } },
    });
    expect(Date.now() - killedAt).toBeLessThan(4_000);
    expect(await members()).toEqual([]);
  });

  it('runs the real CLI: push-server --redis shares channels with a node-entry process', async () => {
    const [a] = await cluster(1);
    const prefix = prefixes.at(-1)!;
    const cli = await spawnNode(bundles.cli, ['--port', '0', '--path', '/push', '--redis', REDIS_URL], {
      // The CLI takes only --redis; the prefix travels in the environment for this test's isolation.
      PUSH_REDIS_PREFIX: prefix,
    });
    running.push(cli);
    expect(cli.output.join('')).toContain('(redis broker)');
    const client = new LongPollClient(a!.base);
    await client.handshake();
    await client.subscribe('/from-cli');
    await client.connect();
    await publishHttp(cli.base, '/from-cli', 'hello');
    await until(
      async () => {
        await client.connect();
        return client.received.length === 1;
      },
      5_000,
      'message from the CLI process',
    );
    expect(client.received[0]).toMatchObject({ channel: '/from-cli', data: 'hello' });
  });
});
