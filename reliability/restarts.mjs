#!/usr/bin/env node
/**
 * Whole-cluster restarts with durable desired state: `node
 * reliability/restarts.mjs [--nodes 3] [--children 50] [--repetitions 20]
 * [--seed N] [--netsplit available|majority]`.
 *
 * Runs N `pogo node` members on loopback, each with its own `--data-dir`
 * and a fixed port, every member given every other as a seed (a static
 * configuration, as in production); starts 50 children and waits until each
 * runs once on its owner and every member has saved them. Then, per
 * repetition:
 *
 *   1. reads every member's child log (the script must know all it ran),
 *      SIGKILLs all members at once and waits for the exits;
 *   2. starts them again in staggered groups — `n1/n2+n3`: n1 first, then
 *      n2 and n3 together — the groups `gap` ms apart (drawn from the seed
 *      among 0, 50, 200, 500, 1000, 2000, 4000, 4500, 5000 and 7000 ms:
 *      around and past the 5 s ready timeout, after which the first group
 *      takes children alone);
 *      the order is the issue's `n1/n2+n3` on odd repetitions and the others
 *      in turn on even ones (`--orders` to choose);
 *   3. waits until the cluster is quiescent again (every member up, ready
 *      and linked to all; every child once on its owner; every member counts
 *      each once) and checks.
 *
 * Checks (a failure stops the run; the logs are kept):
 *   no-overlap    no child ran on two nodes at the same moment, replayed from
 *                 the members' own child logs (lib/overlap.mjs; tolerance:
 *                 the calibrated clock error, see majority.mjs); a killed
 *                 member's children count as running until the script saw
 *                 it exit;
 *   restored      every restarted member read every child from its data dir
 *                 ("restored the saved desired state" with all children):
 *                 nothing came back only because a peer still had it;
 *   back-once     quiescence within --settle-timeout of the first spawn;
 *   one-instance, no-lost-spec, nothing-else, views-agree (lib/invariants.mjs).
 *
 * No observer node: the script talks to the members over their control
 * pipes only, so nothing outside the members holds the desired state across
 * the kill. Exit code 0 when every check held, 1 otherwise, 2 for bad flags.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { killTrackedNow, sleep, until } from '../bench/lib/harness.mjs';
import { SeededRandom } from '../core/dist/testing.js';
import { STATE_FILE, decodeState } from '../core/dist/distributed/state-file.js';
import { RealCluster, closeOnSignal } from './lib/cluster.mjs';
import { Ledger, checkQuiescent } from './lib/invariants.mjs';
import { commandLine, finish, fig, formatDuration, runIfMain } from './lib/options.mjs';
import { ChildRecord, beyondClockError, clockFigures, describeOverlap, epochNow } from './lib/overlap.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
export const FLAGS = {
  nodes: { type: 'int', min: 2, default: 3, help: 'members' },
  children: { type: 'int', min: 1, default: 50, help: 'children, started once before the first kill' },
  repetitions: { type: 'int', min: 1, default: 20, help: 'kill-all-and-restart cycles' },
  seed: { type: 'int', min: 1, default: undefined, help: 'seed of the gaps between groups (default: random, printed)' },
  orders: {
    type: 'string',
    default: undefined,
    help:
      'start orders to cycle through, comma-separated, groups split by / and members ' +
      'joined by + (default: n1/n2+n3 on odd repetitions, the others in turn on even ones)',
  },
  gaps: { type: 'string', default: '0,50,200,500,1000,2000,4000,4500,5000,7000', help: 'gaps between groups to draw from, ms, comma-separated' },
  netsplit: {
    type: 'string',
    choices: ['available', 'majority'],
    default: 'available',
    help: 'netsplit mode of the members (majority: --expected-members = --nodes)',
  },
  preset: { type: 'string', choices: ['local', 'lan'], default: 'lan', help: 'timing preset of the members' },
  tolerance: {
    type: 'number',
    default: undefined,
    help: 'overlaps up to this many ms are reported but do not fail the run (default: per pair of processes, the sum of their calibrated clock errors)',
  },
  'settle-timeout': { type: 'duration', default: 60_000, help: 'longest wait from the first spawn until every child is back once' },
  'log-level': { type: 'string', choices: ['info', 'debug'], default: 'info', help: 'log level of the members (their logs are kept on failure)' },
  json: { type: 'string', default: undefined, help: 'also write the result as JSON to this file' },
  keep: { type: 'bool', default: false, help: 'keep the node logs even when the run passes' },
};

/**
 * The start orders: `main` for odd repetitions and `others` in turn for even ones, or one `cycle` (--orders).
 * @typedef {{ main: string, others: string[], cycle?: undefined } | { cycle: string[], main?: undefined, others?: undefined }} Orders
 */

