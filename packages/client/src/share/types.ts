/**
 * Types of connection sharing (`createClient({ share: true })` from `@push/client/share`): the
 * options, the platform seams the sharing code takes (BroadcastChannel, Web Locks, page lifecycle;
 * all injectable so tests drive them with fakes) and the messages tabs and the leader exchange.
 */
import type { Advice, ConnectionType, DataMessage, PresenceMember, StreamPosition } from '@push/protocol';
import type { PushErrorCode } from '../errors.js';
import type { Clock, TransportErrorCode } from '../transports/transport.js';
import type { ClientOptions, ConnectionState, Fallback } from '../types.js';

/**
 * Options of `share`.
 * @example createClient({ url, share: { key: 'user-42' } });
 */
export interface ShareOptions {
  /**
   * What tabs must have in common to share a connection, besides the origin. Defaults to the
   * `url`, the static `auth.token` and `credentials`; with an `auth` function pass the user's id
   * here, or tabs of different users could share.
   */
  key?: string;
  /** BroadcastChannel constructor. @defaultValue `globalThis.BroadcastChannel` */
  BroadcastChannel?: BroadcastChannelCtor;
  /** Web Locks; `null` forces the heartbeat election. @defaultValue `navigator.locks` */
  locks?: LockManagerLike | null;
  /** Where page lifecycle events come from; `null` for none. @defaultValue `window` + `document` */
  lifecycle?: LifecycleSource | null;
  /** Heartbeat period of the fallback election (no Web Locks). @defaultValue 1000 ms */
  heartbeat?: number;
  /** How long a new leader waits for the tabs' subscriptions before subscribing. @defaultValue 150 ms */
  gather?: number;
  /** Roll call period: tabs that miss two are forgotten (crashed). @defaultValue 20000 ms */
  rollCall?: number;
  clock?: Clock;
  /**
   * Hold the connection in a SharedWorker instead of a leader tab: the URL of the worker script
   * (`@push/client/share-worker`, served by the app), or a function that starts the worker
   * under the given name. Used where `SharedWorker` exists and the options can be sent to a
   * worker (no `auth` function, no injected `WebSocket`, `fetch`, `document`, `clock` or
   * transport factories); elsewhere the leader-tab election. Opt-in.
   * @example share: { worker: new URL('/push-share-worker.js', location.href) }
   * @example share: { worker: (name) => new ShareWorker({ name }) } // Vite's `?sharedworker`
   */
  worker?: string | URL | ((name: string) => SharedWorkerLike);
  /**
   * How long a tab waits for the SharedWorker's first answer before it gives up on the worker
   * (its script did not load, or it died) and joins the leader-tab election instead; after the
   * first answer the worker may be silent for two roll calls plus this. The `error` event says
   * why (a `connection-lost` PushError whose message starts `share.worker:`). A worker script
   * that fails to load fires `error` on the SharedWorker: that falls back at once.
   * @defaultValue 5000 ms
   */
  workerTimeout?: number;
  /** SharedWorker constructor; `null` forces the leader-tab election. @defaultValue `globalThis.SharedWorker` */
  SharedWorker?: SharedWorkerCtor | null;
}

/** The part of a MessagePort the sharing uses (a SharedWorker's `port`, or the worker's side). */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  start?(): void;
  close(): void;
}

/** The part of a SharedWorker the sharing uses. */
export interface SharedWorkerLike {
  readonly port: MessagePortLike;
  onerror?: ((event: unknown) => void) | null;
}
export type SharedWorkerCtor = new (
  url: string | URL,
  options?: { name?: string; type?: 'classic' | 'module' },
) => SharedWorkerLike;

/**
 * The first message a tab sends the worker: the client options (the cloneable part) and the
 * sharing timings. The first tab's options win: tabs that share a key should pass the same.
 */
export interface WorkerInit {
  t: 'init';
  options: Omit<ClientOptions, 'share'>;
  gather: number;
  rollCall: number;
}

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}
export type BroadcastChannelCtor = new (name: string) => BroadcastChannelLike;

/** The part of the Web Locks API the election uses (`navigator.locks`). */
export interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
}

/** Page lifecycle events: `hide` (pagehide/freeze: stop leading), `show` (pageshow/resume/visible/online). */
export interface LifecycleSource {
  on(event: 'hide' | 'show' | 'unload', fn: () => void): () => void;
}

/** A serialized PushError/TransportError crossing the channel. */
export type WireError =
  | {
      name: 'TransportError';
      code: TransportErrorCode;
      message: string;
      transport: ConnectionType;
      status: number | undefined;
    }
  | {
      name: 'PushError';
      code: PushErrorCode;
      message: string;
      bayeux?: string | undefined;
      advice?: Advice | undefined;
    };

/** What the leader tells the tabs about the shared connection. */
export interface Status {
  leader: string;
  state: ConnectionState;
  transport: ConnectionType | undefined;
  clientId: string | undefined;
  fallbacks: Fallback[];
  /** Tabs sharing the connection. */
  tabs: number;
  /** Who holds the connection: `tab` (an elected leader tab) or `worker`. */
  holder: 'tab' | 'worker';
}

export interface SubEntry {
  id: number;
  pattern: string;
  resume: boolean;
}

/** Tab -> leader. `to` names the leader a request was sent to (requests to a former leader are void). */
export type ToHub =
  | {
      t: 'sync';
      tab: string;
      subs: SubEntry[];
      positions: Record<string, StreamPosition>;
      entered: Array<[channel: string, data: unknown]>;
    }
  | ({ t: 'sub'; tab: string } & SubEntry)
  | { t: 'unsub'; tab: string; id: number }
  | { t: 'pub'; tab: string; id: number; to: string; channel: string; data: unknown; key: string }
  | {
      t: 'pres';
      tab: string;
      id: number;
      to: string;
      channel: string;
      action: 'enter' | 'leave' | 'members';
      data?: unknown;
    }
  | { t: 'here'; tab: string }
  | { t: 'bye'; tab: string };

/** Leader -> tabs. */
export type ToTab =
  | { t: 'hello'; leader: string; tab?: string }
  | ({ t: 'status' } & Status)
  | { t: 'event'; leader: string; name: 'state' | 'transport' | 'error' | 'recovered'; args: unknown[] }
  | { t: 'data'; leader: string; pattern: string; message: DataMessage }
  | {
      t: 'subbed';
      leader: string;
      tab: string;
      id: number;
      error?: WireError;
      /** Where the subscription stands per channel now: the tab resumes from here if nothing arrives. */
      positions?: Record<string, StreamPosition>;
    }
  | {
      t: 'ack';
      leader: string;
      tab: string;
      id: number;
      error?: WireError;
      members?: PresenceMember[];
    }
  | { t: 'roll'; leader: string };

/** The heartbeat election's own messages. */
export type ElectionMessage = { t: 'beat'; tab: string } | { t: 'claim'; tab: string };

export type ShareMessage = ToHub | ToTab | ElectionMessage;
