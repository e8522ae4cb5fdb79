// The sharing core with fakes: election (Web Locks and heartbeats), relay, reference counting,
// publish/ack routing, events in every tab, and resume without loss or duplicates on leader change.

import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { FakeCore, fakeChannels, fakeLifecycle, fakeLocks } from '../testing/share-fakes.js';
import type { ConnectionState } from '../types.js';
import { createBus } from './bus.js';
import { createElection } from './election.js';
import { createSharedClient, type SharedClient } from './index.js';

const URL_ = 'http://push.test/push';

function world(opts: { locks?: boolean } = {}) {
  const channels = fakeChannels();
  const locks = fakeLocks();
  const clock = new FakeClock();
  const cores: FakeCore[] = [];
  const tabs: Tab[] = [];
  interface Tab {
    name: string;
    client: SharedClient;
    lifecycle: ReturnType<typeof fakeLifecycle>;
    cores: FakeCore[];
    crash(): void;
  }
  function tab(name: string, extra: Record<string, unknown> = {}): Tab {
    const mine: Array<InstanceType<typeof channels.Channel>> = [];
    class TabChannel extends channels.Channel {
      constructor(n: string) {
        super(n);
        mine.push(this);
      }
    }
    const lifecycle = fakeLifecycle();
    const own: FakeCore[] = [];
    const client = createSharedClient(
      {
        url: URL_,
        ...extra,
        share: {
          BroadcastChannel: TabChannel,
          locks: opts.locks === false ? null : locks.forTab(name),
          lifecycle,
          clock,
          gather: 100,
          rollCall: 1000,
          heartbeat: 100,
        },
        random: () => 0.5,
      },
      () => {
        const core = new FakeCore();
        own.push(core);
        cores.push(core);
        return core;
      },
    );
    const t: Tab = {
      name,
      client,
      lifecycle,
      cores: own,
      crash() {
        for (const c of mine) c.close();
        locks.crash(name);
        for (const core of own) core.closed = true; // the page and its connection are gone
      },
    };
    tabs.push(t);
    return t;
  }
  /** The core of the tab that leads now (the last core created by a live leader). */
  const leaderCore = () => cores.filter((c) => !c.closed).at(-1)!;
  return { channels, locks, clock, cores, tabs, tab, leaderCore, run: (ms = 0) => clock.advance(ms) };
}

const received = (client: SharedClient, channel: string) => {
  const seen: unknown[] = [];
  const sub = client.subscribe(channel, (data) => seen.push(data));
  return { seen, sub };
};

describe('election with Web Locks', () => {
  it('elects one leader; the next in the queue leads when it crashes or resigns', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    const c = w.tab('c');
    await w.run(200);
    expect(w.cores).toHaveLength(1);
    expect(a.cores).toHaveLength(1);
    expect(w.locks.holder(`push-share ${URL_}  `)).toBe('a');
    a.crash();
    await w.run(200);
    expect(b.cores).toHaveLength(1);
    expect(c.cores).toHaveLength(0);
    b.lifecycle.fire('hide'); // frozen / bfcache: hands over and closes its connection
    await w.run(200);
    expect(b.cores[0]!.closed).toBe(true);
    expect(c.cores).toHaveLength(1);
    // shown again: b queues for the lock, c keeps leading
    b.lifecycle.fire('show');
    await w.run(200);
    expect(b.cores).toHaveLength(1);
    expect(w.cores.filter((x) => !x.closed)).toHaveLength(1);
  });
});

