/**
 * The bus: one BroadcastChannel per sharing key, plus delivery to the listeners of this same tab
 * (a BroadcastChannel never delivers to its sender, and the leader tab is also a tab). Local
 * deliveries are structured clones, in a microtask, so both paths behave alike.
 */
import type { BroadcastChannelCtor, ShareMessage } from './types.js';

export interface Bus {
  post(message: ShareMessage): void;
  listen(fn: (message: ShareMessage) => void): () => void;
  close(): void;
}

export function createBus(Channel: BroadcastChannelCtor, name: string): Bus {
  const channel = new Channel(name);
  const listeners = new Set<(message: ShareMessage) => void>();
  const deliver = (message: ShareMessage) => {
    for (const fn of [...listeners]) fn(message);
  };
  let closed = false;
  channel.onmessage = (event) => deliver(event.data as ShareMessage);
  return {
    post(message) {
      if (closed) return;
      channel.postMessage(message);
      const copy = structuredClone(message);
      queueMicrotask(() => closed || deliver(copy));
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      closed = true;
      listeners.clear();
      channel.onmessage = null;
      channel.close();
    },
  };
}
