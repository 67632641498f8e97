/**
 * Which URLs the desktop window may show, as pure functions (main.ts applies
 * them to navigation, new windows and IPC senders).
 *
 * The app is exactly: the local renderer (the built index.html over file://,
 * or the dev server's origin under `electron-vite dev`) and the current
 * session's gateway origin (http://127.0.0.1:port, which serves the same
 * built renderer). Anything else — another port, another host, another file,
 * a previous session's gateway — is not the app.
 */
import { fileURLToPath } from 'node:url';

export interface AppUrls {
  /** Absolute path of the built renderer's index.html. */
  rendererIndexPath: string;
  /** The renderer dev server (ELECTRON_RENDERER_URL), when running under `electron-vite dev`. */
  devServerUrl?: string | undefined;
  /** Origin of the current session's gateway, when a session is open. */
  sessionOrigin?: string | undefined;
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}

/** True for the local renderer page (the connections screen). */
export function isLocalAppUrl(url: string, app: AppUrls): boolean {
  if (app.devServerUrl !== undefined) {
    const origin = originOf(url);
    return origin !== undefined && origin === originOf(app.devServerUrl);
  }
  if (!url.startsWith('file://')) return false;
  try {
    return fileURLToPath(url.split(/[?#]/, 1)[0] ?? url) === app.rendererIndexPath;
  } catch {
    return false;
  }
}

/** True for URLs that belong to the app: the local renderer, or the current session's gateway. */
export function isAppUrl(url: string, app: AppUrls): boolean {
  if (isLocalAppUrl(url, app)) return true;
  const origin = originOf(url);
  return app.sessionOrigin !== undefined && origin !== undefined && origin === originOf(app.sessionOrigin);
}

/** http(s) links, which the app opens in the system browser instead of its window. */
export function isWebLink(url: string): boolean {
  return originOf(url) !== undefined;
}
