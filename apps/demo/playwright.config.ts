import { execFileSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';
import { debianChromium } from '../../tooling/playwright-chromium.mjs';

// Two free ports, picked once in the main process; workers inherit them through the environment.
process.env.DEMO_E2E_PORTS ??= execFileSync(
  process.execPath,
  [
    '-e',
    `const net=require('net');const a=net.createServer().listen(0,'127.0.0.1',()=>{const b=net.createServer().listen(0,'127.0.0.1',()=>{console.log(a.address().port+','+b.address().port);a.close();b.close()})})`,
  ],
  { encoding: 'utf8' },
).trim();
const [port, authPort] = process.env.DEMO_E2E_PORTS.split(',').map(Number) as [number, number];
/** Where the `DEMO_AUTH=1` instance listens (read by the login test). */
process.env.DEMO_E2E_AUTH_URL = `http://127.0.0.1:${authPort}`;

// System Chromium from Debian (see shared/BROWSERS.md): Playwright cannot download its own here.
export default defineConfig({
  testDir: './e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: './test-results',
  reporter: [['list'], ['html', { outputFolder: './playwright-report', open: 'never' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    viewport: { width: 1400, height: 900 },
  },
  webServer: [
    {
      command: 'node dist-server/main.js',
      url: `http://127.0.0.1:${port}/api/health`,
      env: { PORT: String(port), HOST: '127.0.0.1' },
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
    },
    {
      // The same demo with the auth switch on, for the login test.
      command: 'node dist-server/main.js',
      url: `http://127.0.0.1:${authPort}/api/health`,
      env: { PORT: String(authPort), HOST: '127.0.0.1', DEMO_AUTH: '1' },
      reuseExistingServer: false,
      timeout: 30_000,
    },
  ],
  projects: [debianChromium],
});
