/**
 * The outbox (`outbox.ts`) loads with the first publish: a client that only subscribes never
 * downloads it. What must answer at once stays here: a publish to an invalid channel or on a
 * closed client is refused, and every publish counts towards backpressure from the moment it is
 * made, as before. Publishes made before the code arrived go to the outbox in order once it did.
 * A load that fails while connected (a redeploy removed the chunk, CSP) rejects the publish with
 * `PushError('load-failed')`; one that fails while not connected (offline) waits, as a queued
 * publish would, and is tried again at the next connect; `close()` rejects what still waits.
 */
import { parseChannel, type Reply } from '@push/protocol';
import { defer } from './defer.js';
import { PushError } from './errors.js';
import type { Outbox, OutboxDeps } from './outbox.js';

export interface PublishDeps extends OutboxDeps {
  /** Pending publishes (waiting or awaiting their ack) at which `pressure(…, true)` fires. */
  high: number;
  /** Pending publishes at which, after a high mark, `pressure(…, false)` fires. */
  low: number;
  /** Backpressure edges: the app may slow down at `high` and resume at `low`. */
  pressure(pending: number, high: boolean): void;
}

/** The client's outbox, its code loaded with the first publish; `load` is injectable for tests. */
export function outboxOnDemand(deps: PublishDeps, load = () => import('./outbox.js')): Outbox {
  let real: Outbox | undefined;
  /** The load in flight: the publishes made meanwhile wait on this one promise, in order. */
  let loading: Promise<Outbox> | undefined;
  /** Resolved at the next connect (`flush`), rejected by `close()` (`fail`). */
  let connected = defer();
  // Publishes not settled yet, and whether the high mark was passed (edges only are emitted).
  let pending = 0;
  let pressed = false;
  const count = (delta: number) => {
    pending += delta;
    if (pressed ? pending > deps.low : pending < deps.high) return;
    pressed = !pressed;
    deps.pressure(pending, pressed);
  };
  async function outbox(): Promise<Outbox> {
    for (;;) {
      try {
        return (await load()).createOutbox(deps);
      } catch (cause) {
        if (deps.connected())
          throw new PushError('load-failed', `publish: ${cause}`, undefined, undefined, { cause });
        await connected.promise;
      }
    }
  }
  return {
    send(channel, data, key) {
      const parsed = parseChannel(channel);
      if (!parsed || parsed.kind === 'meta' || parsed.wildcard !== 'none')
        return Promise.reject(new PushError('invalid-channel', `Cannot publish to ${channel}`));
      if (deps.closed()) return Promise.reject(new PushError('closed', 'Client closed'));
      count(1);
      let sent: Promise<Reply>;
      if (real) sent = real.send(channel, data, key);
      else {
        loading ??= outbox();
        sent = loading.then(
          (o) => {
            // The outbox becomes current as the first waiting publish is handed over; the others
            // follow in the same run of reactions, so no later publish can pass one of them.
            real = o;
            return o.send(channel, data, key);
          },
          (error: unknown) => {
            loading = undefined; // the next publish loads again
            throw error;
          },
        );
      }
      return sent.finally(() => count(-1));
    },
    flush() {
      real?.flush();
      connected.resolve();
      connected = defer();
    },
    fail(error) {
      real?.fail(error);
      connected.reject(error);
    },
  };
}
