// Page lifecycle (issue 16): the wake signals (online, visible again, restored from the
// back/forward cache, resumed after freeze) reconnect promptly but jittered; heartbeats survive a
// hidden tab's throttled timers and a frozen page whose timers fire before its queued network
// events. No sleeps: a page clock runs on the fake clock and throttles or freezes the page's view.
import type { ConnectionType, Message } from '@push/protocol';
import { FakeServer } from '@push/test-kit/bayeux-server';
import { FakeClock, settle } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { createClient } from './index.js';
import { pageSignal } from './lifecycle.js';
import { fakeFactory, fakeOnline, memoryStorage } from './testing/fakes.js';
import type { OnlineSignal, TransportFactory } from './types.js';

/**
 * The page's view of time and network on top of the server's clock. `align`: a hidden tab's
 * throttling (a due timer waits for the next multiple of `align`). `frozen`: nothing of the page
 * runs; on `thaw()` its due timers fire first (late), then the network events queued meanwhile.
 */
function page(base: FakeClock) {
  let seq = 0;
  const live = new Map<number, unknown>();
  const late = new Map<number, () => void>();
  const queued: Array<() => void> = [];
  const arm = (id: number, fn: () => void, ms: number) =>
    live.set(
      id,
      base.setTimeout(() => {
        if (p.frozen) return void late.set(id, fn);
        const off = p.align && base.now() % p.align;
        if (off) return arm(id, fn, p.align - off);
        live.delete(id);
        fn();
      }, ms),
    );
  const gate = (fn: () => void) => (p.frozen ? queued.push(fn) : fn());
  const p = {
    align: 0,
    frozen: false,
    clock: {
      now: () => base.now(),
      setTimeout(fn: () => void, ms: number) {
        arm(++seq, fn, ms);
        return seq;
      },
      clearTimeout(id: unknown) {
        base.clearTimeout(live.get(id as number));
        live.delete(id as number);
        late.delete(id as number);
      },
    },
    /** The factory with its transport events held while the page is frozen. */
    wrap<F extends TransportFactory>(f: F): F {
      return {
        ...f,
        create: (url, events, env) =>
          f.create(
            url,
            {
              open: () => gate(() => events.open()),
              message: (batch) => gate(() => events.message(batch)),
              close: (error) => gate(() => events.close(error)),
            },
            env,
          ),
      };
    },
    async thaw() {
      p.frozen = false;
      for (const [id, fn] of [...late]) {
        late.delete(id);
        live.delete(id);
        fn();
      }
      for (const fn of queued.splice(0)) fn();
      await settle();
    },
  };
  return p;
}

