// Debian's Chromium as a Playwright project (see shared/BROWSERS.md: Playwright cannot download
// its own browsers here). Shared by the e2e suite and the demo's tests.

/** The `chromium` project: /usr/bin/chromium, headless-friendly flags. */
export const debianChromium = {
  name: 'chromium',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
};
