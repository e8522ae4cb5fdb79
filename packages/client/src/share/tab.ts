/**
 * The tab side of a shared connection: a `PushClient` whose connection lives in the leader tab
 * (or a SharedWorker). Subscriptions, publishes and presence go to the hub over the bus; data,
 * state, transport and events come back. Each tab keeps its own handlers, its own dedup (the last
 * position delivered per pattern and channel, so a new leader's resume never shows a message
 * twice) and its own pending publishes, each with its idempotency key: a publish the former leader
 * took but did not acknowledge goes to the next leader again with the same key (the server
 * publishes a key once), like one not sent yet; a presence request it took is rejected with
 * `connection-lost`.
 */
import { isValidChannel, type PresenceMember, parseChannel, type StreamPosition } from '@push/protocol';
import { defer } from '../defer.js';
import { createEmitter } from '../emitter.js';
import { PushError } from '../errors.js';
import { presenceHandles } from '../presence.js';
import type {
  ConnectionState,
  MessageHandler,
  PushClient,
  StateReason,
  SubscribeOptions,
  Subscription,
  TransportChange,
} from '../types.js';
import type { Bus } from './bus.js';
import type { Status, ToHub, ToTab } from './types.js';
import { errorFromWire, fromWire } from './wire-errors.js';

export interface TabClientOptions {
  tab: string;
  bus: Bus;
  maxQueue: number;
  /** `connect()` was called (joins the election when autoConnect was off). */
  onConnect(): void;
  /** `close()` was called: leave the election, close the bus. */
  onClose(): Promise<void>;
  /** A status arrived from the hub (tabs sharing, holder, state). */
  onStatus?(status: Status): void;
}

export interface TabClient extends PushClient {
  /** The last status the leader sent: tabs sharing, who holds the connection. */
  readonly status: Status | undefined;
  /** Sends this tab's subscriptions, positions and presence to the leader. */
  sync(): void;
  /** Tells the leader this tab is going away (bfcache, unload). */
  bye(): void;
  /** Reports a failure of the sharing itself on the `error` event (a SharedWorker that failed). */
  fail(error: PushError): void;
}

interface LocalSub {
  pattern: string;
  resume: boolean;
  handler: MessageHandler;
  settle(error?: Error): void;
}

type Request = Extract<ToHub, { t: 'pub' } | { t: 'pres' }>;
type RequestBody =
  | Omit<Extract<Request, { t: 'pub' }>, 'id' | 'to' | 'tab'>
  | Omit<Extract<Request, { t: 'pres' }>, 'id' | 'to' | 'tab'>;

