/**
 * A live server for the fuzzer, with one sender per ingress. Every sender checks the property
 * for its ingress: the server answers with a Bayeux error (or a success), or closes that one
 * connection; it never answers 500 and never throws out of a handler.
 */

import { handshake, WsClient } from '@push/test-kit/bayeux-client';
import WebSocket from 'ws';
import type { PushLogEntry } from '../../src/index.js';
import { type Running, startServer } from '../helpers.js';
import { type FuzzCase, type Ingress, LIVE_CLIENT } from './inputs.js';

export const PUBLISH_KEY = 'fuzz-publish-key';

/** Statuses an ingress may answer with (anything else, 500 included, fails the property). */
const ALLOWED_STATUS: Record<Ingress, readonly number[]> = {
  websocket: [],
  'long-polling': [200, 400, 413],
  'form-post': [200, 400, 413],
  // 431: Node refuses a request line longer than its header limit before we see it.
  jsonp: [200, 400, 413, 431],
  publish: [200, 400, 403, 413],
  'iframe-url': [200, 400, 431],
  'sse-url': [200, 400, 431],
};

export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
}

/** Checks a JSON response body is a Bayeux batch (array of objects with a string channel). */
function assertBayeuxBatch(text: string, where: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FuzzFailure(`${where}: response is not JSON: ${text.slice(0, 200)}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new FuzzFailure(`${where}: response is not a batch: ${text.slice(0, 200)}`);
  for (const item of parsed) {
    if (
      typeof item !== 'object' ||
      item === null ||
      typeof (item as { channel?: unknown }).channel !== 'string'
    )
      throw new FuzzFailure(`${where}: response holds a non-message: ${text.slice(0, 200)}`);
  }
}

export interface FuzzTarget {
  readonly running: Running;
  /** Contained faults and other log lines (a fuzz input must cause none). */
  readonly logged: PushLogEntry[];
  send(input: FuzzCase): Promise<void>;
  /** Publishes to the control client's channel and waits until it has it. */
  checkControl(): Promise<void>;
  close(): Promise<void>;
}

export async function startFuzzTarget(): Promise<FuzzTarget> {
  const logged: PushLogEntry[] = [];
  const running = await startServer({
    transports: ['websocket', 'eventsource', 'long-polling', 'iframe', 'callback-polling'],
    timeout: 100,
    sessionTimeout: 2_000,
    publishKey: PUBLISH_KEY,
    logger: { warn: (entry) => logged.push(entry) },
    // The fuzzer handshakes thousands of times from one address and never connects most of them.
    limits: { handshakesPerMinute: 1_000_000, handshakeTimeout: 500 },
  });
  const control = await WsClient.open(running.wsUrl);
  // A real client's connect loop: each answered /meta/connect is followed by the next one.
  control.ws.on('message', (data) => {
    const batch = JSON.parse(data.toString()) as Array<{ channel?: string; successful?: boolean }>;
    if (batch.some((m) => m.channel === '/meta/connect' && m.successful)) control.connect();
  });
  await control.start(['/control']);
  let controlCount = 0;
  let live = await handshake(running.url);
  let liveAt = Date.now();
  let socket = await openSocket(running.wsUrl);

  const liveClient = async (): Promise<string> => {
    // Sessions that never connect end after handshakeTimeout: take a fresh one now and then.
    if (Date.now() - liveAt > 300) {
      live = await handshake(running.url);
      liveAt = Date.now();
    }
    return live;
  };

  const request = async (ingress: Ingress, url: string, init: RequestInit, stream = false): Promise<void> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5_000);
    try {
      const response = await fetch(url, { ...init, signal: controller.signal });
      if (!ALLOWED_STATUS[ingress].includes(response.status)) {
        throw new FuzzFailure(
          `${ingress}: status ${response.status}: ${(await response.text()).slice(0, 200)}`,
        );
      }
      if (stream && response.status === 200) {
        // A stream: its first bytes arrived; hang up like a client that goes away.
        const reader = response.body?.getReader();
        await reader?.read();
        controller.abort();
        return;
      }
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      if (type.startsWith('application/json') && ingress !== 'publish') assertBayeuxBatch(text, ingress);
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      if (controller.signal.aborted) return;
      throw new FuzzFailure(`${ingress}: request failed: ${String(error)}`);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    running,
    logged,
    async send(input) {
      const clientId = await liveClient();
      const text = input.text.replaceAll(LIVE_CLIENT, clientId);
      const name = input.name.replaceAll(LIVE_CLIENT, clientId);
      const { url } = running;
      switch (input.ingress) {
        case 'websocket': {
          if (socket.readyState !== WebSocket.OPEN) socket = await openSocket(running.wsUrl);
          await sendFrame(socket, text);
          return;
        }
        case 'long-polling':
          return request('long-polling', url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: text,
          });
        case 'form-post':
          return request('form-post', `${url}/connect`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ message: text }).toString(),
          });
        case 'jsonp':
          return request('jsonp', `${url}?message=${uri(text)}&jsonp=${uri(name)}`, {});
        case 'publish':
          return request('publish', `${url}/publish`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-push-key': PUBLISH_KEY },
            body: input.publishBody.replaceAll(LIVE_CLIENT, clientId),
          });
        case 'iframe-url':
          return request('iframe-url', `${url}/iframe?clientId=${uri(name)}&callback=${uri(name)}`, {}, true);
        case 'sse-url':
          return request(
            'sse-url',
            `${url}/${uri(name)}`,
            { headers: { accept: 'text/event-stream' } },
            true,
          );
      }
    },
    async checkControl() {
      const n = ++controlCount;
      await running.push.publish('/control', n);
      await control.waitFor((m) => m.channel === '/control' && (m as { data?: unknown }).data === n, 5_000);
    },
    async close() {
      socket.terminate();
      await control.close();
      await running.close();
    },
  };
}

/** Percent-encodes any string; a lone surrogate goes as the bytes of an invalid UTF-8 sequence. */
function uri(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out += char.length === 1 && code >= 0xd800 && code <= 0xdfff ? '%ED%A0%80' : encodeURIComponent(char);
  }
  return out;
}

async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {});
  return ws;
}

/**
 * Sends one frame and waits for the answer frame (each one must be a Bayeux batch), the socket's
 * close (allowed: 1009 for a frame past 4x the limit, 1008 policy), or a short quiet period
 * (a held connect is answered later; the next frame's wait reads it).
 */
function sendFrame(ws: WebSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onMessage = (data: WebSocket.RawData) => {
      try {
        assertBayeuxBatch(data.toString(), 'websocket');
        done();
      } catch (error) {
        done(error);
      }
    };
    const onClose = (code: number) =>
      code === 1011 ? done(new FuzzFailure('websocket: closed with 1011 (a contained fault)')) : done();
    const timer = setTimeout(() => done(), 150);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(text);
  });
}
