// biome-ignore-all lint/suspicious/noExplicitAny: test code pokes at page globals and client objects loosely
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrowserContext, test as base, type Page } from '@playwright/test';
import { BUILD_DIR } from '../lib/stack.mjs';

export interface StackInfo {
  name: string;
  harness: string;
  restartable: string;
  stackCtl: string;
  proxies: Record<string, string>;
}

/** The scenario driver over Playwright pages (the WebKit runner has the same over WebDriver). */
export function playwrightDriver(context: BrowserContext) {
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
  };
}

/** One stack per worker slot, started by the global setup. */
export const test = base.extend<Record<string, never>, { stack: StackInfo }>({
  stack: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures must destructure their first argument
    async ({}, use, workerInfo) => {
      const all = JSON.parse(readFileSync(join(BUILD_DIR, 'stacks.json'), 'utf8')) as StackInfo[];
      await use(all[workerInfo.parallelIndex % all.length]);
    },
    { scope: 'worker' },
  ],
});
export { expect } from '@playwright/test';
