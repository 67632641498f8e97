/**
 * What an operator does from the UI, against a real three-node cluster
 * (`pogo demo --ui`: real processes, the built renderer in Chromium):
 *
 * - a wrong credential typed into Unlock is refused once and the working
 *   session goes on; Lock drops the operator rights on the same connection
 *   (changes refused, the board still live) and Unlock takes them back;
 * - restart in place: the child keeps its node and gets a new instance, as
 *   the cluster itself lists it (`pogo ctl ls`);
 * - Send message: the demo's keyed counter answers in the child detail,
 *   naming its node; `pogo ctl call` reads the same count; each call is
 *   audited, and a message it does not understand shows its handler's error;
 * - bulk stop of a filtered set: one confirmation naming the count, exactly
 *   those children stopped, the others untouched;
 * - an oversized spec gets the size error, naming the limit, and the
 *   refusal is audited;
 * - the audit names who acted (the name typed in this browser, and the
 *   name of the token the cluster checked), and a command made elsewhere
 *   (`pogo ctl`) appears in the open Audit view without pressing Refresh;
 * - a node killed with SIGKILL is offered no Drain, and its column can be
 *   dismissed.
 *
 * The tests run in order and build on each other. Screenshots land in
 * test-results/screenshots/; the README's in docs/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { closeDemo, listChildren, openDemo, type Demo, type ListedChild } from './helpers/demo.js';
import { docsDir as docs, screenshotsDir as shots } from './helpers/paths.js';

test.describe.configure({ mode: 'serial' });

let demo: Demo;
let page: Page;

const clusterChildren = (): Promise<ListedChild[]> => listChildren(demo.ctl);
const card = (id: string) => page.locator(`[data-testid="child-card"][data-child="${id}"]`);
const column = (node: string) => page.locator(`[data-testid="node-column"][data-node="${node}"]`);
const detail = (id: string) => page.getByRole('complementary', { name: `Child ${id}` });
const dialog = () => page.getByRole('dialog');

async function openView(name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name }).click();
}

async function unlock(token: string): Promise<void> {
  await page.getByLabel('Credential').fill(token);
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
}

/** Starts a child through `pogo ctl start`, the reply checked. */
async function ctlStart(spec: Record<string, unknown>): Promise<void> {
  const file = join(demo.dir, `${String(spec['id'])}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const reply = await demo.ctl('start', file);
  expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
}

test.beforeAll(async ({ browser }) => {
  ({ demo, page } = await openDemo(browser));
});

test.afterAll(() => closeDemo(page, demo));

test('a name for the audit log and an operator token unlock the session; a wrong credential then is refused once, and the operator session goes on', async () => {
  await page.goto(demo.url);
  await expect(page.getByTestId('node-column')).toHaveCount(3);
  await page.getByLabel('Your name').fill('alice');
  await unlock(demo.operatorToken);
  await expect(page.getByTestId('access')).toHaveText('operator');
  await expect(page.getByLabel('Your name')).toHaveValue('alice');

  await unlock('not-a-token-of-this-cluster');
  await expect(page.getByTestId('unlock-error')).toHaveText(
    'Not unlocked: the credential is not valid for this cluster. This window keeps its operator session.',
  );
  await expect(page.getByRole('alert')).toHaveCount(1);
  await expect(page.getByTestId('access')).toHaveText('operator');
  await expect(page.getByTestId('connection-badge')).toHaveText('connected');
  await page.getByTestId('unlock-error').click();
  // The refused attempt is in the audit log under the name this browser gave.
  const audit = await demo.ctl('audit');
  expect(audit.result as Array<{ op: string; ok: boolean; by: string }>).toContainEqual(expect.objectContaining({ op: 'whoami', ok: false, by: 'alice' }));
  // Still live and still an operator: a child started elsewhere appears, and this session can start one.
  await ctlStart({ id: 'after-wrong', start: { worker: 'ticker' } });
  await expect(card('after-wrong')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start child' })).toBeVisible();
});

test('Lock drops the operator rights on the same connection; the board stays live; Unlock takes them back', async () => {
  await page.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(page.getByTestId('access')).toHaveText('locked · read-only');
  await expect(page.getByRole('button', { name: 'Start child' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(page.getByTestId('connection-badge')).toHaveText('connected');
  await ctlStart({ id: 'while-locked', start: { worker: 'ticker' } });
  await expect(card('while-locked')).toBeVisible();
  await page.screenshot({ path: `${shots}session-locked.png` });
  await page.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(page.getByTestId('access')).toHaveText('operator');
  await expect(page.getByRole('button', { name: 'Start child' })).toBeVisible();
});

test('restart in place: the same node, a new instance, as the cluster itself lists it', async () => {
  const before = (await clusterChildren()).find((c) => c.id === 'counter-1')!;
  expect(before).toMatchObject({ status: 'running' });
  await card('counter-1').click();
  await detail('counter-1').getByRole('button', { name: 'Restart' }).click();
  await expect(dialog()).toContainText(`Its instance on ${before.node} is stopped`);
  await page.screenshot({ path: `${shots}restart-confirm.png` });
  await dialog().getByRole('button', { name: 'Restart' }).click();
  await expect(detail('counter-1').getByTestId('restarted')).toContainText(`Restarted on ${before.node}: new instance`);
  let after: ListedChild | undefined;
  await expect
    .poll(async () => {
      after = (await clusterChildren()).find((c) => c.id === 'counter-1');
      return after?.status === 'running' && after.pid !== before.pid;
    })
    .toBe(true);
  expect(after!.node).toBe(before.node);
  expect(after!.pid!.startsWith(`${before.node}/`)).toBe(true);
  await expect(detail('counter-1').getByTestId('restarted')).toContainText(after!.pid!);
  await page.screenshot({ path: `${shots}restart-done.png` });
  await page.keyboard.press('Escape');
});

test('Send message: the child answers in the detail panel, naming the node it runs on; the count is the child’s own, as pogo ctl call reads it', async () => {
  const kv = (await clusterChildren()).find((c) => c.id === 'kv-1')!;
  expect(kv).toMatchObject({ status: 'running' });
  await card('kv-1').click();
  const panel = detail('kv-1').getByRole('region', { name: 'Send message' });
  await panel.getByLabel('Message (JSON)').fill('{"op":"add","key":"apples","by":2}');
  await panel.getByRole('button', { name: 'Send' }).click();
  const reply = panel.getByTestId('call-reply');
  await expect(reply).toContainText(`Reply from ${kv.node} (instance ${kv.pid})`);
  const first = JSON.parse((await reply.locator('pre').textContent())!) as { key: string; value: number };
  expect(first).toMatchObject({ key: 'apples', value: 2 });
  await panel.getByLabel('Message (JSON)').fill('{"op":"add","key":"apples","by":3}');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(reply.locator('pre')).toContainText('"value": 5');
  await page.screenshot({ path: `${docs}send-message.png` });
  // The child's own state, read by another client: the same count.
  const read = await demo.ctl('call', 'kv-1', '{"op":"get","key":"apples"}');
  expect(read.ok, JSON.stringify(read.error)).toBe(true);
  expect(read.result).toMatchObject({ reply: { key: 'apples', value: 5 }, node: kv.node });
  // A message the child does not understand: its handler's error, in words.
  await panel.getByLabel('Message (JSON)').fill('{"op":"juggle"}');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByTestId('call-error')).toContainText('handler-error: the child’s handler threw.');
  await expect(panel.getByTestId('call-error')).toContainText('unknown op');
  // Each call is audited under this browser's name.
  const audit = await demo.ctl('audit');
  expect((audit.result as Array<{ op: string; by: string }>).filter((e) => e.op === 'call' && e.by === 'alice').length).toBeGreaterThanOrEqual(3);
  await page.keyboard.press('Escape');
});

test('bulk stop of a filtered set: one confirmation naming the count, exactly those children stopped', async () => {
  const already = (await clusterChildren()).length;
  for (const id of ['batch-1', 'batch-2', 'batch-3']) await ctlStart({ id, start: { worker: 'ticker' } });
  await expect(page.getByTestId('child-card')).toHaveCount(already + 3);
  const everyoneElse = (await clusterChildren()).map((c) => c.id).filter((id) => !id.startsWith('batch-'));
  await page.getByLabel('Search children').fill('batch');
  await expect(page.getByTestId('child-card')).toHaveCount(3);
  const bulk = page.getByTestId('bulk-actions');
  await expect(bulk).toContainText('The 3 children shown (search “batch”):');
  await bulk.getByRole('button', { name: 'Stop 3' }).click();
  await expect(dialog()).toHaveCount(1);
  await expect(dialog().getByRole('heading')).toHaveText('Stop 3 children?');
  await expect(dialog()).toContainText('batch-1, batch-2, batch-3');
  await page.screenshot({ path: `${shots}bulk-confirm.png` });
  await page.screenshot({ path: `${docs}bulk-stop.png` });
  await dialog().getByRole('button', { name: 'Stop 3' }).click();
  await expect(dialog()).toHaveCount(0);
  await expect(page.getByTestId('bulk-result').locator('strong')).toHaveText('Stopped 3 of 3');
  await expect(page.getByTestId('child-card')).toHaveCount(0);
  await page.screenshot({ path: `${shots}bulk-done.png` });
  const left = (await clusterChildren()).map((c) => c.id);
  expect(left.filter((id) => id.startsWith('batch-'))).toEqual([]);
  expect(left.sort()).toEqual(everyoneElse.sort());
  await page.getByLabel('Search children').fill('');
});

test('an oversized spec gets the size error naming the limit, from the form, and the cluster records the refusal', async () => {
  await page.getByRole('button', { name: 'Start child' }).click();
  const form = dialog();
  await form.getByRole('tab', { name: 'JSON' }).click();
  const spec = { id: 'huge-1', start: { worker: 'ticker', args: { blob: 'x'.repeat(1_300_000) } } };
  await form.getByLabel('Spec JSON').fill(JSON.stringify(spec));
  await form.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(form.getByTestId('spec-too-large')).toContainText('this spec is 1.2 MiB as JSON, over the 1 MiB a command may carry');
  await form.getByRole('button', { name: 'Start', exact: true }).click();
  const refusal = form.locator('[data-testid="start-refusal"][data-code="too-large"]');
  await expect(refusal).toContainText(/^too-large: the spec is 1\.2 MiB as JSON \(1,300,\d{3} bytes\); a command may carry at most 1 MiB \(1,048,576 bytes\)$/);
  await page.screenshot({ path: `${shots}start-too-large.png` });
  await page.keyboard.press('Escape');
  expect((await clusterChildren()).some((c) => c.id === 'huge-1')).toBe(false);
  // The member that refused it recorded it (pogo ctl reads the audit log too).
  const audit = await demo.ctl('audit');
  expect(audit.ok).toBe(true);
  expect(audit.result as Array<{ op: string; ok: boolean; by: string; tokenName?: string; result: string }>).toContainEqual(
    expect.objectContaining({ op: 'start', ok: false, by: 'alice', tokenName: 'operator', result: expect.stringMatching(/^too-large: the spec is 1\.2 MiB/) }),
  );
});

test('the audit names who acted, and a command made elsewhere appears in the open view without Refresh', async () => {
  await openView('Audit');
  const log = page.getByRole('region', { name: 'Audit log' });
  await expect(log.getByTestId('audit-live')).toHaveText('live');
  const row = (op: string) => log.locator('tbody tr').filter({ has: page.locator('td:nth-child(4)', { hasText: new RegExp(`^${op}$`) }) });
  for (const op of ['restart', 'stop']) {
    const by = row(op).first().getByTestId('audit-by');
    await expect(by).toContainText('alice');
    await expect(by.getByTestId('token-tag')).toHaveText('operator');
  }
  await expect(row('start').filter({ hasText: 'too-large' }).first()).toContainText('alice');
  await page.screenshot({ path: `${shots}audit-who.png` });
  await page.screenshot({ path: `${docs}audit-who.png` });

  // Not from this window: `pogo ctl --by e2e` pauses rebalancing; the row arrives by itself.
  const rows = await log.locator('tbody tr').count();
  const paused = await demo.ctl('pause');
  expect(paused.ok).toBe(true);
  await expect(row('pause').first().getByTestId('audit-by')).toContainText('e2e');
  await expect(log.locator('tbody tr')).toHaveCount(rows + 1);
  expect((await demo.ctl('resume')).ok).toBe(true);
  await expect(row('resume').first()).toBeVisible();
  await openView('Board');
});

test('a node killed with SIGKILL is offered no Drain, and its empty column can be dismissed', async () => {
  const children = await clusterChildren();
  const victim = demo.nodes[demo.nodes.length - 1]!;
  process.kill(victim.pid, 'SIGKILL');
  const header = column(victim.name).getByTestId('node-header');
  await expect(column(victim.name).getByTestId('node-status')).toHaveText('down', { timeout: 20_000 });
  // Its children run elsewhere now, as the cluster lists them.
  const moved = children.filter((c) => c.node === victim.name).map((c) => c.id);
  await expect
    .poll(async () => (await clusterChildren()).filter((c) => moved.includes(c.id) && c.status === 'running' && c.node !== victim.name).length, {
      timeout: 30_000,
    })
    .toBe(moved.length);
  await expect(column(victim.name).getByTestId('child-count')).toHaveText('0 children');
  await expect(header.getByRole('button', { name: 'Drain' })).toHaveCount(0);
  await expect(column(demo.nodes[0]!.name).getByTestId('node-header').getByRole('button', { name: 'Drain' })).toBeVisible();
  await page.screenshot({ path: `${shots}node-down-no-drain.png` });
  await header.getByRole('button', { name: 'Dismiss' }).click();
  await expect(column(victim.name)).toHaveCount(0);
  await expect(page.getByTestId('node-column')).toHaveCount(2);
  await expect(page.getByTestId('dismissed-nodes')).toContainText('1 gone node dismissed');
  await page.screenshot({ path: `${shots}node-dismissed.png` });
  await page.getByTestId('dismissed-nodes').getByRole('button', { name: 'Show' }).click();
  await expect(page.getByTestId('node-column')).toHaveCount(3);
});
