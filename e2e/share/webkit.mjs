#!/usr/bin/env node
import { MINIBROWSER, startDriver } from '../webkit/driver.mjs';
// The core sharing test in WebKit (issue 16). Playwright has no WebKit here, so WebKitGTK's
// MiniBrowser is driven over W3C WebDriver (/usr/bin/WebKitWebDriver under xvfb-run, plain HTTP
// calls, as e2e/webkit/run.mjs does), on the same page and stack as share.spec.ts:
//   1. 6 windows without share on SSE: the server holds 6 sessions (one per window);
//   2. 6 windows with share on SSE: every window gets 1..200 over one session (one handshake);
//   3. closing the leader window mid-stream: the other 5 get 1..300 with no gap or duplicate and
//      the server sees one new handshake;
//   4. where WebKit has SharedWorker, the 5 windows with the worker holder: one session, 1..100 each.
// WebDriver cannot crash a window, freeze it, fake its clock or drive the bfcache, so those cases
// run in Chromium and Firefox only (share.spec.ts). Exits non-zero on any failure.
//
//   node share/webkit.mjs
import { buildShare } from './build.mjs';
import { startShareStack } from './stack.mjs';

const WINDOWS = 6;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The few WebDriver commands the test needs; every command has its own deadline. */
function webdriver(base) {
  let session = '';
  const cmd = async (method, path, body) => {
    const res = await fetch(`${base}${path.replace(':s', session)}`, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const json = await res.json();
    if (!res.ok || json.value?.error)
      throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  };
  return {
    async start() {
      const value = await cmd('POST', '/session', {
        capabilities: {
          alwaysMatch: {
            browserName: 'MiniBrowser',
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          },
        },
      });
      session = value.sessionId;
      await cmd('POST', '/session/:s/timeouts', { script: 30_000, pageLoad: 20_000, implicit: 0 });
      return value.capabilities;
    },
    stop: () => cmd('DELETE', '/session/:s').catch(() => {}),
    current: () => cmd('GET', '/session/:s/window'),
    open: async () => (await cmd('POST', '/session/:s/window/new', { type: 'window' })).handle,
    to: (handle) => cmd('POST', '/session/:s/window', { handle }),
    go: (url) => cmd('POST', '/session/:s/url', { url }),
    run: (script, args = []) => cmd('POST', '/session/:s/execute/sync', { script, args }),
    close: () => cmd('DELETE', '/session/:s/window'),
  };
}

function check(ok, what) {
  if (!ok) throw new Error(`failed: ${what}`);
  console.log(`  ok  ${what}`);
}

/** Every seq 1..n once, in order. */
const gapFree = (seqs, n) => seqs.length === n && seqs.every((s, i) => s === i + 1);

async function main() {
  await buildShare();
  const driver = await startDriver();
  const wd = webdriver(driver.base);
  let stack;
  let failed = false;
  try {
    const caps = await wd.start();
    console.log(`WebKit ${caps.browserVersion ?? ''} over WebDriver, ${WINDOWS} windows`);
    let windows = [await wd.current()];
    for (let i = 1; i < WINDOWS; i++) windows.push(await wd.open());

    const infoOf = async (handle) => {
      await wd.to(handle);
      return wd.run('return window.shareTab ? window.shareTab.info() : null');
    };
    const receivedOf = async (handle) => {
      await wd.to(handle);
      return wd.run('return window.shareTab ? [...window.shareTab.received] : []');
    };
    const waitFor = async (what, predicate, timeout) => {
      const deadline = Date.now() + timeout;
      for (;;) {
        if (await predicate()) return;
        if (Date.now() > deadline) {
          const states = [];
          for (const h of windows) states.push(JSON.stringify(await infoOf(h)));
          throw new Error(`timed out: ${what}\n${states.join('\n')}`);
        }
        await sleep(250);
      }
    };
    // without share the 6th window's subscribe waits for a socket (6 per host, all held by
    // streams): there, connected (handshake and stream) is what is waited for
    const loadAll = async (share, channel, subscribed = true, worker = false) => {
      for (const handle of windows) {
        await wd.to(handle);
        const q = new URLSearchParams({
          url: stack.push,
          transport: 'eventsource',
          share: share ? '1' : '0',
          channel,
        });
        if (worker) q.set('worker', '1');
        await wd.go(`${stack.harness}/share.html?${q}`);
      }
      await waitFor(
        `${windows.length} windows connected${subscribed ? ' and subscribed' : ''}`,
        async () => {
          for (const h of windows) {
            const i = await infoOf(h);
            if (i?.state !== 'connected' || (subscribed && i.subscribed !== 'subscribed')) return false;
          }
          return true;
        },
        30_000,
      );
    };
    const allReceive = (n, handles) =>
      waitFor(
        `every window received ${n}`,
        async () => {
          for (const h of handles) if ((await receivedOf(h)).length < n) return false;
          return true;
        },
        30_000,
      );

    // 1. without share: one session per window
    stack = await startShareStack();
    console.log('without share:');
    await loadAll(false, '/share/webkit-noshare', false);
    const plain = (await stack.ctl('info')).metrics;
    console.log(`  server sessions ${plain.sessions}, proxy ${JSON.stringify(stack.counts)}`);
    check(plain.sessions === WINDOWS, `${WINDOWS} windows hold ${WINDOWS} sessions`);
    await stack.stop();

    // 2. with share: one session for all windows
    stack = await startShareStack();
    console.log('with share:');
    await wd.to(windows[0]);
    const apis = await wd.run(
      'return { locks: !!navigator.locks, broadcastChannel: typeof BroadcastChannel, sharedWorker: typeof SharedWorker }',
    );
    console.log(`  engine APIs ${JSON.stringify(apis)}`);
    await loadAll(true, '/share/webkit-share');
    const infos = [];
    for (const h of windows) infos.push(await infoOf(h));
    console.log(`  holder ${infos[0].sharing?.holder}, tabs ${infos.map((i) => i.sharing?.tabs).join(',')}`);
    check(new Set(infos.map((i) => i.clientId)).size === 1, 'one clientId in every window');
    check(infos.filter((i) => i.sharing?.here).length === 1, 'one window holds the connection');
    check(
      infos.every((i) => i.sharing?.tabs === WINDOWS),
      `every window sees ${WINDOWS} tabs sharing`,
    );
    await stack.ctl('stream', { channel: '/share/webkit-share', count: 200, intervalMs: 5 });
    await allReceive(200, windows);
    for (const h of windows) check(gapFree(await receivedOf(h), 200), `window ${h.slice(0, 8)} got 1..200`);
    const shared = (await stack.ctl('info')).metrics;
    console.log(`  server sessions ${shared.sessions}, proxy ${JSON.stringify(stack.counts)}`);
    check(
      shared.sessions === 1 && stack.counts.handshakes === 1,
      'the server holds one session (one handshake)',
    );

    // 3. the leader window closes mid-stream (a fresh server and channel)
    await stack.stop();
    stack = await startShareStack();
    console.log('closing the leader window mid-stream:');
    await loadAll(true, '/share/webkit-failover');
    const before = [];
    for (const h of windows) before.push(await infoOf(h));
    const leader = windows[before.findIndex((i) => i.sharing?.here)];
    const others = windows.filter((h) => h !== leader);
    await stack.ctl('stream', { channel: '/share/webkit-failover', count: 300, intervalMs: 10 });
    await waitFor('80 messages in a follower', async () => (await receivedOf(others[0])).length > 80, 10_000);
    const handshakesBefore = stack.counts.handshakes;
    await wd.to(leader);
    await wd.close();
    windows = others;
    await allReceive(300, others);
    for (const h of others) {
      const seqs = await receivedOf(h);
      check(gapFree(seqs, 300), `window ${h.slice(0, 8)} got 1..300 (${seqs.length} messages)`);
    }
    const after = [];
    for (const h of others) after.push(await infoOf(h));
    console.log(
      `  handshakes ${handshakesBefore} -> ${stack.counts.handshakes}, proxy ${JSON.stringify(stack.counts)}`,
    );
    check(after.filter((i) => i.sharing?.here).length === 1, 'one of the other windows took over');
    check(handshakesBefore === 1 && stack.counts.handshakes === 2, 'one new handshake, not one per window');

    // 4. the SharedWorker holder (share.worker), where WebKit has SharedWorker
    if (apis.sharedWorker === 'function') {
      await stack.stop();
      stack = await startShareStack();
      console.log('with a SharedWorker holder:');
      await loadAll(true, '/share/webkit-worker', true, true);
      const held = [];
      // (logged: which holder WebKit ended up with)
      for (const h of windows) held.push(await infoOf(h));
      console.log(`  ${JSON.stringify(held.map((i) => [i.sharing?.holder, i.sharing?.tabs, i.state]))}`);
      await wd.to(windows[0]);
      console.log(`  errors ${JSON.stringify(await wd.run('return window.shareTab.errors'))}`);
      check(
        held.every((i) => i.sharing?.holder === 'worker' && i.sharing.tabs === windows.length),
        `the worker holds the connection for ${windows.length} windows`,
      );
      await stack.ctl('stream', { channel: '/share/webkit-worker', count: 100, intervalMs: 5 });
      await allReceive(100, windows);
      for (const h of windows) check(gapFree(await receivedOf(h), 100), `window ${h.slice(0, 8)} got 1..100`);
      const metrics = (await stack.ctl('info')).metrics;
      console.log(`  server sessions ${metrics.sessions}, proxy ${JSON.stringify(stack.counts)}`);
      check(
        metrics.sessions === 1 && stack.counts.handshakes === 1,
        'the server holds one session (one handshake)',
      );
    }
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    await wd.stop();
    driver.stop();
    await stack?.stop();
  }
  process.exit(failed ? 1 : 0);
}

await main();
