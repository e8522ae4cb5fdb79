// size-limit checks, run by `npm test` after the build. A JS config (not package.json) for one
// reason: @size-limit/esbuild bundles without code splitting, so it inlines every `import()` and
// would count the chunks @push/client loads on demand as part of the first download. Here the
// first-download rows keep dynamic imports out (`firstLoad`), and each on-demand chunk has its own
// row that counts only what it adds to the first download (`onDemand`).
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';

/** The on-demand chunk `name` as the build names it (`dist/chunks/{name}-{hash}.js`). */
const chunk = (name) => {
  const file = readdirSync(new URL('dist/chunks', import.meta.url)).find((f) =>
    new RegExp(`^${name}-[\\w-]+\\.js$`).test(f),
  );
  if (!file) throw new Error(`no chunk ${name} in dist/chunks: build first, or update .size-limit.mjs`);
  return `dist/chunks/${file}`;
};

/**
 * Leaves `import()` out: what a user downloads before the client runs. As ESM, the format of
 * `dist/`: in size-limit's default format (an IIFE) esbuild adds its require/`__toESM` shims for
 * the external imports, 327 B gzip on the first download that no user downloads. (size-limit
 * subtracts its IIFE baselines, 46 B with `import` and 32 B without, where ESM's are 36 and 20 B:
 * the rows read 10-12 B low.)
 */
const firstLoad = (config) => ({
  ...config,
  format: 'esm',
  plugins: [
    {
      name: 'first-load',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) =>
          args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
        );
      },
    },
  ],
});

/** Counts only the chunk's own code: what it imports from the entry or its shared chunk is there already. */
const onDemand = (file) => (config) => ({
  ...firstLoad(config),
  plugins: [
    {
      name: 'on-demand',
      setup(build) {
        build.onResolve({ filter: /^\.\.?\// }, (args) =>
          args.importer && basename(args.importer) === basename(file)
            ? { path: args.path, external: true }
            : undefined,
        );
      },
    },
    ...firstLoad(config).plugins,
  ],
});

const fallback = chunk('fallback');
const presence = chunk('presence');
const outbox = chunk('outbox');

export default [
  {
    name: 'whole client, first download (WebSocket, negotiation, resume; the rest on demand)',
    path: 'dist/index.js',
    import: '{ createClient }',
    limit: '8.8 kB',
    gzip: true,
    modifyEsbuildConfig: firstLoad,
  },
  {
    name: 'on demand: fallback transports (SSE, long-polling, iframe) and the upgrader',
    path: fallback,
    limit: '3.31 kB',
    gzip: true,
    modifyEsbuildConfig: onDemand(fallback),
  },
  {
    name: 'on demand: presence (on its first use)',
    path: presence,
    limit: '500 B',
    gzip: true,
    modifyEsbuildConfig: onDemand(presence),
  },
  {
    name: 'on demand: the outbox (queue, idempotency keys; on the first publish)',
    path: outbox,
    limit: '510 B',
    gzip: true,
    modifyEsbuildConfig: onDemand(outbox),
  },
  {
    name: 'websocket-only entry',
    path: 'dist/websocket.js',
    import: '{ createClient }',
    limit: '7.65 kB',
    gzip: true,
    modifyEsbuildConfig: firstLoad,
  },
  {
    name: 'persist entry (indexedDbOutbox, opt-in)',
    path: 'dist/persist.js',
    import: '{ indexedDbOutbox }',
    limit: '1.25 kB',
    gzip: true,
  },
];
