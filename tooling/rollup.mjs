// One rollup factory for every package: ESM + CJS bundles and one bundled .d.ts per entry.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

/**
 * @param {object} options
 * @param {string} options.dir        package directory (pass `import.meta.dirname`)
 * @param {Record<string,string>} [options.entries]  output name -> source file; default { index: 'src/index.ts' }
 * @param {string[]} [options.bins] entries that are executables: they get a shebang line
 */
export function definePackage({ dir, entries = { index: 'src/index.ts' }, bins = [] }) {
  const pkg = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8'));
  const deps = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ];
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const external = (id) => builtins.has(id) || deps.some((d) => id === d || id.startsWith(`${d}/`));
  const input = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, resolve(dir, v)]));
  const tsPlugin = () =>
    typescript({
      tsconfig: resolve(dir, 'tsconfig.json'),
      compilerOptions: {
        declaration: false,
        declarationMap: false,
        sourceMap: true,
        noEmit: false,
        outDir: resolve(dir, 'dist'),
      },
      include: [resolve(dir, 'src/**/*')],
      exclude: ['**/*.test.ts', '**/*.test.tsx', '**/*.test-d.ts'],
    });
  const banner = (chunk) => (chunk.isEntry && bins.includes(chunk.name) ? '#!/usr/bin/env node' : '');
  return [
    {
      input,
      external,
      plugins: [tsPlugin()],
      output: [
        {
          dir: resolve(dir, 'dist'),
          format: 'es',
          entryFileNames: '[name].js',
          chunkFileNames: 'chunks/[name]-[hash].js',
          sourcemap: true,
          banner,
        },
        {
          dir: resolve(dir, 'dist'),
          format: 'cjs',
          entryFileNames: '[name].cjs',
          chunkFileNames: 'chunks/[name]-[hash].cjs',
          sourcemap: true,
          exports: 'named',
          banner,
        },
      ],
    },
    {
      input,
      external,
      plugins: [dts({ tsconfig: resolve(dir, 'tsconfig.json') })],
      // The same declarations twice: .d.ts for `import` and .d.cts for `require`. In a "type":
      // "module" package a .d.ts is read as ESM, so a CommonJS consumer needs its own .d.cts
      // (are-the-types-wrong: "masquerading as ESM").
      output: [
        {
          dir: resolve(dir, 'dist'),
          format: 'es',
          entryFileNames: '[name].d.ts',
          chunkFileNames: 'chunks/[name]-[hash].d.ts',
        },
        {
          dir: resolve(dir, 'dist'),
          format: 'es',
          entryFileNames: '[name].d.cts',
          chunkFileNames: 'chunks/[name]-[hash].d.cts',
        },
      ],
    },
  ];
}
