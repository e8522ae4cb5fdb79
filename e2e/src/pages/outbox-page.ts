// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
// Publish exactly once across a page reload (issue 14), in page: `outbox.html` runs scenario
// `outbox-reload` for the runners (the counter), and, as `outbox.html?publisher#<params>` in an
// iframe, the publisher that reloads itself.
//
// The publisher attaches `indexedDbOutbox` to its client, publishes 1..5 and waits for their acks,
// then goes deaf (see `deafen`), publishes 6..10 in one burst and reloads in the same task: the
// burst reaches the server (most or all of it) but no ack of it reaches the page. The reloaded
// publisher attaches the same outbox: it sends 6..10 again with their keys (the server publishes
// each key once), then publishes 11..15. The counter, a second client subscribed to the channel,
// must see 1..15 once each. The reload is the iframe document's own `location.reload()`: a real
// reload (new document, new client, only IndexedDB carries over) that the runners need not drive.
import { createClient, eventSource, iframe } from '@push/client';
import { indexedDbOutbox } from '@push/client/persist';
import {
  errorText,
  installPageLog,
  plain,
  type ScenarioParams,
  showOutcome,
  sleep,
  waitFor,
  within,
} from './common.js';

installPageLog();

type Client = ReturnType<typeof createClient>;
type Result = Record<string, unknown> & { error?: string };

const BEFORE = 5; // acknowledged before the reload
const BURST = 5; // published in the task that reloads
const AFTER = 5; // published by the reloaded page
export const TOTAL = BEFORE + BURST + AFTER;

/**
 * After `deafen()` the publisher's client hears nothing more: WebSocket frames and HTTP responses
 * that come back are dropped, while what it sends still reaches the server. So the burst is
 * published on the server but its acks are lost, as when a page reloads before they come back
 * (a reloading document keeps running until the new one arrives: real acks could still land).
 */
let deaf = false;
const deafen = () => {
  deaf = true;
};
class DeafenableWebSocket {
  private ws: WebSocket;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: unknown) => void) | null = null;
  onclose: ((e: unknown) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onopen = (e) => this.onopen?.(e);
    this.ws.onmessage = (e) => deaf || this.onmessage?.(e);
    this.ws.onclose = (e) => this.onclose?.(e);
    this.ws.onerror = (e) => this.onerror?.(e);
  }
  get readyState() {
    return this.ws.readyState;
  }
  get bufferedAmount() {
    return this.ws.bufferedAmount;
  }
  send(data: string) {
    this.ws.send(data);
  }
  close(code?: number, reason?: string) {
    this.ws.close(code, reason);
  }
}
const deafenableFetch: typeof fetch = (input, init) => {
  const response = fetch(input, init);
  return deaf ? new Promise<Response>(() => {}) : response;
};

function make(p: ScenarioParams, extra: Record<string, unknown> = {}): Client {
  const idle = typeof p.streamIdleTimeout === 'number' ? p.streamIdleTimeout : undefined;
  const streams: Record<string, () => unknown> = {
    eventsource: () => eventSource({ idleTimeout: idle }),
    iframe: () => iframe(undefined, { idleTimeout: idle }),
  };
  const options: Record<string, unknown> = { url: p.url, ...extra };
  if (p.transports) options.transports = p.transports.map((t) => streams[t]?.() ?? t);
  if (p.token) options.auth = { token: p.token };
  if (p.credentials) options.credentials = p.credentials;
  const client = createClient(options as any);
  client.on('error', (e) => console.warn('[outbox] client error', errorText(e)));
  return client;
}

const channelOf = (p: ScenarioParams) => `/e2e/${p.id}/outbox`;

function connected(client: Client): Promise<void> {
  return within(
    waitFor(() => client.state === 'connected', 10_000, 'connected'),
    11_000,
    'client connected',
  );
}

/** What the publisher tells the counter (its parent, same origin). */
function report(event: Record<string, unknown>) {
  (window.parent as any).__outboxReport?.(plain(event));
}

