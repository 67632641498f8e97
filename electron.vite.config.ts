/**
 * electron-vite build for the desktop app: three bundles, explicit entries.
 *
 *   main     electron/main.ts     -> out/main/index.js    (ESM; package.json "main")
 *   preload  electron/preload.ts  -> out/preload/index.cjs (CommonJS: sandboxed
 *                                    preloads cannot be ES modules)
 *   renderer renderer/index.html  -> out/renderer/index.html (+ assets/)
 *
 * Main and preload keep their dependencies external (`externalizeDeps`, the
 * electron-vite default, spelled out here): pogo-core is loaded from
 * node_modules at run time, never bundled. The renderer is a plain web bundle
 * with a relative base, so the same output loads from file:// in Electron and
 * over http from `pogo observe --ui` and the e2e static server.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: resolve(root, 'electron/main.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: resolve(root, 'electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(root, 'renderer/index.html') },
      },
    },
  },
});