describe('election with BroadcastChannel heartbeats (no Web Locks)', () => {
  it('elects exactly one leader, and another within a few heartbeats after it crashes', async () => {
    const w = world({ locks: false });
    const tabs = ['a', 'b', 'c', 'd'].map((n) => w.tab(n));
    await w.run(1000);
    expect(w.cores.filter((c) => !c.closed)).toHaveLength(1);
    const first = tabs.find((t) => t.cores.length === 1)!;
    // stable: no second leader over many heartbeats
    await w.run(3000);
    expect(w.cores).toHaveLength(1);
    first.crash();
    await w.run(600); // 3 missed beats + one claim period (+ jitter)
    const alive = w.cores.filter((c) => !c.closed);
    expect(alive).toHaveLength(1);
    await w.run(3000);
    expect(w.cores.filter((c) => !c.closed)).toHaveLength(1);
  });

  const pair = () => {
    const channels = fakeChannels();
    const clock = new FakeClock();
    const leads: string[] = [];
    const make = (tab: string) =>
      createElection({
        name: 'x',
        tab,
        locks: null,
        bus: createBus(channels.Channel, 'x'),
        clock,
        heartbeat: 100,
        random: () => 0,
        onLead: () => leads.push(`+${tab}`),
        onDepose: () => leads.push(`-${tab}`),
      });
    return { channels, clock, leads, make };
  };

  it('simultaneous claims resolve to the smallest id', async () => {
    const { clock, leads, make } = pair();
    const b = make('b');
    const a = make('a');
    b.stand();
    a.stand();
    await clock.advance(2000);
    expect([a.leading, b.leading]).toEqual([true, false]);
    expect(leads).toEqual(['+a']);
    a.close();
    b.close();
  });

  it('a leader that hears a beat from a smaller id (a frozen leader waking up) steps down', async () => {
    const { channels, clock, leads, make } = pair();
    const b = make('b');
    b.stand();
    await clock.advance(1000);
    expect(leads).toEqual(['+b']);
    createBus(channels.Channel, 'x').post({ t: 'beat', tab: 'a' });
    await clock.advance(10);
    expect(b.leading).toBe(false);
    expect(leads).toEqual(['+b', '-b']);
    // the woken leader is gone again: b takes over after three silent periods
    await clock.advance(1000);
    expect(leads).toEqual(['+b', '-b', '+b']);
    b.close();
  });
});

describe('relay and reference counting', () => {
  it('subscribes a channel once on the wire for two tabs; one tab letting go keeps it for the other', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    const core = a.cores[0]!;
    const inA = received(a.client, '/news');
    const inB = received(b.client, '/news');
    await w.run(10);
    await expect(inB.sub.ready).resolves.toBeUndefined();
    expect(core.subscribes.map((s) => s.channel)).toEqual(['/news']);
    core.deliver('/news', '/news', 1, 1);
    await w.run(10);
    expect(inA.seen).toEqual([1]);
    expect(inB.seen).toEqual([1]);
    inA.sub.unsubscribe();
    await w.run(10);
    expect(core.unsubscribes).toEqual([]);
    core.deliver('/news', '/news', 2, 2);
    await w.run(10);
    expect(inA.seen).toEqual([1]);
    expect(inB.seen).toEqual([1, 2]);
    // closing tab b (the last holder) unsubscribes on the wire
    await b.client.close();
    await w.run(10);
    expect(core.unsubscribes).toEqual(['/news']);
  });

  it('a crashed tab is forgotten by the roll call; its channels are unsubscribed', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    received(a.client, '/a');
    received(b.client, '/b');
    await w.run(10);
    const core = a.cores[0]!;
    expect(core.subscribes.map((s) => s.channel).sort()).toEqual(['/a', '/b']);
    b.crash();
    await w.run(3500);
    expect(core.unsubscribes).toEqual(['/b']);
    expect(a.client.sharing?.tabs).toBe(1);
  });

  it('routes each publish ack (and refusal) to the tab that published', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    const core = a.cores[0]!;
    const fromB = b.client.publish('/chat', { text: 'b' });
    const fromA = a.client.publish('/chat', { text: 'a' });
    await w.run(10);
    expect(core.publishes.map((p) => p.data)).toEqual(expect.arrayContaining([{ text: 'b' }, { text: 'a' }]));
    const { PushError } = await import('../errors.js');
    const of = (text: string) => core.publishes.find((p) => (p.data as { text: string }).text === text)!;
    of('b').reject(new PushError('rejected', '/chat refused', '403:/chat:denied'));
    of('a').resolve();
    await expect(fromA).resolves.toBeUndefined();
    const error = await fromB.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect(error).toMatchObject({ code: 'rejected', bayeux: '403:/chat:denied', bayeuxCode: 403 });
  });

  it('shows state, transport and events in every tab', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    const states: Record<string, ConnectionState[]> = { a: [], b: [] };
    a.client.on('state', (s) => states.a!.push(s));
    b.client.on('state', (s) => states.b!.push(s));
    const recovered: unknown[] = [];
    b.client.on('recovered', (e) => recovered.push(e));
    await w.run(200);
    const core = a.cores[0]!;
    core.move('connected', 'eventsource');
    core.emit('recovered', { channel: '/x', recovered: false });
    await w.run(10);
    for (const t of [a, b]) {
      expect(t.client.state).toBe('connected');
      expect(t.client.transport).toBe('eventsource');
      expect(t.client.sharing).toMatchObject({ tabs: 2, holder: 'tab' });
    }
    expect(a.client.sharing?.here).toBe(true);
    expect(b.client.sharing?.here).toBe(false);
    expect(states.b).toEqual(['connected']);
    expect(recovered).toEqual([{ channel: '/x', recovered: false }]);
  });

  it('onSharing reports tabs joining and leaving and the holder moving, in every tab', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    const seen: Array<string | undefined> = [];
    b.client.onSharing((s) => seen.push(s && `${s.tabs} ${s.here ? 'here' : s.leader.split('.')[0]}`));
    await w.run(200);
    const c = w.tab('c');
    await w.run(200);
    const aId = a.client.sharing!.tab;
    expect(b.client.sharing).toMatchObject({ tabs: 3, holder: 'tab', here: false });
    expect(b.client.sharing!.leader.startsWith(`${aId}.`)).toBe(true);
    expect(c.client.sharing!.leader).toBe(b.client.sharing!.leader);
    w.leaderCore().move('connected', 'websocket');
    await w.run(10);
    const transports: unknown[] = [];
    c.client.on('transport', (change) => transports.push(change.transport));
    await a.client.close(); // b is next in the lock queue
    await w.run(300);
    expect(c.client.transport).toBeUndefined(); // b's connection is still opening
    w.leaderCore().move('connected', 'websocket');
    await w.run(10);
    // the new holder's connection is announced again, though on the same transport
    expect(transports).toEqual(['websocket']);
    expect(c.client.transport).toBe('websocket');
    expect(b.client.sharing).toMatchObject({ tabs: 2, here: true });
    expect(c.client.sharing!.leader.startsWith(`${b.client.sharing!.tab}.`)).toBe(true);
    // live counts while a's hub gathers the tabs, then b's own hub counting again
    const moved = seen.indexOf('1 here');
    expect(seen.slice(0, moved)).toEqual([`1 ${aId}`, `2 ${aId}`, `3 ${aId}`]);
    expect(seen.slice(moved)).toEqual(['1 here', '2 here']);
    const stop = b.client.onSharing(() => {
      throw new Error('not stopped');
    });
    stop();
    c.lifecycle.fire('hide');
    await w.run(200);
    expect(b.client.sharing?.tabs).toBe(1);
  });

  it('relays presence: one member per browser, left on the wire when the last tab leaves', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    const core = a.cores[0]!;
    await Promise.all([
      a.client.presence('/room').enter({ n: 'a' }),
      b.client.presence('/room').enter({ n: 'b' }),
    ]);
    expect(core.presenceCalls.map((c) => c.action)).toEqual(['enter', 'enter']);
    await b.client.presence('/room').leave();
    expect(core.presenceCalls.map((c) => c.action)).toEqual(['enter', 'enter']);
    await a.client.presence('/room').leave();
    expect(core.presenceCalls.map((c) => c.action)).toEqual(['enter', 'enter', 'leave']);
  });
});

