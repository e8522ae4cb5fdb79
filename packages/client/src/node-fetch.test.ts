// nodeFetch against a real node:http server on 127.0.0.1: what the HTTP transports rely on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch } from './node-fetch.js';

let server: http.Server;
let base: string;
const streams = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/echo') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body }));
      });
    } else if (req.url === '/split') {
      // 'aüb' with the two bytes of ü in two chunks
      const bytes = Buffer.from('aüb');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(bytes.subarray(0, 2));
      setTimeout(() => res.end(bytes.subarray(2)), 10);
    } else if (req.url?.startsWith('/path/')) {
      res.end(req.url);
    } else if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      streams.add(res);
      res.write('data: 1\n\n');
      setTimeout(() => res.write('data: 2\n\n'), 20);
    } else if (req.url === '/burst') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      setTimeout(() => res.write('b'), 10);
      setTimeout(() => res.end('c'), 20);
    } else {
      res.writeHead(503);
      res.end('down');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of streams) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('nodeFetch', () => {
  it('POSTs a string body with the given headers and reads the reply as text', async () => {
    const response = await nodeFetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"channel":"/meta/connect","ü":1}]',
    });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual({
      method: 'POST',
      type: 'application/json',
      body: '[{"channel":"/meta/connect","ü":1}]',
    });
  });

  it('reports a non-2xx status as not ok', async () => {
    const response = await nodeFetch(`${base}/missing`);
    expect(response.ok).toBe(false);
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('down');
  });

  it('streams the body chunk by chunk as it arrives, and an abort ends the read', async () => {
    const controller = new AbortController();
    const response = await nodeFetch(`${base}/stream`, { signal: controller.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('data: 1\n\n');
    const second = await reader.read();
    expect(decoder.decode(second.value)).toBe('data: 2\n\n');
    const pending = reader.read();
    controller.abort();
    await expect(pending).rejects.toBeDefined();
  });

  it('hands over chunks that arrived before the read, then the end', async () => {
    const reader = (await nodeFetch(`${base}/burst`)).body!.getReader();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const decoder = new TextDecoder();
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    expect(text).toBe('abc');
    expect(await reader.read()).toEqual({ done: true, value: undefined });
  });

  it('readText: hands over what arrived before it was called, then each chunk as it comes, then the end', async () => {
    const response = await nodeFetch(`${base}/burst`);
    await new Promise((resolve) => setTimeout(resolve, 5)); // 'a' is queued by now
    const got: string[] = [];
    const ended = new Promise((resolve) => response.readText!((text) => got.push(text), resolve));
    expect(got).toEqual(['a']); // at once, not on a later tick
    expect(await ended).toBeUndefined();
    expect(got.join('')).toBe('abc');
    expect(() => response.body!.getReader()).toThrow('body already read');
  });

  it('decodes a character cut between two chunks, read whole (text) or as a stream (readText)', async () => {
    expect(await (await nodeFetch(`${base}/split`)).text()).toBe('aüb');
    const parts: string[] = [];
    const response = await nodeFetch(`${base}/split`);
    await new Promise((resolve) => response.readText!((text) => parts.push(text), resolve));
    expect(parts.join('')).toBe('aüb');
    expect(parts.length).toBe(2);
  });

  it('readText: a reader that throws ends that response with its error, not the process', async () => {
    const response = await nodeFetch(`${base}/stream`);
    const boom = new Error('reader bug');
    const ended = new Promise((resolve) =>
      response.readText!(() => {
        throw boom;
      }, resolve),
    );
    expect(await ended).toBe(boom);
  });

  it('rejects at once when the signal is already aborted, and when nothing listens', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(nodeFetch(`${base}/echo`, { signal: controller.signal })).rejects.toBeDefined();
    await expect(nodeFetch('http://127.0.0.1:1/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('sends each URL its own path and query, however many distinct URLs came before', async () => {
    for (let i = 0; i < 70; i++) {
      const path = `/path/${i}?clientId=c${i}&x=%20y`;
      expect(await (await nodeFetch(`${base}${path}`)).text()).toBe(path);
    }
    expect(await (await nodeFetch(`${base}/path/3?clientId=c3&x=%20y`)).text()).toBe(
      '/path/3?clientId=c3&x=%20y',
    );
  });

  it('reuses a kept-alive connection for sequential requests', async () => {
    const sockets = new Set<unknown>();
    const count = (_req: http.IncomingMessage, res: http.ServerResponse) => sockets.add(res.socket);
    server.on('request', count);
    for (let i = 0; i < 5; i++) await (await nodeFetch(`${base}/echo`, { method: 'POST', body: 'x' })).text();
    server.off('request', count);
    expect(sockets.size).toBe(1);
  });
});