/** The publisher, in the iframe: phase 1 before the reload, phase 2 after it. */
async function publisher(p: ScenarioParams) {
  const phaseKey = `push-e2e-outbox-phase:${p.id}`;
  const reloaded = sessionStorage.getItem(phaseKey) === 'reloaded';
  const outbox = indexedDbOutbox({ name: `e2e-${p.id}` });
  const client = outbox.attach(
    make(p, reloaded ? {} : { WebSocket: DeafenableWebSocket, fetch: deafenableFetch }),
  );
  const channel = channelOf(p);
  const kept = await outbox.kept;
  await connected(client);
  if (!reloaded) {
    for (let n = 1; n <= BEFORE; n++) await within(client.publish(channel, { n }), 10_000, `ack of ${n}`);
    report({ phase: 'before-reload', kept, clientId: client.clientId, transport: client.transport });
    sessionStorage.setItem(phaseKey, 'reloaded');
    deafen();
    for (let n = BEFORE + 1; n <= BEFORE + BURST; n++) void client.publish(channel, { n }).catch(() => {});
    location.reload(); // in the same task: the burst is still in the outbox
    return;
  }
  const restored = await within(outbox.restored, 10_000, 'outbox.restored');
  report({
    phase: 'restored',
    kept,
    clientId: client.clientId,
    transport: client.transport,
    sent: restored.sent.map((r) => (r.data as { n: number }).n),
    expired: restored.expired.length,
  });
  const settled = await Promise.allSettled(restored.sent.map((r) => r.settled));
  const refused = settled
    .filter((s) => s.status === 'rejected')
    .map((s) => errorText((s as PromiseRejectedResult).reason));
  for (let n = BEFORE + BURST + 1; n <= TOTAL; n++)
    await within(client.publish(channel, { n }), 10_000, `ack of ${n}`);
  report({ phase: 'done', refused });
  await client.close();
}

/** The counter (the runners' page): counts what the publisher's publishes deliver. */
async function outboxReload(p: ScenarioParams): Promise<Result> {
  const r: Result = {};
  const events: Record<string, unknown>[] = [];
  const received: number[] = [];
  // Each report notes how many messages the counter had then: at `restored` that is what arrived
  // before the reloaded page sent anything.
  (window as any).__outboxReport = (event: Record<string, unknown>) =>
    events.push({ ...event, seen: received.length });
  const counter = make(p);
  try {
    const sub = counter.subscribe(channelOf(p), (data: any) => received.push(data?.n));
    await within(sub.ready, 10_000, 'counter subscribed');
    r.transport = counter.transport;
    const frame = document.createElement('iframe');
    frame.src = `outbox.html?publisher#${encodeURIComponent(JSON.stringify(p))}`;
    document.body.append(frame);
    // Waits for the publisher's `name` report; a publisher that failed ends the wait with its error.
    const phase = async (name: string, what: string) => {
      await waitFor(() => events.some((e) => e.phase === name || e.phase === 'failed'), 20_000, what);
      const failed = events.find((e) => e.phase === 'failed');
      if (failed) throw new Error(`publisher: ${failed.error}`);
    };
    await phase('before-reload', 'the publisher to publish before its reload');
    await phase('restored', 'the reloaded publisher to load its outbox');
    await phase('done', 'the reloaded publisher to finish');
    await waitFor(
      () => received.length >= TOTAL,
      10_000,
      () => `${TOTAL} messages, got ${received.length}`,
    );
    await sleep(1000); // a duplicate would arrive in this time
    r.received = received;
    r.events = events;
  } catch (e) {
    r.error = errorText(e);
    r.events = events;
    r.received = received; // which number is missing or doubled
  } finally {
    await counter.close().catch(() => {});
  }
  return r;
}

const scenarios: Record<string, (p: ScenarioParams) => Promise<Result>> = { 'outbox-reload': outboxReload };
const pending = new Map<string, Promise<Result>>();
let nextHandle = 1;

async function run(name: string, params: ScenarioParams): Promise<Result> {
  const fn = scenarios[name];
  if (!fn) return { error: `unknown scenario ${name}` };
  const result = plain(await fn(params).catch((e: unknown): Result => ({ error: errorText(e) })));
  showOutcome(name, result);
  return result;
}

if (new URLSearchParams(location.search).has('publisher')) {
  const params = JSON.parse(decodeURIComponent(location.hash.slice(1))) as ScenarioParams;
  publisher(params).catch((e) => report({ phase: 'failed', error: errorText(e) }));
} else {
  (window as any).e2e = {
    scenarios: Object.keys(scenarios),
    run,
    start(name: string, params: ScenarioParams): string {
      const handle = `h${nextHandle++}`;
      pending.set(handle, run(name, params));
      return handle;
    },
    result: (handle: string) => pending.get(handle) ?? Promise.resolve({ error: `unknown handle ${handle}` }),
    flag: (name: string) => plain((window as any)[name] ?? null),
  };
  (window as any).__e2eReady = true;
}
