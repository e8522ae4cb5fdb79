// Merges results/raw/{playwright,webkit}.json into the browser x transport x scenario matrix with
// the measurements and the server-side counts, checks that every selected browser ran every
// selected case (results/raw/selection.json, written by scripts/run.mjs) the selected number of
// times, prints it, and writes results/matrix.md, results/junit.xml and results/summary.json.
// Exits non-zero on a failed, skipped or missing case.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { junitXml } from '../lib/junit.mjs';
import { optionsFromEnv, replayCommand, selectCases, selectedBrowsers } from '../lib/selection.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'results');
const raw = join(results, 'raw');
const readJson = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined);

/** What was selected: written by scripts/run.mjs; recomputed from E2E_* when run on its own. */
function loadSelection() {
  const saved = readJson(join(raw, 'selection.json'));
  if (saved) return saved;
  const opts = optionsFromEnv();
  const { selected, localOnly } = selectCases(opts);
  return {
    target: opts.target ?? null,
    browsers: selectedBrowsers(opts),
    repeat: opts.repeat,
    seed: opts.seed ?? null,
    serverMetrics: { metrics: true },
    cases: selected.map((c) => ({ title: c.title, transport: c.transport, scenario: c.scenario })),
    localOnly: localOnly.map((c) => ({ ...c, reason: c.reason })),
  };
}

const sel = loadSelection();
const browsers = sel.browsers;
const runnerFiles = [];
if (browsers.some((b) => b !== 'webkit')) runnerFiles.push('playwright.json');
if (browsers.includes('webkit')) runnerFiles.push('webkit.json');
const rows = [];
const missingFiles = [];
for (const f of runnerFiles) {
  const data = readJson(join(raw, f));
  if (!data) missingFiles.push(f);
  else rows.push(...data.rows);
}

const key = (r) => `${r.transport} | ${r.scenario}`;
const rowsOf = (b, k) => rows.filter((x) => x.browser === b && key(x) === k);

// ---- completeness: every selected browser x case, `repeat` times, none skipped ----
const problems = [];
const missing = []; // { browser, transport, scenario, title, ran, expected }
for (const b of browsers) {
  for (const c of sel.cases) {
    const rs = rowsOf(b, key(c));
    const ran = rs.filter((r) => r.status === 'pass' || r.status === 'fail').length;
    if (ran < sel.repeat) missing.push({ browser: b, ...c, ran, expected: sel.repeat });
    const skipped = rs.filter((r) => r.status === 'skipped').length;
    if (skipped) problems.push(`${b} skipped ${c.title} (${skipped}x): a selected case must run`);
  }
}
for (const m of missing)
  problems.push(`${m.browser} did not run ${m.title}: ${m.ran} of ${m.expected} run(s)`);
if (sel.cases.length === 0) problems.push('the filters matched no case');
for (const f of missingFiles)
  problems.push(`no results from ${f.replace('.json', '')} (the runner did not finish)`);

const passed = rows.filter((r) => r.status === 'pass').length;
const failedRows = rows.filter((r) => r.status !== 'pass');
for (const f of failedRows.filter((r) => r.status === 'fail').reverse())
  problems.unshift(
    `${f.browser} failed ${f.transport} › ${f.scenario}${sel.repeat > 1 ? ` (run ${f.rep})` : ''}`,
  );
const failed =
  failedRows.length + missing.reduce((a, m) => a + (m.expected - m.ran), 0) + missingFiles.length;

