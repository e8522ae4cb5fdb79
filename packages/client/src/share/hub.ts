/**
 * The hub: runs in the leader tab (or a SharedWorker) and holds the one real connection (a core
 * client). Tabs register subscriptions, publishes and presence over the bus; the hub
 * reference-counts them (a pattern two tabs want is one subscription on the wire, dropped when the
 * last tab lets go), routes each ack back to the tab that asked, and broadcasts data, state and
 * events to every tab.
 *
 * A new leader first says `hello` and gathers the tabs' `sync` for `gather` ms: their
 * subscriptions and, per channel, the last position each tab delivered. It subscribes with the
 * smallest of those positions (`SubscribeOptions.from`), so the server resumes from where the
 * furthest-behind tab stopped; each tab drops what it has already delivered. A tab that has
 * received nothing on a channel yet is told where its subscription starts (`subbed`), so it has a
 * position to give the next holder too.
 */
import { channelMatches, type DataMessage, type PresenceMember, type StreamPosition } from '@push/protocol';
import type { Clock } from '../transports/transport.js';
import type { PushClient, Subscription } from '../types.js';
import type { Bus } from './bus.js';
import type { ShareMessage, Status, SubEntry, ToHub, ToTab } from './types.js';
import { errorToWire, toWire } from './wire-errors.js';

export interface HubOptions {
  /** This leadership's id (unique per tab and term). */
  leader: string;
  bus: Bus;
  clock: Clock;
  gather: number;
  rollCall: number;
  holder: Status['holder'];
  createCore(): PushClient;
}

export interface Hub {
  readonly core: PushClient;
  /** Tabs registered with this hub. */
  readonly tabs: number;
  /** Stops relaying at once, then closes the connection (`/meta/disconnect`). */
  close(): Promise<void>;
}

interface TabRecord {
  subs: Map<number, string>;
  missed: number;
}

const TO_HUB = new Set<ShareMessage['t']>(['sync', 'sub', 'unsub', 'pub', 'pres', 'here', 'bye']);

