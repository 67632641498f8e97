#!/usr/bin/env node
/**
 * Chaos on real processes: `node reliability/chaos.mjs [--nodes 5]
 * [--children 300] [--duration 120s] [--seed N] [--quiet 3s]`.
 *
 * Runs N `pogo node` processes (built core/dist, the benchmark control hook)
 * with a few hundred children and an observer node in this process, then,
 * until the duration is up, plays rounds. One round:
 *
 *   1. a fault, drawn from the seed (the first four rounds are one of each,
 *      in a seeded order; `--faults` restricts the kinds):
 *        kill       SIGKILL a member, restart it 0.5–3 s later under the
 *                   same name (a new incarnation); sometimes (30 %) a second
 *                   member is killed or frozen meanwhile
 *        freeze     SIGSTOP a member, SIGCONT 1–5 s later (a frozen node:
 *                   peers notice only by heartbeat timeout); sometimes with
 *                   a second fault as above
 *        rolling    graceful restart of every member in turn (SIGTERM, wait
 *                   for the exit, start again, wait until it is up and ready)
 *        partition  split the members into two sides for 2–8 s: with Linux
 *                   network namespaces where this machine allows it (silent
 *                   blackhole routes between the sides, lib/netns.mjs),
 *                   otherwise emulated by freezing one side (the output says
 *                   which)
 *      while the fault lasts, children are started and stopped through
 *      random reachable members (operator commands; ids are never reused);
 *   2. heal (restart, SIGCONT, remove the routes), then wait until the
 *      cluster is quiescent: every member up and ready and every live spec
 *      running once, on its owner. The time from the heal to that moment is
 *      the round's recovery time;
 *   3. a quiet period (--quiet), then the checks of DESIGN §3.5
 *      (lib/invariants.mjs) against what the node processes really run (their
 *      own child logs): one instance per live spec, no lost spec, terminate
 *      wins (and, once a quiescent point has passed, a terminated child never
 *      starts again), nothing else runs,
 *      the views agree. In majority mode, a minority side must stop its
 *      children during a partition. During a rolling restart (planned moves
 *      only) no child may run twice at once.
 *
 * The seed fixes the fault schedule (kinds, victims, hold times, sides) and
 * the choice of operations; timings of the system itself vary, so a replay
 * (`--seed S`) repeats the same faults in the same order, not the same
 * interleaving. Exit code: 0 when every check held, 1 when one failed (the
 * invariant, the child ids, their request history and the fault history are
 * printed), 2 for bad flags. Every process is stopped by pid on exit,
 * including on SIGINT.
 *
 * Network namespaces: when they are usable (root, iproute2), this script
 * creates them and re-executes itself inside the hub namespace (so its
 * observer reaches every member), then deletes them at exit.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { killTrackedNow, sleep, until } from '../bench/lib/harness.mjs';
import { TIMING_PRESETS } from '../core/dist/index.js';
import { SeededRandom } from '../core/dist/testing.js';
import { RealCluster, closeOnSignal } from './lib/cluster.mjs';
import { Ledger, checkQuiescent, observerRuns } from './lib/invariants.mjs';
import { NetnsLayout, probe, removeStale } from './lib/netns.mjs';
import { commandLine, finish, fig, formatDuration, runIfMain } from './lib/options.mjs';
import { shuffle } from './lib/random.mjs';

const SELF = fileURLToPath(import.meta.url);

/** @satisfies {import('./lib/types.js').FlagSpec} */
export const FLAGS = {
  nodes: { type: 'int', min: 2, default: 5, help: 'members' },
  children: { type: 'int', min: 1, default: 300, help: 'children started before the first fault (churn keeps about this many)' },
  duration: { type: 'duration', default: 120_000, help: 'how long rounds of faults go on (a round that has begun finishes)' },
  seed: { type: 'int', min: 1, default: undefined, help: 'seed of the fault schedule (default: random, printed)' },
  'min-rounds': { type: 'int', min: 0, default: 0, help: 'play at least this many rounds even past the duration (4 = one of each fault)' },
  faults: {
    type: 'string',
    default: 'kill,freeze,partition,rolling',
    help: 'the kinds of fault to draw from (comma-separated), e.g. rolling to stress planned moves',
  },
  quiet: { type: 'duration', default: 3000, help: 'quiet period after each recovery, before the checks' },
  netsplit: {
    type: 'string',
    choices: ['available', 'majority'],
    default: 'available',
    help: 'netsplit mode of the members (majority: --expected-members = --nodes)',
  },
  partition: {
    type: 'string',
    choices: ['auto', 'netns', 'freeze'],
    default: 'auto',
    help: 'how partitions are made: netns (network namespaces), freeze (SIGSTOP one side), auto',
  },
  preset: { type: 'string', choices: ['local', 'lan', 'wan'], default: 'lan', help: 'timing preset of the members' },
  'settle-timeout': { type: 'duration', default: 90_000, help: 'longest wait for quiescence after a heal; longer fails the run' },
  json: { type: 'string', default: undefined, help: 'also write the result as JSON to this file' },
  plan: { type: 'int', min: 1, default: undefined, help: 'print the first N rounds the seed plays, and exit (nothing is started)' },
  keep: { type: 'bool', default: false, help: 'keep the node logs even when the run passes' },
};

