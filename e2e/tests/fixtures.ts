// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, test as base, type Page, type TestInfo } from '@playwright/test';
import { BUILD_DIR } from '../lib/stack.mjs';

export interface StackInfo {
  name: string;
  /** 'target' for a page server in front of a deployment (--target); absent for the local stack. */
  mode?: string;
  harness: string;
  restartable?: string;
  stackCtl?: string;
  proxies?: Record<string, string>;
}

/**
 * The scenario driver over Playwright pages (the WebKit runner has the same over WebDriver).
 * `capture` runs when a case fails, before its pages close: a screenshot of each page goes into
 * the HTML report (the trace and console.txt are added by the `pageLog` fixture).
 */
export function playwrightDriver(context: BrowserContext, testInfo: TestInfo) {
  return {
    async open(url: string): Promise<Page> {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => (window as any).__e2eReady === true, undefined, { timeout: 10_000 });
      return page;
    },
    async close(page: Page) {
      await page.close().catch(() => {});
    },
    run: (page: Page, name: string, params: unknown) =>
      page.evaluate(([n, p]) => (window as any).e2e.run(n, p), [name, params] as const),
    start: (page: Page, name: string, params: unknown) =>
      page.evaluate(([n, p]) => (window as any).e2e.start(n, p), [name, params] as const),
    result: (page: Page, handle: string) => page.evaluate((h) => (window as any).e2e.result(h), handle),
    flag: (page: Page, name: string) => page.evaluate((n) => (window as any).e2e.flag(n), name),
    async capture(pages: Page[]) {
      for (const [i, page] of pages.entries()) {
        const body = await page.screenshot({ fullPage: true, timeout: 5000 }).catch(() => undefined);
        if (body) await testInfo.attach(`screenshot-page-${i + 1}`, { body, contentType: 'image/png' });
      }
    },
  };
}

/**
 * `stack`: one per worker slot, started by the global setup.
 * `pageLog` (automatic): every page's console and uncaught errors; attached as console.txt to a
 * failed case.
 */
export const test = base.extend<{ pageLog: undefined }, { stack: StackInfo }>({
  stack: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures must destructure their first argument
    async ({}, use, workerInfo) => {
      const all = JSON.parse(readFileSync(join(BUILD_DIR, 'stacks.json'), 'utf8')) as StackInfo[];
      await use(all[workerInfo.parallelIndex % all.length]);
    },
    { scope: 'worker' },
  ],
  pageLog: [
    async ({ context }, use, testInfo) => {
      const lines: string[] = [];
      const t0 = Date.now();
      let pages = 0;
      const stamp = () => `${String(Date.now() - t0).padStart(6)} ms`;
      context.on('page', (page) => {
        const n = ++pages;
        page.on('console', (m) => lines.push(`${stamp()} page ${n} ${m.type()} ${m.text()}`));
        page.on('pageerror', (e) => lines.push(`${stamp()} page ${n} uncaught ${e.message}`));
        page.on('requestfailed', (r) =>
          lines.push(
            `${stamp()} page ${n} request failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`,
          ),
        );
      });
      await use(undefined);
      if (testInfo.status !== testInfo.expectedStatus)
        await testInfo.attach('console.txt', {
          body: lines.join('\n') || '(no console output)',
          contentType: 'text/plain',
        });
    },
    { auto: true },
  ],
});
export { expect } from '@playwright/test';
