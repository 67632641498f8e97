// Globals the renderer may see. `window.pogo` exists only inside the desktop
// app (the preload exposes it); in a browser served by `pogo observe --ui` it
// is undefined, so it is optional and every use must check it.
import type { PogoPreloadApi } from '../../electron/preload-api';

declare global {
  interface Window {
    readonly pogo?: PogoPreloadApi;
  }
  // What the renderer reads of Vite's import.meta.env: DEV is true in `electron-vite dev` and in tests,
  // false in a build; MODE is 'test' under Vitest.
  interface ImportMetaEnv {
    readonly DEV: boolean;
    readonly MODE: string;
  }
  interface ImportMeta {
    readonly env: ImportMetaEnv;
    /** Vite's import of every module a pattern matches (used by tests only). */
    glob<T>(pattern: string, options: { eager: true; import: 'default' }): Record<string, T>;
  }
}

export {};