const KINDS = ['kill', 'freeze', 'partition', 'rolling'];
/**
 * Overlaps up to this long are not counted: at least the error of comparing
 * the child-log clocks of two processes. Each node's clock is measured
 * against this script's by round trips when it starts (RealCluster
 * `calibrate`), to within half the best round trip (0.05–0.5 ms here); the
 * wall-drift estimate used before was off by up to 12 ms under load
 * (reliability/README.md), more than this tolerance, so it could report
 * overlaps that were not there and hide ones that were.
 */
const OVERLAP_TOLERANCE_MS = 2;

/**
 * Every interval in which a child ran on more than one node: replays the
 * ups and downs (in time order, a down first at equal times) from the
 * instance counts at the start of the window. Returns [{ id, ms }].
 * @param {readonly ChildLogEntry[]} events
 * @param {Map<string, number>} initial
 * @returns {Array<{ id: string, ms: number, from?: number }>}
 */
export function overlaps(events, initial) {
  const count = new Map(initial);
  /** @type {Map<string, number>} */
  const since = new Map();
  /** @type {Array<{ id: string, ms: number, from?: number }>} */
  const out = [];
  const sorted = [...events].sort((a, b) => a[2] - b[2] || (a[1] === b[1] ? 0 : a[1] === 'down' ? -1 : 1));
  for (const [id, kind, t] of sorted) {
    const before = count.get(id) ?? 0;
    const after = kind === 'up' ? before + 1 : Math.max(0, before - 1);
    count.set(id, after);
    if (before <= 1 && after > 1) since.set(id, t);
    if (before > 1 && after <= 1) {
      out.push({ id, ms: t - /** @type {number} */ (since.get(id)) });
      since.delete(id);
    }
  }
  for (const [id, t] of since) out.push({ id, ms: Infinity, from: t });
  return out;
}

/** @typedef {import('../bench/lib/types.js').ChildLogEntry} ChildLogEntry */
/** @typedef {'kill' | 'freeze'} SingleKind */
/**
 * A kill or freeze: its victim, how long it is held, and maybe a second fault overlapping it.
 * @typedef {{ victim: string, holdMs: number, overlap?: { kind: SingleKind, victim: string, delayMs: number, holdMs: number } }} SingleFault
 */
/**
 * One round's fault, as planRound draws it.
 * @typedef {({ kind: 'kill' } & SingleFault) | ({ kind: 'freeze' } & SingleFault)
 *   | { kind: 'partition', sides: string[][], holdMs: number, frozenSide: number }
 *   | { kind: 'rolling', order: string[] }} Plan
 */
/**
 * One round as reported: the plan in words, when it began, and how it went.
 * @typedef {{ round: number, plan: string, startedAt: string, recoveryMs?: number, overlapsDuringRolling?: number, live?: number }} Round
 */
/**
 * A chaos run's result (written with --json).
 * @typedef {object} ChaosResult
 * @property {number} seed
 * @property {number} nodes
 * @property {number} children
 * @property {number} durationMs
 * @property {number} minRounds
 * @property {string[]} kinds
 * @property {string} netsplit
 * @property {string} preset
 * @property {'netns' | 'freeze'} partitionMethod
 * @property {{ total: number, kills: number, freezes: number, rolling: number, partitions: number, nodeRestarts: number }} faults
 * @property {Round[]} rounds
 * @property {{ start: number, stop: number }} ops
 * @property {number} childrenLost
 * @property {number} duplicatesAfterQuiescence
 * @property {number} longestRecoveryMs
 * @property {Array<import('./lib/invariants.mjs').Violation & { at: string }>} violations
 * @property {string[]} history
 * @property {string} logs
 * @property {{ live: number, terminated: number, ambiguous: number, refused: number }} [ledger]
 * @property {number} [elapsedMs]
 * @property {Record<string, string[]>} [idHistory]
 */
