/**
 * The negotiation layer: walks a registry of transport factories in preference order, never
 * branching on a transport's name. Each step has a deadline; a step that fails moves on to the
 * next factory with the reason recorded. The factory that worked is remembered per origin.
 *
 * Steps per factory: duplex transports open, then handshake and connect over themselves; the others
 * handshake and connect by POST, then open their downstream with the confirmed clientId (first
 * bytes = liveness). Either way the first `/meta/connect` is sent with `advice.timeout: 0` and must
 * be answered within the deadline.
 */
import {
  BAYEUX_VERSION,
  type ConnectionType,
  type HandshakeRequest,
  type Message,
  type Reply,
} from '@push/protocol';
import { PushError } from './errors.js';
import { createLink, type Link } from './link.js';
import type { Fallback, FallbackReason, Platform, TransportFactory } from './types.js';

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
  /** Builds the handshake request (auth, ack extension, fallback reports). */
  handshake(fallbacks: readonly Fallback[]): Promise<HandshakeRequest>;
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
}

/** A step failure: the reason to record, or a fatal refusal that no other transport will fix. */
export class StepError extends Error {
  constructor(
    readonly reason: FallbackReason,
    readonly fatal?: PushError,
  ) {
    super(reason);
  }
}

/** Awaits `promise` within `timeout` ms; a miss or failure becomes a StepError `{name}-timeout|failed`. */
export async function step<T>(
  promise: Promise<T>,
  timeout: number,
  env: Platform,
  name: 'open' | 'handshake' | 'connect',
): Promise<T> {
  let timer: unknown;
  const deadline = new Promise<never>((_, reject) => {
    timer = env.clock.setTimeout(() => reject(new StepError(`${name}-timeout`)), timeout);
  });
  try {
    return await Promise.race([promise, deadline]);
  } catch (error) {
    throw error instanceof StepError ? error : new StepError(`${name}-failed`);
  } finally {
    env.clock.clearTimeout(timer);
  }
}

/** Tries one factory; resolves with a connected link or throws a StepError. */
async function attempt(o: NegotiateOptions, factory: TransportFactory, fallbacks: Fallback[]) {
  const link = createLink(factory, o.url, o.env);
  const early: Message[] = [];
  link.onMessage = (message) => early.push(message);
  try {
    let clientId = o.clientId;
    let handshake: Reply | undefined;
    const open = () => {
      link.transport.open(clientId);
      return step(link.opened, o.timeout, o.env, 'open');
    };
    if (factory.duplex) await open();
    for (let tries = 0; ; tries++) {
      if (!clientId) {
        const request = await o.handshake(fallbacks);
        handshake = await step(link.request({ ...request, id: o.nextId() }), o.timeout, o.env, 'handshake');
        if (!handshake.successful || !handshake.clientId) {
          const refused = new PushError('rejected', 'Handshake refused', handshake.error, handshake.advice);
          // An explicit refusal (bad credentials) is the same on every transport: do not fall back.
          throw new StepError('handshake-failed', handshake.error ? refused : undefined);
        }
        clientId = handshake.clientId;
      }
      // Non-duplex transports confirm the session by POST before opening their downstream: a
      // stream opened for a clientId the server forgot (it restarted) would only carry a 402.
      const connect = await step(
        link.request({ ...o.connect(clientId, factory.type, 0), id: o.nextId() }),
        o.timeout,
        o.env,
        'connect',
      );
      if (connect.successful) {
        if (!factory.duplex) await open();
        return { link, clientId, handshake, connect, early };
      }
      if (tries > 0 || handshake || connect.advice?.reconnect === 'none')
        throw new StepError('connect-failed');
      clientId = undefined; // the server forgot the session: handshake again on the same link
    }
  } catch (error) {
    link.close();
    throw error;
  }
}

/**
 * Runs one negotiation round from `start`. Resolves with the first factory that connects;
 * rejects with a PushError (`negotiation-failed`, or `rejected` on a refused handshake).
 */
export async function negotiate(o: NegotiateOptions): Promise<Negotiated> {
  const fallbacks: Fallback[] = [];
  let failed: { type: ConnectionType; reason: FallbackReason } | undefined;
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
      return { ...result, index, fallbacks };
    } catch (error) {
      const { reason, fatal } = error as StepError;
      if (fatal) throw fatal;
      o.env.log('debug', factory.type, reason);
      failed = { type: factory.type, reason: reason ?? 'open-failed' };
    }
  }
  throw new PushError('negotiation-failed', `No transport worked: ${failed?.type} ${failed?.reason}`);
}

export const handshakeMessage = (types: readonly ConnectionType[]): HandshakeRequest => ({
  channel: '/meta/handshake',
  version: BAYEUX_VERSION,
  supportedConnectionTypes: types as ConnectionType[],
});
