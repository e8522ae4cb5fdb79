// What a run selects: the options QA gives `npm run e2e -- ...` (scripts/run.mjs), handed to both
// runners through E2E_* environment variables, and the resulting case list per browser.
//
//   E2E_TARGET      push endpoint of an existing deployment (https://host/push); unset = local stack
//   E2E_BROWSERS    chromium,firefox,webkit
//   E2E_TRANSPORTS  websocket,eventsource,long-polling,iframe,default
//   E2E_SCENARIOS   connect,subscribe-plain,...
//   E2E_REPEAT      run every selected case N times
//   E2E_SEED        seed of every randomized case (random-cuts); unset = a fresh seed per case
//   E2E_GREP        substring of the case title ("websocket › presence")
import { cases, TRANSPORTS } from './scenarios.mjs';

export const BROWSERS = ['chromium', 'firefox', 'webkit'];
/** Transport names a case can be selected by: forced transports and the client's default order. */
export const TRANSPORT_NAMES = [...TRANSPORTS, 'default'];
export const SCENARIOS = [...new Set(cases().map((c) => c.scenario))];

const list = (v) =>
  String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Throws when a name is not one of `known`, naming the valid ones. */
function checkNames(kind, names, known) {
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown ${kind}: ${unknown.join(', ')} (valid: ${known.join(', ')})`);
  return names;
}

/** Normalises a push endpoint URL (no trailing slash); throws on anything but http(s). */
export function normaliseTarget(target) {
  if (!target) return undefined;
  let u;
  try {
    u = new URL(target);
  } catch {
    throw new Error(`--target must be a URL like https://host/push, got ${JSON.stringify(target)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`--target must be http(s)://host/path, got ${target}`);
  return u.href.replace(/\/$/, '');
}

/** The run's options from the environment (set by scripts/run.mjs; every one optional). */
export function optionsFromEnv(env = process.env) {
  const repeat = env.E2E_REPEAT ? Number(env.E2E_REPEAT) : 1;
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new Error(`--repeat must be >= 1, got ${env.E2E_REPEAT}`);
  let seed;
  if (env.E2E_SEED !== undefined && env.E2E_SEED !== '') {
    seed = Number(env.E2E_SEED);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new Error(`--seed must be an integer 0..2^32-1, got ${env.E2E_SEED}`);
  }
  return {
    target: normaliseTarget(env.E2E_TARGET),
    browsers: checkNames('browser', list(env.E2E_BROWSERS), BROWSERS),
    transports: checkNames('transport', list(env.E2E_TRANSPORTS), TRANSPORT_NAMES),
    scenarios: checkNames('scenario', list(env.E2E_SCENARIOS), SCENARIOS),
    repeat,
    seed,
    grep: env.E2E_GREP || undefined,
  };
}

/** The browsers a run covers (all when none were named). */
export const selectedBrowsers = (opts) => (opts.browsers.length ? opts.browsers : BROWSERS);

/**
 * Why a case cannot run against a deployment, or undefined when it can: cases through the fault
 * proxies, the restartable harness or the harness's disconnect control need the local stack.
 */
export function localOnlyReason(kase) {
  if (kase.local) return kase.local;
  if (kase.via !== 'direct') return `fault-injecting proxy (${kase.via})`;
  return undefined;
}

/**
 * Splits the matrix for one run: `selected` (in order) and `localOnly` (matched the filters but
 * needs the local stack; only with a target). Filters: transports (a case matches when its label
 * or one of the transports it negotiates is named), scenarios, grep.
 */
export function selectCases(opts) {
  const matches = (c) =>
    (opts.transports.length === 0 ||
      opts.transports.includes(c.transport) ||
      (c.transports ?? []).some((t) => opts.transports.includes(t))) &&
    (opts.scenarios.length === 0 || opts.scenarios.includes(c.scenario)) &&
    (!opts.grep || c.title.includes(opts.grep));
  const selected = [];
  const localOnly = [];
  for (const c of cases()) {
    if (!matches(c)) continue;
    const reason = opts.target ? localOnlyReason(c) : undefined;
    if (reason) localOnly.push({ ...c, reason });
    else selected.push(c);
  }
  return { selected, localOnly };
}

/** The command that replays one case of one browser (with its seed, if it had one). */
export function replayCommand({ browser, transport, scenario, seed, target }) {
  const parts = ['npm run e2e --'];
  if (target) parts.push(`--target ${target}`);
  parts.push(`--browsers ${browser}`);
  if (transport && transport !== '-') parts.push(`--transports ${transport.split(',')[0]}`);
  if (scenario) parts.push(`--scenarios ${scenario}`);
  if (seed !== undefined) parts.push(`--seed ${seed}`);
  return parts.join(' ');
}
