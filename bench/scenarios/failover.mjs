/**
 * Scenario 1, failover. Three nodes run N children; one member is SIGKILLed
 * and the observer times how long until every child runs again (exactly
 * once, none on the dead node). Then the same with a frozen node (SIGSTOP):
 * its peers only notice by heartbeat timeout, so that figure is dominated by
 * the timing preset (the default, `lan`: declared down after 3,000 ms of
 * silence).
 *
 * Between repeats the victim is started again under the same name (a new
 * incarnation) and the cluster settles, so each repeat starts from a
 * balanced cluster; the victim rotates over the members.
 */
import { cpuSeconds } from '../lib/harness.mjs';
import { NODE_FLAGS, names } from './common.mjs';

export const title = 'Failover after SIGKILL and SIGSTOP';
export const description = 'Time from killing (or freezing) one member until every child runs again exactly once, seen from an observer.';

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes({ nodes: 3, children: 300, repeats: 1, frozenRepeats: 1 }, { nodes: 3, children: 3000, repeats: 5, frozenRepeats: 3 });
  const preset = 'lan';
  ctx.params({ ...size, preset, heartbeatTimeoutMs: 3000 });
  const N = size.children;
  const members = names(size.nodes);
  const cluster = ctx.cluster({ preset, flags: NODE_FLAGS });
  await ctx.step(`start ${size.nodes} nodes`, 30_000, () => cluster.startAll(members));
  await ctx.step('start the observer', 20_000, () => cluster.observe());
  await ctx.step(`start ${N} children`, 120_000, () => cluster.startChildren(cluster.live(), N));
  await ctx.step(`settle: ${N} children running once`, 60_000, () => cluster.waitSettled(members));
  const tracker = cluster.tracker;

  /**
   * @param {string} kind
   * @param {'SIGKILL' | 'SIGSTOP'} sig
   * @param {number} repeat
   */
  const measure = async (kind, sig, repeat) => {
    const victim = /** @type {string} */ (members[repeat % members.length]);
    const node = /** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get(victim));
    const had = tracker.onNode(victim);
    const allBack = () => tracker.onNode(victim) === 0 && tracker.running === N && tracker.duplicates === 0;
    const bound = 30_000;
    const since = sig === 'SIGKILL' ? await cluster.markChildLogs() : 0;
    let killedAt = 0;
    // BENCH_PROFILE_DIR=<dir>: a CPU profile of each survivor from just before the kill until all run again.
    const profileDir = process.env.BENCH_PROFILE_DIR;
    const survivors = cluster.live().filter((n) => n.name !== victim);
    if (profileDir && sig === 'SIGKILL') await Promise.all(survivors.map((n) => n.request('profile', { action: 'start', intervalUs: 200 }, 10_000)));
    // The survivors' CPU time over the same window (user + system, /proc): on a shared, loaded machine
    // the wall time follows the load; this follows the work.
    /** @type {number[]} */
    let cpu = [];
    let observerCpuMs = NaN;
    const took = await ctx.step(`${kind} ${repeat + 1}: ${sig} ${victim} (${had} children), until all ${N} run again`, bound, async () => {
      const cpu0 = survivors.map((n) => cpuSeconds(n.pid));
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      killedAt = performance.timeOrigin + t0;
      node.signal(sig);
      const t1 = await tracker.when(allBack, bound * ctx.bounds, `every child running again after ${sig} of ${victim}`);
      cpu = survivors.map((n, i) => (cpuSeconds(n.pid) - /** @type {number} */ (cpu0[i])) * 1000);
      const own = process.cpuUsage(own0);
      observerCpuMs = (own.user + own.system) / 1000;
      return t1 - t0;
    });
    if (profileDir && sig === 'SIGKILL')
      await Promise.all(
        survivors.map((n) => n.request('profile', { action: 'stop', file: `${profileDir}/failover-${repeat + 1}-${n.name}.cpuprofile` }, 30_000)),
      );
    // The survivors' own records: when the last of the dead node's children went up on one of them.
    // (After SIGKILL only: a frozen node cannot answer for its log.)
    const ups =
      sig !== 'SIGKILL'
        ? []
        : (await ctx.step(`${kind} ${repeat + 1}: collect the survivors' child logs`, 30_000, () => cluster.childLogs(since))).filter(
            (e) => e[1] === 'up' && e[2] >= killedAt,
          );
    const atNodes = ups.length > 0 ? Math.max(...ups.map((e) => e[2])) - killedAt : undefined;
    const firstAt = ups.length > 0 ? Math.min(...ups.map((e) => e[2])) - killedAt : undefined;
    ctx.log(
      `  ${had} children of ${victim} running elsewhere ${took.toFixed(1)} ms after ${sig}` +
        (firstAt === undefined || atNodes === undefined
          ? ''
          : ` (the first one started ${firstAt.toFixed(1)} ms and the last ${atNodes.toFixed(1)} ms after it, by the survivors' clocks)`) +
        '; ' +
        `survivors' CPU ${cpu.map((c) => c.toFixed(0)).join(' + ')} ms, the observer's ${observerCpuMs.toFixed(0)} ms`,
    );
    await ctx.step(`${kind} ${repeat + 1}: restart ${victim} and settle`, 60_000, async () => {
      await node.kill();
      const seed = cluster.live().find((n) => n.name !== victim);
      await cluster.start(victim, [/** @type {import('../lib/cluster.mjs').BenchNode} */ (seed).address]);
      await cluster.waitSettled(members);
    });
    return { took, firstAt, atNodes, moved: had, cpuMs: cpu, observerCpuMs };
  };

  const killed = [];
  for (let r = 0; r < size.repeats; r++) killed.push(await measure('kill', 'SIGKILL', r));
  ctx.metric(
    'failover after SIGKILL',
    'ms',
    killed.map((k) => k.took),
    { target: ['<', 100], note: 'from the kill until the observer sees every child of the dead node running on a survivor (each child exactly once)' },
  );
  ctx.metric(
    'first child started on a survivor, after SIGKILL',
    'ms',
    killed.map((k) => k.firstAt).filter((v) => v !== undefined),
    {
      note:
        "from the kill until the first of its children went up on a survivor, by the survivors' own records: mostly the kernel " +
        "tearing the killed process down before its sockets close (it grows with the victim's memory: 5-8 ms for a 42 MiB " +
        'process, 25-43 ms for 280 MiB on this machine), then a first reconcile slice',
    },
  );
  ctx.metric(
    'last child started on a survivor, after SIGKILL',
    'ms',
    killed.map((k) => k.atNodes).filter((v) => v !== undefined),
    {
      note:
        "from the kill until the last of its children went up on a survivor, by the survivors' own " +
        'records (same machine clock); the rest of the failover figure is the news reaching the observer',
    },
  );
  ctx.metric(
    'children moved per SIGKILL',
    'children',
    killed.map((k) => k.moved),
  );
  ctx.metric(
    "survivor's CPU time in the failover, after SIGKILL",
    'ms',
    killed.flatMap((k) => k.cpuMs),
    {
      note:
        'user + system time of each survivor (/proc/<pid>/stat, 10 ms ticks) from the kill ' +
        'until the observer sees every child running again: the work, whatever the load',
    },
  );
  ctx.metric(
    "observer's CPU time in the failover, after SIGKILL",
    'ms',
    killed.map((k) => k.observerCpuMs),
    {
      note:
        'user + system time of the benchmark process, where the observer lives, over the same window: it shares the ' +
        "machine's two cores with the survivors (its monitor of every instance, the bench's own bookkeeping, included)",
    },
  );
  const frozen = [];
  for (let r = 0; r < size.frozenRepeats; r++) frozen.push(await measure('freeze', 'SIGSTOP', r));
  ctx.metric(
    'failover after SIGSTOP',
    'ms',
    frozen.map((k) => k.took),
    { note: 'a frozen node is only noticed by heartbeat timeout (3,000 ms with the default lan preset), so this is that timeout plus the restart' },
  );
  ctx.detail('repeats', { sigkill: killed, sigstop: frozen });
}
