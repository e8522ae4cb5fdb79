#!/usr/bin/env node
// WebKit runner: drives WebKitGTK's MiniBrowser through /usr/bin/WebKitWebDriver (W3C WebDriver,
// plain HTTP calls) under `xvfb-run -a`, on the same cases and assertions as the Playwright
// specs (lib/scenarios.mjs), selected by the same E2E_* variables (lib/selection.mjs). Writes
// results/raw/webkit.json; a failed case leaves results/artifacts/webkit/<case>/ with a
// screenshot, the page log and the raw result. Exits non-zero on any failure.
//
//   node webkit/run.mjs [--grep TEXT] [--no-build]     (normally run by scripts/run.mjs)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runCase } from '../lib/scenarios.mjs';
import { optionsFromEnv, replayCommand, selectCases } from '../lib/selection.mjs';
import { E2E_ROOT, startStack } from '../lib/stack.mjs';
import { targetStackFromEnv } from '../lib/target.mjs';
import { buildAll } from '../scripts/build.mjs';
import { MINIBROWSER, startDriver } from './driver.mjs';

const args = process.argv.slice(2);
if (args.includes('--grep')) process.env.E2E_GREP = args[args.indexOf('--grep') + 1];
const OUTPUT = join(E2E_ROOT, 'results', 'raw', 'webkit.json');
const ARTIFACTS = join(E2E_ROOT, 'results', 'artifacts', 'webkit');

class WebDriver {
  constructor(base) {
    this.base = base;
    this.session = null;
  }
  async cmd(method, path, body, timeoutMs = 30000) {
    const url = `${this.base}${path.replace(':session', this.session ?? '')}`;
    // WebKitWebDriver answers commands one at a time: a command stuck on a dead browser blocks
    // the next ones, so every command has its own deadline.
    const res = await fetch(url, {
      method,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`WebDriver ${method} ${path}: HTTP ${res.status} non-JSON: ${text.slice(0, 300)}`);
    }
    if (!res.ok || json.value?.error) {
      const v = json.value ?? {};
      throw new Error(
        `WebDriver ${method} ${path}: ${v.error ?? res.status}: ${v.message ?? text.slice(0, 300)}`,
      );
    }
    return json.value;
  }
  async newSession() {
    const value = await this.cmd('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        },
      },
    });
    this.session = value.sessionId;
    this.capabilities = value.capabilities;
    await this.cmd('POST', '/session/:session/timeouts', { script: 150000, pageLoad: 20000, implicit: 0 });
    this.firstWindow = await this.cmd('GET', '/session/:session/window');
    return value;
  }
  async deleteSession() {
    if (this.session) await this.cmd('DELETE', '/session/:session', undefined, 5000).catch(() => {});
    this.session = null;
  }
  switchTo(handle) {
    return this.cmd('POST', '/session/:session/window', { handle });
  }
  navigate(url) {
    return this.cmd('POST', '/session/:session/url', { url });
  }
  execute(script, scriptArgs = []) {
    return this.cmd('POST', '/session/:session/execute/sync', { script, args: scriptArgs });
  }
  executeAsync(script, scriptArgs = [], timeoutMs = 160000) {
    return this.cmd('POST', '/session/:session/execute/async', { script, args: scriptArgs }, timeoutMs);
  }
  async newWindow() {
    const v = await this.cmd('POST', '/session/:session/window/new', { type: 'window' });
    return v.handle;
  }
  closeWindow() {
    return this.cmd('DELETE', '/session/:session/window');
  }
}

