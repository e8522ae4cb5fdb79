/**
 * Attack suite, issue 12 row 7 and the CORS/WebSocket weaknesses: CORS never allows credentials
 * without an `origins` list; with a list, requests without an Origin header (JSONP `<script>`,
 * form posts, iframes, upgrades) are judged by `Sec-Fetch-Site` and `Referer`.
 */
import type { Reply } from '@push/protocol';
import { handshake, handshakeMessage } from '@push/test-kit/bayeux-client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { PushServerOptions } from '../src/index.js';
import type { PushLogEntry } from '../src/options.js';
import { closeAfterEach, type Running, startServer } from './helpers.js';

let server: Running | undefined;
closeAfterEach();

const APP = 'https://app.example';
const EVIL = 'https://evil.example';
const FORBIDDEN_TEXT = /^403:[^:]*:Forbidden: origin denied$/;

/** A cookie-based `authenticate` (the case CSRF and cross-site WebSocket hijacking go after). */
function cookieAuth(calls: string[]): PushServerOptions['authenticate'] {
  return (_handshake, request) => {
    calls.push(request.transport);
    return /session=alice/.test(String(request.headers.cookie ?? '')) ? { id: 'alice' } : null;
  };
}

const handshakeBatch = JSON.stringify([handshakeMessage(['long-polling', 'callback-polling'])]);

/** The three requests a hostile page can make without an Origin header. */
function browserRequests(url: string) {
  return {
    jsonp: (headers: Record<string, string>) =>
      fetch(`${url}?jsonp=cb&message=${encodeURIComponent(handshakeBatch)}`, { headers }),
    form: (headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams({ message: handshakeBatch }).toString(),
      }),
    iframe: (headers: Record<string, string>, clientId = 'x') =>
      fetch(`${url}/iframe?clientId=${clientId}&callback=cb`, { headers }),
  };
}

/** Status of a WebSocket upgrade: 101 when it opened, else the refusal's status. */
function upgrade(url: string, headers: Record<string, string>, origin?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('CORS without an origins list', () => {
  it('never sends access-control-allow-credentials (nor reflects the Origin), for requests and preflights', async () => {
    server = await startServer();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { origin: EVIL, 'content-type': 'application/json' },
      body: handshakeBatch,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('with a list, only a listed Origin gets credentials', async () => {
    server = await startServer({ origins: [APP] });
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: handshakeBatch,
    });
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
  });
});

describe('an authenticate hook without an origins list', () => {
  it('is warned about once, through the logger, when the server is created', async () => {
    const entries: PushLogEntry[] = [];
    const logger = { warn: (entry: PushLogEntry) => entries.push(entry) };
    server = await startServer({ authenticate: () => ({}), logger });
    await handshake(server.url);
    await handshake(server.url);
    expect(entries.map((entry) => entry.code)).toEqual(['insecure-origins']);
    expect(entries[0]!.message).toContain('set origins');
    await server.close();
    entries.length = 0;
    server = await startServer({ authenticate: () => ({}), origins: [APP], logger });
    await server.close();
    server = await startServer({ logger });
    expect(entries).toEqual([]);
  });
});

describe('row 7: with an origins list, Origin-less browser requests are checked too', () => {
  /** A server for APP only, with the cookie authenticator and every Origin-less browser transport. */
  const startGuarded = (calls: string[]) =>
    startServer({
      origins: [APP],
      authenticate: cookieAuth(calls),
      transports: ['long-polling', 'callback-polling', 'iframe'],
    });

  it('JSONP GET, form POST and iframe GET from a cross-site page (Sec-Fetch-Site) are refused before authenticate runs', async () => {
    const calls: string[] = [];
    server = await startGuarded(calls);
    const victim = { cookie: 'session=alice' };
    const send = browserRequests(server.url);
    for (const site of ['cross-site', 'same-site']) {
      for (const request of [send.jsonp, send.form, send.iframe]) {
        const response = await request({ ...victim, 'sec-fetch-site': site });
        expect(response.status).toBe(403);
        const text = await response.text();
        expect(text).not.toContain('clientId');
        expect((JSON.parse(text) as Reply[])[0]!.error).toMatch(FORBIDDEN_TEXT);
      }
    }
    // A foreign Referer does not help, the listed site's does.
    const foreign = await send.jsonp({ ...victim, 'sec-fetch-site': 'cross-site', referer: `${EVIL}/x` });
    expect(foreign.status).toBe(403);
    expect(calls).toEqual([]);
    const listed = await send.jsonp({ ...victim, 'sec-fetch-site': 'cross-site', referer: `${APP}/page` });
    expect(listed.status).toBe(200);
    expect(await listed.text()).toMatch(/^\/\*\*\/cb\(\[\{"channel":"\/meta\/handshake","successful":true/);
    expect(calls).toEqual(['callback-polling']);
  });

  it('without Sec-Fetch-Site (older browsers), a foreign Referer is refused; a listed or same-host one passes', async () => {
    const calls: string[] = [];
    server = await startGuarded(calls);
    const send = browserRequests(server.url);
    const victim = { cookie: 'session=alice' };
    for (const request of [send.jsonp, send.form, send.iframe]) {
      expect((await request({ ...victim, referer: `${EVIL}/attack.html` })).status).toBe(403);
      expect((await request({ ...victim, referer: 'not a url' })).status).toBe(403);
    }
    expect(calls).toEqual([]);
    expect((await send.form({ ...victim, referer: `${APP}/chat` })).status).toBe(200);
    const sameHost = `http://127.0.0.1:${server.port}/page`;
    expect((await send.form({ ...victim, referer: sameHost })).status).toBe(200);
    expect((await send.form({ ...victim, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect(calls).toEqual(['long-polling', 'long-polling', 'long-polling']);
  });

  it('a request with neither Origin, Sec-Fetch-Site nor Referer is a non-browser client and is served', async () => {
    server = await startServer({
      origins: [APP],
      transports: ['long-polling', 'callback-polling', 'iframe'],
    });
    const send = browserRequests(server.url);
    expect((await send.jsonp({})).status).toBe(200);
    expect((await send.form({})).status).toBe(200);
    const clientId = await handshake(server.url);
    const iframe = await send.iframe({}, clientId);
    expect(iframe.status).toBe(200);
    await iframe.body?.cancel();
  });

  it('WebSocket upgrades from a foreign Origin, or Origin-less from a cross-site page, are refused', async () => {
    server = await startServer({ origins: [APP] });
    expect(await upgrade(server.wsUrl, {}, EVIL)).toBe(403);
    expect(await upgrade(server.wsUrl, { 'sec-fetch-site': 'cross-site' })).toBe(403);
    expect(await upgrade(server.wsUrl, { referer: `${EVIL}/` })).toBe(403);
    expect(await upgrade(server.wsUrl, {}, APP)).toBe(101);
    expect(await upgrade(server.wsUrl, {})).toBe(101);
  });
});
