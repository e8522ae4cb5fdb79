/** Test helpers: a real server on 127.0.0.1:0, raw Bayeux clients over HTTP and WebSocket, a manual clock. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, Reply } from '@push/protocol';
import WebSocket from 'ws';
import { type Clock, createPushServer, type PushServer, type PushServerOptions } from '../src/index.js';

export interface Running {
  http: Server;
  push: PushServer;
  port: number;
  /** http://127.0.0.1:port/push */
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function startServer(options: PushServerOptions = {}): Promise<Running> {
  const http = createServer();
  const push = createPushServer({ server: http, ...options });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const path = options.path ?? '/push';
  return {
    http,
    push,
    port,
    url: `http://127.0.0.1:${port}${path}`,
    wsUrl: `ws://127.0.0.1:${port}${path}`,
    async close() {
      await push.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** POSTs a batch (or raw text) and returns status and parsed body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Reply[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Reply[] };
}

export function handshakeMessage(types: string[] = ['long-polling'], ext?: Record<string, unknown>): Message {
  return {
    channel: '/meta/handshake',
    version: '1.0',
    supportedConnectionTypes: types,
    id: '1',
    ...(ext ? { ext } : {}),
  } as Message;
}

/** Handshakes over HTTP and returns the clientId (throws on refusal). */
export async function handshake(
  url: string,
  types?: string[],
  ext?: Record<string, unknown>,
): Promise<string> {
  const { body } = await post(url, [handshakeMessage(types, ext)]);
  const reply = body[0]!;
  if (!reply.successful || !reply.clientId) throw new Error(`handshake failed: ${reply.error}`);
  return reply.clientId;
}

/** A WebSocket Bayeux client that records every message received. */
export class WsClient {
  readonly received: Message[] = [];
  /** Every frame as it arrived (one JSON array of messages each). */
  readonly frames: Message[][] = [];
  clientId = '';
  private waiters: Array<() => void> = [];
  private seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const batch = JSON.parse(data.toString()) as Message[];
      this.frames.push(batch);
      this.received.push(...batch);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
  }

  static async open(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new WsClient(ws);
  }

  send(messages: unknown): void {
    this.ws.send(typeof messages === 'string' ? messages : JSON.stringify(messages));
  }

  nextId(): string {
    return String(++this.seq);
  }

  /** Waits until a received message satisfies `predicate` (searching from `from`). */
  async waitFor(predicate: (m: Message) => boolean, timeoutMs = 3000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`timed out; received ${JSON.stringify(this.received).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Handshake + connect over the socket; subscribes to `channels`. */
  async start(channels: string[] = [], ext?: Record<string, unknown>): Promise<void> {
    const id = this.nextId();
    this.send([{ ...handshakeMessage(['websocket'], ext), id }]);
    const reply = (await this.waitFor((m) => m.channel === '/meta/handshake' && m.id === id)) as Reply;
    if (!reply.successful) throw new Error(`handshake failed: ${reply.error}`);
    this.clientId = reply.clientId!;
    this.connect();
    for (const channel of channels) await this.subscribe(channel);
  }

  connect(ext?: Record<string, unknown>): void {
    this.send([
      {
        channel: '/meta/connect',
        clientId: this.clientId,
        connectionType: 'websocket',
        id: this.nextId(),
        ...(ext ? { ext } : {}),
      },
    ]);
  }

  async subscribe(channel: string | string[], ext?: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId();
    this.send([
      {
        channel: '/meta/subscribe',
        clientId: this.clientId,
        subscription: channel,
        id,
        ...(ext ? { ext } : {}),
      },
    ]);
    return (await this.waitFor((m) => m.channel === '/meta/subscribe' && m.id === id)) as Reply;
  }

  async publish(channel: string, data: unknown): Promise<Reply> {
    const id = this.nextId();
    this.send([{ channel, clientId: this.clientId, data, id }]);
    return (await this.waitFor((m) => m.channel === channel && m.id === id && 'successful' in m)) as Reply;
  }

  /** Data messages received on `channel`. */
  data(channel: string): unknown[] {
    return this.received
      .filter((m) => m.channel === channel && 'data' in m && !('successful' in m))
      .map((m) => (m as { data: unknown }).data);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

/** Polls until `check` passes (for state reached through other sockets). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A clock whose time only moves when the test says so. */
export class ManualClock implements Clock {
  private time = 1_000_000;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
    }
    this.time = target;
  }
}
