/**
 * The desktop app's renderer against a real cluster: `pogo demo --ui`
 * starts three `pogo node` processes, an observer and the gateway serving
 * the built renderer (the same code path the desktop app runs, DESIGN §3.6).
 *
 * Every change made from the UI is checked with the cluster itself
 * (`pogo ctl ls --json`), not only on the screen. One cluster serves the
 * whole file; the tests run in order and build on each other.
 * A screenshot of every view lands in test-results/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { closeDemo, DEMO_CHILDREN, listChildren, openDemo, type Demo, type ListedChild } from './helpers/demo.js';
import { screenshotsDir as shots } from './helpers/paths.js';

test.describe.configure({ mode: 'serial' });

let demo: Demo;
let page: Page;

const clusterChildren = (): Promise<ListedChild[]> => listChildren(demo.ctl);

const column = (node: string) => page.locator(`[data-testid="node-column"][data-node="${node}"]`);
const card = (id: string) => page.locator(`[data-child="${id}"]`);
const nodeOf = (id: string) => card(id).evaluate((el): string | null => el.closest('[data-node]')?.getAttribute('data-node') ?? null);

async function unlock(token: string): Promise<void> {
  await page.getByLabel('Credential').fill(token);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

async function openView(name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name }).click();
}

test.beforeAll(async ({ browser }) => {
  ({ demo, page } = await openDemo(browser));
});

test.afterAll(() => closeDemo(page, demo));

test('the read-only board shows three nodes and their children, and offers no commands', async () => {
  await page.goto(demo.url);
  await expect(page.getByTestId('node-column')).toHaveCount(3);
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN);
  await expect(page.getByTestId('access')).toHaveText('read-only');
  await expect(page.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Start child' })).toHaveCount(0);
  await expect(card('ticker-1')).toHaveAttribute('draggable', 'false');
  // Each card sits in the column of the node the cluster runs it on.
  for (const c of await clusterChildren()) expect(await nodeOf(c.id)).toBe(c.node);
  await page.screenshot({ path: `${shots}board.png` });
});

test('a credential the cluster does not know is refused, with the reason said once, and the read-only session goes on', async () => {
  await unlock('not-a-token-of-this-cluster');
  await expect(page.getByRole('alert')).toHaveText(['Not unlocked: the credential is not valid for this cluster. This window keeps its read-only session.']);
  await expect(page.getByTestId('connection-badge')).toHaveText('connected');
  await expect(page.getByTestId('access')).toHaveText('read-only');
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN);
});

test('a viewer credential can watch and read the audit log, and is blocked from every command', async () => {
  await page.goto(demo.url);
  await unlock(demo.viewerToken);
  await expect(page.getByTestId('access')).toHaveText('viewer · read-only');
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN);
  await expect(page.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Start child' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /Pause rebalancing/ })).toHaveCount(0);
  await expect(card('ticker-1')).toHaveAttribute('draggable', 'false');
  await card('ticker-1').click();
  const detail = page.getByRole('complementary', { name: 'Child ticker-1' });
  await expect(detail).toBeVisible();
  await expect(detail.getByRole('button', { name: 'Stop' })).toHaveCount(0);
  await page.keyboard.press('Escape');
  await openView('Audit');
  await expect(page.getByRole('region', { name: 'Audit log' })).toBeVisible();
  await openView('Board');
});

test('starting a child from the UI makes it appear on the node the cluster put it on', async () => {
  await page.goto(demo.url);
  await unlock(demo.operatorToken);
  await expect(page.getByTestId('access')).toHaveText('operator');
  await page.getByRole('button', { name: 'Start child' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Child id').fill('ui-started');
  await dialog.getByLabel('Worker').selectOption('counter');
  await page.screenshot({ path: `${shots}start-child.png` });
  await dialog.getByRole('button', { name: 'Start', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Start', exact: true }).click();
  await expect(card('ui-started')).toBeVisible();
  const fromCluster = (await clusterChildren()).find((c) => c.id === 'ui-started');
  expect(fromCluster).toMatchObject({ status: 'running' });
  expect(await nodeOf('ui-started')).toBe(fromCluster!.node);
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN + 1);
});

test('dragging a card onto another node moves the child there, as the cluster confirms', async () => {
  const from = await nodeOf('ticker-1');
  const to = demo.nodes.map((n) => n.name).find((n) => n !== from)!;
  await card('ticker-1').dragTo(column(to));
  await expect(page.getByRole('dialog')).toContainText('Move ticker-1?');
  await page.getByRole('dialog').getByRole('button', { name: 'Move' }).click();
  await expect(column(to).locator('[data-child="ticker-1"]')).toContainText('pinned');
  await expect.poll(async () => (await clusterChildren()).find((c) => c.id === 'ticker-1')).toMatchObject({ node: to, pin: to, status: 'running' });
  await page.screenshot({ path: `${shots}board-after-move.png` });
});

test('the detail panels explain a child and list a node', async () => {
  await card('counter-1').click();
  const child = page.getByRole('complementary', { name: 'Child counter-1' });
  await expect(child).toContainText('counter');
  await expect(child.getByRole('table').first()).toBeVisible();
  await page.screenshot({ path: `${shots}child-detail.png` });
  const node = (await nodeOf('counter-1'))!;
  await column(node).getByRole('button', { name: node }).click();
  const detail = page.getByRole('complementary', { name: `Node ${node}` });
  await expect(detail).toContainText('counter-1');
  await page.screenshot({ path: `${shots}node-detail.png` });
  await page.keyboard.press('Escape');
  await expect(detail).toHaveCount(0);
});

test('SIGKILL of a node: its children reappear on the others, and the timeline shows the redistribution and the moves', async () => {
  const before = await clusterChildren();
  // A node that holds children and no pins (a pinned child waits for its node).
  const victim = demo.nodes.find((n) => before.some((c) => c.node === n.name) && !before.some((c) => c.pin === n.name))!;
  const lost = before.filter((c) => c.node === victim.name).map((c) => c.id);
  expect(lost.length).toBeGreaterThan(0);
  process.kill(victim.pid, 'SIGKILL');
  await expect(column(victim.name).getByTestId('child-card')).toHaveCount(0, { timeout: 15_000 });
  for (const id of lost) await expect(card(id)).toBeVisible();
  await expect
    .poll(async () => (await clusterChildren()).filter((c) => c.status === 'running' && c.node !== victim.name).length, { timeout: 15_000 })
    .toBe(before.length);
  await page.screenshot({ path: `${shots}board-after-kill.png` });

  await openView('Timeline');
  const timeline = page.getByRole('region', { name: 'Timeline' });
  // The newest row first. On a loaded machine the observer can also have lost and regained its links
  // for a moment before (the demo runs the 1 s `local` timeout): an earlier node-down of its own.
  await expect(timeline.locator('[data-type="node-down"]').filter({ hasText: victim.name }).first()).toBeVisible();
  await expect(timeline.locator('[data-type="converged"]').first()).toBeVisible({ timeout: 15_000 });
  // The moves off it: one line per burst (expanded, it lists the children), or the event itself for a burst of one.
  const moves = timeline.locator('[data-type="moved"]').filter({ hasText: victim.name });
  await expect(moves.first()).toBeVisible();
  for (const toggle of await moves.getByTestId('tl-toggle').all()) await toggle.click();
  for (const id of lost) await expect(moves.filter({ hasText: id }).first()).toBeVisible();
  await page.screenshot({ path: `${shots}timeline.png` });

  await openView('Charts');
  await expect(page.getByTestId('chart').first()).toBeVisible();
  await page.screenshot({ path: `${shots}charts.png` });
  await openView('Groups');
  await expect(page.getByRole('region', { name: 'Groups' })).toBeVisible();
  await page.screenshot({ path: `${shots}groups.png` });
  await openView('Audit');
  await expect(page.getByRole('region', { name: 'Audit log' })).toContainText('move');
  await page.screenshot({ path: `${shots}audit.png` });
  await openView('Board');
});

test('a node that is down is no drop target: dragging a card over it says why, and dropping asks nothing; its detail does not say it is ready', async () => {
  const down = page.locator('[data-testid="node-column"]').filter({ has: page.locator('[data-health="down"]') });
  await expect(down).toHaveCount(1);
  const name = (await down.getAttribute('data-node'))!;
  const id = (await clusterChildren()).find((c) => c.status === 'running')!.id;
  await card(id).hover();
  await page.mouse.down();
  await down.hover({ position: { x: 60, y: 160 } });
  await down.hover({ position: { x: 70, y: 170 } });
  await expect(down.getByTestId('drop-refusal')).toHaveText(`Not a drop target: ${name} is down`);
  await expect(down).toHaveAttribute('data-drop', 'refused');
  await page.screenshot({ path: `${shots}drop-refused.png` });
  await page.mouse.up();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(down.getByTestId('drop-refusal')).toHaveCount(0);
  await down.getByRole('button', { name }).click();
  await expect(page.getByTestId('node-ready')).toHaveText('does not apply: it is down, so it takes no children');
  await page.keyboard.press('Escape');
});

test('draining a node from the UI empties it, as the cluster confirms', async () => {
  const children = await clusterChildren();
  const live = new Set(children.map((c) => c.node));
  // A live node that holds children, none of them pinned to it.
  const drained = demo.nodes.map((n) => n.name).find((n) => live.has(n) && !children.some((c) => c.pin === n))!;
  await column(drained).getByRole('button', { name: 'Drain' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Drain' }).click();
  await expect(column(drained)).toContainText('draining');
  await expect.poll(async () => (await clusterChildren()).filter((c) => c.node === drained).length, { timeout: 15_000 }).toBe(0);
  await expect(column(drained).getByTestId('child-card')).toHaveCount(0);
  await page.screenshot({ path: `${shots}board-drained.png` });
  // The light theme, for the record.
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  await page.screenshot({ path: `${shots}board-light.png` });
});
