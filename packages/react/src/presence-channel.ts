import type { Presence } from '@push/client';
import type { PresenceMember } from './context.js';
import { defer } from './lifecycle.js';
import type { PresenceSnapshot } from './presence-store.js';

/**
 * One presence channel of one client, shared by every `usePresence` on it: keeps the member list
 * (initial `members()` plus `join`/`leave` events), enters once for all components that enter, and
 * leaves and stops listening on a later macrotask after the last of them unmounts.
 *
 * @example
 * const entry = new PresenceChannel(client.presence('/chat/lobby'), () => {});
 * const release = entry.hold(render);
 * const leave = entry.enter({ name: 'Ada' });
 */
export class PresenceChannel {
  snapshot: PresenceSnapshot = { status: 'loading', members: [], error: undefined };
  readonly #presence: Presence;
  readonly #onClosed: () => void;
  readonly #listeners = new Set<() => void>();
  readonly #members = new Map<string, PresenceMember>();
  readonly #leftWhileLoading = new Set<string>();
  readonly #offs: (() => void)[];
  readonly #enterers = new Map<symbol, unknown>();
  #holders = 0;
  #entered: string | undefined;
  #cancel: { close?: () => void; leave?: () => void } = {};

  constructor(presence: Presence, onClosed: () => void) {
    this.#presence = presence;
    this.#onClosed = onClosed;
    this.#offs = [
      presence.on('join', (member) => {
        this.#leftWhileLoading.delete(member.clientId);
        this.#members.set(member.clientId, member);
        this.#publish({});
      }),
      presence.on('leave', (member) => {
        if (this.snapshot.status === 'loading') this.#leftWhileLoading.add(member.clientId);
        if (this.#members.delete(member.clientId)) this.#publish({});
      }),
    ];
    presence.members().then(
      (list) => {
        for (const m of list) {
          if (!this.#leftWhileLoading.has(m.clientId) && !this.#members.has(m.clientId)) {
            this.#members.set(m.clientId, m);
          }
        }
        this.#leftWhileLoading.clear();
        this.#publish({ status: 'ready' });
      },
      (error: unknown) => this.#publish({ status: 'error', error: toError(error) }),
    );
  }

  /** Keeps the channel open (and `listener`, if any, notified). Returns the release. */
  hold(listener: (() => void) | undefined): () => void {
    this.#holders += 1;
    this.#cancel.close?.();
    this.#cancel.close = undefined;
    if (listener) this.#listeners.add(listener);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (listener) this.#listeners.delete(listener);
      this.#holders -= 1;
      if (this.#holders === 0) this.#cancel.close = defer(() => this.#close());
    };
  }

  /** Enters with `data` (re-entering if the data differs from what was sent). Returns the leave. */
  enter(data: unknown): () => void {
    const token = Symbol('enterer');
    this.#enterers.set(token, data);
    this.#cancel.leave?.();
    this.#cancel.leave = undefined;
    const key = JSON.stringify(data ?? null);
    if (this.#entered !== key) {
      this.#entered = key;
      this.#presence.enter(data).catch((error: unknown) => {
        this.#publish({ status: 'error', error: toError(error) });
      });
    }
    return () => {
      if (!this.#enterers.delete(token) || this.#enterers.size > 0) return;
      this.#cancel.leave = defer(() => this.#leave());
    };
  }

  #leave(): void {
    this.#cancel.leave = undefined;
    if (this.#entered === undefined) return;
    this.#entered = undefined;
    this.#presence.leave().catch(() => {
      // Leaving is best effort: the server also drops presence when the session ends.
    });
  }

  #close(): void {
    this.#cancel.leave?.();
    this.#cancel.leave = undefined;
    this.#entered = undefined;
    for (const off of this.#offs) off();
    // Leaves if entered and unsubscribes from the channel's join/leave events on the wire.
    this.#presence.close().catch(() => {
      // Best effort: the server also drops presence when the session ends.
    });
    this.#onClosed();
  }

  #publish(patch: Partial<PresenceSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch, members: [...this.#members.values()] };
    for (const listener of [...this.#listeners]) listener();
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
