// Playwright reporter: records browser x transport x scenario, pass/fail, error and metrics to a
// JSON file that scripts/matrix.mjs merges with the WebKit runner's results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
    this.rows.push({
      browser: project,
      transport: get('transport') ?? '?',
      scenario: get('scenario') ?? test.title,
      status: result.status === 'passed' ? 'pass' : result.status === 'skipped' ? 'skipped' : 'fail',
      durationMs: result.duration,
      error: result.error
        ? String(result.error.message ?? result.error.value ?? '')
            .replace(ANSI, '')
            .slice(0, 2000)
        : undefined,
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
