/** Every transport end to end on 127.0.0.1 with real sockets. */

import { connect, type Socket } from 'node:net';
import { createIframeDecoder, decodeJsonp, type Message, type Reply } from '@push/protocol';
import { eventually, handshake, post, WsClient } from '@push/test-kit/bayeux-client';
import { beforeEach, describe, expect, it } from 'vitest';
import { closeAfterEach, openEventStream, type Running, startServer } from './helpers.js';

let server: Running;
/** Raw WebSocket clients, and the streams' aborts (a stream's `close()`). */
const clients = closeAfterEach<{ close(): unknown }>();

beforeEach(async () => {
  server = await startServer({
    transports: ['websocket', 'eventsource', 'long-polling', 'iframe', 'callback-polling'],
  });
});

const readers = new WeakMap<Response, ReadableStreamDefaultReader<Uint8Array>>();

async function readStream(response: Response, onText: (text: string) => boolean): Promise<void> {
  let reader = readers.get(response);
  if (!reader) {
    reader = response.body!.getReader();
    readers.set(response, reader);
  }
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended');
    if (onText(decoder.decode(value, { stream: true }))) return;
  }
}

/** Every Buffer the server writes to its sockets from now on, one entry per `write` call. */
function recordSocketWrites(): Buffer[] {
  const written: Buffer[] = [];
  server.http.on('connection', (socket: Socket) => {
    const write = socket.write;
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      if (Buffer.isBuffer(chunk)) written.push(chunk);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Socket['write'];
  });
  return written;
}

