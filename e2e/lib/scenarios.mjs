// The scenario matrix and its assertions, shared by both runners:
//   - Playwright (tests/matrix.spec.ts) for Chromium and Firefox
//   - the WebDriver runner (webkit/run.mjs) for WebKitGTK
// Each case names an in-page scenario (src/pages/*.ts, `window.e2e.run(name, params)`), where
// its page is loaded from (direct harness, restartable harness, or a fault-injecting proxy), and
// a `check(result)` that throws on failure and returns the metrics to report.
// `executeCase(driver, kase, stackInfo)` runs a case through a driver, the only part that differs
// between the runners.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { startProxy } from './proxy.mjs';
import { outboxCases } from './scenarios-outbox.mjs';
import { endpointsFor } from './stack.mjs';

export const TRANSPORTS = ['websocket', 'eventsource', 'long-polling', 'iframe'];

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

/** Asserts `seqs` is exactly 1..count, naming the first gap, duplicate or reordering. */
export function assertExactSequence(seqs, count, what = 'sequence') {
  assert.ok(Array.isArray(seqs), `${what}: no sequence recorded`);
  const seen = new Set();
  const dups = [];
  for (const s of seqs) {
    if (seen.has(s)) dups.push(s);
    seen.add(s);
  }
  const missing = range(count).filter((n) => !seen.has(n));
  let firstOutOfOrder = null;
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] <= seqs[i - 1]) {
      firstOutOfOrder = { index: i, prev: seqs[i - 1], value: seqs[i] };
      break;
    }
  }
  assert.ok(
    dups.length === 0 && missing.length === 0 && firstOutOfOrder === null && seqs.length === count,
    `${what}: expected 1..${count} once each in order; got ${seqs.length} messages, ` +
      `${dups.length} duplicates ${JSON.stringify(dups.slice(0, 10))}, ` +
      `${missing.length} missing ${JSON.stringify(missing.slice(0, 10))}, ` +
      `first out of order ${JSON.stringify(firstOutOfOrder)}`,
  );
}

function noError(r) {
  assert.ok(r && typeof r === 'object', `no result object: ${JSON.stringify(r)}`);
  if (r.error === undefined) return;
  const { seqs, ...rest } = r;
  const seqInfo = Array.isArray(seqs)
    ? ` [seqs: ${seqs.length} received, first ${seqs[0]}, last ${seqs[seqs.length - 1]}]`
    : '';
  assert.equal(
    r.error,
    undefined,
    `scenario failed in page: ${r.error}${seqInfo}\nresult: ${JSON.stringify(rest).slice(0, 1500)}`,
  );
}

const namesOf = (members) =>
  Array.isArray(members)
    ? members
        .map((m) => m?.data?.name)
        .filter(Boolean)
        .sort()
    : members;
const mentions = (events, name) => JSON.stringify(events ?? []).includes(`"name":"${name}"`);

