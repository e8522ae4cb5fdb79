// Test doubles: a fake clock, an in-memory Bayeux server with offsets/acks/presence, and
// scriptable fake transports. No real timers: tests advance the fake clock.
import {
  type ConnectionType,
  channelMatches,
  type Message,
  type PresenceMember,
  type PresenceRequest,
  type Reply,
  TRANSPORTS,
} from '@push/protocol';
import {
  type Clock,
  type OnlineSignal,
  type Platform,
  type Transport,
  TransportError,
  type TransportEvents,
  type TransportFactory,
} from '../transports/transport.js';

export class FakeClock implements Clock {
  time = 0;
  private seq = 0;
  timers = new Map<number, { at: number; fn: () => void }>();
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers.delete(handle as number);
  };
  /** Delays of pending timers, from now. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
  /** Advances time by `ms`, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

/** Lets pending promise chains run (a macrotask turn; no time passes on the fake clock). */
export const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

export function fakeOnline(initial = true): OnlineSignal & { set(online: boolean): void } {
  let online = initial;
  const listeners = new Set<(online: boolean) => void>();
  return {
    online: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      online = value;
      for (const l of listeners) l(value);
    },
  };
}

interface Session {
  id: string;
  subs: Set<string>;
  queue: Message[];
  held?: { reply: Reply; respond: (batch: Message[]) => void; timer: unknown };
  stream?: (batch: Message[]) => void;
  batch: number;
}

/** A small Bayeux server with Push's ext: offsets/epoch, resume, acks, presence. */
export class FakeServer {
  sessions = new Map<string, Session>();
  history = new Map<string, Message[]>();
  epoch = 'e1';
  /** History window per channel (older messages are dropped). */
  window = 1000;
  advice = { reconnect: 'retry' as const, interval: 0, timeout: 1000 };
  received: Message[] = [];
  members = new Map<string, PresenceMember[]>();
  /** Next connect replies: override to inject advice. */
  connectOverride: ((m: Message) => Reply | undefined) | undefined;
  handshakeError: string | undefined;
  /** Advice sent with a refused handshake. */
  handshakeAdvice: Reply['advice'] = { reconnect: 'none' };
  private ids = 0;

  constructor(readonly clock: FakeClock) {}

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

  /** Drops a session (as a restarted server would). */
  forget(clientId: string): void {
    this.sessions.delete(clientId);
  }

  private enqueue(session: Session, messages: Message[]) {
    if (session.stream) return session.stream(messages);
    session.queue.push(...messages);
    this.flush(session);
  }

  private flush(session: Session): void {
    const held = session.held;
    if (!held || session.queue.length === 0) return;
    session.held = undefined;
    this.clock.clearTimeout(held.timer);
    const messages = session.queue.splice(0);
    held.respond([...messages, this.ackReply(session, held.reply)]);
  }

  private ackReply(session: Session, reply: Reply): Reply {
    return { ...reply, ext: { ack: ++session.batch } };
  }

