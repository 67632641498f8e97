/**
 * Electron main process: window, security policy, sessions.
 *
 * Kept thin on purpose; the logic lives in pure modules with tests:
 * app-url.ts (what the window may show), handlers.ts + ipc.ts (the preload
 * methods, every argument validated), connections.ts (saved connections in
 * the userData directory), session.ts (observer + gateway, or a demo cluster).
 *
 * Flow (DESIGN §3.6): the window first loads the local renderer with no
 * gateway token, which shows the Connections view. When the user connects
 * (or starts the demo), main reads the secret and token files, starts the
 * observer and its loopback gateway — which serves the same built renderer
 * — and navigates the window to the gateway URL with its session token.
 * The cluster secret and tokens stay in main. `disconnect` closes the
 * session and goes back to the local page; quitting (or closing the window)
 * closes the session, which stops a demo's processes by pid.
 *
 * Security: contextIsolation and the Chromium sandbox on, Node integration
 * off, web security on; the only bridge is the typed preload API, and IPC
 * is answered only for the app's own pages. The app never opens a second
 * window and never navigates away from itself: http(s) links go to the
 * system browser, everything else is denied.
 *
 * Under `electron-vite dev` the local page comes from the dev server, but a
 * session page is served by the gateway from the last build (out/renderer).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, shell, type IpcMainInvokeEvent } from 'electron';
import { isAppUrl, isWebLink, type AppUrls } from './app-url';
import { appVersionArg } from './app-version-arg';
import { createIpcHandlers } from './handlers';
import { FILE_DIALOGS, IPC_CHANNELS, type IpcMethod } from './ipc';
import type { FilePurpose } from './preload-api';
import { openSession, SessionManager } from './session';

const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));
const rendererIndexPath = join(rendererDir, 'index.html');
/** Set by `electron-vite dev` to the renderer dev server (http://localhost:5173). */
const devServerUrl = process.env['ELECTRON_RENDERER_URL'];

const sessions = new SessionManager((target) => openSession(target, { staticDir: rendererDir }));
const appUrls = (): AppUrls => ({ rendererIndexPath, devServerUrl, sessionOrigin: sessions.current?.origin });

let mainWindow: BrowserWindow | undefined;

function showConnections(win: BrowserWindow): void {
  if (devServerUrl !== undefined) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererIndexPath);
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
    if (isAppUrl(url, appUrls())) return;
    event.preventDefault();
    if (isWebLink(url)) void shell.openExternal(url);
  });

  // The window is the session's only viewer: closing it ends the session.
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = undefined;
    void sessions.close();
  });

  showConnections(win);
  return win;
}

/** IPC is answered only for the main frame of our window showing one of the app's pages. */
function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return (
    mainWindow !== undefined && event.sender === mainWindow.webContents && frame !== null && frame === event.sender.mainFrame && isAppUrl(frame.url, appUrls())
  );
}

async function chooseFile(purpose: FilePurpose): Promise<string | null> {
  const { title, filters } = FILE_DIALOGS[purpose];
  const options = {
    title,
    filters,
    properties: ['openFile', 'showHiddenFiles', 'dontAddToRecent'] as Array<'openFile' | 'showHiddenFiles' | 'dontAddToRecent'>,
  };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

function registerIpc(): void {
  const handlers = createIpcHandlers({
    connectionsDir: app.getPath('userData'),
    sessions,
    chooseFile,
    // Navigate after the reply has gone out, so the caller's promise settles first.
    showSession: (session) => setImmediate(() => void mainWindow?.loadURL(session.url)),
    showConnections: () => setImmediate(() => mainWindow && showConnections(mainWindow)),
    newId: () => randomUUID(),
    onError: (_method, message) => console.warn(`pogo: ${message}`),
  });
  for (const method of Object.keys(IPC_CHANNELS) as IpcMethod[]) {
    ipcMain.handle(IPC_CHANNELS[method], (event, ...args: unknown[]) => {
      if (!isTrustedSender(event)) return { ok: false, error: 'refused: this page is not part of the app' };
      return handlers[method](args);
    });
  }
}

// Quitting waits (bounded) for the session to close: a demo's processes are stopped by pid.
let closedForQuit = false;
app.on('before-quit', (event) => {
  if (closedForQuit) return;
  event.preventDefault();
  closedForQuit = true;
  const bound = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
  void Promise.race([sessions.close().catch(() => undefined), bound]).finally(() => app.quit());
});
// Last resort if main exits without quitting cleanly: no demo process outlives it.
process.on('exit', () => sessions.killNow());

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

void app.whenReady().then(() => {
  registerIpc();
  mainWindow = createMainWindow();
  // macOS: re-create the window when the dock icon is clicked and none is open.
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow();
  });
});
