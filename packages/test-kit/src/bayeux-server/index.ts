/**
 * A small in-memory Bayeux server with Push's extensions (offsets and epoch, resume, acks,
 * presence) for client tests: no sockets, its timers on a {@link FakeClock}. One handler per meta
 * channel, in the files beside this one; anything else is a publish.
 */
import { channelMatches, type Message, type PresenceMember, type Reply } from '@push/protocol';
import type { FakeClock } from '../clock.js';
import { connect } from './connect.js';
import { disconnect } from './disconnect.js';
import { handshake } from './handshake.js';
import { presence } from './presence.js';
import { publish } from './publish.js';
import type { HandlerContext, Session } from './session.js';
import { subscribe } from './subscribe.js';
import { unsubscribe } from './unsubscribe.js';

export type { HandlerContext, Session } from './session.js';

type Handler = (server: FakeServer, message: Message, context: HandlerContext) => Message[];

/** Handlers of the channels a session may use, by channel. */
const HANDLERS = new Map<string, Handler>([
  ['/meta/connect', connect],
  ['/meta/subscribe', subscribe],
  ['/meta/unsubscribe', unsubscribe],
  ['/meta/disconnect', disconnect],
  ['/service/presence', presence],
]);

export class FakeServer {
  readonly sessions = new Map<string, Session>();
  /** Every published message per channel; a message's offset is its index + 1. */
  readonly history = new Map<string, Message[]>();
  epoch = 'e1';
  /** History window per channel (older messages are dropped). */
  window = 1000;
  advice = { reconnect: 'retry' as const, interval: 0, timeout: 1000 };
  /** Every message received, in order. */
  readonly received: Message[] = [];
  readonly members = new Map<string, PresenceMember[]>();
  /** Next connect replies: override to inject advice. */
  connectOverride: ((m: Message) => Reply | undefined) | undefined;
  /** Set to refuse every handshake with this error. */
  handshakeError: string | undefined;
  /** Advice sent with a refused handshake. */
  handshakeAdvice: Reply['advice'] = { reconnect: 'none' };
  private ids = 0;

  constructor(readonly clock: Pick<FakeClock, 'setTimeout' | 'clearTimeout'>) {}

  /** Processes a batch; replies go to `respond`, streamed data to the session's stream. */
  handle(batch: Message[], respond: (batch: Message[]) => void): void {
    const replies: Message[] = [];
    for (const m of batch) {
      this.received.push(m);
      if (m.channel === '/meta/handshake') {
        replies.push(handshake(this, m));
        continue;
      }
      const base = { channel: m.channel, id: m.id, clientId: m.clientId };
      const session = m.clientId ? this.sessions.get(m.clientId) : undefined;
      if (!session) {
        replies.push({
          ...base,
          successful: false,
          error: '402::Unknown client',
          advice: { reconnect: 'handshake' },
        });
        continue;
      }
      replies.push(...(HANDLERS.get(m.channel) ?? publish)(this, m, { base, session, respond }));
    }
    if (replies.length) respond(replies);
  }

  /** Publishes from the back end: stores the message with its offset and delivers it to matching sessions. */
  publish(channel: string, data: unknown, id?: string): Message {
    const list = this.history.get(channel) ?? [];
    const message: Message = {
      channel,
      data,
      id,
      ext: { push: { offset: list.length + 1, epoch: this.epoch } },
    };
    list.push(message);
    this.history.set(channel, list);
    for (const session of this.sessions.values()) {
      if ([...session.subs].some((p) => channelMatches(p, channel))) this.enqueue(session, [message]);
    }
    return message;
  }

  /** A new session (the handshake's). */
  open(): Session {
    const session: Session = { id: `c${++this.ids}`, subs: new Set(), queue: [], batch: 0 };
    this.sessions.set(session.id, session);
    return session;
  }

  /** Drops a session (as a restarted server would). */
  forget(clientId: string): void {
    this.sessions.delete(clientId);
  }

  /** Streams `messages` to the session, or queues them and answers its held connect. */
  enqueue(session: Session, messages: Message[]): void {
    if (session.stream) {
      session.stream(messages);
      return;
    }
    session.queue.push(...messages);
    const held = session.held;
    if (!held || session.queue.length === 0) return;
    session.held = undefined;
    this.clock.clearTimeout(held.timer);
    held.respond([...session.queue.splice(0), this.ackReply(session, held.reply)]);
  }

  /** `reply` with the `ack` extension's next batch number. */
  ackReply(session: Session, reply: Reply): Reply {
    return { ...reply, ext: { ack: ++session.batch } };
  }

  attachStream(clientId: string, stream: (batch: Message[]) => void): boolean {
    const session = this.sessions.get(clientId);
    if (!session) return false;
    session.stream = stream;
    const queued = session.queue.splice(0);
    if (queued.length) stream(queued);
    return true;
  }

  detachStream(clientId: string, stream: (batch: Message[]) => void): void {
    const session = this.sessions.get(clientId);
    if (session?.stream === stream) session.stream = undefined;
  }
}
