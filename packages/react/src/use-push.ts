'use client';

import type { PushClient } from '@push/client';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { type ConnectionState, type PushClientLike, type TransportType, usePushContext } from './context.js';

/**
 * The current connection state of the provider's client, re-rendering on every change. `'idle'`
 * during server rendering, hydration and before a provider-owned client exists.
 *
 * @example
 * function StatusDot() {
 *   const state = useConnectionState();
 *   return <span className={`dot dot-${state}`} title={state} />;
 * }
 */
export function useConnectionState(): ConnectionState {
  const { client } = usePushContext('useConnectionState');
  return useClientState(client);
}

/**
 * What {@link usePush} returns.
 *
 * @example
 * const { client, state, transport }: PushHandle = usePush();
 */
export interface PushHandle {
  /** The client: `null` on the server and until a provider-owned client has been created. */
  readonly client: PushClient | null;
  /** `client.state`, kept current. */
  readonly state: ConnectionState;
  /** `client.transport` (the Bayeux connection type in use), kept current. */
  readonly transport: TransportType | undefined;
}

/**
 * The provider's client with its connection state and transport, re-rendering when either changes.
 *
 * @example
 * function Footer() {
 *   const { state, transport } = usePush();
 *   return <small>{state} over {transport ?? '—'}</small>;
 * }
 */
export function usePush(): PushHandle {
  const { client } = usePushContext('usePush');
  const state = useClientState(client);
  const subscribeTransport = useCallback(
    (onChange: () => void) => client?.on('transport', onChange) ?? noop,
    [client],
  );
  const transport = useSyncExternalStore(
    subscribeTransport,
    () => client?.transport,
    () => undefined,
  );
  return useMemo(() => ({ client, state, transport }), [client, state, transport]);
}

function useClientState(client: PushClientLike | null): ConnectionState {
  const subscribe = useCallback((onChange: () => void) => client?.on('state', onChange) ?? noop, [client]);
  return useSyncExternalStore(subscribe, () => client?.state ?? 'idle', getIdle);
}

function getIdle(): ConnectionState {
  return 'idle';
}

function noop(): void {}

/**
 * A publish function bound to the provider's client.
 *
 * @example
 * const publish: Publish<{ text: string }> = usePublish();
 */
export type Publish<T = unknown> = (channel: string, data: T) => Promise<unknown>;

/**
 * A stable-per-client function that publishes through the provider's client and resolves when the
 * server acknowledges. Before a provider-owned client exists (server rendering, first render) it
 * rejects with an error saying so; event handlers only run after mount, when it does exist.
 *
 * @example
 * function Composer() {
 *   const publish = usePublish<{ text: string }>();
 *   return <button onClick={() => publish('/chat/lobby', { text: 'hi' })}>Say hi</button>;
 * }
 */
export function usePublish<T = unknown>(): Publish<T> {
  const { client } = usePushContext('usePublish');
  return useCallback(
    (channel: string, data: T) =>
      client
        ? client.publish(channel, data)
        : Promise.reject(
            new Error(
              `Cannot publish to ${channel} yet: the PushProvider has not created its client (it does so after mount).`,
            ),
          ),
    [client],
  );
}
