#!/usr/bin/env node
/**
 * Reproduces a transient "terminate wins" violation seen in the soak: when
 * a child is being moved (stop-first) and terminated at the same time,
 * terminateChild can resolve while the move's new instance is starting, so
 * the child runs again for a moment after the promise resolved.
 *
 *   node reliability/repro-terminate-during-move.mjs [--children 100] [--seed N]
 *
 * Three `pogo node` processes started together (so their clocks share one
 * time base to well under a millisecond). For each child: `move` it to
 * another node (through the node running it) and, 0–20 ms later, `stop` it
 * through the third node. Then, from every node's own child log: did an
 * instance start after the stop had been acknowledged to the script, or
 * was one still running then (and stopped only later)?
 *
 * Fixed: terminateChild now also waits until every up member holds the
 * tombstone, and this script prints 0 and 0. What it reproduced
 * (distributed-supervisor.ts, terminateChild): the terminating member
 * resolved as soon as *its own view* showed no runner of the old revisions
 * (`s.runners.every((r) => r.rev > floor) && !this.managed.has(id)`). In a
 * stop-first move there is a gap between the old instance's `run:` leave
 * and the new one's join; if the tombstone is written in that gap, the
 * member resolves at once, while the move's target — which has not yet
 * received the tombstone — starts the child, and stops it again only when
 * the tombstone arrives. Waiting until every up member's register copy holds
 * the new floor (as startChild waits for every member to hold the spec)
 * would close the race: links are FIFO, so a member's run join sent before
 * it mirrored the tombstone reaches the terminating member first.
 * Exit code 1 when reproduced, 0 otherwise.
 */
import { sleep } from '../bench/lib/harness.mjs';
import { SeededRandom } from '../core/dist/testing.js';
import { RealCluster, reproMain } from './lib/cluster.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
const FLAGS = {
  children: { type: 'int', min: 1, default: 100, help: 'children to move and terminate at once' },
  seed: { type: 'int', min: 1, default: 1, help: 'seed of the delays' },
};

const epochNow = () => performance.timeOrigin + performance.now();

/**
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts
 * @param {(line: string) => void} [log]
 * @returns {Promise<number>} how many children broke the rule
 */
export async function reproduce({ children, seed }, log = (l) => process.stdout.write(`${l}\n`)) {
  const names = ['n1', 'n2', 'n3'];
  const rng = new SeededRandom(seed);
  const cluster = new RealCluster({ names, preset: 'lan' });
  /** @type {Map<string, Array<{ node: string, kind: 'up' | 'down', t: number }>>} */
  const events = new Map();
  cluster.onChildEvents((node, evs) => {
    for (const [id, kind, t] of evs) {
      const list = events.get(id) ?? [];
      list.push({ node: node.name, kind, t });
      events.set(id, list);
    }
  });
  try {
    await Promise.all(names.map((n, i) => (i === 0 ? cluster.start(n, []) : sleep(300).then(() => cluster.start(n, [cluster.node('n1').address])))));
    await cluster.observe();
    const reply = await cluster.node('n1').request('startMany', { prefix: 'm', from: 0, count: children }, 120_000);
    if (reply.failed > 0) throw new Error(`start failed: ${reply.firstError}`);
    await cluster.waitSettled(60_000);
    await cluster.readTruth();
    /** @type {Map<string, number>} */
    const acked = new Map();
    /** @type {Map<string, string>} */
    const plan = new Map();
    const where = new Map(cluster.observer.supervisor.whichChildren('global').map((c) => [c.id, c.node]));
    let moves = 0;
    await Promise.all(
      Array.from({ length: children }, async (_, i) => {
        const id = `m${i}`;
        const from = /** @type {string} */ (where.get(id));
        const others = names.filter((n) => n !== from);
        const to = others[i % 2];
        const via = others[(i + 1) % 2];
        const delay = rng.int(21);
        plan.set(id, `${from}→${to}, stop via ${via} after ${delay} ms`);
        const move = cluster.command(from, 'move', { id, node: to }, 30_000).then((r) => r.ok && moves++);
        await sleep(delay);
        const stop = await cluster.command(via, 'stop', { id }, 30_000);
        if (stop.ok) acked.set(id, epochNow());
        await move;
      }),
    );
    await sleep(2000);
    await cluster.readTruth();
    /** @type {string[]} */
    const startedAfter = [];
    /** @type {string[]} */
    const runningAt = [];
    for (const [id, at] of acked) {
      const evs = (events.get(id) ?? []).sort((a, b) => a.t - b.t);
      const late = evs.find((e) => e.kind === 'up' && e.t > at);
      if (late) startedAfter.push(`${id} on ${late.node} ${(late.t - at).toFixed(1)} ms after the stop was acknowledged`);
      else {
        // Still running at the acknowledgement: its last up before, its down after.
        const open = evs.filter((e) => e.t <= at).reduce((n, e) => n + (e.kind === 'up' ? 1 : -1), 0);
        if (open > 0) {
          const down = evs.find((e) => e.kind === 'down' && e.t > at);
          runningAt.push(`${id} on ${down?.node ?? '?'} until ${down ? `${(down.t - at).toFixed(1)} ms` : 'never'} after the acknowledgement`);
          if (process.env.REPRO_VERBOSE) log(`  ${id} (${plan.get(id)}): ${evs.map((e) => `${e.kind}@${e.node} ${(e.t - at).toFixed(1)}`).join(', ')}`);
        }
      }
    }
    log(`repro: ${children} children moved (${moves} moves resolved) and terminated 0–20 ms later; ${acked.size} terminates resolved`);
    log(
      `repro: ${startedAfter.length} started again after their terminate had resolved${startedAfter.length ? `: ${startedAfter.slice(0, 8).join('; ')}` : ''}`,
    );
    log(`repro: ${runningAt.length} were still running when their terminate resolved${runningAt.length ? `: ${runningAt.slice(0, 8).join('; ')}` : ''}`);
    return startedAfter.length + runningAt.length;
  } finally {
    await cluster.close();
  }
}

reproMain(import.meta.url, 'repro-terminate-during-move', FLAGS, reproduce);
