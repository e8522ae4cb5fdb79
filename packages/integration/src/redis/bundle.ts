/** Builds runnable bundles of a Push node (and the real CLI) for child processes. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

const common = {
  bundle: true,
  platform: 'node' as const,
  format: 'esm' as const,
  target: 'node20',
  conditions: ['@push/source'],
  // Optional native add-ons of ws; everything else is bundled so the output runs from anywhere.
  external: ['bufferutil', 'utf-8-validate'],
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'error' as const,
};

/** Paths of the bundles built into a fresh temporary directory. */
export interface Bundles {
  dir: string;
  /** `node <node>`: one server process on the Redis broker (see node-entry.ts). */
  node: string;
  /** `node <cli> --redis URL`: the real push-server CLI, finding @push/redis beside it. */
  cli: string;
}

export async function buildBundles(): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'push-redis-'));
  const node = join(dir, 'node.js');
  // Named cli.js so the CLI's "am I the entry script" check recognises it.
  const cli = join(dir, 'cli.js');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  const redisDir = join(dir, 'node_modules', '@push', 'redis');
  mkdirSync(redisDir, { recursive: true });
  writeFileSync(
    join(redisDir, 'package.json'),
    JSON.stringify({ name: '@push/redis', type: 'module', exports: './index.mjs' }),
  );
  const serverCli = resolve(here, '../../../server/src/cli.ts');
  await Promise.all([
    build({ ...common, entryPoints: [join(here, 'node-entry.ts')], outfile: node }),
    build({ ...common, entryPoints: [serverCli], outfile: cli }),
    build({
      ...common,
      entryPoints: [resolve(here, '../../../redis/src/index.ts')],
      outfile: join(redisDir, 'index.mjs'),
    }),
  ]);
  return { dir, node, cli };
}
