/**
 * Simulated network faults, so fallback can be watched live. The inspector sets the cookie
 * `push-demo-faults` (e.g. `websocket.eventsource`); requests carrying it are treated like a
 * hostile proxy would treat them, for that browser only:
 * - `websocket`: the upgrade is dropped (the client sees the socket fail to open);
 * - `eventsource`: the SSE stream is held without a byte (a buffering proxy: the liveness probe times out);
 * - `iframe`: the forever-iframe stream is held the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DemoTransport } from '../shared/types.js';

export const FAULT_COOKIE = 'push-demo-faults';
const BREAKABLE: readonly DemoTransport[] = ['websocket', 'eventsource', 'iframe'];

export function faultsOf(req: IncomingMessage): Set<DemoTransport> {
  const cookie = req.headers.cookie ?? '';
  const value = /(?:^|;\s*)push-demo-faults=([^;]*)/.exec(cookie)?.[1] ?? '';
  return new Set(BREAKABLE.filter((name) => value.split('.').includes(name)));
}

/** True for the SSE or iframe stream of a browser that asked for that stream to be broken. */
export function isBrokenStream(req: IncomingMessage, path: string): boolean {
  if (req.method !== 'GET') return false;
  const faults = faultsOf(req);
  if (faults.size === 0) return false;
  if (faults.has('eventsource') && (req.headers.accept ?? '').includes('text/event-stream')) return true;
  return faults.has('iframe') && /\/iframe$/.test(path);
}

/** Holds a response open without sending anything, as a buffering proxy would; gives up after a minute. */
export function hold(res: ServerResponse): void {
  const timer = setTimeout(() => res.destroy(), 60_000);
  res.on('close', () => clearTimeout(timer));
}
