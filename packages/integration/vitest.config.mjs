import { definePackageTests } from '../../tooling/vitest.shared.mjs';

export default definePackageTests();