/** Per-transport scenarios (run for every browser x transport, with `transports: [t]`). */
const perTransport = [
  {
    scenario: 'connect',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.state, 'connected');
      assert.equal(r.transport, transport, 'client.transport');
      assert.deepEqual(r.fallbacks, [], 'no fallback when one transport is forced and works');
      assert.equal(r.closeError, null, 'client.close() resolves');
      assert.equal(r.stateAfterClose, 'closed');
      if (r.server === undefined) return { connectMs: r.connectMs };
      // The server's own view (push.metrics() locally, GET {path}/metrics on a deployment), taken
      // while this client was connected: it counts at least one live session on this transport.
      assert.ok(!r.server.error, `server metrics: ${r.server.error}`);
      const counts = r.server.connections ?? {};
      assert.ok(
        counts[transport] >= 1,
        `server counts no live session on ${transport}: ${JSON.stringify(counts)}`,
      );
      return { connectMs: r.connectMs, serverConnections: counts };
    },
  },
  {
    scenario: 'subscribe-plain',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.transport, transport, 'client.transport');
      assert.equal(r.subStateReady, 'subscribed', 'sub.state after ready');
      const ch = r.subChannel;
      assert.match(ch, /^\/e2e\/[^/]+\/plain$/);
      assert.deepEqual(
        r.received,
        [1, 2, 3].map((n) => ({ channel: ch, data: { n, text: `plain ${n}` } })),
        'messages on the plain channel, in order, once each',
      );
      return {};
    },
  },
  {
    scenario: 'subscribe-wildcard',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.transport, transport, 'client.transport');
      const b = r.base;
      assert.deepEqual(
        r.one,
        [
          { channel: `${b}/w/a`, n: 1 },
          { channel: `${b}/w/b`, n: 6 },
        ],
        '/w/* gets exactly one-segment children',
      );
      assert.deepEqual(
        r.deep,
        [
          { channel: `${b}/d/x`, n: 4 },
          { channel: `${b}/d/x/y/z`, n: 5 },
          { channel: `${b}/d/end`, n: 8 },
        ],
        '/d/** gets every descendant',
      );
      return {};
    },
  },
  {
    scenario: 'publish-ack',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.transport, transport, 'client.transport');
      assert.deepEqual(r.atB, [{ text: 'hi', from: 'a' }], 'the other client got the publish once');
      assert.deepEqual(r.atA, [{ text: 'hi', from: 'a' }], 'the publisher (also subscribed) got it once');
      assert.equal(r.forbiddenPublish, 'rejected', 'publish to /meta/* must reject');
      return { ackMs: r.ackMs };
    },
  },
  {
    scenario: 'unsubscribe',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.transport, transport, 'client.transport');
      assert.equal(r.subStateAfter, 'unsubscribed');
      assert.deepEqual(r.received, [1], 'nothing delivered after unsubscribe()');
      assert.deepEqual(r.marks, [1]);
      return {};
    },
  },
  {
    scenario: 'presence',
    kind: 'presence',
    check(r, { transport }) {
      noError(r.a);
      noError(r.b);
      assert.equal(r.a.transport, transport, 'page A client.transport');
      assert.equal(r.b.transport, transport, 'page B client.transport');
      assert.deepEqual(namesOf(r.a.membersAtEnter), ['A'], 'A alone after entering');
      assert.deepEqual(namesOf(r.b.membersWithB), ['A', 'B'], 'B sees A and B');
      assert.ok(mentions(r.a.joins, 'B'), `A saw B join: ${JSON.stringify(r.a.joins)}`);
      assert.ok(mentions(r.a.leaves, 'B'), `A saw B leave: ${JSON.stringify(r.a.leaves)}`);
      assert.deepEqual(namesOf(r.a.membersAfterLeave), ['A'], 'members after B left');
      return {};
    },
  },
  {
    scenario: 'disconnect-resume',
    local: 'server-initiated disconnect through the test harness',
    params: { count: 300 },
    timeoutMs: 45000,
    check(r, { transport }) {
      noError(r);
      assert.equal(r.transport, transport, 'client.transport after resume');
      assert.ok(
        r.disconnectReply?.ok && r.disconnectReply.sockets >= 1,
        `the server dropped the client's connections: ${JSON.stringify(r.disconnectReply)}`,
      );
      assert.ok(r.seqAtDisconnect < r.count, 'the disconnect happened mid-stream');
      assertExactSequence(r.seqs, r.count, 'seq across a server-initiated disconnect');
      return {
        disconnectVia: r.disconnectReply?.via,
        droppedSockets: r.disconnectReply.sockets,
        seqAtDisconnect: r.seqAtDisconnect,
        stateDrops: r.drops,
      };
    },
  },
  {
    scenario: 'first-message',
    params: { reps: 5 },
    check(r, { transport }) {
      noError(r);
      assert.equal(r.times.length, 5, 'five measured connections');
      assert.deepEqual(r.transports, Array(5).fill(transport), 'every rep on the forced transport');
      return { firstMessageMedianMs: r.medianMs, firstMessageTimes: r.times };
    },
  },
  {
    scenario: 'random-cuts',
    via: 'cut',
    local: 'fault-injecting proxy',
    randomized: true,
    // Faults for 6 s from the stream's start: long enough that a transport whose dead stream is
    // only found by its idle timeout (a cut forever-iframe in Chromium fires no event; 2.5 s in
    // these pages) reconnects, and is cut again, inside the window.
    params: { count: 1000, waitMs: 40000, faultMs: 6000 },
    timeoutMs: 60000,
    check(r, { transport }) {
      noError(r);
      // The proxy keeps cutting after the stream, so the client may be between connections now:
      // check every connection it made was on the forced transport.
      const used = (r.transportsUsed ?? []).map((c) => c?.transport);
      assert.ok(
        used.length >= 1 && used.every((t) => t === transport),
        `connections made over ${JSON.stringify(used)}`,
      );
      assertExactSequence(r.seqs, r.count, '1,000 messages through random cuts');
      assert.ok(
        r.proxy?.cuts >= 1,
        `the proxy cut connections during the fault window: ${JSON.stringify(r.proxy)}`,
      );
      return { streamMs: r.streamMs, cuts: r.proxy.cuts, drops: r.drops, seed: r.proxy.seed };
    },
  },
  {
    scenario: 'server-restart',
    via: 'restartable',
    local: 'restarts the server process',
    params: { count: 200, waitMs: 25000 },
    timeoutMs: 45000,
    check(r, { transport }) {
      noError(r);
      assert.equal(r.restart?.phase, 'done', `restart stream finished: ${JSON.stringify(r.restart)}`);
      assert.notEqual(r.restart.pidAfter, r.restart.pidBefore, 'the server process was replaced');
      assert.equal(r.transport, transport, 'client.transport');
      assertExactSequence(r.seqs, r.count, 'seq across a server restart');
      assert.ok(r.drops >= 1, 'client noticed the restart');
      return { restartMs: r.restart.restartMs };
    },
  },
  {
    scenario: 'react',
    page: 'react.html',
    check(r, { transport }) {
      noError(r);
      assert.equal(r.state, 'connected', 'usePush().state');
      assert.equal(r.state2, 'connected', 'useConnectionState()');
      assert.equal(r.transport, transport, 'usePush().transport');
      assert.deepEqual(
        r.feed,
        ['server 1', 'server 2', 'server 3', 'from react'],
        'useChannel handler saw every message once',
      );
      assert.equal(r.latest, 'from react', 'useChannel().data is the latest message');
      assert.equal(r.ack, 'acked', 'publish through usePush().client acknowledged');
      assert.equal(r.domAfterUnmount, '', 'unmounted cleanly');
      return {};
    },
  },
  ...durabilityCases(),
];

