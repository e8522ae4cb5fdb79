/**
 * Raw Bayeux test clients: just enough protocol to test servers precisely, with nothing of
 * `@push/client` in between. `post` / `handshake` over HTTP, {@link WsClient} over WebSocket,
 * {@link LongPollClient} for a long-polling session that may move between server processes.
 */
import type { Message, Reply, StreamPosition } from '@push/protocol';
import WebSocket from 'ws';

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

/** A Bayeux message as JSON. */
export type Wire = Record<string, unknown> & {
  channel: string;
  successful?: boolean;
  clientId?: string;
  data?: unknown;
  error?: string;
  ext?: {
    push?: {
      offset?: number;
      epoch?: string;
      positions?: Record<string, StreamPosition>;
      recovered?: boolean;
    };
  };
};

let nextId = 0;

/** POSTs one batch to `base` and returns the reply batch (the long-polling client's request). */
export async function postBatch(base: string, batch: object[]): Promise<Wire[]> {
  return (await post(base, batch)).body as Wire[];
}

/** Publishes through `POST {base}/publish`, as a trusted back end holding the publish `key`. */
export async function publishHttp(
  base: string,
  channel: string,
  data: unknown,
  key: string,
): Promise<{ offset: number; epoch: string }> {
  const response = await fetch(`${base}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-push-key': key },
    body: JSON.stringify({ channel, data }),
  });
  const body = (await response.json()) as {
    successful: boolean;
    offset: number;
    epoch: string;
    error?: string;
  };
  if (!body.successful) throw new Error(`publish failed: ${body.error}`);
  return body;
}

/** One long-polling session; `base` may change between requests (another node). */
export class LongPollClient {
  clientId = '';
  /** Every data message received, in order. */
  readonly received: Wire[] = [];

  constructor(public base: string) {}

  async handshake(): Promise<string> {
    const [reply] = await postBatch(this.base, [
      {
        channel: '/meta/handshake',
        version: '1.0',
        supportedConnectionTypes: ['long-polling'],
        id: String(++nextId),
      },
    ]);
    if (!reply?.successful || typeof reply.clientId !== 'string')
      throw new Error(`handshake failed: ${JSON.stringify(reply)}`);
    this.clientId = reply.clientId;
    return this.clientId;
  }

  /** Subscribes; `resume` asks for what was missed since those positions. Returns the reply. */
  async subscribe(subscription: string | string[], resume?: Record<string, StreamPosition>): Promise<Wire> {
    const message: Record<string, unknown> = {
      channel: '/meta/subscribe',
      clientId: this.clientId,
      subscription,
      id: String(++nextId),
    };
    if (resume) message.ext = { push: { resume } };
    const replies = await this.send([message]);
    const reply = replies.find((m) => m.channel === '/meta/subscribe');
    if (!reply?.successful) throw new Error(`subscribe failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Publishes as this client over Bayeux; returns the reply. */
  async publish(channel: string, data: unknown): Promise<Wire> {
    const replies = await this.send([{ channel, data, clientId: this.clientId, id: String(++nextId) }]);
    return replies.find((m) => m.channel === channel && m.successful !== undefined) ?? replies[0]!;
  }

  /** One `/meta/connect` (held by the server until messages arrive or its timeout). */
  async connect(): Promise<Wire> {
    const replies = await this.send([
      {
        channel: '/meta/connect',
        clientId: this.clientId,
        connectionType: 'long-polling',
        id: String(++nextId),
      },
    ]);
    return (
      replies.find((m) => m.channel === '/meta/connect') ?? { channel: '/meta/connect', successful: false }
    );
  }

  /** Connects until `count` data messages arrived in total, or `ms` passed. */
  async receive(count: number, ms = 5_000): Promise<Wire[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < count) {
      if (Date.now() > deadline)
        throw new Error(`got ${this.received.length} of ${count} messages: ${JSON.stringify(this.received)}`);
      const reply = await this.connect();
      if (reply.successful === false) throw new Error(`connect failed: ${JSON.stringify(reply)}`);
    }
    return this.received;
  }

  /** The last position seen on `channel`. */
  position(channel: string): StreamPosition | undefined {
    const last = this.received.filter((m) => m.channel === channel).at(-1);
    const push = last?.ext?.push;
    return push?.offset === undefined || push.epoch === undefined
      ? undefined
      : { offset: push.offset, epoch: push.epoch };
  }

  private async send(batch: object[]): Promise<Wire[]> {
    const replies = await postBatch(this.base, batch);
    for (const message of replies)
      if (message.successful === undefined && !message.channel.startsWith('/meta/'))
        this.received.push(message);
    return replies;
  }
}
