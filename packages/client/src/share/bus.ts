/**
 * The bus the tabs and the holder of the connection talk over. Two kinds, one implementation
 * (`endpointBus`): one BroadcastChannel per sharing key between tabs (`createBus`), or the
 * MessagePort of a SharedWorker holder (`createPortBus`).
 */
import type { BroadcastChannelCtor, MessagePortLike, ShareMessage } from './types.js';

export interface Bus {
  post(message: ShareMessage): void;
  listen(fn: (message: ShareMessage) => void): () => void;
  close(): void;
}

/** A bus over one endpoint, plus `deliver`: hands a message to this side's own listeners. */
export interface EndpointBus extends Bus {
  /** Posts anything cloneable (the worker's `init` too). */
  post(message: unknown): void;
  deliver(message: ShareMessage): void;
}

/**
 * The bus over a BroadcastChannel or a MessagePort: what is posted goes out, what arrives goes to
 * the listeners; closing stops both and closes the endpoint.
 * @example const bus = endpointBus(worker.port);
 */
export function endpointBus(end: MessagePortLike): EndpointBus {
  const listeners = new Set<(message: ShareMessage) => void>();
  let closed = false;
  const bus: EndpointBus = {
    post(message) {
      if (!closed) end.postMessage(message);
    },
    deliver(message) {
      if (!closed) for (const fn of [...listeners]) fn(message);
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      closed = true;
      listeners.clear();
      end.onmessage = null;
      end.close();
    },
  };
  end.onmessage = (event) => bus.deliver(event.data as ShareMessage);
  end.start?.();
  return bus;
}

/**
 * The bus between tabs: one BroadcastChannel per sharing key, plus delivery to the listeners of
 * this same tab (a BroadcastChannel never delivers to its sender, and the leader tab is also a
 * tab). Local deliveries are structured clones, in a microtask, so both paths behave alike.
 * @example const bus = createBus(BroadcastChannel, 'push-share https://example.com/push');
 */
export function createBus(Channel: BroadcastChannelCtor, name: string): Bus {
  const bus = endpointBus(new Channel(name));
  return {
    ...bus,
    post(message) {
      bus.post(message);
      const copy = structuredClone(message);
      queueMicrotask(() => bus.deliver(copy));
    },
  };
}

/** A bus whose endpoint can be replaced: the tab's side when a SharedWorker holder is dropped. */
export interface SwitchBus extends Bus {
  readonly current: Bus;
  /** From now on post to and hear from `next` (closing the former one is the caller's). */
  use(next: Bus): void;
}

/** @example const bus = switchBus(createPortBus(port)); bus.use(createBus(BroadcastChannel, name)); */
export function switchBus(first: Bus): SwitchBus {
  const listeners = new Set<(message: ShareMessage) => void>();
  let current = first;
  const hear = (message: ShareMessage) => {
    for (const fn of [...listeners]) fn(message);
  };
  let unhear = first.listen(hear);
  return {
    get current() {
      return current;
    },
    use(next) {
      unhear();
      current = next;
      unhear = next.listen(hear);
    },
    post: (message) => current.post(message),
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      listeners.clear();
      current.close();
    },
  };
}
