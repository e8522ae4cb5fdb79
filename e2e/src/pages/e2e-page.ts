// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
// The in-page side of every scenario. Both runners (Playwright for Chromium/Firefox, the WebDriver
// runner for WebKit) call `window.e2e.run(name, params)` (or start/result for multi-page
// scenarios) and assert on the JSON result with the shared checks in lib/scenarios.mjs.
import { createClient, eventSource, iframe } from '@push/client';
import {
  control,
  errorText,
  installPageLog,
  median,
  now,
  plain,
  type ScenarioParams,
  seededRandom,
  showOutcome,
  sleep,
  waitFor,
  within,
} from './common.js';

installPageLog();

type Client = ReturnType<typeof createClient>;

const STREAM_FACTORIES: Record<string, (idleTimeout?: number) => unknown> = {
  eventsource: (idleTimeout) => eventSource({ idleTimeout }),
  iframe: (idleTimeout) => iframe(undefined, { idleTimeout }),
};
type Result = Record<string, unknown> & { error?: string };

/** Records what a client does (states, transports, errors, recoveries) with times since creation. */
function observe(client: Client, t0: number) {
  const log: { t: number; kind: string; value: unknown }[] = [];
  const offs: (() => void)[] = [];
  const anyClient = client as any;
  for (const kind of ['state', 'transport', 'error', 'recovered'] as const) {
    try {
      const off = anyClient.on(kind, (value: unknown) => {
        log.push({
          t: Math.round(now() - t0),
          kind,
          value: kind === 'error' ? errorText(value) : plain(value),
        });
      });
      if (typeof off === 'function') offs.push(off);
    } catch (e) {
      log.push({ t: 0, kind: 'observe-failed', value: `${kind}: ${errorText(e)}` });
    }
  }
  return {
    log,
    states: () => log.filter((e) => e.kind === 'state').map((e) => e.value),
    transports: () => log.filter((e) => e.kind === 'transport').map((e) => e.value),
    /** Number of times the client left 'connected' after having been connected. */
    dropsAfterConnected: () => {
      let seen = false;
      let drops = 0;
      for (const e of log) {
        if (e.kind !== 'state') continue;
        if (e.value === 'connected') seen = true;
        else if (seen && e.value !== 'connected') {
          drops++;
          seen = false;
        }
      }
      return drops;
    },
    stop: () => {
      for (const off of offs) off();
    },
  };
}

function snapshot(client: Client) {
  const c = client as any;
  return {
    state: c.state,
    transport: c.transport,
    fallbacks: plain(c.fallbacks ?? null),
    clientId: c.clientId ?? null,
  };
}

async function connected(client: Client, timeoutMs = 10000) {
  await waitFor(
    () => (client as any).state === 'connected',
    timeoutMs,
    `state 'connected' (now '${(client as any).state}')`,
  );
}

async function safeClose(client: Client | undefined): Promise<string | null> {
  if (!client) return null;
  try {
    await within(Promise.resolve((client as any).close()), 5000, 'client.close()');
    return null;
  } catch (e) {
    return errorText(e);
  }
}

/**
 * Network faults emulated inside the page (the `block-*` scenarios), for runs against a deployment
 * where no fault proxy can sit in between:
 *   ws-refused  every WebSocket fails at once, as when an upgrade is refused (error, close 1006)
 *   ws-silent   the WebSocket opens but nothing passes either way, as behind a proxy that
 *               accepts the upgrade and forwards nothing
 *   buffering   WebSockets refused and every fetch response held until it is complete, as behind
 *               a buffering reverse proxy (a stream never starts)
 */