describe('leader change', () => {
  it('resumes from the smallest last position; every tab sees each message once, in order', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    const c = w.tab('c');
    await w.run(200);
    const inB = received(b.client, '/n');
    const inC = received(c.client, '/n');
    await w.run(10);
    const first = a.cores[0]!;
    for (let i = 1; i <= 5; i++) first.deliver('/n', '/n', i, i);
    await w.run(10);
    // tab c missed 6 (the leader crashed while posting it); b got it
    first.deliver('/n', '/n', 6, 6);
    c.client.subscribe('/other', () => {}); // unrelated traffic from c
    await w.run(10);
    expect(inB.seen).toEqual([1, 2, 3, 4, 5, 6]);
    inC.seen.pop(); // pretend c never received 6 ...
    (c.client as unknown as { sync(): void }).sync; // (positions of c are its delivered ones)
    a.crash();
    await w.run(300);
    const next = w.leaderCore();
    expect(next).not.toBe(first);
    const resumed = next.subscribes.find((s) => s.channel === '/n')!;
    expect(resumed.options?.from?.['/n']).toMatchObject({ epoch: 'e1' });
    // the server replays after the smallest position, then live messages follow
    const from = resumed.options!.from!['/n']!.offset;
    for (let i = from + 1; i <= 9; i++) next.deliver('/n', '/n', i, i);
    await w.run(10);
    expect(inB.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(inC.seen.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(next.subscribes.filter((s) => s.channel === '/n')).toHaveLength(1);
  });

  it('sends a publish the dead leader took to the next one with the same key, and settles it once', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    let settled = 0;
    const inFlight = b.client.publish('/p', 1).then(() => settled++);
    const own = b.client.publish('/p', 'mine', { key: 'order-7' });
    await w.run(10);
    const first = a.cores[0]!.publishes;
    expect(first.map((p) => p.data)).toEqual([1, 'mine']);
    expect(first[1]!.key).toBe('order-7');
    a.crash();
    await w.run(300);
    const next = w.leaderCore();
    const later = b.client.publish('/p', 2);
    await w.run(10);
    expect(next.publishes.map((p) => [p.data, p.key])).toEqual([
      [1, first[0]!.key],
      ['mine', 'order-7'],
      [2, expect.any(String)],
    ]);
    expect(next.publishes[2]!.key).not.toBe(first[0]!.key);
    for (const p of next.publishes) p.resolve();
    await Promise.all([inFlight, own, later]);
    expect(settled).toBe(1);
  });
});

