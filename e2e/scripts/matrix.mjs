// Merges results/raw/{playwright,webkit}.json into the browser x transport x scenario matrix with
// the measurements, prints it, and writes results/matrix.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const raw = join(root, 'results', 'raw');
const BROWSERS = ['chromium', 'firefox', 'webkit'];

const rows = [];
const missing = [];
for (const f of ['playwright.json', 'webkit.json']) {
  const p = join(raw, f);
  if (!existsSync(p)) {
    missing.push(f);
    continue;
  }
  rows.push(...JSON.parse(readFileSync(p, 'utf8')).rows);
}

const key = (r) => `${r.transport} | ${r.scenario}`;
const keys = [...new Set(rows.map(key))];
const cell = (b, k) => {
  const r = rows.filter((x) => x.browser === b && key(x) === k);
  if (r.length === 0) return '—';
  return r.every((x) => x.status === 'pass') ? 'pass' : 'FAIL';
};
const browsersSeen = BROWSERS.filter((b) => rows.some((r) => r.browser === b) || true);
const fmt = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(2)} s` : '—');
const metric = (b, transport, scenario, name) =>
  rows.find(
    (r) => r.browser === b && r.transport === transport && r.scenario === scenario && r.status === 'pass',
  )?.metrics?.[name];
const failMetric = (b, transport, scenario) =>
  rows.find((r) => r.browser === b && r.transport === transport && r.scenario === scenario);

const lines = [];
lines.push('# Push e2e matrix', '');
lines.push(
  `Generated ${new Date().toISOString()}. Browsers: Chromium (Playwright), Firefox ESR (Playwright, WebDriver BiDi), WebKitGTK MiniBrowser (WebKitWebDriver).`,
  '',
);
if (missing.length) lines.push(`**Missing results:** ${missing.join(', ')} (runner did not finish)`, '');

const passed = rows.filter((r) => r.status === 'pass').length;
const failed = rows.filter((r) => r.status !== 'pass').length;
lines.push('## Summary', '', '| browser | passed | failed |', '|---|---|---|');
for (const b of browsersSeen) {
  const rs = rows.filter((r) => r.browser === b);
  lines.push(
    `| ${b} | ${rs.filter((r) => r.status === 'pass').length} | ${rs.filter((r) => r.status !== 'pass').length}${rs.length === 0 ? ' (not run)' : ''} |`,
  );
}
lines.push('');

lines.push(
  '## Browser x transport x scenario',
  '',
  `| transport | scenario | ${browsersSeen.join(' | ')} |`,
  `|---|---|${browsersSeen.map(() => '---').join('|')}|`,
);
for (const k of keys) {
  const [transport, scenario] = k.split(' | ');
  lines.push(`| ${transport} | ${scenario} | ${browsersSeen.map((b) => cell(b, k)).join(' | ')} |`);
}
lines.push('');

lines.push(
  '## Time to fall back (createClient() -> first message on the next transport; median of reps)',
  '',
);
lines.push(`| case | ${browsersSeen.join(' | ')} |`, `|---|${browsersSeen.map(() => '---').join('|')}|`);
for (const [label, transport, scenario] of [
  ['WebSocket refused (-> eventsource)', 'default', 'ws-refused'],
  ['WebSocket accepted, then silent (-> eventsource)', 'default', 'ws-silent'],
  ['buffering proxy (-> long-polling)', 'default', 'buffering-proxy'],
  ['buffering proxy, iframe first (-> long-polling)', 'iframe,long-polling', 'buffering-proxy'],
]) {
  const cells = browsersSeen.map((b) => {
    const v = metric(b, transport, scenario, 'fallbackMedianMs');
    if (v !== undefined) return fmt(v);
    const r = failMetric(b, transport, scenario);
    return r ? `FAIL` : '—';
  });
  lines.push(`| ${label} | ${cells.join(' | ')} |`);
}
lines.push('');

lines.push('## Median time from createClient() to first message (5 connections each, forced transport)', '');
lines.push(`| transport | ${browsersSeen.join(' | ')} |`, `|---|${browsersSeen.map(() => '---').join('|')}|`);
for (const t of ['websocket', 'eventsource', 'long-polling', 'iframe']) {
  lines.push(
    `| ${t} | ${browsersSeen.map((b) => fmt(metric(b, t, 'first-message', 'firstMessageMedianMs'))).join(' | ')} |`,
  );
}
lines.push('');

lines.push(
  '## Other measurements',
  '',
  '| browser | transport | 1,000 msgs through random cuts | cuts | server restart (process down->up) |',
  '|---|---|---|---|---|',
);
for (const b of browsersSeen) {
  for (const t of ['websocket', 'eventsource', 'long-polling', 'iframe']) {
    const s = metric(b, t, 'random-cuts', 'streamMs');
    const c = metric(b, t, 'random-cuts', 'cuts');
    const r = metric(b, t, 'server-restart', 'restartMs');
    lines.push(`| ${b} | ${t} | ${fmt(s)} | ${c ?? '—'} | ${fmt(r)} |`);
  }
}
lines.push('');

const failures = rows.filter((r) => r.status !== 'pass');
if (failures.length) {
  lines.push('## Failures', '');
  for (const f of failures) {
    lines.push(
      `- **${f.browser} / ${f.transport} / ${f.scenario}**: ${String(f.error ?? '')
        .split('\n')
        .slice(0, 4)
        .join(' ')
        .slice(0, 600)}`,
    );
  }
  lines.push('');
}

const md = lines.join('\n');
mkdirSync(join(root, 'results'), { recursive: true });
writeFileSync(join(root, 'results', 'matrix.md'), md);
console.log(md);
console.log(`matrix written to ${join(root, 'results', 'matrix.md')}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || missing.length > 0 ? 1 : 0);
