/// <reference lib="dom" />
/**
 * Scenario 6, UI. A real cluster (20 node processes and 20,000 children in
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
 * - a node's children move: one member is killed (SIGKILL) and its share
 *   (about 1,000 children at 20 × 20,000) moves to the survivors while the
 *   page records its frame times, until every child runs once again.
 * - the gateway's CPU (the runner process, which holds the observer node
 *   and the gateway) over a quiet window and over that failover.
 * - false member-downs: node-down events the gateway published for members
 *   that were never killed, over the whole scenario (the observer's own
 *   member-down count beside it: links it lost itself). Zero is the target.
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
import { CHROMIUM, CHROMIUM_FLAGS } from '../lib/chromium.mjs';
import { sleep } from '../lib/harness.mjs';
import { NODE_FLAGS, names } from './common.mjs';

export const title = 'Desktop UI: patch to paint and frame times';
export const description =
  'The board in Chromium against a real cluster: time from a change the observer sees to its paint, and frame times while dragging a card.';

const RENDERER = fileURLToPath(new URL('../../out/renderer/', import.meta.url));

export function skipReason() {
  if (!existsSync(join(RENDERER, 'index.html'))) return 'the renderer is not built (run npm run build)';
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  return undefined;
}

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {{ x: number, y: number, width: number, height: number }} Box */

const epoch = () => performance.timeOrigin + performance.now();

/**
 * Starts recording the page's animation-frame intervals (the browser's own requestAnimationFrame).
 * @param {Page} page
 */