export function createTabClient(o: TabClientOptions): TabClient {
  const { tab, bus } = o;
  let leader: string | undefined;
  /** The holder this tab said `bye` to (bfcache, frozen): hearing another one is a new connection. */
  let left: string | undefined;
  /**
   * Said `bye` and not back yet (`sync`): a page being closed still runs for a moment after
   * pagehide and would answer the next holder's `hello` or roll call, and be counted for a roll
   * call or two after it is gone.
   */
  let away = false;
  let status: Status | undefined;
  let state: ConnectionState = 'connecting';
  let reported: TransportChange['transport'] | undefined;
  let connectedOnce = false;
  let closed = false;
  let ids = 0;
  const subs = new Map<number, LocalSub>();
  /** Last position delivered, per `pattern \n channel`. */
  const seen = new Map<string, StreamPosition>();
  const pending = new Map<
    number,
    { to?: string; message: Request; resolve(members?: PresenceMember[]): void; reject(e: Error): void }
  >();
  const entered = new Map<string, unknown>();
  const [emit, on, off] = createEmitter();
  function setState(next: ConnectionState, reason: StateReason) {
    if (next === 'connecting' && connectedOnce) next = 'reconnecting';
    if (next === state || state === 'closed') return;
    const previous = state;
    state = next;
    if (next === 'connected') connectedOnce = true;
    emit('state', next, previous, reason);
  }

  function positions(): Record<string, StreamPosition> {
    const live = new Set([...subs.values()].map((s) => s.pattern));
    const out: Record<string, StreamPosition> = {};
    for (const [key, p] of seen) {
      const [pattern, channel] = key.split('\n') as [string, string];
      const low = out[channel];
      if (live.has(pattern) && (!low || (low.epoch === p.epoch && p.offset < low.offset))) out[channel] = p;
    }
    return out;
  }

  function sync() {
    if (closed) return;
    bus.post({
      t: 'sync',
      tab,
      subs: [...subs].map(([id, s]) => ({ id, pattern: s.pattern, resume: s.resume })),
      positions: positions(),
      entered: [...entered],
    });
  }

  function adopt(next: string) {
    if (leader === next) return;
    const last = leader ?? left;
    const switched = last !== undefined && last !== next;
    leader = next;
    left = undefined;
    for (const [id, p] of pending) {
      if (p.to === undefined || p.message.t === 'pub') {
        p.to = next;
        bus.post({ ...p.message, to: next });
      } else if (p.to !== next) {
        pending.delete(id);
        p.reject(new PushError('connection-lost', 'The tab holding the shared connection went away'));
      }
    }
    if (!switched) return;
    // a new holder, a new connection: its transport is announced again (a `transport` event)
    reported = undefined;
    setState('reconnecting', { code: 'connect' });
  }

  function request(message: RequestBody): Promise<PresenceMember[] | undefined> {
    return new Promise((resolve, reject) => {
      if (closed) return reject(new PushError('closed', 'Client closed'));
      let queued = 0;
      for (const p of pending.values()) if (p.to === undefined) queued++;
      if (!leader && queued >= o.maxQueue)
        return reject(new PushError('queue-full', `Queue full (${o.maxQueue}): raise maxQueue`));
      const id = ++ids;
      const full = { ...message, tab, id, to: '' } as Request;
      pending.set(id, { to: leader, message: full, resolve, reject });
      if (leader) bus.post({ ...full, to: leader });
    });
  }

  function deliver(pattern: string, message: ToTab & { t: 'data' }) {
    const m = message.message;
    const push = m.ext?.push;
    let first = true;
    for (const s of subs.values()) {
      if (s.pattern !== pattern) continue;
      if (first && typeof push?.offset === 'number' && typeof push.epoch === 'string') {
        const key = `${pattern}\n${m.channel}`;
        const last = seen.get(key);
        if (last && last.epoch === push.epoch && push.offset <= last.offset) return; // seen already
        seen.set(key, { offset: push.offset, epoch: push.epoch });
      }
      first = false;
      try {
        s.handler(m.data, m);
      } catch (cause) {
        const text = `A handler of ${pattern} threw: ${cause}`;
        emit('error', new PushError('handler-failed', text, undefined, undefined, { cause }));
      }
    }
  }

  const unlisten = bus.listen((raw) => {
    const m = raw as ToTab;
    if (away && (m.t === 'hello' || m.t === 'status' || m.t === 'roll')) return;
    switch (m.t) {
      case 'hello':
        if (m.tab && m.tab !== tab) return;
        adopt(m.leader);
        return sync();
      case 'status': {
        if (leader !== m.leader) {
          const missedHello = leader !== undefined;
          adopt(m.leader);
          if (missedHello) sync();
        }
        const { t: _t, ...rest } = m;
        status = rest;
        o.onStatus?.(rest);
        if (m.transport && m.transport !== reported) {
          emit('transport', { transport: m.transport, previous: reported, reason: 'connect' });
          reported = m.transport;
        }
        return setState(m.state, { code: m.state === 'connected' ? 'negotiated' : 'connect' });
      }
      case 'event': {
        if (m.leader !== leader) return;
        const args = m.args.map(fromWire) as unknown[];
        if (m.name === 'state') return setState(args[0] as ConnectionState, args[2] as StateReason);
        if (m.name === 'transport') {
          const change = args[0] as TransportChange;
          if (change.transport === reported) return;
          reported = change.transport;
          return emit('transport', change);
        }
        return (emit as (e: string, ...a: unknown[]) => void)(m.name, ...args);
      }
      case 'data':
        return deliver(m.pattern, m);
      case 'subbed': {
        const s = m.tab === tab ? subs.get(m.id) : undefined;
        if (!s) return;
        // Where the subscription stands, for channels this tab has no position on yet: the next
        // holder resumes from it, so nothing published from now on is lost in a handover.
        const positions = m.error ? undefined : m.positions;
        for (const channel in positions) {
          const key = `${s.pattern}\n${channel}`;
          if (!seen.has(key)) seen.set(key, positions[channel]!);
        }
        return s.settle(m.error && errorFromWire(m.error));
      }
      case 'ack': {
        const p = m.tab === tab ? pending.get(m.id) : undefined;
        if (!p || p.to !== m.leader) return;
        pending.delete(m.id);
        if (m.error) p.reject(errorFromWire(m.error));
        else p.resolve(m.members);
        return;
      }
      case 'roll':
        if (!closed) bus.post({ t: 'here', tab });
    }
  });

  function subscribe(channel: string, handler: MessageHandler, options: SubscribeOptions = {}): Subscription {
    if (!isValidChannel(channel)) throw new PushError('invalid-channel', `Invalid channel: ${channel}`);
    const id = ++ids;
    let subState: Subscription['state'] = 'pending';
    const ready = defer();
    const resume = options.resume !== false;
    subs.set(id, {
      pattern: channel,
      resume,
      handler,
      settle(error) {
        if (subState !== 'pending') return;
        subState = error ? 'failed' : 'subscribed';
        if (error) {
          subs.delete(id);
          return ready.reject(error);
        }
        const positions: Record<string, StreamPosition> = {};
        for (const [key, p] of seen)
          if (key.startsWith(`${channel}\n`)) positions[key.slice(channel.length + 1)] = p;
        options.onReady?.(positions);
        ready.resolve();
      },
    });
    if (!closed) bus.post({ t: 'sub', tab, id, pattern: channel, resume });
    return {
      channel,
      get state() {
        return subState;
      },
      ready: ready.promise,
      unsubscribe() {
        if (subState === 'unsubscribed') return;
        if (subState === 'pending') ready.reject(new PushError('closed', 'Unsubscribed'));
        subState = 'unsubscribed';
        if (subs.delete(id) && !closed) bus.post({ t: 'unsub', tab, id });
      },
    };
  }

  const presences = presenceHandles({
    call: async (r) => (await request({ t: 'pres', ...r })) ?? [],
    subscribe,
    entered,
  });

  const client: TabClient = {
    get state() {
      return state;
    },
    get transport() {
      return status?.transport;
    },
    get clientId() {
      return status?.clientId;
    },
    get fallbacks() {
      return status?.fallbacks ?? [];
    },
    get status() {
      return status;
    },
    subscribe: (channel, handler, options) => subscribe(channel, handler as MessageHandler, options),
    async publish(channel, data, options) {
      const parsed = parseChannel(channel);
      if (!parsed || parsed.kind === 'meta' || parsed.wildcard !== 'none')
        throw new PushError('invalid-channel', `Cannot publish to ${channel}`);
      // The key is made here, in the tab, so a new leader sends the publish again under the same one.
      const key = options?.key || globalThis.crypto.getRandomValues(new Int32Array(4)).join();
      await request({ t: 'pub', channel, data, key });
    },
    presence: presences.get,
    on,
    off,
    connect() {
      if (!closed) o.onConnect();
    },
    sync() {
      away = false;
      sync();
    },
    fail: (error) => emit('error', error),
    bye() {
      if (!closed) bus.post({ t: 'bye', tab });
      away = true;
      left = leader ?? left;
      leader = undefined;
    },
    async close() {
      if (closed) return;
      client.bye();
      closed = true;
      unlisten();
      for (const p of pending.values()) p.reject(new PushError('closed', 'Client closed'));
      pending.clear();
      const previous = state;
      state = 'closed';
      emit('state', 'closed', previous, { code: 'close' });
      await o.onClose();
    },
  };
  return client;
}
