/**
 * Issue 12, "what held and must keep holding": each probe of the outside attack suite that the
 * server already survived, kept as a test so it keeps surviving. (Reaping abandoned sessions and
 * the slow-consumer cut-off are in server-api.test.ts and bad-input.test.ts.)
 */
import { request as httpRequest } from 'node:http';
import type { Reply } from '@push/protocol';
import { handshake, handshakeMessage, post, WsClient } from '@push/test-kit/bayeux-client';
import { captureOutput } from '@push/test-kit/output';
import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { jwtAuthenticator } from '../src/index.js';
import { closeAfterEach, openEventStream, type Running, startServer } from './helpers.js';
import { clientFrame, closedBy, rawUpgrade } from './raw-socket.js';

let server: Running | undefined;
const clients = closeAfterEach<WsClient>(() => vi.restoreAllMocks());

/** POSTs raw bytes (Buffer) and returns status and text. */
function postBytes(
  url: string,
  body: Buffer,
  chunked = false,
  extra: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...extra,
          ...(chunked ? {} : { 'content-length': body.length }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    if (chunked) {
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

describe('bodies of 10 MB', () => {
  it('are refused with 413 on long-polling (declared or chunked), HTTP publish, and close a WebSocket with 1009', async () => {
    server = await startServer({ publishKey: 'k' });
    const tenMegabytes = Buffer.alloc(10 * 1024 * 1024, 0x20);
    expect((await postBytes(server.url, tenMegabytes)).status).toBe(413);
    const chunked = await postBytes(server.url, tenMegabytes, true);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.text)[0].error).toMatch(/^413:262144:/);
    expect(
      (await postBytes(`${server.url}/publish`, tenMegabytes, false, { 'x-push-key': 'k' })).status,
    ).toBe(413);
    const client = await WsClient.open(server.wsUrl);
    clients.push(client);
    const code = new Promise<number>((resolve) => client.ws.once('close', (closeCode) => resolve(closeCode)));
    client.send(' '.repeat(10 * 1024 * 1024));
    expect(await code).toBe(1009);
    await expect(handshake(server.url)).resolves.toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('invalid UTF-8', () => {
  it('in a long-poll body is read as U+FFFD (a Bayeux answer, no 500); in a WebSocket frame it closes that socket (1007)', async () => {
    server = await startServer();
    const body = Buffer.concat([
      Buffer.from(
        '[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"],"id":"',
      ),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from('"}]'),
    ]);
    const answer = await postBytes(server.url, body);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)[0]).toMatchObject({ channel: '/meta/handshake', successful: true });
    const { socket } = await rawUpgrade(server.port);
    // 0x80 alone is never valid UTF-8.
    socket.write(
      clientFrame(
        Buffer.concat([Buffer.from('[{"channel":"/a","data":"'), Buffer.from([0x80]), Buffer.from('"}]')]),
      ),
    );
    await closedBy(socket, 3_000);
    await expect(handshake(server.url)).resolves.toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('JSONP', () => {
  it('refuses callback names that inject script, and escapes </script> and U+2028 in data', async () => {
    server = await startServer({
      transports: ['websocket', 'eventsource', 'long-polling', 'iframe', 'callback-polling'],
    });
    for (const name of ['alert(1)//', 'a;b', '<script>', 'a b', 'x.constructor("y")()', '1a', '']) {
      const response = await fetch(
        `${server.url}?jsonp=${encodeURIComponent(name)}&message=${encodeURIComponent(JSON.stringify([handshakeMessage(['callback-polling'])]))}`,
      );
      const text = await response.text();
      expect(response.status).toBe(400);
      if (name !== '') expect(text).not.toContain(name);
    }
    const clientId = await handshake(server.url, ['callback-polling']);
    const subscribe = [{ channel: '/meta/subscribe', clientId, subscription: '/x' }];
    await fetch(`${server.url}?jsonp=cb&message=${encodeURIComponent(JSON.stringify(subscribe))}`);
    await server.push.publish('/x', { text: '</script><script>alert(1)</script>\u2028\u2029' });
    const connect = [{ channel: '/meta/connect', clientId, connectionType: 'callback-polling' }];
    const response = await fetch(
      `${server.url}?jsonp=cb&message=${encodeURIComponent(JSON.stringify(connect))}`,
    );
    const text = await response.text();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(text).toContain('alert(1)');
    expect(text).not.toContain('</script>');
    expect(text).not.toContain('\u2028');
    expect(text).not.toContain('\u2029');
  });
});

describe('SSE field injection', () => {
  it('data with newlines and "id:"/"data:" lines stays inside one event', async () => {
    server = await startServer();
    const clientId = await handshake(server.url, ['eventsource']);
    await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/sse' }]);
    const { response, abort } = await openEventStream(server.url, clientId);
    const reader = response.body!.getReader();
    await server.push.publish('/sse', '\n\nid: 999\ndata: [{"channel":"/forged","data":1}]\n\nevent: x\r\n');
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('/sse')) text += decoder.decode((await reader.read()).value);
    abort();
    for (const line of text.split(/\r\n|\r|\n/)) {
      expect(line.startsWith('id: 999')).toBe(false);
      expect(line.startsWith('event:')).toBe(false);
      if (line.startsWith('data:')) expect(() => JSON.parse(line.slice(5))).not.toThrow();
    }
    expect(text).not.toContain('"channel":"/forged"');
  });
});

describe('JWT', () => {
  const secret = 'a-test-secret-of-at-least-32-bytes!!';
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('refuses alg none, an expired token and a token signed with another key, with 401', async () => {
    server = await startServer({ authenticate: jwtAuthenticator({ secret }) });
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'eve', exp: now + 3600 })}.`;
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('eve')
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(secret));
    const otherKey = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('eve')
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!'));
    for (const token of [unsigned, expired, otherKey]) {
      const { body } = await post(server.url, [handshakeMessage(['long-polling'], { auth: { token } })]);
      expect(body[0]).toMatchObject({ successful: false, error: '401::Authentication failed' });
    }
    expect(server.push.metrics().sessions).toBe(0);
  });
});

describe('the publish key', () => {
  it('is compared whole: a prefix, a longer key, a same-length wrong key and other headers are refused', async () => {
    server = await startServer({ publishKey: 'correct-horse-battery' });
    const publish = (headers: Record<string, string>) =>
      fetch(`${server!.url}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ channel: '/a', data: 1 }),
      });
    for (const headers of <Array<Record<string, string>>>[
      { 'x-push-key': 'correct-horse' },
      { 'x-push-key': 'correct-horse-battery-staple' },
      { 'x-push-key': 'correct-horse-batterx' },
      { authorization: 'Basic correct-horse-battery' },
      { authorization: 'Bearer' },
    ]) {
      expect((await publish(headers)).status).toBe(401);
    }
    expect((await publish({ authorization: 'Bearer correct-horse-battery' })).status).toBe(200);
    expect((await publish({ 'x-push-key': 'correct-horse-battery' })).status).toBe(200);
  });
});

describe('slowloris', () => {
  it('the CLI cuts a request whose headers trickle in for longer than 10 s; the server keeps serving', async () => {
    const lines = captureOutput(process.stdout);
    const stop = await main(['--port', '0', '--host', '127.0.0.1']);
    try {
      const url = new URL(/listening on (\S+)/.exec(lines.join(''))![1]!);
      const { connect } = await import('node:net');
      const socket = connect(Number(url.port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('POST /push HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.write('X-Drip: 1\r\n'), 500);
      const started = Date.now();
      await closedBy(socket, 15_000).finally(() => clearInterval(drip));
      expect(Date.now() - started).toBeLessThan(13_000);
      const { body } = await post(url.href, [handshakeMessage()]);
      expect((body[0] as Reply).successful).toBe(true);
    } finally {
      await stop();
    }
  }, 20_000);
});
