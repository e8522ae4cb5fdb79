/**
 * Leader election among the tabs of one sharing key.
 *
 * With Web Locks (every current engine): the leader is the tab holding the lock `name`; the others
 * wait in the lock's queue, so when the leader closes or crashes the browser hands the lock to the
 * next tab at once. A tab that is about to be frozen or put in the back/forward cache resigns
 * (the lifecycle code calls `resign()`), and stands again when shown.
 *
 * Without Web Locks: BroadcastChannel heartbeats. The leader beats every `heartbeat` ms; a tab
 * that heard no beat for three periods claims, and leads if no tab with a smaller id claimed or
 * beat within one more period (jittered). Two leaders (a frozen one waking up) resolve to the
 * smaller id.
 */
import type { Clock } from '../transports/transport.js';
import type { Bus } from './bus.js';
import type { LockManagerLike } from './types.js';

export interface Election {
  readonly leading: boolean;
  /** Joins the election (idempotent). */
  stand(): void;
  /** Leaves it: deposes this tab first if it leads (`onDepose`), then releases the lock. */
  resign(): void;
  close(): void;
}

export interface ElectionOptions {
  name: string;
  tab: string;
  locks: LockManagerLike | null;
  bus: Bus;
  clock: Clock;
  heartbeat: number;
  random: () => number;
  onLead(): void;
  onDepose(): void;
}

export function createElection(o: ElectionOptions): Election {
  return o.locks ? lockElection(o, o.locks) : heartbeatElection(o);
}

function lockElection(o: ElectionOptions, locks: LockManagerLike): Election {
  let standing: AbortController | undefined;
  let release: (() => void) | undefined;
  const election: Election = {
    get leading() {
      return release !== undefined;
    },
    stand() {
      if (standing) return;
      const mine = new AbortController();
      standing = mine;
      locks
        .request(
          o.name,
          { signal: mine.signal },
          () =>
            new Promise<void>((resolve) => {
              if (standing !== mine) return resolve();
              release = resolve;
              o.onLead();
            }),
        )
        .catch(() => {}); // aborted while queued
    },
    resign() {
      const was = standing;
      standing = undefined;
      was?.abort();
      if (!release) return;
      const free = release;
      release = undefined;
      o.onDepose();
      free();
    },
    close: () => election.resign(),
  };
  return election;
}

function heartbeatElection(o: ElectionOptions): Election {
  const { clock, heartbeat } = o;
  let standing = false;
  let leading = false;
  let claiming = false;
  let lastBeat = 0;
  let timer: unknown;
  const later = (ms: number, fn: () => void) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(fn, ms);
  };
  const jitter = () => Math.round(o.random() * heartbeat);

  function watch(): void {
    if (!standing || leading) return;
    const silent = clock.now() - lastBeat;
    if (silent < 3 * heartbeat) {
      later(3 * heartbeat - silent + jitter(), watch);
      return;
    }
    claiming = true;
    o.bus.post({ t: 'claim', tab: o.tab });
    later(heartbeat + jitter(), () => {
      if (!claiming || !standing) return watch();
      claiming = false;
      leading = true;
      beat();
      o.onLead();
    });
  }
  function beat(): void {
    if (!leading) return;
    o.bus.post({ t: 'beat', tab: o.tab });
    later(heartbeat, beat);
  }
  function depose(): void {
    if (!leading) return;
    leading = false;
    o.onDepose();
  }
  const unlisten = o.bus.listen((m) => {
    if ((m.t !== 'beat' && m.t !== 'claim') || m.tab === o.tab || !standing) return;
    if (m.t === 'beat') {
      lastBeat = clock.now();
      claiming = false;
      if (leading && m.tab < o.tab) {
        depose();
        later(3 * heartbeat + jitter(), watch);
      }
      return;
    }
    // a claim: a leader answers with a beat at once; a rival claimer with a smaller id wins
    if (leading) o.bus.post({ t: 'beat', tab: o.tab });
    else if (claiming && m.tab < o.tab) {
      claiming = false;
      lastBeat = clock.now();
      later(3 * heartbeat + jitter(), watch);
    }
  });

  const election: Election = {
    get leading() {
      return leading;
    },
    stand() {
      if (standing) return;
      standing = true;
      claiming = false;
      // a leader that exists answers this claim with a beat at once; without one we claim soon
      lastBeat = clock.now() - 3 * heartbeat;
      o.bus.post({ t: 'claim', tab: o.tab });
      later(heartbeat / 2 + jitter(), watch);
    },
    resign() {
      standing = false;
      claiming = false;
      clock.clearTimeout(timer);
      depose();
    },
    close() {
      election.resign();
      unlisten();
    },
  };
  return election;
}