function blockOptions(block: unknown): Record<string, unknown> {
  if (!block) return {};
  class RefusedWebSocket {
    readyState = 0;
    onopen: ((e: unknown) => void) | null = null;
    onmessage: ((e: unknown) => void) | null = null;
    onclose: ((e: unknown) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    constructor(_url: string) {
      setTimeout(() => {
        this.readyState = 3;
        this.onerror?.(new Event('error'));
        this.onclose?.({ code: 1006, reason: '', wasClean: false });
      }, 5);
    }
    send() {
      throw new Error('WebSocket is not open');
    }
    close() {}
  }
  class SilentWebSocket {
    private ws: WebSocket;
    onopen: ((e: unknown) => void) | null = null;
    onmessage: ((e: unknown) => void) | null = null; // never called: inbound frames are dropped
    onclose: ((e: unknown) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (e) => this.onopen?.(e);
      this.ws.onclose = (e) => this.onclose?.(e);
      this.ws.onerror = (e) => this.onerror?.(e);
    }
    get readyState() {
      return this.ws.readyState;
    }
    send(_data: string) {} // outbound frames are dropped too
    close(code?: number, reason?: string) {
      this.ws.close(code, reason);
    }
  }
  if (block === 'ws-refused') return { WebSocket: RefusedWebSocket };
  if (block === 'ws-silent') return { WebSocket: SilentWebSocket };
  if (block === 'buffering') {
    const realFetch = globalThis.fetch.bind(globalThis);
    const bufferedFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await realFetch(input, init);
      const body = await res.arrayBuffer(); // a stream that never ends never gets here
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    return { WebSocket: RefusedWebSocket, fetch: bufferedFetch };
  }
  throw new Error(`unknown block ${String(block)}`);
}

let clientCounter = 0;

function make(p: ScenarioParams, extra: Record<string, unknown> = {}): Client {
  const options: Record<string, unknown> = { url: p.url, ...blockOptions(p.block), ...extra };
  // Locally, stream transports get a 2.5 s idle timeout (the harness sends heartbeats every
  // second): the defaults (25 s against the server's 10 s heartbeat) would outlast a scenario's
  // budget, and a Chromium iframe whose stream was cut (no event fires) must come back inside the
  // fault window. Against a deployment (its own heartbeat) the client's defaults apply.
  const idle = typeof p.streamIdleTimeout === 'number' ? p.streamIdleTimeout : undefined;
  if (p.transports) options.transports = p.transports.map((t) => STREAM_FACTORIES[t]?.(idle) ?? t);
  if (p.token) options.auth = { token: p.token };
  if (p.credentials) options.credentials = p.credentials;
  if (typeof p.seed === 'number') options.random = seededRandom(p.seed);
  // The client's own log, its state and transport changes and its errors go to the console: the
  // runners keep the console of a failed case (Playwright: console.txt; WebKit: page-log.txt).
  const tag = `[client ${++clientCounter}]`;
  options.logger = (level: string, what: string, detail: unknown) =>
    console[level === 'warn' ? 'warn' : 'debug'](tag, what, errorText(detail));
  const client = createClient(options as any);
  const anyClient = client as any;
  anyClient.on?.('state', (state: unknown, _prev: unknown, reason: any) =>
    console.info(tag, 'state', state, reason?.code ?? ''),
  );
  anyClient.on?.('transport', (change: any) =>
    console.info(tag, 'transport', change?.previous ?? '-', '->', change?.transport, change?.reason ?? ''),
  );
  anyClient.on?.('error', (e: unknown) => console.warn(tag, 'error', errorText(e)));
  return client;
}

/** Against a deployment, runs `body` while holding a lease on the page server's ticker. */
async function withTicker<T>(p: ScenarioParams, body: () => Promise<T>): Promise<T> {
  if (!p.tickerLease) return body();
  const ctl = control(p);
  await ctl.ticker(true);
  try {
    return await body();
  } finally {
    await ctl.ticker(false).catch(() => {});
  }
}

interface ServerEvent {
  t: number;
  event: 'handshake' | 'disconnect';
  clientId: string;
  /** The transport of a handshake, the reason of a disconnect (`expired`, `disconnect`, ...). */
  detail?: string;
}

/** The session log of the server behind `p.ctl` (the tight one) since `since` (ms epoch). */
async function serverEvents(p: ScenarioParams, since: number): Promise<ServerEvent[]> {
  const res = await fetch(`${p.ctl}/events`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ since }),
  });
  if (!res.ok) throw new Error(`control /events -> HTTP ${res.status}`);
  return (await res.json()).events;
}

/** Polls `probe` every 100 ms until it yields a value; rejects with `what` after `timeoutMs`. */
async function pollFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const seqOf = (data: any) => (data && typeof data.seq === 'number' ? data.seq : NaN);

