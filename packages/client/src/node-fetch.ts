/**
 * The HTTP transports' requests in Node over `node:http`/`node:https` with keep-alive agents.
 *
 * Why not Node's global `fetch`: undici's fetch builds a WHATWG Request, Response, AbortSignal
 * chain and web streams per request, which costs several times what the request itself does.
 * Measured on loopback (a 200-client POST loop, Node 20): about 600 µs more CPU per request than
 * `http.request`, so a Node process running many long-polling or SSE clients spent most of its
 * time inside fetch. Browsers' fetch is native; this is only the Node build's default.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { urlToHttpOptions } from 'node:url';
import type { FetchInit, FetchLike, FetchResponse } from './transports/transport.js';

// Every idle connection is kept until the server closes it (as undici does): with Node's default
// of 256 free sockets per host, a process running more clients than that reconnected on most POSTs.
const agentOptions = { keepAlive: true, maxFreeSockets: Number.POSITIVE_INFINITY };
const agents = {
  'http:': new http.Agent(agentOptions),
  'https:': new https.Agent(agentOptions),
};

type ReadResult = ReadableStreamReadResult<Uint8Array>;

/**
 * Request options per URL, parsed once: the transports POST to one URL again and again (a
 * long-polling client once per delivery), and parsing it into a URL and then into options showed
 * in the profiles of many clients per process. Stream URLs carry a clientId, so the map is
 * emptied when it reaches this many.
 */
const TARGETS_KEPT = 64;
const targets = new Map<string, http.RequestOptions>();
function targetOf(url: string): http.RequestOptions {
  let target = targets.get(url);
  if (!target) {
    if (targets.size >= TARGETS_KEPT) targets.clear();
    target = urlToHttpOptions(new URL(url));
    targets.set(url, target);
  }
  return target;
}

/**
 * A response body, read either the way the transports read `response.body.getReader()` (a read
 * finds a chunk already queued and is answered at once, or parks its promise's resolvers until one
 * comes) or, through `readText`, as decoded text handed over the moment each chunk arrives, with
 * no promise per chunk: a stream delivers a chunk per message.
 */
function responseBody(res: http.IncomingMessage) {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: unknown;
  let resolve: ((r: ReadResult) => void) | undefined;
  let reject: ((e: unknown) => void) | undefined;
  /** The reader that took the body by callback, once there is one: what is queued, then each chunk. */
  let listener: { chunk: (bytes: Uint8Array) => void; end: (error?: unknown) => void } | undefined;
  const park = (yes: (r: ReadResult) => void, no: (e: unknown) => void) => {
    resolve = yes;
    reject = no;
  };
  /** What a read gets now (a chunk, or the end), or undefined while there is neither. */
  const take = (): ReadResult | undefined =>
    chunks.length > 0
      ? { done: false, value: chunks.shift()! }
      : ended && failure === undefined
        ? { done: true, value: undefined }
        : undefined;
  const handOver = (to: NonNullable<typeof listener>) => {
    try {
      while (chunks.length > 0) to.chunk(chunks.shift()!);
    } catch (error) {
      // The reader's own failure ends this response, not the process (it runs in a socket event).
      failure ??= error;
      res.destroy();
    }
    if (failure === undefined && !ended) return;
    listener = undefined;
    to.end(failure);
  };
  const wake = () => {
    if (listener) return handOver(listener);
    if (!resolve) return;
    const result = take();
    if (result === undefined && failure === undefined) return;
    const yes = resolve;
    const no = reject!;
    resolve = reject = undefined;
    if (result) yes(result);
    else no(failure);
  };
  res.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    // A reader that does not keep up stops the socket (TCP backpressure) instead of buffering.
    if (chunks.length >= 16) res.pause();
    wake();
  });
  res.on('end', () => {
    ended = true;
    wake();
  });
  res.on('error', (error) => {
    failure = error;
    wake();
  });
  res.on('aborted', () => {
    failure ??= new Error('response aborted');
    wake();
  });
  return {
    read(): Promise<ReadResult> {
      if (res.isPaused() && chunks.length < 4) res.resume();
      const result = take();
      if (result) return Promise.resolve(result);
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise(park);
    },
    /** Takes the body by callback: each chunk as it arrives, then `end` once. */
    listen(chunk: (bytes: Uint8Array) => void, end: (error?: unknown) => void): void {
      listener = { chunk, end };
      res.resume();
      handOver(listener);
    },
  };
}

/**
 * `fetch` for the HTTP transports in Node: the subset they use (method, headers, a string body,
 * an abort signal; `ok`, `status`, `text()`, a streaming `body.getReader()` and `readText`). `credentials` and
 * `cache` have no meaning without a browser and are ignored. The Node build of `@push/client`
 * (the `node` export condition) uses it unless `fetch` is given.
 * @example createClient({ url: 'http://localhost:8080/push', fetch: nodeFetch });
 */
export const nodeFetch: FetchLike = (url: string, init: FetchInit = {}) =>
  new Promise<FetchResponse>((resolve, reject) => {
    const target = targetOf(url);
    const secure = target.protocol === 'https:';
    const body = init.body;
    const headers: Record<string, string | number> = { ...init.headers };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const request = (secure ? https : http).request({
      ...target,
      method: init.method ?? 'GET',
      headers,
      agent: secure ? agents['https:'] : agents['http:'],
    });
    const signal = init.signal;
    const abort = () => request.destroy(signal?.reason ?? new Error('aborted'));
    request.on('error', (error) => {
      signal?.removeEventListener('abort', abort);
      reject(error);
    });
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const reader = responseBody(res);
      res.on('close', () => signal?.removeEventListener('abort', abort));
      let used = false;
      const use = () => {
        if (used) throw new TypeError('body already read');
        used = true;
      };
      resolve({
        ok: status >= 200 && status < 300,
        status,
        body: {
          getReader() {
            use();
            return reader;
          },
        },
        readText(onText, onEnd) {
          use();
          // Node's StringDecoder, not a TextDecoder: a streaming TextDecoder.decode took ~230 ns per
          // SSE event here, StringDecoder.write ~60 (both keep a character split across chunks).
          const decoder = new StringDecoder('utf8');
          reader.listen((bytes) => onText(decoder.write(bytes)), onEnd);
        },
        text() {
          use();
          // A reply is decoded once, whole: no decoder, no string per chunk.
          const parts: Uint8Array[] = [];
          return new Promise((done, fail) =>
            reader.listen(
              (bytes) => parts.push(bytes),
              (error) => (error === undefined ? done(Buffer.concat(parts).toString()) : fail(error)),
            ),
          );
        },
      });
    });
    request.end(body);
  });
