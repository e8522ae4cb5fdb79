/**
 * The demo end to end in Chromium: each page shows live updates, chat round-trips between two
 * browsers with presence, and the inspector's transport switch keeps the data flowing.
 * Screenshots of every page land in apps/demo/screenshots/ (and are attached to the report).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, expect, type Page, type TestInfo, test } from '@playwright/test';

const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });

async function shot(page: Page, name: string, info: TestInfo): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

async function expectConnected(page: Page, transport?: string): Promise<void> {
  await expect(page.getByTestId('inspector-state')).toHaveText('connected');
  if (transport) await expect(page.getByTestId('inspector-transport')).toHaveText(transport);
}

/** Resolves once the ticker has received at least `count` more quotes over Push. */
async function expectQuotesFlowing(page: Page): Promise<void> {
  await expect(page.getByTestId('stocks-status')).toHaveText('subscribed');
  const body = page.getByTestId('ticker').locator('tbody');
  const before = await body.innerText();
  await expect.poll(() => body.innerText(), { timeout: 10_000 }).not.toBe(before);
  await expect
    .poll(async () => Number(await page.getByTestId('stocks-rate').innerText()), { timeout: 10_000 })
    .toBeGreaterThan(0);
}

async function openChat(browser: Browser, name: string, query = ''): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/chat/lobby${query}`);
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('name-submit').click();
  await expectConnected(page);
  return page;
}

test('stock ticker: quotes stream in, cells flash, sparklines draw', async ({ page }, info) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/stocks$/);
  await expectConnected(page, 'websocket');
  await expect(page.getByTestId('ticker').locator('tbody tr')).toHaveCount(20);
  await expectQuotesFlowing(page);
  await expect(page.locator('.ticker .flash-up, .ticker .flash-down').first()).toBeVisible();
  await expect(page.locator('.ticker svg.sparkline polyline').first()).toBeAttached();
  await expect(page.getByTestId('inspector-latency')).toHaveText(/\d+(\.\d+)? ms/, { timeout: 10_000 });
  await shot(page, 'stocks', info);
});

test('chat: two browsers see each other online, type, and exchange messages', async ({ browser }, info) => {
  const alice = await openChat(browser, 'Alice');
  // Bob connects over Server-Sent Events, so the round trip crosses transports.
  const bob = await openChat(browser, 'Bob', '?transports=eventsource');
  await expectConnected(bob, 'eventsource');

  for (const page of [alice, bob]) {
    await expect(page.getByTestId('online-count')).toHaveText('2');
    await expect(page.getByTestId('members')).toContainText('Alice');
    await expect(page.getByTestId('members')).toContainText('Bob');
  }
  await expect(alice.getByTestId('notice').filter({ hasText: 'Bob joined' })).toBeVisible();

  await alice.getByTestId('composer').pressSequentially('Hello', { delay: 20 });
  await expect(bob.getByTestId('typing')).toHaveText('Alice is typing…');
  await alice.getByTestId('composer').fill('Hello Bob, prices are moving!');
  await alice.getByTestId('composer').press('Enter');
  await expect(bob.getByTestId('message').filter({ hasText: 'Hello Bob, prices are moving!' })).toBeVisible();
  await expect(bob.getByTestId('typing')).toHaveText('');

  await bob.getByTestId('composer').fill('Hi Alice, I see them too.');
  await bob.getByTestId('composer').press('Enter');
  await expect(alice.getByTestId('message').filter({ hasText: 'Hi Alice, I see them too.' })).toBeVisible();
  await shot(alice, 'chat-alice', info);
  await shot(bob, 'chat-bob', info);

  // Bob leaves the room: Alice sees him go.
  await bob.getByTestId('room-markets').click();
  await expect(alice.getByTestId('online-count')).toHaveText('1');
  await expect(alice.getByTestId('notice').filter({ hasText: 'Bob left' })).toBeVisible();
  await alice.context().close();
  await bob.context().close();
});

test('live monitor: server metrics update every second', async ({ page }, info) => {
  await page.goto('/monitor');
  await expectConnected(page);
  const delivered = page.getByTestId('stat-total-out');
  await expect(delivered).not.toHaveText('–');
  const first = await delivered.innerText();
  await expect.poll(() => delivered.innerText(), { timeout: 10_000 }).not.toBe(first);
  await expect
    .poll(async () => Number((await page.getByTestId('stat-sessions').innerText()).replace(/,/g, '')))
    .toBeGreaterThan(0);
  await expect
    .poll(async () => Number((await page.getByTestId('stat-in').innerText()).replace(/,/g, '')))
    .toBeGreaterThan(0);
  await page.waitForTimeout(2_000); // a few more samples, for a screenshot with lines on the charts
  await shot(page, 'monitor', info);
});

test('inspector: forcing each transport recreates the client and data keeps flowing', async ({
  page,
}, info) => {
  await page.goto('/stocks');
  await expectConnected(page, 'websocket');
  await expectQuotesFlowing(page);

  for (const transport of ['eventsource', 'long-polling', 'iframe'] as const) {
    await page.getByTestId(`force-${transport}`).click();
    await expect(page).toHaveURL(new RegExp(`transports=${transport}`));
    await expectConnected(page, transport);
    await expect(page.getByTestId(`transport-${transport}`)).toContainText('in use');
    await expect(page.getByTestId('transport-websocket')).toContainText('blocked by you');
    await expectQuotesFlowing(page);
    await shot(page, `inspector-${transport}`, info);
  }

  // The choice survives navigation and reload (URL + localStorage).
  await page.getByTestId('nav-monitor').click();
  await expect(page).toHaveURL(/\/monitor\?transports=iframe/);
  await page.reload();
  await expectConnected(page, 'iframe');
  await expect(page.getByTestId('stat-total-out')).not.toHaveText('–');

  // Blocking one transport from the full list falls to the next.
  await page.getByTestId('inspector-reset').click();
  await expect(page).not.toHaveURL(/transports=/);
  await expectConnected(page);
  await page.getByTestId('nav-stocks').click();
  await page.getByTestId('block-websocket').click();
  await expect(page).toHaveURL(/transports=eventsource,long-polling,iframe/);
  await expectConnected(page);
  await expect(page.getByTestId('inspector-transport')).not.toHaveText('websocket');
  await expectQuotesFlowing(page);
});

test('inspector: a simulated hostile proxy makes the client fall back, with the reason shown', async ({
  page,
}, info) => {
  await page.goto('/stocks');
  await expectConnected(page, 'websocket');

  // The demo server drops this browser's WebSocket upgrades: the client falls back to SSE.
  await page.getByTestId('fault-websocket').check();
  await expectConnected(page, 'eventsource');
  await expect(page.getByTestId('transport-websocket')).toContainText('skipped');
  await expectQuotesFlowing(page);

  // And now it buffers the SSE stream too: the liveness probe times out, long-polling takes over.
  await page.getByTestId('fault-eventsource').check();
  await expectConnected(page, 'long-polling');
  await expect(page.getByTestId('transport-eventsource')).toContainText('skipped');
  await expectQuotesFlowing(page);
  await shot(page, 'inspector-fallback', info);

  await page.getByTestId('fault-websocket').uncheck();
  await page.getByTestId('fault-eventsource').uncheck();
  await expectConnected(page);
  await expectQuotesFlowing(page);
});

test('inspector: with sharing on, two tabs share one connection and agree on its holder; it moves when the holder closes', async ({
  browser,
}, info) => {
  const context = await browser.newContext();
  const first = await context.newPage();
  await first.goto('/stocks');
  await expectConnected(first, 'websocket');
  // Off by default: no sharing status.
  await expect(first.getByTestId('share-toggle')).not.toBeChecked();
  await expect(first.getByTestId('share-tabs')).toHaveCount(0);
  await first.getByTestId('share-toggle').check();
  await expect(first).toHaveURL(/[?&]share=1/);
  await expectConnected(first, 'websocket');
  await expect(first.getByTestId('share-tabs')).toHaveText('1 tab');
  await expect(first.getByTestId('share-holder')).toHaveText('this tab');

  // The second tab opens without ?share=1: the switch comes from localStorage.
  const second = await context.newPage();
  await second.goto('/stocks');
  await expect(second.getByTestId('share-toggle')).toBeChecked();
  await expectConnected(second, 'websocket');
  for (const page of [first, second]) await expect(page.getByTestId('share-tabs')).toHaveText('2 tabs');
  await expectQuotesFlowing(second);

  const holderId = await first.getByTestId('share-holder-id').innerText();
  await expect(second.getByTestId('share-holder-id')).toHaveText(holderId);
  const ids = await Promise.all([first, second].map((p) => p.getByTestId('share-tab-id').innerText()));
  const holderIndex = ids.findIndex((id) => holderId.startsWith(`${id}.`));
  expect(holderIndex).toBeGreaterThanOrEqual(0);
  const holder = [first, second][holderIndex]!;
  const other = [first, second][1 - holderIndex]!;
  await expect(holder.getByTestId('share-holder')).toHaveText('this tab');
  await expect(other.getByTestId('share-holder')).toHaveText('another tab');
  await shot(other, 'inspector-sharing', info);

  // Closing the holder tab: the other one takes the connection over and data keeps flowing.
  await holder.close();
  await expect(other.getByTestId('share-tabs')).toHaveText('1 tab');
  await expect(other.getByTestId('share-holder')).toHaveText('this tab');
  const otherId = ids[1 - holderIndex]!;
  await expect(other.getByTestId('share-holder-id')).toHaveText(new RegExp(`^${otherId}\\.`));
  await expectConnected(other, 'websocket');
  await expectQuotesFlowing(other);
  await expect(other.getByTestId('inspector-log')).toContainText('connection held by this tab');
  await context.close();
});

test('auth switch: with DEMO_AUTH=1 the pages log in for a token and then connect', async ({
  page,
}, info) => {
  const base = process.env.DEMO_E2E_AUTH_URL;
  if (!base) throw new Error('playwright.config.ts sets DEMO_E2E_AUTH_URL');
  // Without a token the Push handshake is refused.
  const refused = await page.request.post(`${base}/push`, {
    data: [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }],
  });
  expect(((await refused.json()) as Array<{ error?: string }>)[0]?.error).toMatch(/^401:/);

  await page.goto(`${base}/chat/lobby`);
  await page.getByLabel('Your name').fill('Carol');
  await page.getByRole('button', { name: 'Get a token' }).click();
  await expectConnected(page, 'websocket');
  // The chat takes the name from the login.
  await expect(page.getByTestId('members')).toContainText('Carol');
  await page.getByTestId('composer').fill('Signed in and pushing');
  await page.getByTestId('composer').press('Enter');
  await expect(page.getByTestId('message').filter({ hasText: 'Signed in and pushing' })).toBeVisible();
  await shot(page, 'auth-chat', info);
});
