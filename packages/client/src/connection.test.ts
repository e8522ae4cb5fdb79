// The connection state machine: server advice, backoff bounds, the online signal, heartbeats
// finding half-open connections, and held requests that keep dying early.
import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { fakeOnline, setup } from './testing/fakes.js';

const connects = (t: ReturnType<typeof setup>) =>
  t.server.received.filter((m) => m.channel === '/meta/connect');

describe('backoff', () => {
  it('is exponential with full jitter and bounded', () => {
    const top = (attempt: number) =>
      backoffDelay(attempt, { base: 500, max: 30_000, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999]);
    expect(backoffDelay(1000, { base: 500, max: 30_000, random: () => 0.999999 })).toBe(29_999);
    expect(backoffDelay(3, { base: 500, max: 30_000, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { base: 500, max: 30_000, random: () => 0.5 })).toBe(2000);
  });

  it('grows between failed rounds up to the cap, and resets once connected', async () => {
    const t = setup({ order: ['websocket'], behaviors: { websocket: 'fail-open' } });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await t.clock.advance(0);
      delays.push(t.clock.pending()[0]!);
      await t.clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    t.factories.websocket.behavior = 'ok';
    await t.clock.advance(1000);
    expect(t.client.state).toBe('connected');
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(0);
    expect(t.client.state).toBe('reconnecting');
    expect(t.clock.pending()).toContain(100);
  });
});

describe('server advice', () => {
  it('retry + interval: waits the advised interval between connects', async () => {
    const t = setup({ order: ['long-polling'] });
    t.server.advice = { reconnect: 'retry', interval: 250, timeout: 0 };
    await t.clock.advance(0);
    expect(connects(t)).toHaveLength(1);
    await t.clock.advance(249);
    expect(connects(t)).toHaveLength(1);
    await t.clock.advance(1);
    expect(connects(t)).toHaveLength(2);
    await t.clock.advance(250);
    expect(connects(t)).toHaveLength(3);
  });

  it('retry on a failed connect: connects again on the same session', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const clientId = t.client.clientId;
    let fail = true;
    t.server.connectOverride = (m) =>
      fail
        ? {
            channel: '/meta/connect',
            id: m.id,
            successful: false,
            error: '500::busy',
            advice: { reconnect: 'retry', interval: 0 },
          }
        : undefined;
    await t.clock.advance(1000); // the held connect returns, the next one is refused
    fail = false;
    await t.clock.advance(1000);
    expect(t.client.state).toBe('connected');
    expect(t.client.clientId).toBe(clientId);
    expect(t.server.received.filter((m) => m.channel === '/meta/handshake')).toHaveLength(1);
  });

  it('handshake: handshakes again, gets a new clientId and renews subscriptions', async () => {
    const t = setup({ order: ['websocket'] });
    const sub = t.client.subscribe('/a', () => {});
    await t.clock.advance(0);
    await sub.ready;
    const first = t.client.clientId;
    t.server.forget(first!); // the server lost the session: 402 + advice handshake
    await t.clock.advance(1000);
    await t.clock.advance(1000);
    expect(t.client.state).toBe('connected');
    expect(t.client.clientId).not.toBe(first);
    const subscribes = t.server.received.filter((m) => m.channel === '/meta/subscribe');
    expect(subscribes.map((m) => m.clientId)).toEqual([first, t.client.clientId]);
  });

  for (const type of ['eventsource', 'iframe'] as const) {
    it(`handshake on ${type}: a restarted server's stream dies, the client re-handshakes and resubscribes`, async () => {
      const t = setup({ order: [type] });
      const sub = t.client.subscribe('/a', () => {});
      await t.clock.advance(0);
      await sub.ready;
      const first = t.client.clientId;
      t.server.forget(first!); // the server restarted: it no longer knows the session
      t.factories[type].created.at(-1)!.kill(); // ...and the stream it served died with it
      await t.clock.advance(5000);
      expect(t.client.state).toBe('connected');
      expect(t.client.transport).toBe(type);
      expect(t.client.clientId).not.toBe(first);
      const subscribes = t.server.received.filter((m) => m.channel === '/meta/subscribe');
      expect(subscribes.map((m) => m.clientId)).toEqual([first, t.client.clientId]);
    });
  }

  it('none: stops, reports server-refused, and does not retry', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    t.server.connectOverride = (m) => ({
      channel: '/meta/connect',
      id: m.id,
      successful: false,
      error: '503::going away',
      advice: { reconnect: 'none' },
    });
    await t.clock.advance(1000);
    expect(t.client.state).toBe('disconnected');
    expect(t.errors.map((e) => [e.code, e.bayeuxCode])).toEqual([['server-refused', 503]]);
    expect(t.reasons.at(-1)).toEqual({ code: 'refused', error: t.errors[0] });
    const count = t.server.received.length;
    await t.clock.advance(60_000);
    t.online.set(false);
    t.online.set(true); // a refusal waits for connect(), not for the network
    await t.clock.advance(60_000);
    expect(t.server.received.length).toBe(count);
    // the app may reconnect explicitly
    t.server.connectOverride = undefined;
    t.client.connect();
    await t.clock.advance(0);
    expect(t.client.state).toBe('connected');
  });

  it('echoes the last ack batch number on the next connect', async () => {
    const t = setup({ order: ['long-polling'] });
    await t.clock.advance(0);
    await t.clock.advance(1000);
    const sent = connects(t).map((m) => m.ext?.ack);
    expect(sent).toEqual([undefined, 1, 2]);
  });
});

