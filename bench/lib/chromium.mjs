/**
 * Debian's Chromium as the benchmarks and the reliability scripts drive it
 * (Playwright launches it; no browser download): where it is and the flags
 * it runs with — headless, no sandbox (root in CI containers), and the
 * background services that would reach the network turned off. The e2e
 * suite's config (e2e/playwright.config.ts) reads them from here too.
 */

/** Where Debian installs Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags every run here starts it with. */
export const CHROMIUM_FLAGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]);
