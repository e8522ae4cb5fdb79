/**
 * When the next negotiation round runs: after a backoff that grows between failed rounds (reset
 * once connected), within the first (jittered) backoff step when the network comes back or the
 * page wakes (the online signal), and not at all while offline or after the server said
 * `reconnect: none`. What each state allows is read from the state table.
 */
import { backoffDelay } from './backoff.js';
import { createTimer } from './platform.js';
import type { States } from './state.js';
import type { Platform } from './transports/transport.js';
import type { StateReason } from './types.js';

export interface ReconnectDeps {
  env: Platform;
  states: States;
  backoff: { base: number; max: number };
  /** Runs a negotiation round. */
  run(why: StateReason): void;
  /** Drops the round in flight, if any (its result is ignored). */
  cancelRound(): void;
}

export interface Reconnect {
  /** The next backoff delay; each call grows it up to the cap. */
  backoff(): number;
  /** Connected: the backoff starts over. */
  reset(): void;
  /** Enters `reconnecting` for `why` and runs a round after `delay` (default: the backoff); offline it waits. */
  schedule(why: StateReason, delay?: number): void;
  /** Cancels a scheduled round. */
  cancel(): void;
  /** Stops listening to the online signal. */
  dispose(): void;
}

export function createReconnect(d: ReconnectDeps): Reconnect {
  const { env, states } = d;
  const timer = createTimer(env.clock);
  let attempts = 0;
  const reconnect: Reconnect = {
    backoff: () => backoffDelay(attempts++, { ...d.backoff, random: env.random }),
    reset() {
      attempts = 0;
    },
    schedule(why, delay) {
      if (!states.row.retries) return;
      if (!env.online.online()) {
        timer.clear();
        return void states.move('disconnected', { code: 'offline', error: why.error });
      }
      states.move('reconnecting', why);
      timer.set(delay ?? reconnect.backoff(), () => d.run(why));
    },
    cancel: timer.clear,
    dispose: env.online.subscribe((online) => {
      // A refusal (`reconnect: none`) waits for `connect()`, not for the network.
      if (online && states.row.online && states.reason.code !== 'refused') {
        // The backoff is skipped, not the jitter: ten tabs woken by one event (a laptop waking)
        // spread their rounds over the first backoff step instead of reconnecting in one burst.
        const why = { code: 'online' } as const;
        attempts = 0;
        states.move('reconnecting', why);
        reconnect.schedule(why);
      } else if (!online && states.row.offline) {
        d.cancelRound(); // a round in flight is dropped: it starts again when back online
        timer.clear();
        states.move('disconnected', { code: 'offline' });
      }
    }),
  };
  return reconnect;
}
