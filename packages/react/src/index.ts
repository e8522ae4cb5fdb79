/**
 * @push/react — React bindings for Push: one provider, one hook per concern, and none of the usual
 * traps (no second connection under StrictMode, no resubscribing on every render, no I/O during
 * server rendering).
 *
 * @example
 * import { PushProvider, useChannel, useConnectionState } from '@push/react';
 *
 * function Price() {
 *   const { data } = useChannel<{ price: number }>('/stocks/aex/philips');
 *   const state = useConnectionState();
 *   return <p>{data?.price ?? '…'} ({state})</p>;
 * }
 *
 * export const App = () => (
 *   <PushProvider options={{ url: 'https://example.com/push' }}>
 *     <Price />
 *   </PushProvider>
 * );
 */

export type { ChannelSnapshot, ChannelStatus } from './channel-store.js';
export type {
  ChannelMessage,
  ConnectionState,
  PresenceMember,
  TransportChange,
  TransportType,
} from './context.js';
export { PushContext, type PushContextValue } from './context.js';
export type { PresenceSnapshot, PresenceStatus } from './presence-store.js';
export { type PushClientOptions, PushProvider, type PushProviderProps } from './provider.js';
export {
  type ChannelData,
  type ChannelMap,
  type ChannelName,
  createPushHooks,
  type TypedPushHooks,
} from './typed.js';
export { type ChannelHandler, useChannel } from './use-channel.js';
export { type UsePresenceOptions, usePresence } from './use-presence.js';
export { type Publish, type PushHandle, useConnectionState, usePublish, usePush } from './use-push.js';
