import type { PushClientLike } from './context.js';
import { defer } from './lifecycle.js';

/**
 * Owns a client that `PushProvider` creates from options: created on first `retain()` (an effect,
 * so never during server rendering), closed on a later macrotask after the last `release()`,
 * and kept if something retains it again first (StrictMode's mount -> unmount -> mount).
 *
 * @example
 * const holder = new ClientHolder(() => createClient({ url }));
 * const release = holder.retain(); // creates the client
 * release();                       // closes it on the next macrotask unless retained again
 */
export class ClientHolder<C extends PushClientLike = PushClientLike> {
  readonly #create: () => C;
  readonly #listeners = new Set<() => void>();
  #client: C | null = null;
  #refs = 0;
  #cancelClose: (() => void) | undefined;

  constructor(create: () => C) {
    this.#create = create;
  }

  /** The current client, or `null` before the first `retain()` and after the deferred close. */
  readonly getClient = (): C | null => this.#client;

  /** `useSyncExternalStore` subscription: notified when the client is created or dropped. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Keeps the client alive (creating it if needed). Returns the matching release. */
  retain(): () => void {
    this.#refs += 1;
    this.#cancelClose?.();
    this.#cancelClose = undefined;
    if (!this.#client) {
      this.#client = this.#create();
      this.#notify();
    }
    let retained = true;
    return () => {
      if (!retained) return;
      retained = false;
      this.#refs -= 1;
      if (this.#refs === 0) this.#cancelClose = defer(() => this.#close());
    };
  }

  #close(): void {
    const client = this.#client;
    this.#cancelClose = undefined;
    if (!client) return;
    this.#client = null;
    this.#notify();
    client.close().catch(() => {
      // Closing is best effort: the provider is gone and nobody can act on the failure.
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
