/**
 * A scripted stand-in for `@push/client` in React's render tests: records every subscribe,
 * unsubscribe, presence enter/leave and close, and lets a test deliver messages and change state
 * at will. Types only from `@push/client` (a peer of this kit).
 */
import type {
  ConnectionState,
  Fallback,
  MessageHandler,
  Presence,
  PushClient,
  Subscription,
} from '@push/client';
import type { ConnectionType } from '@push/protocol';

type Handler = (data: unknown, message: Parameters<MessageHandler>[1]) => void;
type PresenceMember = Awaited<ReturnType<Presence['members']>>[number];

/** One `subscribe()` the fake received. */
export interface FakeSubscription extends Subscription {
  readonly handler: Handler;
  unsubscribed: number;
  confirm(): void;
  fail(error: Error): void;
}

/** One `presence()` handle the fake created. */
export interface FakePresence extends Presence {
  readonly entered: unknown[];
  left: number;
  /** How many times `close()` was called. */
  closed: number;
  emit(event: 'join' | 'leave', member: PresenceMember): void;
  listenerCount(): number;
}

/**
 * A fake client. `subscriptions` / `presences` grow with every call, so tests count wire traffic.
 *
 * @example
 * const client = new FakeClient();
 * client.deliver('/chat/lobby', { text: 'hi' });
 */
export class FakeClient implements PushClient {
  state: ConnectionState = 'connecting';
  transport: ConnectionType | undefined = undefined;
  clientId: string | undefined = undefined;
  fallbacks: readonly Fallback[] = [];
  connected = 0;
  readonly subscriptions: FakeSubscription[] = [];
  readonly presences: FakePresence[] = [];
  readonly published: { channel: string; data: unknown }[] = [];
  members: PresenceMember[] = [];
  closed = 0;
  readonly #listeners = new Map<string, Set<unknown>>();

  on: PushClient['on'] = (event, fn) => {
    const set = this.#listeners.get(event) ?? new Set<unknown>();
    this.#listeners.set(event, set);
    set.add(fn);
    return () => set.delete(fn);
  };

  off: PushClient['off'] = (event, fn) => {
    this.#listeners.get(event)?.delete(fn);
  };

  connect(): void {
    this.connected += 1;
  }

  listenerCount(event: string): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  subscribe: PushClient['subscribe'] = (channel, handler) => {
    let settle: { resolve(): void; reject(e: Error): void } = { resolve() {}, reject() {} };
    const ready = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    ready.catch(() => {});
    const sub: FakeSubscription = {
      channel,
      state: 'pending',
      ready,
      handler: handler as Handler,
      unsubscribed: 0,
      unsubscribe: () => {
        sub.unsubscribed += 1;
      },
      confirm: () => settle.resolve(),
      fail: (error) => settle.reject(error),
    };
    this.subscriptions.push(sub);
    return sub;
  };

  /** Subscriptions on `channel` that have not been unsubscribed. */
  active(channel: string): FakeSubscription[] {
    return this.subscriptions.filter((s) => s.channel === channel && s.unsubscribed === 0);
  }

  /** Delivers `data` to every active subscription on `channel`, as the client would. */
  deliver(channel: string, data: unknown): void {
    for (const sub of this.active(channel)) sub.handler(data, { channel, data });
  }

  publish: PushClient['publish'] = async (channel, data) => {
    this.published.push({ channel, data });
  };

  setState(state: ConnectionState, transport?: ConnectionType): void {
    const previous = this.state;
    this.state = state;
    this.#emit('state', state, previous);
    if (transport && transport !== this.transport) {
      const before = this.transport;
      this.transport = transport;
      this.#emit('transport', { transport, previous: before, reason: 'connect' });
    }
  }

  presence: PushClient['presence'] = (channel) => {
    const listeners = {
      join: new Set<(m: PresenceMember) => void>(),
      leave: new Set<(m: PresenceMember) => void>(),
    };
    const handle: FakePresence = {
      channel,
      entered: [],
      left: 0,
      closed: 0,
      enter: async (data) => {
        handle.entered.push(data);
        return [...this.members];
      },
      leave: async () => {
        handle.left += 1;
      },
      members: async () => [...this.members],
      on: (event, fn) => {
        listeners[event].add(fn);
        return () => listeners[event].delete(fn);
      },
      off: (event, fn) => {
        listeners[event].delete(fn);
      },
      emit: (event, member) => {
        for (const fn of [...listeners[event]]) fn(member);
      },
      listenerCount: () => listeners.join.size + listeners.leave.size,
      close: async () => {
        handle.closed += 1;
        listeners.join.clear();
        listeners.leave.clear();
      },
    };
    this.presences.push(handle);
    return handle;
  };

  close: PushClient['close'] = async () => {
    this.closed += 1;
    this.setState('closed');
  };

  /** Reports, as the client does after a resume, whether `channel`'s missed messages were recovered. */
  recover(channel: string, recovered: boolean): void {
    this.#emit('recovered', { channel, recovered });
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }
}

/** Lets deferred releases (a `setTimeout(0)` in the bindings) run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
