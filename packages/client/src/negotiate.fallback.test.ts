// Negotiation: every fallback path and reason, memo per origin, refusal without fallback.
import { describe, expect, it } from 'vitest';
import { handshakes, memoryStorage, setup, URL_ } from './testing/fakes.js';

describe('negotiation', () => {
  it('connects on the first transport when everything works, and remembers it per origin', async () => {
    const t = setup();
    await t.clock.advance(0);
    expect(t.client.state).toBe('connected');
    expect(t.client.transport).toBe('websocket');
    expect(t.client.fallbacks).toEqual([]);
    expect(t.changes).toEqual([{ transport: 'websocket', previous: undefined, reason: 'connect' }]);
    expect(t.states).toEqual(['connected']); // 'connecting' was set synchronously by createClient
    expect(t.storage.map.get('push:transport:http://push.test')).toBe('websocket');
  });

  const paths = [
    {
      name: 'a WebSocket that never opens',
      behaviors: { websocket: 'never-open' },
      to: 'eventsource',
      reason: 'open-timeout',
      error: 'timeout',
      at: 1000,
    },
    {
      name: 'a WebSocket refused at once',
      behaviors: { websocket: 'fail-open' },
      to: 'eventsource',
      reason: 'open-failed',
      error: 'closed',
      at: 0,
    },
    {
      name: 'a WebSocket that never answers the handshake',
      behaviors: { websocket: 'silent' },
      to: 'eventsource',
      reason: 'handshake-timeout',
      error: 'timeout',
      at: 1000,
    },
  ] as const;
  for (const path of paths) {
    it(`falls back from ${path.name} with reason ${path.reason}`, async () => {
      const t = setup({ behaviors: path.behaviors });
      await t.clock.advance(path.at);
      expect(t.client.transport).toBe(path.to);
      expect(t.client.state).toBe('connected');
      expect(t.client.fallbacks).toEqual([
        { from: 'websocket', to: path.to, reason: path.reason, at: path.at },
      ]);
      expect(t.changes.at(-1)).toEqual({
        transport: path.to,
        previous: undefined,
        reason: 'fallback',
        error: expect.objectContaining({ name: 'TransportError', code: path.error, transport: 'websocket' }),
      });
      // the fallback is reported to the server in the successful handshake
      expect(handshakes(t.server).at(-1)!.ext?.push?.fallbacks).toEqual([
        { from: 'websocket', to: path.to, reason: path.reason, at: path.at },
      ]);
    });
  }

  it('falls from an SSE stream whose first bytes never arrive (buffering proxy) to long-polling', async () => {
    const t = setup({ behaviors: { websocket: 'fail-open', eventsource: 'never-open' } });
    await t.clock.advance(999);
    expect(t.client.state).toBe('connecting');
    await t.clock.advance(1);
    expect(t.client.transport).toBe('long-polling');
    expect(t.client.fallbacks.map((f) => [f.from, f.to, f.reason])).toEqual([
      ['websocket', 'eventsource', 'open-failed'],
      ['eventsource', 'long-polling', 'open-timeout'],
    ]);
  });

  it('falls from a failing long-poll to the forever-iframe', async () => {
    const t = setup({
      behaviors: { websocket: 'unsupported', eventsource: 'unsupported', 'long-polling': 'fail-post' },
    });
    await t.clock.advance(0);
    expect(t.client.transport).toBe('iframe');
    expect(t.client.fallbacks.map((f) => [f.from, f.to, f.reason])).toEqual([
      ['websocket', 'eventsource', 'unsupported'],
      ['eventsource', 'long-polling', 'unsupported'],
      ['long-polling', 'iframe', 'handshake-failed'],
    ]);
  });

  it('records connect-timeout when the first /meta/connect is never answered', async () => {
    const t = setup({ order: ['eventsource', 'long-polling'] });
    const handle = t.server.handle.bind(t.server);
    t.server.handle = (batch, respond) => {
      const first = batch[0] as { channel: string; connectionType?: string };
      if (first.channel === '/meta/connect' && first.connectionType === 'eventsource') return;
      handle(batch, respond);
    };
    expect(t.client.state).toBe('connecting');
    await t.clock.advance(1000);
    expect(t.client.transport).toBe('long-polling');
    expect(t.client.fallbacks).toEqual([
      { from: 'eventsource', to: 'long-polling', reason: 'connect-timeout', at: 1000 },
    ]);
  });

  it('records connect-failed when the first /meta/connect is refused', async () => {
    const t = setup({ order: ['eventsource', 'long-polling'] });
    t.server.connectOverride = (m) =>
      (m as { connectionType?: string }).connectionType === 'eventsource'
        ? {
            channel: '/meta/connect',
            id: m.id,
            successful: false,
            error: '406:eventsource:Unsupported connection type',
          }
        : undefined;
    await t.clock.advance(0);
    expect(t.client.transport).toBe('long-polling');
    expect(t.client.fallbacks).toEqual([
      { from: 'eventsource', to: 'long-polling', reason: 'connect-failed', at: 0 },
    ]);
    expect(t.factories.eventsource.created[0]!.closed).toBe(true);
  });

  it('starts from the remembered transport on the next visit', async () => {
    const storage = memoryStorage({ 'push:transport:http://push.test': 'long-polling' });
    const t = setup({ storage });
    await t.clock.advance(0);
    expect(t.client.transport).toBe('long-polling');
    expect(t.factories.websocket.created).toHaveLength(0);
    expect(handshakes(t.server)).toHaveLength(1);
  });

  it('ignores a remembered transport that is not in the list', async () => {
    const storage = memoryStorage({ 'push:transport:http://push.test': 'iframe' });
    const t = setup({ storage, order: ['websocket', 'long-polling'] });
    await t.clock.advance(0);
    expect(t.client.transport).toBe('websocket');
  });

  it('does not fall back when the server refuses the handshake (bad credentials)', async () => {
    const t = setup({ client: { auth: { token: 'bad' } } });
    t.server.handshakeError = '401::Authentication failed';
    t.server.handshakeAdvice = { reconnect: 'retry' };
    await t.clock.advance(0);
    expect(handshakes(t.server)).toHaveLength(1);
    expect(handshakes(t.server)[0]!.ext?.auth).toEqual({ token: 'bad' });
    expect(t.factories.eventsource.created).toHaveLength(0);
    expect(t.errors[0]).toMatchObject({
      code: 'rejected',
      bayeux: '401::Authentication failed',
      bayeuxCode: 401,
    });
    expect(t.client.state).toBe('reconnecting');
  });

  it('stops when a refused handshake comes with advice reconnect: none', async () => {
    const t = setup({ client: { auth: { token: 'bad' } } });
    t.server.handshakeError = '401::Authentication failed';
    await t.clock.advance(0);
    expect(t.client.state).toBe('disconnected');
    expect(t.errors.map((e) => [e.code, e.bayeuxCode, e.advice?.reconnect])).toEqual([
      ['rejected', 401, 'none'],
    ]);
    await t.clock.advance(120_000);
    expect(handshakes(t.server)).toHaveLength(1); // no retry
    expect(t.factories.eventsource.created).toHaveLength(0); // no fallback either
  });

  it('calls an auth function on every handshake', async () => {
    let n = 0;
    const t = setup({ client: { auth: async () => ({ token: `t${++n}` }) } });
    await t.clock.advance(0);
    t.server.forget(t.client.clientId!);
    t.factories.websocket.created.at(-1)!.kill();
    await t.clock.advance(1000);
    expect(handshakes(t.server).map((h) => h.ext?.auth)).toEqual([{ token: 't1' }, { token: 't2' }]);
  });

  it('an auth() that throws is an auth failure, not a fallback (it was recorded as open-failed)', async () => {
    let fail = true;
    const t = setup({
      client: {
        auth: async () => {
          if (fail) throw new Error('token endpoint down');
          return { token: 'good' };
        },
      },
    });
    await t.clock.advance(0);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toMatchObject({ name: 'PushError', code: 'auth-failed', retriable: true });
    expect(t.errors[0]!.cause).toMatchObject({ message: 'token endpoint down' });
    expect(t.client.fallbacks).toEqual([]);
    expect(t.factories.eventsource.created).toHaveLength(0); // no other transport tried
    expect(t.factories.websocket.created[0]!.closed).toBe(true);
    expect(handshakes(t.server)).toHaveLength(0);
    expect(t.client.state).toBe('reconnecting');
    expect(t.reasons.at(-1)).toEqual({ code: 'negotiation-failed', error: t.errors[0] });
    fail = false;
    await t.clock.advance(100); // the backoff; auth() is called again
    expect(t.client.state).toBe('connected');
    expect(t.client.transport).toBe('websocket');
    expect(handshakes(t.server).map((h) => h.ext?.auth)).toEqual([{ token: 'good' }]);
  });

  it("a refused handshake without advice follows Bayeux's default (retry): it retries, it does not stop", async () => {
    const t = setup();
    t.server.handshakeError = '401::Authentication failed';
    t.server.handshakeAdvice = undefined;
    await t.clock.advance(0);
    expect(t.errors.map((e) => [e.code, e.retriable])).toEqual([['rejected', true]]);
    expect(t.client.state).toBe('reconnecting');
    t.server.handshakeError = undefined;
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
  });

  it('when every transport fails, reports negotiation-failed and retries the round with backoff', async () => {
    const t = setup({
      behaviors: {
        websocket: 'fail-open',
        eventsource: 'fail-post',
        'long-polling': 'fail-post',
        iframe: 'fail-post',
      },
    });
    await t.clock.advance(0);
    expect(t.errors.map((e) => e.code)).toEqual(['negotiation-failed']);
    expect(t.client.state).toBe('reconnecting');
    expect(t.clock.pending()).toEqual([100]); // random()=1: the full first backoff step
    t.factories.websocket.behavior = 'ok';
    await t.clock.advance(100);
    expect(t.client.state).toBe('connected');
    expect(t.client.transport).toBe('websocket');
    expect(t.states).toEqual(['reconnecting', 'connected']);
  });

  // Issue 14 (e2e switch-restart): the server restarted while a proxy refused WebSockets. In a
  // round run while it was down every transport failed, and the one tried after it came back
  // (the iframe) was kept: the client ended on the forever-iframe, not SSE.
  for (const down of ['down', 'bad-gateway'] as const) {
    it(`an unreachable server (${down}) is an outage, not a broken transport: no step down, the round retries from the top once it is back`, async () => {
      const t = setup({
        behaviors: { websocket: 'fail-open', eventsource: down, 'long-polling': down, iframe: 'ok' },
      });
      await t.clock.advance(0);
      expect(t.factories.eventsource.created).toHaveLength(1);
      // Every HTTP transport posts to the same endpoint: the rest of the list would fail alike, or
      // (the iframe here: the server came back meanwhile) win only by timing.
      expect(t.factories['long-polling'].created).toHaveLength(0);
      expect(t.factories.iframe.created).toHaveLength(0);
      expect(t.client.state).toBe('reconnecting');
      expect(t.errors.map((e) => e.code)).toEqual(['negotiation-failed']);
      expect(t.errors[0]!.cause).toMatchObject({ name: 'TransportError', transport: 'eventsource' });
      expect(t.clock.pending()).toEqual([100]); // the backoff of a failed round
      expect(t.client.fallbacks).toEqual([]);
      // The server is back; WebSockets are still refused by the proxy: SSE, as without the outage.
      t.factories.eventsource.behavior = 'ok';
      t.factories['long-polling'].behavior = 'ok';
      await t.clock.advance(100);
      expect(t.client.state).toBe('connected');
      expect(t.client.transport).toBe('eventsource');
      expect(t.factories.websocket.created).toHaveLength(2); // the second round started at the top
      expect(t.client.fallbacks).toEqual([
        { from: 'websocket', to: 'eventsource', reason: 'open-failed', at: 100 },
      ]);
    });
  }

  it('an outage starting from a remembered lower transport keeps it: the next round starts there again', async () => {
    const storage = memoryStorage({ 'push:transport:http://push.test': 'eventsource' });
    const t = setup({ storage, behaviors: { eventsource: 'down', 'long-polling': 'down' } });
    await t.clock.advance(0);
    expect(t.client.state).toBe('reconnecting');
    // Not long-polling, the iframe, nor round the list to the WebSocket: all the same server.
    expect(t.factories.websocket.created).toHaveLength(0);
    expect(t.factories.iframe.created).toHaveLength(0);
    t.factories.eventsource.behavior = 'ok';
    await t.clock.advance(100);
    expect(t.client.transport).toBe('eventsource');
    expect(t.client.fallbacks).toEqual([]);
  });

  it('throws typed invalid-option errors: unknown transport names, presence on the WebSocket-only entry', async () => {
    const { createClient } = await import('./websocket-only.js');
    expect(() => createClient({ url: URL_, transports: ['eventsource'], autoConnect: false })).toThrow(
      expect.objectContaining({
        name: 'PushError',
        code: 'invalid-option',
        message: expect.stringMatching(/pass its factory/),
      }),
    );
    // `share` is honoured only by @push/client/share: the core entries refuse it, never ignore it.
    expect(() => createClient({ url: URL_, share: true, autoConnect: false })).toThrow(
      expect.objectContaining({
        code: 'invalid-option',
        message: expect.stringMatching(/@push\/client\/share/),
      }),
    );
    const core = await import('./index.js');
    expect(() => core.createClient({ url: URL_, share: true, autoConnect: false })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
    const client = createClient({ url: URL_, autoConnect: false });
    expect(() => client.presence('/chat')).toThrow(
      expect.objectContaining({
        code: 'invalid-option',
        message: expect.stringMatching(/use @push\/client/),
      }),
    );
  });
});