/** @param {number} n */
const names = (n) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/**
 * The default start orders for `members`: the issue's (first alone, then the rest together) and the others.
 * @param {string[]} members
 * @returns {Orders}
 */
export function defaultOrders(members) {
  if (members.length !== 3) {
    const [first, ...rest] = members;
    const half = Math.ceil(members.length / 2);
    return {
      main: `${first}/${rest.join('+')}`,
      others: [
        `${rest.join('+')}/${first}`,
        members.join('/'),
        [...members].reverse().join('/'),
        `${members.slice(0, half).join('+')}/${members.slice(half).join('+')}`,
        members.join('+'),
      ],
    };
  }
  return { main: 'n1/n2+n3', others: ['n2/n1+n3', 'n3/n1+n2', 'n1+n2/n3', 'n1/n2/n3', 'n3/n2/n1', 'n1+n2+n3'] };
}

/**
 * `n1/n2+n3` → [['n1'], ['n2', 'n3']]; throws on a name that is not a member or a member missing.
 * @param {string} text
 * @param {readonly string[]} members
 * @returns {string[][]}
 */
export function parseOrder(text, members) {
  const groups = text.split('/').map((g) =>
    g
      .split('+')
      .map((n) => n.trim())
      .filter(Boolean),
  );
  const all = groups.flat();
  const unknown = all.filter((n) => !members.includes(n));
  if (unknown.length > 0 || all.length !== members.length || new Set(all).size !== all.length)
    throw new Error(`order ${JSON.stringify(text)}: every member (${members.join(', ')}) exactly once, groups split by / and members joined by +`);
  return groups;
}

/**
 * One repetition's plan, drawn from the seed: the order and the gap before each group after the first.
 * @param {{ int(n: number): number }} rng
 * @param {number} rep
 * @param {Orders} orders
 * @param {readonly number[]} gaps
 * @param {readonly string[]} members
 * @returns {{ order: string, groups: string[][], gapsMs: number[] }}
 */
export function planRepetition(rng, rep, orders, gaps, members) {
  const text = /** @type {string} */ (
    orders.cycle ? orders.cycle[(rep - 1) % orders.cycle.length] : rep % 2 === 1 ? orders.main : orders.others[(rep / 2 - 1) % orders.others.length]
  );
  const groups = parseOrder(text, members);
  return { order: text, groups, gapsMs: groups.slice(1).map(() => /** @type {number} */ (gaps[rng.int(gaps.length)])) };
}

/**
 * Free TCP ports on 127.0.0.1, one per member (bound and released at once).
 * @param {number} count
 * @returns {Promise<number[]>}
 */
