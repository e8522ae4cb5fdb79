/**
 * `@push/client/share`: one connection per browser instead of one per tab.
 *
 * `createClient({ url, share: true })` returns the same `PushClient`. All tabs of this origin with
 * the same sharing key (url + credentials, or `share.key`) elect one leader with Web Locks
 * (BroadcastChannel heartbeats where Web Locks are missing); the leader holds the only real
 * connection and relays over a BroadcastChannel. When the leader closes, crashes, is frozen or
 * goes into the back/forward cache, the next tab takes over and resumes every channel from the
 * tabs' last positions. With `share: { worker }` (the `@push/client/share-worker` script) the
 * connection lives in a SharedWorker instead, where SharedWorker exists. Without BroadcastChannel
 * (Node, old browsers) it is a plain client.
 *
 * @example
 * import { createClient } from '@push/client/share';
 * const client = createClient({ url: 'https://example.com/push', share: true });
 */

import { PushError } from '../errors.js';
import { createClient as createCoreClient } from '../index.js';
import { systemClock } from '../platform.js';
import type { ClientOptions, PushClient } from '../types.js';
import { createBus, switchBus } from './bus.js';
import { createElection, type Election } from './election.js';
import { createHub, type Hub } from './hub.js';
import { createPortBus } from './port-bus.js';
import { createTabClient, type TabClient } from './tab.js';
import type {
  BroadcastChannelCtor,
  LifecycleSource,
  LockManagerLike,
  SharedWorkerCtor,
  SharedWorkerLike,
  ShareOptions,
  WorkerInit,
} from './types.js';

export type { Bus } from './bus.js';
export { createBus } from './bus.js';
export { createElection, type Election } from './election.js';
export { createHub, type Hub } from './hub.js';
export { createPortBus, type PortBus } from './port-bus.js';
export { createTabClient, type TabClient } from './tab.js';
export type * from './types.js';

/** Who shares the connection and who holds it (`client.sharing`). */
export interface Sharing {
  /** Tabs sharing the connection (this one included). */
  tabs: number;
  /** Who holds the connection: an elected leader `tab`, or a SharedWorker. */
  holder: 'tab' | 'worker';
  /** The holder's id: `<tab id>.<term>` for a leader tab, `worker.<id>` for a worker. */
  leader: string;
  /** This tab holds the connection. */
  here: boolean;
  /** This tab's id (the part before the dot of `leader` when this tab leads). */
  tab: string;
}

/** What the sharing exposes beyond `PushClient` (the demo's inspector reads it). */
export interface SharedClient extends PushClient {
  /** Tabs sharing, who holds the connection; undefined until the holder has spoken. */
  readonly sharing: Sharing | undefined;
  /**
   * Calls `fn` with `client.sharing` whenever it changes (a tab joins or leaves, the holder
   * changes). Returns a function that stops it.
   */
  onSharing(fn: (sharing: Sharing | undefined) => void): () => void;
}

/**
 * `createClient` that honours `share`: shared when `options.share` is set and the platform has a
 * BroadcastChannel, a plain `@push/client` client otherwise.
 * @example const client = createClient({ url: '/push', share: true });
 */
export function createClient(options: ClientOptions): PushClient {
  return options.share ? createSharedClient(options) : createCoreClient(options);
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?(): string } }).crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Page lifecycle from `window`/`document`: hide = pagehide/freeze, show = pageshow/resume. */
export function browserLifecycle(): LifecycleSource | null {
  const g = globalThis as {
    addEventListener?: Window['addEventListener'];
    removeEventListener?: Window['removeEventListener'];
    document?: Document;
  };
  if (!g.addEventListener) return null;
  const names = { hide: ['pagehide', 'freeze'], show: ['pageshow', 'resume'], unload: [] as string[] };
  return {
    on(event, fn) {
      const targets: Array<[EventTarget, string]> = names[event].map((n) => [
        n === 'pagehide' || n === 'pageshow'
          ? (g as unknown as EventTarget)
          : (g.document ?? (g as unknown as EventTarget)),
        n,
      ]);
      for (const [t, n] of targets) t.addEventListener(n, fn);
      return () => {
        for (const [t, n] of targets) t.removeEventListener(n, fn);
      };
    },
  };
}