function recordFrames(page) {
  return page.evaluate(() => {
    const w = /** @type {Window & { __frames: number[], __recording: boolean }} */ (/** @type {unknown} */ (window));
    w.__frames = [];
    w.__recording = true;
    let prev = performance.now();
    /** @param {number} now */
    const tick = (now) => {
      w.__frames.push(now - prev);
      prev = now;
      if (w.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

/**
 * Stops recording; the intervals since recordFrames, the first (partial) one left out.
 * @param {Page} page
 */
function recordedFrames(page) {
  return page.evaluate(() => {
    const w = /** @type {Window & { __frames: number[], __recording: boolean }} */ (/** @type {unknown} */ (window));
    w.__recording = false;
    return w.__frames.slice(1);
  });
}

/**
 * CPU profilers of the page (CDP) and of this process (node:inspector), started together.
 * @param {Page} page
 */
async function startProfilers(page) {
  const { Session } = await import('node:inspector/promises');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const own = new Session();
  own.connect();
  await own.post('Profiler.enable');
  await own.post('Profiler.setSamplingInterval', { interval: 200 });
  await own.post('Profiler.start');
  return {
    /**
     * @param {string} dir
     * @param {string} name
     */
    async stop(dir, name) {
      const [pageProfile, ownProfile] = [await cdp.send('Profiler.stop'), await own.post('Profiler.stop')];
      writeFileSync(join(dir, `${name}-page.cpuprofile`), JSON.stringify(pageProfile.profile));
      writeFileSync(join(dir, `${name}-gateway.cpuprofile`), JSON.stringify(ownProfile.profile));
      own.disconnect();
      await cdp.detach();
    },
  };
}

/**
 * @param {readonly number[]} values
 * @param {number} q
 */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const reason = skipReason();
  if (reason) {
    ctx.log(`  skipped: ${reason}`);
    ctx.detail('skipped', reason);
    return;
  }
  const { chromium } = await import('playwright-core');
  const size = ctx.sizes(
    { nodes: 3, children: 300, probes: 3, dragSteps: 40, quietSeconds: 3 },
    { nodes: 20, children: 20_000, probes: 10, dragSteps: 120, quietSeconds: 10 },
  );
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
  await ctx.step(`start ${N} children`, 300_000, () => cluster.startChildren(cluster.live(), N, { boundMs: 290_000 }));
  await ctx.step(`settle: ${N} children running once`, 180_000, () => cluster.waitSettled(members, 180_000));
  const gateway = await ctx.step('start the gateway', 10_000, () => startGateway(cluster.observer, { staticDir: RENDERER, credential: operator }));
  ctx.onCleanup(() => gateway.close());
  // False member-downs: what the gateway published, and what the observer's own links saw.
  const killed = new Set();
  const downs = { observerLost: 0 };
  /** @param {import('../../core/dist/index.js').NodeEventMap['member-down'][0]} m */
  const onDown = (m) => {
    if (m.member?.role === 'member' && !killed.has(m.member.name)) downs.observerLost++;
  };
  cluster.observer.on('member-down', onDown);
  ctx.onCleanup(() => cluster.observer.off('member-down', onDown));

  const browser = await ctx.step('launch Chromium', 30_000, () =>
    chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_FLAGS],
    }),
  );
  ctx.onCleanup(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });

  const firstBoard = await ctx.step('open the board', 60_000, async () => {
    const t0 = performance.now();
    await page.goto(`${gateway.url}/?token=${gateway.token}`);
    await page
      .getByTestId('board-counts')
      .filter({ hasText: `${N} children` })
      .waitFor({ timeout: 60_000 });
    await page
      .getByTestId('node-column')
      .nth(size.nodes - 1)
      .waitFor({ timeout: 60_000 });
    return performance.now() - t0;
  });
  ctx.log(`  board with ${size.nodes} columns and ${N} children after ${firstBoard.toFixed(0)} ms`);

  // ---- patch to paint
  // BENCH_PROFILE_DIR=<dir>: CPU profiles of the page (Chromium's profiler) and of this process (the
  // observer node and the gateway) over the probes, to see where patch to paint goes.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profilers = profileDir ? await startProfilers(page) : undefined;
  const toPaint = [];
  const fromCommand = [];
  for (let i = 0; i < size.probes; i++) {
    // '0…' sorts first in its column, so the card is in view (the columns are virtualised).
    const id = `0probe-${i}`;
    const painted = page.evaluate(
      (probe) =>
        new Promise((resolve) => {
          // Its card as running: with patches sent as soon as a change settles, a card may show the
          // child pending (its spec has arrived, its instance not yet) before the observer sees it run.
          const seen = () => document.querySelector(`[data-testid="child-card"][data-child="${probe}"][data-status="running"]`);
          const done = () => requestAnimationFrame(() => resolve(performance.timeOrigin + performance.now()));
          if (seen()) return done();
          const mo = new MutationObserver(() => {
            if (!seen()) return;
            mo.disconnect();
            done();
          });
          mo.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-status'] });
        }),
      id,
    );
    // Seen: the first moment the observer's live state (pg) holds an instance of it, which may come
    // before the supervisor's `started` event (the state a patch carries is read from pg afresh).
    /** @type {number | undefined} */
    let seenAt;
    const onEvent = () => {
      if (seenAt === undefined && cluster.observer.groups.getMembers('pogo', `run:${id}`).length > 0) seenAt = epoch();
    };
    cluster.observer.supervisor.on('change', onEvent);
    cluster.observer.supervisor.on('event', onEvent);
    const member = cluster.live()[i % cluster.live().length];
    const t = await ctx.step(`probe ${i + 1}: start ${id} on ${member.name} until its card is painted`, 20_000, async () => {
      const issued = epoch();
      await member.request('startMany', { prefix: '0probe-', from: i, count: 1 }, 20_000);
      const paintedAt = await painted;
      return { patch: paintedAt - /** @type {number} */ (seenAt), command: paintedAt - issued };
    });
    cluster.observer.supervisor.off('change', onEvent);
    cluster.observer.supervisor.off('event', onEvent);
    toPaint.push(t.patch);
    fromCommand.push(t.command);
    await new Promise((r) => setTimeout(r, 250));
  }
  if (profilers) await profilers.stop(/** @type {string} */ (profileDir), 'ui-probes');
  ctx.metric('patch to paint', 'ms', toPaint, {
    target: ['<=', 150],
    note:
      "from the observer's live state first holding a new child's instance to the animation " +
      'frame that shows its card (includes the gateway batching patches every 100 ms)',
  });
  ctx.metric('command to paint', 'ms', fromCommand, { note: 'from startChild on a member to the frame that shows the card' });
  ctx.metric('time to first board', 'ms', [firstBoard], { note: `navigation until all ${size.nodes} columns and ${N} children are on the board` });

  // ---- frame times while dragging a card across the columns
  const frames = await ctx.step('drag a card across every column and record frame times', 60_000, async () => {
    const card = page.getByTestId('child-card').nth(1);
    const from = /** @type {Box} */ (await card.boundingBox());
    const columns = page.getByTestId('node-column');
    const last = /** @type {Box} */ (await columns.nth((await columns.count()) - 1).boundingBox());
    await recordFrames(page);
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    const y = from.y + 200;
    for (let s = 1; s <= size.dragSteps; s++) {
      const x = from.x + ((last.x + last.width / 2 - from.x) * s) / size.dragSteps;
      await page.mouse.move(x, y + 40 * Math.sin(s / 3));
    }
    // Drop onto the last column (opens the move confirmation), then cancel it.
    await page.mouse.up();
    const out = await recordedFrames(page);
    if (await page.getByRole('dialog').count()) await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    return out;
  });
  ctx.metric('frame time while dragging (median)', 'ms', [quantile(frames, 0.5)], {
    note: `${frames.length} animation frames during a drag across ${size.nodes} columns`,
  });
  ctx.metric('frame time while dragging (p95)', 'ms', [quantile(frames, 0.95)]);
  ctx.metric('frame time while dragging (max)', 'ms', [Math.max(...frames)]);
  ctx.detail(
    'frames',
    frames.map((f) => Math.round(f * 10) / 10),
  );

  // ---- the gateway's CPU while nothing happens
  /**
   * @template T
   * @param {() => Promise<T>} fn
   */
  const cpuShare = async (fn) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await fn();
    const c = process.cpuUsage(c0);
    return { out, percent: ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100 };
  };
  const quiet = await ctx.step(`quiet window (${size.quietSeconds} s)`, size.quietSeconds * 1000 + 10_000, () =>
    cpuShare(() => sleep(size.quietSeconds * 1000)),
  );
  ctx.metric('gateway CPU while the cluster is idle', '% of a core', [quiet.percent], {
    note: `the runner process (observer node + gateway + the bench's own control of ${size.nodes} nodes) over ${size.quietSeconds} s, a page connected`,
  });

  // ---- a node's children move: SIGKILL one member, record frames until all run once again
  const victim = /** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get(members[1 + Math.floor(members.length / 2)]));
  const had = cluster.tracker.onNode(victim.name);
  const failover = await ctx.step(`SIGKILL ${victim.name} (${had} children) and record frames until all ${N} run once`, 180_000, () =>
    cpuShare(async () => {
      await recordFrames(page);
      const k = performance.now();
      killed.add(victim.name);
      victim.signal('SIGKILL');
      const t = cluster.tracker;
      const done =
        (await t.when(
          () => t.onNode(victim.name) === 0 && t.running === N + size.probes && t.duplicates === 0,
          170_000 * ctx.bounds,
          `every child running again after SIGKILL of ${victim.name}`,
        )) - k;
      // The board has caught up when the dead node's column is empty (its header shows 0).
      const out = await recordedFrames(page);
      return { done, frames: out };
    }),
  );
  const moveFrames = failover.out.frames;
  ctx.metric(`frame time while ${had} children move (median)`, 'ms', [quantile(moveFrames, 0.5)], {
    note:
      `${moveFrames.length} animation frames from the SIGKILL of ${victim.name} until ` +
      `the observer sees every child running once (${failover.out.done.toFixed(0)} ms)`,
  });
  ctx.metric(`frame time while ${had} children move (p95)`, 'ms', [quantile(moveFrames, 0.95)]);
  ctx.metric(`frame time while ${had} children move (max)`, 'ms', [Math.max(...moveFrames)]);
  ctx.metric('gateway CPU during a failover', '% of a core', [failover.percent], {
    note: `the runner process from the SIGKILL until every child runs once again (${failover.out.done.toFixed(0)} ms)`,
  });
  ctx.detail(
    'moveFrames',
    moveFrames.map((f) => Math.round(f * 10) / 10),
  );

  // ---- false member-downs, from the gateway's own published history (a fresh session's snapshot)
  const published = await ctx.step('read the node-downs on the timeline', 10_000, async () => {
    const { io } = await import('socket.io-client');
    const socket = io(gateway.url, { path: '/gateway', auth: { token: gateway.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      /** @type {import('../../core/dist/index.js').ClusterState} */
      const state = await new Promise((resolve, reject) => {
        socket.on('snapshot', resolve);
        socket.on('connect_error', reject);
      });
      return state.events
        .filter(
          /** @returns {e is Extract<import('../../core/dist/index.js').EventView, { type: 'node-down' }>} */
          (e) => e.type === 'node-down' && e.role === 'member',
        )
        .map((e) => e.node);
    } finally {
      socket.close();
    }
  });
  const falseDowns = published.filter((n) => !killed.has(n));
  ctx.metric('false member-downs on the timeline', 'events', [falseDowns.length], {
    target: ['==', 0],
    note:
      `node-down events the gateway published for members never killed (${killed.size} ` +
      `killed: ${[...killed].join(', ')}; ${published.length} published in all)`,
  });
  ctx.metric('member links the observer lost', 'events', [downs.observerLost], {
    note: 'member-down seen by the observer node itself (its own links) for members never killed, published or not',
  });
}
