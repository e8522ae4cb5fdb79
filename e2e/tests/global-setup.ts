// Builds the page and harness bundles, then starts one stack per worker slot; workers pick theirs
// by parallelIndex (tests/fixtures.ts). Locally a stack is the harness servers + fault-injecting
// proxies; with --target every worker shares the page server scripts/run.mjs started.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FullConfig } from '@playwright/test';
import { BUILD_DIR, startStack } from '../lib/stack.mjs';
import { targetStackFromEnv } from '../lib/target.mjs';
import { buildAll } from '../scripts/build.mjs';

export const STACKS_FILE = join(BUILD_DIR, 'stacks.json');

export default async function globalSetup(config: FullConfig) {
  await buildAll({ quiet: true });
  const n = Math.max(1, config.workers);
  const target = targetStackFromEnv();
  const stacks: { info: unknown; stop(): Promise<void>; serverMetrics(): Promise<unknown> }[] = [];
  for (let i = 0; i < n; i++) stacks.push(target ?? (await startStack({ name: `pw${i}` })));
  await mkdir(BUILD_DIR, { recursive: true });
  await writeFile(
    STACKS_FILE,
    JSON.stringify(
      stacks.map((s) => s.info),
      null,
      2,
    ),
  );
  return async () => {
    if (target) return; // scripts/run.mjs owns the page server and reads the deployment's counters
    // The servers' own counters at the end, for the matrix's server-side section.
    const counters = await Promise.all(stacks.map((s) => s.serverMetrics()));
    await mkdir(join(process.cwd(), 'results', 'raw'), { recursive: true });
    await writeFile(
      join(process.cwd(), 'results', 'raw', 'server-playwright.json'),
      JSON.stringify(
        stacks.map((s, i) => ({ stack: (s.info as { name: string }).name, metrics: counters[i] ?? null })),
        null,
        2,
      ),
    );
    await Promise.all(stacks.map((s) => s.stop()));
  };
}
