// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
// Helpers shared by the in-page scenarios (bundled into the test pages).

export interface ScenarioParams {
  /** Push endpoint for this scenario, e.g. http://127.0.0.1:PORT/push (may be a proxy). */
  url: string;
  /** Harness control base (direct, CORS *), e.g. http://127.0.0.1:PORT/e2e-ctl */
  ctl: string;
  /** Supervisor control base (CORS *): restarts of the harness process, proxy stats. */
  stackCtl: string;
  /** Transports handed to createClient(); undefined = the client's default order. */
  transports?: string[];
  /** The transport under test (for naming), or 'default'. */
  transport: string;
  /** Unique id of this run: namespaces channels so runs never see each other's messages. */
  id: string;
  /** Against a deployment: hold a lease on the page server's /e2e/tick ticker while measuring. */
  tickerLease?: boolean;
  /** Sample the server's own metrics (connections by transport) while connected. */
  serverMetrics?: boolean;
  /** Handshake token for deployments that authenticate (PUSH_TOKEN). */
  token?: string;
  /** Seed of a randomized case (fault schedule and the client's jitter). */
  seed?: number;
  [key: string]: unknown;
}

export const now = () => performance.now();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves when `predicate()` holds (polled every 10 ms); rejects with `what` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!predicate()) {
    if (now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`,
      );
    }
    await sleep(10);
  }
}

/** Rejects with a timeout error if `p` does not settle within `timeoutMs`. */
export function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function post(base: string, path: string, body: unknown): Promise<any> {
  // text/plain keeps it a "simple" CORS request (no preflight).
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${path} -> HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

/** Server-side actions, executed by the harness (and by the supervisor for restarts). */
export function control(p: ScenarioParams) {
  return {
    publish: (channel: string, data: unknown) => post(p.ctl, '/publish', { channel, data }),
    /** Server publishes {seq: from..from+count-1} on `channel`, `perTick` messages every `intervalMs`. */
    stream: (channel: string, count: number, intervalMs = 5, perTick = 1) =>
      post(p.ctl, '/stream', { channel, count, intervalMs, perTick }),
    /** Server-initiated disconnect of the given clientId (or of every session when omitted). */
    disconnect: (clientId?: string) => post(p.ctl, '/disconnect', { clientId }),
    sessions: () => post(p.ctl, '/sessions', {}),
    /** Server info; `.metrics` is the server's own counters (push.metrics() or GET {path}/metrics). */
    info: () => post(p.ctl, '/info', {}),
    /** Against a deployment: keep the page server's 25 ms ticker on /e2e/tick running (or stop). */
    ticker: (on: boolean) => post(p.ctl, '/ticker', { on, id: p.id, ms: 60000 }),
    /** Supervisor: publish {seq} 1..count, restarting the harness process after `restartAt`. */
    restartStream: (channel: string, count: number, restartAt: number, intervalMs: number) =>
      post(p.stackCtl, '/restart-stream', { channel, count, restartAt, intervalMs }),
    restartStatus: () => post(p.stackCtl, '/restart-status', {}),
    proxyStats: () => post(p.stackCtl, '/proxy-stats', {}),
    resetProxyStats: () => post(p.stackCtl, '/proxy-reset', {}),
    /** Switch the cut proxy's fault injection on or off. */
    cutting: (on: boolean, opts: { dropNext?: boolean; seed?: number } = {}) =>
      post(p.stackCtl, '/proxy-cutting', { on, ...opts }),
  };
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** JSON-safe copy (drops functions, cycles become strings). */
export function plain<T>(v: T): T {
  try {
    return JSON.parse(JSON.stringify(v ?? null));
  } catch {
    return String(v) as unknown as T;
  }
}

/** Small deterministic PRNG (mulberry32), the same as the proxy's, for seeded client jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Keeps the page's console (and uncaught errors) in `window.__e2eLog`, so a runner without a
 * console API (WebKit over WebDriver) can save it when a case fails.
 */
export function installPageLog(): void {
  const w = window as any;
  if (w.__e2eLog) return;
  const log: string[] = [];
  w.__e2eLog = log;
  const t0 = performance.now();
  const add = (level: string, args: unknown[]) => {
    const text = args.map((a) => (typeof a === 'string' ? a : errorText(a))).join(' ');
    log.push(`${(performance.now() - t0).toFixed(0).padStart(6)} ms ${level} ${text}`);
    if (log.length > 3000) log.splice(0, 1000);
  };
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      add(level, args);
      original(...args);
    };
  }
  window.addEventListener('error', (e) => add('uncaught', [e.message]));
  window.addEventListener('unhandledrejection', (e) => add('unhandled-rejection', [errorText(e.reason)]));
}

/** Shows a scenario's outcome on the page, so a failure screenshot says what happened. */
export function showOutcome(name: string, result: Record<string, unknown>): void {
  const pre = document.createElement('pre');
  pre.style.whiteSpace = 'pre-wrap';
  pre.style.font = '12px monospace';
  const { error, ...rest } = result;
  pre.textContent = `${name}: ${error ? `ERROR ${error}` : 'done'}\n${JSON.stringify(rest).slice(0, 1500)}`;
  if (error) pre.style.color = '#b00';
  document.body.append(pre);
}
