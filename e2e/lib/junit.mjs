// JUnit XML for CI systems, from the merged rows of every runner (chromium, firefox, webkit):
// one <testsuite> per browser, one <testcase> per run of a case (repetitions numbered), a
// <failure> for a failed case or a selected case that never ran, <skipped> for a case that is
// local only against a deployment (so CI shows it, marked as not run here).

const esc = (s) =>
  String(s ?? '')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the characters XML 1.0 forbids
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/**
 * @param {{ browser: string, cases: { title: string, status: 'pass'|'fail'|'missing'|'local',
 *           durationMs?: number, message?: string, details?: string, rep?: number }[] }[]} suites
 */
export function junitXml(suites, { name = 'push-e2e' } = {}) {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = suites.flatMap((s) => s.cases);
  const count = (list, st) => list.filter((c) => st.includes(c.status)).length;
  const secs = (list) => (list.reduce((a, c) => a + (c.durationMs ?? 0), 0) / 1000).toFixed(3);
  out.push(
    `<testsuites name="${esc(name)}" tests="${all.length}" failures="${count(all, ['fail', 'missing'])}" skipped="${count(all, ['local'])}" time="${secs(all)}">`,
  );
  for (const s of suites) {
    out.push(
      `  <testsuite name="${esc(s.browser)}" tests="${s.cases.length}" failures="${count(s.cases, ['fail', 'missing'])}" skipped="${count(s.cases, ['local'])}" errors="0" time="${secs(s.cases)}">`,
    );
    for (const c of s.cases) {
      const title = c.rep ? `${c.title} #${c.rep}` : c.title;
      const open = `    <testcase classname="${esc(`e2e.${s.browser}`)}" name="${esc(title)}" time="${((c.durationMs ?? 0) / 1000).toFixed(3)}"`;
      if (c.status === 'pass') {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      if (c.status === 'local') out.push(`      <skipped message="${esc(c.message)}"/>`);
      else
        out.push(
          `      <failure message="${esc(
            String(c.message ?? '')
              .split('\n')[0]
              .slice(0, 300),
          )}" type="${c.status === 'missing' ? 'NotRun' : 'AssertionError'}">${esc(c.details ?? c.message)}</failure>`,
        );
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
