/**
 * What the UI shows live, against a real cluster (`pogo demo --ui`: three
 * `pogo node` processes, an observer and the gateway serving the built
 * renderer, in Chromium):
 *
 * - the node detail shows the node's CPU, memory and event-loop lag, with
 *   charts; the memory shown is checked against the node process's own
 *   resident size (/proc/<pid>/status), and a node killed with SIGKILL keeps
 *   its last figures, marked stale;
 * - the output of the demo's OS-process child (`log-writer`: a numbered line
 *   a second, every third also on stderr) appears live without a click,
 *   numbered without a gap, each stderr line marked with a text tag.
 *
 * Screenshots land in test-results/screenshots/ (and the node detail's in
 * docs/, for the README).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { closeDemo, listChildren, openDemo, type Demo } from './helpers/demo.js';
import { docsDir, screenshotsDir as shots } from './helpers/paths.js';

test.describe.configure({ mode: 'serial' });

let demo: Demo;
let page: Page;

const column = (node: string) => page.locator(`[data-testid="node-column"][data-node="${node}"]`);
const card = (id: string) => page.locator(`[data-testid="child-card"][data-child="${id}"]`);

/** A process's resident size from the kernel, bytes. */
function vmRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

async function openNode(name: string): Promise<Locator> {
  await column(name).getByRole('button', { name, exact: true }).click();
  const detail = page.getByRole('complementary', { name: `Node ${name}` });
  await expect(detail).toBeVisible();
  return detail.getByRole('region', { name: 'Resources' });
}

test.beforeAll(async ({ browser }) => {
  ({ demo, page } = await openDemo(browser, { viewport: { width: 1400, height: 900 } }));
});

test.afterAll(() => closeDemo(page, demo));

test('node detail shows CPU, memory and event-loop lag of the node process, with charts', async () => {
  await page.goto(demo.url);
  const node = demo.nodes[0]!;
  const resources = await openNode(node.name);
  // Figures every 2 s: the charts need two of them.
  for (const chart of ['cpu', 'memory', 'lag'])
    await expect(resources.getByTestId(`resource-chart-${chart}`).locator('path.recharts-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+/, {
      timeout: 20_000,
    });
  await expect(resources.getByTestId('resources-stale')).toHaveCount(0);

  const value = async (what: string): Promise<number> => Number(await resources.getByTestId(`resource-${what}`).getAttribute('data-value'));
  // Memory: what the node measured of itself, against what the kernel says of its process now.
  const rss = await value('memory');
  const kernel = vmRss(node.pid);
  expect(rss).toBeGreaterThan(kernel * 0.5);
  expect(rss).toBeLessThan(kernel * 2);
  await expect(resources.getByTestId('resource-memory').getByTestId('resource-value')).toHaveText(/^\d+(\.\d)? MiB$/);
  // CPU: a share of the machine's cores; an idle demo node uses little.
  const cpu = await value('cpu');
  expect(cpu).toBeGreaterThanOrEqual(0);
  expect(cpu).toBeLessThanOrEqual(100 * cpus().length);
  await expect(resources.getByTestId('resource-cpu').getByTestId('resource-value')).toHaveText(/^\d+(\.\d)? %$/);
  // Lag: measured (not "—"), from 0 to a few seconds on a loaded machine.
  const lag = await value('lag');
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(lag).toBeLessThan(5_000);
  await expect(resources.getByTestId('resource-lag').getByTestId('resource-value')).toHaveText(/^\d+(\.\d+)? (ms|s)$/);
  await expect(resources.getByTestId('resource-lag').getByTestId('resource-detail')).toHaveText(/^mean · p99 \d.* · max \d.*$/);

  await page.getByRole('complementary', { name: `Node ${node.name}` }).screenshot({ path: `${shots}node-resources.png` });
  await page.keyboard.press('Escape');
});