/**
 * The options of a run: the flags, with the seed drawn and the fault kinds parsed (main).
 * @typedef {import('./lib/types.js').Flags<typeof FLAGS> & { seed: number, kinds: string[], partitionNote?: string }} ChaosOptions
 */

/** @param {number} n */
const names = (n) => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * The seeded plan of one round: every random choice of the fault is drawn
 * here, synchronously, so the schedule depends on the seed alone.
 */
/** @type {Record<string, number>} */
const WEIGHTS = { kill: 0.35, freeze: 0.3, partition: 0.25, rolling: 0.1 };

/**
 * @param {SeededRandom} rng
 * @param {number} round
 * @param {string[]} members
 * @param {string[]} firstKinds
 * @returns {Plan}
 */
function planRound(rng, round, members, firstKinds) {
  /** @param {string[]} xs */
  const pick = (xs) => xs[rng.int(xs.length)];
  /** @type {string | undefined} */
  let kind;
  if (round <= firstKinds.length) kind = firstKinds[round - 1];
  else {
    const pool = KINDS.filter((k) => firstKinds.includes(k));
    const total = pool.reduce((a, k) => a + WEIGHTS[k], 0);
    let r = rng.next() * total;
    kind = pool.find((k) => (r -= WEIGHTS[k]) < 0) ?? pool.at(-1);
  }
  /** @type {{ kind: string | undefined } & Record<string, unknown>} */
  const plan = { kind };
  if (kind === 'kill' || kind === 'freeze') {
    plan.victim = pick(members);
    plan.holdMs = kind === 'kill' ? 500 + rng.int(2500) : 1000 + rng.int(4000);
    if (rng.next() < 0.3 && members.length > 2) {
      plan.overlap = {
        kind: rng.next() < 0.5 ? 'kill' : 'freeze',
        victim: pick(members.filter((m) => m !== plan.victim)),
        delayMs: rng.int(1000),
        holdMs: 1000 + rng.int(3000),
      };
    }
  } else if (kind === 'partition') {
    const shuffled = shuffle(rng, members);
    const cut = 1 + rng.int(members.length - 1);
    plan.sides = [shuffled.slice(0, cut).sort(), shuffled.slice(cut).sort()];
    plan.holdMs = 2000 + rng.int(6000);
    plan.frozenSide = rng.int(2);
  } else {
    plan.order = shuffle(rng, members);
  }
  return /** @type {Plan} */ (/** @type {unknown} */ (plan));
}

/**
 * The first `rounds` rounds a seed plays (for reading a schedule without running it).
 * @param {number} seed
 * @param {number} nodes
 * @param {number} rounds
 * @param {string[]} [kinds]
 * @returns {string[]}
 */
export function schedule(seed, nodes, rounds, kinds = KINDS) {
  const rng = new SeededRandom(seed);
  const members = names(nodes);
  const firstKinds = shuffle(rng, kinds);
  return Array.from({ length: rounds }, (_, i) => describePlan(planRound(rng, i + 1, members, firstKinds)));
}

/**
 * @param {Plan} p
 * @returns {string}
 */
function describePlan(p) {
  const extra = 'overlap' in p && p.overlap ? ` + ${p.overlap.kind} ${p.overlap.victim} after ${p.overlap.delayMs} ms` : '';
  if (p.kind === 'kill') return `kill ${p.victim}, restart after ${p.holdMs} ms${extra}`;
  if (p.kind === 'freeze') return `freeze ${p.victim} for ${p.holdMs} ms${extra}`;
  if (p.kind === 'partition') return `partition ${p.sides[0]?.join(',')} | ${p.sides[1]?.join(',')} for ${p.holdMs} ms`;
  return `rolling restart ${p.order.join(', ')}`;
}

/**
 * One chaos run. `layout` is a NetnsLayout (partitions by routes) or
 * undefined (partitions by freezing one side). Resolves with the result;
 * never throws for a failed invariant (see result.violations).
 * @param {ChaosOptions} opts
 * @param {NetnsLayout | undefined} layout network namespaces, or undefined for loopback
 * @param {(line: string) => void} [log]
 * @returns {Promise<ChaosResult>}
 */
