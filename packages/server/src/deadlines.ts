/**
 * Deadlines for many waiters with few distinct durations (every held `/meta/connect` waits
 * `advice.timeout`): one clock timer per duration, for the earliest entry, instead of a timer
 * object per waiter. Entries of one duration expire in the order they were added, so each
 * duration is a FIFO and its head is always the next to expire.
 *
 * An entry costs two array slots (its target, its time) and no object of its own: every idle
 * client holds one or two, and memory per idle connection is one of the server's targets.
 */
import type { Clock, TimerHandle } from './clock.js';

/** What waits for a deadline. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/**
 * One scheduled deadline: a number (a small integer while the server is young, so holding one
 * costs a field and nothing more). Pass it, with its duration, to {@link Deadlines.cancel}.
 */
export type Deadline = number;

/** The entries of one duration, oldest first, from `head` on; `base` numbers `targets[0]`. */
interface Lane {
  targets: Array<DeadlineTarget | undefined>;
  /** When each entry is due (a packed array of numbers: no boxed number per entry). */
  ats: number[];
  head: number;
  base: number;
  timer: TimerHandle | undefined;
}

/**
 * @example
 * const deadlines = new Deadlines(clock);
 * const d = deadlines.add(30_000, session); // session.onDeadline() in 30 s
 * deadlines.cancel(30_000, d);
 */
export class Deadlines {
  private readonly lanes = new Map<number, Lane>();
  /**
   * Where the next new lane starts numbering: past every entry a removed lane ever had, so a
   * stale handle of a lane that came and went can never cancel an entry of its successor.
   */
  private nextBase = 0;

  /**
   * @param onError called when a target's `onDeadline` throws: the other targets still fire and
   *   the timers stay armed (a throw inside a timer callback would otherwise end the process).
   */
  constructor(
    private readonly clock: Clock,
    private readonly onError: (target: DeadlineTarget, error: unknown) => void = () => {},
  ) {}

  /** Calls `target.onDeadline()` in `ms`; the returned handle cancels it (with the same `ms`). */
  add(ms: number, target: DeadlineTarget): Deadline {
    let lane = this.lanes.get(ms);
    if (!lane) {
      lane = { targets: [], ats: [], head: 0, base: this.nextBase, timer: undefined };
      this.lanes.set(ms, lane);
    }
    const handle = lane.base + lane.targets.length;
    lane.targets.push(target);
    lane.ats.push(this.clock.now() + ms);
    if (lane.timer === undefined) this.arm(ms, lane);
    return handle;
  }

  /**
   * Forgets a deadline added with duration `ms` (its slot is dropped once no live entry is before
   * it in its lane). A deadline that already fired or was cancelled is ignored.
   */
  cancel(ms: number, deadline: Deadline): void {
    const lane = this.lanes.get(ms);
    if (!lane) return;
    const index = deadline - lane.base;
    if (index < lane.head || index >= lane.targets.length) return;
    lane.targets[index] = undefined;
    // Entries cancelled in the order they were added (the handshake deadlines of new connections,
    // cancelled by their first connect) leave now, not when their time comes: a connection storm
    // kept two slots per connection, and the arrays' regrowth, for `handshakeTimeout`.
    if (index === lane.head) this.dropCancelledHead(lane);
  }

  /**
   * Array slots the lane of `ms` holds: live entries, and cancelled ones not dropped yet (what
   * the lane costs in memory, two slots each).
   */
  slots(ms: number): number {
    const lane = this.lanes.get(ms);
    return lane === undefined ? 0 : lane.targets.length - lane.head;
  }

  /** Stops every timer (server close). */
  clear(): void {
    for (const lane of this.lanes.values()) this.clock.clearTimeout(lane.timer);
    for (const lane of this.lanes.values()) this.retire(lane);
    this.lanes.clear();
  }

  private retire(lane: Lane): void {
    this.nextBase = Math.max(this.nextBase, lane.base + lane.targets.length);
  }

  /**
   * Moves the head past cancelled entries and drops the slots before it once they are most of
   * the lane, or all of it (handles stay valid: `base` counts what was dropped). An armed timer
   * stays: when it fires it finds the new head, or an empty lane to remove.
   */
  private dropCancelledHead(lane: Lane): void {
    const { targets } = lane;
    while (lane.head < targets.length && targets[lane.head] === undefined) lane.head++;
    if (lane.head === targets.length) {
      lane.base += lane.head;
      lane.targets = [];
      lane.ats = [];
      lane.head = 0;
    } else if (lane.head > 1024 && lane.head * 2 > targets.length) {
      lane.targets = targets.slice(lane.head);
      lane.ats = lane.ats.slice(lane.head);
      lane.base += lane.head;
      lane.head = 0;
    }
  }

  private arm(ms: number, lane: Lane): void {
    // Cancelled entries at the head would only wake the timer for nothing.
    this.dropCancelledHead(lane);
    if (lane.targets.length === 0) {
      this.retire(lane);
      this.lanes.delete(ms);
      return;
    }
    const delay = Math.max(0, lane.ats[lane.head]! - this.clock.now());
    lane.timer = this.clock.setTimeout(() => this.fire(ms, lane), delay);
  }

  private fire(ms: number, lane: Lane): void {
    lane.timer = undefined;
    const now = this.clock.now();
    // Re-read the arrays each turn: a target may add to this lane (a new held connect).
    while (lane.head < lane.targets.length && lane.ats[lane.head]! <= now) {
      const index = lane.head++;
      const target = lane.targets[index];
      lane.targets[index] = undefined;
      if (!target) continue;
      try {
        target.onDeadline();
      } catch (error) {
        this.onError(target, error);
      }
    }
    if (lane.timer === undefined) this.arm(ms, lane);
  }
}
