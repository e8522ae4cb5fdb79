/**
 * Attack suite, issue 12 (weaker items): a JWT without `exp` is refused, and a live session does
 * not outlive its token: it ends with `401::Token expired` and handshake advice. That the real
 * `@push/client` renews through its `auth` callback without losing or repeating a message is
 * `packages/integration/src/client/jwt-renewal.test.ts`.
 */
import type { HandshakeRequest, Reply } from '@push/protocol';
import { handshake, handshakeMessage, post, WsClient } from '@push/test-kit/bayeux-client';
import { FakeClock } from '@push/test-kit/clock';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtAuthenticator, type PushIdentity, type SessionEndReason } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const key = new TextEncoder().encode(secret);

/** A token for `sub`; `expiresAt` in epoch seconds, or none. */
function sign(sub: string, expiresAt?: number): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub);
  if (expiresAt !== undefined) jwt.setExpirationTime(expiresAt);
  return jwt.sign(key);
}

const request = { headers: {}, remoteAddress: '127.0.0.1', transport: 'long-polling' as const };
const handshakeWith = (token: string): HandshakeRequest =>
  ({ ...handshakeMessage(), ext: { auth: { token } } }) as HandshakeRequest;

describe('JWT expiry', () => {
  it('refuses a token without exp unless requireExpiry: false; sets expiresAt from exp', async () => {
    const noExp = await sign('alice');
    expect(await jwtAuthenticator({ secret })(handshakeWith(noExp), request)).toBeUndefined();
    expect(
      await jwtAuthenticator({ secret, requireExpiry: false })(handshakeWith(noExp), request),
    ).toMatchObject({
      id: 'alice',
    });
    const exp = Math.floor(Date.now() / 1000) + 60;
    const identity = await jwtAuthenticator({ secret, clockTolerance: 2 })(
      handshakeWith(await sign('alice', exp)),
      request,
    );
    expect(identity).toMatchObject({ id: 'alice', expiresAt: (exp + 2) * 1000 });
    // A mapper's own expiry wins.
    const mapped = await jwtAuthenticator({
      secret,
      identity: (claims) => ({ id: claims.sub, expiresAt: 7 }),
    })(handshakeWith(await sign('alice', exp)), request);
    expect(mapped).toEqual({ id: 'alice', expiresAt: 7 });

    server = await startServer({ authenticate: jwtAuthenticator({ secret }) });
    const { body } = await post(server.url, [handshakeWith(noExp)]);
    expect(body[0]).toMatchObject({ successful: false, error: '401::Authentication failed' });
  });

  it('ends a session when its credentials expire: a held WebSocket connect and a long-polling client both get 401 with handshake advice', async () => {
    const clock = new FakeClock(1_000_000);
    const ended: SessionEndReason[] = [];
    server = await startServer({
      clock,
      sessionTimeout: 60_000,
      authenticate: (): PushIdentity => ({ id: 'alice', expiresAt: clock.now() + 1_000 }),
    });
    server.push.on('disconnect', ({ reason }) => ended.push(reason));
    const ws = await WsClient.open(server.wsUrl);
    clients.push(ws);
    await ws.start(['/feed']);
    const polling = await handshake(server.url);
    clock.advanceSync(999);
    await server.push.publish('/feed', 'still valid');
    await ws.waitFor((m) => m.channel === '/feed');
    expect(server.push.metrics().sessions).toBe(2);

    clock.advanceSync(1);
    // The sweep ran at the expiry itself (not on its 5 s beat): the held connect is answered.
    const final = (await ws.waitFor((m) => (m as Reply).error !== undefined)) as Reply;
    expect(final).toMatchObject({
      channel: '/meta/connect',
      successful: false,
      error: '401::Token expired',
      advice: { reconnect: 'handshake' },
    });
    expect(server.push.metrics().sessions).toBe(0);
    expect(ended).toEqual(['expired', 'expired']);
    // The long-polling client learns it on its next request, whatever it is.
    const { body } = await post(server.url, [
      { channel: '/meta/connect', clientId: polling, connectionType: 'long-polling' },
    ]);
    expect(body[0]).toMatchObject({
      successful: false,
      error: '401::Token expired',
      advice: { reconnect: 'handshake' },
    });
  });

  it('a request on a session whose credentials just expired is refused even before the sweep', async () => {
    let now = 5_000;
    // A clock whose timers never fire: only the request-time check can catch the expiry.
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    server = await startServer({
      clock,
      authenticate: (): PushIdentity => ({ id: 'alice', expiresAt: now + 100 }),
    });
    const clientId = await handshake(server.url);
    const ok = await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/a' }]);
    expect(ok.body[0]!.successful).toBe(true);
    now += 100;
    const { body } = await post(server.url, [{ channel: '/chat', clientId, data: 'as alice?' }]);
    expect(body[0]).toMatchObject({ successful: false, error: '401::Token expired' });
    expect(server.push.metrics().sessions).toBe(0);
  });
});
