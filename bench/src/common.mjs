// Shared constants and helpers of the bench harness (orchestrator, server child, subscriber child).

/** Highest sequence number a run may publish; the publisher stops there (bounded loop). */
export const MAXSEQ = 65535;
/** The channel every target fans out on. */
export const CHANNEL = '/bench';
/** Room / event name for Socket.IO. */
export const SIO_ROOM = 'bench';
export const SIO_EVENT = 'm';
/** Fixed payload padding, so every target carries the same application data. */
export const PAD = 'x'.repeat(48);

/**
 * Microseconds on CLOCK_MONOTONIC (process.hrtime), which is system-wide on Linux, so a timestamp
 * taken in the server process can be compared with one taken in the subscriber process.
 */
export function nowUs() {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Percentile (0..100) of a sorted Float64Array, nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
