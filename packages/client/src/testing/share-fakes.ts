/**
 * Fakes for the sharing code: a BroadcastChannel network (asynchronous, structured-clone delivery
 * to every other open channel of the same name), Web Locks with per-tab views (a crashed tab's
 * locks are released and its queued requests dropped, as the browser does), a manual lifecycle
 * source, a scriptable core client, and SharedWorkers with MessagePort pairs.
 */

import type { DataMessage, PresenceMember, StreamPosition } from '@push/protocol';
import { defer } from '../defer.js';
import type {
  BroadcastChannelLike,
  LifecycleSource,
  LockManagerLike,
  MessagePortLike,
  SharedWorkerLike,
} from '../share/types.js';
import type { WorkerScope } from '../share/worker.js';
import type { ClientEvents, ConnectionState, PushClient, SubscribeOptions, Subscription } from '../types.js';

export function fakeChannels() {
  const open = new Set<FakeChannel & { name: string }>();
  let sent = 0;
  class FakeChannel implements BroadcastChannelLike {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    closed = false;
    constructor(readonly name: string) {
      open.add(this);
    }
    postMessage(message: unknown) {
      if (this.closed) return; // a crashed tab sends nothing
      sent++;
      const data = structuredClone(message);
      for (const other of open) {
        if (other === this || other.name !== this.name) continue;
        setImmediate(() => !other.closed && other.onmessage?.({ data }));
      }
    }
    close() {
      this.closed = true;
      open.delete(this);
    }
  }
  return {
    Channel: FakeChannel,
    open,
    get sent() {
      return sent;
    },
  };
}

interface LockRequest {
  owner: string;
  callback(lock: unknown): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export function fakeLocks() {
  const held = new Map<string, LockRequest>();
  const queues = new Map<string, LockRequest[]>();
  function grant(name: string) {
    if (held.has(name)) return;
    const next = queues.get(name)?.shift();
    if (!next) return;
    held.set(name, next);
    Promise.resolve(next.callback({ name })).then(
      (v) => release(name, next, v),
      (e) => release(name, next, e, true),
    );
  }
  function release(name: string, request: LockRequest, value: unknown, failed = false) {
    if (held.get(name) !== request) return;
    held.delete(name);
    failed ? request.reject(value) : request.resolve(value);
    grant(name);
  }
  return {
    holder: (name: string) => held.get(name)?.owner,
    /** The Web Locks view of one tab. */
    forTab(owner: string): LockManagerLike {
      return {
        request(name, options, callback) {
          return new Promise((resolve, reject) => {
            const request: LockRequest = { owner, callback, resolve, reject };
            if (options.signal?.aborted) return reject(new Error('AbortError'));
            options.signal?.addEventListener('abort', () => {
              const q = queues.get(name) ?? [];
              const i = q.indexOf(request);
              if (i >= 0) {
                q.splice(i, 1);
                reject(new Error('AbortError'));
              }
            });
            if (!queues.has(name)) queues.set(name, []);
            queues.get(name)!.push(request);
            grant(name);
          });
        },
      };
    },
    /** The tab died: the browser frees its locks and forgets its queued requests. */
    crash(owner: string) {
      for (const [name, q] of queues)
        queues.set(
          name,
          q.filter((r) => r.owner !== owner),
        );
      for (const [name, request] of [...held]) {
        if (request.owner !== owner) continue;
        held.delete(name);
        grant(name);
      }
    },
  };
}

export function fakeLifecycle(): LifecycleSource & { fire(event: 'hide' | 'show'): void } {
  const fns = { hide: new Set<() => void>(), show: new Set<() => void>(), unload: new Set<() => void>() };
  return {
    on(event, fn) {
      fns[event].add(fn);
      return () => fns[event].delete(fn);
    },
    fire(event) {
      for (const fn of [...fns[event]]) fn();
    },
  };
}

/** A core client that records what the hub asks of it and lets the test push data and events. */
export class FakeCore implements PushClient {
  state: ConnectionState = 'connecting';
  transport: PushClient['transport'] = undefined;
  clientId: string | undefined = undefined;
  fallbacks = [];
  closed = false;
  subscribes: Array<{ channel: string; options?: SubscribeOptions }> = [];
  unsubscribes: string[] = [];
  publishes: Array<{
    channel: string;
    data: unknown;
    key?: string;
    resolve(): void;
    reject(e: Error): void;
  }> = [];
  presenceCalls: Array<{ channel: string; action: string; data?: unknown }> = [];
  handlers = new Map<string, Array<(data: unknown, message: DataMessage) => void>>();
  private listeners = new Map<string, Set<(...args: never[]) => void>>();
  /** Subscriptions wait for `confirm()` unless auto. */
  autoConfirm = true;
  /** The server's top position per channel: where a confirmed subscription starts (`onReady`). */
  tops = new Map<string, StreamPosition>();
  private pendingReady: Array<{ channel: string; resolve(): void; reject(e: Error): void }> = [];