/**
 * A client sharing one connection with the other tabs. `createCore` builds the real connection in
 * the leader tab (default: `createClient` from `@push/client`).
 */
export function createSharedClient(
  options: ClientOptions,
  createCore: (options: ClientOptions) => PushClient = createCoreClient,
): SharedClient {
  const share: ShareOptions = typeof options.share === 'object' ? options.share : {};
  const g = globalThis as {
    BroadcastChannel?: BroadcastChannelCtor;
    navigator?: { locks?: LockManagerLike };
    location?: { href: string };
  };
  const Channel = share.BroadcastChannel ?? g.BroadcastChannel;
  const core = { ...options, share: undefined };
  if (!Channel) return Object.assign(createCore(core), { sharing: undefined, onSharing: () => () => {} });
  const clock = share.clock ?? options.clock ?? systemClock;
  const locks = share.locks === undefined ? (g.navigator?.locks ?? null) : share.locks;
  const auth = options.auth && 'token' in options.auth ? options.auth.token : '';
  const key =
    share.key ?? [new URL(options.url, g.location?.href).href, auth, options.credentials ?? ''].join(' ');
  const name = `push-share ${key}`;
  const worker = sharedWorker(share, options, name);
  const portBus = worker && createPortBus(worker.port);
  const bus = switchBus(portBus ?? createBus(Channel, name));
  const tab = randomId();
  let term = 0;
  let hub: Hub | undefined;
  const watchers = new Set<(sharing: Sharing | undefined) => void>();
  let lastSharing = '';
  const sharing = (): Sharing | undefined => {
    const s = tabClient.status;
    const here = hub !== undefined && s?.leader === `${tab}.${term}`;
    return s && { tabs: s.tabs, holder: s.holder, leader: s.leader, here, tab };
  };
  const changed = () => {
    const now = sharing();
    const text = JSON.stringify(now);
    if (text === lastSharing) return;
    lastSharing = text;
    for (const fn of [...watchers]) fn(now);
  };
  const gather = share.gather ?? 150;
  const rollCall = share.rollCall ?? 20_000;
  const elect = (): Election =>
    createElection({
      name,
      tab,
      locks,
      bus,
      clock,
      heartbeat: share.heartbeat ?? 1000,
      random: options.random ?? Math.random,
      onLead() {
        hub = createHub({
          leader: `${tab}.${++term}`,
          bus,
          clock,
          gather,
          rollCall,
          holder: 'tab',
          createCore: () => createCore({ ...core, autoConnect: true }),
        });
        changed();
      },
      onDepose() {
        const last = hub;
        hub = undefined;
        void last?.close();
        changed();
      },
    });
  // The SharedWorker holder, watched: its script may fail to load (404, a CSP refusal) or the
  // worker may die. Then this tab drops it for the leader-tab election, says why on `error`,
  // and resumes from its positions like after any change of holder.
  const workerTimeout = share.workerTimeout ?? 5000;
  let heard = 0;
  let watch: unknown;
  const fallback = (why: string) => {
    if (!portBus || bus.current !== portBus || tabClient.state === 'closed') return;
    clock.clearTimeout(watch);
    bus.use(createBus(Channel, name));
    portBus.close();
    election = elect();
    tabClient.fail(new PushError('connection-lost', `share.worker: ${why}; the tabs elect a leader instead`));
    if (standing) {
      election.stand();
      tabClient.sync();
    }
  };
  const check = () => {
    // silent past the first answer's deadline, or past two missed roll calls after it
    const limit = heard ? 2 * rollCall + workerTimeout : workerTimeout;
    const since = clock.now() - (heard || started);
    if (since > limit)
      return fallback(`the worker ${heard ? 'went silent' : 'never answered'} (${since} ms)`);
    watch = clock.setTimeout(check, Math.min(limit - since + 1, workerTimeout));
  };
  let started = 0;
  if (worker && portBus) {
    worker.onerror = () => fallback('the worker failed to load or start (error event)');
    portBus.listen(() => {
      heard = clock.now();
    });
  }
  let election: Election = portBus
    ? {
        // the SharedWorker holds the connection: no election, `stand` (re)sends the options
        leading: false,
        stand() {
          portBus.init({ t: 'init', options: workerOptions(options)!, gather, rollCall });
          clock.clearTimeout(watch);
          started = clock.now();
          heard = 0;
          watch = clock.setTimeout(check, workerTimeout);
        },
        // hidden (bfcache, frozen): the worker stops talking to this tab, so stop listening for it
        resign: () => clock.clearTimeout(watch),
        close: () => clock.clearTimeout(watch),
      }
    : elect();
  const lifecycle = share.lifecycle === undefined ? browserLifecycle() : share.lifecycle;
  const offs: Array<() => void> = [];
  const tabClient: TabClient = createTabClient({
    tab,
    bus,
    maxQueue: options.maxQueue ?? 100,
    onStatus: () => changed(),
    onConnect() {
      election.stand();
      tabClient.sync();
    },
    async onClose() {
      for (const off of offs) off();
      const last = hub;
      hub = undefined;
      election.close();
      await last?.close();
      bus.close();
    },
  });
  if (lifecycle) {
    // Going into the bfcache or being frozen: hand the connection over (a frozen leader would
    // starve every tab) and let the hub forget this tab's subscriptions; coming back: rejoin.
    offs.push(
      lifecycle.on('hide', () => {
        election.resign();
        tabClient.bye();
      }),
      lifecycle.on('show', () => {
        if (tabClient.state === 'closed' || !standing) return;
        election.stand();
        tabClient.sync();
      }),
    );
  }
  let standing = false;
  const start = tabClient.connect;
  const client = Object.assign(tabClient, {
    connect() {
      standing = true;
      start();
    },
    onSharing(fn: (sharing: Sharing | undefined) => void) {
      watchers.add(fn);
      return () => void watchers.delete(fn);
    },
  }) as TabClient & Pick<SharedClient, 'sharing' | 'onSharing'>;
  Object.defineProperty(client, 'sharing', { get: sharing });
  if (options.autoConnect !== false) client.connect();
  return client;
}

