import { defineConfig } from '@playwright/test';
import { debianChromium } from '../../tooling/playwright-chromium.mjs';

// The sharing tests (issue 16): many tabs of one browser context, so they run one at a time.
// npx playwright test -c e2e/share [--project chromium|firefox]
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  workers: 1,
  retries: 0,
  timeout: 90_000,
  // not under test-results/: the main suite wipes that folder when it starts
  outputDir: '../node_modules/.cache/push-share/results',
  globalSetup: './global-setup.ts',
  reporter: [['list']],
  use: { trace: 'retain-on-failure', actionTimeout: 15_000, navigationTimeout: 15_000 },
  projects: [
    {
      ...debianChromium,
      use: {
        ...debianChromium.use,
        // Playwright turns Chromium's back/forward cache off by default; the bfcache test needs it
        launchOptions: {
          ...debianChromium.use.launchOptions,
          ignoreDefaultArgs: ['--disable-back-forward-cache'],
        },
      },
    },
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
