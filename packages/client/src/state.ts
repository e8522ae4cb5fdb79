/**
 * The connection state machine as a data table, after Ably's: per state, where it may go and what
 * it allows, so behaviour is a lookup, not a chain of ifs. The connection moves only through
 * {@link createStates}, which records why each state was entered and logs an illegal move as the
 * bug it is (the move does not happen).
 */
import type { Logger } from './transports/transport.js';
import type { ClientEvents, ConnectionState, StateReason } from './types.js';

/** What a state allows. */
export interface StateRow {
  /** States reachable from this one; none: terminal. */
  readonly to: readonly ConnectionState[];
  /** Requests go out on the link and the `/meta/connect` cycle runs. */
  readonly sends: boolean;
  /** Publishes wait in the outbox for the next connection (where they are not sent or refused). */
  readonly queues: boolean;
  /** A lost transport or a failed round schedules a retry with backoff. */
  readonly retries: boolean;
  /** The background upgrader may probe and swap in a better transport. */
  readonly upgrades: boolean;
  /** `connect()` starts a negotiation. */
  readonly starts: boolean;
  /** Back online or the page woke: reconnect soon (a backoff cut to its first, jittered step). A `refused` state waits for `connect()`. */
  readonly online: boolean;
  /** Gone offline: stop retrying and wait (`disconnected`) for the online signal. */
  readonly offline: boolean;
  /** The state a negotiation started from here runs in. */
  readonly round?: 'connecting' | 'reconnecting';
}

const row = (to: ConnectionState[], allows: Partial<Omit<StateRow, 'to'>>): StateRow => ({
  to,
  sends: false,
  queues: true,
  retries: false,
  upgrades: false,
  starts: false,
  online: false,
  offline: false,
  round: 'reconnecting',
  ...allows,
});

/** The table. Publishes queue in every state but `connected` (sent) and `closed` (refused). */
export const STATES: Readonly<Record<ConnectionState, StateRow>> = {
  idle: row(['connecting', 'disconnected', 'closed'], { starts: true, round: 'connecting' }),
  connecting: row(['connected', 'reconnecting', 'disconnected', 'closed'], {
    retries: true,
    round: 'connecting',
  }),
  connected: row(['reconnecting', 'disconnected', 'closed'], {
    sends: true,
    queues: false,
    retries: true,
    upgrades: true,
  }),
  reconnecting: row(['connected', 'disconnected', 'closed'], { retries: true, online: true, offline: true }),
  disconnected: row(['reconnecting', 'connecting', 'closed'], { starts: true, online: true }),
  closed: row([], { queues: false, round: undefined }),
};

/** True when the table allows `from -> to`. */
export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return STATES[from].to.includes(to);
}

/** The current state, its row and the reason it was entered. */
export interface States {
  readonly state: ConnectionState;
  readonly row: StateRow;
  readonly reason: StateReason;
  /**
   * Enters `next` for `reason` and emits `state`; true when the state changed. Staying in the
   * same state is a no-op; a move the table forbids is logged (`warn`, tag `state`) and not made.
   */
  move(next: ConnectionState, reason: StateReason): boolean;
}

export function createStates(
  emit: <K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]) => void,
  log: Logger,
): States {
  let state: ConnectionState = 'idle';
  let reason: StateReason = { code: 'created' };
  return {
    get state() {
      return state;
    },
    get row() {
      return STATES[state];
    },
    get reason() {
      return reason;
    },
    move(next, why) {
      if (next === state) return false;
      if (!canTransition(state, next)) {
        log('warn', 'state', { bug: 'illegal move', from: state, to: next, why });
        return false;
      }
      const previous = state;
      state = next;
      reason = why;
      emit('state', next, previous, why);
      return true;
    },
  };
}
