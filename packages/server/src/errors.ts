/** Typed errors thrown by the server's API (never for wire errors: those are Bayeux replies). */

/** What went wrong, as a stable string. */
export type PushServerErrorCode = 'invalid-option' | 'invalid-channel' | 'invalid-data' | 'closed';

/**
 * An error from the server API, with a stable `code` and a message that says what to do.
 * @example
 * try { await server.publish('/meta/x', 1); } catch (e) { if (e instanceof PushServerError) e.code; }
 */
export class PushServerError extends Error {
  override readonly name = 'PushServerError';
  readonly code: PushServerErrorCode;

  constructor(code: PushServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when trying the same thing again later may succeed: the error says so with
 * `retriable: true`. The client's `isRetriable` (`@push/client`) has the same meaning for its own
 * errors. On the server this is how a broker reports a passing failure (`RedisBrokerError` with
 * `code: 'redis-unavailable'`): brokers live in other packages, so the contract is the property,
 * not a class. A request that fails with such an error is answered `503` with advice to retry and
 * is not logged as a fault; anything else is a `500` (see `bayeux/refusals.ts`).
 * @example if (isRetriable(error)) return 503;
 */
export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'retriable' in error && error.retriable === true;
}

/** The message of anything thrown, for a log line or a CLI error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
