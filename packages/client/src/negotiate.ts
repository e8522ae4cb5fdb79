/**
 * The negotiation layer: walks a registry of transport factories in preference order, never
 * branching on a transport's name. Each step has a deadline; a step that fails moves on to the
 * next factory with the reason recorded. The factory that worked is remembered per origin.
 *
 * Steps per factory: duplex transports open, then handshake and connect over themselves; the others
 * handshake and connect by POST, then open their downstream with the confirmed clientId (first
 * bytes = liveness). Either way the first `/meta/connect` is sent with `advice.timeout: 0` and must
 * be answered within the deadline.
 *
 * A step (`step.ts`) fails on the transport (a {@link TransportError}, or its deadline) and the
 * next factory is tried. A refused handshake or a failing `auth()` is no transport's fault: it is a
 * PushError, the same on every transport, and ends the round without a fallback. The two are told
 * apart with `instanceof`. Nor is an outage (the factory's `outage()`: the server is unreachable):
 * that step's failure ends the round too, and the next round, after the backoff, walks the same
 * order again.
 */
import {
  BAYEUX_VERSION,
  type ConnectionType,
  type HandshakeRequest,
  type Message,
  type MessageExt,
  type Reply,
} from '@push/protocol';
import { PushError } from './errors.js';
import { createLink, type Link } from './link.js';
import { ask, confirm, open, StepError } from './step.js';
import type { Platform, TransportError, TransportFactory } from './transports/transport.js';
import type { AuthToken, Fallback, FallbackReason } from './types.js';

export interface NegotiateOptions {
  url: URL;
  env: Platform;
  factories: readonly TransportFactory[];
  /** Index to start at (the remembered transport). */
  start: number;
  /** Deadline of each step, ms. */
  timeout: number;
  /** An existing session to reattach to; the handshake is skipped unless the server forgot it. */
  clientId?: string;
  nextId(): string;
  /** Where messages of an upgrade probe go (the client's dispatcher). */
  onMessage(message: Message): void;
  /** Credentials for the handshake, or the function that returns them (called per handshake). */
  auth?: AuthToken | (() => Promise<AuthToken>);
  /** Builds a `/meta/connect` request for `clientId` on `type`. */
  connect(clientId: string, type: ConnectionType, hold?: number): Message;
}

export interface Negotiated {
  link: Link;
  index: number;
  clientId: string;
  /** Set when a new session was created (subscriptions must be renewed). */
  handshake: Reply | undefined;
  connect: Reply;
  fallbacks: Fallback[];
  /** Messages that arrived during negotiation (deliver them after the connect reply). */
  early: Message[];
  /** What ended the last failed attempt, when there was a fallback. */
  error?: TransportError | PushError;
}

/** The handshake request: connection types, the ack extension, fallback reports and credentials. */
async function handshakeRequest(
  o: NegotiateOptions,
  fallbacks: readonly Fallback[],
): Promise<HandshakeRequest> {
  const ext: MessageExt = { ack: true };
  if (fallbacks.length) ext.push = { fallbacks: [...fallbacks] };
  if (o.auth) {
    try {
      ext.auth = typeof o.auth === 'function' ? await o.auth() : o.auth;
    } catch (cause) {
      throw new PushError('auth-failed', `auth() failed: ${cause}`, undefined, undefined, { cause });
    }
  }
  const supportedConnectionTypes = o.factories.map((f) => f.type);
  return { channel: '/meta/handshake', version: BAYEUX_VERSION, supportedConnectionTypes, ext };
}

/**
 * Tries one factory; resolves with a connected link, throws a StepError (try the next one) or a
 * PushError (a refusal or `auth()` failure: the round ends).
 */
async function attempt(o: NegotiateOptions, factory: TransportFactory, fallbacks: Fallback[]) {
  const link = createLink(factory, o.url, o.env);
  const early: Message[] = [];
  link.onMessage = (message) => early.push(message);
  try {
    let clientId = o.clientId;
    let handshake: Reply | undefined;
    if (factory.duplex) await open(o, link, clientId);
    for (let tries = 0; ; tries++) {
      if (!clientId) {
        handshake = await ask(o, link, await handshakeRequest(o, fallbacks), 'handshake');
        if (!handshake.successful || !handshake.clientId) {
          // An explicit refusal (bad credentials) is the same on every transport: do not fall back.
          // Without advice Bayeux's default applies (`retry`), so only `none` makes it final.
          const { error, advice } = handshake;
          const retriable = advice?.reconnect !== 'none';
          const refused = new PushError('rejected', 'Handshake refused', error, advice, { retriable });
          if (error) throw refused;
          throw new StepError('handshake-failed', refused);
        }
        clientId = handshake.clientId;
      }
      // Non-duplex transports confirm the session by POST before opening their downstream: a
      // stream opened for a clientId the server forgot (it restarted) would only carry a 402.
      const connect = await confirm(o, link, clientId);
      if (connect.successful) {
        if (!factory.duplex) await open(o, link, clientId);
        return { link, clientId, handshake, connect, early };
      }
      if (tries > 0 || handshake || connect.advice?.reconnect === 'none') {
        const refused = new PushError('rejected', 'Connect refused', connect.error, connect.advice);
        throw new StepError('connect-failed', refused);
      }
      clientId = undefined; // the server forgot the session: handshake again on the same link
    }
  } catch (error) {
    link.close();
    throw error;
  }
}

/**
 * Runs one negotiation round from `start`. Resolves with the first factory that connects;
 * rejects with a PushError (`negotiation-failed`; `rejected` on a refused handshake; `auth-failed`).
 */
export async function negotiate(o: NegotiateOptions): Promise<Negotiated> {
  const fallbacks: Fallback[] = [];
  let failed: { type: ConnectionType; reason: FallbackReason; error?: StepError['failure'] } | undefined;
  const count = o.factories.length;
  for (let i = 0; i < count; i++) {
    const index = (o.start + i) % count;
    const factory = o.factories[index]!;
    if (failed)
      fallbacks.push({ from: failed.type, to: factory.type, reason: failed.reason, at: o.env.clock.now() });
    if (!factory.isSupported(o.env)) {
      failed = { type: factory.type, reason: 'unsupported' };
      continue;
    }
    try {
      const result = await attempt(o, factory, fallbacks);
      return { ...result, index, fallbacks, error: failed?.error };
    } catch (error) {
      if (!(error instanceof StepError)) throw error; // not the transport's fault: no fallback
      o.env.log('debug', factory.type, error.reason);
      failed = { type: factory.type, reason: error.reason, error: error.failure };
      if (factory.outage?.(error.failure)) break; // this round fails; the next walks the same order again
    }
  }
  const cause = failed?.error;
  const message = `No transport worked: ${failed?.type} ${failed?.reason}`;
  throw new PushError('negotiation-failed', message, undefined, undefined, cause ? { cause } : {});
}
