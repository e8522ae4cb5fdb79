// The chaos run (issue 14): many @push/client instances in Node, on mixed transports (WebSocket,
// SSE, long-polling, and the forever-iframe through script-frame.ts's browser-like frame), read a
// numbered stream on several channels through e2e's fault-injecting proxy while a seeded schedule
// cuts connections, makes a buffering proxy appear (and go, or stay), stalls responses, and crashes
// the server once: on the memory broker a restart with history kept in a file broker, on Redis one
// of two nodes SIGKILLed (cluster.ts). Every client must get every number of every channel once,
// in order; `recovered: false` is counted apart (it is only right when history lacked the range,
// which the settings here never do); a session cut as slow (`429:queue`) is counted, and the run
// fails on any.
import {
  createClient,
  eventSource,
  iframe,
  longPolling,
  type PushClient,
  type Subscription,
  type TransportFactory,
  websocket,
} from '@push/client';
import type { ConnectionType } from '@push/protocol';
import WebSocket from 'ws';
// @ts-expect-error: plain JavaScript module shared with the browser suite (no types)
import { createRng, startProxy } from '../lib/proxy.mjs';
import { type BrokerKind, type Cluster, memoryCluster, redisCluster } from './cluster.js';
import { scriptFrame } from './script-frame.js';

/**
 * Faults a schedule can hold: `cut` (the proxy kills connections at random), `buffer` (a
 * buffering proxy appears, cutting the open streams, and goes), `buffer-stays` (it appears and
 * stays to the end: the issue's step-down to long-polling), `stall` (responses start late),
 * `restart` (the cluster's crash: see cluster.ts).
 */
/** The four transports of the client's default entry (JSONP callback-polling is the server's alone). */
export type ChaosTransport = Exclude<ConnectionType, 'callback-polling'>;

export type ChaosFault = 'cut' | 'buffer' | 'buffer-stays' | 'stall' | 'restart';

export interface ChaosOptions {
  seed: number;
  clients: number;
  /** Channels the stream is spread over. */
  channels: number;
  /** Messages per second, all channels together. */
  rate: number;
  /** Messages published in all (numbered 1.. per channel). */
  messages: number;
  /** How long the clients get after the stream to catch up, ms. */
  settleMs: number;
  /** `memory` (default): one server, restarted; `redis`: two nodes, one killed. */
  broker?: BrokerKind;
  /** Transport orders handed out to the clients in turn (default: a mix of all four). */
  orders?: ChaosTransport[][];
  /** Fault kinds in the schedule, in a seeded order (default: cut, buffer, stall, restart). */
  faults?: ChaosFault[];
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  /**
   * Messages published during one fault (cut, stall, buffering): what a client that every
   * channel reaches misses while cut off. Past the server's `maxQueue` its session overflows by
   * design (it is cut, handshakes again and resumes from history).
   */
  messagesPerFault: number;
  broker: BrokerKind;
  clients: number;
  messages: number;
  durationMs: number;
  faults: number;
  reconnects: number;
  switches: number;
  lost: number;
  duplicated: number;
  reordered: number;
  unrecovered: number;
  /** Clients not connected when the verdict was taken (their missing messages count as lost). */
  disconnected: number;
  /** Sessions the server cut as slow; undefined where the servers are other processes (Redis). */
  overflows: number | undefined;
  /** Errors with Bayeux code 429 seen by clients (a session cut as slow). */
  cut429: number;
  /**
   * Clients that, once the stream had started, were not connected for longer than one fault and
   * one more attempt (`awayLongMs`) at a stretch: through faults back to back, or with attempts too
   * slow for the gaps between them on a loaded machine. Such a client is not reading, and its
   * session may fill its queue and be cut (the documented outcome).
   */
  awayLong: number;
  /** What counts as a long stretch away: one fault's span plus `attemptTimeout`, in ms. */
  awayLongMs: number;
  /** The longest stretch any client was not connected after the stream started, in ms. */
  awayMaxMs: number;
  /**
   * Sessions cut as slow while their client read: a server overflow not inside a stretch of its
   * client's longer than `awayLongMs` away, or a 429 seen by a client never away that long (the
   * Redis nodes are other processes: only the 429 tells). Each says which client and why.
   */
  cutReading: string[];
  /** The transport each client ended on, counted. */
  transportsSeen: Partial<Record<ConnectionType, number>>;
  schedule: string[];
  /** Per failing client: what it missed or got twice (first few). */
  problems: string[];
  /** The summary; ends `faults=N reconnects=N switches=N lost=N duplicated=N unrecovered=N`. */
  line: string;
}