/**
 * Durability in the browser (issue 14), against the harness's tight server (`/push-tight`: held
 * connects answered after 1 s, sessions expire 3 s after their client's last request, 10 messages
 * of history per channel), each through the case's own proxy, which turns into a blackhole: the
 * client's connections vanish without a FIN, as when a tab is killed or the network goes away.
 */
function durabilityCases() {
  const tight = {
    ownProxy: 'direct',
    pushPath: '/push-tight',
    server: 'tight',
    local: "its own proxy (blackhole) and the harness's tight server",
  };
  const sizes = { before: 5, lost: 30, after: 10 };
  return [
    { ...tight, scenario: 'presence-abrupt', kind: 'presence-abrupt', check: checkPresenceAbrupt },
    {
      ...tight,
      scenario: 'recovered-false',
      params: sizes,
      check: (r, ctx) => checkRecoveredFalse(r, ctx, sizes),
    },
  ];
}

/** How late the server's timers (held connect, sweep) may fire on a loaded machine: never early. */
const TIMER_SLACK_MS = 250;

/**
 * Time the server may take to tell the others once the session ended (the presence leave is
 * published through the broker and delivered on the watcher's open connection), and for timers
 * under load.
 */
const LEAVE_SLACK_MS = 1000;

/**
 * `presence-abrupt`: A vanished (blackhole) at `droppedAt`; B must see A leave within the server's
 * bound: the held connect is answered `timeout` after it came, the session expires `sessionTimeout`
 * after that, found by the sweep that runs every `min(sessionTimeout / 4, 5 s)`.
 */
