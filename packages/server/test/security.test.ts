/** authenticate (and the JWT helper), authorize, Origin allow-list, CORS, connection limit. */
import type { Reply } from '@push/protocol';
import { handshakeMessage, post, WsClient } from '@push/test-kit/bayeux-client';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { jwtAuthenticator } from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>();

const secret = 'a-test-secret-of-at-least-32-bytes!!';
const sign = (sub: string, audience = 'push') =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setAudience(audience)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));

describe('authenticate', () => {
  it('jwtAuthenticator accepts a valid token and refuses missing, forged or wrong-audience ones with 401', async () => {
    const identities: unknown[] = [];
    server = await startServer({ authenticate: jwtAuthenticator({ secret, audience: 'push' }) });
    server.push.on('handshake', ({ identity }) => identities.push(identity));
    const ok = await post(server.url, [
      handshakeMessage(['long-polling'], { auth: { token: await sign('alice') } }),
    ]);
    expect(ok.body[0]).toMatchObject({ successful: true });
    expect(identities[0]).toMatchObject({ id: 'alice' });
    for (const ext of [
      undefined,
      { auth: { token: 'not.a.jwt' } },
      { auth: { token: await sign('eve', 'other') } },
    ]) {
      const { body } = await post(server.url, [handshakeMessage(['long-polling'], ext)]);
      expect(body[0]).toMatchObject({
        successful: false,
        error: '401::Authentication failed',
        advice: { reconnect: 'none' },
      });
      expect(body[0]!.clientId).toBeUndefined();
    }
    expect(server.push.metrics().sessions).toBe(1);
  });
});

describe('authorize', () => {
  it('refuses subscribe and publish with 403 per channel', async () => {
    server = await startServer({
      authenticate: (handshake) => ({
        id: String((handshake.ext as { user?: string } | undefined)?.user ?? 'anon'),
      }),
      authorize: (identity, action, channel) =>
        !(channel.startsWith('/admin') && identity.id !== 'root') &&
        !(action === 'publish' && channel === '/readonly'),
    });
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    await client.start([], { user: 'bob' });
    const sub = await client.subscribe('/admin/**');
    expect(sub).toMatchObject({ successful: false, error: '403:/admin/**:Forbidden: subscribe denied' });
    const pub = await client.publish('/readonly', 1);
    expect(pub).toMatchObject({ successful: false, error: '403:/readonly:Forbidden: publish denied' });
    expect((await client.subscribe('/readonly')).successful).toBe(true);
    const root = await WsClient.open(server.wsUrl);
    clients.push(root);
    await root.start([], { user: 'root' });
    expect((await root.subscribe('/admin/**')).successful).toBe(true);
  });
});

describe('Origin allow-list and CORS', () => {
  it('refuses WebSocket upgrades and HTTP requests from other origins; answers preflights for allowed ones', async () => {
    server = await startServer({ origins: ['https://app.example'] });
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(server!.wsUrl, { origin: 'https://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => {});
    });
    expect(refused).toBe(403);
    const allowed = new WebSocket(server.wsUrl, { origin: 'https://app.example' });
    await new Promise<void>((resolve, reject) => {
      allowed.once('open', () => resolve());
      allowed.once('error', reject);
    });
    allowed.terminate();

    const evil = await post(server.url, [handshakeMessage()], { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.body[0]!.error).toBe('403:https://evil.example:Forbidden: origin denied');
    const good = await fetch(server.url, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify([handshakeMessage()]),
    });
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const preflight = await fetch(server.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });
});

describe('limits', () => {
  it('refuses handshakes past maxConnections with 503 while existing clients keep working', async () => {
    server = await startServer({ limits: { maxConnections: 1 } });
    const first = await WsClient.open(server.wsUrl);
    clients.push(first);
    await first.start(['/still']);
    const { body } = await post(server.url, [handshakeMessage()]);
    expect(body[0]).toMatchObject({
      successful: false,
      error: '503::Server unavailable: connection limit reached',
    });
    await server.push.publish('/still', 'ok');
    await first.waitFor((m) => (m as { data?: unknown }).data === 'ok');
    expect((body[0] as Reply).advice?.reconnect).toBe('handshake');
  });
});
