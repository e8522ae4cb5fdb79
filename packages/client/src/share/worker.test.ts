// The SharedWorker holder with fake SharedWorkers and MessagePorts: one hub in the worker for all
// tabs (holder 'worker'), reference counting and ack routing over the ports, a closed, hidden or
// crashed tab does not disturb the others, and the leader-tab election where there is no
// SharedWorker or the options cannot go to a worker.

import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import {
  FakeCore,
  fakeChannels,
  fakeLifecycle,
  fakeLocks,
  fakeSharedWorkers,
} from '../testing/share-fakes.js';
import type { ClientOptions } from '../types.js';
import { createSharedClient, type SharedClient, workerOptions } from './index.js';
import { startShareWorker } from './worker.js';

const URL_ = 'http://push.test/push';

function world() {
  const clock = new FakeClock();
  const channels = fakeChannels();
  const locks = fakeLocks();
  const workerCores: FakeCore[] = [];
  const tabCores: FakeCore[] = [];
  const inits: ClientOptions[] = [];
  const workers = fakeSharedWorkers((scope) =>
    startShareWorker(
      scope,
      (options) => {
        inits.push(options);
        const core = new FakeCore();
        workerCores.push(core);
        return core;
      },
      clock,
    ),
  );
  const tab = (name: string, extra: Partial<ClientOptions> & { share?: object } = {}) => {
    const lifecycle = fakeLifecycle();
    const { share, ...rest } = extra;
    const client = createSharedClient(
      {
        url: URL_,
        ...rest,
        share: {
          worker: '/push-share-worker.js',
          SharedWorker: workers.SharedWorker,
          BroadcastChannel: channels.Channel,
          locks: locks.forTab(name),
          lifecycle,
          clock,
          gather: 100,
          rollCall: 1000,
          ...share,
        },
      },
      () => {
        const core = new FakeCore();
        tabCores.push(core);
        return core;
      },
    );
    return { client, lifecycle };
  };
  return { clock, workers, workerCores, tabCores, inits, tab, run: (ms = 0) => clock.advance(ms) };
}

const received = (client: SharedClient, channel: string) => {
  const seen: unknown[] = [];
  const sub = client.subscribe(channel, (data) => seen.push(data));
  return { seen, sub };
};