describe('online signal', () => {
  it('does not retry while offline and retries within the first jittered backoff step when back online', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    t.online.set(false);
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(0);
    expect(t.client.state).toBe('disconnected');
    const created = t.factories.websocket.created.length;
    await t.clock.advance(60_000);
    expect(t.factories.websocket.created.length).toBe(created);
    t.online.set(true);
    await t.clock.advance(0);
    expect(t.client.state).toBe('reconnecting');
    expect(t.clock.pending()).toContain(100); // random() * backoff.base: random is 1 here
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
  });

  it('an online event cuts a pending backoff short to its first step, jittered by the injected random', async () => {
    let r = 1;
    const t = setup({
      order: ['websocket'],
      client: { backoff: { base: 1000, max: 30_000 }, random: () => r },
    });
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(1000); // attempt 0 fails...
    t.factories.websocket.behavior = 'fail-open';
    t.factories.websocket.created.at(-1)!.kill();
    for (let i = 0; i < 4; i++) await t.clock.advance(t.clock.pending()[0]!);
    expect(t.clock.pending().at(-1)).toBeGreaterThanOrEqual(8000); // ...the backoff has grown
    t.factories.websocket.behavior = 'ok';
    r = 0.25;
    t.online.set(true);
    await t.clock.advance(0);
    expect(t.clock.pending()).toEqual([250]);
    await t.clock.advance(249);
    expect(t.client.state).toBe('reconnecting');
    await t.clock.advance(1);
    expect(t.client.state).toBe('connected');
  });
});

describe('state reasons', () => {
  it('a dead transport: reconnecting for its TransportError, which the next transport event carries', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(0);
    expect(t.states).toEqual(['connected', 'reconnecting']);
    const error = t.reasons.at(-1)!.error;
    expect(t.reasons.at(-1)).toEqual({ code: 'transport-failed', error });
    expect(error).toMatchObject({
      name: 'TransportError',
      code: 'closed',
      transport: 'websocket',
      retriable: true,
    });
    await t.clock.advance(100);
    expect(t.states).toEqual(['connected', 'reconnecting', 'connected']);
    expect(t.reasons.at(-1)).toEqual({ code: 'negotiated' });
    expect(t.changes.at(-1)).toEqual({
      transport: 'websocket',
      previous: undefined,
      reason: 'connect',
      error,
    });
  });

  it('a client created offline waits in disconnected and connects when back online (it stayed idle)', async () => {
    const online = fakeOnline(false);
    const t = setup({ order: ['websocket'], client: { online } });
    await t.clock.advance(10_000);
    expect(t.client.state).toBe('disconnected'); // entered inside createClient, before `on`
    expect(t.server.received).toEqual([]);
    online.set(true);
    await t.clock.advance(100); // the first backoff step (random is 1)
    expect(t.client.state).toBe('connected');
    expect(t.reasons.map((r) => r.code)).toEqual(['online', 'negotiated']);
  });

  it('going offline during a reconnect round drops the round (it was adopted while disconnected)', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const handle = t.server.handle.bind(t.server);
    let release: (() => void) | undefined;
    t.server.handle = (batch, respond) => {
      if (release || batch[0]!.channel !== '/meta/connect' || batch[0]!.advice?.timeout !== 0)
        return handle(batch, respond);
      release = () => handle(batch, respond); // the reconnect's first connect: answered later
    };
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(100); // backoff, then the round waits for its connect reply
    expect(release).toBeDefined();
    t.online.set(false);
    release!();
    await t.clock.advance(0);
    expect(t.client.state).toBe('disconnected');
    expect(t.client.transport).toBeUndefined();
    expect(t.factories.websocket.created.every((x) => x.closed)).toBe(true);
    t.online.set(true);
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
    expect(t.client.transport).toBe('websocket');
  });
});

