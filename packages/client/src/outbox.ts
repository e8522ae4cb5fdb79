/**
 * The outbox: publishes (and service requests) go out at once when connected; otherwise they
 * wait in a bounded queue and are sent, in order, on reconnect. Every publish carries an
 * idempotency key (`ext.push.key`, random unless the app gives one): one in flight when the
 * connection drops is sent again on reconnect and the server answers a repeated key with the
 * first reply, so it is published once and its promise settles once. Service requests carry no
 * key: one in flight when the connection drops is rejected (`connection-lost`), never resent.
 *
 * `@push/client` loads this module with the first publish (`outbox-on-demand.ts`, which checks
 * the channel and counts backpressure before handing a publish over).
 */
import { isServiceChannel, type Message, type Reply } from '@push/protocol';
import { PushError } from './errors.js';

export interface OutboxDeps {
  connected(): boolean;
  closed(): boolean;
  request(message: Message): Promise<Reply>;
  max: number;
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
        // Closed while this module loaded: nothing would ever send it.
        if (deps.closed()) return reject(new PushError('closed', 'Client closed'));
        const item: Item = {
          message: {
            channel,
            data,
            // 128 random bits: a key nobody else can guess, so nobody else can make it a repeat.
            ext: isServiceChannel(channel)
              ? undefined
              : { push: { key: key || crypto.getRandomValues(new Int32Array(4)).join() } },
          },
          resolve,
          reject,
        };
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
