#!/usr/bin/env node
/**
 * Reproduces a "terminate wins" violation found by the soak: a child that
 * has run longer than `tombstoneTtlMs` can come back after terminateChild
 * resolved.
 *
 *   node reliability/repro-tombstone-ttl.mjs [--children 50] [--ttl 2s] [--age 4s]
 *
 * Three `pogo node` processes with `--tombstone-ttl-ms <ttl>`; start
 * `--children` children, let them run for `--age`, terminate every one of
 * them (each through a random member, as `pogo ctl stop` does) and wait until
 * every terminate has resolved; then wait two anti-entropy passes and count
 * the terminated children whose spec is live again and which run again.
 * The same with an age below the TTL is the control: none come back.
 *
 * Why (distributed-supervisor.ts): terminateChild writes a tombstone whose
 * floor is `highestRev(register)` — the version of the newest start request,
 * i.e. the time the child was *started* (registers.ts `highestRev`,
 * `VersionClock`). `mirror()` treats a tombstone as expired when
 * `now - verTime(floor) > tombstoneTtlMs`, so the tombstone of a child
 * older than the TTL is expired the moment it is written: the terminating
 * member drops its own copy on its next reconcile pass, and a peer that
 * reconciles after both the join and the leave of that copy have arrived
 * never sees the tombstone, keeps its live copy, and the spec is live again
 * everywhere (the next start is a restart of a terminated child).
 * Exit code 1 when a child came back, 0 otherwise.
 */
import { sleep, until } from '../bench/lib/harness.mjs';
import { RealCluster, reproMain } from './lib/cluster.mjs';
import { formatDuration } from './lib/options.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
const FLAGS = {
  children: { type: 'int', min: 1, default: 50, help: 'children to start and terminate' },
  ttl: { type: 'duration', default: 2000, help: "members' tombstoneTtlMs" },
  age: { type: 'duration', default: 4000, help: 'how long the children run before they are terminated (control: below --ttl)' },
  'anti-entropy': { type: 'duration', default: 1000, help: "members' antiEntropyIntervalMs" },
};

/**
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts
 * @param {(line: string) => void} [log]
 * @returns {Promise<number>} how many children broke the rule
 */
export async function reproduce({ children, ttl, age, antiEntropy }, log = (l) => process.stdout.write(`${l}\n`)) {
  const names = ['n1', 'n2', 'n3'];
  const cluster = new RealCluster({ names, preset: 'lan', flags: ['--tombstone-ttl-ms', String(ttl), '--anti-entropy-interval-ms', String(antiEntropy)] });
  try {
    await cluster.startAll();
    await cluster.observe();
    const reply = await cluster.node('n1').request('startMany', { prefix: 'k', from: 0, count: children }, 120_000);
    if (reply.failed > 0) throw new Error(`start failed: ${reply.firstError}`);
    await cluster.waitSettled(60_000);
    await sleep(age);
    const ids = Array.from({ length: children }, (_, i) => `k${i}`);
    const replies = await Promise.all(ids.map((id, i) => cluster.command(names[i % names.length], 'stop', { id }, 30_000)));
    const failed = replies.filter((r) => !r.ok);
    log(
      `repro: ${children} children ran ${formatDuration(age)} (tombstone TTL ${formatDuration(ttl)}); ${children - failed.length} ` +
        `terminates resolved${failed.length ? `, ${failed.length} failed (${failed[0].error?.code})` : ''}`,
    );
    await sleep(2 * antiEntropy + 1000);
    await until(() => cluster.settled(), 30_000, 'quiescence', 50).catch(() => undefined);
    const where = await cluster.readTruth();
    const live = new Set(cluster.observer.supervisor.whichChildren('global').map((c) => c.id));
    const back = ids.filter((id, i) => replies[i].ok && (live.has(id) || where.has(id)));
    log(
      `repro: ${back.length} of ${children} terminated children are live again (` +
        `${back.filter((id) => where.has(id)).length} running)${back.length ? `: ${back.slice(0, 12).join(', ')}` : ''}`,
    );
    return back.length;
  } finally {
    await cluster.close();
  }
}

reproMain(import.meta.url, 'repro-tombstone-ttl', FLAGS, reproduce);
