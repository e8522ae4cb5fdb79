/**
 * The one fake clock of every Push test: time moves only when a test says so. It satisfies the
 * client's and the server's `Clock` (`now`, `setTimeout`, `clearTimeout`).
 */

interface Timer {
  at: number;
  fn: () => void;
}

export class FakeClock {
  /** The current time in milliseconds; starts at the constructor's `start` (default 0). */
  time: number;
  private seq = 0;
  readonly timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.time = start;
  }

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** Delays of pending timers, from now, shortest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Advances time by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (let next = this.due(target); next; next = this.due(target)) {
      this.fire(next);
      await settle();
    }
    this.time = target;
    await settle();
  }

  /**
   * Advances time by `ms`, firing due timers in order, synchronously: nothing else runs in between
   * (for code whose timers do not wait on promises, such as the server's session expiry).
   */
  advanceSync(ms: number): void {
    const target = this.time + ms;
    for (let next = this.due(target); next; next = this.due(target)) this.fire(next);
    this.time = target;
  }

  /** The earliest timer due at or before `target` (the first set among equals). */
  private due(target: number): [number, Timer] | undefined {
    let next: [number, Timer] | undefined;
    for (const entry of this.timers)
      if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
    return next;
  }

  private fire([id, timer]: [number, Timer]): void {
    this.timers.delete(id);
    this.time = timer.at;
    timer.fn();
  }
}

/** Lets pending promise chains run (a few macrotask turns; no time passes on a fake clock). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