/** The scenario driver over WebDriver windows (same interface as tests/fixtures.ts). */
function webdriverDriver(getWd, artifactsFor) {
  const open = new Set();
  let current = null;
  let wd = getWd();
  const refresh = () => {
    if (wd !== getWd()) {
      // The browser was restarted: forget the old windows.
      wd = getWd();
      open.clear();
      current = null;
    }
  };
  const use = async (handle) => {
    refresh();
    if (current !== handle) {
      await wd.switchTo(handle);
      current = handle;
    }
  };
  const callAsync = async (handle, expr, argsList) => {
    await use(handle);
    const value = await wd.executeAsync(
      `const done = arguments[arguments.length - 1];
       const args = Array.prototype.slice.call(arguments, 0, -1);
       Promise.resolve().then(() => (${expr})(...args)).then(
         (v) => done({ ok: true, value: v === undefined ? null : v }),
         (e) => done({ ok: false, error: String(e && e.stack || e) }));`,
      argsList,
    );
    if (!value?.ok) throw new Error(`in-page error: ${value?.error}`);
    return value.value;
  };
  return {
    async open(url) {
      refresh();
      // Reuse the session's first window when free, otherwise open another.
      let handle;
      if (!open.has(wd.firstWindow)) handle = wd.firstWindow;
      else handle = await wd.newWindow();
      open.add(handle);
      await use(handle);
      await wd.navigate(url);
      const deadline = Date.now() + 10000;
      while (!(await wd.execute('return window.__e2eReady === true;'))) {
        if (Date.now() > deadline) throw new Error(`page ${url} did not become ready`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return handle;
    },
    async close(handle) {
      open.delete(handle);
      try {
        await use(handle);
        if (handle === wd.firstWindow) {
          await wd.navigate('about:blank');
        } else {
          await wd.closeWindow();
          current = null;
          await use(wd.firstWindow);
        }
      } catch {}
    },
    run: (h, name, params) => callAsync(h, '(n, p) => window.e2e.run(n, p)', [name, params]),
    start: (h, name, params) => callAsync(h, '(n, p) => window.e2e.start(n, p)', [name, params]),
    result: (h, handle) => callAsync(h, '(x) => window.e2e.result(x)', [handle]),
    flag: async (h, name) => {
      await use(h);
      return wd.execute('return window.e2e.flag(arguments[0]);', [name]);
    },
    /** On a failure, before the pages close: screenshot and page log of each (WebDriver has no console API). */
    async capture(handles) {
      const dir = artifactsFor();
      mkdirSync(dir, { recursive: true });
      for (const [i, h] of handles.entries()) {
        try {
          await use(h);
          const png = await wd.cmd('GET', '/session/:session/screenshot', undefined, 10000);
          writeFileSync(join(dir, `screenshot-page-${i + 1}.png`), Buffer.from(png, 'base64'));
        } catch (e) {
          writeFileSync(join(dir, `screenshot-page-${i + 1}.error.txt`), String(e?.message ?? e));
        }
        try {
          const log = await wd.execute(
            'return { url: location.href, log: (window.__e2eLog || []).join("\\n") };',
          );
          writeFileSync(join(dir, `page-${i + 1}.log`), `${log.url}\n${log.log || '(no console output)'}\n`);
        } catch (e) {
          writeFileSync(join(dir, `page-${i + 1}.log`), `page log not readable: ${e?.message ?? e}\n`);
        }
      }
    },
  };
}

async function main() {
  if (!args.includes('--no-build')) await buildAll({ quiet: true });
  const opts = optionsFromEnv();
  const all = selectCases(opts).selected;
  const stack = opts.target ? targetStackFromEnv() : await startStack({ name: 'webkit' });
  let driverProc = await startDriver();
  let wd = new WebDriver(driverProc.base);
  let serverCounters;
  const cleanup = async () => {
    serverCounters ??= (await stack.serverMetrics()) ?? null;
    await wd.deleteSession();
    driverProc.stop();
    await stack.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      cleanup().finally(() => process.exit(130));
    });
  }
  /** Kills WebKitWebDriver (with its MiniBrowser and Xvfb) and starts a fresh one and session. */
  const restartBrowser = async () => {
    driverProc.stop();
    driverProc = await startDriver();
    wd = new WebDriver(driverProc.base);
    await wd.newSession();
  };
  const rows = [];
  let failed = 0;
  const t0 = Date.now();
  try {
    await wd.newSession();
    console.log(
      `webkit: ${wd.capabilities?.browserName} ${wd.capabilities?.browserVersion} via WebKitWebDriver; ${all.length} cases${opts.repeat > 1 ? ` x ${opts.repeat}` : ''}`,
    );
    let artifactDir;
    const driver = webdriverDriver(
      () => wd,
      () => artifactDir,
    );
    const runs = all.flatMap((kase) => Array.from({ length: opts.repeat }, (_, i) => ({ kase, rep: i + 1 })));
    for (const { kase, rep } of runs) {
      const started = Date.now();
      const slug = `${kase.transport}-${kase.scenario}${opts.repeat > 1 ? `-${rep}` : ''}`.replace(
        /[^a-z0-9-]/gi,
        '-',
      );
      artifactDir = join(ARTIFACTS, slug);
      let status = 'pass';
      let error;
      let metrics = {};
      let result;
      let seed;
      let artifacts = [];
      try {
        ({ result, metrics, seed } = await withTimeout(
          runCase(driver, kase, stack.info, 'webkit'),
          kase.timeoutMs + 10000,
          kase.title,
        ));
      } catch (e) {
        status = 'fail';
        error = String(e?.message ?? e);
        result = e?.result;
        seed = e?.seed;
        failed++;
        mkdirSync(artifactDir, { recursive: true });
        writeFileSync(join(artifactDir, 'result.json'), JSON.stringify(result ?? null, null, 2));
        writeFileSync(join(artifactDir, 'error.txt'), `${kase.title}\n${error}\n`);
        artifacts = [join(artifactDir, 'error.txt'), join(artifactDir, 'result.json')]
          .concat(
            ['screenshot-page-1.png', 'screenshot-page-2.png', 'page-1.log', 'page-2.log']
              .map((f) => join(artifactDir, f))
              .filter((f) => existsSync(f)),
          )
          .map((f) => relative(E2E_ROOT, f));
        // A stuck page or a dead browser wedges the driver: start a fresh browser for the next case.
        if (/timed out|WebDriver|abort|fetch failed/i.test(error)) {
          await restartBrowser().catch((err) => console.error(`webkit: browser restart failed: ${err}`));
        }
      }
      const durationMs = Date.now() - started;
      rows.push({
        browser: 'webkit',
        transport: kase.transport,
        scenario: kase.scenario,
        title: kase.title,
        status,
        rep,
        durationMs,
        seed,
        error,
        artifacts,
        metrics,
      });
      console.log(
        `  ${status === 'pass' ? '✓' : '✘'} [webkit] ${kase.title}${opts.repeat > 1 ? ` #${rep}` : ''} (${durationMs} ms)${error ? `\n      ${error.split('\n').slice(0, 6).join('\n      ')}` : ''}`,
      );
      if (seed !== undefined)
        console.log(
          `      seed ${seed} (replay: ${replayCommand({ browser: 'webkit', transport: kase.transport, scenario: kase.scenario, seed, target: opts.target })})`,
        );
      if (artifacts.length) console.log(`      artifacts: ${artifacts.join(', ')}`);
      if (status === 'fail' && process.env.E2E_DEBUG)
        console.log(JSON.stringify(result, null, 2).slice(0, 4000));
    }
  } catch (e) {
    failed++;
    rows.push({
      browser: 'webkit',
      transport: '-',
      scenario: 'runner',
      status: 'fail',
      error: String(e?.stack ?? e),
      metrics: {},
    });
    console.error(`webkit runner failed: ${e?.stack ?? e}\n${driverProc.log().slice(-2000)}`);
  } finally {
    await cleanup();
  }
  mkdirSync(join(E2E_ROOT, 'results', 'raw'), { recursive: true });
  if (!opts.target)
    writeFileSync(
      join(E2E_ROOT, 'results', 'raw', 'server-webkit.json'),
      JSON.stringify([{ stack: 'webkit', metrics: serverCounters ?? null }], null, 2),
    );
  writeFileSync(
    OUTPUT,
    JSON.stringify({ runner: 'webkit', status: failed ? 'failed' : 'passed', rows }, null, 2),
  );
  console.log(`webkit: ran ${rows.length} cases in ${Math.round((Date.now() - t0) / 1000)} s`);
  console.log(`webkit: ${rows.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

function withTimeout(p, ms, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

main();
