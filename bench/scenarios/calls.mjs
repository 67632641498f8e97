/**
 * Scenario 8, calls (issue 16): call latency to a child on another node at
 * 1,000 calls/s, and the most calls per second one node can make.
 *
 * 3 real `pogo node` processes with the example workers; `kv-counter`
 * children started from n1 and placed by the rendezvous hash, so they end up
 * spread over the three nodes. n1 is the caller throughout. Each load runs
 * inside n1's own process (the control hook's `calls` op), timed there with
 * performance.now(): the control pipe carries one request and one summary,
 * never a call. Every call is `supervisor.callDetailed(id, {op:'add', key})`:
 * one hop to the child's node, the child's handler adds to a counter, the
 * reply names the instance that answered (its node, from the child itself).
 *
 * (a) Latency: open loop at `rate` calls/s for `seconds` to ONE child that
 *     runs on another node (n2 or n3, as n1's view has it): p50, p90, p99,
 *     max, each call timed from its send; also timed from when it was due
 *     (adds the caller's timer lag). `pacedRepeats` windows.
 * (b) Throughput: `inflight` calls outstanding at all times (closed loop),
 *     `calls` calls in all, for each K in `inflights`, in two placements:
 *       spread — round robin over children on all three nodes, the same
 *                number per node, so a third of the calls are to children
 *                on n1 itself (those skip the link);
 *       remote — round robin over children on n2 and n3 only.
 *     calls/s = calls / time until the last one settled, and the latency
 *     percentiles at that load; CPU per call of each node (from the nodes'
 *     process.cpuUsage around the run).
 *
 * Errors are counted by code (target 0). At the end every child's counter
 * for the run's key is read back and compared with the number of successful
 * calls it was sent: a call lost or delivered twice shows as a mismatch.
 *
 * BENCH_PROFILE_DIR=<dir>: CPU profiles of the three nodes during the
 * `spread` run at K = `profileInflight` (calls-spread-k<K>-<node>.cpuprofile,
 * sampled every 200 µs): where a call's time goes, caller and callees.
 */
import os from 'node:os';
import { NODE_FLAGS, names } from './common.mjs';

export const title = 'Calls';
export const description = 'Call latency to a child on another node at 1,000 calls/s, and calls per second from one node to children spread over 3 nodes.';

const load = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** @typedef {import('../lib/context.mjs').ScenarioContext} ScenarioContext */