describe('a holder tab being closed', () => {
  it('is not counted by the next holder, though its page still runs for a moment after pagehide', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    received(a.client, '/x');
    received(b.client, '/x');
    await w.run(200);
    expect(b.client.sharing).toMatchObject({ tabs: 2, here: false });
    // pagehide: a hands the lock over and says bye, but its page still hears b's hello and roll call
    a.lifecycle.fire('hide');
    await w.run(300);
    expect(b.client.sharing).toMatchObject({ tabs: 1, here: true });
    await w.run(1500);
    expect(b.client.sharing?.tabs).toBe(1);
    a.crash(); // and now the page is gone
    await w.run(3000);
    expect(b.client.sharing?.tabs).toBe(1);
    expect(w.leaderCore().subscribes.map((s) => s.channel)).toEqual(['/x']);
  });
});

describe('back from the back/forward cache', () => {
  it('a leader that received nothing resumes where its subscription started, and says it reconnected', async () => {
    const w = world();
    const a = w.tab('a');
    const states: ConnectionState[] = [];
    a.client.on('state', (s) => states.push(s));
    await w.run(200);
    const first = a.cores[0]!;
    first.tops.set('/n', { offset: 3, epoch: 'e1' });
    first.move('connected', 'long-polling');
    const inA = received(a.client, '/n');
    await w.run(10);
    expect(inA.sub.state).toBe('subscribed');
    a.lifecycle.fire('hide'); // into the cache: the lock and the connection go
    await w.run(200);
    expect(first.closed).toBe(true);
    // 4 is published now, while the page is in the cache (or before its new holder subscribes)
    a.lifecycle.fire('show');
    await w.run(10);
    const next = w.leaderCore();
    expect(next).not.toBe(first);
    const meanwhile = a.client.state;
    await w.run(200);
    const resumed = next.subscribes.find((s) => s.channel === '/n');
    expect(resumed?.options?.from).toEqual({ '/n': { offset: 3, epoch: 'e1' } });
    next.move('connected', 'long-polling');
    next.deliver('/n', '/n', 4, 4); // the server replays after 3
    await w.run(10);
    expect(inA.seen).toEqual([4]);
    // a new connection, not the one the tab had: not `connected` until it is
    expect(meanwhile).toBe('reconnecting');
    expect(states).toEqual(['connected', 'reconnecting', 'connected']);
  });

  it('a tab that joined a channel and received nothing resumes from where it joined when the holder goes', async () => {
    const w = world();
    const a = w.tab('a');
    const b = w.tab('b');
    await w.run(200);
    const first = a.cores[0]!;
    first.tops.set('/n', { offset: 2, epoch: 'e1' });
    received(a.client, '/n');
    await w.run(10);
    for (let i = 3; i <= 5; i++) first.deliver('/n', '/n', i, i);
    await w.run(10);
    // b joins at 5: the wire subscription is a's, confirmed at 2
    const seenB: unknown[] = [];
    const starts: unknown[] = [];
    const sub = b.client.subscribe('/n', (data) => seenB.push(data), { onReady: (p) => starts.push(p) });
    await sub.ready;
    expect(starts).toEqual([{ '/n': { offset: 5, epoch: 'e1' } }]);
    a.crash();
    await w.run(300);
    const next = w.leaderCore();
    expect(b.cores).toEqual([next]);
    expect(next.subscribes.find((s) => s.channel === '/n')?.options?.from).toEqual({
      '/n': { offset: 5, epoch: 'e1' },
    });
    next.deliver('/n', '/n', 6, 6);
    await w.run(10);
    expect(seenB).toEqual([6]);
  });
});
