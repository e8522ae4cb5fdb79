#!/usr/bin/env node
// The `push-server` command. npm links a package's bin when it installs the package, and in this
// repository's workspaces only if the target exists at that moment: a bin pointing into dist/ is
// not linked in a fresh clone, where dist/ does not exist yet. So the bin is this committed file,
// which runs the built CLI, and says what to do when there is no build (Node 20 cannot run the
// TypeScript sources without a loader).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `push-server: @push/server is not built (${cli.pathname} is missing).\n` +
      'In the Push repository run `npm run build` (npm ci runs it for you unless scripts are off), then try again.\n',
  );
  process.exit(1);
}
const { run } = await import(cli.href);
run(process.argv.slice(2));
