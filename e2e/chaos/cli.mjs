#!/usr/bin/env node
// npm run chaos -- [--seed N] [--clients N] [--messages N] [--channels N] [--rate N]
//                  [--broker memory|redis] [--profile full|issue]
// One chaos run (chaos.test.ts with CHAOS_CLI=1) of the given size; defaults are the issue's: 200
// clients over all four transports, 10 channels, 10,000 numbered messages (at 100 msg/s), every
// fault, the memory broker. Prints the schedule, then, last, the summary line ending
// `faults=N reconnects=N switches=N lost=N duplicated=N unrecovered=N`, and on failure the seed and
// the command that replays it.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const numbers = {
  '--seed': 'CHAOS_SEED',
  '--clients': 'CHAOS_CLIENTS',
  '--messages': 'CHAOS_MESSAGES',
  '--channels': 'CHAOS_CHANNELS',
  '--rate': 'CHAOS_RATE',
};
const words = {
  '--broker': ['CHAOS_BROKER', ['memory', 'redis']],
  '--profile': ['CHAOS_PROFILE', ['full', 'issue']],
};
const usage =
  'usage: npm run chaos -- [--seed N] [--clients N] [--messages N] [--channels N] [--rate N] ' +
  '[--broker memory|redis] [--profile full|issue]';
const summary = join(tmpdir(), `push-chaos-summary-${process.pid}.txt`);
const env = { ...process.env, CHAOS_CLI: '1', CHAOS_SUMMARY: summary };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const [flag, raw] = [args[i], args[i + 1]];
  if (numbers[flag] && Number.isInteger(Number(raw)) && Number(raw) > 0) env[numbers[flag]] = raw;
  else if (words[flag]?.[1].includes(raw)) env[words[flag][0]] = raw;
  else {
    console.error(`${usage}\n(got ${flag} ${raw})`);
    process.exit(2);
  }
}
// Drawn here, not in the run, so it can be printed whatever happens to the run.
env.CHAOS_SEED ??= String(randomInt(2 ** 31));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', '-c', 'chaos/vitest.config.mjs', 'chaos/chaos.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
const seconds = Math.round((Date.now() - started) / 1000);
const line = existsSync(summary) ? readFileSync(summary, 'utf8').trim().split('\n').at(-1) : undefined;
rmSync(summary, { force: true });
if (result.status !== 0) {
  const replay = args.filter((_, i) => args[i - (i % 2)] !== '--seed');
  console.error(
    `chaos FAILED after ${seconds} s, seed=${env.CHAOS_SEED}; replay: npm run chaos -- --seed ${env.CHAOS_SEED} ${replay.join(' ')}`,
  );
}
console.log(line ?? `chaos seed=${env.CHAOS_SEED} (no summary: the run did not finish, see above)`);
process.exit(result.status ?? 1);
