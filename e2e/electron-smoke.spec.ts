/**
 * Smoke test of the packaged-layout desktop app under Electron: the window
 * opens with the right title on the Connections view (a fresh user-data
 * directory: nothing saved, so the demo is offered), the preload bridge is
 * there with its methods, and Node is not.
 *
 * Skipped when the Electron binary is not installed (e.g. CI images that
 * cannot download it). We look for the binary the way the `electron`
 * package's index.js does (path.txt + dist/) instead of calling
 * require('electron'): that call tries to *download* Electron when it is
 * missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { repoRoot } from './helpers/paths.js';

/** Absolute path of the Electron executable, or the reason it is unavailable. */
function findElectronBinary(): { path: string } | { missing: string } {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed' };
  }
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH'];
  const pathFile = join(packageDir, 'path.txt');
  if (override === undefined && !existsSync(pathFile)) return { missing: `${pathFile} is missing (download skipped or failed)` };
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : 'electron';
  const binary = override === undefined ? join(packageDir, 'dist', relative) : join(override, relative);
  return existsSync(binary) ? { path: binary } : { missing: `${binary} does not exist` };
}

test('desktop app opens its window with the preload bridge and no Node in the page', async () => {
  const electronBinary = findElectronBinary();
  test.skip('missing' in electronBinary, `Electron binary not present: ${'missing' in electronBinary ? electronBinary.missing : ''}`);
  if (!('path' in electronBinary)) return;

  const mainBundle = join(repoRoot, 'out/main/index.js');
  if (!existsSync(mainBundle)) throw new Error(`${mainBundle} does not exist: run \`npm run build\` first.`);

  // A fresh user-data directory: no saved connections from the machine's real profile.
  const userData = mkdtempSync(join(tmpdir(), 'pogo-electron-smoke-'));
  const args = [repoRoot, `--user-data-dir=${userData}`];
  // Chromium refuses to start its sandbox as root (CI containers); the
  // renderer stays `sandbox: true` at the Electron level either way.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  // No X/Wayland display (headless CI): render off-screen.
  if (process.platform === 'linux' && !process.env['DISPLAY'] && !process.env['WAYLAND_DISPLAY']) {
    args.push('--ozone-platform=headless');
  }

  const app = await electron.launch({ executablePath: electronBinary.path, args, cwd: repoRoot });
  try {
    const page = await app.firstWindow();
    await expect(page).toHaveTitle('Pogo');
    await expect(page.getByTestId('connection-badge')).toHaveText('not connected');
    await expect(page.getByRole('heading', { name: 'Connections' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Start a local demo cluster' })).toBeVisible();

    const bridge = await page.evaluate(() => {
      const pogo = (globalThis as { pogo?: Record<string, unknown> }).pogo;
      return {
        version: pogo?.['version'] ?? null,
        platform: pogo?.['platform'] ?? null,
        methods: pogo
          ? Object.keys(pogo)
              .filter((k) => typeof pogo[k] === 'function')
              .sort()
          : [],
        hasRequire: 'require' in globalThis,
        hasProcess: 'process' in globalThis,
      };
    });
    expect(bridge).toEqual({
      version: expect.any(String),
      platform: process.platform,
      methods: ['chooseFile', 'connect', 'deleteConnection', 'disconnect', 'listConnections', 'saveConnection', 'startDemo'],
      hasRequire: false,
      hasProcess: false,
    });
  } finally {
    await app.close();
    rmSync(userData, { recursive: true, force: true });
  }
});
