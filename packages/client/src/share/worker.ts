/**
 * The SharedWorker holder: the hub runs here, in one worker per origin and sharing key (the
 * worker's name), and holds the one connection. Each tab talks to it over its MessagePort with the
 * messages the BroadcastChannel bus carries; what the hub posts goes to every tab's port. The
 * first tab's `init` starts the hub. A tab that says `bye` (closed, or into the back/forward cache)
 * gets no more messages until it speaks again; a tab that crashed is forgotten by the hub's roll
 * call. The script apps load is `share-worker-entry.ts` (`@push/client/share-worker`).
 */
import { createClient as createCoreClient } from '../index.js';
import { systemClock } from '../platform.js';
import type { Clock } from '../transports/transport.js';
import type { ClientOptions, PushClient } from '../types.js';
import type { Bus } from './bus.js';
import { createHub, type Hub } from './hub.js';
import type { MessagePortLike, ShareMessage, WorkerInit } from './types.js';

/** The part of a SharedWorkerGlobalScope the holder uses. */
export interface WorkerScope {
  onconnect: ((event: { ports: readonly MessagePortLike[] }) => void) | null;
}

export interface ShareWorker {
  /** The hub, once a tab has sent `init`. */
  readonly hub: Hub | undefined;
  /** Ports that get the hub's messages (tabs that have not said `bye`). */
  readonly ports: number;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?(): string } }).crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function startShareWorker(
  scope: WorkerScope,
  createCore: (options: ClientOptions) => PushClient = createCoreClient,
  clock: Clock = systemClock,
): ShareWorker {
  const live = new Set<MessagePortLike>();
  const listeners = new Set<(message: ShareMessage) => void>();
  let hub: Hub | undefined;
  const bus: Bus = {
    post(message) {
      for (const port of live) port.postMessage(message);
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {},
  };
  scope.onconnect = (event) => {
    const port = event.ports[0];
    if (!port) return;
    live.add(port);
    port.onmessage = ({ data }) => {
      const m = data as ShareMessage | WorkerInit;
      live.add(port);
      if (m.t === 'init') {
        hub ??= createHub({
          leader: `worker.${randomId()}`,
          bus,
          clock,
          gather: m.gather,
          rollCall: m.rollCall,
          holder: 'worker',
          createCore: () => createCore({ ...m.options, autoConnect: true }),
        });
        return;
      }
      for (const fn of [...listeners]) fn(m);
      if (m.t === 'bye') live.delete(port);
    };
    port.start?.();
  };
  return {
    get hub() {
      return hub;
    },
    get ports() {
      return live.size;
    },
  };
}
