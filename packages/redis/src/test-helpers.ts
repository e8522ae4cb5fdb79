/** Test support of this package (not exported): a logger that remembers lines. Redis helpers are in @push/test-kit/redis. */
import type { RedisBrokerLogger } from './log.js';

/** A logger that remembers lines. */
export function memoryLogger(): RedisBrokerLogger & { lines: string[] } {
  const lines: string[] = [];
  const logger = ((level, message, context) => {
    lines.push(`${level} ${message}${context ? ` ${JSON.stringify(context)}` : ''}`);
  }) as RedisBrokerLogger & { lines: string[] };
  logger.lines = lines;
  return logger;
}
