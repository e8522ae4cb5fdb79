// The HTTP transports against a scripted fetch: wire forms, first-bytes liveness, idle streams.

import { FakeClock, settle } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { PushError } from '../errors.js';
import { fakeOnline } from '../testing/fakes.js';
import type { Message, Platform, TransportEvents } from '../types.js';
import { eventSource } from './eventsource.js';
import { unreachable } from './http.js';
import { iframe } from './iframe.js';
import { longPolling } from './long-polling.js';
import { TransportError, type TransportErrorCode } from './transport.js';
import { websocket } from './websocket.js';

function harness() {
  const clock = new FakeClock();
  const requests: { url: string; init: RequestInit }[] = [];
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const encoder = new TextEncoder();
  let postReply: (body: Message[]) => Response = (body) =>
    new Response(JSON.stringify(body.map((m) => ({ channel: m.channel, id: m.id, successful: true }))));
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    if (init.method === 'POST') return postReply(JSON.parse(String(init.body)));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = controller;
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  }) as typeof globalThis.fetch;
  const env: Platform = { clock, fetch, online: fakeOnline(), random: Math.random, log: () => {} };
  const log: string[] = [];
  const batches: Message[][] = [];
  const events: TransportEvents = {
    open: () => log.push('open'),
    message: (batch) => batches.push(batch),
    close: (error) => log.push(`close:${error.code}${error.status ? ` ${error.status}` : ''}`),
  };
  return {
    clock,
    env,
    events,
    log,
    batches,
    requests,
    write: (text: string) => push.enqueue(encoder.encode(text)),
    failPosts: () => {
      postReply = () => new Response('nope', { status: 503 });
    },
  };
}

const url = new URL('http://x.test/push');

describe('eventsource transport', () => {
  it("opens Faye's GET {path}/{clientId} stream, signals open on the first bytes, parses events", async () => {
    const h = harness();
    const t = eventSource({ idleTimeout: 5000 }).create(url, h.events, h.env);
    t.open('abc');
    await settle();
    expect(h.requests[0]!.url).toBe('http://x.test/push/abc');
    expect((h.requests[0]!.init.headers as Record<string, string>).accept).toBe('text/event-stream');
    expect(h.log).toEqual([]);
    h.write(`:${' '.repeat(2048)}\n\n`); // the padding comment
    await settle();
    expect(h.log).toEqual(['open']);
    h.write('id: 1\ndata: [{"channel":"/a","data":1}]\n\n');
    await settle();
    expect(h.batches).toEqual([[{ channel: '/a', data: 1 }]]);
    await t.send([{ channel: '/meta/connect', clientId: 'abc', connectionType: 'eventsource', id: '7' }]);
    expect(h.requests[1]!.init.method).toBe('POST');
    expect(h.requests[1]!.url).toBe('http://x.test/push');
    expect(h.batches[1]).toEqual([{ channel: '/meta/connect', id: '7', successful: true }]);
    t.close();
    await settle();
    expect(h.log).toEqual(['open']); // no close event after our own close()
  });

  it('declares a silent stream dead after idleTimeout; heartbeats keep it alive', async () => {
    const h = harness();
    const t = eventSource({ idleTimeout: 5000 }).create(url, h.events, h.env);
    t.open('abc');
    await settle();
    h.write(':\n\n');
    await h.clock.advance(4000);
    h.write(': heartbeat\n\n');
    await h.clock.advance(4000);
    expect(h.log).toEqual(['open']);
    await h.clock.advance(1000);
    expect(h.log).toEqual(['open', 'close:idle']);
  });
});

describe('a fetch that hands over text (readText, as nodeFetch does)', () => {
  /** A scripted response whose body is read through readText only (getReader would throw). */
  function textFetch() {
    let onText!: (text: string) => void;
    let onEnd!: (error?: unknown) => void;
    const fetch = (async () => ({
      ok: true,
      status: 200,
      body: {
        getReader() {
          throw new Error('read through readText, not getReader');
        },
      },
      text: async () => '',
      readText(text: (text: string) => void, end: (error?: unknown) => void) {
        onText = text;
        onEnd = end;
      },
    })) as unknown as Platform['fetch'];
    return { fetch, write: (text: string) => onText(text), end: (error?: unknown) => onEnd(error) };
  }

  for (const [how, error, code] of [
    ['ends', undefined, 'closed'],
    ['fails', new Error('ECONNRESET'), 'network'],
  ] as const) {
    it(`streams events through it at once, and closes with ${code} when the body ${how}`, async () => {
      const h = harness();
      const text = textFetch();
      const t = eventSource().create(url, h.events, { ...h.env, fetch: text.fetch });
      t.open('abc');
      await settle();
      text.write(':padding\n\n');
      text.write('id: 1\ndata: [{"channel":"/a","data":1}]\n\ndata: [{"channel":"/a"');
      text.write(',"data":2}]\n\n');
      // No await: each chunk was parsed as it was handed over.
      expect(h.log).toEqual(['open']);
      expect(h.batches).toEqual([[{ channel: '/a', data: 1 }], [{ channel: '/a', data: 2 }]]);
      text.end(error);
      expect(h.log).toEqual(['open', `close:${code}`]);
    });
  }
});

