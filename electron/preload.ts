/**
 * Preload: the only bridge between the sandboxed renderer and the app.
 *
 * Exposes a small, typed, namespaced API as `window.pogo` (see preload-api.ts)
 * through contextBridge: one method per purpose, each a single
 * `ipcRenderer.invoke` on its own channel (ipc-channels.ts). It never exposes
 * ipcRenderer or any Node object, and passes arguments through untouched:
 * main validates every one of them (ipc.ts). Built as CommonJS because
 * sandboxed preloads cannot be ES modules; only `electron` is required at
 * run time (ipc-channels.ts has no imports and is bundled in).
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { PogoPreloadApi } from './preload-api';
import { readAppVersionArg } from './app-version-arg';
import { IPC_CHANNELS } from './ipc-channels';

const api: PogoPreloadApi = Object.freeze({
  version: readAppVersionArg(process.argv),
  platform: process.platform,
  listConnections: () => ipcRenderer.invoke(IPC_CHANNELS.listConnections),
  saveConnection: (connection) => ipcRenderer.invoke(IPC_CHANNELS.saveConnection, connection),
  deleteConnection: (id) => ipcRenderer.invoke(IPC_CHANNELS.deleteConnection, id),
  chooseFile: (purpose) => ipcRenderer.invoke(IPC_CHANNELS.chooseFile, purpose),
  connect: (id) => ipcRenderer.invoke(IPC_CHANNELS.connect, id),
  startDemo: () => ipcRenderer.invoke(IPC_CHANNELS.startDemo),
  disconnect: () => ipcRenderer.invoke(IPC_CHANNELS.disconnect),
} satisfies PogoPreloadApi);

contextBridge.exposeInMainWorld('pogo', api);
