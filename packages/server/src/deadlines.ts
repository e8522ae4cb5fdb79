/**
 * Deadlines for many waiters with few distinct durations (every held `/meta/connect` waits
 * `advice.timeout`): one clock timer per duration, for the earliest entry, instead of a timer
 * object per waiter. Entries of one duration expire in the order they were added, so each
 * duration is a FIFO and its head is always the next to expire.
 */
import type { Clock, TimerHandle } from './clock.js';

/** What waits for a deadline. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/** One scheduled deadline; pass it to {@link Deadlines.cancel}. */
export interface Deadline {
  readonly at: number;
  target: DeadlineTarget | undefined;
}

interface Lane {
  entries: Deadline[];
  head: number;
  timer: TimerHandle | undefined;
}

/**
 * @example
 * const deadlines = new Deadlines(clock);
 * const d = deadlines.add(30_000, session); // session.onDeadline() in 30 s
 * deadlines.cancel(d);
 */
export class Deadlines {
  private readonly lanes = new Map<number, Lane>();

  /**
   * @param onError called when a target's `onDeadline` throws: the other targets still fire and
   *   the timers stay armed (a throw inside a timer callback would otherwise end the process).
   */
  constructor(
    private readonly clock: Clock,
    private readonly onError: (target: DeadlineTarget, error: unknown) => void = () => {},
  ) {}

  add(ms: number, target: DeadlineTarget): Deadline {
    const deadline: Deadline = { at: this.clock.now() + ms, target };
    let lane = this.lanes.get(ms);
    if (!lane) {
      lane = { entries: [], head: 0, timer: undefined };
      this.lanes.set(ms, lane);
    }
    lane.entries.push(deadline);
    if (lane.timer === undefined) this.arm(ms, lane);
    return deadline;
  }

  /** Forgets a deadline (its slot is dropped when it reaches the head of its lane). */
  cancel(deadline: Deadline): void {
    deadline.target = undefined;
  }

  /** Stops every timer (server close). */
  clear(): void {
    for (const lane of this.lanes.values()) this.clock.clearTimeout(lane.timer);
    this.lanes.clear();
  }

  private arm(ms: number, lane: Lane): void {
    // Drop cancelled entries at the head: they would only wake the timer for nothing.
    while (lane.head < lane.entries.length && lane.entries[lane.head]!.target === undefined) lane.head++;
    if (lane.head >= lane.entries.length) {
      this.lanes.delete(ms);
      return;
    }
    if (lane.head > 1024 && lane.head * 2 > lane.entries.length) {
      lane.entries = lane.entries.slice(lane.head);
      lane.head = 0;
    }
    const delay = Math.max(0, lane.entries[lane.head]!.at - this.clock.now());
    lane.timer = this.clock.setTimeout(() => this.fire(ms, lane), delay);
  }

  private fire(ms: number, lane: Lane): void {
    lane.timer = undefined;
    const now = this.clock.now();
    while (lane.head < lane.entries.length && lane.entries[lane.head]!.at <= now) {
      const entry = lane.entries[lane.head++]!;
      const target = entry.target;
      entry.target = undefined;
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
