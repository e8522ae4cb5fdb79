/** A raw Bayeux long-polling client over fetch: just enough protocol to test servers precisely. */
import type { StreamPosition } from '@push/protocol';
import { PUBLISH_KEY } from './processes.js';

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

/** POSTs one batch to `base` and returns the reply batch. */
export async function post(base: string, batch: object[]): Promise<Wire[]> {
  const response = await fetch(base, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  return (await response.json()) as Wire[];
}

/** Publishes through `POST {base}/publish`, as a trusted back end (the spawned servers' key). */
export async function publishHttp(
  base: string,
  channel: string,
  data: unknown,
): Promise<{ offset: number; epoch: string }> {
  const response = await fetch(`${base}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-push-key': PUBLISH_KEY },
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
    const [reply] = await post(this.base, [
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
    const replies = await post(this.base, batch);
    for (const message of replies)
      if (message.successful === undefined && !message.channel.startsWith('/meta/'))
        this.received.push(message);
    return replies;
  }
}
