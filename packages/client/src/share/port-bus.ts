/**
 * The bus over a MessagePort, the tab's side of a SharedWorker holder: what the tab posts goes to
 * the worker's hub, what the hub posts comes back. The same messages as the BroadcastChannel bus;
 * no local echo (the hub is not in this tab).
 */
import { type Bus, endpointBus } from './bus.js';
import type { MessagePortLike, WorkerInit } from './types.js';

export interface PortBus extends Bus {
  /** Sends the worker its `init` (it starts the hub with the first it gets). */
  init(message: WorkerInit): void;
}

/** @example const bus = createPortBus(new SharedWorker(url, { name }).port); */
export function createPortBus(port: MessagePortLike): PortBus {
  const bus = endpointBus(port);
  return { post: bus.post, listen: bus.listen, close: bus.close, init: bus.post };
}
