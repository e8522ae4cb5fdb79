// Bundles the sharing test page, the SharedWorker script and the e2e harness server (unchanged, from src/harness) into
// node_modules/.cache/push-share/, straight from the workspace sources (condition @push/source).
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const e2e = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARE_BUILD = join(e2e, 'node_modules', '.cache', 'push-share');

export async function buildShare() {
  await mkdir(SHARE_BUILD, { recursive: true });
  const common = {
    bundle: true,
    conditions: ['@push/source'],
    sourcemap: 'inline',
    logLevel: 'error',
    target: 'es2022',
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: { 'share-page': join(e2e, 'src/pages/share-page.ts') },
      outdir: SHARE_BUILD,
      platform: 'browser',
      format: 'iife',
    }),
    // the SharedWorker script, from the package's export (source condition), as apps serve it
    build({
      ...common,
      entryPoints: { 'share-worker': '@push/client/share-worker' },
      outdir: SHARE_BUILD,
      platform: 'browser',
      format: 'iife',
    }),
    build({
      ...common,
      entryPoints: { harness: join(e2e, 'src/harness/harness.ts') },
      outdir: SHARE_BUILD,
      outExtension: { '.js': '.mjs' },
      platform: 'node',
      format: 'esm',
      target: 'node20',
      plugins: [
        {
          name: 'external',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (a) =>
              a.path.startsWith('@push/') ? undefined : { path: a.path, external: true },
            );
          },
        },
      ],
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    }),
  ]);
  return SHARE_BUILD;
}
