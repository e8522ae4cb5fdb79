/**
 * The page lifecycle for the full client: the browser's online signal plus the moments a page
 * wakes. Kept out of the WebSocket-only entry (bundle budget); pass `online: pageSignal()` there
 * to get it.
 */
import type { OnlineSignal } from './transports/transport.js';

/**
 * The browser's online signal, page lifecycle included: `false` on `offline`; `true` on `online`
 * and whenever the page wakes while online: shown again (`visibilitychange` to visible), restored
 * from the back/forward cache (`pageshow` with `persisted`), resumed after `freeze` (`resume`).
 * The connection answers `true` by reconnecting soon (within its first, jittered backoff step)
 * when it is not connected; a connected one is left alone (its heartbeat judges it).
 * @example createClient({ url, online: pageSignal() }); // @push/client does this by default
 */
export function pageSignal(g = globalThis as unknown as Partial<Window>): OnlineSignal {
  const events = ['online', 'offline', 'pageshow', 'visibilitychange', 'resume'];
  // visibilitychange and resume are fired at the document (names after 'q'), the others at the window.
  const at = (type: string) => (type > 'q' ? g.document : g);
  const signal: OnlineSignal = {
    online: () => g.navigator?.onLine !== false,
    subscribe(listener) {
      const on = (e: Event) =>
        e.type === 'offline'
          ? listener(false)
          : signal.online() &&
            (e.type === 'visibilitychange'
              ? !g.document?.hidden
              : (e as PageTransitionEvent).persisted !== false) &&
            listener(true);
      for (const type of events) at(type)?.addEventListener?.(type, on);
      return () => {
        for (const type of events) at(type)?.removeEventListener?.(type, on);
      };
    },
  };
  return signal;
}
