import { definePackage } from '../../tooling/rollup.mjs';

// Every hook and the provider need a client component boundary (React Server Components). Rollup
// drops module-level directives when it bundles, so the directive goes on as a banner of each
// JavaScript output (ESM and CJS); the .d.ts build has no `banner` and is left alone.
const USE_CLIENT = "'use client';";
const configs = definePackage({ dir: import.meta.dirname, entries: { index: 'src/index.ts' }, bins: [] });

export default configs.map((config) => ({
  ...config,
  onwarn(warning, warn) {
    if (warning.code === 'MODULE_LEVEL_DIRECTIVE' && warning.message.includes('use client')) return;
    warn(warning);
  },
  output: [config.output]
    .flat()
    .map((output) => (output.banner === undefined ? output : { ...output, banner: USE_CLIENT })),
}));
