/**
 * The client's typed error: a literal-union `code`, the Bayeux wire string when the server sent
 * one, and whether trying again may help. Transport failures are `TransportError`s
 * (`transports/transport.ts`); they reach the app as the `cause` of a `connection-lost` PushError.
 */
import { type Advice, parseBayeuxError } from '@push/protocol';
import { TransportError } from './transports/transport.js';

/**
 * What went wrong.
 * - `rejected`: the server answered `successful: false` (see `bayeux` for the wire error).
 * - `connection-lost`: the transport died before the server acknowledged the request (`cause`:
 *   the {@link TransportError}).
 * - `queue-full`: too many publishes waited while offline (raise `maxQueue`).
 * - `closed`: the client was closed.
 * - `negotiation-failed`: no transport worked this round; the client retries with backoff.
 * - `server-refused`: the server advised `reconnect: none`.
 * - `invalid-channel`: the channel name is not valid for this call.
 * - `invalid-option`: `createClient` was given something it cannot use (an unknown transport name),
 *   or a feature this entry leaves out was asked for (presence on `@push/client/websocket`).
 * - `auth-failed`: the `auth` function threw or rejected (`cause`); the client does not try another
 *   transport, it reports this and retries the round with backoff (calling `auth` again).
 * - `handler-failed`: a subscribe handler threw (`cause`); reported on the `error` event, delivery
 *   to the other handlers goes on. Not the server's doing (that is `rejected`).
 * - `load-failed`: a part `@push/client` loads on demand (presence, the outbox) could not be
 *   loaded (`cause`: a redeploy removed the old chunk, CSP); the next call loads it again. A
 *   publish made offline waits for the next connect instead.
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
  | 'invalid-option'
  | 'auth-failed'
  | 'handler-failed'
  | 'load-failed';

/** Codes after which trying again later may succeed, when the server gave no advice. */
const RETRIABLE: readonly PushErrorCode[] = [
  'connection-lost',
  'negotiation-failed',
  'auth-failed',
  'load-failed',
];

/**
 * Error raised by `@push/client`.
 * @example
 * try { await client.publish('/chat', msg); } catch (e) { if (e instanceof PushError) console.log(e.code, e.bayeux); }
 */
export class PushError extends Error {
  override readonly name = 'PushError';
  // `declare`: set in the constructor, not declared again as class fields (bytes in the bundle).
  declare readonly code: PushErrorCode;
  /** The server's Bayeux error string (`403:/chat:Forbidden`), when there was one. */
  declare readonly bayeux: string | undefined;
  /** The numeric Bayeux code parsed from `bayeux`. */
  declare readonly bayeuxCode: number | undefined;
  /** The server's advice sent with the refusal (`reconnect: 'none'`: the client will not retry). */
  declare readonly advice: Advice | undefined;
  /**
   * Trying again later may succeed: the server's advice decides when it sent one (anything but
   * `reconnect: 'none'`), else the code (`connection-lost`, `negotiation-failed`, `auth-failed`, `load-failed`).
   */
  declare readonly retriable: boolean;

  /** `options.retriable` overrides the rule above (a refused handshake follows Bayeux's default advice). */
  constructor(
    code: PushErrorCode,
    message: string,
    bayeux?: string,
    advice?: Advice,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(bayeux ? `${message} (${bayeux})` : message, options);
    this.code = code;
    this.bayeux = bayeux;
    this.bayeuxCode = bayeux ? parseBayeuxError(bayeux)?.code : undefined;
    this.advice = advice;
    this.retriable =
      options.retriable ?? (advice?.reconnect ? advice.reconnect !== 'none' : RETRIABLE.includes(code));
  }
}

/**
 * True when trying the same thing again later may succeed: a {@link TransportError}, or a
 * {@link PushError} whose `retriable` says so. The connection decides with it whether to retry a
 * failed round or stop; the app may use it for its own requests. False for anything else.
 * @example catch (e) { if (isRetriable(e)) retryLater(); else showError(e); }
 */
export function isRetriable(error: unknown): boolean {
  return (error instanceof PushError || error instanceof TransportError) && error.retriable;
}