// ---- markdown ----
const fmt = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(2)} s` : '—');
const passMetric = (b, transport, scenario, name) => {
  const vals = rows
    .filter(
      (r) => r.browser === b && r.transport === transport && r.scenario === scenario && r.status === 'pass',
    )
    .map((r) => r.metrics?.[name])
    .filter((v) => typeof v === 'number')
    .sort((x, y) => x - y);
  return vals.length ? vals[Math.floor(vals.length / 2)] : undefined;
};
const anyRow = (b, transport, scenario) =>
  rows.find((r) => r.browser === b && r.transport === transport && r.scenario === scenario);
const cell = (b, k) => {
  const rs = rowsOf(b, k).filter((r) => r.status === 'pass' || r.status === 'fail');
  if (rs.length === 0) return 'NOT RUN';
  const ok = rs.filter((r) => r.status === 'pass').length;
  if (sel.repeat > 1 || rs.length > 1)
    return `${ok === rs.length ? 'pass' : 'FAIL'} ${ok}/${rs.length} (${Math.round((100 * ok) / rs.length)}%)`;
  return ok === 1 ? 'pass' : 'FAIL';
};

const lines = [];
lines.push('# Push e2e matrix', '');
lines.push(
  `Generated ${new Date().toISOString()} against **${sel.target ?? 'the local stack'}**. ` +
    `Browsers: ${browsers.join(', ')} (Chromium and Firefox ESR through Playwright, WebKitGTK MiniBrowser through WebKitWebDriver). ` +
    `${sel.cases.length} cases per browser${sel.repeat > 1 ? `, each run ${sel.repeat} times` : ''}` +
    `${sel.filters && (sel.filters.transports?.length || sel.filters.scenarios?.length || sel.filters.grep) ? `; filters: ${JSON.stringify(sel.filters)}` : ''}` +
    `${sel.seed !== null && sel.seed !== undefined ? `; seed ${sel.seed}` : ''}.`,
  '',
);
if (sel.target && sel.cases.some((c) => c.transport === 'iframe'))
  lines.push(
    `The iframe cases reach ${sel.target} through the local page server's same-origin relay (\`/__push\`, streamed chunk by chunk): a forever-iframe document calls \`parent.<callback>()\`, which a browser allows only when the page and the push endpoint share an origin. Every other case talks to the deployment directly, cross-origin.`,
    '',
  );
lines.push(problems.length ? `**RESULT: FAILED** (${failed} failed or not run)` : '**RESULT: PASSED**', '');
for (const p of problems) lines.push(`- **${p}**`);
if (problems.length) lines.push('');

lines.push(
  '## Summary',
  '',
  '| browser | selected runs | passed | failed | not run |',
  '|---|---|---|---|---|',
);
for (const b of browsers) {
  const rs = rows.filter((r) => r.browser === b);
  const notRun = missing.filter((m) => m.browser === b).reduce((a, m) => a + (m.expected - m.ran), 0);
  lines.push(
    `| ${b} | ${sel.cases.length * sel.repeat} | ${rs.filter((r) => r.status === 'pass').length} | ${rs.filter((r) => r.status !== 'pass').length} | ${notRun} |`,
  );
}
lines.push('');

lines.push(
  '## Browser x transport x scenario',
  '',
  `| transport | scenario | ${browsers.join(' | ')} |`,
  `|---|---|${browsers.map(() => '---').join('|')}|`,
);
for (const c of sel.cases)
  lines.push(`| ${c.transport} | ${c.scenario} | ${browsers.map((b) => cell(b, key(c))).join(' | ')} |`);
lines.push('');
if (sel.localOnly?.length) {
  lines.push(
    `## Local only (not run against ${sel.target})`,
    '',
    'These cases need the local stack; run `npm run e2e` without `--target` for them.',
    '',
    '| transport | scenario | why |',
    '|---|---|---|',
  );
  for (const c of sel.localOnly) lines.push(`| ${c.transport} | ${c.scenario} | ${c.reason} |`);
  lines.push('');
}

const shown = (transport, scenario) =>
  sel.cases.some((c) => c.transport === transport && c.scenario === scenario);
