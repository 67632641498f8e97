/**
 * The placement board against a real cluster: `pogo demo --ui` starts three
 * `pogo node` processes, an observer and the gateway serving the built
 * renderer. The board shows the nodes and their children; dragging a card
 * onto another node (with an operator token, after confirming) moves the
 * child there — the card lands only when the cluster reports it there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

import { repoRoot as root, screenshotsDir as shots } from './helpers/paths.js';

const cli = fileURLToPath(new URL('../core/bin/pogo.js', import.meta.url));

let demo: ChildProcess | undefined;
const pids: number[] = [];

test.afterEach(async () => {
  if (demo && demo.exitCode === null) {
    const exited = new Promise((r) => demo!.once('exit', r));
    demo.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

async function startDemo(): Promise<{ url: string; operatorToken: string }> {
  const child = spawn(process.execPath, [cli, 'demo', '--ui', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  demo = child;
  pids.push(child.pid!);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let operatorToken = '';
    const timer = setTimeout(() => reject(new Error('pogo demo did not start within 30 s')), 30_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl)) as { msg: string; url?: string; operatorToken?: string; pids?: number[] };
        buffer = buffer.slice(nl + 1);
        if (line.msg === 'demo ready') {
          operatorToken = line.operatorToken!;
          pids.push(...line.pids!);
        }
        if (line.msg === 'gateway listening') {
          clearTimeout(timer);
          resolve({ url: line.url!, operatorToken });
        }
      }
    });
  });
}

test('the board shows the cluster, and dragging a card moves the child there', async ({ page }) => {
  mkdirSync(shots, { recursive: true });
  const { url, operatorToken } = await startDemo();
  await page.goto(url);
  await expect(page.getByTestId('node-column')).toHaveCount(3);
  await expect(page.getByTestId('child-card')).toHaveCount(8);
  await expect(page.getByText('read-only')).toBeVisible();
  await page.screenshot({ path: `${shots}board.png`, fullPage: true });

  // Read-only: no commands offered.
  await expect(page.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(page.locator('[data-child="ticker-1"]')).toHaveAttribute('draggable', 'false');
  // A wrong token unlocks the controls, but the cluster refuses the command, and says why.
  await page.getByLabel('Operator token').fill('not-the-operator-token');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('[data-node="demo-1"]').getByRole('button', { name: 'Drain' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Drain' }).click();
  await expect(page.getByRole('alert')).toContainText('unauthorized');
  await expect(page.locator('[data-node="demo-1"]')).not.toContainText('draining');
  await page.getByRole('alert').click();

  await page.getByLabel('Operator token').fill(operatorToken);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByText('operator', { exact: true })).toBeVisible();
  await expect(page.getByTestId('child-card')).toHaveCount(8);

  const card = page.locator('[data-child="ticker-1"]');
  const from = await card.evaluate((el) => el.closest('[data-node]')!.getAttribute('data-node'));
  const to = ['demo-1', 'demo-2', 'demo-3'].find((n) => n !== from)!;
  await card.dragTo(page.locator(`[data-node="${to}"]`));
  await expect(page.getByRole('dialog')).toContainText(`Move ticker-1?`);
  await page.getByRole('button', { name: 'Move' }).click();
  await expect(page.locator(`[data-node="${to}"] [data-child="ticker-1"]`)).toBeVisible();
  await expect(page.locator(`[data-node="${to}"] [data-child="ticker-1"]`)).toContainText('pinned');
  await page.screenshot({ path: `${shots}board-after-move.png`, fullPage: true });

  // Drain a node from the UI: after confirming, its column empties (the cluster moved them).
  const drained = ['demo-1', 'demo-2', 'demo-3'].find((n) => n !== to)!;
  await page.locator(`[data-node="${drained}"]`).getByRole('button', { name: 'Drain' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Drain' }).click();
  await expect(page.locator(`[data-node="${drained}"] [data-testid="child-card"]`)).toHaveCount(0);
  await expect(page.locator(`[data-node="${drained}"]`)).toContainText('draining');
  await expect(page.getByTestId('child-card')).toHaveCount(8);
});