describe('heartbeats', () => {
  it('finds a half-open connection within advice.timeout + heartbeatGrace', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const socket = t.factories.websocket.created.at(-1)!;
    socket.send = async () => {}; // half-open: nothing reaches the server any more
    await t.clock.advance(1000); // the held connect (timeout 1000) comes back; the next one vanishes
    expect(t.client.state).toBe('connected');
    await t.clock.advance(1000 + 500 - 1);
    expect(t.client.state).toBe('connected');
    await t.clock.advance(1);
    expect(t.client.state).toBe('reconnecting');
    expect(t.reasons.at(-1)).toMatchObject({
      code: 'transport-failed',
      error: { name: 'TransportError', code: 'timeout', transport: 'websocket' },
    });
    expect(socket.closed).toBe(true);
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
  });
});

describe('held requests dying early', () => {
  it('shortens the hold, then falls to plain polling at the advised interval', async () => {
    const t = setup({ order: ['long-polling'] });
    t.server.advice = { reconnect: 'retry', interval: 0, timeout: 20_000 };
    await t.clock.advance(0);
    // a proxy cuts every held request after 5 s
    const cut = async () => {
      await t.clock.advance(5000);
      t.factories['long-polling'].created.at(-1)!.kill();
      await t.clock.advance(100); // backoff, reattach
    };
    await cut();
    await cut();
    const shortened = connects(t).at(-1)!;
    expect(t.client.state).toBe('connected');
    await t.clock.advance(0);
    expect(connects(t).at(-1)!.advice).toEqual({ timeout: 2500 });
    expect(shortened.clientId).toBe(t.client.clientId);
    // still cut early (now at 1 s): give up holding
    for (let i = 0; i < 2; i++) {
      await t.clock.advance(1000);
      t.factories['long-polling'].created.at(-1)!.kill();
      await t.clock.advance(100);
    }
    await t.clock.advance(0);
    expect(connects(t).at(-1)!.advice).toEqual({ timeout: 0 });
    const before = connects(t).length;
    await t.clock.advance(1000); // polls every POLL_INTERVAL (server advises interval 0)
    expect(connects(t).length).toBe(before + 1);
    expect(t.client.state).toBe('connected');
  });
});

describe('close', () => {
  it('sends /meta/disconnect, stops every timer and ends in closed', async () => {
    const t = setup({ order: ['websocket'] });
    await t.clock.advance(0);
    const closing = t.client.close();
    await t.clock.advance(0);
    await closing;
    expect(t.client.state).toBe('closed');
    expect(t.server.received.at(-1)!.channel).toBe('/meta/disconnect');
    const count = t.server.received.length;
    await t.clock.advance(120_000);
    expect(t.server.received.length).toBe(count);
    expect(t.factories.websocket.created.every((x) => x.closed)).toBe(true);
    await expect(t.client.publish('/a', 1)).rejects.toMatchObject({ code: 'closed' });
  });

  it('autoConnect: false waits for connect()', async () => {
    const t = setup({ client: { autoConnect: false } });
    await t.clock.advance(10_000);
    expect(t.client.state).toBe('idle');
    expect(t.server.received).toEqual([]);
    t.client.connect();
    await t.clock.advance(0);
    expect(t.states).toEqual(['connecting', 'connected']);
  });
});
