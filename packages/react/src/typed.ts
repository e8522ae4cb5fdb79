'use client';

import type { ChannelSnapshot } from './channel-store.js';
import type { ChannelMessage } from './context.js';
import type { PresenceSnapshot } from './presence-store.js';
import { type ChannelHandler, useChannel } from './use-channel.js';
import { type UsePresenceOptions, usePresence } from './use-presence.js';
import { usePublish } from './use-push.js';

/**
 * A map from channel name (or pattern) to the payload published on it. Keys may be exact names
 * (`'/chat/lobby'`) or template literal types (`` `/stocks/${string}` ``) to cover a family.
 *
 * @example
 * interface Channels {
 *   '/chat/lobby': { user: string; text: string };
 *   [channel: `/stocks/${string}`]: { symbol: string; price: number };
 * }
 */
export type ChannelMap = object;

/**
 * The channel names a map allows.
 *
 * @example
 * type Names = ChannelName<Channels>; // '/chat/lobby' | `/stocks/${string}`
 */
export type ChannelName<M extends ChannelMap> = keyof M & string;

/**
 * The payload type of channel `C` in map `M`.
 *
 * @example
 * type Quote = ChannelData<Channels, '/stocks/aex'>;
 */
export type ChannelData<M extends ChannelMap, C extends ChannelName<M>> = M[C];

/**
 * The hooks returned by {@link createPushHooks}, typed by channel map `M`.
 *
 * @example
 * export const hooks: TypedPushHooks<Channels> = createPushHooks<Channels>();
 */
export interface TypedPushHooks<M extends ChannelMap> {
  /** {@link useChannel}, restricted to the map's channels, with the payload typed. */
  useChannel<C extends ChannelName<M>>(
    channel: C,
    handler?: (data: ChannelData<M, C>, message: ChannelMessage<ChannelData<M, C>>) => void,
  ): ChannelSnapshot<ChannelData<M, C>>;
  /** {@link usePresence}, restricted to the map's channels; `P` is the member data type. */
  usePresence<P = unknown>(
    channel: ChannelName<M>,
    data?: P,
    options?: UsePresenceOptions,
  ): PresenceSnapshot<P>;
  /** {@link usePublish}: the payload must match the channel's type. */
  usePublish(): <C extends ChannelName<M>>(channel: C, data: ChannelData<M, C>) => Promise<unknown>;
}

/**
 * Typed versions of the channel hooks for a channel map: the channel name is checked and the
 * payload typed, with no run-time cost (they are the same hooks). Create them once in a module.
 *
 * @example
 * interface Channels {
 *   '/chat/lobby': { user: string; text: string };
 *   [channel: `/stocks/${string}`]: { symbol: string; price: number };
 * }
 * export const { useChannel, usePresence, usePublish } = createPushHooks<Channels>();
 *
 * const { data } = useChannel('/stocks/aex'); // data: { symbol: string; price: number } | undefined
 */
export function createPushHooks<M extends ChannelMap>(): TypedPushHooks<M> {
  return {
    useChannel: useChannel as <C extends ChannelName<M>>(
      channel: C,
      handler?: ChannelHandler<ChannelData<M, C>>,
    ) => ChannelSnapshot<ChannelData<M, C>>,
    usePresence,
    usePublish,
  };
}