function checkPresenceAbrupt(r, { transport }) {
  noError(r.a);
  noError(r.b);
  assert.equal(r.a.transport, transport, 'page A client.transport');
  assert.equal(r.b.transport, transport, 'page B client.transport');
  assert.deepEqual(namesOf(r.a.membersAtEnter), ['A'], 'A alone after entering');
  assert.deepEqual(namesOf(r.b.membersWithA), ['A', 'B'], 'B sees A and B before the drop');
  const { timeout, sessionTimeout } = r.b.bounds ?? {};
  assert.ok(timeout > 0 && sessionTimeout > 0, `the tight server's bounds: ${JSON.stringify(r.b.bounds)}`);
  const boundMs = timeout + sessionTimeout + Math.min(sessionTimeout / 4, 5000);
  const leavesOfA = (r.b.leaves ?? []).filter((l) => l.member?.data?.name === 'A');
  assert.equal(leavesOfA.length, 1, `B saw A leave once: ${JSON.stringify(r.b.leaves)}`);
  // The server's own view: A's session ended by expiry, so neither a FIN nor a goodbye reached it.
  const end = (r.b.serverEvents ?? []).find((e) => e.event === 'disconnect');
  assert.equal(
    end?.detail,
    'expired',
    `how the server ended A's session: ${JSON.stringify(r.b.serverEvents)}`,
  );
  assert.ok(end.t >= r.droppedAt, "A's session ended after the drop, not before");
  const serverEndMs = end.t - r.droppedAt;
  const leaveMs = r.b.leftAt - r.droppedAt;
  assert.ok(
    serverEndMs <= boundMs + TIMER_SLACK_MS,
    `the server ended A's session ${serverEndMs} ms after the drop; bound ${boundMs} ms ` +
      `(timeout ${timeout} + sessionTimeout ${sessionTimeout} + one sweep) + ${TIMER_SLACK_MS} ms timer lateness`,
  );
  assert.ok(
    leaveMs <= boundMs + LEAVE_SLACK_MS,
    `B saw A leave ${leaveMs} ms after the drop; bound ${boundMs} ms + ${LEAVE_SLACK_MS} ms to tell B`,
  );
  assert.deepEqual(namesOf(r.b.membersAfterLeave), ['B'], 'members after A vanished');
  return { leaveMs, serverEndMs, boundMs, blackholed: r.proxy?.blackholed };
}

/**
 * `recovered-false`: `before` delivered, `lost` published during the cut (more than the history
 * window), `after` once the network is back. The app gets one `recovered: false` before anything
 * after the gap, then exactly the messages after it, in order; nothing from the lost range (the
 * server replays nothing it cannot replay whole), and the server expired the old session and
 * counts the client's new one.
 */
