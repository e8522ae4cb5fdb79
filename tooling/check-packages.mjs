#!/usr/bin/env node
// Checks every publishable package as it would be published: builds it (turbo, cached), then runs
// publint (--strict: a warning fails) and are-the-types-wrong on the `npm pack` tarball. The
// node16 profile: ESM and CJS consumers under node16/nodenext and bundlers (subpath exports such
// as @push/client/share cannot resolve under the pre-exports node10 algorithm, by design).
// Prints "packages: N passed, M failed" (one check = one tool on one package), which
// tooling/test-all.mjs counts.
import { spawnSync } from 'node:child_process';

const PACKAGES = ['protocol', 'server', 'client', 'react', 'redis'];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

const filters = PACKAGES.flatMap((name) => ['--filter', `@push/${name}`]);
const build = run('npx', ['turbo', 'run', 'build', ...filters, '--output-logs=errors-only']);
if (!build.ok) {
  console.log(build.output);
  console.log(`packages: 0 passed, ${PACKAGES.length * 2} failed`);
  process.exit(1);
}

let passed = 0;
let failed = 0;
for (const name of PACKAGES) {
  const dir = `packages/${name}`;
  for (const [tool, command, args] of [
    ['publint', 'npx', ['publint', '--strict', dir]],
    ['attw', 'npx', ['attw', '--pack', dir, '--profile', 'node16', '--format', 'ascii']],
  ]) {
    const { ok, output } = run(command, args);
    if (ok) passed++;
    else {
      failed++;
      console.log(output.trim());
    }
    console.log(`${ok ? 'ok  ' : 'FAIL'} @push/${name} ${tool}`);
  }
}
console.log(`packages: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
