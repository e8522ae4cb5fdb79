// biome-ignore-all lint/suspicious/noExplicitAny: page globals
// Issue 16: one connection per browser. 8 tabs of one origin over HTTP/1.1 (SSE, long-polling):
// without `share` the browser's 6-connections-per-host limit stalls the 7th tab; with `share`
// every tab receives every message over one session; closing the leader tab mid-stream keeps a
// numbered stream gap-free and duplicate-free in the other tabs with one new connection.
import { type BrowserContext, expect, type Page, test } from '@playwright/test';
import { startShareStack } from './stack.mjs';

type Stack = Awaited<ReturnType<typeof startShareStack>>;
let stack: Stack;
test.beforeEach(async () => {
  stack = await startShareStack();
});
test.afterEach(async () => {
  await stack.stop();
});

let ids = 0;
const channelFor = (name: string) => `/share/${name}-${Date.now().toString(36)}-${++ids}`;

interface TabQuery {
  transport: string;
  share: boolean;
  channel: string;
  worker?: boolean;
  workerUrl?: string;
  workerTimeout?: number;
  locks?: boolean;
}

/** Loads the sharing test page in `page`. */
async function load(page: Page, q: TabQuery): Promise<Page> {
  const query = new URLSearchParams({
    url: stack.push,
    transport: q.transport,
    share: q.share ? '1' : '0',
    channel: q.channel,
    ...(q.worker ? { worker: '1' } : {}),
    ...(q.workerUrl ? { workerUrl: q.workerUrl } : {}),
    ...(q.workerTimeout ? { workerTimeout: String(q.workerTimeout) } : {}),
    ...(q.locks === false ? { locks: '0' } : {}),
  });
  await page.goto(`${stack.harness}/share.html?${query}`);
  await page.waitForFunction(() => (window as any).__shareReady === true);
  return page;
}

async function openTabs(context: BrowserContext, n: number, q: TabQuery): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) pages.push(await load(await context.newPage(), q));
  return pages;
}

const info = (page: Page) => page.evaluate(() => (window as any).shareTab.info());
const received = (page: Page) => page.evaluate(() => [...(window as any).shareTab.received]);

/** Publishes `seq` on `channel` from `page` (through the shared connection); resolves 'ok' on the ack. */
const publishFrom = (page: Page, channel: string, seq: number) =>
  page.evaluate(([c, value]) => (window as any).shareTab.publish(c, { seq: value }), [channel, seq] as const);

/** The server saw one handshake and holds one session for all the tabs. */
async function expectOneSession(label: string) {
  const server = (await stack.ctl('info')).metrics;
  console.log(`[${label}] sessions ${server.sessions}, proxy ${JSON.stringify(stack.counts)}`);
  expect(stack.counts.handshakes).toBe(1);
  expect(server.sessions).toBe(1);
}

/** Every seq 1..n once, in order. */
function gapFree(seqs: number[], n: number) {
  return seqs.length === n && seqs.every((s, i) => s === i + 1);
}

async function waitAll(pages: Page[], predicate: (i: any) => boolean, timeout: number) {
  await expect
    .poll(async () => (await Promise.all(pages.map(info))).filter(predicate).length, { timeout })
    .toBe(pages.length);
}

/**
 * Streams 1..300 to 4 sharing tabs, has `lose` take the leader away once a follower got 80, then
 * checks the others got 1..300 with no gap or duplicate, one of them leads, and the server saw one
 * new handshake. Returns the leader tab.
 */