const TAB_ONLY = ['WebSocket', 'fetch', 'document', 'clock'] as const;

/**
 * The options a worker can be given (structured-cloneable), or undefined when the tab's options
 * rely on something a worker cannot receive (an `auth` function, injected constructors, transport
 * factories). `logger`, `random`, `online` and a `storage` object stay in the tab (the worker uses
 * its defaults).
 */
export function workerOptions(options: ClientOptions): WorkerInit['options'] | undefined {
  if (typeof options.auth === 'function') return undefined;
  if (options.transports?.some((t) => typeof t !== 'string')) return undefined;
  if (TAB_ONLY.some((name) => options[name] !== undefined)) return undefined;
  const { share: _s, logger: _l, random: _r, online: _o, storage, ...rest } = options;
  return storage === null ? { ...rest, storage } : rest;
}

/** The SharedWorker holding the connection, when `share.worker` asks for one and can have it. */
function sharedWorker(
  share: ShareOptions,
  options: ClientOptions,
  name: string,
): SharedWorkerLike | undefined {
  const { worker } = share;
  if (!worker || !workerOptions(options)) return undefined;
  const Ctor =
    share.SharedWorker === undefined
      ? (globalThis as { SharedWorker?: SharedWorkerCtor }).SharedWorker
      : share.SharedWorker;
  if (!Ctor) return undefined; // e.g. some WebKit builds: the leader-tab election
  return typeof worker === 'function' ? worker(name) : new Ctor(worker, { name });
}
