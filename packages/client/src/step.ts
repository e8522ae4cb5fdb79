/**
 * The steps of negotiation and of an upgrade probe, each within the step deadline: open a link,
 * send a request and take its reply, confirm the session with a `/meta/connect` answered at once.
 * A step fails on the transport (a {@link TransportError}, or its deadline) as a {@link StepError}
 * that names the step; anything else (a PushError: a refusal, `auth()`) passes through.
 */
import type { ConnectionType, Message, Reply } from '@push/protocol';
import type { PushError } from './errors.js';
import type { Link } from './link.js';
import type { NegotiateOptions } from './negotiate.js';
import { type Platform, TransportError } from './transports/transport.js';
import type { FallbackReason } from './types.js';

/** A step that failed: the fallback reason to record and the failure behind it. Try the next transport. */
export class StepError extends Error {
  // `declare`: set in the constructor, not declared again as class fields (bytes in the bundle).
  declare readonly reason: FallbackReason;
  declare readonly failure: TransportError | PushError;
  constructor(reason: FallbackReason, failure: TransportError | PushError) {
    super(reason);
    this.reason = reason;
    this.failure = failure;
  }
}

/**
 * Awaits `promise` within `timeout` ms. A missed deadline or a TransportError becomes a StepError
 * `{name}-timeout|failed`; anything else (a PushError) passes through.
 */
export async function step<T>(
  promise: Promise<T>,
  timeout: number,
  env: Platform,
  name: 'open' | 'handshake' | 'connect',
  type: ConnectionType,
): Promise<T> {
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = env.clock.setTimeout(() => reject(new TransportError('timeout', type)), timeout);
  });
  try {
    return await Promise.race([promise, deadline]);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    throw new StepError(`${name}-${error.code === 'timeout' ? 'timeout' : 'failed'}`, error);
  } finally {
    env.clock.clearTimeout(timer);
  }
}

/** Opens `link`'s transport (for `clientId`, if known) within the deadline. */
export function open(o: NegotiateOptions, link: Link, clientId?: string): Promise<void> {
  link.transport.open(clientId);
  return step(link.opened, o.timeout, o.env, 'open', link.factory.type);
}

/** Sends `message` on `link` with a fresh id; its reply must come within the deadline. */
export function ask(
  o: NegotiateOptions,
  link: Link,
  message: Message,
  name: 'handshake' | 'connect',
): Promise<Reply> {
  return step(link.request({ ...message, id: o.nextId() }), o.timeout, o.env, name, link.factory.type);
}

/** The first `/meta/connect` on `link` (`advice.timeout: 0`): answered at once, it proves the round trip. */
export const confirm = (o: NegotiateOptions, link: Link, clientId: string): Promise<Reply> =>
  ask(o, link, o.connect(clientId, link.factory.type, 0), 'connect');