function checkRecoveredFalse(r, { transport }, { before, lost, after }) {
  noError(r);
  assert.equal(r.transportBefore, transport, 'client.transport before the cut');
  assert.equal(r.transport, transport, 'client.transport after the cut');
  assert.ok(
    lost > r.bounds?.historyMaxCount,
    `more published during the cut (${lost}) than the history window holds: ${JSON.stringify(r.bounds)}`,
  );
  const fromLostRange = (r.seqs ?? []).filter((s) => s > before && s <= before + lost);
  assert.deepEqual(fromLostRange, [], 'nothing delivered from inside the lost range');
  assert.deepEqual(
    r.seqs,
    [...range(before), ...range(after).map((n) => before + lost + n)],
    'delivered: the messages before the cut, then those after the gap, once each, in order',
  );
  const events = (r.recoveries ?? []).map(({ channel, recovered }) => ({ channel, recovered }));
  assert.equal(events.length, 1, `one recovered event: ${JSON.stringify(r.recoveries)}`);
  assert.equal(events[0].recovered, false, 'recovered: false');
  assert.match(events[0].channel, /^\/e2e\/[^/]+\/window$/, 'on the subscribed channel');
  assert.equal(r.recoveries[0].seqsBefore, before, 'the app is told before any message after the gap');
  // The server's view: the old session expired during the cut, the client came back as a new one.
  assert.equal(r.serverEnd?.detail, 'expired', `the old session's end: ${JSON.stringify(r.serverEnd)}`);
  assert.ok(r.clientIdAfter && r.clientIdAfter !== r.clientIdBefore, 'a new session after the cut');
  const again = (r.serverEvents ?? []).find((e) => e.event === 'handshake' && e.clientId === r.clientIdAfter);
  assert.ok(
    again && again.t >= r.serverEnd.t,
    `the server saw the new handshake: ${JSON.stringify(r.serverEvents)}`,
  );
  const counts = r.serverAfter?.connections ?? {};
  assert.ok(counts[transport] >= 1, `the server counts a session on ${transport}: ${JSON.stringify(counts)}`);
  return {
    sessionEndAfterCutMs: r.serverEnd.afterCutMs,
    recoveredMs: r.recoveredMs,
    blackholed: r.proxyDuringCut?.blackholed,
  };
}

function checkFallback(r, expect) {
  assert.ok(Array.isArray(r.reps) && r.reps.length > 0, 'reps ran');
  const times = [];
  r.reps.forEach((rep, i) => {
    noError(rep);
    assert.equal(rep.firstTransport, expect.to, `rep ${i + 1}: first message arrived over`);
    const steps = (rep.fallbacks ?? []).map((f) => `${f.from}->${f.to}`);
    for (const step of expect.steps)
      assert.ok(
        steps.includes(step),
        `rep ${i + 1}: fallbacks ${JSON.stringify(rep.fallbacks)} include ${step}`,
      );
    if (expect.maxMs)
      assert.ok(
        rep.fallbackMs <= expect.maxMs,
        `rep ${i + 1}: fell back in ${rep.fallbackMs} ms, limit ${expect.maxMs} ms`,
      );
    times.push(rep.fallbackMs);
  });
  const sorted = [...times].sort((a, b) => a - b);
  return {
    fallbackMedianMs: sorted[Math.floor(sorted.length / 2)],
    fallbackTimes: times,
    reasons: r.reps.map((x) => (x.fallbacks ?? []).map((f) => f.reason)),
  };
}

/** Hostile-network scenarios with the client's default transport order. */
const hostile = [
  {
    scenario: 'ws-refused',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 3,
    via: 'refuse-ws',
    check: (r) => checkFallback(r, { to: 'eventsource', steps: ['websocket->eventsource'] }),
  },
  {
    scenario: 'ws-silent',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 3,
    via: 'silent-ws',
    timeoutMs: 60000,
    // The client's per-step deadline is 2.5 s by default; allow the next transport 3 s on top.
    check: (r) => checkFallback(r, { to: 'eventsource', steps: ['websocket->eventsource'], maxMs: 5500 }),
  },
  {
    scenario: 'buffering-proxy',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 1,
    via: 'buffer',
    timeoutMs: 60000,
    check: (r) => checkFallback(r, { to: 'long-polling', steps: ['eventsource->long-polling'] }),
  },
  {
    scenario: 'buffering-proxy',
    transport: 'iframe,long-polling',
    transports: ['iframe', 'long-polling'],
    run: 'fallback',
    kind: 'reps',
    reps: 1,
    via: 'buffer',
    timeoutMs: 60000,
    check: (r) => checkFallback(r, { to: 'long-polling', steps: ['iframe->long-polling'] }),
  },
  // The same negotiations with the network faults emulated inside the page (the client gets a
  // WebSocket or fetch that misbehaves), so they also run against a deployment.
  {
    scenario: 'block-ws-refused',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 3,
    params: { block: 'ws-refused' },
    check: (r) => checkFallback(r, { to: 'eventsource', steps: ['websocket->eventsource'] }),
  },
  {
    scenario: 'block-ws-silent',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 1,
    params: { block: 'ws-silent' },
    check: (r) => checkFallback(r, { to: 'eventsource', steps: ['websocket->eventsource'], maxMs: 5500 }),
  },
  {
    scenario: 'block-buffering',
    transport: 'default',
    run: 'fallback',
    kind: 'reps',
    reps: 1,
    params: { block: 'buffering' },
    timeoutMs: 60000,
    check: (r) => checkFallback(r, { to: 'long-polling', steps: ['eventsource->long-polling'] }),
  },
];

