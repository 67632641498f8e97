/**
 * Scenario: link bytes per child started, by cluster size. The heart's cost
 * per change should grow with the number of members, not with its square:
 * a new child's register travels once from its caller to each peer, and its
 * owner's `run:` join once from the owner to each peer, so the bytes every
 * node sends for one child should be about (members − 1) × (register + join
 * + their share of the frames), linear in the members.
 *
 * For each size (3, 5 and 8 nodes by default) a fresh cluster of real
 * `pogo node` processes, with no observer (an observer's link would add its
 * own copy of everything), takes `children` startChild calls spread evenly
 * over its nodes. The figure is the Socket.IO payload bytes all nodes sent
 * (each node's transport counter, the same as `pogo_link_bytes_total`)
 * from just before the calls until every node sees every child running
 * once, less the links' background (pings and gossip: each node's rate over
 * a quiet window just before, times the burst's length), divided by the
 * children. Link messages and transport frames per child are counted the
 * same way.
 *
 * "Settled" is read from the nodes themselves (the control hook's `counts`:
 * each node's view of the cluster, and the children running locally),
 * polled every 100 ms, so a last poll can add up to 100 ms of background.
 */
import { NODE_FLAGS, names } from './common.mjs';
import { sleep, until } from '../lib/harness.mjs';

export const title = 'Link bytes per child started, by cluster size';
export const description = 'Socket.IO payload bytes (and messages) all nodes send per child started, at 3, 5 and 8 nodes: growth should be about linear.';

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes({ children: 500, quietSeconds: 2, small: 3, medium: 5, large: 8 }, { children: 5000, quietSeconds: 4, small: 3, medium: 5, large: 8 });
  ctx.params({ ...size, preset: 'lan', observer: 'none', calls: 'spread evenly over the nodes' });
  const N = size.children;
  const sizes = [size.small, size.medium, size.large];
  /** @typedef {{ nodes: number, bytes: number, messages: number, frames: number, background: number, burstMs: number }} Row */
  /** @type {Row[]} */
  const rows = [];
  for (const count of sizes) {
    const cluster = ctx.cluster({ flags: NODE_FLAGS });
    const members = names(count);
    const label = `${count} nodes`;
    await ctx.step(`${label}: start the nodes, every one up and ready with every other`, 60_000, async () => {
      await cluster.startAll(members);
      await until(async () => (await counts(cluster)).every((c) => c.ready && c.up.length === count), 50_000, `every node ready with ${count} members up`, 100);
    });
    // The background: pings and gossip on a quiet cluster, per second.
    const q0 = await linkTotals(cluster);
    await sleep(size.quietSeconds * 1000);
    const q1 = await linkTotals(cluster);
    const quietSeconds = (q1.at - q0.at) / 1000;
    const background = {
      bytes: (q1.bytes - q0.bytes) / quietSeconds,
      messages: (q1.messages - q0.messages) / quietSeconds,
      frames: (q1.frames - q0.frames) / quietSeconds,
    };
    const a = await linkTotals(cluster);
    await ctx.step(`${label}: ${N} startChild calls, spread`, 180_000, () => cluster.startChildren(cluster.live(), N, { boundMs: 170_000 }));
    await ctx.step(`${label}: every node sees ${N} running once`, 120_000, () =>
      until(
        async () => {
          const all = await counts(cluster);
          return all.every((c) => c.cluster.specs === N && c.cluster.running === N) && all.reduce((s, c) => s + c.local.active, 0) === N;
        },
        110_000,
        `every node sees ${N} children running once`,
        100,
      ),
    );
    const b = await linkTotals(cluster);
    const burst = (b.at - a.at) / 1000;
    const row = {
      nodes: count,
      bytes: (b.bytes - a.bytes - background.bytes * burst) / N,
      messages: (b.messages - a.messages - background.messages * burst) / N,
      frames: (b.frames - a.frames - background.frames * burst) / N,
      background: background.bytes,
      burstMs: burst * 1000,
    };
    rows.push(row);
    ctx.log(
      `  ${label}: ${row.bytes.toFixed(0)} B, ${row.messages.toFixed(2)} messages, ${row.frames.toFixed(2)} frames per child; ` +
        `background ${background.bytes.toFixed(0)} B/s over ${row.burstMs.toFixed(0)} ms`,
    );
    await cluster.close();
  }
  for (const row of rows) {
    ctx.metric(`link bytes per child started, ${row.nodes} nodes`, 'B', row.bytes, {
      note: 'Socket.IO payload bytes sent by all nodes from the calls until every node sees every child running once, less the background, / children',
    });
  }
  for (const row of rows)
    ctx.metric(`link bytes per child per peer link, ${row.nodes} nodes`, 'B', row.bytes / (row.nodes - 1), {
      note: 'the same / (nodes − 1): flat when the growth is linear',
    });
  for (const row of rows) ctx.metric(`link messages per child started, ${row.nodes} nodes`, 'messages', row.messages);
  for (const row of rows)
    ctx.metric(`transport frames per child started, ${row.nodes} nodes`, 'frames', row.frames, {
      note: 'what went on the wire: messages of one turn to one peer go out as one batch frame',
    });
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first && last && last.nodes > first.nodes) {
    // bytes ∝ nodes^k between the smallest and the largest size; (nodes − 1) gives k ≈ 1.3 from 3 to 8, nodes × (nodes − 1) k ≈ 2.3.
    /** @param {(n: number) => number} f */
    const exponent = (f) => Math.log(f(last.nodes) / f(first.nodes)) / Math.log(last.nodes / first.nodes);
    const k = exponent((n) => (rows.find((r) => r.nodes === n) ?? first).bytes);
    const perPeer = exponent((n) => n - 1).toFixed(2);
    const perPair = exponent((n) => n * (n - 1)).toFixed(2);
    ctx.metric(`growth of bytes per child from ${first.nodes} to ${last.nodes} nodes, as an exponent k in bytes ∝ nodes^k`, 'exponent', k, {
      target: ['<=', 1.6],
      note: `one copy per peer (members − 1) gives k = ${perPeer}, one per pair of members k = ${perPair}`,
    });
  }
  ctx.detail('rows', rows);
}

/**
 * The link counters of every live node, summed, and when they were read.
 * @param {import('../lib/cluster.mjs').BenchCluster} cluster
 */
async function linkTotals(cluster) {
  const stats = await Promise.all(cluster.live().map((n) => n.request('stats', {}, 10_000)));
  const at = performance.now();
  return {
    at,
    bytes: stats.reduce((s, x) => s + (x.link.bytesOut ?? NaN), 0),
    messages: stats.reduce((s, x) => s + x.link.framesOut, 0),
    frames: stats.reduce((s, x) => s + (x.link.transportFramesOut ?? NaN), 0),
  };
}

/** @param {import('../lib/cluster.mjs').BenchCluster} cluster */
function counts(cluster) {
  return Promise.all(cluster.live().map((n) => n.request('counts', {}, 10_000)));
}
