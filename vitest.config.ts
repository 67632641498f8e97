/**
 * Vitest workspace: one project per layer, run together by `npm test`.
 *
 *   core      core/vitest.config.ts (core's own: `npm test -w pogo-core`);
 *             Node environment; unit, simulation and integration tests.
 *   renderer  happy-dom environment with the React plugin; store and
 *             component tests. No Node APIs in the code under test.
 *   electron  Node environment; the desktop app's main-process modules that
 *             do not import Electron (connections, IPC validation, sessions).
 *             Builds core/dist first, like core: electron/ imports the
 *             pogo-core package, and a demo session runs its CLI.
 *
 * Select one with `npx vitest run --project renderer`.
 */
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  test: {
    projects: [
      // core/vitest.config.ts: core's own suite, also run alone by `npm test -w pogo-core`.
      'core/vitest.config.ts',
      {
        plugins: [react()],
        test: {
          name: 'renderer',
          root: '.',
          environment: 'happy-dom',
          include: ['renderer/src/**/*.test.{ts,tsx}'],
          // CSS modules are compiled, so a module's classes are the names it really defines (scoped()
          // rejects any other, shared/scoped.ts), and keep their names as written (the build scopes
          // them), so a test can still find `.tl-text`; e2e, which runs the build, uses test ids and roles.
          css: { include: [/\.module\.css$/], modules: { classNameStrategy: 'non-scoped' } },
        },
      },
      {
        test: {
          name: 'electron',
          root: '.',
          environment: 'node',
          include: ['electron/**/*.test.ts'],
          globalSetup: ['core/test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
