/**
 * Attack suite, issue 12 row 5: `POST {path}/publish` runs the same `authenticate` and `authorize`
 * as a Bayeux publish, and is closed unless something secures it or it is opened on purpose.
 */

import { WsClient } from '@push/test-kit/bayeux-client';
import { captureOutput } from '@push/test-kit/output';
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { PUBLISH_CLOSED_ERROR } from '../src/http/publish-endpoint.js';
import {
  type Authorize,
  createPushServer,
  jwtAuthenticator,
  PushServerError,
  type PushServerOptions,
} from '../src/index.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
let stopCli: (() => Promise<void>) | undefined;
const clients = closeAfterEach<WsClient>(async () => {
  await stopCli?.();
  stopCli = undefined;
  vi.restoreAllMocks();
});

const readmeAuthorize: Authorize = (identity, _action, channel) =>
  !channel.startsWith('/admin') || identity.id === 'root';

/** POSTs `body` to `{url}/publish`; returns status and the JSON answer. */
async function publishHttp(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: { successful: boolean; error?: string; offset?: number } }> {
  const response = await fetch(`${url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** A subscriber on `channels`, to prove what did (not) get through. */
async function watch(channels: string[], ext?: Record<string, unknown>): Promise<WsClient> {
  const client = await WsClient.open(server!.wsUrl);
  clients.push(client);
  await client.start(channels, ext);
  return client;
}

describe('row 5: HTTP publish is closed by default and authorized like a Bayeux publish', () => {
  it('refuses every request with 403 when neither a publish key nor authenticate is configured', async () => {
    server = await startServer();
    const watcher = await watch(['/stocks/aex/philips', '/marker']);
    const refused = await publishHttp(server.url, { channel: '/stocks/aex/philips', data: 1 });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ successful: false, error: PUBLISH_CLOSED_ERROR });
    // The error says how to open it.
    expect(refused.body.error).toMatch(/^403::Publishing over HTTP is closed: configure publishKey/);
    expect(refused.body.error).toContain("publishEndpoint: 'open'");
    expect(refused.body.error).toContain('--open-publish');
    await server.push.publish('/marker', 'after');
    await watcher.waitFor((m) => m.channel === '/marker');
    expect(watcher.data('/stocks/aex/philips')).toEqual([]);
  });

  it('a request with the publish key is a trusted back end; without it, 401', async () => {
    server = await startServer({ publishKey: 'sekret', authorize: () => false });
    const body = { channel: '/admin/x', data: 1 };
    expect((await publishHttp(server.url, body)).status).toBe(401);
    expect((await publishHttp(server.url, body, { 'x-push-key': 'nope' })).status).toBe(401);
    // The key holder is trusted: authorize (which refuses everything here) is not asked.
    const ok = await publishHttp(server.url, body, { authorization: 'Bearer sekret' });
    expect(ok).toMatchObject({ status: 200, body: { successful: true } });
  });

  it('with authenticate, the body ext is the handshake ext: unknown callers get 401, authorize refusals 403', async () => {
    const seen: unknown[] = [];
    server = await startServer({
      authenticate: (handshake, request) => {
        seen.push({ handshake, transport: request.transport });
        const user = (handshake.ext as { user?: unknown } | undefined)?.user;
        return typeof user === 'string' ? { id: user } : null;
      },
      authorize: readmeAuthorize,
    });
    const watcher = await watch(['/admin/x', '/news'], { user: 'root' });
    const anonymous = await publishHttp(server.url, { channel: '/news', data: 'anon' });
    expect(anonymous).toEqual({
      status: 401,
      body: { successful: false, error: '401::Authentication failed' },
    });
    const bobAdmin = await publishHttp(server.url, {
      channel: '/admin/x',
      data: 'bob',
      ext: { user: 'bob' },
    });
    expect(bobAdmin).toEqual({
      status: 403,
      body: { successful: false, error: '403:/admin/x:Forbidden: publish denied' },
    });
    expect(
      (await publishHttp(server.url, { channel: '/news', data: 'bob', ext: { user: 'bob' } })).status,
    ).toBe(200);
    expect(
      (await publishHttp(server.url, { channel: '/admin/x', data: 'root', ext: { user: 'root' } })).status,
    ).toBe(200);
    await watcher.waitFor((m) => m.channel === '/admin/x' && 'data' in m);
    expect(watcher.data('/admin/x')).toEqual(['root']);
    expect(watcher.data('/news')).toEqual(['bob']);
    expect(seen).toContainEqual({
      handshake: {
        channel: '/meta/handshake',
        version: '1.0',
        supportedConnectionTypes: ['long-polling'],
        ext: { user: 'bob' },
      },
      transport: 'long-polling',
    });
  });

  it('jwtAuthenticator guards HTTP publish with the same token as a handshake', async () => {
    const secret = 'a-test-secret-of-at-least-32-bytes!!';
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('root')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    server = await startServer({ authenticate: jwtAuthenticator({ secret }), authorize: readmeAuthorize });
    const body = { channel: '/admin/x', data: 1 };
    expect((await publishHttp(server.url, body)).status).toBe(401);
    expect((await publishHttp(server.url, { ...body, ext: { auth: { token: 'forged.x.y' } } })).status).toBe(
      401,
    );
    expect((await publishHttp(server.url, { ...body, ext: { auth: { token } } })).status).toBe(200);
  });

  it("publishEndpoint: 'open' lets anyone publish, still subject to authorize; it cannot be mixed with a key", async () => {
    server = await startServer({ publishEndpoint: 'open', authorize: readmeAuthorize });
    expect((await publishHttp(server.url, { channel: '/news', data: 1 })).status).toBe(200);
    expect(await publishHttp(server.url, { channel: '/admin/x', data: 1 })).toMatchObject({
      status: 403,
      body: { error: '403:/admin/x:Forbidden: publish denied' },
    });
    for (const options of [
      { publishEndpoint: 'open', publishKey: 'k' },
      { publishEndpoint: 'open', authenticate: () => ({}) },
      { publishEndpoint: 'wide-open' },
    ] as PushServerOptions[]) {
      expect(() => createPushServer(options)).toThrow(PushServerError);
    }
  });

  it('the CLI keeps the endpoint closed by default, says how to open it, and shouts when --open-publish opens it', async () => {
    const out = captureOutput(process.stdout);
    const err = captureOutput(process.stderr);
    const previousKey = process.env.PUSH_PUBLISH_KEY;
    delete process.env.PUSH_PUBLISH_KEY;
    try {
      stopCli = await main(['--port', '0', '--host', '127.0.0.1']);
      const closedUrl = /listening on (\S+)/.exec(out.join(''))![1]!;
      expect(out.join('')).toContain('is closed: start with --publish-key KEY');
      expect((await publishHttp(closedUrl, { channel: '/a', data: 1 })).status).toBe(403);
      await stopCli();
      stopCli = undefined;
      out.length = 0;

      stopCli = await main(['--port', '0', '--host', '127.0.0.1', '--open-publish']);
      const openUrl = /listening on (\S+)/.exec(out.join(''))![1]!;
      expect(err.join('')).toContain('WARNING: --open-publish');
      expect((await publishHttp(openUrl, { channel: '/a', data: 1 })).status).toBe(200);
      await expect(main(['--port', '0', '--open-publish', '--publish-key', 'k'])).rejects.toThrow(
        /exclude each other/,
      );
    } finally {
      if (previousKey !== undefined) process.env.PUSH_PUBLISH_KEY = previousKey;
    }
  });
});
