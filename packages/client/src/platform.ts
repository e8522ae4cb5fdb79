/** Browser (and Node 20) defaults for everything the client takes from the platform. */
import type { ClientOptions, Clock, OnlineSignal, Platform } from './types.js';

/** One timer on the injected clock: `set` replaces what was pending, `clear` cancels it. */
export interface Timer {
  set(ms: number, fn: () => void): void;
  clear(): void;
}

export function createTimer(clock: Clock): Timer {
  let handle: unknown;
  const timer: Timer = {
    set(ms, fn) {
      timer.clear();
      handle = clock.setTimeout(fn, ms);
    },
    clear() {
      clock.clearTimeout(handle);
      handle = undefined;
    },
  };
  return timer;
}

/** The real clock; each call goes through `globalThis` so fake timers can replace it. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The browser's online/offline events (the WebSocket-only entry; `@push/client` uses `pageSignal`). */
export function browserOnline(): OnlineSignal {
  const g = globalThis as unknown as Partial<Window>;
  return {
    online: () => g.navigator?.onLine !== false,
    subscribe(listener) {
      const on = () => listener(true);
      const off = () => listener(false);
      g.addEventListener?.('online', on);
      g.addEventListener?.('offline', off);
      return () => {
        g.removeEventListener?.('online', on);
        g.removeEventListener?.('offline', off);
      };
    },
  };
}

/** Builds the platform from options, filling in defaults (options the platform has no use for ride along). */
export function createPlatform(options: ClientOptions, online = browserOnline): Platform {
  const g = globalThis as { fetch?: typeof fetch; WebSocket?: Platform['WebSocket']; document?: Document };
  return {
    ...options,
    clock: options.clock ?? systemClock,
    fetch: options.fetch ?? g.fetch?.bind(globalThis),
    WebSocket: options.WebSocket ?? g.WebSocket,
    online: options.online ?? online(),
    document: options.document ?? g.document,
    random: options.random ?? Math.random,
    log: options.logger ?? (() => {}),
  };
}
