import { resolve as resolvePath } from 'node:path';
import nodeResolve from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { definePackage } from '../../tooling/rollup.mjs';

const dir = import.meta.dirname;

/**
 * `@push/client/share-worker`: the SharedWorker script of `share: { worker }`, one self-contained
 * file (the client and its dependencies bundled in, an IIFE: it runs as a classic or a module
 * worker and an app can serve it as it is). `.js` and `.cjs` are the same script; the typings say
 * it exports nothing.
 */
const shareWorker = {
  input: resolvePath(dir, 'src/share/worker-entry.ts'),
  plugins: [
    {
      // One file: the real modules in place of the on-demand stand-ins (see src/eager.ts).
      name: 'share-worker-eager',
      resolveId(source, importer) {
        if (source === './lazy.js' && importer === resolvePath(dir, 'src/index.ts'))
          return resolvePath(dir, 'src/eager.ts');
        return null;
      },
    },
    nodeResolve({ browser: true }),
    typescript({
      tsconfig: resolvePath(dir, 'tsconfig.json'),
      compilerOptions: {
        declaration: false,
        declarationMap: false,
        sourceMap: true,
        noEmit: false,
        outDir: resolvePath(dir, 'dist'),
      },
      include: [resolvePath(dir, 'src/**/*')],
      exclude: ['**/*.test.ts'],
    }),
    {
      name: 'share-worker-types',
      generateBundle() {
        const text = '// The SharedWorker script of `share: { worker }`: it exports nothing.\nexport {};\n';
        this.emitFile({ type: 'asset', fileName: 'share-worker.d.ts', source: text });
        this.emitFile({ type: 'asset', fileName: 'share-worker.d.cts', source: text });
      },
    },
  ],
  // Nothing is loaded on demand here (see src/eager.ts); inlining is what an IIFE requires anyway.
  output: ['share-worker.js', 'share-worker.cjs'].map((entryFileNames) => ({
    dir: resolvePath(dir, 'dist'),
    format: 'iife',
    entryFileNames,
    sourcemap: true,
    inlineDynamicImports: true,
  })),
};

export default [
  ...definePackage({
    dir,
    entries: {
      index: 'src/index.ts',
      node: 'src/node.ts',
      websocket: 'src/websocket-only.ts',
      share: 'src/share/index.ts',
      persist: 'src/persist/index.ts',
    },
    bins: [],
  }),
  shareWorker,
];
