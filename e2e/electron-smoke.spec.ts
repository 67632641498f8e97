/**
 * Smoke test of the packaged-layout desktop app under Electron: the window
 * opens with the right title, the preload bridge is there, and Node is not.
 *
 * Skipped when the Electron binary is not installed (e.g. CI images that
 * cannot download it). We look for the binary the way the `electron`
 * package's index.js does (path.txt + dist/) instead of calling
 * require('electron'): that call tries to *download* Electron when it is
 * missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

  const args = [repoRoot];
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

    const bridge = await page.evaluate(() => ({
      pogo: (globalThis as { pogo?: unknown }).pogo ?? null,
      hasRequire: 'require' in globalThis,
      hasProcess: 'process' in globalThis,
    }));
    expect(bridge.pogo).toEqual({ version: expect.any(String), platform: process.platform });
    expect(bridge.hasRequire).toBe(false);
    expect(bridge.hasProcess).toBe(false);
  } finally {
    await app.close();
  }
});
