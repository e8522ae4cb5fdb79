// Issue 14, end to end with @push/client against @push/server on 127.0.0.1: a publish that reached
// the server but whose ack was lost with the connection is sent again on reconnect with its
// idempotency key; the server answers the repeat without publishing it again, so the subscriber
// gets it once and the publisher's promise settles once.
import { createClient, type PushClient, websocket } from '@push/client';
import { eventually } from '@push/test-kit/bayeux-client';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { closeAfterEach, startServer } from './harness.js';

const closeLater = closeAfterEach();

/** `ws` that can go deaf (inbound frames dropped, outbound still sent) and be cut. */
const sockets: DeafenableSocket[] = [];
let deaf = false;
class DeafenableSocket {
  private ws: WebSocket;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onopen = (e) => this.onopen?.(e);
    this.ws.onmessage = (e) => deaf || this.onmessage?.(e);
    this.ws.onclose = (e) => this.onclose?.(e);
    this.ws.onerror = (e) => this.onerror?.(e);
    sockets.push(this);
  }
  get readyState() {
    return this.ws.readyState;
  }
  send(data: string) {
    this.ws.send(data);
  }
  close(code?: number, reason?: string) {
    this.ws.close(code, reason);
  }
  cut() {
    this.ws.terminate();
  }
}

function client(url: string, ctor: unknown = WebSocket): PushClient {
  const c = createClient({
    url,
    transports: [websocket()],
    WebSocket: ctor as never,
    storage: null,
    backoff: { base: 20, max: 200 },
  });
  closeLater(() => c.close());
  return c;
}

it('a publish whose ack was lost with the connection is resent with its key and published once', async () => {
  const h = await startServer();
  const subscriber = client(h.url);
  const received: unknown[] = [];
  await subscriber.subscribe('/orders', (data) => received.push(data)).ready;
  const publisher = client(h.url, DeafenableSocket);
  await eventually(() => publisher.state === 'connected');

  deaf = true; // the publish reaches the server, its ack never reaches the publisher
  let settled = 0;
  const published = publisher.publish('/orders', 'once').finally(() => settled++);
  await eventually(() => received.length === 1);
  expect(settled).toBe(0);
  deaf = false;
  sockets.at(-1)?.cut();
  await published; // resent on the new connection: the server answered the repeat
  await publisher.publish('/orders', 'marker');
  await eventually(() => received.includes('marker'));
  expect(received).toEqual(['once', 'marker']);
  expect(settled).toBe(1);
});
