/** The client's typed error: a literal-union `code`, the Bayeux wire string when the server sent one. */
import { type Advice, parseBayeuxError } from '@push/protocol';

/**
 * What went wrong.
 * - `rejected`: the server answered `successful: false` (see `bayeux` for the wire error).
 * - `connection-lost`: the transport died before the server acknowledged the request.
 * - `queue-full`: too many publishes waited while offline (raise `maxQueue`).
 * - `closed`: the client was closed.
 * - `negotiation-failed`: no transport worked this round; the client retries with backoff.
 * - `server-refused`: the server advised `reconnect: none`.
 * - `invalid-channel`: the channel name is not valid for this call.
 * - `invalid-option`: `createClient` was given something it cannot use (an unknown transport name),
 *   or a feature this entry leaves out was asked for (presence on `@push/client/websocket`).
 * @example if (err.code === 'rejected' && err.bayeuxCode === 403) showForbidden();
 */
export type PushErrorCode =
  | 'rejected'
  | 'connection-lost'
  | 'queue-full'
  | 'closed'
  | 'negotiation-failed'
  | 'server-refused'
  | 'invalid-channel'
  | 'invalid-option';

/**
 * Error raised by `@push/client`.
 * @example
 * try { await client.publish('/chat', msg); } catch (e) { if (e instanceof PushError) console.log(e.code, e.bayeux); }
 */
export class PushError extends Error {
  override readonly name = 'PushError';
  readonly code: PushErrorCode;
  /** The server's Bayeux error string (`403:/chat:Forbidden`), when there was one. */
  readonly bayeux: string | undefined;
  /** The numeric Bayeux code parsed from `bayeux`. */
  readonly bayeuxCode: number | undefined;
  /** The server's advice sent with the refusal (`reconnect: 'none'`: the client will not retry). */
  readonly advice: Advice | undefined;

  constructor(code: PushErrorCode, message: string, bayeux?: string, advice?: Advice) {
    super(bayeux ? `${message} (${bayeux})` : message);
    this.code = code;
    this.bayeux = bayeux;
    this.bayeuxCode = bayeux ? parseBayeuxError(bayeux)?.code : undefined;
    this.advice = advice;
  }
}

/**
 * True when retrying the same request later may succeed.
 * @example catch (e) { if (e instanceof PushError && isRetriable(e)) retryLater(); }
 */
export function isRetriable(error: PushError): boolean {
  return error.code === 'connection-lost' || error.code === 'negotiation-failed';
}
