/**
 * The client's events (`state`, `transport`, `error`, ...): one implementation for the client and
 * the shared tab client (`@push/client/share`). Client events carry several arguments
 * (`state, previous, reason`), which mitt's single-payload handlers cannot; a map of listener sets
 * does it in fewer bytes than wrapping mitt. A tuple, not an object: the core bundle is on a budget.
 */
import type { ClientEvents, PushClient } from './types.js';

type Listener = (...args: unknown[]) => void;

/** Calls every listener of `event` with `args`. */
export type Emit = <K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]) => void;

/**
 * A fresh set of client event listeners: `emit` for the client's parts, `on`/`off` for its API.
 * @example const [emit, on, off] = createEmitter(); on('error', report); emit('error', error);
 */
export function createEmitter(): [emit: Emit, on: PushClient['on'], off: PushClient['off']] {
  const listeners = new Map<keyof ClientEvents, Set<Listener>>();
  const off: PushClient['off'] = (event, fn) => listeners.get(event)?.delete(fn as Listener);
  return [
    // a copy: a listener may remove itself (or another) while the event is delivered
    (event, ...args) => [...(listeners.get(event) ?? [])].map((fn) => fn(...args)),
    (event, fn) => {
      (listeners.get(event) ?? listeners.set(event, new Set()).get(event)!).add(fn as Listener);
      return () => off(event, fn);
    },
    off,
  ];
}
