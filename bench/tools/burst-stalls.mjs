#!/usr/bin/env node
/**
 * One caller, one burst: N `pogo node` processes and an observer, C
 * `startChild` calls made at once on n1 (as a script doing `Promise.all` of
 * them would), then how long the calls took, each process's longest
 * event-loop stall over the burst, and the member links the nodes saw drop.
 *
 *   node bench/tools/burst-stalls.mjs [--nodes 3] [--children 10000] [--preset lan] [--bounds 1]
 *
 * `--bounds 3` triples every wait's bound (twenty nodes starting on a loaded
 * host take longer than 20 s to come up).
 *
 * A stall longer than the heartbeat timeout (3 s with `lan`, 1 s with
 * `local`) makes the peers drop the stalled node's links; every drop costs a
 * resync and moves. Not a benchmark scenario (no figure has a target); a
 * diagnosis, like reconcile-count.mjs.
 */
import { parseArgs } from 'node:util';
import { BenchCluster } from '../lib/cluster.mjs';
import { NODE_FLAGS, names } from '../scenarios/common.mjs';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    children: { type: 'string', default: '10000' },
    preset: { type: 'string', default: 'lan' },
    bounds: { type: 'string', default: '1' },
  },
});
const count = Number(values.nodes);
const N = Number(values.children);
const preset = /** @type {'local' | 'lan' | 'wan'} */ (values.preset);
const cluster = new BenchCluster({ flags: NODE_FLAGS, preset, bounds: Number(values.bounds) });
try {
  await cluster.startAll(names(count));
  await cluster.observe();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  // Reset each node's stall probe and the observer's, and count the drops so far.
  await Promise.all(cluster.live().map((n) => n.request('stats', {})));
  cluster.observerStall();
  const drops0 = await cluster.memberLinkDrops();
  const t0 = performance.now();
  const replies = await cluster.startChildren(/** @type {import('../lib/cluster.mjs').BenchNode} */ (cluster.nodes.get('n1')), N, { boundMs: 600_000 });
  await cluster.waitSettled(names(count), 600_000);
  const settledMs = performance.now() - t0;
  const stats = await Promise.all(cluster.live().map((n) => n.request('stats', {})));
  const drops = (await cluster.memberLinkDrops()) - drops0;
  console.log(
    `${count} nodes, ${N} children from n1 (${preset}): calls resolved in ${Math.round(/** @type {{ elapsedMs: number }} */ (replies[0]).elapsedMs)} ms, ` +
      `all running once in ${Math.round(settledMs)} ms; member links dropped: ${drops}`,
  );
  console.log(
    `longest stall, ms: ${cluster
      .live()
      .map((n, i) => `${n.name} ${Math.round(/** @type {import('../lib/types.js').StatsReply} */ (stats[i]).maxStallMs)}`)
      .join(', ')}, observer ${Math.round(cluster.observerStall())}`,
  );
} finally {
  await cluster.close();
}
