/**
 * The desktop app's Connections view in Chromium. Electron cannot run here,
 * so the preload bridge (`window.pogo`) is replaced by a fake with the same
 * typed API (electron/preload-api.ts) that records calls; the real main-side
 * handlers are covered by electron/*.test.ts. Checks what a user sees with
 * no saved connection (the demo offer) and with one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { docsDir, rendererDir, screenshotsDir } from './helpers/paths.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

let server: StaticServer;

test.beforeAll(async () => {
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error('build the app first with `npm run build`');
  server = await startStaticServer(rendererDir);
});

test.afterAll(async () => {
  await server?.close();
});

function fakeBridge(saved: unknown[]): string {
  return `(() => {
    const calls = [];
    const saved = ${JSON.stringify(saved)};
    window.__calls = calls;
    window.pogo = Object.freeze({
      version: '0.1.0',
      platform: 'linux',
      listConnections: async () => (calls.push('listConnections'), { ok: true, connections: saved }),
      saveConnection: async (c) => (calls.push('saveConnection'), { ok: true, connection: { ...c, id: 'c2' } }),
      deleteConnection: async () => (calls.push('deleteConnection'), { ok: true }),
      chooseFile: async (purpose) => (calls.push('chooseFile:' + purpose), { ok: true, path: '/etc/pogo/' + purpose }),
      connect: async (id) => (calls.push('connect:' + id), { ok: true }),
      startDemo: async () => (calls.push('startDemo'), { ok: true }),
      disconnect: async () => (calls.push('disconnect'), { ok: true }),
    });
  })();`;
}

test('with no saved connection, the desktop app offers a local demo cluster', async ({ page }) => {
  await page.addInitScript(fakeBridge([]));
  await page.goto(server.url);
  await expect(page.getByRole('heading', { name: 'Connections', exact: true })).toBeVisible();
  await expect(page.getByRole('contentinfo')).toContainText('desktop app 0.1.0');
  await page.screenshot({ path: `${screenshotsDir}connections-empty.png` });
  await page.getByRole('button', { name: 'Start a local demo cluster' }).click();
  await expect.poll(() => page.evaluate(() => (globalThis as unknown as { __calls: string[] }).__calls)).toContain('startDemo');
});

test('a saved connection is listed and connects through main', async ({ page }) => {
  await page.addInitScript(
    fakeBridge([{ id: 'c1', name: 'production', seeds: ['10.0.0.1:4370'], secretFile: '/etc/pogo/secret', operatorTokenFile: '/etc/pogo/operator' }]),
  );
  await page.goto(server.url);
  const list = page.getByRole('list', { name: 'Saved connections' });
  await expect(list).toContainText('production');
  await expect(list).toContainText('10.0.0.1:4370');
  await page.screenshot({ path: `${screenshotsDir}connections.png` });
  // The README's screenshot of the view.
  await page.screenshot({ path: `${docsDir}connections.png` });
  await page.getByRole('button', { name: 'Connect to production' }).click();
  await expect.poll(() => page.evaluate(() => (globalThis as unknown as { __calls: string[] }).__calls)).toContain('connect:c1');
});
