// WebKitGTK over W3C WebDriver on these machines (Playwright has no WebKit here): the binaries and
// the start-up of WebKitWebDriver under a throwaway X display, shared by the matrix runner
// (run.mjs) and the shared-connection suite (../share/webkit.mjs).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

export const DRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** WebKitWebDriver on a free port under xvfb-run; `stop()` ends the process group it started. */
export async function startDriver() {
  for (const p of [DRIVER, MINIBROWSER, '/usr/bin/xvfb-run']) {
    if (!existsSync(p)) {
      throw new Error(
        `${p} is missing: install the Debian packages webkit2gtk-driver and xvfb (scripts/ensure-browsers.sh)`,
      );
    }
  }
  const port = await freePort();
  // -a: pick a free display; the driver starts MiniBrowser on it.
  const proc = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', DRIVER, `--port=${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      const res = await fetch(`${base}/status`);
      if (res.ok) break;
    } catch {}
    if (proc.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${log}`);
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer /status: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    log: () => log,
    stop() {
      // Kill the whole group we started (xvfb-run, Xvfb, the driver and its MiniBrowser).
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {}
    },
  };
}