export function createHub(o: HubOptions): Hub {
  const { leader, clock } = o;
  const core = o.createCore();
  const tabs = new Map<string, TabRecord>();
  /**
   * Per pattern: the one subscription on the wire, the tabs' handles on it, and `at`, the position
   * of each channel as relayed (the confirmation's, then each message's): what a tab joining is
   * told it starts after.
   */
  const patterns = new Map<
    string,
    { sub: Subscription; refs: Set<string>; at: Record<string, StreamPosition> }
  >();
  /** channel -> tab -> the data it entered with. */
  const entered = new Map<string, Map<string, unknown>>();
  /** While gathering: the smallest position per channel over the tabs' syncs. */
  const lowest: Record<string, StreamPosition> = {};
  let gathering: ToHub[] | undefined = [];
  let closed = false;
  const timers: unknown[] = [];

  const post = (m: ToTab) => {
    if (!closed) o.bus.post(m);
  };
  const sendStatus = () =>
    post({
      t: 'status',
      leader,
      state: core.state,
      transport: core.transport,
      clientId: core.clientId,
      fallbacks: [...core.fallbacks],
      tabs: tabs.size,
      holder: o.holder,
    });

  for (const name of ['state', 'transport', 'error', 'recovered'] as const) {
    core.on(name, (...args: unknown[]) => {
      post({ t: 'event', leader, name, args: args.map(toWire) });
      if (name === 'state' || name === 'transport') sendStatus();
    });
  }

  function ensure(tab: string, syncing = false): TabRecord {
    let record = tabs.get(tab);
    if (!record) {
      record = { subs: new Map(), missed: 0 };
      tabs.set(tab, record);
      // a tab this hub does not know (it was forgotten, or its sync was lost): ask for its state
      if (!syncing) post({ t: 'hello', leader, tab });
    }
    record.missed = 0;
    return record;
  }

  function ref(tab: string, record: TabRecord, s: SubEntry, from?: Record<string, StreamPosition>) {
    const key = `${tab}\n${s.id}`;
    const old = record.subs.get(s.id);
    if (old === s.pattern) return;
    if (old !== undefined) unref(tab, record, s.id);
    let entry = patterns.get(s.pattern);
    if (!entry) {
      const start: Record<string, StreamPosition> = {};
      for (const channel in from) if (channelMatches(s.pattern, channel)) start[channel] = from[channel]!;
      const pattern = s.pattern;
      const at: Record<string, StreamPosition> = {};
      const relay = (_data: unknown, message: DataMessage) => {
        const { offset, epoch } = message.ext?.push ?? {};
        if (typeof offset === 'number' && typeof epoch === 'string') at[message.channel] = { offset, epoch };
        post({ t: 'data', leader, pattern, message });
      };
      const sub = core.subscribe(pattern, relay, {
        resume: s.resume,
        from: start,
        // A tab that has received nothing yet has no position of its own: without this one the
        // next holder (after a bfcache, a crash) subscribes from its own start, and what was
        // published in between is lost.
        onReady: (positions) => Object.assign(at, positions),
      });
      entry = { sub, refs: new Set(), at };
      patterns.set(pattern, entry);
      const mine = entry;
      sub.ready.catch(() => {
        if (patterns.get(pattern) === mine) patterns.delete(pattern);
      });
    }
    entry.refs.add(key);
    record.subs.set(s.id, s.pattern);
    const mine = entry;
    entry.sub.ready.then(
      () => mine.refs.has(key) && post({ t: 'subbed', leader, tab, id: s.id, positions: mine.at }),
      (error: unknown) => {
        if (!mine.refs.delete(key)) return;
        record.subs.delete(s.id);
        post({ t: 'subbed', leader, tab, id: s.id, error: errorToWire(error) });
      },
    );
  }

  function unref(tab: string, record: TabRecord, id: number) {
    const pattern = record.subs.get(id);
    if (pattern === undefined) return;
    record.subs.delete(id);
    const entry = patterns.get(pattern);
    if (!entry?.refs.delete(`${tab}\n${id}`) || entry.refs.size > 0) return;
    patterns.delete(pattern);
    entry.sub.unsubscribe();
  }

  async function presence(
    tab: string,
    channel: string,
    action: 'enter' | 'leave' | 'members',
    data?: unknown,
  ) {
    const handle = core.presence(channel);
    if (action === 'members') return handle.members();
    let tabsIn = entered.get(channel);
    if (action === 'enter') {
      if (!tabsIn) {
        tabsIn = new Map();
        entered.set(channel, tabsIn);
      }
      tabsIn.set(tab, data);
      return handle.enter(data);
    }
    if (!tabsIn?.delete(tab)) return [];
    if (tabsIn.size > 0) return [];
    entered.delete(channel);
    await handle.leave();
    return [];
  }

  function drop(tab: string) {
    const record = tabs.get(tab);
    if (!record) return;
    for (const id of [...record.subs.keys()]) unref(tab, record, id);
    tabs.delete(tab);
    for (const [channel, tabsIn] of entered)
      if (tabsIn.has(tab)) presence(tab, channel, 'leave').catch(() => {});
    sendStatus();
  }

  function handle(m: ToHub): void {
    switch (m.t) {
      case 'sync': {
        const fresh = !tabs.has(m.tab);
        const record = ensure(m.tab, true);
        const keep = new Set(m.subs.map((s) => s.id));
        for (const s of m.subs) ref(m.tab, record, s, m.positions);
        for (const id of [...record.subs.keys()]) if (!keep.has(id)) unref(m.tab, record, id);
        for (const [channel, data] of m.entered)
          if (!entered.get(channel)?.has(m.tab)) presence(m.tab, channel, 'enter', data).catch(() => {});
        if (fresh) sendStatus();
        return;
      }
      case 'sub':
        ref(m.tab, ensure(m.tab), m);
        return;
      case 'unsub':
        unref(m.tab, ensure(m.tab), m.id);
        return;
      case 'here':
        ensure(m.tab);
        return;
      case 'bye':
        drop(m.tab);
        return;
      case 'pub':
      case 'pres': {
        if (m.to !== leader) return;
        ensure(m.tab);
        const { tab, id } = m;
        const work: Promise<PresenceMember[] | undefined> =
          m.t === 'pub'
            ? core.publish(m.channel, m.data, { key: m.key }).then(() => undefined)
            : presence(tab, m.channel, m.action, m.data);
        work.then(
          (members) => post(members ? { t: 'ack', leader, tab, id, members } : { t: 'ack', leader, tab, id }),
          (error: unknown) => post({ t: 'ack', leader, tab, id, error: errorToWire(error) }),
        );
      }
    }
  }

  const unlisten = o.bus.listen((m) => {
    if (closed || !TO_HUB.has(m.t)) return;
    const message = m as ToHub;
    if (!gathering) {
      handle(message);
      return;
    }
    if (message.t === 'sync') {
      for (const [channel, p] of Object.entries(message.positions)) {
        const low = lowest[channel];
        if (!low || (low.epoch === p.epoch && p.offset < low.offset)) lowest[channel] = p;
      }
    }
    gathering.push(message);
  });

  timers.push(
    clock.setTimeout(() => {
      const queued = gathering ?? [];
      gathering = undefined;
      for (const m of queued) handle(m.t === 'sync' ? { ...m, positions: lowest } : m);
      sendStatus();
    }, o.gather),
  );
  const roll = () => {
    for (const [tab, record] of tabs) if (++record.missed > 2) drop(tab);
    post({ t: 'roll', leader });
    timers[1] = clock.setTimeout(roll, o.rollCall);
  };
  timers[1] = clock.setTimeout(roll, o.rollCall);
  post({ t: 'hello', leader });

  return {
    core,
    get tabs() {
      return tabs.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      unlisten();
      for (const t of timers) clock.clearTimeout(t);
      await core.close();
    },
  };
}
