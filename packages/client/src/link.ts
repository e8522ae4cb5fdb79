/**
 * A link is one transport instance plus request/reply matching by message `id`. Each link has a
 * generation number; once closed, nothing it reports reaches the client (stale callbacks dropped).
 */
import { isReply, type Message, type Reply } from '@push/protocol';
import { PushError } from './errors.js';
import type { Platform, Transport, TransportFactory } from './types.js';

export interface Link {
  readonly gen: number;
  readonly factory: TransportFactory;
  readonly transport: Transport;
  /** Settles on the transport's open signal; rejects (with the reason) if it closes first. */
  readonly opened: Promise<void>;
  readonly closed: boolean;
  /** Messages that are not replies to this link's requests (data, presence events). */
  onMessage: (message: Message) => void;
  /** Called once when the transport dies (not after `close()`). */
  onClose: (reason: string) => void;
  /** Sends `message` and resolves with the reply carrying its id; rejects on close. */
  request(message: Message): Promise<Reply>;
  close(): void;
}

let generations = 0;

/** A promise with its settle functions; rejections are marked handled (callers may not await). */
export function defer(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  const d = {} as ReturnType<typeof defer>;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = resolve;
    d.reject = reject;
  });
  d.promise.catch(() => {});
  return d;
}

/** Creates a link; the transport does no I/O until `link.transport.open()`. */
export function createLink(factory: TransportFactory, url: URL, env: Platform): Link {
  const gen = ++generations;
  const pending = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let closed = false;
  let settleOpen!: { resolve: () => void; reject: (e: Error) => void };
  const opened = new Promise<void>((resolve, reject) => {
    settleOpen = { resolve, reject };
  });
  opened.catch(() => {});
  const shutdown = (reason: string) => {
    closed = true;
    settleOpen.reject(new Error(reason));
    for (const p of pending.values()) p.reject(new PushError('connection-lost', 'Transport closed'));
    pending.clear();
  };
  const link: Link = {
    gen,
    factory,
    get closed() {
      return closed;
    },
    opened,
    onMessage: () => {},
    onClose: () => {},
    transport: factory.create(
      url,
      {
        open: () => closed || settleOpen.resolve(),
        message(batch) {
          if (closed) return; // a stale callback from a closed link: dropped
          for (const message of batch) {
            const waiter = message.id !== undefined && isReply(message) ? pending.get(message.id) : undefined;
            if (waiter) {
              pending.delete(message.id!);
              waiter.resolve(message as Reply);
            } else link.onMessage(message);
          }
        },
        close(reason) {
          if (closed) return;
          shutdown(reason);
          link.onClose(reason);
        },
      },
      env,
    ),
    request(message) {
      if (closed) return Promise.reject(new PushError('connection-lost', 'Transport closed'));
      return new Promise<Reply>((resolve, reject) => {
        const id = message.id!;
        pending.set(id, { resolve, reject });
        link.transport.send([message]).catch(() => {
          // Duplex transports report failure through close(); POST transports close themselves.
          pending.get(id)?.reject(new PushError('connection-lost', 'Transport closed'));
          pending.delete(id);
        });
      });
    },
    close() {
      if (closed) return;
      shutdown('closed');
      link.transport.close();
    },
  };
  return link;
}