test('live output of a command child: new lines appear without a click, stderr lines are marked', async () => {
  await page.getByLabel('Credential').fill(demo.viewerToken);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('access')).toHaveText('viewer · read-only');
  await card('log-writer').click();
  const detail = page.getByRole('complementary', { name: 'Child log-writer' });
  const output = detail.getByRole('region', { name: 'Output' });
  const log = output.getByRole('log', { name: 'Output of log-writer' });
  await expect(log.locator('[data-stream="stdout"]').first()).toBeVisible();
  // It reads from the node the cluster runs the child on.
  const where = (await listChildren(demo.ctl)).find((c) => c.id === 'log-writer')!.node!;
  await expect(output).toContainText(`From ${where}, process`);
  await expect(output.getByText('live', { exact: true })).toBeVisible();

  const numbers = async (stream: 'stdout' | 'stderr'): Promise<number[]> =>
    (await log.locator(`[data-stream="${stream}"]`).getByTestId('output-text').allTextContents()).map((t) => Number(/^line (\d+):/.exec(t)?.[1]));
  const first = Math.max(...(await numbers('stdout')));
  // Nothing clicked from here on: lines the child prints now appear on their own.
  await expect.poll(async () => Math.max(...(await numbers('stdout'))), { timeout: 15_000 }).toBeGreaterThan(first + 2);
  await expect(output.getByRole('button', { name: 'Refresh' })).toHaveCount(0);

  // What is shown is the child's own output: every line once, numbered without a gap, every third on stderr too.
  const out = await numbers('stdout');
  expect(out).toEqual(Array.from({ length: out.length }, (_, i) => out[0]! + i));
  const err = await numbers('stderr');
  expect(err.length).toBeGreaterThan(0);
  expect(err.filter((n) => n % 3 !== 0)).toEqual([]);
  // (Its two pipes are read apart: a stderr line may come a poll before the stdout line of its second.)
  expect(err.filter((n) => n > out[0]! && n < out.at(-1)! && !out.includes(n))).toEqual([]);
  // stderr is marked with text, not colour alone, and coloured apart.
  const errLine = log.locator('[data-stream="stderr"]').last();
  await expect(errLine.getByTestId('stream-mark')).toHaveText('stderr');
  await expect(errLine).toContainText('warning: a demo line on stderr');
  await expect(log.locator('[data-stream="stdout"]').getByTestId('stream-mark')).toHaveCount(0);
  const colour = (l: Locator) => l.evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).color);
  expect(await colour(errLine)).not.toBe(await colour(log.locator('[data-stream="stdout"]').last()));

  await detail.screenshot({ path: `${shots}live-output.png` });
  await output.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${docsDir}live-output.png` });
  await page.keyboard.press('Escape');
});

test('a node killed with SIGKILL keeps its last figures in the node detail, marked stale', async () => {
  // For the README, a node with its charts of the half minute so far.
  await openNode(demo.nodes[0]!.name);
  await page.screenshot({ path: `${docsDir}node-resources.png` });
  const victim = demo.nodes[2]!;
  const resources = await openNode(victim.name);
  await expect(resources.getByTestId('resource-memory')).toBeVisible({ timeout: 20_000 });
  process.kill(victim.pid, 'SIGKILL');
  const detail = page.getByRole('complementary', { name: `Node ${victim.name}` });
  // Unreachable from here at first, then judged down once the other members confirm they lost it too.
  await expect(resources.getByTestId('resources-stale')).toHaveText('stale', { timeout: 15_000 });
  await expect(detail.getByTestId('node-status')).toHaveText('down', { timeout: 30_000 });
  await expect(resources).toContainText(`Stale: ${victim.name} is down: these are its last figures`);
  // The last figures stay on screen.
  expect(Number(await resources.getByTestId('resource-memory').getAttribute('data-value'))).toBeGreaterThan(0);
  await detail.screenshot({ path: `${shots}node-resources-stale.png` });
});