export async function runChaos(opts, layout, log = (line) => process.stdout.write(`${line}\n`)) {
  const members = names(opts.nodes);
  const preset = TIMING_PRESETS[/** @type {'local' | 'lan' | 'wan'} */ (opts.preset)];
  const majority = opts.netsplit === 'majority';
  const quorum = Math.floor(opts.nodes / 2) + 1;
  const rngFaults = new SeededRandom(opts.seed);
  const rngOps = new SeededRandom((opts.seed ^ 0x5eed1234) >>> 0);
  const firstKinds = shuffle(rngFaults, opts.kinds);
  const began = performance.now();
  const sec = () => ((performance.now() - began) / 1000).toFixed(1);
  /** @type {string[]} */
  const history = [];
  /** @param {string} text */
  const note = (text) => history.push(`t=${sec()}s ${text}`);
  const flags = ['--netsplit', opts.netsplit, ...(majority ? ['--expected-members', String(opts.nodes)] : [])];
  const cluster = new RealCluster({ names: members, preset: /** @type {'local' | 'lan' | 'wan'} */ (opts.preset), flags, netns: layout, calibrate: true });
  const ledger = new Ledger();
  cluster.onChildEvents((node, events) => ledger.noteUps(node.name, events));
  /** @type {ChaosResult} */
  const result = {
    seed: opts.seed,
    nodes: opts.nodes,
    children: opts.children,
    durationMs: opts.duration,
    minRounds: opts.minRounds,
    kinds: opts.kinds,
    netsplit: opts.netsplit,
    preset: opts.preset,
    partitionMethod: layout ? 'netns' : 'freeze',
    faults: { total: 0, kills: 0, freezes: 0, rolling: 0, partitions: 0, nodeRestarts: 0 },
    rounds: [],
    ops: { start: 0, stop: 0 },
    childrenLost: 0,
    duplicatesAfterQuiescence: 0,
    longestRecoveryMs: 0,
    violations: [],
    history,
    logs: cluster.dir,
  };
  /** @type {Set<string>} */
  const lostIds = new Set();
  /**
   * @param {string} invariant
   * @param {string[]} ids
   * @param {string} detail
   */
  const fail = (invariant, ids, detail) => {
    result.violations.push({ invariant, ids, detail, at: `t=${sec()}s` });
    note(`VIOLATION ${invariant}: ${detail}${ids.length ? ` [${ids.slice(0, 20).join(', ')}]` : ''}`);
  };
  const signals = closeOnSignal('chaos', cluster, log);
  // Inside network namespaces: the parent (which owns the namespaces) died without telling us.
  const parent = Number(process.env.POGO_CHAOS_PARENT || 0);
  const orphaned = parent ? setInterval(() => process.ppid !== parent && signals.onSignal('parent gone'), 1000) : undefined;
  orphaned?.unref();

  // ---- operations during faults ----------------------------------------------------
  /** @type {Set<string>} */
  const stopping = new Set();
  let nextId = 0;
  const oneOp = async () => {
    const targets = cluster.commandable().filter((n) => !stopping.has(n));
    const live = ledger.live();
    const draw = rngOps.next();
    const which = rngOps.next();
    if (targets.length === 0) return;
    const target = /** @type {string} */ (targets[Math.floor(which * targets.length)]);
    const wantStart = live.length === 0 || (live.length < opts.children ? draw < 0.65 : draw < 0.35);
    if (wantStart) {
      const id = `x${nextId++}`;
      result.ops.start++;
      ledger.startRequested(id, target);
      ledger.startDone(id, await cluster.command(target, 'start', { spec: { id, start: { worker: 'idle' } } }, 20_000));
    } else {
      const id = /** @type {string} */ (live[rngOps.int(live.length)]);
      result.ops.stop++;
      ledger.stopRequested(id, target);
      const reply = await cluster.command(target, 'stop', { id }, 20_000);
      ledger.stopDone(id, reply, epochNow());
    }
  };
  const startChurn = () => {
    let active = true;
    /** @type {Set<Promise<unknown>>} */
    const inflight = new Set();
    const loop = (async () => {
      while (active) {
        await sleep(200 + rngOps.int(800));
        if (!active) break;
        const p = oneOp().catch((/** @type {Error} */ err) => note(`operation failed: ${err.message}`));
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
    })();
    return {
      halt: () => {
        active = false;
      },
      drain: async () => {
        active = false;
        await loop;
        await Promise.allSettled([...inflight]);
      },
    };
  };

  // ---- checks ----------------------------------------------------------------------
  /** @param {string} label */
  const check = async (label) => {
    const at = epochNow();
    const where = await cluster.readTruth();
    const liveSpecs = cluster.observer.supervisor.whichChildren('global').map((c) => c.id);
    const counts = await cluster.counts();
    const r = checkQuiescent({ ledger, liveSpecs, where, observerRuns: observerRuns(cluster.tracker), counts });
    ledger.seal(at);
    for (const id of r.lost) lostIds.add(id);
    result.childrenLost = lostIds.size;
    result.duplicatesAfterQuiescence += r.duplicates.length;
    for (const v of r.violations) fail(v.invariant, v.ids, `${label}: ${v.detail}`);
    return { live: liveSpecs.length, violations: r.violations.length };
  };

  /**
   * @param {number} healAt
   * @param {string} what
   * @returns {Promise<number | undefined>}
   */
  const waitQuiet = async (healAt, what) => {
    /** @type {number} */
    let settledAt;
    try {
      settledAt = await cluster.waitSettled(opts.settleTimeout, `quiescence after ${what}`);
    } catch {
      fail('quiescence', [], `no quiescence within ${formatDuration(opts.settleTimeout)} after ${what}: ${cluster.describe()}`);
      return undefined;
    }
    const recovery = settledAt - healAt;
    await sleep(opts.quiet);
    if (!cluster.settled()) {
      note(`moved again during the quiet period: ${cluster.describe()}`);
      try {
        await cluster.waitSettled(opts.settleTimeout, `quiescence after ${what} (second wait)`);
      } catch {
        fail('quiescence', [], `not quiescent again within ${formatDuration(opts.settleTimeout)} after ${what}: ${cluster.describe()}`);
        return undefined;
      }
    }
    return recovery;
  };

  // ---- faults ------------------------------------------------------------------------
  /** @param {string} name */
  const restart = async (name) => {
    await cluster.start(name);
    result.faults.nodeRestarts++;
  };

  /**
   * @param {SingleKind} kind
   * @param {string} victim
   * @param {number} holdMs
   */
  const single = async (kind, victim, holdMs) => {
    if (kind === 'kill') {
      result.faults.kills++;
      note(`SIGKILL ${victim}`);
      await cluster.kill(victim);
      await sleep(holdMs);
      note(`restart ${victim}`);
      await restart(victim);
    } else {
      result.faults.freezes++;
      note(`SIGSTOP ${victim}`);
      cluster.freeze(victim);
      await sleep(holdMs);
      note(`SIGCONT ${victim}`);
      cluster.thaw(victim);
    }
  };

  /**
   * @param {string[]} side
   * @param {string} what
   */
  const minorityRunsNothing = async (side, what) => {
    const bound = preset.heartbeatTimeoutMs + 8000;
    /** @type {string | undefined} */
    let last;
    try {
      await until(
        async () => {
          const counts = await Promise.all(side.map((n) => cluster.node(n).request('counts', {}, 5000)));
          last = side.map((n, i) => `${n}: ${counts[i]?.local.active} active`).join(', ');
          return counts.every((c) => c.local.active === 0);
        },
        bound,
        what,
        200,
      );
      note(`minority side ${side.join(',')} runs nothing (${what})`);
    } catch {
      fail('majority', [], `${what}: the minority side ${side.join(',')} still runs children ${bound} ms after the split (${last})`);
    }
  };

  /** @param {Extract<Plan, { kind: 'partition' }>} plan */
  const partition = async (plan) => {
    result.faults.partitions++;
    const [a, b] = /** @type {[string[], string[]]} */ (plan.sides);
    const hold = majority ? Math.max(plan.holdMs, preset.heartbeatTimeoutMs + 3000) : plan.holdMs;
    const t0 = performance.now();
    if (layout) {
      note(`partition ${a.join(',')} | ${b.join(',')} (network namespaces)`);
      layout.partition(a, b);
    } else {
      const frozen = /** @type {string[]} */ (plan.sides[plan.frozenSide]);
      note(`partition ${a.join(',')} | ${b.join(',')} (emulated: freezing ${frozen.join(',')})`);
      for (const n of frozen) cluster.freeze(n);
    }
    if (majority) {
      const sides = layout ? plan.sides : [/** @type {string[]} */ (plan.sides[1 - plan.frozenSide])];
      for (const side of sides) if (side.length < quorum) await minorityRunsNothing(side, `partition ${a.join(',')} | ${b.join(',')}`);
    }
    await sleep(Math.max(0, hold - (performance.now() - t0)));
    // What each reachable side saw just before the heal (did the split show at all?).
    const views = await cluster.counts(5000);
    note(
      `before the heal: ${[...views].map(([n, c]) => `${n} sees ${c.up.filter((u) => members.includes(u)).join(',')} up, runs ${c.local.active}`).join('; ')}`,
    );
    note('heal');
    if (layout) layout.heal();
    else for (const n of /** @type {string[]} */ (plan.sides[plan.frozenSide])) cluster.thaw(n);
  };

  /** @param {Extract<Plan, { kind: 'rolling' }>} plan */
  const rolling = async (plan) => {
    result.faults.rolling++;
    for (const name of plan.order) {
      note(`SIGTERM ${name} (rolling restart)`);
      stopping.add(name);
      const took = await cluster.stopGracefully(name);
      if (took === undefined) note(`${name} did not exit within 30 s of SIGTERM; killed`);
      await restart(name);
      stopping.delete(name);
      await until(() => cluster.membersReady(), opts.settleTimeout, `${name} up and ready again`, 20).catch(() =>
        note(`${name} not seen up and ready within ${formatDuration(opts.settleTimeout)}`),
      );
    }
  };

  // ---- the run -----------------------------------------------------------------------
  try {
    log(
      `chaos: seed ${opts.seed}, ${opts.nodes} nodes, ${opts.children} children, ` +
        `${formatDuration(opts.duration)}, netsplit ${opts.netsplit}, preset ${opts.preset}`,
    );
    log(
      `chaos: partitions by ` +
        (layout
          ? `network namespaces (${layout.prefix}-*, blackhole routes between the sides)`
          : `freezing one side (SIGSTOP)${opts.partitionNote ? `: ${opts.partitionNote}` : ''}`),
    );
    log(
      `chaos: replay with: node reliability/chaos.mjs --nodes ${opts.nodes} --children ${opts.children} --duration ` +
        `${formatDuration(opts.duration)}${opts.minRounds ? ` --min-rounds ${opts.minRounds}` : ''} --seed ` +
        `${opts.seed} --quiet ${formatDuration(opts.quiet)} --netsplit ${opts.netsplit}` +
        `${opts.kinds.length < KINDS.length ? ` --faults ${opts.kinds.join(',')}` : ''}${opts.partition === 'freeze' ? ' --partition freeze' : ''}`,
    );
    await cluster.startAll();
    await cluster.observe();
    ledger.addLive(await cluster.startSpread(members, opts.children, 'c'));
    await cluster.waitSettled(120_000, `${opts.children} children running once`);
    await sleep(opts.quiet);
    await check('after start-up');
    log(`chaos: t=${sec()}s ${opts.children} children running once on ${opts.nodes} nodes; faults begin`);
    note('faults begin');
    const faultsBegan = performance.now();

    let round = 0;
    while ((performance.now() - faultsBegan < opts.duration || round < opts.minRounds) && result.violations.length === 0 && !signals.interrupted()) {
      round++;
      const plan = planRound(rngFaults, round, members, firstKinds);
      /** @type {Round} */
      const rec = { round, plan: describePlan(plan), startedAt: sec() };
      note(`round ${round}: ${rec.plan}`);
      const churn = startChurn();
      /**
       * The ups and downs of a rolling restart's window, for the overlap check.
       * @type {{ since: number, initial: Map<string, number>, events: ChildLogEntry[], collect: import('./lib/cluster.mjs').ChildEventListener } | undefined}
       */
      let overlapWindow;
      if (plan.kind === 'rolling') {
        // Planned moves only: no child may run twice at once. Window from here to quiescence.
        const where = await cluster.readTruth();
        /** @type {import('./lib/cluster.mjs').ChildEventListener} */
        const collect = (node, events) => {
          overlapWindow?.events.push(...events.filter((e) => e[2] >= /** @type {{ since: number }} */ (overlapWindow).since));
        };
        overlapWindow = { since: epochNow(), initial: new Map([...where].map(([id, on]) => [id, on.length])), events: [], collect };
        cluster.onChildEvents(collect);
      }
      if (plan.kind === 'kill' || plan.kind === 'freeze') {
        const main = single(plan.kind, plan.victim, plan.holdMs);
        const overlap = plan.overlap;
        const second = overlap ? sleep(overlap.delayMs).then(() => single(overlap.kind, overlap.victim, overlap.holdMs)) : Promise.resolve();
        await Promise.all([main, second]);
      } else if (plan.kind === 'partition') await partition(plan);
      else await rolling(plan);
      const healAt = performance.now();
      churn.halt();
      const recovery = await waitQuiet(healAt, `round ${round} (${rec.plan})`);
      await churn.drain();
      if (recovery !== undefined) {
        // Operations that were still in flight at the heal may have started children since.
        if (!cluster.settled())
          await cluster
            .waitSettled(opts.settleTimeout, 'quiescence after the last operations')
            .catch(() => fail('quiescence', [], `not quiescent after the last operations of round ${round}: ${cluster.describe()}`));
        rec.recoveryMs = Math.round(recovery);
        result.longestRecoveryMs = Math.max(result.longestRecoveryMs, rec.recoveryMs);
      }
      if (overlapWindow) {
        await cluster.readTruth();
        cluster.listeners.splice(cluster.listeners.indexOf(overlapWindow.collect), 1);
        const found = overlaps(overlapWindow.events, overlapWindow.initial);
        // Two processes' clocks, each known to within its calibration error.
        const clockErrorMs = 2 * Math.max(0, ...cluster.reachable().map((n) => cluster.node(n).clockErrorMs ?? 0));
        const toleranceMs = Math.max(OVERLAP_TOLERANCE_MS, clockErrorMs);
        const real = found.filter((o) => o.ms > toleranceMs);
        rec.overlapsDuringRolling = found.length;
        if (found.length > real.length)
          note(`round ${round}: ${found.length - real.length} overlaps under ${toleranceMs.toFixed(2)} ms (clock error between processes), ignored`);
        // A node that declared a live peer down (a heartbeat timeout under load) makes the moves unplanned: overlap is allowed then.
        const unplanned = cluster.logLinesSince(Math.floor(overlapWindow.since) - 1000, 'peer silent past the heartbeat timeout; closing link');
        const what = real
          .slice(0, 10)
          .map((o) => `${o.id} ${Number.isFinite(o.ms) ? `${o.ms.toFixed(1)} ms` : 'still'}`)
          .join(', ');
        if (real.length > 0 && unplanned.length === 0)
          fail(
            'no-overlap',
            real.map((o) => o.id),
            `round ${round}: children ran twice at once during a rolling restart (planned moves only): ${what}`,
          );
        else if (real.length > 0)
          note(
            `round ${round}: overlapping instances during the rolling restart (${what}), after ` +
              `heartbeat timeouts (${unplanned.map((d) => `${d.node} lost ${d.peer}`).join('; ')})`,
          );
        overlapWindow = undefined;
      }
      const c = await check(`after round ${round} (${rec.plan})`);
      rec.live = c.live;
      result.rounds.push(rec);
      result.faults.total = result.faults.kills + result.faults.freezes + result.faults.rolling + result.faults.partitions;
      log(
        `chaos: t=${sec()}s round ${round}: ${rec.plan}; recovered in ${rec.recoveryMs ?? '-'} ms; ` +
          `${c.live} live children; ${c.violations === 0 ? 'checks ok' : `${c.violations} VIOLATIONS`}`,
      );
    }
  } catch (err) {
    const e = /** @type {Error} */ (err);
    fail('harness', [], `the run could not go on: ${e.stack ?? e.message}\n${cluster.logTails()}`);
  } finally {
    clearInterval(orphaned);
    signals.release();
    result.faults.total = result.faults.kills + result.faults.freezes + result.faults.rolling + result.faults.partitions;
    result.ledger = {
      live: ledger.count('live'),
      terminated: ledger.count('terminated'),
      ambiguous: ledger.count('ambiguous'),
      refused: ledger.count('never'),
    };
    result.elapsedMs = Math.round(performance.now() - began);
    result.idHistory = Object.fromEntries(
      [...new Set(result.violations.flatMap((v) => v.ids))].slice(0, 20).map((id) => [id, ledger.ids.get(id)?.history ?? ['(started by the setup)']]),
    );
    if (!signals.interrupted()) await cluster.close({ keep: opts.keep || result.violations.length > 0 });
  }
  return result;
}

/**
 * The figure line and, for a failed run, the evidence.
 * @param {Awaited<ReturnType<typeof runChaos>>} result
 * @param {(line: string) => void} [log]
 */
export function report(result, log = (line) => process.stdout.write(`${line}\n`)) {
  const f = result.faults;
  const recoveries = result.rounds
    .map((r) => r.recoveryMs)
    .filter(/** @returns {x is number} */ (x) => x !== undefined)
    .sort((a, b) => a - b);
  const median = recoveries.length ? recoveries[Math.floor(recoveries.length / 2)] : undefined;
  const ledger = /** @type {NonNullable<ChaosResult['ledger']>} */ (result.ledger);
  log(
    `chaos: ${result.rounds.length} rounds in ${fig(Number(result.elapsedMs) / 1000, 0)} s, ${result.faults.nodeRestarts} node restarts, ` +
      `${result.ops.start} starts and ${result.ops.stop} stops during faults (${ledger.ambiguous} without a reply), ` +
      `median recovery ${median ?? '-'} ms; partitions by ${result.partitionMethod === 'netns' ? 'network namespaces' : 'freezing one side'}; ` +
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} on ${os.cpus().length} cores`,
  );
  if (result.violations.length > 0) {
    log('');
    log(`chaos: FAILED — ${result.violations.length} violation(s):`);
    for (const v of result.violations)
      log(
        `  [${v.invariant}] ${v.at} ${v.detail}` +
          `${v.ids.length ? `\n    ids (${v.ids.length}): ${v.ids.slice(0, 20).join(', ')}${v.ids.length > 20 ? ', …' : ''}` : ''}`,
      );
    const ids = Object.entries(/** @type {Record<string, string[]>} */ (result.idHistory));
    if (ids.length > 0) {
      log('  requests made for those ids:');
      for (const [id, h] of ids) log(`    ${id}: ${h.join(' → ')}`);
    }
    log('  fault history:');
    for (const h of result.history) log(`    ${h}`);
    log(`  node logs kept in ${result.logs}`);
    log(
      `  replay: node reliability/chaos.mjs --nodes ${result.nodes} --children ${result.children} --duration ` +
        `${formatDuration(result.durationMs)}${result.minRounds ? ` --min-rounds ${result.minRounds}` : ''} ` +
        `--seed ${result.seed} --netsplit ${result.netsplit}${result.kinds.length < KINDS.length ? ` --faults ${result.kinds.join(',')}` : ''}` +
        `${result.partitionMethod === 'freeze' ? ' --partition freeze' : ''}`,
    );
    log('');
  }
  log(
    `chaos: seed ${result.seed}, ${f.total} faults (${f.kills} kills, ${f.freezes} freezes, ${f.rolling} rolling restarts, ${f.partitions} partitions), ` +
      `children lost ${result.childrenLost}, duplicates after quiescence ${result.duplicatesAfterQuiescence}, longest recovery ${result.longestRecoveryMs} ms`,
  );
}

/**
 * Runs the script inside network namespaces: creates them, re-executes itself in the hub, deletes them at exit.
 * @param {ChaosOptions} opts
 */
function runInNamespaces(opts) {
  const stale = removeStale();
  if (stale.length > 0) process.stdout.write(`chaos: removed namespaces of earlier runs that died: ${stale.join(', ')}\n`);
  const prefix = `pgc${process.pid}`;
  const layout = new NetnsLayout(prefix, names(opts.nodes));
  layout.create();
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    layout.destroy();
  };
  process.on('exit', destroy);
  const child = spawn('ip', ['netns', 'exec', layout.hub, process.execPath, SELF, ...process.argv.slice(2), '--seed', String(opts.seed)], {
    stdio: 'inherit',
    env: { ...process.env, POGO_CHAOS_NETNS: prefix, POGO_CHAOS_PARENT: String(process.pid) },
  });
  /** @param {NodeJS.Signals} sig */
  const forward = (sig) => {
    try {
      process.kill(/** @type {number} */ (child.pid), sig);
    } catch {
      // already gone
    }
  };
  for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(sig, () => forward(sig));
  child.on('exit', (code, signal) => {
    destroy();
    process.exit(code ?? (signal ? 1 : 0));
  });
}

async function main() {
  // seed and kinds are filled in below, before anything reads them.
  const opts = /** @type {ChaosOptions | undefined} */ (commandLine('chaos', FLAGS));
  if (!opts) return;
  opts.seed ??= 1 + Math.floor(Math.random() * 2 ** 31);
  opts.kinds = opts.faults
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const unknown = opts.kinds.filter((k) => !KINDS.includes(k));
  if (opts.kinds.length === 0 || unknown.length > 0) {
    process.stderr.write(`chaos: --faults: unknown kind ${unknown.join(', ') || '(none given)'}; use ${KINDS.join(', ')}\n`);
    process.exit(2);
  }
  if (opts.plan) {
    process.stdout.write(
      `${schedule(opts.seed, opts.nodes, opts.plan, opts.kinds)
        .map((p, i) => `round ${i + 1}: ${p}`)
        .join('\n')}\n`,
    );
    return;
  }
  const inside = process.env.POGO_CHAOS_NETNS;
  let layout;
  if (inside) layout = new NetnsLayout(inside, names(opts.nodes));
  else if (opts.partition !== 'freeze') {
    const p = probe();
    if (p.ok) return runInNamespaces(opts);
    if (opts.partition === 'netns') {
      process.stderr.write(`chaos: --partition netns, but network namespaces are not usable here: ${p.reason}\n`);
      process.exit(2);
    }
    opts.partitionNote = `network namespaces are not usable here (${p.reason})`;
  }
  process.on('exit', killTrackedNow);
  const result = await runChaos(opts, layout);
  finish(opts, result, report);
}

runIfMain(import.meta.url, 'chaos', main);
