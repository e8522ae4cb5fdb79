/**
 * The connection state machine as a data table: what each state allows is a lookup, not a chain
 * of ifs. `connection.ts` moves between states only through {@link canTransition}.
 */
import type { ConnectionState } from './types.js';

/**
 * Per state, the states reachable from it. `closed` is terminal (no exits). Publishes queue in
 * every state but `connected` (see outbox.ts); retry timers run only in `reconnecting`.
 */
export const STATES: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['connected', 'reconnecting', 'disconnected', 'closed'],
  connected: ['reconnecting', 'disconnected', 'closed'],
  reconnecting: ['connected', 'disconnected', 'closed'],
  disconnected: ['reconnecting', 'connecting', 'closed'],
  closed: [],
};

/** True when the table allows `from -> to`. */
export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return STATES[from].includes(to);
}
