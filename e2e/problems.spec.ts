/**
 * Problems first, against a real six-node cluster (`pogo demo --ui --nodes
 * 6`, real processes, the built renderer in Chromium at 1400×860):
 *
 * - a child that fails on every node appears in the "needs attention" lane,
 *   above the board, in view, and opens its detail; a toast says it turned
 *   failing; its status count filters the board;
 * - a wrong credential typed after a working viewer session is refused with
 *   one message, and the viewer session keeps working (a child started
 *   afterwards appears on the board);
 * - a SIGKILLed node gives a toast;
 * - when the gateway itself dies, the board is drawn stale, not green.
 *
 * What the cluster did is checked with `pogo ctl ls --json`, not only on
 * screen. Screenshots land in test-results/screenshots/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { closeDemo, DEMO_CHILDREN, listChildren, openDemo, type Demo, type ListedChild } from './helpers/demo.js';
import { screenshotsDir as shots } from './helpers/paths.js';

test.describe.configure({ mode: 'serial' });

const WIDTH = 1400;
let demo: Demo;
let page: Page;

const clusterChildren = (): Promise<ListedChild[]> => listChildren(demo.ctl);

/** Starts a child through `pogo ctl start` (the reply is not checked: a child that fails at start may be refused there and still be registered). */
async function startChild(spec: Record<string, unknown>): Promise<void> {
  const file = join(demo.dir, `${String(spec['id'])}.json`);
  writeFileSync(file, JSON.stringify(spec));
  await demo.ctl('start', file);
}

async function unlock(token: string): Promise<void> {
  await page.getByLabel('Credential').fill(token);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

const lane = () => page.getByRole('region', { name: 'Needs attention' });
const card = (id: string) => page.locator(`[data-testid="child-card"][data-child="${id}"]`);

test.beforeAll(async ({ browser }) => {
  ({ demo, page } = await openDemo(browser, { nodes: 6, viewport: { width: WIDTH, height: 860 } }));
});

test.afterAll(() => closeDemo(page, demo));

test('six nodes fit the window, and the lane says nothing needs attention', async () => {
  await page.goto(demo.url);
  await expect(page.getByTestId('node-column')).toHaveCount(6);
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN);
  await expect(lane()).toContainText('Nothing needs attention');
  for (const column of await page.getByTestId('node-column').all()) {
    const box = (await column.boundingBox())!;
    expect(box.x + box.width, `${await column.getAttribute('data-node')} is inside the window`).toBeLessThanOrEqual(WIDTH);
  }
});

test('a failing child appears in the attention lane, above the board, with a toast; the lane opens its detail', async () => {
  await startChild({ id: 'crash-1', start: { worker: 'crasher', args: { failStart: true } }, maxRestarts: 0 });
  await expect.poll(async () => (await clusterChildren()).find((c) => c.id === 'crash-1')?.status, { timeout: 20_000 }).toBe('failing');

  const entry = lane().locator('[data-testid="attention-item"][data-child="crash-1"]');
  await expect(entry).toHaveAttribute('data-kind', 'failing');
  await expect(entry).toContainText('crasher: asked to fail at start');
  await expect(entry).toBeInViewport();
  const laneBox = (await lane().boundingBox())!;
  const columnBox = (await page.getByTestId('node-column').first().boundingBox())!;
  expect(laneBox.y + laneBox.height).toBeLessThanOrEqual(columnBox.y);
  await expect(page.getByTestId('toast').filter({ hasText: 'crash-1 is failing' })).toBeVisible();
  await page.screenshot({ path: `${shots}attention-lane.png` });

  await entry.click();
  await expect(page.getByRole('complementary', { name: 'Child crash-1' })).toBeVisible();
  await page.screenshot({ path: `${shots}attention-lane-detail.png` });
  await page.keyboard.press('Escape');
});

test('several failing children: the lane lists them all at the top, the board below still in view', async () => {
  await Promise.all(
    ['crash-2', 'crash-3', 'crash-4'].map((id) => startChild({ id, start: { worker: 'crasher', args: { crashAfterMs: 50, mode: 'exit' } }, maxRestarts: 0 })),
  );
  await expect(lane().getByTestId('attention-item')).toHaveCount(4, { timeout: 30_000 });
  await expect(lane().getByTestId('attention-summary')).toHaveText('4 failing');
  await expect(page.getByTestId('node-column').first()).toBeInViewport();
  await page.screenshot({ path: `${shots}attention-lane-several.png` });
});

test('the failing count filters the board to the failing children, and pressing it again shows every child', async () => {
  const failingCount = page.getByTestId('board-counts').getByRole('button', { name: '4 failing' });
  await failingCount.click();
  await expect(failingCount).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('status-filter')).toContainText('showing failing only');
  await expect(page.getByTestId('child-card')).toHaveCount(4);
  await expect(card('crash-1')).toBeVisible();
  await page.screenshot({ path: `${shots}board-filtered.png` });
  await failingCount.click();
  await expect(page.getByTestId('status-filter')).toHaveCount(0);
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN + 4);
});

test('a wrong credential after a viewer session is refused once, and the viewer session keeps working', async () => {
  await unlock(demo.viewerToken);
  await expect(page.getByTestId('access')).toHaveText('viewer · read-only');
  await unlock('not-a-token-of-this-cluster');
  const refused = page.getByTestId('unlock-error');
  await expect(refused).toHaveText('Not unlocked: the credential is not valid for this cluster. This window keeps its viewer session.');
  await expect(page.getByRole('alert')).toHaveCount(1);
  await expect(page.getByTestId('connection-badge')).toHaveText('connected');
  await expect(page.getByTestId('access')).toHaveText('viewer · read-only');
  await expect(page.getByTestId('stale-banner')).toHaveCount(0);
  await page.screenshot({ path: `${shots}unlock-refused.png` });

  // Still live: a child started now reaches this session's board.
  await startChild({ id: 'after-refusal', start: { worker: 'ticker' } });
  let node: string | undefined;
  await expect
    .poll(async () => {
      node = (await clusterChildren()).find((c) => c.id === 'after-refusal' && c.status === 'running')?.node;
      return node;
    })
    .toBeTruthy();
  await expect(page.locator(`[data-testid="node-column"][data-node="${node}"] [data-child="after-refusal"]`)).toBeVisible();
});

test('a SIGKILLed node gives a toast that it is down', async () => {
  const before = await clusterChildren();
  const victim = demo.nodes.find((n) => before.some((c) => c.node === n.name))!;
  process.kill(victim.pid, 'SIGKILL');
  await expect(page.getByTestId('toast').filter({ hasText: victim.name }).first()).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('toast').filter({ hasText: victim.name }).first()).toContainText('down');
  await page.screenshot({ path: `${shots}toast-node-down.png` });
});

test('when the gateway dies, the last state is drawn stale: a banner, no green health dots', async () => {
  process.kill(demo.pid, 'SIGKILL');
  await expect(page.getByTestId('stale-banner')).toContainText('Connection lost at');
  await expect(page.getByTestId('connection-badge')).not.toHaveText('connected');
  await expect(page.locator('[data-health="up"]')).toHaveCount(0);
  await expect(page.getByTestId('node-health').first()).toHaveAttribute('data-health', 'stale');
  await page.screenshot({ path: `${shots}board-stale.png` });
});
