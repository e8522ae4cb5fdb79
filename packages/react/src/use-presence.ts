'use client';

import { useCallback, useEffect, useSyncExternalStore } from 'react';
import { usePushContext } from './context.js';
import { IDLE_PRESENCE, type PresenceSnapshot, presenceRegistry } from './presence-store.js';

/**
 * Options of {@link usePresence}.
 *
 * @example
 * usePresence('/chat/lobby', undefined, { enter: false }); // watch without entering
 */
export interface UsePresenceOptions {
  /**
   * Enter the channel while mounted. `false` only watches the member list.
   * @defaultValue true
   */
  readonly enter?: boolean;
}

/**
 * The members of presence channel `channel`. Enters it with `data` on mount and leaves on unmount
 * (deferred to a later macrotask, so StrictMode's double mount enters once). When `data` changes
 * (compared as JSON) the client re-enters with the new data. Several components on the same channel
 * share one presence handle and one entry.
 *
 * @example
 * function Lobby({ name }: { name: string }) {
 *   const { members } = usePresence<{ name: string }>('/chat/lobby', { name });
 *   return <ul>{members.map((m) => <li key={m.clientId}>{m.data?.name}</li>)}</ul>;
 * }
 */
export function usePresence<T = unknown>(
  channel: string,
  data?: T,
  options: UsePresenceOptions = {},
): PresenceSnapshot<T> {
  const { client } = usePushContext('usePresence');
  const registry = client ? presenceRegistry(client) : undefined;
  const enter = options.enter ?? true;
  const dataKey = JSON.stringify(data ?? null);
  const subscribe = useCallback(
    (onChange: () => void) => registry?.listen(channel, onChange) ?? noop,
    [registry, channel],
  );
  const getSnapshot = () => (registry?.snapshot(channel) ?? IDLE_PRESENCE) as PresenceSnapshot<T>;
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getIdleSnapshot);
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-enter only when the data's JSON changes
  useEffect(
    () => (registry && enter ? registry.enter(channel, data) : undefined),
    [registry, channel, enter, dataKey],
  );
  return snapshot;
}

function getIdleSnapshot(): PresenceSnapshot<never> {
  return IDLE_PRESENCE;
}

function noop(): void {}