describe('long-polling transport', () => {
  it('POSTs each batch and feeds the replies; a failed POST closes the transport', async () => {
    const h = harness();
    const t = longPolling().create(url, h.events, h.env);
    t.open();
    await settle();
    expect(h.log).toEqual(['open']);
    await t.send([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    expect((h.requests[0]!.init.headers as Record<string, string>)['content-type']).toBe('application/json');
    expect(h.batches).toEqual([[{ channel: '/meta/handshake', id: '1', successful: true }]]);
    h.failPosts();
    await expect(t.send([{ channel: '/x', data: 1, id: '2' }])).rejects.toMatchObject({
      name: 'TransportError',
      code: 'http-status',
      transport: 'long-polling',
      status: 503,
    });
    expect(h.log).toEqual(['open', 'close:http-status 503']);
    await expect(t.send([{ channel: '/x', data: 1, id: '3' }])).rejects.toMatchObject({ code: 'not-open' });
  });
});

describe('request deadline', () => {
  /** A fetch whose requests are never answered; an abort rejects them. */
  const hanging = (async (_url: string, init: RequestInit) =>
    new Promise((_, reject) =>
      init.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
    )) as typeof globalThis.fetch;

  it('fails the transport with timeout when a request other than a held connect goes unanswered for requestTimeout', async () => {
    const h = harness();
    const t = longPolling().create(url, h.events, { ...h.env, fetch: hanging, requestTimeout: 3000 });
    t.open();
    await settle();
    const connect = t.send([
      { channel: '/meta/connect', clientId: 'c', connectionType: 'long-polling', id: '1' },
    ]);
    connect.catch(() => {});
    // A held connect has the cycle's heartbeat, not this deadline.
    await h.clock.advance(20_000);
    expect(h.log).toEqual(['open']);
    const subscribe = t.send([{ channel: '/meta/subscribe', clientId: 'c', subscription: '/a', id: '2' }]);
    subscribe.catch(() => {});
    await h.clock.advance(2999);
    expect(h.log).toEqual(['open']);
    await h.clock.advance(1);
    await expect(subscribe).rejects.toMatchObject({ code: 'timeout', transport: 'long-polling' });
    expect(h.log).toEqual(['open', 'close:timeout']);
  });

  it('close() ends the held connects in flight (they share one abort) and the other requests', async () => {
    const h = harness();
    const t = longPolling().create(url, h.events, { ...h.env, fetch: hanging });
    t.open();
    await settle();
    const sent = [1, 2].map((n) =>
      t.send([{ channel: '/meta/connect', clientId: 'c', connectionType: 'long-polling', id: `${n}` }]),
    );
    sent.push(t.send([{ channel: '/meta/subscribe', clientId: 'c', subscription: '/a', id: '3' }]));
    for (const request of sent) request.catch(() => {});
    t.close();
    for (const request of sent) await expect(request).rejects.toMatchObject({ code: 'closed' });
    expect(h.log).toEqual(['open']);
  });

  it('defaults to 10 s', async () => {
    const h = harness();
    const t = longPolling().create(url, h.events, { ...h.env, fetch: hanging });
    t.open();
    await settle();
    t.send([{ channel: '/x', data: 1, id: '1' }]).catch(() => {});
    await h.clock.advance(9999);
    expect(h.log).toEqual(['open']);
    await h.clock.advance(1);
    expect(h.log).toEqual(['open', 'close:timeout']);
  });
});

// Issue 14: what an HTTP failure says about the server, for negotiation (`outage`).
describe('unreachable (outage or broken transport)', () => {
  it('counts no answer at all and a 502-504 as the server being unreachable; anything else is the transport', () => {
    const failure = (code: TransportErrorCode, status?: number) =>
      new TransportError(code, 'long-polling', status ? { status } : {});
    expect(unreachable(failure('network'))).toBe(true);
    for (const status of [502, 503, 504]) expect(unreachable(failure('http-status', status))).toBe(true);
    for (const status of [400, 403, 404, 500, 501, 505])
      expect(unreachable(failure('http-status', status))).toBe(false);
    for (const code of ['timeout', 'closed', 'error', 'idle', 'bad-frame'] as const)
      expect(unreachable(failure(code))).toBe(false);
    expect(unreachable(new PushError('rejected', 'Handshake refused'))).toBe(false);
  });

  it('is what the HTTP factories answer; the WebSocket, which shows no status, has no say', () => {
    for (const factory of [eventSource(), longPolling(), iframe()]) expect(factory.outage).toBe(unreachable);
    expect(websocket().outage).toBeUndefined();
  });
});
