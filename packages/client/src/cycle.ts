/**
 * The `/meta/connect` cycle of a connected link: send a connect, let the server hold it, take its
 * reply (advice, ack), wait the advised interval, send the next. Also the heartbeat: every held
 * connect must be answered within its hold plus `heartbeatGrace`, or the link is declared dead
 * (half-open) — so a silent connection is found within that bound (30 s + 10 s by default).
 *
 * The cycle only reports; the connection decides: `lost(link, error)` when the link died or went
 * silent, `refused(action, reply)` when the server refused a connect.
 */
import {
  type Advice,
  type ConnectionType,
  type ConnectRequest,
  parseBayeuxError,
  type ReconnectAdvice,
  type Reply,
} from '@push/protocol';
import type { HoldPolicy } from './hold.js';
import { type Link, transportFailure } from './link.js';
import { createTimer } from './platform.js';
import { type Clock, TransportError } from './transports/transport.js';

export interface CycleDeps {
  clock: Clock;
  /** Held-request adaptation (`hold.ts`); absent in the WebSocket-only entry. */
  policy: HoldPolicy | undefined;
  heartbeatGrace: number;
  nextId(): string;
  /** The current link, whatever the state. */
  link(): Link | undefined;
  /** The session to cycle for while the state lets requests out; undefined otherwise. */
  clientId(): string | undefined;
  /** The link died (the connect failed) or went silent (heartbeat). */
  lost(link: Link, error: TransportError): void;
  /** The server refused a connect; `action` is its advice, or Bayeux's default for the error. */
  refused(action: ReconnectAdvice, reply: Reply): void;
}

export interface ConnectCycle {
  /** The server's advice so far (handshake and connect replies merged). */
  readonly advice: Advice;
  /** A new session: whether the server acks, and its handshake advice. */
  session(handshake: Reply): void;
  /** The `/meta/connect` for `clientId` on `type`; `hold` overrides the hold asked for. */
  message(clientId: string, type: ConnectionType, hold?: number): ConnectRequest;
  /** Takes a connect reply that came on `link`: schedules the next connect or reports a refusal. */
  reply(reply: Reply, link: Link): void;
  /** Sends the next connect on `link` now, if it is still the live link. */
  send(link: Link): void;
  /** Stops: the next connect and the heartbeat are cancelled, a held connect's reply is dropped. */
  stop(): void;
  /** `link` died: a held connect that died early on HTTP feeds the hold policy. */
  died(link: Link): void;
}

export function createConnectCycle(d: CycleDeps): ConnectCycle {
  const { clock, policy } = d;
  const next = createTimer(clock);
  const heartbeat = createTimer(clock);
  let advice: Advice = {};
  let ackEnabled = false;
  let ack: number | undefined;
  /** Bumped on stop: replies and timers of an earlier connect are ignored. */
  let gen = 0;
  /** The connect in flight: when it was sent and how long the server may hold it. */
  let held: { sentAt: number; hold: number } | undefined;
  /** The hold to ask for: 0 when the policy polls, its adapted hold, else the server's say. */
  const asked = () => (policy?.polling ? 0 : policy?.hold);

  const cycle: ConnectCycle = {
    get advice() {
      return advice;
    },
    session(handshake) {
      ackEnabled = handshake.ext?.ack === true;
      ack = undefined;
      if (handshake.advice) advice = { ...advice, ...handshake.advice };
    },
    message(clientId, type, holdOverride) {
      const message: ConnectRequest = { channel: '/meta/connect', clientId, connectionType: type };
      const timeout = holdOverride ?? asked();
      if (timeout !== undefined) message.advice = { timeout };
      if (ackEnabled && ack !== undefined) message.ext = { ack };
      return message;
    },
    reply(reply, from) {
      if (reply.advice) advice = { ...advice, ...reply.advice };
      if (reply.successful) {
        if (typeof reply.ext?.ack === 'number') ack = reply.ext.ack;
        const interval = policy?.interval(advice.interval) ?? advice.interval ?? 0;
        return next.set(interval, () => cycle.send(from));
      }
      const code = reply.error ? parseBayeuxError(reply.error)?.code : undefined;
      d.refused(reply.advice?.reconnect ?? (code === 402 ? 'handshake' : 'retry'), reply);
    },
    send(from) {
      const clientId = d.clientId();
      if (from !== d.link() || !clientId) return;
      const my = ++gen;
      const request = {
        hold: asked() ?? advice.timeout ?? 30_000,
        sentAt: clock.now(),
      };
      held = request;
      from.request({ ...cycle.message(clientId, from.factory.type), id: d.nextId() }).then(
        (reply) => {
          if (my !== gen || from !== d.link()) {
            if (from !== d.link()) from.close(); // a drained link's last held connect came back
            return;
          }
          heartbeat.clear();
          held = undefined;
          policy?.answered(clock.now() - request.sentAt, request.hold);
          cycle.reply(reply, from);
        },
        (error: unknown) => {
          if (my !== gen) return;
          d.lost(from, transportFailure(error, from.factory.type));
        },
      );
      // No answer within hold + grace: dead, unless the hold policy (full client) is patient
      // (a late timer, data received meanwhile: `hold.ts`).
      const wait = request.hold + d.heartbeatGrace;
      let due = request.sentAt + wait;
      heartbeat.set(wait, function beat() {
        if (my !== gen || from !== d.link()) return;
        const now = clock.now();
        const more = policy?.patience(now - due, now - from.seen, wait, d.heartbeatGrace);
        if (!more) return d.lost(from, new TransportError('timeout', from.factory.type));
        due = now + more;
        heartbeat.set(more, beat);
      });
    },
    stop() {
      gen++;
      held = undefined;
      next.clear();
      heartbeat.clear();
    },
    died(link) {
      if (held && !link.factory.duplex) policy?.died(clock.now() - held.sentAt, held.hold);
    },
  };
  return cycle;
}
