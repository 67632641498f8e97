/**
 * The core suite: unit, simulation and real-process tests, in Node.
 * `npm test -w pogo-core` (or `npx vitest run` in core/) runs it alone; the
 * repository's `npm test` runs it as one project beside the desktop app's.
 * Long timeouts because the process tests start real OS processes; the
 * global setup builds core/dist first, so those processes run the code
 * under test.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'core',
    root: import.meta.dirname,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
