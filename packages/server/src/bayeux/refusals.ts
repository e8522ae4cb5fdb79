/**
 * The Bayeux messages a request gets when the server cannot serve it at all: a batch it could not
 * read, a stream it cannot attach, an upgrade it refuses, a request that failed. The builders live
 * here, beside the handlers; `http/` only writes the bytes.
 */
import {
  type Advice,
  bayeuxErrors,
  type ConnectionType,
  isValidCallbackName,
  type Message,
} from '@push/protocol';
import { isRetriable } from '../errors.js';

function refusal(channel: string, error: string, reconnect: Advice['reconnect']): Message {
  return { channel, successful: false, error, advice: { reconnect, interval: 0 } };
}

/** The reply to a batch the server could not read at all (bad JSON, not an array, too large). */
export function unreadableBatchReply(error: string): Message {
  return refusal('/meta/unsuccessful', error, 'retry');
}

/** {@link unreadableBatchReply} as a JSON batch: the body of an HTTP refusal. */
export function refusalJson(error: string): string {
  return JSON.stringify([unreadableBatchReply(error)]);
}

/** What a stream carries when it cannot serve the client: a failed connect, handshake again. */
export function streamRefusal(error: string): Message {
  return refusal('/meta/connect', error, 'handshake');
}

/**
 * Why a `<script>` transport (forever-iframe, JSONP) cannot serve a request, or undefined when it
 * can: `type` is not offered, or the callback name (query parameter `param`) is not a JavaScript
 * identifier path (anything else could inject script).
 */
export function scriptTransportRefusal(
  offered: ReadonlySet<ConnectionType>,
  type: ConnectionType,
  param: string,
  callback: string,
): string | undefined {
  if (!offered.has(type)) return bayeuxErrors.unsupportedConnectionType([type]);
  if (!isValidCallbackName(callback))
    return bayeuxErrors.badRequest(`${param} must be a JavaScript identifier path`);
  return undefined;
}

/**
 * The answer to a request whose handling threw: `503` (try again) for a passing failure such as
 * a broker that is away ({@link isRetriable}), else `500`.
 */
export function faultRefusal(error: unknown): { status: 500 | 503; error: string } {
  return isRetriable(error)
    ? { status: 503, error: bayeuxErrors.unavailable('Server unavailable: try again') }
    : { status: 500, error: bayeuxErrors.serverError() };
}
