'use client';

/**
 * The client surface the bindings use (derived from `@push/client`'s own types) and the React
 * context that carries it. Hooks only touch these members, so a test double can stand in.
 */
import type { ConnectionType, MessageHandler, Presence, PushClient } from '@push/client';
import { createContext, useContext } from 'react';

/**
 * Re-exported from `@push/client`: the connection state and a transport switch event.
 *
 * @example
 * const state: ConnectionState = useConnectionState();
 */
export type { ConnectionState, TransportChange } from '@push/client';

/**
 * The Bayeux connection type a client uses, as reported by `client.transport`.
 *
 * @example
 * const { transport } = usePush(); // 'websocket' | 'eventsource' | 'long-polling' | 'iframe' | …
 */
export type TransportType = ConnectionType;

/**
 * A delivered message (the second argument of a channel handler): channel, data, id, ext.
 *
 * @example
 * useChannel('/stocks/*', (data, message: ChannelMessage) => console.log(message.channel));
 */
export type ChannelMessage<T = unknown> = Parameters<MessageHandler<T>>[1];

/**
 * A member of a presence channel, with its data typed as `T`.
 *
 * @example
 * const { members } = usePresence<{ name: string }>('/chat/lobby');
 * members.map((m: PresenceMember<{ name: string }>) => m.data?.name);
 */
export type PresenceMember<T = unknown> = Omit<Awaited<ReturnType<Presence['members']>>[number], 'data'> & {
  readonly data?: T;
};

/**
 * The client surface the hooks use: a `Pick` of `PushClient` from `@push/client`, so any real
 * client fits and a test double only needs these members.
 *
 * @example
 * const client: PushClientLike = createClient({ url: 'https://example.com/push' });
 */
export type PushClientLike = Pick<
  PushClient,
  'state' | 'transport' | 'subscribe' | 'publish' | 'presence' | 'on' | 'close'
>;

/**
 * What a `PushProvider` gives its descendants.
 *
 * @example
 * const value: PushContextValue | undefined = useContext(PushContext);
 */
export interface PushContextValue {
  /** The client; `null` during server rendering and before a provider-owned client is created. */
  readonly client: PushClient | null;
}

/**
 * The React context behind every hook. Exported for advanced cases (bridging renderers); prefer
 * `PushProvider` and the hooks.
 *
 * @example
 * const value = useContext(PushContext); // undefined outside a PushProvider
 */
export const PushContext = createContext<PushContextValue | undefined>(undefined);
PushContext.displayName = 'PushContext';

/**
 * Reads the provider's context, throwing an error that says how to fix a missing provider.
 *
 * @example
 * const { client } = usePushContext('useChannel');
 */
export function usePushContext(hook: string): PushContextValue {
  const value = useContext(PushContext);
  if (value === undefined) {
    throw new Error(
      `${hook}() must be used inside <PushProvider>. Wrap your app (or this component) in ` +
        `<PushProvider options={{ url: 'https://example.com/push' }}> or <PushProvider client={client}>, ` +
        `imported from '@push/react'.`,
    );
  }
  return value;
}
