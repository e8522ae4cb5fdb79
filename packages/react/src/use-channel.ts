'use client';

import { useCallback, useSyncExternalStore } from 'react';
import { type ChannelSnapshot, channelRegistry, IDLE_CHANNEL } from './channel-store.js';
import type { ChannelMessage } from './context.js';
import { usePushContext } from './context.js';
import { useLatest } from './lifecycle.js';

/**
 * A channel handler: called once per message, in order, with the payload and the whole message.
 *
 * @example
 * const onQuote: ChannelHandler<Quote> = (quote, message) => console.log(message.channel, quote.price);
 */
export type ChannelHandler<T = unknown> = (data: T, message: ChannelMessage<T>) => void;

/**
 * Subscribes to `channel` for the life of the component and returns the latest message and the
 * subscription status.
 *
 * - The handler may be an inline function: the latest one is called, and changing it never
 *   resubscribes. Changing `channel` resubscribes once.
 * - Components listening to the same channel on the same client share one subscription on the
 *   wire; StrictMode's double mount does not add a second one.
 * - Nothing is subscribed during server rendering; the snapshot is `{ status: 'idle' }` there.
 *
 * `T` is the payload type you expect; it is not checked at run time. For a checked mapping of
 * channel names to payloads, use {@link createPushHooks}.
 *
 * @example
 * function Price({ symbol }: { symbol: string }) {
 *   const { data, status } = useChannel<{ price: number }>(`/stocks/aex/${symbol}`, (quote) => {
 *     if (quote.price > 100) console.log('above 100');
 *   });
 *   return <td>{status === 'subscribed' ? (data?.price ?? '…') : status}</td>;
 * }
 */
export function useChannel<T = unknown>(channel: string, handler?: ChannelHandler<T>): ChannelSnapshot<T> {
  const { client } = usePushContext('useChannel');
  const handlerRef = useLatest(handler);
  const registry = client ? channelRegistry(client) : undefined;
  const subscribe = useCallback(
    (onChange: () => void) =>
      registry?.listen(channel, {
        change: onChange,
        message: (data, message) => handlerRef.current?.(data as T, message as ChannelMessage<T>),
      }) ?? noop,
    [registry, channel, handlerRef],
  );
  const getSnapshot = () => (registry?.snapshot(channel) ?? IDLE_CHANNEL) as ChannelSnapshot<T>;
  return useSyncExternalStore(subscribe, getSnapshot, getIdleSnapshot);
}

function getIdleSnapshot(): ChannelSnapshot<never> {
  return IDLE_CHANNEL;
}

function noop(): void {}
