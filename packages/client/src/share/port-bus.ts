/**
 * The bus over a MessagePort, the tab's side of a SharedWorker holder: what the tab posts goes to
 * the worker's hub, what the hub posts comes back. The same messages as the BroadcastChannel bus;
 * no local echo (the hub is not in this tab).
 */
import type { Bus } from './bus.js';
import type { MessagePortLike, ShareMessage, WorkerInit } from './types.js';

export interface PortBus extends Bus {
  /** Sends the worker its `init` (it starts the hub with the first it gets). */
  init(message: WorkerInit): void;
}

export function createPortBus(port: MessagePortLike): PortBus {
  const listeners = new Set<(message: ShareMessage) => void>();
  let closed = false;
  port.onmessage = (event) => {
    for (const fn of [...listeners]) fn(event.data as ShareMessage);
  };
  port.start?.();
  return {
    post(message) {
      if (!closed) port.postMessage(message);
    },
    init(message) {
      if (!closed) port.postMessage(message);
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close() {
      closed = true;
      listeners.clear();
      port.onmessage = null;
      port.close();
    },
  };
}