function setup(type: ConnectionType, options: { online?: OnlineSignal; random?: () => number } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const tab = page(clock);
  const factory = fakeFactory(server, type);
  const client = createClient({
    url: 'http://push.test/push',
    transports: [tab.wrap(factory)],
    clock: tab.clock,
    online: options.online ?? fakeOnline(),
    storage: memoryStorage(),
    random: options.random ?? (() => 1),
    attemptTimeout: 1000,
    heartbeatGrace: 500,
    backoff: { base: 100, max: 60_000 },
    upgradeDelay: 0,
  });
  const states: string[] = [];
  client.on('state', (state) => states.push(state));
  const data: unknown[] = [];
  const sub = client.subscribe('/news', (d) => data.push(d));
  const handshakes = () => server.received.filter((m: Message) => m.channel === '/meta/handshake').length;
  return { clock, server, tab, factory, client, states, data, sub, handshakes };
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('pageSignal', () => {
  function browser(onLine = true) {
    const document = Object.assign(new EventTarget(), { hidden: false });
    const win = Object.assign(new EventTarget(), { navigator: { onLine }, document });
    const heard: boolean[] = [];
    const stop = pageSignal(win as never).subscribe((online) => heard.push(online));
    return { win, document, heard, stop };
  }
  const pageshow = (persisted: boolean) => Object.assign(new Event('pageshow'), { persisted });

  it('says true on online, visible again, pageshow from the bfcache and resume; false on offline', () => {
    const b = browser();
    b.win.dispatchEvent(new Event('online'));
    b.document.dispatchEvent(new Event('visibilitychange'));
    b.win.dispatchEvent(pageshow(true));
    b.document.dispatchEvent(new Event('resume'));
    b.win.dispatchEvent(new Event('offline'));
    expect(b.heard).toEqual([true, true, true, true, false]);
  });

  it('is silent when the page is hidden, on a first (not restored) pageshow, and while offline', () => {
    const b = browser();
    b.document.hidden = true;
    b.document.dispatchEvent(new Event('visibilitychange'));
    b.win.dispatchEvent(pageshow(false));
    b.win.navigator.onLine = false;
    b.document.hidden = false;
    b.document.dispatchEvent(new Event('visibilitychange'));
    b.document.dispatchEvent(new Event('resume'));
    expect(b.heard).toEqual([]);
    b.stop();
    b.win.navigator.onLine = true;
    b.win.dispatchEvent(new Event('online'));
    expect(b.heard).toEqual([]); // unsubscribed
  });
});

describe('prompt, jittered reconnect when the page wakes', () => {
  const wakes: Array<[string, (w: EventTarget, d: EventTarget) => void]> = [
    ['online', (w) => w.dispatchEvent(new Event('online'))],
    ['visibilitychange to visible', (_w, d) => d.dispatchEvent(new Event('visibilitychange'))],
    [
      'pageshow from the back/forward cache',
      (w) => w.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true })),
    ],
    ['resume after freeze', (_w, d) => d.dispatchEvent(new Event('resume'))],
  ];
  for (const [name, wake] of wakes) {
    it(`${name}: skips a grown backoff, waiting only random() * backoff.base`, async () => {
      const document = Object.assign(new EventTarget(), { hidden: false });
      const win = Object.assign(new EventTarget(), { navigator: { onLine: true }, document });
      let r = 1;
      const t = setup('websocket', { online: pageSignal(win as never), random: () => r });
      await t.clock.advance(0);
      expect(t.client.state).toBe('connected');
      t.factory.behavior = 'fail-open';
      t.factory.created.at(-1)!.kill();
      for (let i = 0; i < 8; i++) await t.clock.advance(t.clock.pending()[0]!);
      expect(t.clock.pending()[0]).toBeGreaterThan(10_000); // the backoff has grown
      t.factory.behavior = 'ok';
      r = 0.3;
      wake(win, document);
      await t.clock.advance(0);
      expect(t.clock.pending()).toEqual([30]); // 0.3 * base 100
      await t.clock.advance(30);
      expect(t.client.state).toBe('connected');
    });
  }

  it('ten tabs woken together spread their reconnects over the first backoff step', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(clock);
    const online = fakeOnline(false);
    const seeds = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95];
    for (const seed of seeds) {
      createClient({
        url: 'http://push.test/push',
        transports: [fakeFactory(server, 'websocket')],
        clock,
        online,
        storage: memoryStorage(),
        random: () => seed,
        backoff: { base: 1000 },
      });
    }
    await clock.advance(0);
    online.set(true); // the laptop wakes
    const at: number[] = [];
    let seen = 0;
    for (let ms = 0; ms <= 1000; ms += 50) {
      await clock.advance(ms === 0 ? 0 : 50);
      const n = server.received.filter((m: Message) => m.channel === '/meta/handshake').length;
      for (; seen < n; seen++) at.push(clock.now());
    }
    expect(at).toEqual([50, 150, 250, 350, 450, 550, 650, 750, 850, 950]);
  });
});

describe('heartbeats in hidden, throttled and frozen tabs', () => {
  it('a tab hidden for 5 minutes (timers aligned to the minute) keeps its subscription: every message, no reconnect', async () => {
    const t = setup('long-polling');
    await t.clock.advance(0);
    await t.sub.ready;
    t.tab.align = 60_000; // intensive throttling of a hidden tab
    for (let i = 1; i <= 30; i++) {
      t.server.publish('/news', i);
      await t.clock.advance(10_000);
    }
    await t.clock.advance(60_000); // the last throttled connect goes out
    t.tab.align = 0;
    await t.clock.advance(1000);
    expect(t.data).toEqual(numbers(30));
    expect(t.states).toEqual(['connected']); // never left it
    expect(t.sub.state).toBe('subscribed');
    expect(t.handshakes()).toBe(1);
  });

  it('a page frozen for 5 minutes: its late heartbeat waits for the queued answer instead of reconnecting', async () => {
    const t = setup('websocket');
    await t.clock.advance(0);
    await t.sub.ready;
    t.tab.frozen = true;
    for (let i = 1; i <= 30; i++) {
      t.server.publish('/news', i);
      await t.clock.advance(10_000);
    }
    await t.tab.thaw(); // the heartbeat fires 5 minutes late, before the connect reply queued behind it
    await t.clock.advance(5000);
    expect(t.data).toEqual(numbers(30));
    expect(t.states).toEqual(['connected']); // never left it
    expect(t.handshakes()).toBe(1);
  });

  it('data received keeps a link alive past hold + grace; an on-time silence after it still kills', async () => {
    const t = setup('websocket');
    await t.clock.advance(0);
    await t.sub.ready;
    await t.clock.advance(1000); // a held connect came back; the next is in flight
    const socket = t.factory.created.at(-1)!;
    socket.send = async () => {}; // upstream lost: the connect never gets its answer...
    for (let i = 1; i <= 10; i++) {
      t.server.publish('/news', i); // ...but data keeps coming down the socket
      await t.clock.advance(1000);
    }
    expect(t.client.state).toBe('connected'); // 10 s > hold 1000 + grace 500
    expect(t.data).toEqual(numbers(10));
    // Silence, on time: dead hold + grace after the last data (it came 1000 ms ago).
    await t.clock.advance(499);
    expect(t.client.state).toBe('connected');
    await t.clock.advance(1);
    expect(t.client.state).toBe('reconnecting');
  });
});