describe('SharedWorker holder', () => {
  it('four tabs share one connection in the worker: holder worker, one subscription on the wire', async () => {
    const w = world();
    const tabs = ['a', 'b', 'c', 'd'].map((n) => w.tab(n, { transports: ['eventsource'] }));
    await w.run(200);
    expect(w.workers.scopes.size).toBe(1);
    expect(w.workerCores).toHaveLength(1);
    expect(w.tabCores).toHaveLength(0);
    expect(w.inits[0]).toMatchObject({ url: URL_, transports: ['eventsource'], autoConnect: true });
    const core = w.workerCores[0]!;
    core.move('connected', 'eventsource');
    await w.run(10);
    const leader = tabs[0]!.client.sharing!.leader;
    expect(leader).toMatch(/^worker\./);
    for (const t of tabs) {
      expect(t.client.sharing).toMatchObject({ tabs: 4, holder: 'worker', here: false, leader });
      expect(t.client.state).toBe('connected');
      expect(t.client.transport).toBe('eventsource');
    }
    const got = tabs.map((t) => received(t.client, '/n'));
    await w.run(10);
    await Promise.all(got.map((g) => g.sub.ready));
    expect(core.subscribes.map((s) => s.channel)).toEqual(['/n']);
    core.deliver('/n', '/n', 1, 1);
    await w.run(10);
    for (const g of got) expect(g.seen).toEqual([1]);
    // each publish's ack goes back to its tab only
    const fromC = tabs[2]!.client.publish('/chat', 'c');
    await w.run(10);
    expect(core.publishes.map((p) => p.data)).toEqual(['c']);
    core.publishes[0]!.resolve();
    await expect(fromC).resolves.toBeUndefined();
  });

  it('a closed tab does not disturb the others; the last one to let go unsubscribes', async () => {
    const w = world();
    const tabs = ['a', 'b', 'c'].map((n) => w.tab(n));
    await w.run(200);
    const core = w.workerCores[0]!;
    const got = tabs.map((t) => received(t.client, '/n'));
    await w.run(10);
    await tabs[0]!.client.close();
    await w.run(10);
    expect(core.closed).toBe(false);
    expect(core.unsubscribes).toEqual([]);
    for (const t of tabs.slice(1)) expect(t.client.sharing?.tabs).toBe(2);
    core.deliver('/n', '/n', 1, 1);
    await w.run(10);
    expect(got.map((g) => g.seen)).toEqual([[], [1], [1]]);
    // a new tab joins the running worker
    const d = w.tab('d');
    const inD = received(d.client, '/n');
    await w.run(10);
    await inD.sub.ready;
    expect(d.client.sharing).toMatchObject({ tabs: 3, holder: 'worker' });
    expect(w.workerCores).toHaveLength(1);
    expect(core.subscribes).toHaveLength(1);
    core.deliver('/n', '/n', 2, 2);
    await w.run(10);
    expect(inD.seen).toEqual([2]);
    for (const t of [tabs[1]!, tabs[2]!, d]) await t.client.close();
    await w.run(10);
    expect(core.unsubscribes).toEqual(['/n']);
  });

  it('a hidden (bfcache) tab leaves and rejoins; a crashed tab is forgotten by the roll call', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    const c = w.tab('c');
    await w.run(200);
    const core = w.workerCores[0]!;
    received(a.client, '/a');
    received(b.client, '/b');
    const inC = received(c.client, '/c');
    await w.run(10);
    b.lifecycle.fire('hide');
    await w.run(10);
    expect(core.unsubscribes).toEqual(['/b']);
    expect(a.client.sharing?.tabs).toBe(2);
    b.lifecycle.fire('show');
    await w.run(10);
    expect(core.subscribes.map((s) => s.channel)).toEqual(['/a', '/b', '/c', '/b']);
    expect(a.client.sharing?.tabs).toBe(3);
    // c's page crashes: no bye, its port is dead
    w.workers.workerPorts[2]!.close();
    await w.run(3500);
    expect(core.unsubscribes).toEqual(['/b', '/c']);
    expect(a.client.sharing?.tabs).toBe(2);
    expect(inC.seen).toEqual([]);
    expect(core.closed).toBe(false);
  });

  it('falls back to the leader-tab election without SharedWorker or with options a worker cannot take', async () => {
    const w = world();
    const plain = w.tab('a', { share: { SharedWorker: null } });
    await w.run(200);
    expect(plain.client.sharing).toMatchObject({ holder: 'tab', here: true, tabs: 1 });
    expect(w.tabCores).toHaveLength(1);
    expect(w.workers.scopes.size).toBe(0);
    await plain.client.close();

    const fn = w.tab('b', { auth: async () => ({ token: 't' }), share: { key: 'fn' } });
    await w.run(200);
    expect(fn.client.sharing).toMatchObject({ holder: 'tab', here: true });
    expect(w.workers.scopes.size).toBe(0);
  });

  it('a worker script that fails to load (404): the tabs elect a leader instead and say why', async () => {
    const w = world();
    w.workers.missing.add('/push-share-worker.js');
    const errors: string[] = [];
    const tabs = ['a', 'b'].map((n) => w.tab(n));
    for (const t of tabs) t.client.on('error', (e) => errors.push(`${e.code} ${e.message}`));
    const got = tabs.map((t) => received(t.client, '/n'));
    await w.run(300);
    expect(w.workers.scopes.size).toBe(0);
    expect(w.tabCores).toHaveLength(1); // one leader tab holds the one connection
    expect(errors).toEqual([
      'connection-lost share.worker: the worker failed to load or start (error event); the tabs elect a leader instead',
      'connection-lost share.worker: the worker failed to load or start (error event); the tabs elect a leader instead',
    ]);
    expect(tabs.map((t) => t.client.sharing?.holder)).toEqual(['tab', 'tab']);
    const core = w.tabCores[0]!;
    expect(core.subscribes.map((s) => s.channel)).toEqual(['/n']);
    core.deliver('/n', '/n', 1, 1);
    await w.run(10);
    expect(got.map((g) => g.seen)).toEqual([[1], [1]]);
  });

  it('a worker that dies mid-stream: after its silence limit the tabs elect a leader that resumes from their positions', async () => {
    const w = world();
    const errors: string[] = [];
    const tabs = ['a', 'b'].map((n) => w.tab(n, { share: { workerTimeout: 500 } }));
    for (const t of tabs) t.client.on('error', (e) => errors.push(e.message));
    const got = tabs.map((t) => received(t.client, '/n'));
    await w.run(200);
    const dead = w.workerCores[0]!;
    dead.move('connected', 'eventsource');
    dead.deliver('/n', '/n', 1, 1);
    dead.deliver('/n', '/n', 2, 2);
    await w.run(10);
    expect(got.map((g) => g.seen)).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // the worker dies: its ports go quiet, nothing more comes
    for (const port of w.workers.workerPorts) port.close();
    await w.run(2 * 1000 + 500 - 100); // two roll calls plus workerTimeout, minus a bit: still waiting
    expect(w.tabCores).toHaveLength(0);
    await w.run(500);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^share\.worker: the worker went silent \(\d+ ms\)/);
    expect(w.tabCores).toHaveLength(1);
    const core = w.tabCores[0]!;
    await w.run(200);
    // the new leader resumes /n after offset 2: nothing lost, nothing twice
    expect(core.subscribes.map((s) => [s.channel, s.options?.from])).toEqual([
      ['/n', { '/n': { offset: 2, epoch: 'e1' } }],
    ]);
    core.deliver('/n', '/n', 2, 2); // a resume may repeat the last one: the tabs drop it
    core.deliver('/n', '/n', 3, 3);
    await w.run(10);
    expect(got.map((g) => g.seen)).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('workerOptions keeps what a worker can take', () => {
    const logger = () => {};
    expect(
      workerOptions({
        url: URL_,
        auth: { token: 't' },
        logger,
        random: Math.random,
        storage: null,
        share: true,
      }),
    ).toEqual({ url: URL_, auth: { token: 't' }, storage: null });
    expect(workerOptions({ url: URL_, fetch: globalThis.fetch })).toBeUndefined();
    expect(workerOptions({ url: URL_, auth: async () => ({ token: 't' }) })).toBeUndefined();
  });
});
