/** Exponential backoff with full jitter, bounded: delay = random() * min(max, base * 2^attempt). */

export interface BackoffOptions {
  base: number;
  max: number;
  random: () => number;
}

/**
 * Delay before retry number `attempt` (0-based).
 * @example backoffDelay(3, { base: 500, max: 30000, random: Math.random }) // somewhere in [0, 4000)
 */
export function backoffDelay(attempt: number, { base, max, random }: BackoffOptions): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