  subscribe<T>(
    channel: string,
    handler: (data: T, message: DataMessage<T>) => void,
    options?: SubscribeOptions,
  ) {
    this.subscribes.push({ channel, options });
    const list = this.handlers.get(channel) ?? [];
    list.push(handler as never);
    this.handlers.set(channel, list);
    const ready = defer();
    const confirmed = () => {
      // like the core: a position it was given wins, else the channel's top at the confirmation
      const top = this.tops.get(channel);
      options?.onReady?.({ ...(top && { [channel]: top }), ...options.from });
      ready.resolve();
    };
    if (this.autoConfirm) confirmed();
    else this.pendingReady.push({ channel, resolve: confirmed, reject: ready.reject });
    const sub: Subscription = {
      channel,
      state: 'pending',
      ready: ready.promise,
      unsubscribe: () => {
        this.unsubscribes.push(channel);
        this.handlers.set(
          channel,
          (this.handlers.get(channel) ?? []).filter((h) => h !== (handler as never)),
        );
      },
    };
    return sub;
  }
  confirm(channel: string, error?: Error) {
    for (const p of this.pendingReady.filter((p) => p.channel === channel))
      error ? p.reject(error) : p.resolve();
    this.pendingReady = this.pendingReady.filter((p) => p.channel !== channel);
  }
  deliver(pattern: string, channel: string, data: unknown, offset?: number, epoch = 'e1') {
    const message = {
      channel,
      data,
      ...(offset === undefined ? {} : { ext: { push: { offset, epoch } } }),
    } as DataMessage;
    for (const h of this.handlers.get(pattern) ?? []) h(data, message);
  }
  publish(channel: string, data: unknown, options?: { key?: string }) {
    return new Promise<void>((resolve, reject) =>
      this.publishes.push({ channel, data, key: options?.key, resolve, reject }),
    );
  }
  presence(channel: string) {
    const call = (action: string, data?: unknown) => {
      this.presenceCalls.push({ channel, action, data });
      return Promise.resolve([{ id: 'me', data }] as unknown as PresenceMember[]);
    };
    return {
      channel,
      enter: (data?: unknown) => call('enter', data),
      leave: async () => void (await call('leave')),
      members: () => call('members'),
      on: () => () => {},
      off: () => {},
      close: async () => {},
    };
  }
  on<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(fn as never);
    return () => this.off(event, fn);
  }
  off<K extends keyof ClientEvents>(event: K, fn: (...args: ClientEvents[K]) => void) {
    this.listeners.get(event)?.delete(fn as never);
  }
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]) {
    for (const fn of [...(this.listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }
  move(state: ConnectionState, transport?: PushClient['transport']) {
    const previous = this.state;
    this.state = state;
    if (transport && transport !== this.transport) {
      const before = this.transport;
      this.transport = transport;
      this.emit('state', state, previous, { code: 'negotiated' });
      this.emit('transport', { transport, previous: before, reason: 'connect' });
      return;
    }
    this.emit('state', state, previous, { code: 'connect' });
  }
  connect() {}
  async close() {
    this.closed = true;
  }
}

/** A MessagePort of a fake pair: asynchronous structured-clone delivery, queued until started. */
export class FakePort implements MessagePortLike {
  other: FakePort | undefined;
  closed = false;
  private started = false;
  private queue: unknown[] = [];
  private handler: ((event: { data: unknown }) => void) | null = null;
  get onmessage() {
    return this.handler;
  }
  set onmessage(fn) {
    this.handler = fn;
    if (fn) this.start();
  }
  start() {
    this.started = true;
    for (const data of this.queue.splice(0)) this.dispatch(data);
  }
  postMessage(message: unknown) {
    const to = this.other;
    if (this.closed || !to || to.closed) return; // a closed or crashed end sends and gets nothing
    const data = structuredClone(message);
    setImmediate(() => (to.started ? to.dispatch(data) : to.queue.push(data)));
  }
  private dispatch(data: unknown) {
    if (!this.closed) this.handler?.({ data });
  }
  close() {
    this.closed = true;
  }
}

/**
 * SharedWorkers: one worker scope per script URL + name, started by `start` the first time; each
 * `new SharedWorker` gets a fresh port pair and the scope an `onconnect` with the other end.
 */
export function fakeSharedWorkers(start: (scope: WorkerScope) => void) {
  const scopes = new Map<string, WorkerScope>();
  const workerPorts: FakePort[] = [];
  /** Script URLs that fail to load (a 404): the worker fires `error` and never starts. */
  const missing = new Set<string>();
  class FakeSharedWorker implements SharedWorkerLike {
    readonly port: FakePort;
    onerror: ((event: unknown) => void) | null = null;
    constructor(url: string | URL, options?: { name?: string }) {
      const tabEnd = new FakePort();
      this.port = tabEnd;
      if (missing.has(String(url))) {
        setImmediate(() => this.onerror?.({ type: 'error' }));
        return;
      }
      const key = `${url} ${options?.name ?? ''}`;
      let scope = scopes.get(key);
      if (!scope) {
        scope = { onconnect: null };
        scopes.set(key, scope);
        start(scope);
      }
      const workerEnd = new FakePort();
      tabEnd.other = workerEnd;
      workerEnd.other = tabEnd;
      workerPorts.push(workerEnd);
      const s = scope;
      setImmediate(() => s.onconnect?.({ ports: [workerEnd] }));
    }
  }
  return { SharedWorker: FakeSharedWorker, scopes, workerPorts, missing };
}
