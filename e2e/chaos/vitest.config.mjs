// The Node chaos run (chaos/*.test.ts): @push/client and @push/server from source, e2e's proxy.
import { definePackageTests } from '../../tooling/vitest.shared.mjs';

export default definePackageTests({ test: { include: ['chaos/**/*.test.ts'], testTimeout: 120_000 } });
