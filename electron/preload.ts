/**
 * Preload: the only bridge between the sandboxed renderer and the app.
 *
 * Exposes a small, typed, namespaced API as `window.pogo` (see preload-api.ts)
 * through contextBridge. It never exposes ipcRenderer or any Node object:
 * each future capability gets its own named method, and main validates every
 * argument it receives. Built as CommonJS because sandboxed preloads cannot be
 * ES modules; only `electron` is required at run time.
 */
import { contextBridge } from 'electron';
import type { PogoPreloadApi } from './preload-api';
import { readAppVersionArg } from './app-version-arg';

const api: PogoPreloadApi = Object.freeze({
  version: readAppVersionArg(process.argv),
  platform: process.platform,
});

contextBridge.exposeInMainWorld('pogo', api);
