#!/usr/bin/env node
// npm run chaos -- [--seed N] [--clients N] [--messages N]: the Node chaos run (chaos/chaos.ts) with
// the given size; prints the schedule and, last, the summary line
// `chaos seed=N clients=N messages=N faults=N reconnects=N switches=N lost=N duplicated=N ...`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const names = { '--seed': 'CHAOS_SEED', '--clients': 'CHAOS_CLIENTS', '--messages': 'CHAOS_MESSAGES' };
const env = { ...process.env };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const name = names[args[i]];
  const value = Number(args[i + 1]);
  if (!name || !Number.isInteger(value) || value < 0) {
    console.error(
      `usage: npm run chaos -- [--seed N] [--clients N] [--messages N] (got ${args[i]} ${args[i + 1]})`,
    );
    process.exit(2);
  }
  env[name] = String(value);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const result = spawnSync('npx', ['vitest', 'run', '-c', 'chaos/vitest.config.mjs'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
