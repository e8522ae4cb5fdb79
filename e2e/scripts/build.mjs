// Bundles the browser test pages and the node harness server with esbuild, straight from the
// workspace sources (export condition "@push/source" -> packages/*/src), no package build needed.

import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Bundles go where git and biome do not look. */
export const BUILD_DIR = join(root, 'node_modules', '.cache', 'push-e2e');
const out = BUILD_DIR;

/** Keep bare node_modules imports external for the node bundle, but inline @push/* sources. */
const externalNodeModules = {
  name: 'external-node-modules',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@push/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

export async function buildAll({ quiet = false } = {}) {
  await mkdir(out, { recursive: true });
  const common = {
    bundle: true,
    conditions: ['@push/source'],
    sourcemap: 'inline',
    logLevel: quiet ? 'error' : 'warning',
    target: 'es2022',
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: {
        'e2e-page': join(root, 'src/pages/e2e-page.ts'),
        'react-page': join(root, 'src/pages/react-page.tsx'),
        'outbox-page': join(root, 'src/pages/outbox-page.ts'),
      },
      outdir: out,
      platform: 'browser',
      format: 'iife',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
    }),
    build({
      ...common,
      entryPoints: { harness: join(root, 'src/harness/harness.ts') },
      outdir: out,
      outExtension: { '.js': '.mjs' },
      platform: 'node',
      format: 'esm',
      target: 'node20',
      plugins: [externalNodeModules],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    }),
  ]);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildAll();
  console.log(`e2e build: bundles written to ${out}`);
}
