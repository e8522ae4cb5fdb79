// Background upgrade to a better transport without a gap or a duplicate.
import { describe, expect, it } from 'vitest';
import { type Behavior, memoryStorage, setup } from './testing/fakes.js';

/**
 * A client whose origin remembers long-polling, so it connects on it and may upgrade to WebSocket
 * (behaving as `websocket`) after `upgradeDelay`.
 */
function onLongPolling(websocket: Behavior = 'ok', upgradeDelay = 5000) {
  const storage = memoryStorage({ 'push:transport:http://push.test': 'long-polling' });
  const t = setup({
    storage,
    order: ['websocket', 'long-polling'],
    behaviors: { websocket },
    client: { upgradeDelay },
  });
  return { storage, t };
}

describe('upgrade', () => {
  it('re-probes better transports and upgrades without a gap or a duplicate', async () => {
    const { storage, t } = onLongPolling();
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    expect(t.client.transport).toBe('long-polling');
    let n = 0;
    for (let i = 0; i < 100; i++) {
      t.server.publish('/feed', { n: ++n });
      await t.clock.advance(100);
    }
    expect(t.client.transport).toBe('websocket');
    expect(t.changes.at(-1)).toEqual({ transport: 'websocket', previous: 'long-polling', reason: 'upgrade' });
    expect(storage.map.get('push:transport:http://push.test')).toBe('websocket');
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(t.factories['long-polling'].created.every((x) => x.closed)).toBe(true);
    const publish = t.client.publish('/after', 1);
    await t.clock.advance(0);
    await publish;
  });

  it('keeps the current transport when the probe fails, and tries again later', async () => {
    const { t } = onLongPolling('never-open');
    await t.clock.advance(6000);
    expect(t.factories.websocket.created).toHaveLength(1);
    expect(t.client.transport).toBe('long-polling');
    t.factories.websocket.behavior = 'ok';
    await t.clock.advance(10_000);
    expect(t.client.transport).toBe('websocket');
    expect(t.client.state).toBe('connected');
  });

  it('gives the upgrade up when the old link cannot drain its requests within attemptTimeout', async () => {
    const { t } = onLongPolling();
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    // An upstream request of the long-polling link never ends (a POST stuck in a proxy): the pause
    // before the swap would wait for it forever, with the connect cycle on hold.
    t.factories['long-polling'].created.at(-1)!.pause = () => new Promise<void>(() => {});
    await t.clock.advance(5000 + 1000);
    expect(t.client.transport).toBe('long-polling');
    for (let n = 1; n <= 5; n++) {
      t.server.publish('/feed', { n });
      await t.clock.advance(100);
    }
    await t.clock.advance(500);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(t.client.state).toBe('connected');
  });

  // Issue 14: a WebSocket that failed while the server was down cannot tell an outage from a refusal
  // (there is no status to read), so the round falls back; the upgrader is what climbs back.
  it('climbs back to the WebSocket after a step down that an outage caused', async () => {
    const t = setup({ behaviors: { websocket: 'fail-open' }, client: { upgradeDelay: 5000 } });
    await t.clock.advance(0);
    expect(t.client.transport).toBe('eventsource');
    t.factories.websocket.behavior = 'ok'; // the server is up: the WebSocket works again
    await t.clock.advance(5000);
    expect(t.client.transport).toBe('websocket');
    expect(t.changes.at(-1)).toEqual({ transport: 'websocket', previous: 'eventsource', reason: 'upgrade' });
  });
});

// Issue 14: an upgrade commits only after the new transport carried a round trip.
describe('upgrade confirmation', () => {
  it('does not adopt a WebSocket that opens and then goes silent: the stream goes on over the old transport', async () => {
    const { t } = onLongPolling('silent');
    const got: number[] = [];
    t.client.subscribe('/feed', (data) => got.push((data as { n: number }).n));
    await t.clock.advance(0);
    let n = 0;
    for (let i = 0; i < 100; i++) {
      t.server.publish('/feed', { n: ++n });
      await t.clock.advance(100);
    }
    expect(t.factories.websocket.created.length).toBeGreaterThanOrEqual(1); // it was probed
    expect(t.client.transport).toBe('long-polling');
    expect(t.changes.filter((c) => c.reason === 'upgrade')).toEqual([]);
    expect(t.states.filter((s) => s === 'reconnecting')).toEqual([]);
    expect(t.factories.websocket.created.every((x) => x.closed)).toBe(true);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // once the WebSocket answers, the next probe upgrades
    t.factories.websocket.behavior = 'ok';
    for (let i = 0; i < 150; i++) {
      t.server.publish('/feed', { n: ++n });
      await t.clock.advance(100);
    }
    expect(t.client.transport).toBe('websocket');
    expect(got).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
  });

  it('confirms an upgrade with a connect answered at once over the new transport', async () => {
    const { t } = onLongPolling('ok', 1000);
    t.client.subscribe('/feed', () => {});
    await t.clock.advance(2000);
    expect(t.client.transport).toBe('websocket');
    const connects = t.server.received.filter(
      (m) => m.channel === '/meta/connect' && 'connectionType' in m && m.connectionType === 'websocket',
    ) as Array<{ advice?: { timeout?: number } }>;
    expect(connects[0]!.advice?.timeout).toBe(0); // the confirming round trip
  });
});
