/**
 * Bayeux error strings (`code:args:message`, e.g. `402::Unknown client`) as typed values,
 * and the ProtocolError that codecs throw on bad input.
 */

/** Numeric Bayeux error codes Push uses. */
export type BayeuxErrorCode =
  | 400
  | 401
  | 402
  | 403
  | 404
  | 405
  | 406
  | 407
  | 408
  | 409
  | 413
  | 429
  | 500
  | 503;

/** A parsed Bayeux error string. */
export interface BayeuxError {
  code: BayeuxErrorCode;
  args: string[];
  message: string;
}

/** Formats a Bayeux error string: `code:arg1,arg2:message`. */
export function formatBayeuxError(code: BayeuxErrorCode, args: readonly string[], message: string): string {
  return `${code}:${args.join(',')}:${message}`;
}

/**
 * Parses a Bayeux error string. Returns undefined when `error` is not in `code:args:message` form.
 * @example parseBayeuxError('402::Unknown client') // { code: 402, args: [], message: 'Unknown client' }
 */
export function parseBayeuxError(error: string): BayeuxError | undefined {
  const match = /^(\d{3}):([^:]*):(.*)$/s.exec(error);
  if (!match) return undefined;
  const args = match[2] === '' ? [] : match[2]!.split(',');
  return { code: Number(match[1]) as BayeuxErrorCode, args, message: match[3]! };
}

/**
 * Typed constructors for every Bayeux error Push sends. Each returns the wire string.
 * @example bayeuxErrors.unknownClient('abc') === '402:abc:Unknown client'
 */
export const bayeuxErrors = {
  /** 400: the message is malformed (missing field, bad type, not JSON). */
  badRequest: (reason: string) => formatBayeuxError(400, [], `Bad request: ${reason}`),
  /** 400: the message's version is not supported. */
  versionMismatch: (version: string) => formatBayeuxError(400, [version], 'Version mismatch'),
  /** 401: the handshake credentials were missing or invalid. */
  unauthenticated: (reason = 'Authentication failed') => formatBayeuxError(401, [], reason),
  /** 402: the clientId is unknown or its session expired; the client must handshake again. */
  unknownClient: (clientId = '') => formatBayeuxError(402, clientId ? [clientId] : [], 'Unknown client'),
  /** 403: the action on this channel is not allowed. */
  forbidden: (channel: string, action: string) =>
    formatBayeuxError(403, [channel], `Forbidden: ${action} denied`),
  /** 405: the channel name is not valid for this action (e.g. publish to /meta/*). */
  channelForbidden: (channel: string, reason: string) => formatBayeuxError(405, [channel], reason),
  /** 406: no connection type in common. */
  unsupportedConnectionType: (types: readonly string[]) =>
    formatBayeuxError(406, [...types], 'Unsupported connection type'),
  /** 407: the channel name is invalid. */
  invalidChannel: (channel: string) => formatBayeuxError(407, [channel], 'Invalid channel'),
  /** 409: the client is already connected on another request (Bayeux multiple-clients). */
  conflict: (reason: string) => formatBayeuxError(409, [], reason),
  /** 413: the message or batch is larger than the server allows. */
  tooLarge: (limit: number) =>
    formatBayeuxError(413, [String(limit)], `Message too large (limit ${limit} bytes)`),
  /** 429: a limit was hit (subscriptions per client, rate, queue length). */
  limitExceeded: (what: string, limit: number) =>
    formatBayeuxError(429, [what, String(limit)], `Limit exceeded: ${what}`),
  /** 500: an unexpected server failure (the server stays up). */
  serverError: (reason = 'Internal server error') => formatBayeuxError(500, [], reason),
  /** 503: the server cannot take more connections now. */
  unavailable: (reason = 'Server unavailable') => formatBayeuxError(503, [], reason),
} as const;

/** Codes of {@link ProtocolError}: what was wrong with the input. */
export type ProtocolErrorCode =
  | 'malformed-json'
  | 'not-a-batch'
  | 'invalid-message'
  | 'invalid-channel'
  | 'too-large'
  | 'too-deep'
  | 'invalid-callback'
  | 'buffer-overflow';

/** Thrown by codecs and validators on bad input. `bayeux` is the error string to send back. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly bayeux: string;

  constructor(code: ProtocolErrorCode, message: string, bayeux?: string) {
    super(message);
    this.code = code;
    this.bayeux = bayeux ?? bayeuxErrors.badRequest(message);
  }
}
