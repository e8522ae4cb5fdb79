/**
 * The outbox: publishes (and service requests) go out at once when connected; otherwise they
 * wait in a bounded queue and are sent, in order, on reconnect. Every publish carries an
 * idempotency key (`ext.push.key`, random unless the app gives one): one in flight when the
 * connection drops is sent again on reconnect and the server answers a repeated key with the
 * first reply, so it is published once and its promise settles once. Service requests carry no
 * key: one in flight when the connection drops is rejected (`connection-lost`), never resent.
 */
import { type Message, parseChannel, type Reply } from '@push/protocol';
import { PushError } from './errors.js';

export interface OutboxDeps {
  connected(): boolean;
  closed(): boolean;
  request(message: Message): Promise<Reply>;
  max: number;
  /** Pending publishes (queued or awaiting their ack) at which `pressure(…, true)` fires. */
  high: number;
  /** Pending publishes at which, after a high mark, `pressure(…, false)` fires. */
  low: number;
  /** Backpressure edges: the app may slow down at `high` and resume at `low`. */
  pressure(pending: number, high: boolean): void;
}

export interface Outbox {
  /**
   * Publishes `data` on `channel` under idempotency key `key` (a random one when absent);
   * resolves with the server's reply once it acknowledged.
   */
  send(channel: string, data: unknown, key?: string): Promise<Reply>;
  /** Sends everything queued (call once connected). */
  flush(): void;
  /** Rejects everything queued (on close). */
  fail(error: PushError): void;
}

interface Item {
  message: Message;
  resolve(reply: Reply): void;
  reject(error: PushError): void;
}

export function createOutbox(deps: OutboxDeps): Outbox {
  let queue: Item[] = [];
  // Publishes queued or in flight, and whether the high mark was passed (edges only are emitted).
  let pending = 0;
  let pressed = false;
  const count = (delta: number) => {
    pending += delta;
    if (pressed ? pending > deps.low : pending < deps.high) return;
    pressed = !pressed;
    deps.pressure(pending, pressed);
  };
  const settle =
    <T>(finish: (value: T) => void) =>
    (value: T) => {
      count(-1);
      finish(value);
    };
  const dispatch = (item: Item) => {
    deps.request(item.message).then(
      (reply) =>
        reply.successful
          ? item.resolve(reply)
          : item.reject(new PushError('rejected', `${item.message.channel} refused`, reply.error)),
      (error: unknown) =>
        // Keyed: sent again on reconnect (the server answers a repeated key with the first reply).
        item.message.ext && !deps.closed()
          ? queue.push(item)
          : item.reject(error instanceof PushError ? error : new PushError('connection-lost', String(error))),
    );
  };
  return {
    send(channel, data, key) {
      return new Promise<Reply>((resolve, reject) => {
        const parsed = parseChannel(channel);
        if (!parsed || parsed.kind === 'meta' || parsed.wildcard !== 'none') {
          return reject(new PushError('invalid-channel', `Cannot publish to ${channel}`));
        }
        if (deps.closed()) return reject(new PushError('closed', 'Client closed'));
        const item: Item = {
          message: {
            channel,
            data,
            // 128 random bits: a key nobody else can guess, so nobody else can make it a repeat.
            ext:
              parsed.kind === 'service'
                ? undefined
                : { push: { key: key || crypto.getRandomValues(new Int32Array(4)).join() } },
          },
          resolve: settle(resolve),
          reject: settle(reject),
        };
        count(1);
        if (deps.connected() && !queue.length) return dispatch(item);
        if (queue.length >= deps.max) {
          return item.reject(new PushError('queue-full', `Queue full (${deps.max}): raise maxQueue`));
        }
        queue.push(item);
      });
    },
    flush() {
      const items = queue;
      queue = [];
      for (const item of items) dispatch(item);
    },
    fail(error) {
      const items = queue;
      queue = [];
      for (const item of items) item.reject(error);
    },
  };
}