async function loseLeaderMidStream(
  pages: Page[],
  channel: string,
  label: string,
  lose: (leader: Page) => Promise<void>,
) {
  await waitAll(pages, (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
  const infos = await Promise.all(pages.map(info));
  const leader = pages[infos.findIndex((i) => i.sharing?.here)]!;
  const others = pages.filter((p) => p !== leader);
  const n = 300;
  await stack.ctl('stream', { channel, count: n, intervalMs: 10 });
  await expect.poll(async () => (await received(others[0]!)).length, { timeout: 10_000 }).toBeGreaterThan(80);
  const handshakesBefore = stack.counts.handshakes;
  await lose(leader);
  await expect
    .poll(async () => (await Promise.all(others.map(received))).filter((s) => s.length >= n).length, {
      timeout: 30_000,
    })
    .toBe(others.length);
  for (const page of others) {
    const seqs = await received(page);
    expect(gapFree(seqs, n), `tab got ${seqs.length}: ${seqs.slice(0, 5)}…`).toBe(true);
  }
  const after = await Promise.all(others.map(info));
  expect(after.filter((i) => i.sharing?.here)).toHaveLength(1);
  console.log(
    `[${label}]: handshakes ${handshakesBefore} -> ${stack.counts.handshakes}; proxy ${JSON.stringify(stack.counts)}`,
  );
  expect(handshakesBefore).toBe(1);
  expect(stack.counts.handshakes).toBe(2);
  return leader;
}

// The stall is proven on SSE, where each tab holds its socket for good. Long-polling tabs free
// their socket on every answer, so without share they starve each other intermittently rather
// than stall cleanly: that case is not asserted (the share tests below cover long-polling).
for (const transport of ['eventsource'] as const) {
  test(`${transport}: without share, the 7th and 8th tabs stall on the 6-connection limit`, async ({
    context,
  }) => {
    const channel = channelFor('noshare');
    const pages = await openTabs(context, 8, { transport, share: false, channel });
    // the first tabs connect and subscribe (five: the sixth tab's stream takes the last socket, so
    // its subscribe POST waits too) ...
    await expect
      .poll(
        async () => (await Promise.all(pages.map(info))).filter((i) => i.subscribed === 'subscribed').length,
        {
          timeout: 20_000,
        },
      )
      .toBeGreaterThanOrEqual(5);
    await stack.ctl('stream', { channel, count: 20, intervalMs: 20 });
    await expect.poll(async () => (await received(pages[0]!)).length, { timeout: 10_000 }).toBe(20);
    await pages[0]!.waitForTimeout(3000);
    const counts = await Promise.all(pages.map(async (p) => (await received(p)).length));
    const states = await Promise.all(pages.map(async (p) => (await info(p)).state));
    console.log(
      `[${transport}] no share: per-tab messages ${counts.join(',')}; states ${states.join(',')}; proxy ${JSON.stringify(stack.counts)}`,
    );
    // ... the rest cannot: the browser holds their requests back
    expect(counts.filter((c) => c === 20).length).toBeGreaterThanOrEqual(5);
    expect(counts.slice(6)).toEqual([0, 0]);
    expect(states.slice(6).filter((s) => s === 'connected')).toEqual([]);
    expect(stack.counts.maxOpen).toBe(6);
  });
}

for (const transport of ['eventsource', 'long-polling'] as const) {
  test(`${transport}: with share, 8 tabs receive every message over one session`, async ({ context }) => {
    const channel = channelFor('share');
    const pages = await openTabs(context, 8, { transport, share: true, channel });
    await waitAll(pages, (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
    const infos = await Promise.all(pages.map(info));
    expect(new Set(infos.map((i) => i.clientId)).size).toBe(1);
    expect(infos.filter((i) => i.sharing?.here)).toHaveLength(1);
    expect(infos.every((i) => i.sharing?.tabs === 8 && i.transport === transport)).toBe(true);
    const n = 200;
    await stack.ctl('stream', { channel, count: n, intervalMs: 5 });
    await expect
      .poll(async () => (await Promise.all(pages.map(received))).filter((s) => s.length >= n).length, {
        timeout: 20_000,
      })
      .toBe(8);
    for (const page of pages) expect(gapFree(await received(page), n)).toBe(true);
    // a publish from a follower tab is acknowledged in that tab
    expect(await publishFrom(pages[7]!, channel, n + 1)).toBe('ok');
    await expect.poll(async () => (await received(pages[0]!)).length).toBe(n + 1);
    await expectOneSession(`${transport} share`);
  });

  test(`${transport}: closing the leader tab mid-stream keeps the stream whole in the others`, async ({
    context,
  }) => {
    const channel = channelFor('failover');
    const pages = await openTabs(context, 4, { transport, share: true, channel });
    await loseLeaderMidStream(pages, channel, `${transport} failover`, (leader) => leader.close());
  });
}

// A leader that dies without a word: no pagehide, no unload, no `bye`. Chromium crashes its renderer
// through CDP (Page.crash), which frees its Web Lock. Playwright drives Firefox over WebDriver BiDi,
// which has no way to crash one tab, so Firefox takes the other road to a silent leader: a hung
// one (its main thread spins forever), on the heartbeat election, whose heartbeats stop. (A hung
// leader keeps a Web Lock for as long as it hangs: with Web Locks only a crash or a close frees it.)
test('eventsource: crashing (Chromium) or hanging (Firefox) the leader mid-stream keeps the stream whole', async ({
  context,
  browserName,
}) => {
  const crash = browserName === 'chromium';
  const channel = channelFor('crash');
  const pages = await openTabs(context, 4, { transport: 'eventsource', share: true, channel, locks: crash });
  const path = crash
    ? 'Web Locks election, renderer crashed via CDP Page.crash'
    : 'heartbeat election, leader hung';
  const leader = await loseLeaderMidStream(pages, channel, `${browserName}, ${path}`, async (tab) => {
    if (crash) {
      const cdp = await context.newCDPSession(tab);
      const crashed = tab.waitForEvent('crash');
      void cdp.send('Page.crash').catch(() => {}); // the session dies with the page
      await crashed;
    } else {
      await tab.evaluate(() => {
        setTimeout(() => {
          for (;;);
        }, 0);
      });
    }
  });
  if (!crash) await leader.close({ runBeforeUnload: false });
});

// The SharedWorker holder (`share: { worker }`): the tabs' hub runs in one SharedWorker, so no tab
// holds the connection and closing any tab leaves the connection where it is.
for (const transport of ['eventsource', 'long-polling'] as const) {
  test(`${transport}: with a SharedWorker holder, 4 tabs share one session and a closed tab disturbs none`, async ({
    context,
  }) => {
    const channel = channelFor('worker');
    const pages = await openTabs(context, 4, { transport, share: true, channel, worker: true });
    await waitAll(pages, (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
    const infos = await Promise.all(pages.map(info));
    expect(new Set(infos.map((i) => i.clientId)).size).toBe(1);
    expect(new Set(infos.map((i) => i.sharing?.leader)).size).toBe(1);
    for (const i of infos) {
      expect(i.sharing).toMatchObject({ tabs: 4, holder: 'worker', here: false });
      expect(i.sharing.leader).toMatch(/^worker\./);
      expect(i.transport).toBe(transport);
    }
    const n = 300;
    await stack.ctl('stream', { channel, count: n, intervalMs: 10 });
    await expect
      .poll(async () => (await received(pages[1]!)).length, { timeout: 10_000 })
      .toBeGreaterThan(80);
    await pages[0]!.close(); // the tab that opened the worker first
    const others = pages.slice(1);
    await expect
      .poll(async () => (await Promise.all(others.map(received))).filter((s) => s.length >= n).length, {
        timeout: 30_000,
      })
      .toBe(others.length);
    for (const page of others) {
      const seqs = await received(page);
      expect(gapFree(seqs, n), `tab got ${seqs.length}: ${seqs.slice(0, 5)}…`).toBe(true);
    }
    const after = await Promise.all(others.map(info));
    for (const i of after) {
      expect(i.sharing).toMatchObject({ tabs: 3, holder: 'worker', leader: infos[0].sharing.leader });
      expect(i.state).toBe('connected');
      expect(i.clientId).toBe(infos[0].clientId);
    }
    // no tab saw a reconnect: the connection never moved
    for (const page of others)
      expect(await page.evaluate(() => (window as any).shareTab.states)).not.toContain('reconnecting');
    expect(await publishFrom(others[2]!, channel, n + 1)).toBe('ok');
    await expect.poll(async () => (await received(others[0]!)).length).toBe(n + 1);
    await expectOneSession(`${transport} worker`);
  });
}

// The worker script is not there (a 404): each tab hears `error` on its SharedWorker, says why on
// the client's `error` event and joins the leader-tab election; the tabs still share one session.
// The first tab always hears it. A later tab may not: Chromium joins a SharedWorker constructed
// while the same worker is failing to that worker and does not always fire `error` at it (3 of 20
// runs on a loaded machine, also with each tab opened only after the one before had heard its
// error). That tab falls back on the answer timeout instead ("never answered"), to the same
// election, which the rest of the test checks.
test('eventsource: a SharedWorker script that 404s falls back to the election with one session', async ({
  context,
}) => {
  const channel = channelFor('worker404');
  const pages = await openTabs(context, 3, {
    transport: 'eventsource',
    share: true,
    channel,
    worker: true,
    workerUrl: '/.build/no-such-worker.js',
    // The case is the error event. On a loaded machine Chromium fired it after the default 5 s
    // answer timeout (clean-clone run: "never answered (5002 ms)"), which ends in the same election.
    workerTimeout: 15_000,
  });
  await waitAll(pages, (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
  const infos = await Promise.all(pages.map(info));
  expect(infos.map((i) => i.sharing?.holder)).toEqual(['tab', 'tab', 'tab']);
  expect(infos.filter((i) => i.sharing?.here)).toHaveLength(1);
  const errors: string[][] = await Promise.all(
    pages.map((page) => page.evaluate(() => (window as any).shareTab.errors)),
  );
  expect(errors[0]).toEqual([
    'connection-lost: share.worker: the worker failed to load or start (error event); the tabs elect a leader instead',
  ]);
  for (const said of errors.slice(1)) {
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^connection-lost: share\.worker: the worker (failed to load or start \(error event\)|never answered \(\d+ ms\)); the tabs elect a leader instead$/,
    );
  }
  const n = 100;
  await stack.ctl('stream', { channel, count: n, intervalMs: 5 });
  await expect
    .poll(async () => (await Promise.all(pages.map(received))).filter((s) => s.length >= n).length, {
      timeout: 20_000,
    })
    .toBe(pages.length);
  for (const page of pages) expect(gapFree(await received(page), n)).toBe(true);
  await expectOneSession('worker 404');
});

// Page lifecycle, shared or not. A tab hidden for 5 minutes: Playwright's fake clock, advanced a
// minute at a time (what intensive background throttling does to timers: they fire late, in a
// batch) while the server keeps its real pace. The tab must neither reconnect nor lose its
// subscription, and still receive at once.
for (const share of [false, true]) {
  test(`long-polling${share ? ' shared' : ''}: a tab hidden for 5 minutes (fake clock) keeps its subscription`, async ({
    page,
  }) => {
    await page.clock.install();
    const channel = channelFor('hidden');
    const tab = await load(page, { transport: 'long-polling', share, channel });
    await waitAll([tab], (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
    const before = await info(tab);
    await tab.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    for (let minute = 0; minute < 5; minute++) {
      await tab.clock.fastForward('01:00');
      await tab.waitForTimeout(1500); // real time for the server's answers in between
    }
    const after = await info(tab);
    const states: string[] = await tab.evaluate(() => (window as any).shareTab.states);
    console.log(
      `[hidden 5 min${share ? ', shared' : ''}] states ${states.join(',')}; proxy ${JSON.stringify(stack.counts)}`,
    );
    expect(after).toMatchObject({ state: 'connected', subscribed: 'subscribed', clientId: before.clientId });
    expect(states).not.toContain('reconnecting');
    expect(stack.counts.handshakes).toBe(1);
    await stack.ctl('stream', { channel, count: 5, intervalMs: 5 });
    await expect.poll(async () => (await received(tab)).length, { timeout: 2000 }).toBe(5);
  });
}

// Back/forward cache: navigate away and back. Whether the engine kept the page is read from the
// page itself (`pageshow` with `persisted`). Where it did not (the engine refused the page: its
// reasons are logged where the engine tells them), the restore is replayed on the page with the
// lifecycle events a bfcache round trip fires (pagehide then pageshow, both `persisted: true`),
// and the log says which path ran.
for (const share of [false, true]) {
  test(`long-polling${share ? ' shared' : ''}: back from the back/forward cache (or its event replay), receives within 2 s`, async ({
    page,
    browserName,
  }) => {
    const channel = channelFor('bfcache');
    const tab = await load(page, { transport: 'long-polling', share, channel });
    await waitAll([tab], (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
    await tab.evaluate(() => {
      (window as any).__marker = 'same document';
    });
    await tab.goto(`${stack.harness}/share.html?away=1`);
    await tab.waitForTimeout(500);
    // a page restored from the bfcache fires no load event: wait for the commit only
    await tab.goBack({ waitUntil: 'commit' });
    await tab.waitForFunction(() => (window as any).__shareReady === true);
    const back = await tab.evaluate(() => ({
      marker: (window as any).__marker,
      shows: [...(window as any).shareTab.shows],
      // Chromium says why a page was not restored; Firefox has no such API
      notRestored: (performance.getEntriesByType('navigation')[0] as any)?.notRestoredReasons?.reasons?.map(
        (r: { reason: string }) => r.reason,
      ),
    }));
    const restored = back.marker === 'same document' && back.shows.at(-1) === true;
    console.log(
      `[${browserName}${share ? ' shared' : ''}] bfcache: ${restored ? 'restored (pageshow persisted)' : `not kept, page loaded anew; reasons ${JSON.stringify(back.notRestored ?? 'not given')}; replaying pagehide/pageshow persisted`}`,
    );
    if (!restored) expect(back.shows).toEqual([false]); // loaded anew, not a restore in disguise
    await waitAll([tab], (i) => i.subscribed === 'subscribed' && i.state === 'connected', 20_000);
    const publish = (seq: number) => stack.ctl('publish', { channel, data: { seq } });
    const base = (await received(tab)).length;
    await publish(base + 1); // a position to resume from
    await expect.poll(async () => (await received(tab)).length).toBe(base + 1);
    let shown = Date.now();
    if (!restored) {
      await tab.evaluate(() => dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
      await publish(base + 2); // while the page is "in the cache"
      await tab.waitForTimeout(300);
      shown = Date.now();
      await tab.evaluate(() => dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true })));
    }
    await publish(base + 3);
    const want = restored ? [base + 1, base + 3] : [base + 1, base + 2, base + 3];
    await expect
      .poll(async () => (await received(tab)).slice(base), { timeout: 2000, intervals: [50] })
      .toEqual(want);
    console.log(
      `[${browserName}${share ? ' shared' : ''}] all received ${Date.now() - shown} ms after pageshow`,
    );
  });
}
