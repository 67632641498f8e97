/**
 * Playwright configuration for the e2e suite (DESIGN §5, layer 4).
 *
 * Browser: Debian's Chromium at /usr/bin/chromium (no Playwright browser
 * download), headless, no sandbox (CI containers run as root), and with the
 * background services that would phone home turned off.
 * Runs serially with no retries: a flaky test is a failing test.
 *
 * Outputs (all at the repo root, whatever the cwd):
 *   test-results/              Playwright artifacts; failure screenshots and traces
 *   test-results/screenshots/  screenshots the specs save on purpose
 *   reports/e2e.json           JSON report, read by .ci/sum-reports.mjs
 *
 * Specs serve the built renderer themselves, so run `npm run build` first.
 */
import { defineConfig } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_FLAGS } from '../bench/lib/chromium.mjs';

const fromRoot = (relative: string): string => fileURLToPath(new URL(relative, new URL('..', import.meta.url)));

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.spec.ts',
  outputDir: fromRoot('test-results'),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: fromRoot('reports/e2e.json') }]],
  use: {
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    // Debian's Chromium and the flags every run here gives it: one list, bench/lib/chromium.mjs.
    launchOptions: { executablePath: CHROMIUM, args: [...CHROMIUM_FLAGS] },
  },
});
