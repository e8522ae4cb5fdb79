// Publish exactly once across a page reload (issue 14): scenario `outbox-reload`, one case per
// transport, registered in cases() of scenarios.mjs. In page: src/pages/outbox-page.ts (its
// header says what the publisher and the counter do). Needs no driver support: the publisher
// reloads its own iframe document.
import assert from 'node:assert/strict';

const TRANSPORTS = ['websocket', 'eventsource', 'long-polling', 'iframe'];
const TOTAL = 15;
const BEFORE = 5;
const BURST = 5;

function check(r, { transport }) {
  assert.ok(r && typeof r === 'object', `no result object: ${JSON.stringify(r)}`);
  assert.equal(
    r.error,
    undefined,
    `scenario failed in page: ${r.error}\nresult: ${JSON.stringify(r).slice(0, 1500)}`,
  );
  const before = r.events.find((e) => e.phase === 'before-reload');
  const restored = r.events.find((e) => e.phase === 'restored');
  const done = r.events.find((e) => e.phase === 'done');
  // The publisher really used IndexedDB, and the reload really made a new client.
  assert.equal(before.kept, 'indexeddb', 'the outbox is kept in IndexedDB before the reload');
  assert.equal(restored.kept, 'indexeddb', 'and after it');
  assert.notEqual(restored.clientId, before.clientId, 'the reloaded page has a new session');
  assert.equal(before.transport, transport, 'publisher transport');
  assert.equal(r.transport, transport, 'counter transport');
  // The burst was published deaf (no ack reaches the page) in the task that reloaded: the
  // reloaded page sends every one of them again, with its key.
  const burst = Array.from({ length: BURST }, (_, i) => BEFORE + 1 + i);
  assert.deepEqual(
    restored.sent,
    burst,
    `the reloaded page sends the whole burst again (counter got ${JSON.stringify(r.received)})`,
  );
  assert.equal(restored.expired, 0, 'nothing expired');
  assert.deepEqual(done.refused, [], 'no restored publish was refused');
  // Each number exactly once at the counter (the server dropped the repeats of what had arrived).
  const counts = new Map();
  for (const n of r.received) counts.set(n, (counts.get(n) ?? 0) + 1);
  const dups = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
  const missing = Array.from({ length: TOTAL }, (_, i) => i + 1).filter((n) => !counts.has(n));
  assert.ok(
    dups.length === 0 && missing.length === 0 && r.received.length === TOTAL,
    `expected 1..${TOTAL} once each; got ${JSON.stringify(r.received)} (duplicates ${JSON.stringify(dups)}, missing ${JSON.stringify(missing)})`,
  );
  // How many of the burst reached the server before the reload (their resends were dropped as
  // repeats): reported, not asserted, as it depends on the browser's timing.
  const burstBeforeRestore = r.received.slice(0, restored.seen).filter((n) => n > BEFORE).length;
  const inOrder = r.received.every((n, i) => i === 0 || n > r.received[i - 1]);
  return { burstDeliveredBeforeReload: burstBeforeRestore, inOrder };
}

/** One case per transport (the client forced onto it), in outbox.html. */
export const outboxCases = TRANSPORTS.map((transport) => ({
  scenario: 'outbox-reload',
  run: 'outbox-reload',
  transport,
  transports: [transport],
  page: 'outbox.html',
  timeoutMs: 60000,
  check,
}));