/** Runs `body`; whatever happens, the result carries the client log and a JSON-safe shape. */
async function guarded(body: (r: Result) => Promise<void>): Promise<Result> {
  const r: Result = {};
  try {
    await body(r);
  } catch (e) {
    r.error = errorText(e);
  }
  return plain(r);
}

const scenarios: Record<string, (p: ScenarioParams) => Promise<Result>> = {
  /** Probe: the page loaded and the runner can talk to it. */
  async ping(p) {
    return {
      ok: true,
      userAgent: navigator.userAgent,
      hasWebSocket: typeof WebSocket,
      hasEventSource: typeof EventSource,
      url: p.url,
    };
  },

  async connect(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const t0 = now();
      client = make(p);
      obs = observe(client, t0);
      await connected(client);
      r.connectMs = Math.round(now() - t0);
      Object.assign(r, snapshot(client));
      if (p.serverMetrics) {
        try {
          r.server = (await control(p).info()).metrics ?? { error: 'no metrics in the server info' };
        } catch (e) {
          r.server = { error: errorText(e) };
        }
      }
      r.closeError = await safeClose(client);
      r.stateAfterClose = (client as any).state;
    });
    r.log = obs?.log ?? [];
    if (r.stateAfterClose === undefined) await safeClose(client);
    return plain(r);
  },

  async 'subscribe-plain'(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      client = make(p);
      const channel = `/e2e/${p.id}/plain`;
      const got: { channel: string; data: unknown }[] = [];
      const sub = client.subscribe(channel, (data: unknown, message: any) => {
        got.push({ channel: message?.channel, data });
      });
      r.subChannel = (sub as any).channel;
      await within(sub.ready, 10000, 'sub.ready');
      r.subStateReady = (sub as any).state;
      r.received = got; // what arrived so far, also when the wait below times out
      for (let n = 1; n <= 3; n++) await ctl.publish(channel, { n, text: `plain ${n}` });
      await waitFor(() => got.length >= 3, 10000, '3 messages on the plain channel');
      await sleep(150);
      r.received = got;
      Object.assign(r, snapshot(client));
    });
    await safeClose(client);
    return r;
  },

  async 'subscribe-wildcard'(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      client = make(p);
      const base = `/e2e/${p.id}`;
      const one: { channel: string; n: number }[] = [];
      const deep: { channel: string; n: number }[] = [];
      const s1 = client.subscribe(`${base}/w/*`, (data: any, message: any) =>
        one.push({ channel: message?.channel, n: data?.n }),
      );
      const s2 = client.subscribe(`${base}/d/**`, (data: any, message: any) =>
        deep.push({ channel: message?.channel, n: data?.n }),
      );
      await within(Promise.all([s1.ready, s2.ready]), 10000, 'wildcard subscriptions ready');
      r.one = one; // what arrived so far, also when the wait below times out
      r.deep = deep;
      const sends: [string, number][] = [
        [`${base}/w/a`, 1],
        [`${base}/w/a/deep`, 2], // not matched by /w/*
        [`${base}/other`, 3], // matched by neither
        [`${base}/d/x`, 4],
        [`${base}/d/x/y/z`, 5],
        [`${base}/w/b`, 6],
        [`${base}/d`, 7], // not matched by /d/** (needs at least one segment below)
        [`${base}/d/end`, 8],
      ];
      for (const [ch, n] of sends) await ctl.publish(ch, { n });
      await waitFor(
        () => one.some((m) => m.n === 6) && deep.some((m) => m.n === 8),
        10000,
        'last wildcard messages',
      );
      await sleep(200);
      r.one = one;
      r.deep = deep;
      r.base = base;
      Object.assign(r, snapshot(client));
    });
    await safeClose(client);
    return r;
  },

  async 'publish-ack'(p) {
    let a: Client | undefined;
    let b: Client | undefined;
    const r = await guarded(async (r) => {
      a = make(p);
      b = make(p);
      const channel = `/e2e/${p.id}/chat`;
      const atB: unknown[] = [];
      const atA: unknown[] = [];
      const sb = b.subscribe(channel, (data) => atB.push(data));
      const sa = a.subscribe(channel, (data) => atA.push(data));
      await within(Promise.all([sa.ready, sb.ready]), 10000, 'subscriptions ready');
      const t = now();
      const ack = await within(
        Promise.resolve(a.publish(channel, { text: 'hi', from: 'a' })),
        10000,
        'publish ack',
      );
      r.ackMs = Math.round(now() - t);
      r.ackValue = plain(ack ?? null);
      await waitFor(() => atB.length >= 1 && atA.length >= 1, 10000, 'published message at both clients');
      r.atB = atB;
      r.atA = atA;
      // A publish the server must refuse: its promise must reject, not resolve.
      try {
        await within(
          Promise.resolve(a.publish('/meta/e2e-forbidden', { x: 1 })),
          10000,
          'publish to /meta/* settles',
        );
        r.forbiddenPublish = 'resolved';
      } catch (e) {
        r.forbiddenPublish = 'rejected';
        r.forbiddenError = errorText(e);
      }
      Object.assign(r, snapshot(a));
    });
    await safeClose(a);
    await safeClose(b);
    return r;
  },

  async unsubscribe(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      client = make(p);
      const ch = `/e2e/${p.id}/u`;
      const marker = `/e2e/${p.id}/marker`;
      const got: number[] = [];
      const marks: number[] = [];
      const sub = client.subscribe(ch, (data: any) => got.push(data?.n));
      const ms = client.subscribe(marker, (data: any) => marks.push(data?.n));
      await within(Promise.all([sub.ready, ms.ready]), 10000, 'subscriptions ready');
      await ctl.publish(ch, { n: 1 });
      await waitFor(() => got.length >= 1, 10000, 'first message before unsubscribe');
      await Promise.resolve((sub as any).unsubscribe());
      r.subStateAfter = (sub as any).state;
      await sleep(100);
      await ctl.publish(ch, { n: 2 });
      await ctl.publish(marker, { n: 1 });
      await waitFor(() => marks.length >= 1, 10000, 'marker after unsubscribe');
      await sleep(300);
      r.received = got;
      r.marks = marks;
      Object.assign(r, snapshot(client));
    });
    await safeClose(client);
    return r;
  },

  /** Server-initiated disconnect mid-stream, then resume: every seq once, in order. */
  async 'disconnect-resume'(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const t0 = now();
      client = make(p);
      obs = observe(client, t0);
      const count = Number(p.count ?? 300);
      const channel = `/e2e/${p.id}/seq`;
      const seqs: number[] = [];
      r.seqs = seqs;
      const sub = client.subscribe(channel, (data) => seqs.push(seqOf(data)));
      await within(sub.ready, 10000, 'sub.ready');
      r.transportBefore = (client as any).transport;
      const clientIdBefore = (client as any).clientId ?? null;
      await ctl.stream(channel, count, 5, 2);
      await waitFor(() => seqs.length >= count / 3, 15000, `a third of the stream (${count / 3})`);
      const d = await ctl.disconnect(clientIdBefore ?? undefined);
      r.disconnectReply = d;
      r.seqAtDisconnect = seqs.length;
      await waitFor(
        () => seqs.length >= count,
        20000,
        () => `all ${count} messages (have ${seqs.length}, last ${seqs[seqs.length - 1]})`,
      );
      await sleep(300);
      r.seqs = seqs;
      r.count = count;
      r.drops = obs.dropsAfterConnected();
      r.clientIdBefore = clientIdBefore;
      Object.assign(r, snapshot(client));
    });
    r.log = obs?.log ?? [];
    await safeClose(client);
    return plain(r);
  },

  /** Median time from createClient() to the first message of a steady ticker channel. */
  async 'first-message'(p) {
    const r = await guarded((r) =>
      withTicker(p, async () => {
        const reps = Number(p.reps ?? 5);
        const times: number[] = [];
        const transports: unknown[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = now();
          const client = make(p);
          try {
            let first = -1;
            client.subscribe('/e2e/tick', () => {
              if (first < 0) first = now() - t0;
            });
            await waitFor(() => first >= 0, 10000, `first tick (rep ${i + 1})`);
            times.push(Math.round(first));
            transports.push((client as any).transport);
          } finally {
            await safeClose(client);
          }
        }
        r.times = times;
        r.transports = transports;
        r.medianMs = median(times);
      }),
    );
    return r;
  },

  /**
   * Default transport order through a hostile proxy: time from createClient() to the first
   * message, the transport it landed on and the fallbacks it reports.
   */
  async fallback(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded((r) =>
      withTicker(p, async () => {
        r.block = p.block ?? null;
        try {
          localStorage.clear();
          sessionStorage.clear();
        } catch {}
        const t0 = now();
        client = make(p);
        obs = observe(client, t0);
        let firstAt = -1;
        let firstTransport: unknown = null;
        client.subscribe('/e2e/tick', () => {
          if (firstAt < 0) {
            firstAt = now() - t0;
            firstTransport = (client as any).transport;
          }
        });
        await waitFor(() => firstAt >= 0, Number(p.waitMs ?? 30000), 'first message after fallback');
        r.fallbackMs = Math.round(firstAt);
        r.firstTransport = firstTransport;
        await sleep(200);
        Object.assign(r, snapshot(client));
      }),
    );
    r.log = obs?.log ?? [];
    await safeClose(client);
    return plain(r);
  },

  /** A stream of `count` numbered messages through a proxy that cuts connections at random. */
  async 'random-cuts'(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const count = Number(p.count ?? 1000);
      // Before the client connects, so its first connections are doomed too; the proxy restarts
      // its fault schedule from this case's seed (replay with --seed).
      await ctl.cutting(true, { seed: p.seed });
      r.seed = p.seed;
      const t0 = now();
      client = make(p);
      obs = observe(client, t0);
      const channel = `/e2e/${p.id}/cuts`;
      const seqs: number[] = [];
      r.seqs = seqs;
      const sub = client.subscribe(channel, (data) => seqs.push(seqOf(data)));
      await within(sub.ready, 20000, 'sub.ready through the cutting proxy');
      // Faults during the stream (it publishes for ~2-3 s), then a calm network: the client
      // must end with every message once, in order.
      const before = await ctl.proxyStats();
      // Guarantee one fault in the window: with HTTP transports the next response is dropped
      // even when every request would finish before its random cut (plain polling).
      await ctl.cutting(true, { dropNext: true });
      const tStream = now();
      await ctl.stream(channel, count, 4, 2);
      const faultMs = Number(p.faultMs ?? 3000);
      setTimeout(() => void ctl.cutting(false).catch(() => {}), faultMs);
      r.faultMs = faultMs;
      await waitFor(
        () => seqs.length >= count,
        Number(p.waitMs ?? 60000),
        () => `all ${count} messages (have ${seqs.length}, last ${seqs[seqs.length - 1]})`,
      );
      r.streamMs = Math.round(now() - tStream);
      // Stats at the end of the fault window: a transport whose requests all completed faster
      // than the shortest cut (long-polls returning big batches) still gets its idle held
      // connect cut there, so the proxy's cuts prove the faults reached this client.
      await sleep(Math.max(300, faultMs + 300 - (now() - tStream)));
      const after = await ctl.proxyStats();
      r.proxy = {
        cuts: after.cut.cuts - before.cut.cuts,
        requests: after.cut.requests - before.cut.requests,
        upgrades: after.cut.upgrades - before.cut.upgrades,
        seed: after.cut.seed,
      };
      r.seqs = seqs;
      r.count = count;
      r.drops = obs.dropsAfterConnected();
      r.transportsUsed = obs.transports();
      Object.assign(r, snapshot(client));
    });
    r.log = (obs?.log ?? []).slice(-200);
    await safeClose(client);
    return plain(r);
  },

  /** The harness server process is restarted mid-stream; the client reconnects and resumes. */
  async 'server-restart'(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const count = Number(p.count ?? 200);
      const t0 = now();
      client = make(p);
      obs = observe(client, t0);
      const channel = `/e2e/${p.id}/restart`;
      const seqs: number[] = [];
      r.seqs = seqs;
      const sub = client.subscribe(channel, (data) => seqs.push(seqOf(data)));
      await within(sub.ready, 10000, 'sub.ready');
      await ctl.restartStream(channel, count, Math.floor(count / 2), 10);
      await waitFor(
        () => seqs.length >= count,
        Number(p.waitMs ?? 40000),
        () => `all ${count} messages (have ${seqs.length}, last ${seqs[seqs.length - 1]})`,
      );
      await sleep(300);
      r.restart = await ctl.restartStatus();
      r.seqs = seqs;
      r.count = count;
      r.drops = obs.dropsAfterConnected();
      Object.assign(r, snapshot(client));
    });
    r.log = (obs?.log ?? []).slice(-100);
    if (r.error) {
      try {
        r.restart = await control(p).restartStatus();
      } catch {}
    }
    await safeClose(client);
    return plain(r);
  },

  /**
   * A numbered stream (`count` at one per `intervalMs`) while the network under the client changes:
   * the case's own proxy (same origin as this page, `/__proxy/*`) starts in `initialMode`; once
   * `switchAt` messages arrived it turns to `switchMode`, cutting what is open (a WebSocket becomes
   * reachable, dies or goes silent, a buffering proxy appears). With `restart`, the stack's
   * supervisor publishes the stream and restarts the server at `switchAt`. Records every seq, the
   * client's transport changes, and what the proxy forwarded and the server counted before and
   * after the switch.
   */
  async 'switch-stream'(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const proxy = (path: string) => fetch(`/__proxy/${path}`, { cache: 'no-store' }).then((x) => x.json());
      const count = Number(p.count ?? 300);
      const switchAt = Number(p.switchAt ?? Math.floor(count / 3));
      try {
        localStorage.clear();
      } catch {}
      await proxy(`mode?set=${p.initialMode}&cut=1`);
      const t0 = now();
      client = make(p, p.upgradeDelay ? { upgradeDelay: Number(p.upgradeDelay) } : {});
      obs = observe(client, t0);
      const channel = `/e2e/${p.id}/switch`;
      const seqs: number[] = [];
      r.seqs = seqs;
      r.count = count;
      const sub = client.subscribe(channel, (data) => seqs.push(seqOf(data)));
      await within(sub.ready, 15000, 'sub.ready');
      await waitFor(
        () => (client as any).transport === p.from,
        15000,
        () => `the client on ${p.from} before the switch (on ${(client as any).transport})`,
      );
      r.transportBefore = (client as any).transport;
      r.serverBefore = (await ctl.info()).metrics ?? null;
      if (p.restart) await ctl.restartStream(channel, count, switchAt, Number(p.intervalMs ?? 20));
      else await ctl.stream(channel, count, Number(p.intervalMs ?? 20), 1);
      await waitFor(() => seqs.length >= switchAt, 20000, `${switchAt} messages before the switch`);
      r.seqAtSwitch = seqs.length;
      r.wireAtSwitch = (await proxy('stats')).wire;
      await proxy(`mode?set=${p.switchMode}&cut=1`);
      r.switchedAt = Math.round(now() - t0);
      await waitFor(
        () => seqs.length >= count,
        Number(p.waitMs ?? 40000),
        () => `all ${count} messages (have ${seqs.length}, last ${seqs[seqs.length - 1]})`,
      );
      await waitFor(
        () => (client as any).transport === p.to,
        15000,
        () => `the client on ${p.to} after the switch (on ${(client as any).transport})`,
      );
      await sleep(300);
      r.seqs = seqs;
      r.wireAfter = (await proxy('stats')).wire;
      r.serverAfter = (await ctl.info()).metrics ?? null;
      if (p.restart) r.restart = await ctl.restartStatus();
      r.transportsUsed = obs.transports();
      r.drops = obs.dropsAfterConnected();
      Object.assign(r, snapshot(client));
    });
    r.log = (obs?.log ?? []).slice(-150);
    await safeClose(client);
    return plain(r);
  },

  // ---- presence between two pages: A starts (enters, listens), B runs, A finishes ----
  async 'presence-a'(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      client = make(p);
      const channel = `/e2e/${p.id}/room`;
      const pr = (client as any).presence(channel);
      const joins: unknown[] = [];
      const leaves: unknown[] = [];
      pr.on('join', (...args: unknown[]) => joins.push(plain(args)));
      pr.on('leave', (...args: unknown[]) => leaves.push(plain(args)));
      await within(Promise.resolve(pr.enter({ name: 'A' })), 10000, 'A enter');
      r.membersAtEnter = plain(await within(Promise.resolve(pr.members()), 10000, 'A members()'));
      // Tell the runner A is in, then wait for B to come and go.
      (window as any).__presenceA = { entered: true };
      await waitFor(
        () => JSON.stringify(leaves).includes('"B"'),
        Number(p.waitMs ?? 20000),
        'leave of B seen by A',
      );
      r.joins = joins;
      r.leaves = leaves;
      r.membersAfterLeave = plain(
        await within(Promise.resolve(pr.members()), 10000, 'A members() after B left'),
      );
      await within(Promise.resolve(pr.leave()), 10000, 'A leave');
      Object.assign(r, snapshot(client));
    });
    await safeClose(client);
    return r;
  },

  async 'presence-b'(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      client = make(p);
      const channel = `/e2e/${p.id}/room`;
      const pr = (client as any).presence(channel);
      await within(Promise.resolve(pr.enter({ name: 'B' })), 10000, 'B enter');
      r.membersWithB = plain(await within(Promise.resolve(pr.members()), 10000, 'B members()'));
      await sleep(300);
      await within(Promise.resolve(pr.leave()), 10000, 'B leave');
      Object.assign(r, snapshot(client));
    });
    await safeClose(client);
    return r;
  },

  // ---- durability (issue 14), against the harness's tight server (/push-tight: 1 s held
  // connects, 3 s session timeout, 10 messages of history), each through the case's own proxy ----

  /**
   * Page A of `presence-abrupt`: enters the presence set and stays (the client is kept open past
   * the scenario's end); the runner then turns A's proxy into a blackhole, so A vanishes without a
   * FIN while its client keeps trying.
   */
  async 'presence-abrupt-a'(p) {
    return await guarded(async (r) => {
      const client = make(p);
      (window as any).__abruptClient = client; // kept open on purpose: A must vanish, not leave
      const pr = (client as any).presence(`/e2e/${p.id}/room`);
      await within(Promise.resolve(pr.enter({ name: 'A' })), 10000, 'A enter');
      r.membersAtEnter = plain(await within(Promise.resolve(pr.members()), 10000, 'A members()'));
      Object.assign(r, snapshot(client));
    });
  },

  /**
   * Page B of `presence-abrupt` (direct, not through A's proxy): enters, sees A, raises
   * `__abruptB.ready` for the runner, and records when A leaves (`Date.now()`, the runner's clock
   * too) and what the server logged about A's session.
   */
  async 'presence-abrupt-b'(p) {
    let client: Client | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const since = Date.now();
      client = make(p);
      const pr = (client as any).presence(`/e2e/${p.id}/room`);
      const leaves: { at: number; member: unknown }[] = [];
      r.leaves = leaves;
      pr.on('leave', (member: unknown) => leaves.push({ at: Date.now(), member: plain(member) }));
      await within(Promise.resolve(pr.enter({ name: 'B' })), 10000, 'B enter');
      r.membersWithA = plain(await within(Promise.resolve(pr.members()), 10000, 'B members()'));
      r.bounds = (await ctl.info()).bounds ?? null;
      (window as any).__abruptB = { ready: true };
      const leftA = () => leaves.find((l) => JSON.stringify(l.member).includes('"name":"A"'));
      await waitFor(() => leftA() !== undefined, Number(p.waitMs ?? 15000), 'leave of A seen by B');
      r.leftAt = leftA()?.at;
      r.membersAfterLeave = plain(
        await within(Promise.resolve(pr.members()), 10000, 'B members() after A left'),
      );
      r.serverEvents = (await serverEvents(p, since)).filter((e) => e.clientId === p.aClientId);
      Object.assign(r, snapshot(client));
      await within(Promise.resolve(pr.leave()), 10000, 'B leave');
    });
    await safeClose(client);
    return r;
  },

  /**
   * `recovered-false`: a resuming subscription gets `before` messages; the page's own proxy turns
   * into a blackhole; while cut, `lost` messages are published (more than the history window) and
   * the server expires the session; the network comes back: the client must report
   * `recovered: false`, then deliver `after` new messages in order and nothing from the lost range.
   */
  async 'recovered-false'(p) {
    let client: Client | undefined;
    let obs: ReturnType<typeof observe> | undefined;
    const r = await guarded(async (r) => {
      const ctl = control(p);
      const proxy = (path: string) => fetch(`/__proxy/${path}`, { cache: 'no-store' }).then((x) => x.json());
      const [before, lost, after] = [Number(p.before ?? 5), Number(p.lost ?? 30), Number(p.after ?? 10)];
      const channel = `/e2e/${p.id}/window`;
      const publishRange = async (from: number, to: number) => {
        for (let seq = from; seq <= to; seq++) await ctl.publish(channel, { seq });
      };
      const since = Date.now();
      const t0 = now();
      // Reconnects soon after the network returns (the default backoff may wait up to 30 s).
      client = make(p, { backoff: { base: 50, max: 500 } });
      obs = observe(client, t0);
      const seqs: number[] = [];
      const recoveries: unknown[] = [];
      r.seqs = seqs;
      r.recoveries = recoveries;
      (client as any).on('recovered', (e: unknown) =>
        recoveries.push({ ...plain(e as object), seqsBefore: seqs.length }),
      );
      const sub = client.subscribe(channel, (data) => seqs.push(seqOf(data)));
      await within(sub.ready, 10000, 'sub.ready');
      r.bounds = (await ctl.info()).bounds ?? null;
      await publishRange(1, before);
      await waitFor(() => seqs.length >= before, 10000, `the first ${before} messages`);
      r.clientIdBefore = (client as any).clientId ?? null;
      r.transportBefore = (client as any).transport;
      await proxy('mode?set=blackhole');
      const cutAt = Date.now();
      await publishRange(before + 1, before + lost);
      // The server must forget the session (expired: no FIN reached it) before the network returns.
      const ended = await pollFor(
        async () =>
          (await serverEvents(p, since)).find(
            (e) => e.event === 'disconnect' && e.clientId === r.clientIdBefore,
          ),
        15000,
        `the server ending session ${r.clientIdBefore}`,
      );
      r.serverEnd = { ...ended, afterCutMs: ended.t - cutAt };
      r.serverDuringCut = (await ctl.info()).metrics;
      r.proxyDuringCut = await proxy('stats');
      await proxy('mode?set=pass&cut=1');
      const restoredAt = Date.now();
      await waitFor(() => recoveries.length >= 1, 15000, 'a recovered event after the network returned');
      r.recoveredMs = Date.now() - restoredAt;
      await publishRange(before + lost + 1, before + lost + after);
      const last = before + lost + after;
      await waitFor(
        () => seqs.includes(last),
        10000,
        () => `message ${last} after the gap (have ${JSON.stringify(seqs)})`,
      );
      await sleep(300);
      r.seqs = seqs;
      r.clientIdAfter = (client as any).clientId ?? null;
      r.serverEvents = await serverEvents(p, since);
      r.serverAfter = (await ctl.info()).metrics;
      r.drops = obs.dropsAfterConnected();
      Object.assign(r, snapshot(client));
    });
    r.log = (obs?.log ?? []).slice(-100);
    await safeClose(client);
    return plain(r);
  },
};

