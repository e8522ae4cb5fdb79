// Top frames of a V8 CPU profile (.cpuprofile, as written by --cpu-prof or the scale phase's
// BENCH_SCALE_CPU_PROF): self time per function, then inclusive time of @push/server's own
// functions, so per-message work that grows with the number of subscribers shows by name.
//
//   node src/profile-top.mjs results/push-ws-scale.cpuprofile [rows=15]

import { readFileSync } from 'node:fs';
import path from 'node:path';

const [file, rowsArg = '15'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node src/profile-top.mjs <file.cpuprofile> [rows]');
  process.exit(2);
}
const ROWS = Number(rowsArg);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));

// Time per sample: the gap to the next one (the last sample gets the mean gap).
const self = new Map();
const deltas = profile.timeDeltas ?? [];
const total = (profile.endTime - profile.startTime) / 1000;
const mean = deltas.length ? total / deltas.length : 0;
for (let k = 0; k < profile.samples.length; k++) {
  const ms = k + 1 < deltas.length ? deltas[k + 1] / 1000 : mean;
  self.set(profile.samples[k], (self.get(profile.samples[k]) ?? 0) + ms);
}

const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const where = (cf) =>
  cf.url
    ? `${cf.url
        .replace(/^file:\/\//, '')
        .split('/node_modules/')
        .at(-1)
        .split('/packages/')
        .at(-1)}:${cf.lineNumber + 1}`
    : '';
const key = (cf) => `${cf.functionName || '(anonymous)'} ${where(cf)}`;

const bySelf = new Map();
const byInclusive = new Map();
let busy = 0;
for (const [id, ms] of self) {
  const node = nodes.get(id);
  const k = key(node.callFrame);
  bySelf.set(k, (bySelf.get(k) ?? 0) + ms);
  if (node.callFrame.functionName !== '(idle)') busy += ms;
  // Inclusive: every distinct function on this sample's stack gets its time once.
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const fk = key(nodes.get(at).callFrame);
    if (seen.has(fk)) continue;
    seen.add(fk);
    byInclusive.set(fk, (byInclusive.get(fk) ?? 0) + ms);
  }
}

const pct = (ms) => `${((100 * ms) / busy).toFixed(1)}%`;
const top = (map, filter = () => true) =>
  [...map]
    .filter(([k]) => filter(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, ROWS);

console.log(
  `${path.basename(file)}: ${total.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy (not idle); shares are of busy time`,
);
console.log('\nself time:');
for (const [k, ms] of top(bySelf, (k) => !k.startsWith('(idle)')))
  console.log(`  ${pct(ms).padStart(6)} ${ms.toFixed(0).padStart(6)} ms  ${k}`);
console.log('\ninclusive time, @push/server:');
for (const [k, ms] of top(byInclusive, (k) => /\bserver\/(dist|src)\//.test(k)))
  console.log(`  ${pct(ms).padStart(6)} ${ms.toFixed(0).padStart(6)} ms  ${k}`);
