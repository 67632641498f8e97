// Globals the renderer may see. `window.pogo` exists only inside the desktop
// app (the preload exposes it); in a browser served by `pogo observe --ui` it
// is undefined, so it is optional and every use must check it.
import type { PogoPreloadApi } from '../../electron/preload-api';

declare global {
  interface Window {
    readonly pogo?: PogoPreloadApi;
  }
}

export {};