const fallbackCases = [
  ['WebSocket refused by a proxy (-> eventsource)', 'default', 'ws-refused'],
  ['WebSocket accepted by a proxy, then silent (-> eventsource)', 'default', 'ws-silent'],
  ['buffering proxy (-> long-polling)', 'default', 'buffering-proxy'],
  ['buffering proxy, iframe first (-> long-polling)', 'iframe,long-polling', 'buffering-proxy'],
  ['WebSocket refused in the page (-> eventsource)', 'default', 'block-ws-refused'],
  ['WebSocket silent in the page (-> eventsource)', 'default', 'block-ws-silent'],
  ['responses buffered in the page (-> long-polling)', 'default', 'block-buffering'],
].filter(([, t, s]) => shown(t, s));
if (fallbackCases.length) {
  lines.push('## Time to fall back (createClient() -> first message on the next transport; median)', '');
  lines.push(`| case | ${browsers.join(' | ')} |`, `|---|${browsers.map(() => '---').join('|')}|`);
  for (const [label, transport, scenario] of fallbackCases) {
    const cells = browsers.map((b) => {
      const v = passMetric(b, transport, scenario, 'fallbackMedianMs');
      if (v !== undefined) return fmt(v);
      return anyRow(b, transport, scenario) ? 'FAIL' : 'not run';
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
}

const firstTransports = ['websocket', 'eventsource', 'long-polling', 'iframe'].filter((t) =>
  shown(t, 'first-message'),
);
if (firstTransports.length) {
  lines.push(
    '## Time to first message (createClient() -> first message; median of 5 connections, forced transport)',
    '',
  );
  lines.push(`| transport | ${browsers.join(' | ')} |`, `|---|${browsers.map(() => '---').join('|')}|`);
  for (const t of firstTransports)
    lines.push(
      `| ${t} | ${browsers.map((b) => fmt(passMetric(b, t, 'first-message', 'firstMessageMedianMs'))).join(' | ')} |`,
    );
  lines.push('');
}

const connectTransports = ['websocket', 'eventsource', 'long-polling', 'iframe'].filter((t) =>
  shown(t, 'connect'),
);
if (connectTransports.length) {
  lines.push(
    '## Server-side transport counts',
    '',
    sel.serverMetrics?.metrics === false
      ? `Not available: ${sel.serverMetrics.metricsReason} (local only).`
      : 'Live sessions per transport as the server counted them (`push.metrics().connections` locally, `GET {path}/metrics` on a deployment) while the `connect` case was connected; the case fails unless its own transport counts at least one.',
    '',
  );
  if (sel.serverMetrics?.metrics !== false) {
    lines.push(
      `| browser | ${connectTransports.join(' | ')} |`,
      `|---|${connectTransports.map(() => '---').join('|')}|`,
    );
    for (const b of browsers) {
      const cells = connectTransports.map((t) => {
        const r = rows.find(
          (x) => x.browser === b && x.transport === t && x.scenario === 'connect' && x.status === 'pass',
        );
        const counts = r?.metrics?.serverConnections;
        return counts
          ? Object.entries(counts)
              .map(([k, n]) => (k === t ? `**${k} ${n}**` : `${k} ${n}`))
              .join(', ') || '—'
          : '—';
      });
      lines.push(`| ${b} | ${cells.join(' | ')} |`);
    }
    lines.push('');
    const ends = ['server-playwright.json', 'server-webkit.json', 'server-target.json'].flatMap(
      (f) => readJson(join(raw, f)) ?? [],
    );
    const withMetrics = ends.filter((e) => e.metrics);
    if (withMetrics.length) {
      lines.push(
        'Server counters at the end of the run (one row per server the runners used):',
        '',
        '| server | sessions | messages in | messages out | fallbacks reported by clients |',
        '|---|---|---|---|---|',
      );
      for (const e of withMetrics) {
        const m = e.metrics;
        const fb = Object.entries(m.fallbacks ?? {})
          .map(([k, n]) => `${k} ${n}`)
          .join(', ');
        lines.push(
          `| ${sel.target ?? e.stack} | ${m.sessions} | ${m.messagesIn} | ${m.messagesOut} | ${fb || '—'} |`,
        );
      }
      lines.push('');
    }
  }
}

const other = ['websocket', 'eventsource', 'long-polling', 'iframe'].filter(
  (t) => shown(t, 'random-cuts') || shown(t, 'server-restart'),
);
if (other.length) {
  lines.push(
    '## Other measurements',
    '',
    '| browser | transport | 1,000 msgs through random cuts | cuts | seed | server restart (process down->up) |',
    '|---|---|---|---|---|---|',
  );
  for (const b of browsers)
    for (const t of other) {
      const seeds = rows
        .filter(
          (r) => r.browser === b && r.transport === t && r.scenario === 'random-cuts' && r.seed !== undefined,
        )
        .map((r) => r.seed);
      lines.push(
        `| ${b} | ${t} | ${fmt(passMetric(b, t, 'random-cuts', 'streamMs'))} | ${passMetric(b, t, 'random-cuts', 'cuts') ?? '—'} | ${seeds.join(', ') || '—'} | ${fmt(passMetric(b, t, 'server-restart', 'restartMs'))} |`,
      );
    }
  lines.push('');
}

const seeded = rows.filter((r) => r.seed !== undefined);
if (seeded.length) {
  lines.push(
    '## Seeds of randomized cases',
    '',
    '| browser | case | run | result | seed | replay |',
    '|---|---|---|---|---|---|',
  );
  for (const r of seeded)
    lines.push(
      `| ${r.browser} | ${r.transport} › ${r.scenario} | ${r.rep ?? 1} | ${r.status} | ${r.seed} | \`${replayCommand({ ...r, target: sel.target ?? undefined })}\` |`,
    );
  lines.push('');
}

if (failedRows.length || missing.length) {
  lines.push('## Failures', '');
  for (const f of failedRows) {
    const err = String(f.error ?? '(no error text)')
      .split('\n')
      .slice(0, 6)
      .join(' ')
      .slice(0, 800);
    lines.push(
      `### ${f.browser} / ${f.transport} / ${f.scenario}${sel.repeat > 1 ? ` (run ${f.rep})` : ''}`,
      '',
    );
    lines.push(`- error: ${err}`);
    if (f.seed !== undefined) lines.push(`- seed: ${f.seed}`);
    lines.push(`- replay: \`${replayCommand({ ...f, target: sel.target ?? undefined })}\``);
    if (f.artifacts?.length) lines.push(`- artifacts: ${f.artifacts.map((a) => `\`e2e/${a}\``).join(', ')}`);
    if (f.browser !== 'webkit')
      lines.push(
        '- report: `npx playwright show-report e2e/playwright-report` (trace, screenshots, console.txt)',
      );
    lines.push('');
  }
  for (const m of missing)
    lines.push(`- **${m.browser} / ${m.title}**: did not run (${m.ran} of ${m.expected})`);
  lines.push('');
}

const md = lines.join('\n');
mkdirSync(results, { recursive: true });
writeFileSync(join(results, 'matrix.md'), md);

// ---- JUnit ----
const suites = browsers.map((b) => {
  const cases = [];
  for (const c of sel.cases) {
    const rs = rowsOf(b, key(c));
    for (const r of rs)
      cases.push({
        title: c.title,
        rep: sel.repeat > 1 ? r.rep : undefined,
        status: r.status === 'pass' ? 'pass' : 'fail',
        durationMs: r.durationMs,
        message: r.status === 'skipped' ? 'skipped: a selected case must run' : r.error,
        details: [
          r.error,
          r.seed !== undefined ? `seed ${r.seed}` : '',
          r.status !== 'pass' ? `replay: ${replayCommand({ ...r, target: sel.target ?? undefined })}` : '',
          r.artifacts?.length ? `artifacts: ${r.artifacts.map((a) => `e2e/${a}`).join(' ')}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      });
    const ran = rs.filter((r) => r.status !== 'skipped').length;
    for (let i = ran; i < sel.repeat; i++)
      cases.push({
        title: c.title,
        rep: sel.repeat > 1 ? i + 1 : undefined,
        status: 'missing',
        message: `${b} did not run this case`,
      });
  }
  for (const c of sel.localOnly ?? [])
    cases.push({ title: c.title, status: 'local', message: `local only: ${c.reason}` });
  return { browser: b, cases };
});
writeFileSync(join(results, 'junit.xml'), junitXml(suites));
writeFileSync(join(results, 'summary.json'), JSON.stringify({ passed, failed, problems }, null, 2));

console.log(md);
console.log(`matrix written to ${join(results, 'matrix.md')}; JUnit to ${join(results, 'junit.xml')}`);
if (problems.length)
  console.log(`e2e: FAILED: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; ...' : ''}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(problems.length > 0 || failed > 0 ? 1 : 0);
