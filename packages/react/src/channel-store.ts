import type { Subscription } from '@push/client';
import type { ChannelMessage, PushClientLike } from './context.js';
import { defer } from './lifecycle.js';
import { perClient } from './per-client.js';

/**
 * Where a channel subscription is: not yet asked for, sent, confirmed by the server, or refused.
 *
 * @example
 * const { status } = useChannel('/news');
 * if (status !== 'subscribed') return <Spinner />;
 */
export type ChannelStatus = 'idle' | 'subscribing' | 'subscribed' | 'error';

/**
 * What `useChannel` returns: the latest message on the channel and the subscription's status.
 * A new object only when something changed, so it is safe as an effect dependency.
 *
 * @example
 * const { data, status } = useChannel<Quote>('/stocks/aex');
 * if (status === 'error') return <p>Could not subscribe</p>;
 */
export interface ChannelSnapshot<T = unknown> {
  readonly status: ChannelStatus;
  /** Payload of the latest message, `undefined` until one arrives. */
  readonly data: T | undefined;
  /** The latest message itself (channel, id, ext). */
  readonly message: ChannelMessage<T> | undefined;
  /** Why subscribing failed, when `status` is `'error'`. */
  readonly error: Error | undefined;
  /**
   * `false` once a resume could not recover what was missed while disconnected (the server's
   * history window was exceeded): reload the state this channel feeds. `true` again after a
   * later resume recovers.
   */
  readonly recovered: boolean;
}

/**
 * The snapshot before subscribing (server render, first client render, no client yet).
 *
 * @example
 * registry.snapshot('/never-subscribed') === IDLE_CHANNEL; // true
 */
export const IDLE_CHANNEL: ChannelSnapshot<never> = Object.freeze({
  status: 'idle',
  data: undefined,
  message: undefined,
  error: undefined,
  recovered: true,
});

interface Listener {
  change(): void;
  message(data: unknown, message: ChannelMessage): void;
}

interface Entry {
  snapshot: ChannelSnapshot;
  readonly listeners: Set<Listener>;
  subscription: Subscription | undefined;
  cancelRelease: (() => void) | undefined;
}

const registries = perClient((client) => new ChannelRegistry(client));

/**
 * One registry per client: one wire subscription per channel, shared by every hook that listens to
 * it, released (on a later macrotask) when the last listener leaves.
 *
 * @example
 * const registry = channelRegistry(client);
 * const stop = registry.listen('/chat/lobby', { change: render, message: (data) => log(data) });
 * registry.snapshot('/chat/lobby').status; // 'subscribing'
 * stop();
 */
export function channelRegistry(client: PushClientLike): ChannelRegistry {
  return registries(client);
}

/**
 * Ref-counted channel subscriptions of one client. Use {@link channelRegistry} to get one.
 *
 * @example
 * const stop = channelRegistry(client).listen('/news', { change: render, message: () => {} });
 */
export class ChannelRegistry {
  readonly #client: PushClientLike;
  readonly #entries = new Map<string, Entry>();

  constructor(client: PushClientLike) {
    this.#client = client;
    // Lives as long as the client (one registry per client).
    client.on('recovered', ({ channel, recovered }) => {
      const entry = this.#entries.get(channel);
      if (entry && entry.snapshot.recovered !== recovered) this.#update(channel, entry, { recovered });
    });
  }

  /** The cached snapshot of `channel`; the same object until something changes. */
  snapshot(channel: string): ChannelSnapshot {
    return this.#entries.get(channel)?.snapshot ?? IDLE_CHANNEL;
  }

  /** Listens to `channel`, subscribing on the wire if nobody else does. Returns the release. */
  listen(channel: string, listener: Listener): () => void {
    const entry = this.#entries.get(channel) ?? this.#open(channel);
    entry.cancelRelease?.();
    entry.cancelRelease = undefined;
    entry.listeners.add(listener);
    let listening = true;
    return () => {
      if (!listening) return;
      listening = false;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) entry.cancelRelease = defer(() => this.#close(channel, entry));
    };
  }

  #open(channel: string): Entry {
    const entry: Entry = {
      snapshot: { ...IDLE_CHANNEL, status: 'subscribing' },
      listeners: new Set(),
      cancelRelease: undefined,
      subscription: undefined,
    };
    this.#entries.set(channel, entry);
    try {
      entry.subscription = this.#client.subscribe(channel, (data, message) => {
        entry.snapshot = { ...entry.snapshot, data, message };
        for (const l of [...entry.listeners]) l.message(data, message);
        this.#notify(entry);
      });
    } catch (error) {
      // An invalid channel name throws synchronously; report it like a refused subscription.
      entry.snapshot = { ...entry.snapshot, status: 'error', error: toError(error) };
      return entry;
    }
    entry.subscription.ready.then(
      () => this.#update(channel, entry, { status: 'subscribed', error: undefined }),
      (error: unknown) => this.#update(channel, entry, { status: 'error', error: toError(error) }),
    );
    return entry;
  }

  #update(channel: string, entry: Entry, patch: Partial<ChannelSnapshot>): void {
    if (this.#entries.get(channel) !== entry) return;
    entry.snapshot = { ...entry.snapshot, ...patch };
    this.#notify(entry);
  }

  #notify(entry: Entry): void {
    for (const l of [...entry.listeners]) l.change();
  }

  #close(channel: string, entry: Entry): void {
    if (this.#entries.get(channel) === entry) this.#entries.delete(channel);
    entry.subscription?.unsubscribe();
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
