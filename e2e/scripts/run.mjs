#!/usr/bin/env node
// The whole e2e run (`npm run e2e` from the repo root or the e2e workspace):
// browsers present? -> build bundles -> Playwright (chromium, firefox) -> the WebKit runner ->
// the matrix (results/matrix.md, results/junit.xml). Every step runs even if an earlier one
// failed; exits non-zero on any failure, on a selected case that did not run or was skipped, and
// on filters that match nothing. See README.md for the options.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BROWSERS,
  optionsFromEnv,
  SCENARIOS,
  selectCases,
  selectedBrowsers,
  TRANSPORT_NAMES,
} from '../lib/selection.mjs';
import { E2E_ROOT } from '../lib/stack.mjs';
import { preflight, startTargetStack } from '../lib/target.mjs';

const USAGE = `Usage: npm run e2e -- [options]

  --target URL        run against an existing deployment's push endpoint (https://host/push)
                      instead of the local stack; PUSH_PUBLISH_KEY / PUSH_TOKEN from the environment
  --browsers LIST     ${BROWSERS.join(',')}
  --transports LIST   ${TRANSPORT_NAMES.join(',')}
  --scenarios LIST    ${SCENARIOS.join(',')}
  --grep TEXT         only cases whose title contains TEXT ("websocket › presence")
  --repeat N          run every selected case N times; the matrix reports each case's pass rate
  --seed N            seed of every randomized case (random-cuts), to replay a failure
  --workers N         Playwright workers (default 2; one local stack each)
  --pages-port N      with --target: port of the local page server (its origin http://127.0.0.1:N
                      must be allowed by a deployment that has an origins list; default: any)
  --list              print the selected cases (and the local-only ones) and exit
  -h, --help
`;

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    options: {
      target: { type: 'string' },
      browsers: { type: 'string' },
      transports: { type: 'string' },
      scenarios: { type: 'string' },
      grep: { type: 'string' },
      repeat: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      'pages-port': { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (e) {
  console.error(`e2e: ${e.message}\n\n${USAGE}`);
  process.exit(2);
}
const v = parsed.values;
if (v.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const env = { ...process.env };
const setEnv = (name, value) => {
  if (value !== undefined) env[name] = value;
};
setEnv('E2E_TARGET', v.target);
setEnv('E2E_BROWSERS', v.browsers);
setEnv('E2E_TRANSPORTS', v.transports);
setEnv('E2E_SCENARIOS', v.scenarios);
setEnv('E2E_GREP', v.grep);
setEnv('E2E_REPEAT', v.repeat);
setEnv('E2E_SEED', v.seed);
setEnv('E2E_WORKERS', v.workers);

let opts;
try {
  opts = optionsFromEnv(env);
} catch (e) {
  console.error(`e2e: ${e.message}`);
  process.exit(2);
}
env.E2E_TARGET = opts.target ?? '';
const { selected, localOnly } = selectCases(opts);
const browsers = selectedBrowsers(opts);
const describe = () =>
  [
    opts.target ? `target ${opts.target}` : 'local stack',
    `browsers ${browsers.join(',')}`,
    opts.transports.length ? `transports ${opts.transports.join(',')}` : '',
    opts.scenarios.length ? `scenarios ${opts.scenarios.join(',')}` : '',
    opts.grep ? `grep "${opts.grep}"` : '',
    opts.repeat > 1 ? `repeat ${opts.repeat}` : '',
    opts.seed !== undefined ? `seed ${opts.seed}` : '',
  ]
    .filter(Boolean)
    .join('; ');

if (v.list || selected.length === 0) {
  console.log(`e2e: ${describe()}`);
  console.log(`selected (${selected.length} per browser x ${browsers.length} browsers x ${opts.repeat}):`);
  for (const c of selected) console.log(`  ${c.title}`);
  if (localOnly.length) {
    console.log(`local only, not run against ${opts.target} (${localOnly.length}):`);
    for (const c of localOnly) console.log(`  ${c.title}: ${c.reason}`);
  }
  if (selected.length === 0) {
    console.error(
      `e2e: FAILED: the filters matched no case that can run here${localOnly.length ? ' (every match is local only)' : ''}`,
    );
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  }
  process.exit(0);
}

const RESULTS = join(E2E_ROOT, 'results');
const RAW = join(RESULTS, 'raw');

/** Runs a step with inherited output; resolves its exit code. */
function step(label, command, args) {
  const t = Date.now();
  console.log(`\n--- e2e ${label}: ${command} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: E2E_ROOT, env, stdio: 'inherit' });
    child.on('close', (code, signal) => {
      const rc = code ?? (signal ? 1 : 0);
      console.log(`--- e2e ${label}: exit ${rc} after ${Math.round((Date.now() - t) / 1000)} s`);
      resolve(rc);
    });
  });
}

const t0 = Date.now();
console.log(`e2e: ${describe()}; ${selected.length} cases per browser`);
rmSync(RAW, { recursive: true, force: true });
rmSync(join(RESULTS, 'artifacts'), { recursive: true, force: true });
mkdirSync(RAW, { recursive: true });

let rc = 0;
if ((await step('browsers', 'bash', ['scripts/ensure-browsers.sh'])) !== 0) process.exit(1);

let metrics = { metrics: true };
let targetStack;
if (opts.target) {
  // One page server for the run (both runners use it): a single Origin for the deployment to allow.
  try {
    targetStack = await startTargetStack({
      name: 'pages',
      target: opts.target,
      publishKey: process.env.PUSH_PUBLISH_KEY,
      token: process.env.PUSH_TOKEN,
      port: v['pages-port'] ? Number(v['pages-port']) : 0,
    });
    metrics = await preflight(opts.target, process.env.PUSH_PUBLISH_KEY, targetStack.info.pages);
  } catch (e) {
    console.error(`e2e: FAILED: ${opts.target} is not usable: ${e.message}`);
    console.log('e2e: 0 passed, 1 failed');
    await targetStack?.stop();
    process.exit(1);
  }
  console.log(
    `e2e: ${opts.target} answers a handshake and accepts publishes; pages from ${targetStack.info.pages} (clients use credentials: '${metrics.credentials}'); server metrics ${metrics.metrics ? 'reachable' : `not reachable (${metrics.metricsReason}): server-side counts are local only`}`,
  );
  env.E2E_TARGET_STACK = JSON.stringify({
    ...targetStack.info,
    metrics: metrics.metrics,
    credentials: metrics.credentials,
  });
}

writeFileSync(
  join(RAW, 'selection.json'),
  JSON.stringify(
    {
      startedAt: new Date().toISOString(),
      target: opts.target ?? null,
      browsers,
      repeat: opts.repeat,
      seed: opts.seed ?? null,
      filters: { transports: opts.transports, scenarios: opts.scenarios, grep: opts.grep ?? null },
      serverMetrics: metrics,
      cases: selected.map((c) => ({ title: c.title, transport: c.transport, scenario: c.scenario })),
      localOnly: localOnly.map((c) => ({
        title: c.title,
        transport: c.transport,
        scenario: c.scenario,
        reason: c.reason,
      })),
    },
    null,
    2,
  ),
);

if ((await step('build', process.execPath, ['scripts/build.mjs'])) !== 0) process.exit(1);

const pwProjects = browsers.filter((b) => b !== 'webkit');
if (pwProjects.length) {
  const args = ['playwright', 'test', ...pwProjects.flatMap((p) => ['--project', p])];
  if (opts.repeat > 1) args.push('--repeat-each', String(opts.repeat));
  if ((await step('playwright', 'npx', args)) !== 0) rc = 1;
}
if (browsers.includes('webkit')) {
  if ((await step('webkit', process.execPath, ['webkit/run.mjs', '--no-build'])) !== 0) rc = 1;
}
if (targetStack) {
  writeFileSync(
    join(RAW, 'server-target.json'),
    JSON.stringify([{ stack: 'pages', metrics: (await targetStack.serverMetrics()) ?? null }], null, 2),
  );
  await targetStack.stop();
}
if ((await step('matrix', process.execPath, ['scripts/matrix.mjs'])) !== 0) rc = 1;

console.log(`\ne2e: finished in ${Math.round((Date.now() - t0) / 1000)} s (${describe()})`);
console.log('  HTML report (chromium, firefox): e2e/playwright-report/index.html');
console.log('  JUnit (all engines):             e2e/results/junit.xml');
console.log('  matrix:                          e2e/results/matrix.md');
console.log('  WebKit failure artifacts:        e2e/results/artifacts/webkit/');
// The matrix step printed the closing "e2e: N passed, N failed" line; repeat it last.
try {
  const summary = JSON.parse(readFileSync(join(RESULTS, 'summary.json'), 'utf8'));
  console.log(`e2e: ${summary.passed} passed, ${summary.failed} failed`);
} catch {
  console.log('e2e: 0 passed, 1 failed');
  rc = 1;
}
process.exit(rc);
