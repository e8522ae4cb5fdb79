import { defineConfig } from '@playwright/test';
import { debianChromium } from '../tooling/playwright-chromium.mjs';

// System browsers from Debian (see shared/BROWSERS.md): Playwright cannot download its own here.
// WebKit runs through WebKitWebDriver in webkit/run.mjs, on the same scenarios (lib/scenarios.mjs).
// Which cases run: E2E_* variables (lib/selection.mjs), set by scripts/run.mjs from its options.
export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: Number(process.env.E2E_WORKERS ?? 2),
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  outputDir: './test-results',
  globalSetup: './tests/global-setup.ts',
  reporter: [
    ['list'],
    ['html', { outputFolder: './playwright-report', open: 'never' }],
    ['./lib/matrix-reporter.mjs', { output: './results/raw/playwright.json' }],
  ],
  use: {
    // A failed case keeps its trace (every page's DOM snapshots, console, network); the
    // screenshots and console.txt are attached by tests/fixtures.ts before its pages close.
    trace: 'retain-on-failure',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
  },
  projects: [
    debianChromium,
    {
      name: 'firefox',
      use: {
        browserName: 'firefox',
        channel: 'moz-firefox',
        launchOptions: { executablePath: '/usr/bin/firefox-esr' },
      },
    },
  ],
});