/**
 * Checks a mid-stream switch (issue 14): every seq once, in order; the client's transport events
 * show from -> to after the switch; what reached the server changed too: the case's proxy forwarded
 * the new transport's connections after the switch, and the server counts a session on it.
 */
function checkSwitch(r, { from, to }) {
  noError(r);
  assertExactSequence(r.seqs, r.count, `seq across ${from} -> ${to}`);
  assert.equal(r.transportBefore, from, 'client.transport before the switch');
  assert.equal(r.transport, to, 'client.transport at the end');
  // The client's transport events: one onto `to` after one onto `from` (an event after a
  // reconnect names the transport it landed on and the reason, e.g. fallback).
  const used = (r.transportsUsed ?? []).map((c) => c?.transport);
  assert.ok(
    used.indexOf(from) >= 0 && used.lastIndexOf(to) > used.indexOf(from),
    `transport events ${from} then ${to}: ${JSON.stringify(r.transportsUsed)}`,
  );
  assert.ok(r.seqAtSwitch < r.count, `the switch happened mid-stream (at ${r.seqAtSwitch} of ${r.count})`);
  const kind = { websocket: 'websockets', eventsource: 'eventStreams', 'long-polling': 'posts' }[to];
  const wire = (r.wireAfter?.[kind] ?? 0) - (r.wireAtSwitch?.[kind] ?? 0);
  assert.ok(wire >= 1, `the server got ${to} connections after the switch: ${JSON.stringify(r.wireAfter)}`);
  const counts = r.serverAfter?.connections ?? {};
  assert.ok(counts[to] >= 1, `the server counts a session on ${to}: ${JSON.stringify(counts)}`);
  return {
    seqAtSwitch: r.seqAtSwitch,
    switchedAtMs: r.switchedAt,
    drops: r.drops,
    serverConnectionsAfter: counts,
    wireAfterSwitch: Object.fromEntries(
      Object.entries(r.wireAfter ?? {}).map(([k, v]) => [k, v - (r.wireAtSwitch?.[k] ?? 0)]),
    ),
  };
}

/**
 * Mid-stream transport switches in the browser (issue 14), each through its own proxy (page and
 * push endpoint on the proxy's origin, driven by the page at /__proxy/*): a numbered stream at
 * 50 msg/s flows while the network under the client changes.
 */
const switches = [
  {
    scenario: 'switch-upgrade',
    transport: 'websocket,long-polling',
    transports: ['websocket', 'long-polling'],
    params: {
      initialMode: 'refuse-ws',
      switchMode: 'pass',
      from: 'long-polling',
      to: 'websocket',
      upgradeDelay: 1000,
    },
  },
  {
    scenario: 'switch-ws-dies',
    transport: 'default',
    params: { initialMode: 'pass', switchMode: 'silent-ws', from: 'websocket', to: 'eventsource' },
  },
  {
    scenario: 'switch-buffering',
    transport: 'default',
    params: { initialMode: 'refuse-ws', switchMode: 'buffer', from: 'eventsource', to: 'long-polling' },
  },
  {
    scenario: 'switch-restart',
    transport: 'default',
    ownProxy: 'restartable',
    local: 'restarts the server process (and its own proxy)',
    params: {
      initialMode: 'pass',
      switchMode: 'refuse-ws',
      from: 'websocket',
      to: 'eventsource',
      restart: true,
    },
  },
].map((c) => ({
  ownProxy: 'direct',
  local: 'its own fault-injecting proxy',
  run: 'switch-stream',
  timeoutMs: 60000,
  ...c,
  params: { count: 300, intervalMs: 20, ...c.params },
  check: (r) => checkSwitch(r, c.params),
}));

