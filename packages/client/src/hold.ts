/**
 * Held-request adaptation for the HTTP transports: when held `/meta/connect` requests keep dying
 * before their hold (a proxy cutting requests at a fixed time), first shorten the hold to half of
 * what survived, then drop to plain polling at the advised interval. Kept out of the WebSocket-only
 * entry, where nothing is held over HTTP.
 */
import type { Platform } from './types.js';

/** Plain polling interval when the server advises none. */
export const POLL_INTERVAL = 1000;

export interface HoldPolicy {
  /** The hold to ask for instead of the server's `advice.timeout`, once shortened. */
  readonly hold: number | undefined;
  /** Plain polling: every connect is sent with `advice.timeout: 0`. */
  readonly polling: boolean;
  /** The wait before the next connect given the server's advised `interval`; undefined: as advised. */
  interval(advised: number | undefined): number | undefined;
  /** A held connect came back after `elapsed` of its `held` ms. */
  answered(elapsed: number, held: number): void;
  /** A held connect died after `elapsed` of its `held` ms. */
  died(elapsed: number, held: number): void;
  /**
   * The heartbeat fired `late` ms after it was due, `quiet` ms after the link last received
   * anything, with `wait` (hold + grace) allowed: how many ms more to wait, or 0 to declare the
   * link dead.
   */
  patience(late: number, quiet: number, wait: number, grace: number): number;
}

/** How late a timer may fire and still count as on time (hidden tabs align timers to 1 s). */
export const LATE = 1000;

/**
 * The adaptive hold policy; two early deaths in a row trigger each step.
 * @example createClientFactory(factories, { hold: createHoldPolicy });
 */
export function createHoldPolicy(env: Platform): HoldPolicy {
  let earlyDeaths = 0;
  const policy = {
    hold: undefined as number | undefined,
    polling: false,
    interval: (advised: number | undefined) =>
      policy.polling ? Math.max(advised ?? 0, POLL_INTERVAL) : undefined,
    answered(elapsed: number, held: number) {
      if (elapsed >= held * 0.8) earlyDeaths = 0;
    },
    died(elapsed: number, held: number) {
      if (held <= 0 || elapsed >= held * 0.8) return;
      if (++earlyDeaths < 2) return;
      earlyDeaths = 0;
      if (policy.hold === undefined && elapsed >= 2 * POLL_INTERVAL) {
        policy.hold = Math.floor(elapsed / 2);
        env.log('warn', 'hold', policy.hold);
      } else {
        policy.polling = true;
      }
    },
    // Judged by the clock when the timer fires, not by the timer: a hidden tab's timers run late
    // (throttled) and a frozen or sleeping page's all fire on waking, before the network events
    // queued behind them. A late timer waits on (a grace at least); anything received within
    // hold + grace proves the link alive. Only an on-time timer after a silent hold + grace kills.
    patience: (late: number, quiet: number, wait: number, grace: number) =>
      late > LATE || quiet < wait ? Math.max(wait - quiet, grace) : 0,
  };
  return policy;
}
