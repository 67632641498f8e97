#!/usr/bin/env node
/**
 * How often each node reconciles each child while children start: a real
 * cluster (the benchmark's `pogo node` processes with the control hook) of
 * N members and an observer, C children started from n1 (as the start-rate
 * scenario does), then each process's reconciler counters over the burst
 * (the control hook's `stats` reply, the observer's own reconciler), per
 * child: reconciles, urgent and plain marks, sweeps.
 *
 *   node bench/tools/reconcile-count.mjs [--nodes 3] [--children 10000] [--settle-ms 0]
 *
 * `--settle-ms`: how long to let the cluster settle after the observer sees
 * every member up and ready, before the burst (the members' views of each
 * other may still be converging then: a member that learns only now that a
 * peer is ready places children differently, and the burst pays for moves).
 *
 * Every node handles every child, so the figure to read is reconciles per
 * child on each process: the caller and the owner act on a child, every
 * other node only follows it. Counts are exact, not sampled, so one run
 * compares two builds (run it from each checkout).
 */
import { parseArgs } from 'node:util';
import { BenchCluster } from '../lib/cluster.mjs';
import { NODE_FLAGS, names } from '../scenarios/common.mjs';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, children: { type: 'string', default: '10000' }, 'settle-ms': { type: 'string', default: '0' } },
});
const N = Number(values.children);
const members = names(Number(values.nodes));

/** @param {Record<string, number>} after @param {Record<string, number>} before */
const minus = (after, before) => Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - (before[k] ?? 0)]));
/** @param {number} n */
const per = (n) => (n / N).toFixed(2);
/** @param {string} who @param {Record<string, number>} d */
const line = (who, d) =>
  `${who.padEnd(9)} ${per(d.reconciles)} reconciles per child (urgent ${per(d.urgent)}, plain ${per(d.dirty)}, swept ${per(d.swept)}; ` +
  `${d.slices} slices, sweeps planned: ${d.fullSweeps} full, ${d.targetedSweeps} targeted${d.memberDowns ? `; saw ${d.memberDowns} member links drop` : ''})`;

const cluster = new BenchCluster({ flags: NODE_FLAGS });
try {
  await cluster.startAll(members);
  await cluster.observe();
  await new Promise((resolve) => setTimeout(resolve, Number(values['settle-ms'])));
  /** @returns {Promise<Array<Record<string, number>>>} */
  const counters = async () =>
    (await Promise.all(cluster.live().map((n) => n.request('stats', {})))).map((s) => ({ ...s.reconciler, memberDowns: s.memberDowns }));
  /** @type {{ reconciler: { stats: Record<string, number> } }} */
  const observerSupervisor = /** @type {any} */ (cluster.observer.supervisor);
  const observerCounters = () => ({ ...observerSupervisor.reconciler.stats });
  const before = await counters();
  const observerBefore = observerCounters();
  await cluster.startChildren(/** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get('n1')), N);
  await cluster.waitSettled(members);
  const after = await counters();
  cluster
    .live()
    .forEach((n, i) => console.log(line(n.name, minus(/** @type {Record<string, number>} */ (after[i]), /** @type {Record<string, number>} */ (before[i])))));
  console.log(line('observer', minus(observerCounters(), observerBefore)));
} finally {
  await cluster.close();
}