/** All four transports: the default order (negotiates, falls back, upgrades) and narrower ones. */
export const ALL_ORDERS: ChaosTransport[][] = [
  ['websocket', 'eventsource', 'long-polling', 'iframe'],
  ['websocket', 'eventsource', 'long-polling'],
  ['eventsource', 'long-polling'],
  ['websocket', 'long-polling'],
  ['iframe', 'long-polling'],
  ['long-polling'],
  ['eventsource'],
  ['websocket'],
  ['iframe'],
];

/** The issue's scenario: streaming clients (SSE or the iframe) that can step down to long-polling. */
export const STREAMING_ORDERS: ChaosTransport[][] = [
  ['eventsource', 'long-polling'],
  ['iframe', 'long-polling'],
];

const factories: Record<ChaosTransport, () => TransportFactory> = {
  websocket: () => websocket(),
  eventsource: () => eventSource(),
  'long-polling': () => longPolling(),
  // The client's real iframe transport; only the DOM frame is replaced (see script-frame.ts).
  iframe: () => iframe(scriptFrame),
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each client's negotiation deadline: short, so a dead or buffered path is left within the run. */
const ATTEMPT_TIMEOUT = 1500;

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const broker = o.broker ?? 'memory';
  const rng = createRng(o.seed) as () => number;
  const cluster: Cluster = broker === 'redis' ? await redisCluster() : await memoryCluster();
  const proxy = await startProxy({
    mode: 'pass',
    target: () => cluster.target(),
    seed: o.seed,
    // Every client keeps a stream or a held connect upstream, plus POSTs and upgrade probes.
    maxSockets: 64 + 4 * o.clients,
  });
  /** Events kept per client for the problem report. */
  const TIMELINE = 60;
  const channels = Array.from({ length: o.channels }, (_, i) => `/chaos/c${i}`);
  const published = new Map<string, number>(channels.map((c) => [c, 0]));
  const durationMs = (o.messages / o.rate) * 1000;

  // ---- clients ----
  interface Watched {
    client: PushClient;
    order: ChaosTransport[];
    got: Map<string, number[]>;
    unrecovered: Set<string>;
    reconnects: number;
    switches: number;
    cut429: number;
    /** The transport it was last connected on: a switch is a connection on another one. */
    last: ConnectionType | undefined;
    /** The first few errors it saw (code and message), for the problem report. */
    errors: string[];
    /** Its last events (state, transport, recovered, error) with their wall-clock time. */
    timeline: Array<[number, string]>;
    /** Since when it has not been connected (undefined while connected). */
    downSince: number | undefined;
    /** Its stretches not connected after the stream started: [from, to] (`Date.now()`). */
    stretches: Array<[number, number]>;
    /** Every clientId it was connected with (a new one after each new handshake). */
    ids: Set<string>;
  }
  const watched: Watched[] = [];
  const subscriptions: Subscription[] = [];
  const orders = o.orders ?? ALL_ORDERS;
  for (let i = 0; i < o.clients; i++) {
    const order = orders[i % orders.length]!;
    const client = createClient({
      url: `${proxy.url}/push`,
      transports: order.map((t) => factories[t]()),
      WebSocket: WebSocket as never,
      storage: null,
      // Short deadlines so a dead or buffered path is left within the run, and a dead connection is
      // noticed before its server queue (100 msg/s) reaches the default maxQueue.
      attemptTimeout: ATTEMPT_TIMEOUT,
      heartbeatGrace: 1500,
      backoff: { base: 50, max: 500 },
      upgradeDelay: 2000,
      random: createRng(o.seed + i + 1) as () => number,
    });
    const w: Watched = {
      client,
      order,
      got: new Map(channels.map((c) => [c, []])),
      unrecovered: new Set(),
      reconnects: 0,
      switches: 0,
      cut429: 0,
      last: undefined,
      errors: [],
      timeline: [],
      downSince: Date.now(),
      stretches: [],
      ids: new Set(),
    };
    const note = (what: string) => {
      w.timeline.push([Date.now(), what]);
      if (w.timeline.length > TIMELINE) w.timeline.shift();
    };
    client.on('state', (state) => note(`state ${state}`));
    client.on('transport', ({ transport, reason }) => note(`transport ${transport} (${reason})`));
    client.on('recovered', ({ channel, recovered }) => note(`recovered ${channel} ${recovered}`));
    client.on('error', (error) =>
      note(`error ${error.code}${error.bayeuxCode ? `/${error.bayeuxCode}` : ''}`),
    );
    client.on('state', (state) => state === 'reconnecting' && w.reconnects++);
    client.on('state', (state) => {
      if (state !== 'connected') {
        w.downSince ??= Date.now();
        return;
      }
      if (client.clientId) w.ids.add(client.clientId);
      if (w.downSince !== undefined) {
        w.stretches.push([w.downSince, Date.now()]);
        w.downSince = undefined;
      }
    });
    // Counted from what the client connected on, whether it switched in place (fallback, upgrade)
    // or across a reconnect (a new negotiation that settled on another transport).
    client.on('transport', ({ transport }) => {
      if (w.last && transport !== w.last) w.switches++;
      w.last = transport;
    });
    // The event names what was renewed: a channel, or a wildcard pattern for all its channels.
    client.on('recovered', ({ channel, recovered }) => {
      if (recovered) return;
      const prefix = channel.replace(/\*+$/, '');
      for (const c of channels)
        if (c === channel || (prefix !== channel && c.startsWith(prefix))) w.unrecovered.add(c);
    });
    client.on('error', (error) => {
      if (error.bayeuxCode === 429) w.cut429++;
      if (w.errors.length < 4)
        w.errors.push(`${error.code}${error.bayeuxCode ? `/${error.bayeuxCode}` : ''}: ${error.message}`);
    });
    const record = (data: unknown, message: { channel: string }) =>
      w.got.get(message.channel)?.push((data as { seq: number }).seq);
    // Half subscribe with one wildcard, half with one subscription per channel.
    if (i % 2 === 0) subscriptions.push(client.subscribe('/chaos/*', record));
    else for (const channel of channels) subscriptions.push(client.subscribe(channel, record));
    watched.push(w);
  }
  const connectMs = 15_000 + 100 * o.clients;
  const deadline = Date.now() + connectMs;
  // Connected and every subscription confirmed: a message published before a subscription took
  // effect is not owed to it (under load the confirmation came more than 1 s after connecting, and
  // the first message of the run went missing for that client).
  const ready = () =>
    watched.every((w) => w.client.state === 'connected') &&
    subscriptions.every((s) => s.state === 'subscribed');
  while (!ready()) {
    if (Date.now() > deadline) {
      await Promise.all(watched.map((w) => w.client.close().catch(() => {})));
      await proxy.close();
      await cluster.close();
      const stuck = watched.filter((w) => w.client.state !== 'connected');
      const orders = [...new Set(stuck.map((w) => `[${w.order.join(',')}] ${w.client.state}`))];
      throw new Error(
        `chaos seed=${o.seed}: ${stuck.length} of ${o.clients} clients not connected within ${connectMs} ms: ${orders.join('; ')}; ` +
          `errors ${JSON.stringify(stuck[0]?.errors)}; subscriptions not confirmed ${subscriptions.filter((s) => s.state !== 'subscribed').length}`,
      );
    }
    await sleep(50);
  }

  for (const w of watched) w.stretches = []; // connecting is not being away

  // ---- the fault schedule, drawn from the seed ----
  const schedule: Array<{ at: number; what: string; fault: boolean; run: () => unknown }> = [];
  const kinds: ChaosFault[] = [...(o.faults ?? ['cut', 'buffer', 'stall', 'restart'])];
  const slot = durationMs / Math.max(5, kinds.length + 1);
  /** How long each fault lasts. */
  const span = Math.round(slot * 0.6);
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  kinds.forEach((kind, k) => {
    const at = Math.round(slot * (k + 0.5) + rng() * slot * 0.4);
    const add = (offset: number, what: string, fault: boolean, run: () => unknown) =>
      schedule.push({ at: at + offset, what, fault, run });
    if (kind === 'cut') {
      add(0, `cut ${span}ms`, true, () => {
        proxy.setCutting(true, { seed: o.seed + 17 });
        proxy.setMode('cut');
      });
      add(span, 'cut off', false, () => proxy.setMode('pass'));
    } else if (kind === 'buffer' || kind === 'buffer-stays') {
      const stays = kind === 'buffer-stays';
      add(0, stays ? 'buffering proxy (stays)' : `buffering proxy ${span}ms`, true, () =>
        proxy.setMode('buffer', { cutExisting: true }),
      );
      if (!stays) add(span, 'buffering proxy gone', false, () => proxy.setMode('pass'));
    } else if (kind === 'stall') {
      add(0, `stalls ${span}ms`, true, () => proxy.setStall(1200));
      add(span, 'stalls off', false, () => proxy.setStall(0));
    } else {
      add(0, broker === 'redis' ? 'node crash' : 'server restart', true, () =>
        cluster.crash(rng).then((what) => log(`chaos ${what}`)),
      );
    }
  });
  schedule.sort((a, b) => a.at - b.at);

  // ---- the stream ----
  const start = Date.now();
  let next = 0;
  let crashing: Promise<unknown> | undefined;
  let faults = 0;
  let sent = 0;
  while (sent < o.messages) {
    const now = Date.now() - start;
    while (next < schedule.length && schedule[next]!.at <= now) {
      const step = schedule[next++]!;
      log(`chaos t=${now}ms ${step.what}`);
      if (step.fault) faults++;
      const done = step.run();
      if (done instanceof Promise) crashing = done.finally(() => (crashing = undefined));
    }
    if (crashing && broker === 'memory') {
      await crashing; // nothing to publish to while the only server is down
      continue;
    }
    const channel = channels[sent % channels.length]!;
    const seq = published.get(channel)! + 1;
    try {
      await cluster.publish(channel, { seq });
      published.set(channel, seq);
      sent++;
    } catch {
      await sleep(20); // the server is restarting: publish it again
      continue;
    }
    const due = start + (sent * 1000) / o.rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await crashing;
  faults += proxy.stats.cuts;

  // ---- let everyone catch up (a buffering proxy that stays, stays) ----
  const lasting = kinds.includes('buffer-stays');
  if (!lasting) proxy.setMode('pass');
  proxy.setStall(0);
  const complete = (w: Watched) =>
    channels.every((c) => w.unrecovered.has(c) || w.got.get(c)!.length >= published.get(c)!);
  const until = Date.now() + o.settleMs;
  while (Date.now() < until && !watched.every(complete)) await sleep(100);

  // ---- verdict ----
  const overflows = cluster.overflows();
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  let unrecovered = 0;
  const problems: string[] = [];
  const transportsSeen: Partial<Record<ConnectionType, number>> = {};
  watched.forEach((w, i) => {
    const t = w.client.transport;
    if (t) transportsSeen[t] = (transportsSeen[t] ?? 0) + 1;
    for (const channel of channels) {
      if (w.unrecovered.has(channel)) {
        unrecovered++;
        problems.push(
          `client ${i} [${w.order.join(',')}] ${channel}: recovered:false; errors ${JSON.stringify(w.errors)}`,
        );
        continue;
      }
      const seqs = w.got.get(channel)!;
      const seen = new Set<number>();
      let dups = 0;
      let outOfOrder = 0;
      seqs.forEach((s, k) => {
        if (seen.has(s)) dups++;
        seen.add(s);
        if (k > 0 && s <= seqs[k - 1]!) outOfOrder++;
      });
      const missing: number[] = [];
      for (let s = 1; s <= published.get(channel)!; s++) if (!seen.has(s)) missing.push(s);
      lost += missing.length;
      duplicated += dups;
      reordered += outOfOrder;
      if (missing.length || dups || outOfOrder)
        problems.push(
          `client ${i} [${w.order.join(',')}] now ${t ?? w.client.state} ${channel}: ` +
            `${missing.length} missing ${JSON.stringify(missing.slice(0, 8))}, ${dups} duplicated, ` +
            `${outOfOrder} out of order; errors ${JSON.stringify(w.errors)}`,
        );
    }
  });
  // The story of the first client with a loss: what it went through, for the replay.
  // A silent loss (missing numbers) first: it is the worse of the two.
  const lossy = (kind: string) => (_w: Watched, i: number) =>
    problems.some((line) => line.startsWith(`client ${i} `) && line.includes(kind));
  const first = watched.find(lossy(' missing ')) ?? watched.find(lossy('recovered:false'));
  if (first) {
    const events = first.timeline.map(([at, what]) => `${at - start}ms ${what}`).join(' | ');
    problems.unshift(`timeline of client ${watched.indexOf(first)} (times as in the schedule): ${events}`);
  }
  const disconnected = watched.filter((w) => w.client.state !== 'connected').length;
  const reconnects = watched.reduce((n, w) => n + w.reconnects, 0);
  const switches = watched.reduce((n, w) => n + w.switches, 0);
  const cut429 = watched.reduce((n, w) => n + w.cut429, 0);
  const now = Date.now();
  for (const w of watched) if (w.downSince !== undefined) w.stretches.push([w.downSince, now]);
  const longest = (w: Watched) => Math.max(0, ...w.stretches.map(([from, to]) => to - from));
  const away = watched.map(longest);
  const awayLongMs = span + ATTEMPT_TIMEOUT;
  const awayLong = away.filter((ms) => ms > awayLongMs).length;
  const awayMaxMs = Math.max(0, ...away);
  const cutReading: string[] = [];
  for (const { clientId, at } of cluster.overflowed() ?? []) {
    const owner = watched.findIndex((w) => w.ids.has(clientId));
    const stretch = watched[owner]?.stretches.find(([from, to]) => from <= at && at <= to);
    if (owner < 0) cutReading.push(`session ${clientId} overflowed: no client was connected with it`);
    else if (!stretch || stretch[1] - stretch[0] <= awayLongMs)
      cutReading.push(
        `client ${owner} overflowed (session ${clientId}) at ${at - start} ms, ` +
          (stretch ? `away ${stretch[1] - stretch[0]} ms from ${stretch[0] - start} ms` : 'while connected'),
      );
  }
  watched.forEach((w, i) => {
    if (w.cut429 > 0 && away[i]! <= awayLongMs)
      cutReading.push(`client ${i} saw 429, away at most ${away[i]} ms`);
  });
  const elapsed = Date.now() - start;

  await Promise.all(watched.map((w) => w.client.close().catch(() => {})));
  await proxy.close();
  await cluster.close();

  const ended = Object.entries(transportsSeen)
    .map(([t, n]) => `${t}:${n}`)
    .join(',');
  const line =
    `chaos seed=${o.seed} broker=${broker} clients=${o.clients} channels=${o.channels} ` +
    `messages=${o.messages} rate=${o.rate} ended-on=${ended} reordered=${reordered} ` +
    `overflows=${overflows ?? 'n/a'} cut429=${cut429} away-long=${awayLong} away-max=${awayMaxMs}ms disconnected=${disconnected} seconds=${Math.round(elapsed / 1000)} ` +
    `faults=${faults} reconnects=${reconnects} switches=${switches} lost=${lost} ` +
    `duplicated=${duplicated} unrecovered=${unrecovered}`;
  return {
    seed: o.seed,
    messagesPerFault: Math.round((span * o.rate) / 1000),
    broker,
    clients: o.clients,
    messages: o.messages,
    durationMs: elapsed,
    faults,
    reconnects,
    switches,
    lost,
    duplicated,
    reordered,
    unrecovered,
    disconnected,
    overflows,
    cut429,
    awayLong,
    awayLongMs,
    awayMaxMs,
    cutReading,
    transportsSeen,
    schedule: schedule.map((s) => `${s.at}ms ${s.what}`),
    problems,
    line,
  };
}
