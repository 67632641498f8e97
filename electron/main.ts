/**
 * Electron main process: window, security policy, renderer loading.
 *
 * Kept thin on purpose. The window runs the renderer with contextIsolation
 * and the Chromium sandbox on, Node integration off and web security on; the
 * only bridge is the typed preload API. The app never opens a second window
 * and never navigates away from itself: http(s) links go to the system
 * browser, everything else is denied.
 *
 * Not here yet: the observer node and its loopback gateway (DESIGN §3.6).
 * They will start in the `whenReady` handler below, before the window is
 * created, and the renderer will be pointed at the gateway with its token.
 */
import { app, BrowserWindow, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { appVersionArg } from './app-version-arg';

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererIndexPath = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
/** Set by `electron-vite dev` to the renderer dev server (http://localhost:5173). */
const devServerUrl = process.env['ELECTRON_RENDERER_URL'];

/** True for URLs that belong to the app itself (the dev server or the built files). */
function isAppUrl(url: string): boolean {
  if (devServerUrl !== undefined) return url.startsWith(devServerUrl);
  return url.startsWith('file://') && fileURLToPath(url.split(/[?#]/, 1)[0] ?? url) === rendererIndexPath;
}

function isWebLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    title: 'Pogo',
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      additionalArguments: [appVersionArg(app.getVersion())],
    },
  });

  win.once('ready-to-show', () => win.show());

  // No new windows: web links open in the user's browser, all else is dropped.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isWebLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });

  // No navigation away from the app (a dropped file, a stray link, a redirect).
  win.webContents.on('will-navigate', (event, url) => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    if (isWebLink(url)) void shell.openExternal(url);
  });

  if (devServerUrl !== undefined) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererIndexPath);
  return win;
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

void app.whenReady().then(() => {
  // Later issue: start the observer + gateway here, then create the window.
  createMainWindow();
  // macOS: re-create the window when the dock icon is clicked and none is open.
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
});