async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        /** @type {Promise<import('node:net').Server>} */ (
          new Promise((resolve, reject) => {
            const s = createServer();
            s.once('error', reject);
            s.listen(0, '127.0.0.1', () => resolve(s));
          })
        ),
    ),
  );
  const ports = servers.map((s) => /** @type {import('node:net').AddressInfo} */ (s.address()).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * How many live child specs `dir`'s saved state holds (0 when there is none yet).
 * @param {string} dir
 * @returns {number}
 */
function savedLive(dir) {
  try {
    const saved = /** @type {any} */ (decodeState(readFileSync(join(dir, STATE_FILE), 'utf8')));
    if (!('state' in saved)) return 0;
    return Object.entries(saved.state.registers).filter((/** @type {[string, any]} */ [k, r]) => k.startsWith('c:') && (r?.specs?.length ?? 0) > 0).length;
  } catch {
    return 0;
  }
}

/**
 * The `children` of the node process's "restored the saved desired state" log line, or undefined.
 * @param {import('../bench/lib/cluster.mjs').BenchNode} node
 * @returns {number | undefined}
 */
function restoredCount(node) {
  try {
    for (const line of readFileSync(/** @type {string} */ (node.logFile), 'utf8').split('\n')) {
      if (!line.includes('"msg":"restored the saved desired state"')) continue;
      return JSON.parse(line).children;
    }
  } catch {
    // no log
  }
  return undefined;
}

/**
 * One repetition: its plan, and when (ms after the first spawn) the members listened and every child was back once.
 * @typedef {{ rep: number, order: string, gapsMs: number[], listeningMs?: number, backMs?: number,
 *   overlaps?: number, overlapsUnderTolerance?: number, startedTwice?: number }} Repetition
 */
/**
 * A restarts run's result (written with --json).
 * @typedef {object} RestartsResult
 * @property {number | undefined} seed
 * @property {number} nodes
 * @property {number} children
 * @property {string} netsplit
 * @property {string} preset
 * @property {number | 'calibrated'} toleranceMs
 * @property {number} repetitionsPlanned
 * @property {{ maxErrorMs: number, maxWallDriftMissMs: number }} clock
 * @property {Repetition[]} repetitions
 * @property {number} overlaps
 * @property {number} overlapsUnderTolerance
 * @property {number} longestOverlapMs
 * @property {number} childrenLost
 * @property {Array<import('./lib/invariants.mjs').Violation & { at: string }>} violations
 * @property {string[]} history
 * @property {string} logs
 * @property {object[]} [overlapList]
 * @property {number} [elapsedMs]
 */

/**
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts
 * @param {(line: string) => void} [log]
 * @returns {Promise<RestartsResult>}
 */
export async function runRestarts(opts, log = (line) => process.stdout.write(`${line}\n`)) {
  const members = names(opts.nodes);
  const rng = new SeededRandom(/** @type {number} */ (opts.seed));
  const defaults = defaultOrders(members);
  /** @type {Orders} */
  const orders = opts.orders ? { cycle: opts.orders.split(',').map((o) => o.trim()) } : defaults;
  for (const o of orders.cycle ?? [orders.main, ...orders.others]) parseOrder(o, members);
  const gaps = opts.gaps.split(',').map((g) => Number(g.trim()));
  if (gaps.length === 0 || gaps.some((g) => !Number.isFinite(g) || g < 0)) throw new Error(`--gaps: ${opts.gaps} is not a list of milliseconds`);
  process.env.POGO_LOG_LEVEL = opts.logLevel;
  const portList = await freePorts(opts.nodes);
  const ports = Object.fromEntries(members.map((n, i) => [n, portList[i]]));
  /** @param {string} n */
  const address = (n) => `127.0.0.1:${ports[n]}`;
  /** @type {(n: string) => string} */
  let dataDir;
  const cluster = new RealCluster({
    names: members,
    preset: /** @type {'local' | 'lan' | 'wan'} */ (opts.preset),
    flags: ['--netsplit', opts.netsplit, ...(opts.netsplit === 'majority' ? ['--expected-members', String(opts.nodes)] : [])],
    ports,
    nodeFlags: (n) => ['--data-dir', dataDir(n)],
    calibrate: true,
  });
  dataDir = (n) => join(cluster.dir, `data-${n}`);
  const record = new ChildRecord();
  cluster.onChildEvents((node, _events, raw) => record.add(node, raw));
  const began = performance.now();
  const t0 = epochNow();
  const sec = () => ((performance.now() - began) / 1000).toFixed(1);
  /** @type {string[]} */
  const history = [];
  /** @param {string} text */
  const note = (text) => history.push(`t=${sec()}s ${text}`);
  /** @type {RestartsResult} */
  const result = {
    seed: opts.seed,
    nodes: opts.nodes,
    children: opts.children,
    netsplit: opts.netsplit,
    preset: opts.preset,
    toleranceMs: opts.tolerance ?? 'calibrated',
    repetitionsPlanned: opts.repetitions,
    clock: { maxErrorMs: 0, maxWallDriftMissMs: 0 },
    repetitions: [],
    overlaps: 0,
    overlapsUnderTolerance: 0,
    longestOverlapMs: 0,
    childrenLost: 0,
    violations: [],
    history,
    logs: cluster.dir,
  };
  /**
   * @param {string} invariant
   * @param {string[]} ids
   * @param {string} detail
   */
  const fail = (invariant, ids, detail) => {
    result.violations.push({ invariant, ids, detail, at: `t=${sec()}s` });
    note(`VIOLATION ${invariant}: ${detail}`);
  };
  const signals = closeOnSignal('restarts', cluster, log);
  const ledger = new Ledger();
  /** @type {string[]} */
  let ids = [];

  /** @param {string} name */
  const startMember = async (name) => {
    const node = await cluster.start(name, members.filter((m) => m !== name).map(address));
    void node.exited.then(() => record.exited(node, epochNow()));
    return node;
  };
  const everyoneSaved = () => until(() => members.every((n) => savedLive(dataDir(n)) === ids.length), 10_000, `every member saved ${ids.length} children`, 50);

  try {
    log(
      `restarts: seed ${opts.seed}, ${opts.nodes} nodes with --data-dir (netsplit ` +
        `${opts.netsplit}), ${opts.children} children, ${opts.repetitions} repetitions, preset ` +
        `${opts.preset}; orders ${orders.cycle ? orders.cycle.join(', ') : `${orders.main} (odd repetitions), then ${orders.others.join(', ')}`}; ` +
        `gaps drawn from ${gaps.join(', ')} ms`,
    );
    log(
      `restarts: replay with: node reliability/restarts.mjs --nodes ${opts.nodes} --children ${opts.children} --repetitions ${opts.repetitions} ` +
        `--seed ${opts.seed} --netsplit ${opts.netsplit} --preset ${opts.preset}${opts.orders ? ` --orders ${opts.orders}` : ''} --gaps ${gaps.join(',')}`,
    );
    await Promise.all(members.map(startMember));
    await until(
      async () => {
        const counts = await cluster.counts(5000);
        return members.every((n) => counts.get(n)?.ready && members.every((m) => counts.get(n)?.up.includes(m)));
      },
      opts.settleTimeout,
      'every member up and ready',
      100,
    );
    ids = await cluster.startSpread(members, opts.children, 'c');
    ledger.addLive(ids);
    if ((await cluster.waitTruth((w) => cluster.quiescentTruth(ids, w), opts.settleTimeout, 'start-up')) === undefined)
      throw new Error(`no quiescence after the start-up: ${await cluster.describeTruth(ids)}`);
    await everyoneSaved();
    log(`restarts: t=${sec()}s ${opts.children} children running once and saved by every member; repetitions begin`);

    for (let rep = 1; rep <= opts.repetitions && result.violations.length === 0 && !signals.interrupted(); rep++) {
      const plan = planRepetition(rng, rep, orders, gaps, members);
      /** @type {Repetition} */
      const rec = { rep, order: plan.order, gapsMs: plan.gapsMs };
      note(`repetition ${rep}: ${plan.order}, gaps ${plan.gapsMs.join(', ')} ms`);

      // 1. Everything the members ran is in the record, then SIGKILL all.
      await cluster.readTruth();
      const counts = await cluster.counts(5000);
      for (const n of members) {
        const open = [...record.openOf.keys()].filter((k) => k.startsWith(`${record.proc(cluster.node(n))} `)).length;
        if (counts.get(n)?.local.active !== open)
          fail('harness', [], `repetition ${rep}: ${n} runs ${counts.get(n)?.local.active} children but its child log shows ${open}: something ran unrecorded`);
      }
      if (result.violations.length > 0) break;
      const victims = members.map((n) => cluster.node(n));
      for (const node of victims) node.signal('SIGKILL');
      await Promise.all(victims.map((node) => node.exited));
      note('SIGKILL all; every member exited');

      // 2. Start again in staggered groups.
      const spawnAt = epochNow();
      const starting = [];
      for (let g = 0; g < plan.groups.length; g++) {
        if (g > 0) await sleep(Math.max(0, spawnAt + plan.gapsMs.slice(0, g).reduce((a, b) => a + b, 0) - epochNow()));
        const group = /** @type {string[]} */ (plan.groups[g]);
        note(`start ${group.join(' + ')}`);
        for (const n of group) starting.push(startMember(n));
      }
      await Promise.all(starting);
      rec.listeningMs = Math.round(epochNow() - spawnAt);

      // 3. Quiescence and the checks.
      const backAt = await cluster.waitTruth((w) => cluster.quiescentTruth(ids, w), opts.settleTimeout, `repetition ${rep}`, 50);
      if (backAt === undefined) {
        fail(
          'back-once',
          [],
          `repetition ${rep} (${plan.order}, gaps ${plan.gapsMs.join(', ')} ms): not every child ` +
            `back once within ${formatDuration(opts.settleTimeout)}: ${await cluster.describeTruth(ids)}`,
        );
      } else rec.backMs = Math.round(backAt - spawnAt);
      for (const n of members) {
        const restored = restoredCount(cluster.node(n));
        if (restored === undefined || restored < ids.length)
          fail('restored', [], `repetition ${rep}: ${n} restored ${restored ?? 'nothing'} of ${ids.length} children from its data dir`);
      }
      const where = await cluster.readTruth();
      const after = await cluster.counts(5000);
      const r = checkQuiescent({ ledger, liveSpecs: ids, where, observerRuns: new Map([...where].map(([id, on]) => [id, on.length])), counts: after });
      result.childrenLost += r.lost.length;
      for (const v of r.violations) fail(v.invariant, v.ids, `repetition ${rep}: ${v.detail}`);
      // The members are idle now: their clocks answer fastest (a tighter error bound for the overlap check).
      await Promise.all(members.map((n) => cluster.calibrateClock(cluster.node(n))));
      // Not a violation: a child the first member ready started and then handed over to its owner as that
      // one became ready (never two at once). Within the ready timeout of the first spawn it should not happen.
      rec.startedTwice = record.startedMoreThanOnce(spawnAt).length;
      const found = record.overlaps().filter((o) => o.from >= spawnAt);
      const real = found.filter((o) => beyondClockError(o, opts.tolerance));
      rec.overlaps = real.length;
      rec.overlapsUnderTolerance = found.length - real.length;
      if (real.length > 0)
        fail(
          'no-overlap',
          [...new Set(real.map((o) => o.id))],
          `repetition ${rep} (${plan.order}, gaps ${plan.gapsMs.join(', ')} ms): ${real.length} overlapping pairs beyond the clock error: ${real
            .slice(0, 12)
            .map((o) => describeOverlap(o, t0))
            .join('; ')}`,
        );
      if (result.violations.length === 0)
        await everyoneSaved().catch(() => fail('harness', [], `repetition ${rep}: the members did not all save ${ids.length} children again`));
      result.repetitions.push(rec);
      log(
        `restarts: t=${sec()}s repetition ${rep}: ${plan.order}${plan.gapsMs.length ? `, ${plan.gapsMs.join(' + ')} ms apart` : ''}: ` +
          (rec.backMs === undefined
            ? 'NOT back'
            : `every child back once ${rec.backMs} ms after the first spawn (${rec.backMs - rec.listeningMs} ms after the last member listened)`) +
          '; ' +
          `overlaps ${rec.overlaps}${rec.overlapsUnderTolerance ? ` (+${rec.overlapsUnderTolerance} within the clock error)` : ''}; ` +
          `started more than once (handed over) ${rec.startedTwice}`,
      );
    }
  } catch (err) {
    const e = /** @type {Error} */ (err);
    fail('harness', [], `the run could not go on: ${e.stack ?? e.message}\n${cluster.logTails()}`);
  } finally {
    signals.release();
    const all = record.overlaps();
    result.overlaps = all.filter((o) => beyondClockError(o, opts.tolerance)).length;
    result.overlapsUnderTolerance = all.length - result.overlaps;
    result.longestOverlapMs = all[0] ? Number(all[0].ms.toFixed(3)) : 0;
    result.overlapList = all
      .slice(0, 200)
      .map((o) => ({ id: o.id, ms: Number(o.ms.toFixed(3)), a: o.a.toJSON(), b: o.b.toJSON(), line: describeOverlap(o, t0) }));
    result.clock = clockFigures(cluster.all);
    result.elapsedMs = Math.round(performance.now() - began);
    const keep = opts.keep || result.violations.length > 0;
    if (keep) {
      writeFileSync(join(cluster.dir, 'child-intervals.json'), record.intervalsJson(t0));
      writeFileSync(join(cluster.dir, 'history.txt'), `${history.join('\n')}\n`);
    }
    if (!signals.interrupted()) await cluster.close({ keep });
  }
  return result;
}

/**
 * @param {Awaited<ReturnType<typeof runRestarts>>} result
 * @param {(line: string) => void} [log]
 */
export function report(result, log = (line) => process.stdout.write(`${line}\n`)) {
  /**
   * @param {Array<number | undefined>} xs
   * @returns {number[]}
   */
  const sorted = (xs) => xs.filter(/** @returns {x is number} */ (x) => x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  const backs = sorted(result.repetitions.map((r) => r.backMs));
  const afterListening = sorted(result.repetitions.map((r) => Number(r.backMs) - Number(r.listeningMs)));
  /** @param {number[]} xs */
  const median = (xs) => (xs.length ? xs[Math.floor(xs.length / 2)] : '-');
  /** @param {number[]} xs */
  const range = (xs) => (xs.length ? `${xs[0]}–${xs.at(-1)}` : '-');
  log(
    `restarts: child-log clocks of ${result.nodes} × ${result.repetitions.length + 1} processes calibrated to ±` +
      `${fig(result.clock.maxErrorMs * 1000, 0)} µs (the wall-drift estimate was off by up to ${fig(result.clock.maxWallDriftMissMs * 1000, 0)} µs)`,
  );
  log(
    `restarts: ${result.repetitions.length} repetitions in ${fig(Number(result.elapsedMs) / 1000, 0)} s; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  if (result.violations.length > 0) {
    log('');
    log(`restarts: FAILED — ${result.violations.length} violation(s):`);
    for (const v of result.violations) log(`  [${v.invariant}] ${v.at} ${v.detail}`);
    log('  history:');
    for (const h of result.history) log(`    ${h}`);
    log(`  node logs, data dirs, child intervals (child-intervals.json) and this history kept in ${result.logs}`);
    log('');
  }
  const back = result.repetitions.filter((r) => r.backMs !== undefined).length;
  // Children started more than once (started, then handed over): by whether every group was spawned within 4 s of
  // the first (the members' 5 s ready timeout, less a process's start-up) or later, when the first takes children alone.
  const within = result.repetitions.filter((r) => r.gapsMs.reduce((a, b) => a + b, 0) < 4000);
  const later = result.repetitions.filter((r) => r.gapsMs.reduce((a, b) => a + b, 0) >= 4000);
  /** @param {Repetition[]} reps */
  const twice = (reps) => `${reps.reduce((a, r) => a + (r.startedTwice ?? 0), 0)} in ${reps.length} repetitions`;
  log(
    `restarts: seed ${result.seed}, ${result.nodes} nodes, ${result.children} children, netsplit ` +
      `${result.netsplit}, ${result.repetitions.length} repetitions, every child back exactly once in ${back},` +
      ` overlaps ${result.overlaps} (` +
      (result.toleranceMs === 'calibrated'
        ? `beyond the calibrated clock error, ≤ ${fig(result.clock.maxErrorMs * 2, 3)} ms`
        : `tolerance ${result.toleranceMs} ms`) +
      '; ' +
      `${result.overlapsUnderTolerance} within it, longest ${fig(result.longestOverlapMs, 3)} ms), children lost ${result.childrenLost}, back after ` +
      `${median(backs)} ms median from the first spawn (${range(backs)}), ` +
      `${median(afterListening)} ms from the last member listening (${range(afterListening)})`,
  );
  log(
    `restarts: children started more than once (started, then handed over to their owner): ${twice(within)} with every group ` +
      `spawned within 4 s of the first; ${twice(later)} with a later group (the first takes children alone after its ready timeout)`,
  );
}

async function main() {
  const opts = commandLine('restarts', FLAGS);
  if (!opts) return;
  opts.seed ??= 1 + Math.floor(Math.random() * 2 ** 31);
  process.on('exit', killTrackedNow);
  const result = await runRestarts(opts);
  finish(opts, result, report);
}

runIfMain(import.meta.url, 'restarts', main);
