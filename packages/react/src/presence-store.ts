import type { PresenceMember, PushClientLike } from './context.js';
import { perClient } from './per-client.js';
import { PresenceChannel } from './presence-channel.js';

/**
 * Where a presence channel is: not started, loading its member list, live, or failed.
 *
 * @example
 * const { status } = usePresence('/chat/lobby');
 * if (status === 'loading') return <p>Finding who is here…</p>;
 */
export type PresenceStatus = 'idle' | 'loading' | 'ready' | 'error';

/**
 * What `usePresence` returns: the members currently on the channel, and the status.
 *
 * @example
 * const { members, status } = usePresence('/chat/lobby', { name: 'Ada' });
 * members.map((m) => m.clientId);
 */
export interface PresenceSnapshot<T = unknown> {
  readonly status: PresenceStatus;
  readonly members: readonly PresenceMember<T>[];
  /** Why loading members or entering failed, when `status` is `'error'`. */
  readonly error: Error | undefined;
}

/**
 * The snapshot before anything is loaded (server render, no client yet).
 *
 * @example
 * presenceRegistry(client).snapshot('/untouched') === IDLE_PRESENCE; // true
 */
export const IDLE_PRESENCE: PresenceSnapshot<never> = Object.freeze({
  status: 'idle',
  members: Object.freeze([]),
  error: undefined,
});

const registries = perClient((client) => new PresenceRegistry(client));

/**
 * One presence registry per client.
 *
 * @example
 * const stop = presenceRegistry(client).listen('/chat/lobby', render);
 */
export function presenceRegistry(client: PushClientLike): PresenceRegistry {
  return registries(client);
}

/**
 * Ref-counted presence channels of one client. Use {@link presenceRegistry} to get one.
 *
 * @example
 * const leave = presenceRegistry(client).enter('/chat/lobby', { name: 'Ada' });
 */
export class PresenceRegistry {
  readonly #client: PushClientLike;
  readonly #channels = new Map<string, PresenceChannel>();

  constructor(client: PushClientLike) {
    this.#client = client;
  }

  /** The cached snapshot of `channel`. */
  snapshot(channel: string): PresenceSnapshot {
    return this.#channels.get(channel)?.snapshot ?? IDLE_PRESENCE;
  }

  /** Watches `channel`'s members; released on a later macrotask after the last watcher leaves. */
  listen(channel: string, onChange: () => void): () => void {
    return this.#acquire(channel).hold(onChange);
  }

  /** Enters `channel` with `data` while held; leaves after the last holder releases. */
  enter(channel: string, data: unknown): () => void {
    const entry = this.#acquire(channel);
    const release = entry.hold(undefined);
    const leave = entry.enter(data);
    return () => {
      leave();
      release();
    };
  }

  #acquire(channel: string): PresenceChannel {
    let entry = this.#channels.get(channel);
    if (!entry) {
      entry = new PresenceChannel(this.#client.presence(channel), () => {
        if (this.#channels.get(channel) === entry) this.#channels.delete(channel);
      });
      this.#channels.set(channel, entry);
    }
    return entry;
  }
}
