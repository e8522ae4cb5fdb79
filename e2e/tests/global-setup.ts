// Builds the page and harness bundles, then starts one stack (harness servers + fault-injecting
// proxies) per worker slot; workers pick theirs by parallelIndex (tests/fixtures.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FullConfig } from '@playwright/test';
import { BUILD_DIR, startStack } from '../lib/stack.mjs';
import { buildAll } from '../scripts/build.mjs';

export const STACKS_FILE = join(BUILD_DIR, 'stacks.json');

export default async function globalSetup(config: FullConfig) {
  await buildAll({ quiet: true });
  const n = Math.max(1, config.workers);
  const stacks = [];
  for (let i = 0; i < n; i++) stacks.push(await startStack({ name: `pw${i}` }));
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
    await Promise.all(stacks.map((s) => s.stop()));
  };
}
