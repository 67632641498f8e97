/**
 * Scenario 2, start rate. 10,000 startChild calls made by one node, all at
 * once, each resolving only when its child runs and every member holds its
 * spec (the API's acknowledgement); children per second = calls / time until
 * the last one resolved. Then the same number of calls spread evenly over
 * all nodes at once (timed from the runner: first request sent to last
 * reply). Then the calls from one node again, each member with its own
 * `--data-dir` (as the operations guide's systemd unit runs them): an
 * acknowledgement then also waits for the saves. Each run uses a fresh
 * cluster, so every one starts from empty.
 *
 * CPU per child, per process: user + system time from the first call until
 * the observer sees every child running once, divided by the number of
 * children; nodes from /proc/<pid>/stat, the observer from process.cpuUsage()
 * of this runner (where it lives, so the runner's own control work is in it).
 * The machine is shared, so these are steadier than the rate.
 * BENCH_PROFILE_DIR also profiles the runner (start-<mode>-observer.cpuprofile).
 */
import { NODE_FLAGS, names } from './common.mjs';
import { cpuSeconds } from '../lib/harness.mjs';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

export const title = 'Start rate';
export const description = 'startChild calls acknowledged per second: all from one node, then spread over all nodes, then from one node with data dirs.';

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes({ nodes: 3, children: 1000, repeats: 1 }, { nodes: 3, children: 10_000, repeats: 3 });
  ctx.params({ ...size, preset: 'lan' });
  const N = size.children;
  const members = names(size.nodes);
  /**
   * @typedef {{ ms: number, rate: number, settledMs: number, maxStallMs: number, observerMaxStallMs: number, linkDrops: number,
   *   perNode: number[], cpuPerChildUs: Record<string, number>, loadAverage: number[] }} Run
   */
  /** @type {{ one: Run[], spread: Run[], durable: Run[] }} */
  const results = { one: [], spread: [], durable: [] };
  /** @type {Array<'one' | 'spread' | 'durable'>} */
  const modes = ['one', 'spread', 'durable'];
  for (let r = 0; r < size.repeats; r++) {
    for (const mode of modes) {
      const cluster = ctx.cluster({ flags: NODE_FLAGS });
      const what = mode === 'spread' ? `spread over ${size.nodes} nodes` : mode === 'durable' ? 'from n1, data dirs' : 'from n1';
      const label = `${what}${size.repeats > 1 ? ` (repeat ${r + 1})` : ''}`;
      const drops0 = await ctx.step(`${label}: start ${size.nodes} nodes and the observer`, 40_000, async () => {
        // Durable: each member keeps its desired state in its own data dir (as the operations guide's systemd unit does).
        if (mode === 'durable') {
          const first = await cluster.start(/** @type {string} */ (members[0]), [], ['--data-dir', join(cluster.dir, `data-${members[0]}`)]);
          await Promise.all(members.slice(1).map((n) => cluster.start(n, [first.address], ['--data-dir', join(cluster.dir, `data-${n}`)])));
        } else await cluster.startAll(members);
        await cluster.observe();
        await cluster.stalls();
        cluster.observerStall();
        return cluster.memberLinkDrops();
      });
      // BENCH_PROFILE_DIR=<dir>: a CPU profile of each node while the calls run.
      const profileDir = process.env.BENCH_PROFILE_DIR;
      if (profileDir) await Promise.all(cluster.live().map((n) => n.request('profile', { action: 'start', intervalUs: 500 }, 10_000)));
      const own = profileDir ? await startOwnProfile() : undefined;
      const load = loadavg().map((x) => Number(x.toFixed(2)));
      const cpu0 = { nodes: cluster.live().map((n) => /** @type {[string, number]} */ ([n.name, cpuSeconds(n.pid)])), observer: process.cpuUsage() };
      const t0 = performance.now();
      const replies = await ctx.step(`${label}: ${N} startChild calls`, 180_000, async () => {
        const replies = await cluster.startChildren(
          mode !== 'spread' ? /** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get('n1')) : cluster.live(),
          N,
          { boundMs: 170_000 },
        );
        return { wallMs: performance.now() - t0, replies };
      });
      if (profileDir)
        await Promise.all(
          cluster.live().map((n) => n.request('profile', { action: 'stop', file: `${profileDir}/start-${mode}-${n.name}.cpuprofile` }, 30_000)),
        );
      const settledMs = (await ctx.step(`${label}: observer sees ${N} running once`, 120_000, () => cluster.waitSettled(members, 120_000))) - t0;
      const observerCpu = process.cpuUsage(cpu0.observer);
      /** @type {Record<string, number>} */
      const cpuPerChildUs = Object.fromEntries(
        cpu0.nodes.map(([name, s0]) => [
          name,
          ((cpuSeconds(/** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get(name)).pid) - s0) * 1e6) / N,
        ]),
      );
      cpuPerChildUs.observer = (observerCpu.user + observerCpu.system) / N;
      if (own) await own.stop(`${profileDir}/start-${mode}-observer.cpuprofile`);
      ctx.log(
        `  ${label}: CPU µs per child ${Object.entries(cpuPerChildUs)
          .map(([k, v]) => `${k} ${v.toFixed(0)}`)
          .join(', ')}; load average ${load.join(' / ')}`,
      );
      const stalls = await ctx.step(`${label}: read event-loop stalls`, 30_000, () => cluster.stalls());
      const linkDrops = (await cluster.memberLinkDrops()) - drops0;
      // From one node, the node's own clock times the calls; spread, the runner's (it includes the control round trip, < 1 ms).
      const ms = mode !== 'spread' ? /** @type {import('../lib/types.js').StartManyReply} */ (replies.replies[0]).elapsedMs : replies.wallMs;
      results[mode].push({
        ms,
        rate: (N / ms) * 1000,
        settledMs,
        maxStallMs: Math.max(...stalls),
        observerMaxStallMs: cluster.observerStall(),
        linkDrops,
        perNode: replies.replies.map((x) => Math.round(x.elapsedMs)),
        cpuPerChildUs,
        loadAverage: load,
      });
      await cluster.close();
    }
  }
  ctx.metric(
    'start rate, calls from one node',
    'children/s',
    results.one.map((x) => x.rate),
    { target: ['>=', 10_000], note: `${N} concurrent startChild calls on n1; time until the last one resolved` },
  );
  ctx.metric(
    'time for all calls from one node',
    'ms',
    results.one.map((x) => x.ms),
  );
  ctx.metric(
    `start rate, calls spread over ${size.nodes} nodes`,
    'children/s',
    results.spread.map((x) => x.rate),
    { note: `${Math.round(N / size.nodes)} concurrent calls on each node` },
  );
  ctx.metric(
    'time for all calls spread over the nodes',
    'ms',
    results.spread.map((x) => x.ms),
  );
  ctx.metric(
    'start rate, calls from one node, with data dirs',
    'children/s',
    results.durable.map((x) => x.rate),
    { note: 'as "from one node", each member with its own --data-dir: an acknowledgement also waits for the saves' },
  );
  for (const mode of modes) {
    const which = mode === 'one' ? 'from one node' : mode === 'durable' ? 'with data dirs' : 'spread';
    ctx.metric(
      `until the observer sees all running once, ${which}`,
      'ms',
      results[mode].map((x) => x.settledMs),
    );
    ctx.metric(
      `longest event-loop stall of a node, ${which}`,
      'ms',
      results[mode].map((x) => x.maxStallMs),
      { note: "a stall longer than the heartbeat timeout (3,000 ms) makes peers drop the node's links" },
    );
    ctx.metric(
      `member links dropped, ${which}`,
      'events',
      results[mode].map((x) => x.linkDrops),
      { note: 'member-down events the nodes saw (a drop is usually seen from both ends)' },
    );
    ctx.metric(
      `longest stall of the observer, ${which}`,
      'ms',
      results[mode].map((x) => x.observerMaxStallMs),
      { note: 'the runner process, where the observer lives' },
    );
  }
  for (const mode of modes) {
    const which = mode === 'one' ? 'from one node' : mode === 'durable' ? 'with data dirs' : 'spread';
    for (const who of [...members, 'observer']) {
      ctx.metric(
        `CPU per child, ${who}, ${which}`,
        'µs',
        results[mode].map((x) => x.cpuPerChildUs[who]),
        { note: 'user + system from the first call until the observer sees all running once, / children' },
      );
    }
  }
  ctx.detail('runs', results);
}

/** A CPU profile of this process (where the observer lives), through node:inspector. */
async function startOwnProfile() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    /** @param {string} file */
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
