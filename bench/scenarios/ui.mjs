/**
 * Scenario 6, UI. A real cluster (20 node processes and 5,000 children in
 * the full run) watched through the observer gateway by the built renderer
 * in Debian's Chromium, as an ops engineer would see it.
 *
 * - patch to paint: a child is started on a member; from the moment the
 *   observer (the gateway's node) sees it running to the first animation
 *   frame in which its card is on the board. This includes the gateway's
 *   patch batching (a patch at most every 100 ms), Socket.IO, applying the
 *   patch to the store and React rendering the board.
 * - command to paint: the same, from the startChild call on the member.
 * - frame times while dragging a card across the board's columns (the
 *   browser's own requestAnimationFrame intervals; 16.7 ms is 60 fps).
 * - time to first board: from navigation to every column rendered with the
 *   full child count.
 *
 * Times across the processes are epoch milliseconds from
 * performance.timeOrigin + performance.now(), in Node and in the page alike
 * (one machine, one clock).
 *
 * Needs the built renderer (`npm run build`) and /usr/bin/chromium; skipped,
 * with the reason, without them.
 */
/* global document, window, requestAnimationFrame, MutationObserver */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../../core/dist/index.js';
import { NODE_FLAGS, names } from './common.mjs';

export const title = 'Desktop UI: patch to paint and frame times';
export const description = 'The board in Chromium against a real cluster: time from a change the observer sees to its paint, and frame times while dragging a card.';

const RENDERER = fileURLToPath(new URL('../../out/renderer/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

export function skipReason() {
  if (!existsSync(join(RENDERER, 'index.html'))) return 'the renderer is not built (run npm run build)';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  return undefined;
}

const epoch = () => performance.timeOrigin + performance.now();

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function run(ctx) {
  const reason = skipReason();
  if (reason) {
    ctx.log(`  skipped: ${reason}`);
    ctx.detail('skipped', reason);
    return;
  }
  const { chromium } = await import('playwright-core');
  const size = ctx.sizes({ nodes: 3, children: 300, probes: 3, dragSteps: 40 }, { nodes: 20, children: 5000, probes: 10, dragSteps: 120 });
  ctx.params({ ...size, viewport: '1600x900', patchIntervalMs: 100 });
  const N = size.children;
  const members = names(size.nodes);
  const cluster = ctx.cluster({ preset: 'lan', flags: NODE_FLAGS });
  const operator = `bench-operator-${Math.random().toString(36).slice(2)}`;
  const tokenFile = join(cluster.dir, 'operator.txt');
  writeFileSync(tokenFile, operator, { mode: 0o600 });
  cluster.flags = [...cluster.flags, '--operator-token-file', tokenFile];

  await ctx.step(`start ${size.nodes} nodes`, 60_000, () => cluster.startAll(members));
  await ctx.step('start the observer', 30_000, () => cluster.observe());
  await ctx.step(`start ${N} children`, 180_000, () => cluster.startChildren(cluster.live(), N));
  await ctx.step(`settle: ${N} children running once`, 120_000, () => cluster.waitSettled(members));
  const gateway = await ctx.step('start the gateway', 10_000, () => startGateway(cluster.observer, { staticDir: RENDERER, credential: operator }));
  ctx.onCleanup(() => gateway.close());

  const browser = await ctx.step('launch Chromium', 30_000, () =>
    chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] }),
  );
  ctx.onCleanup(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });

  const firstBoard = await ctx.step('open the board', 60_000, async () => {
    const t0 = performance.now();
    await page.goto(`${gateway.url}/?token=${gateway.token}`);
    await page.getByTestId('board-counts').filter({ hasText: `${N} children` }).waitFor({ timeout: 60_000 });
    await page.getByTestId('node-column').nth(size.nodes - 1).waitFor({ timeout: 60_000 });
    return performance.now() - t0;
  });
  ctx.log(`  board with ${size.nodes} columns and ${N} children after ${firstBoard.toFixed(0)} ms`);

  // ---- patch to paint
  const toPaint = [];
  const fromCommand = [];
  for (let i = 0; i < size.probes; i++) {
    // '0…' sorts first in its column, so the card is in view (the columns are virtualised).
    const id = `0probe-${i}`;
    const painted = page.evaluate(
      (probe) =>
        new Promise((resolve) => {
          const seen = () => document.querySelector(`[data-child="${probe}"]`);
          const done = () => requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
          if (seen()) return done();
          const mo = new MutationObserver(() => {
            if (!seen()) return;
            mo.disconnect();
            done();
          });
          mo.observe(document.body, { childList: true, subtree: true });
        }),
      id,
    );
    let seenAt;
    const onEvent = (e) => {
      if (e.type === 'started' && e.id === id) seenAt = epoch();
    };
    cluster.observer.supervisor.on('event', onEvent);
    const member = cluster.live()[i % cluster.live().length];
    const t = await ctx.step(`probe ${i + 1}: start ${id} on ${member.name} until its card is painted`, 20_000, async () => {
      const issued = epoch();
      await member.request('startMany', { prefix: '0probe-', from: i, count: 1 }, 20_000);
      const paintedAt = await painted;
      return { patch: paintedAt - seenAt, command: paintedAt - issued };
    });
    cluster.observer.supervisor.off('event', onEvent);
    toPaint.push(t.patch);
    fromCommand.push(t.command);
    await new Promise((r) => setTimeout(r, 250));
  }
  ctx.metric('patch to paint', 'ms', toPaint, { note: 'from the observer seeing a new child running to the animation frame that shows its card (includes the gateway batching patches every 100 ms)' });
  ctx.metric('command to paint', 'ms', fromCommand, { note: 'from startChild on a member to the frame that shows the card' });
  ctx.metric('time to first board', 'ms', [firstBoard], { note: `navigation until all ${size.nodes} columns and ${N} children are on the board` });

  // ---- frame times while dragging a card across the columns
  const frames = await ctx.step('drag a card across every column and record frame times', 60_000, async () => {
    const card = page.getByTestId('child-card').nth(1);
    const from = await card.boundingBox();
    const columns = page.getByTestId('node-column');
    const last = await columns.nth((await columns.count()) - 1).boundingBox();
    await page.evaluate(() => {
      const w = window;
      w.__frames = [];
      w.__recording = true;
      let prev = performance.now();
      const tick = (now) => {
        w.__frames.push(now - prev);
        prev = now;
        if (w.__recording) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    const y = from.y + 200;
    for (let s = 1; s <= size.dragSteps; s++) {
      const x = from.x + ((last.x + last.width / 2 - from.x) * s) / size.dragSteps;
      await page.mouse.move(x, y + 40 * Math.sin(s / 3));
    }
    // Drop onto the last column (opens the move confirmation), then cancel it.
    await page.mouse.up();
    const out = await page.evaluate(() => {
      const w = window;
      w.__recording = false;
      return w.__frames.slice(1);
    });
    if (await page.getByRole('dialog').count()) await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    return out;
  });
  ctx.metric('frame time while dragging (median)', 'ms', [quantile(frames, 0.5)], { note: `${frames.length} animation frames during a drag across ${size.nodes} columns` });
  ctx.metric('frame time while dragging (p95)', 'ms', [quantile(frames, 0.95)]);
  ctx.metric('frame time while dragging (max)', 'ms', [Math.max(...frames)]);
  ctx.detail('frames', frames.map((f) => Math.round(f * 10) / 10));
}
