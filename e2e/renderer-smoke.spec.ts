/**
 * Smoke test of the built renderer in Debian's Chromium, served over http
 * the way `pogo observe --ui` will serve it: the shell renders, the
 * connection badge is visible, and the page logs no errors (which also
 * catches Content-Security-Policy violations).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { rendererDir, screenshotsDir } from './helpers/paths.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

let server: StaticServer;

test.beforeAll(async () => {
  const index = join(rendererDir, 'index.html');
  if (!existsSync(index)) {
    throw new Error(`${index} does not exist: build the app first with \`npm run build\` (or \`npx electron-vite build\`).`);
  }
  server = await startStaticServer(rendererDir);
});

test.afterAll(async () => {
  await server?.close();
});

test('renderer shell shows the header and the connection badge, without console errors', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? '?'})`));

  await page.goto(server.url);

  await expect(page).toHaveTitle('Pogo');
  await expect(page.getByRole('heading', { level: 1, name: 'Pogo' })).toBeVisible();
  const badge = page.getByTestId('connection-badge');
  await expect(badge).toBeVisible();
  await expect(badge).toHaveText('not connected');
  await expect(page.getByText('No cluster connected')).toBeVisible();

  await mkdir(screenshotsDir, { recursive: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: join(screenshotsDir, 'shell.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(screenshotsDir, 'shell-dark.png'), fullPage: true });

  expect(errors).toEqual([]);
});
