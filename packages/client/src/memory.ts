/**
 * Transport memory: the transport that worked is remembered per origin (in `localStorage` by
 * default) and tried first next time. Only clients with several transports need it, so it is an
 * extra of `createClientFactory`, kept out of the WebSocket-only entry.
 */
import type { ConnectionType, KeyValueStorage, Platform, TransportFactory } from './types.js';

/** Remembers, per origin, which transport worked. */
export interface TransportMemory {
  /** Index in `factories` of the transport remembered for `url`'s origin, or 0. */
  recall(url: URL, env: Platform, factories: readonly TransportFactory[]): number;
  remember(url: URL, env: Platform, type: ConnectionType): void;
}

/** The storage key under which the working transport of `url`'s origin is remembered. */
export const memoKey = (url: URL) => `push:transport:${url.origin}`;

function storageOf(env: Platform): KeyValueStorage | undefined {
  if (env.storage === null) return undefined; // turned off
  try {
    return env.storage ?? (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  } catch {
    return undefined; // access denied (sandboxed iframe, privacy mode)
  }
}

/**
 * The default memory, on `options.storage` (default `localStorage`; `null` turns it off).
 * Storage errors are ignored: memory is an optimisation.
 * @example createClientFactory(factories, { memory: transportMemory });
 */
export const transportMemory: TransportMemory = {
  recall(url, env, factories) {
    let type: string | null | undefined;
    try {
      type = storageOf(env)?.getItem(memoKey(url));
    } catch {}
    const index = factories.findIndex((f) => f.type === type);
    return index < 0 ? 0 : index;
  },
  remember(url, env, type) {
    try {
      storageOf(env)?.setItem(memoKey(url), type);
    } catch {}
  },
};