describe('websocket', () => {
  it('handshakes over the socket, subscribes with wildcards, publishes and receives with offsets', async () => {
    const a = await WsClient.open(server.wsUrl);
    clients.push(a);
    await a.start(['/stocks/*']);
    const reply = await a.publish('/stocks/aex', { price: 1 });
    expect(reply.successful).toBe(true);
    const delivered = await a.waitFor(
      (m) => m.channel === '/stocks/aex' && 'data' in m && !('successful' in m),
    );
    expect(delivered).toMatchObject({ data: { price: 1 }, ext: { push: { offset: 1 } } });
    expect(typeof (delivered.ext!.push as { epoch: string }).epoch).toBe('string');
    expect(server.push.metrics().connections.websocket).toBe(1);
  });

  it('sends messages published in one tick as one frame, in order, to every subscriber', async () => {
    const a = await WsClient.open(server.wsUrl);
    const b = await WsClient.open(server.wsUrl);
    clients.push(a, b);
    await a.start(['/tick']);
    await b.start(['/*']);
    await Promise.all([1, 2, 3].map((n) => server.push.publish('/tick', n)));
    for (const client of [a, b]) {
      await eventually(() => client.data('/tick').length === 3);
      expect(client.data('/tick')).toEqual([1, 2, 3]);
      const frame = client.frames.find((f) => f.some((m) => m.channel === '/tick'));
      expect(frame?.map((m) => (m as { data: unknown }).data)).toEqual([1, 2, 3]);
    }
  });

  it('writes each reply batch to the socket as one whole frame, header included', async () => {
    // ws.send would write the header and the payload as two buffers, gathered into one writev.
    const written = recordSocketWrites();
    const a = await WsClient.open(server.wsUrl);
    clients.push(a);
    await a.start(['/whole']);
    for (const channel of ['/meta/handshake', '/meta/subscribe']) {
      const frames = written.filter((bytes) => bytes.includes(`"channel":"${channel}"`));
      expect(frames, channel).toHaveLength(1);
      const frame = frames[0]!;
      expect(frame[0]).toBe(0x81); // FIN + text: the header is in the same write
      const length = frame[1]! < 126 ? frame[1]! : frame.readUInt16BE(2);
      const header = frame[1]! < 126 ? 2 : 4;
      expect(frame.length).toBe(header + length);
      const [reply] = JSON.parse(frame.subarray(header).toString()) as Reply[];
      expect(reply).toMatchObject({ channel, successful: true });
    }
  });

  it('accepts a handshake over HTTP first and the connect over the socket (Faye style)', async () => {
    const clientId = await handshake(server.url, ['websocket']);
    const a = await WsClient.open(server.wsUrl);
    clients.push(a);
    a.clientId = clientId;
    a.connect();
    await a.subscribe('/news');
    await server.push.publish('/news', 'hello');
    await a.waitFor((m) => m.channel === '/news' && (m as { data?: unknown }).data === 'hello');
  });

  it('holds /meta/connect and answers it at advice.timeout', async () => {
    await server.close();
    server = await startServer({ timeout: 200 });
    const a = await WsClient.open(server.wsUrl);
    clients.push(a);
    await a.start();
    const started = Date.now();
    const reply = (await a.waitFor((m) => m.channel === '/meta/connect')) as Reply;
    expect(reply.successful).toBe(true);
    expect(reply.advice).toMatchObject({ reconnect: 'retry', timeout: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('long-polling', () => {
  it('holds /meta/connect until a message arrives and batches several messages in one response', async () => {
    const clientId = await handshake(server.url);
    const sub = await post(server.url, [
      { channel: '/meta/subscribe', clientId, subscription: '/chat/**', id: '2' },
    ]);
    expect(sub.body[0]).toMatchObject({ successful: true, subscription: '/chat/**' });
    // first connect returns at once (advice.timeout 0 from the client), as CometD does
    const first = await post(server.url, [
      { channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } },
    ]);
    expect(first.body[0]).toMatchObject({ successful: true, advice: { reconnect: 'retry', timeout: 30000 } });
    const held = post(`${server.url}/connect`, [
      { channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '3' },
    ]);
    await eventually(() => server.push.metrics().sessions === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([server.push.publish('/chat/a/b', 1), server.push.publish('/chat/c', 2)]);
    const { body } = await held;
    expect(body[0]).toMatchObject({ channel: '/meta/connect', successful: true, id: '3' });
    expect(body.slice(1).map((m) => (m as Message & { data: unknown }).data)).toEqual([1, 2]);
  });

  it('piggybacks queued messages on the response to any request', async () => {
    const clientId = await handshake(server.url);
    await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/p', id: '2' }]);
    await server.push.publish('/p', 'queued');
    const { body } = await post(server.url, [{ channel: '/p', clientId, data: 'mine', id: '3' }]);
    expect(body[0]).toMatchObject({ channel: '/p', successful: true, id: '3' });
    expect(body.filter((m) => !('successful' in m)).map((m) => (m as { data?: unknown }).data)).toEqual([
      'queued',
      'mine',
    ]);
  });

  it('advises plain polling (timeout 0, interval N) when configured, and answers at once', async () => {
    await server.close();
    server = await startServer({ pollingInterval: 1500 });
    const { body } = await post(server.url, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] },
    ]);
    expect(body[0]!.advice).toMatchObject({ timeout: 0, interval: 1500 });
    const clientId = body[0]!.clientId!;
    const connect = await post(server.url, [
      { channel: '/meta/connect', clientId, connectionType: 'long-polling' },
    ]);
    expect(connect.body[0]).toMatchObject({ successful: true, advice: { timeout: 0, interval: 1500 } });
  });
});

describe('eventsource', () => {
  it('streams padding at once, then one id:-tagged event per message; upstream goes by POST', async () => {
    const clientId = await handshake(server.url, ['eventsource']);
    const { response, abort } = await openEventStream(server.url, clientId);
    clients.push({ close: abort });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    await readStream(response, (chunk) => {
      text += chunk;
      return text.length >= 2048;
    });
    expect(text.startsWith(':')).toBe(true);
    const connect = await post(server.url, [
      { channel: '/meta/connect', clientId, connectionType: 'eventsource' },
    ]);
    expect(connect.body[0]).toMatchObject({ successful: true, advice: { timeout: 0 } });
    await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/sse', id: '2' }]);
    await server.push.publish('/sse', { n: 1 });
    await server.push.publish('/sse', { n: 2 });
    await readStream(response, (chunk) => {
      text += chunk;
      return text.includes('"n":2');
    });
    const events = text.split('\n\n').filter((block) => block.startsWith('id:'));
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^id: 1\ndata: \[\{"channel":"\/sse","data":\{"n":1\}/);
    expect(server.push.metrics().connections.eventsource).toBe(1);
  });

  it('writes each delivery to the socket as one chunk, shared by every subscriber', async () => {
    // Request bodies and fetch's own writes aside.
    const written = recordSocketWrites();
    const streams: Array<{ response: Response; text: string }> = [];
    for (let i = 0; i < 2; i++) {
      const clientId = await handshake(server.url, ['eventsource']);
      const { response, abort } = await openEventStream(server.url, clientId);
      clients.push({ close: abort });
      await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/chunk', id: '2' }]);
      streams.push({ response, text: '' });
    }
    await server.push.publish('/chunk', { n: 1 });
    for (const stream of streams) {
      await readStream(stream.response, (chunk) => {
        stream.text += chunk;
        return stream.text.includes('"n":1');
      });
      expect(stream.text).toMatch(/\n\nid: 1\ndata: \[\{"channel":"\/chunk","data":\{"n":1\}/);
    }
    // Both sockets got the same Buffer, a whole chunk: size, CRLF, the event, CRLF.
    const chunks = written.filter((bytes) => bytes.includes('id: 1\n'));
    expect(chunks).toHaveLength(2);
    expect(chunks[0]).toBe(chunks[1]);
    const text = chunks[0]!.toString();
    const size = /^([0-9a-f]+)\r\n/.exec(text)!;
    expect(text.endsWith('\n\n\r\n')).toBe(true);
    expect(Buffer.byteLength(text) - size[0].length - 2).toBe(Number.parseInt(size[1]!, 16));
  });

  it('writes plain events to an HTTP/1.0 client, whose body is not chunked', async () => {
    const clientId = await handshake(server.url, ['eventsource']);
    await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/old', id: '2' }]);
    const socket = connect(server.port, '127.0.0.1');
    clients.push({ close: () => socket.destroy() });
    let raw = '';
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
    });
    socket.write(`GET /push/${clientId} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    await eventually(() => raw.includes('\r\n\r\n:'));
    await server.push.publish('/old', { n: 1 });
    await eventually(() => raw.includes('"n":1'));
    expect(raw).not.toMatch(/transfer-encoding/i);
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    // Straight after the padding comment's blank line: the event, no chunk size before it.
    expect(body).toMatch(/\n\nid: 1\ndata: \[\{"channel":"\/old","data":\{"n":1\}.*\}\]\n\n$/s);
  });

  it('tells an unknown clientId to handshake again', async () => {
    const response = await fetch(`${server.url}/nope`, { headers: { accept: 'text/event-stream' } });
    const text = await response.text();
    expect(text).toContain('402::Unknown client');
    expect(text).toContain('"reconnect":"handshake"');
  });
});

describe('iframe', () => {
  it('streams <script> chunks decodable by the protocol iframe decoder, escaping script-breaking data', async () => {
    const clientId = await handshake(server.url, ['iframe']);
    const abort = new AbortController();
    clients.push({ close: () => abort.abort() });
    const response = await fetch(`${server.url}/iframe?clientId=${clientId}&callback=parent_cb`, {
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/html');
    const batches: Array<Message[] | null> = [];
    const decoder = createIframeDecoder({ onBatch: (batch) => batches.push(batch) });
    await readStream(response, (chunk) => {
      decoder.feed(chunk);
      return batches.length >= 1;
    });
    expect(batches[0]).toBeNull();
    await post(server.url, [{ channel: '/meta/subscribe', clientId, subscription: '/frame', id: '2' }]);
    await server.push.publish('/frame', '</script><script>alert(1)</script>');
    let raw = '';
    await readStream(response, (chunk) => {
      raw += chunk;
      decoder.feed(chunk);
      return batches.length >= 2;
    });
    expect(raw).not.toContain('</script><script>alert');
    expect(batches[1]![0]).toMatchObject({ channel: '/frame', data: '</script><script>alert(1)</script>' });
  });

  it('refuses an invalid callback name', async () => {
    const response = await fetch(`${server.url}/iframe?clientId=x&callback=alert(1)`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(
      '400::Bad request: callback must be a JavaScript identifier path',
    );
  });
});

describe('callback-polling (JSONP)', () => {
  const jsonp = async (messages: unknown, callback = 'cb') => {
    const response = await fetch(
      `${server.url}?message=${encodeURIComponent(JSON.stringify(messages))}&jsonp=${callback}`,
    );
    return { response, body: await response.text() };
  };

  it('handshakes, subscribes, and receives through /**/cb([...]);', async () => {
    const hs = await jsonp([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] },
    ]);
    expect(hs.response.headers.get('content-type')).toContain('text/javascript');
    const clientId = (decodeJsonp(hs.body).messages[0] as Reply).clientId!;
    await jsonp([{ channel: '/meta/subscribe', clientId, subscription: '/j' }]);
    const held = jsonp([{ channel: '/meta/connect', clientId, connectionType: 'callback-polling' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.push.publish('/j', 'x<y');
    const { body } = await held;
    expect(body).not.toContain('x<y');
    const { callback, messages } = decodeJsonp(body);
    expect(callback).toBe('cb');
    expect(messages[1]).toMatchObject({ channel: '/j', data: 'x<y' });
  });

  it('is off unless enabled', async () => {
    await server.close();
    server = await startServer();
    const { response, body } = await jsonp([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] },
    ]);
    expect(response.status).toBe(400);
    expect(body).toContain('406:callback-polling:Unsupported connection type');
  });

  it('refuses an invalid callback name', async () => {
    const { response, body } = await jsonp([{ channel: '/meta/handshake' }], 'x;alert(1)');
    expect(response.status).toBe(400);
    expect(body).toContain('jsonp must be a JavaScript identifier path');
  });
});

describe('stream heartbeats', () => {
  it('SSE sends :heartbeat comments and the iframe calls the callback with an empty batch every heartbeatInterval', async () => {
    await server.close();
    server = await startServer({ heartbeatInterval: 100 });
    const clientId = await handshake(server.url, ['eventsource']);
    const abort = new AbortController();
    clients.push({ close: () => abort.abort() });
    const sse = await fetch(`${server.url}/${clientId}`, {
      headers: { accept: 'text/event-stream' },
      signal: abort.signal,
    });
    let sseText = '';
    await readStream(sse, (chunk) => {
      sseText += chunk;
      return sseText.includes(':heartbeat\n\n');
    });
    const frameId = await handshake(server.url, ['iframe']);
    const frame = await fetch(`${server.url}/iframe?clientId=${frameId}&callback=cb`, {
      signal: abort.signal,
    });
    let html = '';
    await readStream(frame, (chunk) => {
      html += chunk;
      return html.split('<script>parent.cb([]);</script>').length > 2;
    });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });
});
