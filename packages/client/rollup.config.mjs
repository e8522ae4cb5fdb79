import { definePackage } from '../../tooling/rollup.mjs';

export default definePackage({
  dir: import.meta.dirname,
  entries: { index: 'src/index.ts', websocket: 'src/websocket-only.ts', share: 'src/share/index.ts' },
  bins: [],
});