/** @param {ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes(
    { nodes: 3, children: 30, rate: 1000, seconds: 2, pacedRepeats: 1, calls: 2000, warmup: 1000, profileInflight: 64 },
    { nodes: 3, children: 30, rate: 1000, seconds: 10, pacedRepeats: 3, calls: 20_000, warmup: 5000, profileInflight: 64 },
  );
  const inflights = ctx.quick ? [1, 64] : [1, 16, 64, 256];
  ctx.params({ ...size, inflights, preset: 'lan', caller: 'n1', worker: 'kv-counter' });
  const members = names(size.nodes);
  const cluster = ctx.cluster({ flags: [...NODE_FLAGS, '--workers', 'examples'] });
  /** @type {Array<{ phase: string, loadAverage: number[] }>} */
  const loads = [];
  /** @param {string} phase */
  const at = (phase) => {
    const l = load();
    loads.push({ phase, loadAverage: l });
    return l;
  };
  at('start');

  await ctx.step(`start ${size.nodes} nodes and the observer`, 40_000, async () => {
    await cluster.startAll(members);
    await cluster.observe();
  });
  const caller = /** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get('n1'));
  const ids = Array.from({ length: size.children }, (_, i) => `kv${i}`);
  await ctx.step(`start ${size.children} kv-counter children from n1`, 60_000, async () => {
    cluster.ids.push(...ids);
    const r = await caller.request('startMany', { prefix: 'kv', from: 0, count: size.children, worker: 'kv-counter' }, 50_000);
    if (r.failed > 0) throw new Error(`${r.failed} of ${size.children} startChild calls failed; first: ${r.firstError}`);
  });
  await ctx.step('observer sees every child running once on its owner', 60_000, () => cluster.waitSettled(members, 60_000));

  // Where each child runs, as the caller sees it (the view its calls are routed by).
  const byNode = await ctx.step("read where the children run (n1's view)", 10_000, async () => {
    // The observer may see a start before n1 does (each hears it on its own link): ask until n1 sees every instance.
    /** @type {Record<string, string | null>} */
    let where = {};
    for (const until = Date.now() + 9_000; ;) {
      ({ where } = await caller.request('whereis', { ids }, 9_000));
      if (ids.every((id) => where[id]) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    /** @type {Record<string, string[]>} */
    const groups = Object.fromEntries(members.map((m) => [m, []]));
    for (const id of ids) {
      const node = where[id];
      if (!node) throw new Error(`n1 sees no instance of ${id}`);
      /** @type {string[]} */ (groups[node]).push(id);
    }
    const empty = members.filter((m) => groups[m]?.length === 0);
    if (empty.length > 0)
      throw new Error(
        `no child runs on ${empty.join(', ')} (placement of ${size.children} children: ` +
          `${members.map((m) => `${m} ${groups[m]?.length}`).join(', ')}); start more children (--set children=...)`,
      );
    return groups;
  });
  /** @param {string} m */
  const on = (m) => /** @type {string[]} */ (byNode[m]);
  ctx.detail('childrenPerNode', Object.fromEntries(members.map((m) => [m, on(m).length])));
  /** @param {string[][]} lists */
  const interleave = (lists) => {
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n * lists.length }, (_, i) => /** @type {string} */ (lists[i % lists.length]?.[Math.floor(i / lists.length)]));
  };
  const remoteNodes = members.filter((m) => m !== 'n1');
  /** @type {Record<string, string[]>} */
  const placements = { spread: interleave(members.map(on)), remote: interleave(remoteNodes.map(on)) };
  const target = /** @type {string} */ (on(/** @type {string} */ (remoteNodes[0]))[0]);

  // Every `add` goes to this key; `sent` counts the successful adds per child, to check the counters at the end.
  const key = `bench-${process.pid}-${Date.now()}`;
  const message = { op: 'add', key };
  const sent = new Map(ids.map((id) => [id, 0]));
  /**
   * @param {Omit<import('../lib/types.js').CallsArgs, 'message'>} args
   * @param {number} boundMs
   */
  const calls = async (args, boundMs) => {
    const r = await caller.request('calls', { message, ...args }, boundMs * ctx.bounds);
    for (const [id, n] of Object.entries(r.perChild)) sent.set(id, /** @type {number} */ (sent.get(id)) + n);
    return r;
  };
  const stats = () => Promise.all(cluster.live().map((n) => n.request('stats', {}, 15_000)));
  const drops0 = await cluster.memberLinkDrops();

  await ctx.step(`warm up: ${size.warmup} calls, 16 in flight, spread`, 60_000, () =>
    calls({ ids: placements.spread, mode: 'inflight', count: size.warmup, inflight: 16 }, 55_000),
  );

  // (a) latency at a steady rate, to one child on another node.
  /** @type {Array<import('../lib/types.js').CallsReply & { loadAverage: number[], achievedRate: number }>} */
  const paced = [];
  for (let r = 0; r < size.pacedRepeats; r++) {
    const loadBefore = at(`paced ${r + 1}`);
    const res = await ctx.step(
      `${size.rate} calls/s for ${size.seconds} s to ${target} on ${remoteNodes[0]}${size.pacedRepeats > 1 ? ` (window ${r + 1})` : ''}`,
      size.seconds * 1000 + 60_000,
      () => calls({ ids: [target], mode: 'paced', rate: size.rate, durationMs: size.seconds * 1000 }, size.seconds * 1000 + 55_000),
    );
    paced.push({ ...res, loadAverage: loadBefore, achievedRate: (res.count / res.elapsedMs) * 1000 });
    ctx.log(
      `  p50 ${res.latencyMs.p50?.toFixed(3)} ms, p99 ${res.latencyMs.p99?.toFixed(3)} ms, max ` +
        `${res.latencyMs.max?.toFixed(1)} ms, ${res.failed} failed; load average ${loadBefore.join(' / ')}`,
    );
  }

  // (b) throughput with K calls in flight, spread over the three nodes and to the other two only.
  /**
   * @type {Array<import('../lib/types.js').CallsReply & {
   *   placement: string, inflight: number, rate: number, cpuPerCallUs: Record<string, number>, loadAverage: number[], profiled: boolean
   * }>}
   */
  const runs = [];
  const profileDir = process.env.BENCH_PROFILE_DIR;
  for (const placement of ['spread', 'remote']) {
    for (const inflight of inflights) {
      const loadBefore = at(`${placement} K=${inflight}`);
      const profiling = profileDir && placement === 'spread' && inflight === size.profileInflight;
      if (profiling) await Promise.all(cluster.live().map((n) => n.request('profile', { action: 'start', intervalUs: 200 }, 10_000)));
      const before = await stats();
      const res = await ctx.step(
        `${size.calls} calls, ${inflight} in flight, ${placement === 'spread' ? 'spread over n1, n2, n3' : 'to n2 and n3'}`,
        180_000,
        () => calls({ ids: placements[placement], mode: 'inflight', count: size.calls, inflight }, 175_000),
      );
      const after = await stats();
      if (profiling)
        await Promise.all(
          cluster
            .live()
            .map((n) => n.request('profile', { action: 'stop', file: `${profileDir}/calls-${placement}-k${inflight}-${n.name}.cpuprofile` }, 30_000)),
        );
      // CPU µs per call of each node: (user + system) over the run / calls made.
      const cpuPerCallUs = Object.fromEntries(
        cluster.live().map((n, i) => {
          const a = /** @type {import('../lib/types.js').StatsReply} */ (after[i]);
          const b = /** @type {import('../lib/types.js').StatsReply} */ (before[i]);
          return [n.name, (a.cpu.user + a.cpu.system - b.cpu.user - b.cpu.system) / res.count];
        }),
      );
      const rate = (res.answered / res.elapsedMs) * 1000;
      runs.push({ placement, inflight, rate, ...res, cpuPerCallUs, loadAverage: loadBefore, profiled: Boolean(profiling) });
      const cpuText = Object.entries(cpuPerCallUs)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ');
      ctx.log(
        `  ${Math.round(rate)} calls/s, p50 ${res.latencyMs.p50?.toFixed(3)} ms, p99 ${res.latencyMs.p99?.toFixed(3)} ms, ${res.failed} failed; ` +
          `CPU µs/call ${cpuText}; answered by ${JSON.stringify(res.perNode)}; load average ${loadBefore.join(' / ')}`,
      );
    }
  }
  const linkDrops = (await cluster.memberLinkDrops()) - drops0;

  // Every counter holds exactly the adds that succeeded: none lost, none delivered twice.
  const mismatches = await ctx.step("read every child's counter back", 30_000, async () => {
    /** @type {Array<{ id: string, counted: unknown, sent: number | undefined }>} */
    const out = [];
    for (const id of ids) {
      const r = await caller.request('call', { child: id, message: { op: 'get', key } }, 20_000);
      const counted = /** @type {{ value?: unknown }} */ (r.reply).value;
      if (counted !== sent.get(id)) out.push({ id, counted, sent: sent.get(id) });
    }
    return out;
  });
  at('end');

  /** @type {ScenarioContext['metric']} */
  const m = (name, unit, values, opts) => ctx.metric(name, unit, values, opts);
  const where = `to a child on another node, ${size.rate} calls/s`;
  m(
    `call latency p50, ${where}`,
    'ms',
    paced.map((x) => x.latencyMs.p50),
    { target: ['<', 1], note: `${size.rate * size.seconds} calls per window, open loop, timed inside n1 from send to reply` },
  );
  m(
    `call latency p90, ${where}`,
    'ms',
    paced.map((x) => x.latencyMs.p90),
  );
  m(
    `call latency p99, ${where}`,
    'ms',
    paced.map((x) => x.latencyMs.p99),
    { target: ['<', 5] },
  );
  m(
    `call latency max, ${where}`,
    'ms',
    paced.map((x) => x.latencyMs.max),
  );
  m(
    `call latency p99 from when due, ${where}`,
    'ms',
    paced.map((x) => x.fromDueMs.p99),
    { note: "timed from when the call was due: adds the caller's own timer lag" },
  );
  m(
    `calls/s achieved, paced at ${size.rate}`,
    'calls/s',
    paced.map((x) => x.achievedRate),
  );
  const best = runs.filter((x) => x.placement === 'spread').reduce((a, b) => (b.rate > a.rate ? b : a));
  m('most calls/s from one node, spread over 3 nodes', 'calls/s', [best.rate], {
    target: ['>=', 20_000],
    note: `best over K in ${inflights.join(', ')} calls in flight (K = ${best.inflight}); a third of the calls are to children on the caller's own node`,
  });
  for (const x of runs) {
    const label = `${x.placement === 'spread' ? 'spread over 3 nodes' : 'to the 2 other nodes'}, ${x.inflight} in flight`;
    m(`calls/s, ${label}`, 'calls/s', [x.rate]);
    m(`call latency p50, ${label}`, 'ms', [x.latencyMs.p50]);
    m(`call latency p99, ${label}`, 'ms', [x.latencyMs.p99]);
    m(`caller CPU per call, ${label}`, 'µs', [x.cpuPerCallUs.n1]);
  }
  m('calls failed', 'calls', [paced.reduce((a, x) => a + x.failed, 0) + runs.reduce((a, x) => a + x.failed, 0)], { target: ['==', 0] });
  m('counters not matching the calls answered', 'children', [mismatches.length], {
    target: ['==', 0],
    note: "each child's count for the run's key, read back, against the adds it answered",
  });
  m('member links dropped', 'events', [linkDrops]);
  ctx.detail('paced', paced);
  ctx.detail('throughput', runs);
  ctx.detail('mismatches', mismatches);
  ctx.detail('loadAverage', loads);
}
