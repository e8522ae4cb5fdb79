/**
 * `@push/client/persist`: publishes that outlive the page. `attach(client)` makes
 * `client.publish` keep each publish (IndexedDB where available, memory elsewhere) until it is
 * settled, and sends what an earlier page left, with the same idempotency keys, so the server
 * publishes each of them once (within its `publishDedupe` window) even if it got there before the
 * reload. Opt-in and separate, so the core bundle does not carry it.
 *
 * What the reloaded page sees: `outbox.restored` resolves, once loaded, with the publishes sent
 * again (`sent`, each with a `settled` promise: resolved on the ack, rejected with the PushError
 * of a refusal or of `close()`) and those dropped unsent because they were older than `maxAge`
 * (`expired`). The earlier page's own `publish()` promises went with it.
 * @example
 * import { createClient } from '@push/client';
 * import { indexedDbOutbox } from '@push/client/persist';
 * const outbox = indexedDbOutbox({ name: 'chat' });
 * const client = outbox.attach(createClient({ url: '/push' }));
 * outbox.restored.then(({ sent }) => sent.length && toast(`Sending ${sent.length} from before the reload`));
 */
import type { PushClient } from '../types.js';
import { indexedDbRows } from './indexeddb.js';
import { persistentOutbox, type UnloadBackup } from './outbox.js';
import { memoryRows, type Rows, type StoredPublish } from './rows.js';

export type { StoredPublish } from './rows.js';

/** Options of {@link indexedDbOutbox}. */
export interface PersistentOutboxOptions {
  /** Names the outbox (the IndexedDB database `push-outbox:<name>`): one per app and user. */
  name: string;
  /**
   * Milliseconds after which a kept publish is dropped instead of sent again: keep it at most the
   * server's `publishDedupe.window`, past which a resend of a publish that did arrive would be
   * published twice. @defaultValue 300_000 (the server's default window)
   */
  maxAge?: number;
  /** The IndexedDB to use. @defaultValue `globalThis.indexedDB`; memory when there is none */
  indexedDB?: IDBFactory;
  /** Time source, for `maxAge`. @defaultValue `Date.now` */
  now?: () => number;
}

/** A publish an earlier page left, sent again by this one. */
export interface RestoredPublish extends StoredPublish {
  /** When the earlier page made it (epoch ms). */
  at: number;
  /** Resolves once the server acknowledged it; rejects with the PushError that refused it. */
  settled: Promise<void>;
}

/** What an earlier page left in the outbox. */
export interface Restored {
  /** Sent again (with their keys), oldest first. */
  sent: RestoredPublish[];
  /** Older than `maxAge`: dropped, not sent. */
  expired: Array<StoredPublish & { at: number }>;
}

/** Publishes kept across page loads; see the module documentation. */
export interface PersistentOutbox {
  /**
   * Makes `client.publish` keep every publish until it is settled (acknowledged, refused, or
   * rejected by `close()`), and sends what an earlier page left. Call it once, right after
   * `createClient`. Returns `client`.
   */
  attach<C extends PushClient>(client: C): C;
  /** Resolves once the outbox was loaded by `attach` with what an earlier page left. */
  readonly restored: Promise<Restored>;
  /** Where publishes are kept: `memory` when there is no IndexedDB or it would not open. */
  readonly kept: Promise<'indexeddb' | 'memory'>;
}

/**
 * Publishes kept in IndexedDB (memory where there is none) until acknowledged.
 * @example const client = indexedDbOutbox({ name: 'chat' }).attach(createClient({ url }));
 */
export function indexedDbOutbox(options: PersistentOutboxOptions): PersistentOutbox {
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  const opening: Promise<[Rows, 'indexeddb' | 'memory']> = factory
    ? indexedDbRows(options.name, factory).then(
        (rows) => [rows, 'indexeddb'],
        () => [memoryRows(), 'memory'],
      )
    : Promise.resolve([memoryRows(), 'memory']);
  return persistentOutbox(
    opening,
    options.maxAge ?? 300_000,
    options.now ?? Date.now,
    unloadBackup(options.name),
  );
}

/** `localStorage` and the window's `pagehide`/`pageshow`, where the page has them. */
function unloadBackup(name: string): UnloadBackup | undefined {
  try {
    const page = globalThis as { localStorage?: Storage; addEventListener?: Window['addEventListener'] };
    const storage = page.localStorage;
    if (!storage || !page.addEventListener) return undefined;
    return { storage, key: `push-outbox:${name}`, on: (event, fn) => page.addEventListener?.(event, fn) };
  } catch {
    return undefined; // localStorage throws where storage is blocked
  }
}
