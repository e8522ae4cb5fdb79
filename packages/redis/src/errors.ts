/** Typed errors of the Redis broker. */

/** What went wrong, as a stable string. */
export type RedisBrokerErrorCode =
  /** Redis could not be reached within `commandTimeout` (down, restarting, network cut). */
  | 'redis-unavailable'
  /** An option of `createRedisBroker` is out of range. */
  | 'invalid-option'
  /** The broker was closed; create a new one. */
  | 'closed'
  /** Redis answered something the broker did not expect (a script error, a foreign key type). */
  | 'redis-reply'
  /** Shared sessions: the target node has `relayBacklog` relayed requests unread (stuck or gone). */
  | 'relay-backlog';

/**
 * An error from `@push/redis`, with a stable `code`, the operation that failed and a message that
 * says what to do. A `publish` that fails with `redis-unavailable` was either never sent or lost
 * with the connection: the message may not have been stored, so the publisher should retry.
 * @example
 * try { await broker.publish({ channel: '/a', data: 1 }); }
 * catch (e) { if (e instanceof RedisBrokerError && e.code === 'redis-unavailable') retryLater(); }
 */
export class RedisBrokerError extends Error {
  override readonly name = 'RedisBrokerError';
  readonly code: RedisBrokerErrorCode;
  /** The broker operation that failed, e.g. `publish` or `history`. */
  readonly operation: string;

  constructor(code: RedisBrokerErrorCode, operation: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.operation = operation;
  }

  /** True when trying again later may succeed. */
  get retriable(): boolean {
    return this.code === 'redis-unavailable';
  }
}
