/**
 * A link is one transport instance plus request/reply matching by message `id`. Once closed,
 * nothing its transport reports reaches the client (stale callbacks dropped). Failures are the
 * transport's {@link TransportError}; the connection turns them into PushErrors for the app.
 */

import { type ConnectionType, isReply, type Message, type Reply } from '@push/protocol';
import { defer } from './defer.js';
import {
  type Platform,
  type Transport,
  TransportError,
  type TransportFactory,
} from './transports/transport.js';
import { parseBatch } from './wire.js';

export interface Link {
  readonly factory: TransportFactory;
  readonly transport: Transport;
  /** Settles on the transport's open signal; rejects with its TransportError if it closes first. */
  readonly opened: Promise<void>;
  readonly closed: boolean;
  /** When the transport last delivered anything, on the client's clock: the heartbeat's proof of life. */
  readonly seen: number;
  /** Messages that are not replies to this link's requests (data, presence events). */
  onMessage: (message: Message) => void;
  /** Called once when the transport dies (not after `close()`). */
  onClose: (error: TransportError) => void;
  /** Sends `message` and resolves with the reply carrying its id; rejects with a TransportError. */
  request(message: Message): Promise<Reply>;
  close(): void;
}

/** `error` if it is a TransportError, else a TransportError `error` of `type` caused by it. */
export const transportFailure = (error: unknown, type: ConnectionType): TransportError =>
  error instanceof TransportError ? error : new TransportError('error', type, { cause: error });

/** Creates a link; the transport does no I/O until `link.transport.open()`. */
export function createLink(factory: TransportFactory, url: URL, env: Platform): Link {
  const pending = new Map<string, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  // What a delivery reads and writes lives in this closure, not on objects around it: with many
  // clients in one process, each object a delivery touches is a likely cache miss. The time data
  // was last heard is kept relative to the link's start, a small integer V8 stores in place.
  const { clock } = env;
  const born = clock.now();
  /** 1 + ms from `born` to the last delivery; 0 until one comes. */
  let heard = 0;
  let onMessage: (message: Message) => void = () => {};
  let closed = false;
  const open = defer();
  const shutdown = (error: TransportError) => {
    closed = true;
    open.reject(error);
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  /** Takes a batch from the transport: replies settle their requests, the rest goes on. */
  const take = (batch: Message[]) => {
    if (closed) return; // a stale callback from a closed link: dropped
    heard = clock.now() - born + 1;
    for (const message of batch) {
      const waiter = message.id !== undefined && isReply(message) ? pending.get(message.id) : undefined;
      if (waiter) {
        pending.delete(message.id!);
        waiter.resolve(message as Reply);
      } else onMessage(message);
    }
  };
  const link: Link = {
    factory,
    get closed() {
      return closed;
    },
    opened: open.promise,
    get seen() {
      return heard && born + heard - 1;
    },
    get onMessage() {
      return onMessage;
    },
    set onMessage(handler) {
      onMessage = handler;
    },
    onClose: () => {},
    transport: factory.create(
      url,
      {
        open: () => closed || open.resolve(),
        message: take,
        text: (frame) => take(parseBatch(frame.toString())),
        close(error) {
          if (closed) return;
          shutdown(error);
          link.onClose(error);
        },
      },
      env,
    ),
    request(message) {
      if (closed) return Promise.reject(new TransportError('not-open', factory.type));
      return new Promise<Reply>((resolve, reject) => {
        const id = message.id!;
        pending.set(id, { resolve, reject });
        link.transport.send([message]).catch((error: unknown) => {
          // Duplex transports report failure through close(); POST transports close themselves.
          pending.get(id)?.reject(transportFailure(error, factory.type));
          pending.delete(id);
        });
      });
    },
    close() {
      if (closed) return;
      shutdown(new TransportError('closed', factory.type));
      link.transport.close();
    },
  };
  return link;
}
