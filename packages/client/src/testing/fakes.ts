// The client's test doubles: scriptable fake transports in front of the test kit's fake Bayeux
// server, an online signal, a storage, and `setup()`, a client wired to all of them. No real
// timers: tests advance the kit's fake clock.
import { type ConnectionType, type Message, TRANSPORTS } from '@push/protocol';
import { FakeServer } from '@push/test-kit/bayeux-server';
import { FakeClock } from '@push/test-kit/clock';
import { unreachable } from '../transports/http.js';
import {
  type OnlineSignal,
  type Platform,
  type Transport,
  TransportError,
  type TransportEvents,
  type TransportFactory,
} from '../transports/transport.js';

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

/** How a fake transport misbehaves. */
export type Behavior =
  | 'ok'
  | 'unsupported'
  | 'never-open' // socket never opens / stream's first bytes never arrive (buffering proxy)
  | 'fail-open' // refused at once
  | 'silent' // opens, but nothing sent is ever answered
  | 'fail-post' // every upstream request is refused (403: a proxy or WAF that blocks this transport)
  | 'down' // the server is unreachable: every request gets no answer (fetch rejects: `network`)
  | 'bad-gateway'; // the server is down behind a proxy: every request is answered 502 by the proxy

export interface FakeTransport extends Transport {
  events: TransportEvents;
  /** Kills the transport from the network side (with `error`, default `closed`). */
  kill(error?: TransportError): void;
  closed: boolean;
}

export interface FakeFactoryOptions {
  /** Default: the protocol's `TRANSPORTS[type].duplex`. */
  duplex?: boolean;
  /** Non-duplex: a downstream stream is opened (SSE/iframe) or not (long-polling); default `streamed`. */
  stream?: boolean;
  behavior?: Behavior;
}

/** The error of a request to a server that is not there (`down`, `bad-gateway`), else undefined. */
function unreachableError(behavior: Behavior, type: ConnectionType): TransportError | undefined {
  if (behavior === 'down')
    return new TransportError('network', type, { cause: new TypeError('Failed to fetch') });
  if (behavior === 'bad-gateway') return new TransportError('http-status', type, { status: 502 });
  return undefined;
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
    // Like the real ones: the HTTP transports tell an unreachable server by status.
    ...(options.duplex ? {} : { outage: unreachable }),
    create(_url: URL, events: TransportEvents, _env: Platform): FakeTransport {
      const behavior = factory.behavior;
      let clientId: string | undefined;
      const down = unreachableError(behavior, type);
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
          // A socket to a server that is not there fails like a refused one (no status to tell).
          if (behavior === 'fail-open' || down) {
            void Promise.resolve().then(() => transport.kill(options.duplex ? undefined : down));
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
          if ((down || behavior === 'fail-post') && !options.duplex) {
            const error = down ?? new TransportError('http-status', type, { status: 403 });
            void Promise.resolve().then(() => transport.kill(error));
            throw error;
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
        kill(error = new TransportError('closed', type)) {
          if (transport.closed) return;
          transport.close();
          events.close(error); // killed from the network side
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
// The chunk `@push/client` loads on demand, loaded up front: tests on a fake clock cannot wait
// for real module I/O (lazy.test.ts covers the loading itself).
import '../fallback.js';
import '../presence.js';
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
