/**
 * The API the preload script exposes to the renderer as `window.pogo`.
 *
 * Types only: this file is shared by electron/preload.ts (which implements it)
 * and the renderer (which declares `window.pogo` as optional, because in a
 * plain browser served by `pogo observe --ui` there is no preload). Keep it
 * free of runtime code and of Node/Electron imports.
 *
 * Rules for growing it (DESIGN §4, Electron security): one method per purpose,
 * never raw ipcRenderer; every argument is validated again in main; event
 * subscriptions return an unsubscribe function.
 */
export interface PogoPreloadApi {
  /** Desktop app version (from package.json, as reported by Electron's app.getVersion()). */
  readonly version: string;
  /** Node-style platform name of the desktop host: 'linux', 'darwin', 'win32'. */
  readonly platform: string;
}

