'use client';

import type { ClientOptions, PushClient } from '@push/client';
// The share entry's createClient is the core one unless `options.share` is set: then all tabs of
// the origin share one connection (see @push/client's README, "Sharing one connection").
import { createClient } from '@push/client/share';
import { type ReactElement, type ReactNode, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { ClientHolder } from './client-holder.js';
import { PushContext, type PushContextValue } from './context.js';

/**
 * Options for a provider-owned client: exactly what `createClient()` from `@push/client` takes;
 * `share: true` makes every tab of the origin share one connection.
 *
 * @example
 * const options: PushClientOptions = { url: 'https://example.com/push', transports: ['websocket', 'long-polling'] };
 */
export type PushClientOptions = ClientOptions;

/**
 * Props of {@link PushProvider}: either a `client` you own, or `options` for a client the provider
 * creates after mount and closes on unmount.
 *
 * @example
 * const props: PushProviderProps = { options: { url: 'https://example.com/push' }, children: <App /> };
 */
export type PushProviderProps =
  | { client: PushClient; options?: never; children?: ReactNode }
  | { options: PushClientOptions; client?: never; children?: ReactNode };

/**
 * Makes a Push client available to `usePush`, `useChannel`, `usePresence` and
 * `useConnectionState`.
 *
 * - With `options`, the provider owns the client: it is created in an effect (so server rendering
 *   never creates or connects one, and the client connects after hydration), survives React
 *   StrictMode's mount -> unmount -> mount as one client and one connection, and is closed when the
 *   provider unmounts. `options` are read once; to connect elsewhere, remount with a `key`.
 * - With `client`, you own it: the provider never closes it. On the server, create it with
 *   `autoConnect: false` (or pass `options` instead).
 *
 * @example
 * import { PushProvider } from '@push/react';
 *
 * export function App() {
 *   return (
 *     <PushProvider options={{ url: 'https://example.com/push' }}>
 *       <Ticker />
 *     </PushProvider>
 *   );
 * }
 */
export function PushProvider(props: PushProviderProps): ReactElement {
  const { client: given, options, children } = props;
  const [holder] = useState(() => new ClientHolder<PushClient>(() => createOwnedClient(options)));
  const owned = useSyncExternalStore(holder.subscribe, holder.getClient, getNoClient);
  useEffect(() => (given ? undefined : holder.retain()), [given, holder]);
  const client = given ?? owned;
  const value = useMemo<PushContextValue>(() => ({ client }), [client]);
  return <PushContext.Provider value={value}>{children}</PushContext.Provider>;
}

function createOwnedClient(options: PushClientOptions | undefined): PushClient {
  if (!options) {
    throw new Error(
      'PushProvider needs either a `client` or `options`: <PushProvider options={{ url }}> or <PushProvider client={client}>.',
    );
  }
  return createClient(options);
}

function getNoClient(): null {
  return null;
}
