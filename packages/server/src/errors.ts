/** Typed errors thrown by the server's API (never for wire errors: those are Bayeux replies). */

/** What went wrong, as a stable string. */
export type PushServerErrorCode =
  | 'invalid-option'
  | 'invalid-channel'
  | 'invalid-data'
  | 'closed'
  | 'broker-failed'
  | 'redis-unavailable';

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
