/**
 * What the app says when the cluster is there but not as it was, against a
 * real three-node cluster (`pogo demo --ui`, real processes, the built
 * renderer in Chromium):
 *
 * - a stop from the UI reads as that operator's stop on the timeline, not
 *   as "has no node to run on";
 * - with every member killed, the gateway is up but reaches no member: the
 *   header says so (not a green "connected"), the attention lane lists it
 *   first, commands are disabled with the reason, and the board shows the
 *   last known children, marked unverified, with grey health dots, never
 *   "0 children"; the timeline declares no convergence.
 *
 * Screenshots land in test-results/screenshots/.
 */
import { expect, test, type Page } from '@playwright/test';
import { closeDemo, DEMO_CHILDREN, listChildren, openDemo, type Demo } from './helpers/demo.js';
import { screenshotsDir as shots } from './helpers/paths.js';

test.describe.configure({ mode: 'serial' });

let demo: Demo;
let page: Page;

const lane = () => page.getByRole('region', { name: 'Needs attention' });
const card = (id: string) => page.locator(`[data-testid="child-card"][data-child="${id}"]`);
const view = (name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name }).click();

test.beforeAll(async ({ browser }) => {
  ({ demo, page } = await openDemo(browser));
});

test.afterAll(() => closeDemo(page, demo));

test('a stop from the UI reads as the operator’s stop on the timeline', async () => {
  await page.goto(demo.url);
  await page.getByLabel('Credential').fill(demo.operatorToken);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('button', { name: 'Start child' })).toBeEnabled();
  const [victim] = (await listChildren(demo.ctl)).filter((c) => c.status === 'running' && c.id.startsWith('ticker'));
  expect(victim).toBeDefined();
  await card(victim!.id).click();
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop', exact: true }).click();
  await expect.poll(async () => (await listChildren(demo.ctl)).some((c) => c.id === victim!.id)).toBe(false);
  await page.keyboard.press('Escape');
  await view('Timeline');
  await expect(page.getByText(`${victim!.id} stopped for good by`)).toBeVisible();
  await expect(page.getByText(`${victim!.id} has no node to run on`)).toHaveCount(0);
  await page.screenshot({ path: `${shots}timeline-operator-stop.png` });
  await view('Board');
});

test('every member killed: no member reachable, said in the header and the lane; commands disabled; the last known board, unverified', async () => {
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN - 1);
  for (const n of demo.nodes) process.kill(n.pid, 'SIGKILL');
  const badge = page.getByTestId('connection-badge');
  await expect(badge).toContainText('connected to the gateway — no cluster member reachable since', { timeout: 20_000 });
  await expect(badge).toHaveAttribute('data-status', 'no-member');
  await expect(lane().getByTestId('attention-item').first()).toHaveAttribute('data-kind', 'no-member');
  await expect(lane()).not.toContainText('Nothing needs attention');
  await expect(page.getByRole('button', { name: 'Pause rebalancing' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Start child' })).toBeDisabled();
  // The last known children, each unverified; no health dot drawn green.
  await expect(page.getByTestId('child-card')).toHaveCount(DEMO_CHILDREN - 1);
  await expect(page.getByTestId('unverified-tag')).toHaveCount(DEMO_CHILDREN - 1);
  await expect(page.locator('[data-health="up"]')).toHaveCount(0);
  await page.screenshot({ path: `${shots}board-no-member.png` });
  await view('Timeline');
  await expect(page.getByText(/converged [0-9]/)).toHaveCount(0);
  await page.screenshot({ path: `${shots}timeline-no-member.png` });
});