const pending = new Map<string, Promise<Result>>();
let nextHandle = 1;

async function run(name: string, params: ScenarioParams): Promise<Result> {
  const fn = scenarios[name];
  if (!fn) return { error: `unknown scenario ${name}` };
  const { token: _token, ...shown } = params;
  console.info(`[e2e] ${name} start ${JSON.stringify(shown)}`);
  let result: Result;
  try {
    result = plain(await fn(params));
  } catch (e) {
    result = { error: errorText(e) };
  }
  console.info(`[e2e] ${name} ${result.error ? `ERROR ${result.error}` : 'done'}`);
  showOutcome(name, result);
  return result;
}

(window as any).e2e = {
  /** For debugging sessions only (not used by the runners). */
  __createClient: createClient,
  scenarios: Object.keys(scenarios),
  run,
  /** Starts a scenario without waiting; returns a handle for result(). */
  start(name: string, params: ScenarioParams): string {
    const handle = `h${nextHandle++}`;
    pending.set(handle, run(name, params));
    return handle;
  },
  result(handle: string): Promise<Result> {
    return pending.get(handle) ?? Promise.resolve({ error: `unknown handle ${handle}` });
  },
  /** For the runners: poll a flag set by a started scenario. */
  flag(name: string): unknown {
    return plain((window as any)[name] ?? null);
  },
};
(window as any).__e2eReady = true;
