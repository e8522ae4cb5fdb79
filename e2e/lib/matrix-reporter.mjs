// Playwright reporter: records browser x transport x scenario, pass/fail, error, metrics, seed and
// the paths of a failed case's artifacts (trace, screenshots, console) to a JSON file that
// scripts/matrix.mjs merges with the WebKit runner's results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g;

export default class MatrixReporter {
  constructor(options = {}) {
    this.output = resolve(options.output ?? './results/raw/playwright.json');
    this.rows = [];
  }

  onTestEnd(test, result) {
    const annotations = [...(test.annotations ?? []), ...(result.annotations ?? [])];
    const get = (type) => annotations.find((a) => a.type === type)?.description;
    const project = test.parent?.project()?.name ?? 'unknown';
    let metrics = {};
    try {
      metrics = JSON.parse(get('metrics') ?? '{}');
    } catch {}
    const seed = get('seed');
    const status = result.status === 'passed' ? 'pass' : result.status === 'skipped' ? 'skipped' : 'fail';
    this.rows.push({
      browser: project,
      transport: get('transport') ?? '?',
      scenario: get('scenario') ?? test.title,
      title: test.title,
      status,
      rep: (test.repeatEachIndex ?? 0) + 1,
      durationMs: result.duration,
      seed: seed === undefined ? undefined : Number(seed),
      error: result.error
        ? String(result.error.message ?? result.error.value ?? '')
            .replace(ANSI, '')
            .slice(0, 2000)
        : result.status === 'timedOut'
          ? `timed out after ${result.duration} ms`
          : undefined,
      artifacts:
        status === 'pass'
          ? []
          : result.attachments.filter((a) => a.path).map((a) => relative(process.cwd(), a.path)),
      metrics,
    });
  }

  onEnd(full) {
    mkdirSync(dirname(this.output), { recursive: true });
    writeFileSync(
      this.output,
      JSON.stringify({ runner: 'playwright', status: full.status, rows: this.rows }, null, 2),
    );
  }

  printsToStdio() {
    return false;
  }
}