/** Every case of the matrix, for one browser. */
export function cases() {
  const out = [];
  for (const transport of TRANSPORTS) {
    for (const s of perTransport)
      out.push({ ...s, run: s.run ?? s.scenario, transport, transports: [transport] });
  }
  for (const h of hostile) out.push({ ...h });
  for (const c of switches) out.push({ ...c });
  for (const c of outboxCases) out.push({ ...c }); // issue 14, publish across a reload: scenarios-outbox.mjs
  return out.map((c) => ({
    kind: 'single',
    via: 'direct',
    page: 'index.html',
    params: {},
    timeoutMs: 30000,
    ...c,
    title: `${c.transport} › ${c.scenario}`,
  }));
}

let idCounter = 0;
function runId(browser, kase) {
  idCounter++;
  const raw = `${browser}-${kase.transport}-${kase.scenario}-${Date.now().toString(36)}${idCounter}`;
  return raw.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/**
 * Runs one case through a driver and checks it. Resolves `{ result, metrics, seed }`; on a failure
 * calls `driver.capture(pages, error)` while the case's pages are still open (screenshot, page
 * log), then rejects with the error (`error.result`: the raw result, `error.seed`: the seed).
 * driver: { open(url) -> page, close(page), run(page, name, params) -> result,
 *           start(page, name, params) -> handle, result(page, handle) -> result, flag(page, name),
 *           capture?(pages, error) }
 */
export async function runCase(driver, kase, stackInfo, browser) {
  // --seed (E2E_SEED, validated by scripts/run.mjs) or a fresh seed, reported with the result.
  const seed = kase.randomized
    ? process.env.E2E_SEED
      ? Number(process.env.E2E_SEED)
      : randomInt(2 ** 31)
    : undefined;
  const target = stackInfo.mode === 'target';
  // Against a deployment the forever-iframe goes through the page server's same-origin relay: its
  // document calls parent.<callback>(), which only works when page and endpoint share an origin.
  const via = target && kase.transports?.includes('iframe') ? 'relay' : kase.via;
  // A case with its own proxy (local only) gets one in front of the main or restartable harness,
  // in `pass` mode, that its page drives on its own origin (/__proxy/*).
  let ownProxy;
  let ep;
  if (kase.ownProxy && !target) {
    const base = kase.ownProxy === 'restartable' ? stackInfo.restartable : stackInfo.harness;
    const { hostname, port } = new URL(base);
    const pushPath = kase.pushPath ?? '/push';
    ownProxy = await startProxy({
      mode: 'pass',
      target: () => ({ host: hostname, port: Number(port) }),
      controlPath: '/__proxy',
      pushPath,
    });
    ep = {
      origin: ownProxy.url,
      url: `${ownProxy.url}${pushPath}`,
      // The tight server's controls are under /e2e-ctl/tight/.
      ctl: `${base}/e2e-ctl${kase.server === 'tight' ? '/tight' : ''}`,
      stackCtl: stackInfo.stackCtl,
      // Not through the proxy: a second page that must not vanish with the first (presence-abrupt).
      direct: { origin: base, url: `${base}${pushPath}` },
    };
  } else ep = endpointsFor(stackInfo, via);
  const params = {
    url: ep.url,
    ctl: ep.ctl,
    stackCtl: ep.stackCtl,
    transports: kase.transports,
    transport: kase.transport,
    id: runId(browser, kase),
    // Against a deployment the ticker on /e2e/tick runs only while a page holds a lease.
    tickerLease: target,
    serverMetrics: target ? !!stackInfo.metrics : true,
    token: stackInfo.token,
    // Against a deployment that allows any origin (`*`), cross-origin requests cannot carry
    // credentials: the clients then use credentials: 'omit' (scripts/run.mjs probes it).
    credentials: stackInfo.credentials,
    // The harness heartbeats every second; a deployment keeps its own (client defaults).
    streamIdleTimeout: target ? undefined : 2500,
    seed,
    ...kase.params,
  };
  const pages = [];
  const open = async (url) => {
    const page = await driver.open(url);
    pages.push(page);
    return page;
  };
  const close = async (page) => {
    pages.splice(pages.indexOf(page), 1);
    await driver.close(page);
  };
  let result;
  try {
    result = await execute(driver, kase, `${ep.origin}/${kase.page}`, params, open, close, {
      ownProxy,
      ep,
    });
    const metrics = kase.check(result, { transport: kase.transport }) ?? {};
    return { result, metrics: seed === undefined ? metrics : { ...metrics, seed }, seed };
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    error.result = result;
    error.seed = seed;
    if (driver.capture) await driver.capture([...pages], error).catch(() => {});
    throw error;
  } finally {
    for (const page of pages.splice(0)) await driver.close(page);
    await ownProxy?.close();
  }
}

/** The pages of one case; the last ones stay open (runCase closes them after the check). */
async function execute(driver, kase, pageUrl, params, open, close, { ownProxy, ep }) {
  if (kase.kind === 'single') {
    const page = await open(pageUrl);
    return await driver.run(page, kase.run, params);
  }
  if (kase.kind === 'reps') {
    const reps = [];
    let page;
    for (let i = 0; i < kase.reps; i++) {
      if (page) await close(page);
      page = await open(pageUrl);
      reps.push(await driver.run(page, kase.run, { ...params, id: `${params.id}-${i}` }));
    }
    return { reps };
  }
  if (kase.kind === 'presence') {
    const a = await open(pageUrl);
    const handle = await driver.start(a, 'presence-a', params);
    const deadline = Date.now() + 15000;
    for (;;) {
      const flag = await driver.flag(a, '__presenceA');
      if (flag?.entered) break;
      if (Date.now() > deadline) {
        // A never entered: its result says why.
        return { a: await driver.result(a, handle), b: { error: 'not started: A never entered' } };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const b = await open(pageUrl);
    const rb = await driver.run(b, 'presence-b', params);
    const ra = await driver.result(a, handle);
    return { a: ra, b: rb };
  }
  if (kase.kind === 'presence-abrupt')
    return presenceAbrupt(driver, kase, pageUrl, params, open, ownProxy, ep);
  throw new Error(`unknown case kind ${kase.kind}`);
}

/**
 * `presence-abrupt`: page A (through the case's proxy) enters and stays; page B (direct) enters and
 * watches; then the proxy turns into a blackhole, so A's connections vanish without a FIN while its
 * page and client live on. B reports when A left; `droppedAt` is the runner's `Date.now()` at the
 * switch (the pages use the same wall clock).
 */
async function presenceAbrupt(driver, kase, pageUrl, params, open, ownProxy, ep) {
  const a = await open(pageUrl);
  const ra = await driver.run(a, 'presence-abrupt-a', params);
  if (ra?.error) return { a: ra, b: { error: 'not started: A never entered' } };
  const b = await open(`${ep.direct.origin}/${kase.page}`);
  const handle = await driver.start(b, 'presence-abrupt-b', {
    ...params,
    url: ep.direct.url,
    aClientId: ra.clientId,
  });
  const deadline = Date.now() + 15000;
  while (!(await driver.flag(b, '__abruptB'))?.ready) {
    if (Date.now() > deadline) return { a: ra, b: await driver.result(b, handle) };
    await new Promise((r) => setTimeout(r, 50));
  }
  ownProxy.setMode('blackhole');
  const droppedAt = Date.now();
  const rb = await driver.result(b, handle);
  return { a: ra, b: rb, droppedAt, proxy: { ...ownProxy.stats } };
}
