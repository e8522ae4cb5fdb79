/** Token buckets per source (client address), for limits that count events over time. */

/** Buckets kept before idle ones are pruned, and the hard cap past which the oldest are dropped. */
const PRUNE_AT = 10_000;
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Allows `perMinute` events per source, refilled continuously, with bursts up to `perMinute`.
 * Memory is bounded: a full bucket is the same as no bucket, so idle ones are pruned, and past
 * {@link MAX_BUCKETS} sources the oldest are forgotten (they start full again).
 * @example
 * const limiter = new RateLimiter(600, () => Date.now());
 * if (!limiter.take('203.0.113.7')) refuse();
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  /** Size at which the next prune runs (doubling keeps pruning amortised O(1) per take). */
  private pruneAt = PRUNE_AT;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `source`; false (nothing taken) when its bucket is empty. */
  take(source: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(source);
    if (!bucket) {
      if (this.buckets.size >= this.pruneAt) this.prune(now);
      this.buckets.set(source, { tokens: this.perMinute - 1, at: now });
      return true;
    }
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    for (const [source, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute) this.buckets.delete(source);
    }
    // Still too many live sources (a spread-out flood): forget the oldest tenth, in insertion order.
    if (this.buckets.size >= MAX_BUCKETS) {
      for (const source of this.buckets.keys()) {
        if (this.buckets.size <= MAX_BUCKETS * 0.9) break;
        this.buckets.delete(source);
      }
    }
    this.pruneAt = Math.min(MAX_BUCKETS, Math.max(PRUNE_AT, this.buckets.size * 2));
  }
}
