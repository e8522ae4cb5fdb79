// Tests run on source, without a build: the "@push/source" export condition points at src/.
import { defineConfig } from 'vitest/config';

export const sourceConditions = ['@push/source', 'module', 'node', 'import', 'default'];

export function definePackageTests(overrides = {}) {
  return defineConfig({
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: ['@push/source'] } },
    ...overrides,
    test: {
      include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      ...(overrides.test ?? {}),
    },
  });
}
