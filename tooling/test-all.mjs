#!/usr/bin/env node
// The README's test command: lint, typecheck, the publishable packages' publint and
// are-the-types-wrong checks, every package's unit, integration, interop and size tests through
// turbo, then the cross-browser e2e suite. Prints one closing line: "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes from child output
const ANSI = /\u001b\[[0-9;]*m/g;
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

/** Runs a command, streaming its output, and returns its exit code and full text. */
function run(label, command, args) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let text = '';
    const forward = (stream) => (chunk) => {
      stream.write(chunk);
      text += chunk.toString();
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    child.on('close', (code) => resolve({ code: code ?? 1, text: text.replace(ANSI, '') }));
  });
}

/** Adds up vitest's "Tests  N passed | M failed" lines and Playwright's "N passed" / "N failed" lines. */
function count(text) {
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const rawLine of text.split('\n')) {
    // turbo prefixes each line with "<package>:<task>: "
    const line = rawLine.replace(/^[^\s:]+:[\w:-]+:\s?/, '');
    const vitest = /^\S*\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line);
    if (vitest) {
      for (const [, n, kind] of vitest[1].matchAll(/(\d+) (passed|failed|skipped)/g)) sum[kind] += Number(n);
      continue;
    }
    const summary = /^\s*(?:[\w-]+:\s+)?(\d+) (passed|failed|skipped|flaky)\b(?: \(.*\))?\s*$/.exec(line);
    if (summary) sum[summary[2] === 'flaky' ? 'passed' : summary[2]] += Number(summary[1]);
    const plain = /^\s*(?:[\w-]+:\s+)?(\d+) passed, (\d+) failed\s*$/.exec(line);
    if (plain) {
      sum.passed += Number(plain[1]);
      sum.failed += Number(plain[2]);
    }
  }
  return sum;
}

/** The e2e runner prints per-runner lines and then its own total: count only the total. */
function countE2e(text) {
  const totals = [...text.matchAll(/^e2e: (\d+) passed, (\d+) failed\s*$/gm)].at(-1);
  if (!totals) return { passed: 0, failed: 0, skipped: 0 };
  return { passed: Number(totals[1]), failed: Number(totals[2]), skipped: 0 };
}

async function step(label, command, args, counter = count) {
  const { code, text } = await run(label, command, args);
  const counted = counter(text);
  for (const key of Object.keys(totals)) totals[key] += counted[key];
  if (code !== 0) {
    failures.push(`${label} (exit ${code})`);
    if (counted.failed === 0) totals.failed += 1; // a crash with no failed test still fails the run
  }
}

const e2ePackage = JSON.parse(readFileSync(new URL('../e2e/package.json', import.meta.url), 'utf8'));
const hasE2e = Boolean(e2ePackage.scripts?.e2e);
if (hasE2e && existsSync(new URL('../e2e/scripts/ensure-browsers.sh', import.meta.url))) {
  await step('browsers', 'bash', ['e2e/scripts/ensure-browsers.sh']);
}
await step('lint', 'npx', ['biome', 'check', '.']);
await step('typecheck', 'npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']);
// Every publishable package as published: publint and are-the-types-wrong on its packed tarball.
await step('package checks (publint, are-the-types-wrong)', 'node', ['tooling/check-packages.mjs']);
await step('unit, integration, interop, size', 'npx', [
  'turbo',
  'run',
  'test',
  // Two packages at a time on this 2-core machine: each vitest runs its own workers, and the
  // multi-process Redis suites and the demo's browser tests time real sockets and restarts.
  '--concurrency=2',
  '--output-logs=full',
  '--log-order=grouped',
  '--continue',
]);
if (hasE2e)
  await step(
    'end-to-end (chromium, firefox, webkit)',
    'npm',
    ['run', 'e2e', '--workspace', '@push/e2e'],
    countE2e,
  );

// Connection sharing across tabs (issue 16): 8 tabs of one browser context in Chromium and Firefox.
if (hasE2e && e2ePackage.scripts?.['e2e:share'])
  await step('shared connection across tabs (chromium, firefox)', 'npm', [
    'run',
    'e2e:share',
    '--workspace',
    '@push/e2e',
  ]);

console.log('');
if (failures.length > 0) console.log(`Failed steps: ${failures.join('; ')}`);
console.log(
  `${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`,
);
process.exit(failures.length > 0 || totals.failed > 0 ? 1 : 0);