  /** Processes a batch; replies go to `respond`, streamed data to the session's stream. */
  handle(batch: Message[], respond: (batch: Message[]) => void): void {
    const replies: Message[] = [];
    for (const m of batch) {
      this.received.push(m);
      const base = { channel: m.channel, id: m.id, clientId: m.clientId };
      const session = m.clientId ? this.sessions.get(m.clientId) : undefined;
      if (m.channel === '/meta/handshake') {
        if (this.handshakeError) {
          replies.push({
            ...base,
            successful: false,
            error: this.handshakeError,
            advice: this.handshakeAdvice,
          });
          continue;
        }
        const id = `c${++this.ids}`;
        this.sessions.set(id, { id, subs: new Set(), queue: [], batch: 0 });
        replies.push({
          ...base,
          clientId: id,
          successful: true,
          version: '1.0',
          ext: { ack: true },
          advice: this.advice,
        });
        continue;
      }
      if (!session) {
        replies.push({
          ...base,
          successful: false,
          error: '402::Unknown client',
          advice: { reconnect: 'handshake' },
        });
        continue;
      }
      if (m.channel === '/meta/connect') {
        const override = this.connectOverride?.(m);
        if (override) {
          replies.push(override);
          continue;
        }
        const reply: Reply = { ...base, successful: true, advice: this.advice };
        if (session.held) {
          // a new connect replaces the held one: answer the old at once
          const old = session.held;
          session.held = undefined;
          this.clock.clearTimeout(old.timer);
          old.respond([this.ackReply(session, old.reply)]);
        }
        const hold = m.advice?.timeout ?? this.advice.timeout;
        if (session.queue.length || hold === 0) {
          replies.push(...session.queue.splice(0), this.ackReply(session, reply));
          continue;
        }
        const timer = this.clock.setTimeout(() => {
          if (session.held?.reply !== reply) return;
          session.held = undefined;
          respond([this.ackReply(session, reply)]);
        }, hold);
        session.held = { reply, respond, timer };
        continue;
      }
      if (m.channel === '/meta/subscribe') {
        const pattern = String((m as { subscription: string }).subscription);
        session.subs.add(pattern);
        const reply: Reply = { ...base, successful: true, subscription: pattern };
        const resume = m.ext?.push?.resume;
        if (resume) {
          let recovered = true;
          const missed: Message[] = [];
          const positions: Record<string, { offset: number; epoch: string }> = {};
          for (const [channel, position] of Object.entries(resume)) {
            const list = this.history.get(channel) ?? [];
            positions[channel] = { offset: list.length, epoch: this.epoch };
            const first = Math.max(0, list.length - this.window);
            if (position.epoch !== this.epoch || position.offset < first) recovered = false;
            else missed.push(...list.slice(position.offset));
          }
          reply.ext = { push: { recovered, positions } };
          replies.push(reply);
          if (recovered) this.enqueue(session, missed);
          continue;
        }
        // Like @push/server: a plain subscribe to a concrete channel reports its current position.
        if (!pattern.includes('*')) {
          const offset = this.history.get(pattern)?.length ?? 0;
          reply.ext = { push: { positions: { [pattern]: { offset, epoch: this.epoch } } } };
        }
        replies.push(reply);
        continue;
      }
      if (m.channel === '/meta/unsubscribe') {
        session.subs.delete(String((m as { subscription: string }).subscription));
        replies.push({ ...base, successful: true });
        continue;
      }
      if (m.channel === '/meta/disconnect') {
        this.sessions.delete(session.id);
        replies.push({ ...base, successful: true });
        continue;
      }
      if (m.channel === '/service/presence') {
        const request = (m as { data: PresenceRequest }).data;
        const list = this.members.get(request.channel) ?? [];
        if (request.action === 'enter') {
          const member = { clientId: session.id, data: request.data };
          list.push(member);
          this.publish(`/presence${request.channel}`, { type: 'join', channel: request.channel, member });
        } else if (request.action === 'leave') {
          const at = list.findIndex((x) => x.clientId === session.id);
          if (at >= 0) {
            const [member] = list.splice(at, 1);
            this.publish(`/presence${request.channel}`, { type: 'leave', channel: request.channel, member });
          }
        }
        this.members.set(request.channel, list);
        replies.push({ ...base, successful: true, data: { channel: request.channel, members: [...list] } });
        continue;
      }
      if (m.channel.startsWith('/forbidden')) {
        replies.push({ ...base, successful: false, error: `403:${m.channel}:Forbidden` });
        continue;
      }
      replies.push({ ...base, successful: true });
      this.publish(m.channel, (m as { data: unknown }).data, m.id);
    }
    if (replies.length) respond(replies);
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

/** How a fake transport misbehaves. */
export type Behavior =
  | 'ok'
  | 'unsupported'
  | 'never-open' // socket never opens / stream's first bytes never arrive (buffering proxy)
  | 'fail-open' // refused at once
  | 'silent' // opens, but nothing sent is ever answered
  | 'fail-post'; // every upstream request fails

export interface FakeTransport extends Transport {
  events: TransportEvents;
  /** Kills the transport from the network side. */
  kill(): void;
  closed: boolean;
}

export interface FakeFactoryOptions {
  /** Default: the protocol's `TRANSPORTS[type].duplex`. */
  duplex?: boolean;
  /** Non-duplex: a downstream stream is opened (SSE/iframe) or not (long-polling); default `streamed`. */
  stream?: boolean;
  behavior?: Behavior;
}

export function fakeFactory(
  server: FakeServer,
  type: ConnectionType,
  given: FakeFactoryOptions = {},
): TransportFactory & { created: FakeTransport[]; behavior: Behavior } {
  const options = { duplex: TRANSPORTS[type].duplex, stream: TRANSPORTS[type].streamed, ...given };
  const factory = {
    type,
    duplex: options.duplex,
    behavior: options.behavior ?? ('ok' as Behavior),
    created: [] as FakeTransport[],
    isSupported: () => factory.behavior !== 'unsupported',
    create(_url: URL, events: TransportEvents, _env: Platform): FakeTransport {
      const behavior = factory.behavior;
      let clientId: string | undefined;
      const stream = (batch: Message[]) => {
        if (!transport.closed) events.message(batch);
      };
      const deliver = (batch: Message[]) => {
        if (!transport.closed) void Promise.resolve().then(() => transport.closed || events.message(batch));
      };
      const transport: FakeTransport = {
        type,
        events,
        closed: false,
        open(id) {
          clientId = id;
          if (behavior === 'never-open') return;
          if (behavior === 'fail-open') {
            void Promise.resolve().then(() => transport.kill());
            return;
          }
          if (options.duplex || options.stream) {
            if (!options.duplex && clientId && !server.attachStream(clientId, stream)) {
              void Promise.resolve().then(() => transport.kill());
              return;
            }
          }
          void Promise.resolve().then(() => transport.closed || events.open());
        },
        async send(batch) {
          if (transport.closed) throw new TransportError('not-open', type);
          if (behavior === 'silent') return;
          if (behavior === 'fail-post' && !options.duplex) {
            void Promise.resolve().then(() => transport.kill());
            throw new TransportError('http-status', type, { status: 503 });
          }
          for (const m of batch) {
            if (m.channel === '/meta/handshake' || !options.duplex) continue;
            clientId = m.clientId ?? clientId;
          }
          server.handle(batch, (replies) => {
            const id = replies.find((r) => r.channel === '/meta/handshake')?.clientId;
            if (id && options.duplex) {
              clientId = id;
              server.attachStream(id, stream);
            }
            deliver(replies);
          });
          if (options.duplex && clientId) server.attachStream(clientId, stream);
        },
        pause: async () => {},
        close() {
          transport.closed = true;
          if (clientId) server.detachStream(clientId, stream);
        },
        kill() {
          if (transport.closed) return;
          transport.close();
          events.close(new TransportError('closed', type)); // killed from the network side
        },
      };
      factory.created.push(transport);
      return transport;
    },
  };
  return factory;
}

/** The four transports as fakes, in the default order. */
export function fakeFactories(server: FakeServer, behaviors: Partial<Record<ConnectionType, Behavior>> = {}) {
  return {
    websocket: fakeFactory(server, 'websocket', { behavior: behaviors.websocket }),
    eventsource: fakeFactory(server, 'eventsource', { behavior: behaviors.eventsource }),
    'long-polling': fakeFactory(server, 'long-polling', { behavior: behaviors['long-polling'] }),
    iframe: fakeFactory(server, 'iframe', { behavior: behaviors.iframe }),
  };
}

export function memoryStorage(initial: Record<string, string> = {}) {
  const map = new Map(Object.entries(initial));
  return {
    map,
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, value),
  };
}

import type { PushError } from '../errors.js';
import { createClient } from '../index.js';
import type { ClientOptions, PushClient, StateReason, TransportChange } from '../types.js';

export const URL_ = 'http://push.test/push';

/** A client wired to fakes; records every state (and its reason), transport change and error. */
export function setup(
  options: {
    behaviors?: Partial<Record<ConnectionType, Behavior>>;
    order?: ConnectionType[];
    storage?: ReturnType<typeof memoryStorage>;
    client?: Partial<ClientOptions>;
  } = {},
) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const factories = fakeFactories(server, options.behaviors);
  const online = fakeOnline();
  const storage = options.storage ?? memoryStorage();
  const order = options.order ?? (['websocket', 'eventsource', 'long-polling', 'iframe'] as ConnectionType[]);
  const client: PushClient = createClient({
    url: URL_,
    transports: order.map((t) => factories[t as keyof typeof factories]),
    clock,
    online,
    storage,
    random: () => 1,
    attemptTimeout: 1000,
    heartbeatGrace: 500,
    backoff: { base: 100, max: 1000 },
    upgradeDelay: 0,
    ...options.client,
  });
  const states: string[] = [];
  /** The reason of each state change, beside `states`. */
  const reasons: StateReason[] = [];
  const changes: TransportChange[] = [];
  const errors: PushError[] = [];
  client.on('state', (state, _previous, reason) => {
    states.push(state);
    reasons.push(reason);
  });
  client.on('transport', (change) => changes.push(change));
  client.on('error', (error) => errors.push(error));
  return { clock, server, factories, online, storage, client, states, reasons, changes, errors };
}

/** The connection type of each handshake/connect the server received, in order. */
export const handshakes = (server: FakeServer) =>
  server.received.filter((m) => m.channel === '/meta/handshake');
