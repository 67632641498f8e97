#!/usr/bin/env node
/**
 * Majority mode through real network partitions: `node reliability/majority.mjs
 * [--nodes 3] [--children 30] [--rounds 5] [--seed N]`.
 *
 * Runs N `pogo node` members with `--netsplit majority --expected-members N`,
 * each in its own Linux network namespace (lib/netns.mjs), with 30 children,
 * and plays rounds. One round, every choice drawn from the seed:
 *
 *   (a) split: a minority C (1 member of 3; 1 or 2 of 5) is cut off from the
 *       others, one direction of one pair at a time: each of the 2·|C|·|M|
 *       one-way cuts lands at its own moment within a spread of 0, 0.15,
 *       0.5 or 1.5 heartbeat timeouts, so each side notices the split at its
 *       own time (the cut-off node still hears a peer for a while; with the
 *       longest spread, for longer than a heartbeat timeout: a partial
 *       partition first);
 *       held until the majority runs every child (then 0–1 s more), or for
 *       a fixed 0.3–2.3 heartbeat timeouts (the next step may then land
 *       before, at or after the takeover);
 *   (c) rolling partition: in one `ip -batch` per namespace (a few ms in
 *       all), C is healed and another minority C' is cut off; held as above;
 *   (b) heal that reaches one peer first: the cut pairs are restored one
 *       pair at a time, in a drawn order, 200–600 ms apart (30 %: 2–6 s,
 *       longer than the longest redial backoff, so the node links to its
 *       first peer well before the next);
 *   then the cluster must settle: every member up, ready and linked to all,
 *       every child once on its rendezvous owner, every member counting
 *       every child once.
 *
 * No observer node and no churn: the script talks to the members only over
 * their control pipes (bench/fixtures/control-hook.mjs), so nothing but the
 * members themselves crosses the partitions.
 *
 * Checks:
 *   no-overlap   no child ever ran on two nodes at the same moment, replayed
 *                over the whole run from the members' own child logs
 *                (lib/overlap.mjs). Each node process's clock is measured
 *                against the script's over round trips of its control pipe
 *                (NTP-style, the best of many; error at most half the best
 *                round trip, 0.05–0.5 ms here depending on load), and the
 *                times converted with it. The tolerance is that error: an
 *                overlap counts when it is longer than the sum of the two
 *                processes' error bounds (0 on one process); shorter ones
 *                are printed. `--tolerance <ms>` fixes it instead;
 *   takeover     (liveness) the majority runs every child within
 *                --settle-timeout of a split held "until the takeover";
 *   quiescence   the cluster settles within --settle-timeout of each heal;
 *   one-instance, no-lost-spec, nothing-else, views-agree   after each
 *                round's quiescence (lib/invariants.mjs, from the child logs
 *                and every member's counts).
 *
 * Exit code 0 when every check held, 1 otherwise (node logs, the child
 * intervals and the fault history are kept in /tmp/pogo-reliability-*),
 * 2 for bad flags, 3 when network namespaces are not usable here (the
 * reason is printed; `--probe` prints { ok, reason } as JSON and exits 0).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { killTrackedNow, sleep, until } from '../bench/lib/harness.mjs';
import { TIMING_PRESETS } from '../core/dist/index.js';
import { SeededRandom } from '../core/dist/testing.js';
import { RealCluster, closeOnSignal } from './lib/cluster.mjs';
import { Ledger, checkQuiescent } from './lib/invariants.mjs';
import { NetnsLayout, probe, removeStale } from './lib/netns.mjs';
import { commandLine, finish, fig, formatDuration, runIfMain } from './lib/options.mjs';
import { shuffle } from './lib/random.mjs';
import { ChildRecord, beyondClockError, clockFigures, describeOverlap, epochNow } from './lib/overlap.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
export const FLAGS = {
  nodes: { type: 'int', min: 3, default: 3, help: 'members (all expected: --expected-members = --nodes)' },
  children: { type: 'int', min: 1, default: 30, help: 'children, started once before the first round' },
  rounds: { type: 'int', min: 1, default: 5, help: 'rounds of split, rolling partition and heal' },
  seed: { type: 'int', min: 1, default: undefined, help: 'seed of the schedule (default: random, printed)' },
  netsplit: {
    type: 'string',
    choices: ['majority', 'available'],
    default: 'majority',
    help: 'netsplit mode of the members; available is the control run: each side runs what it cannot see, so the checks must find overlaps',
  },
  child: {
    type: 'string',
    choices: ['idle', 'slow', 'os'],
    default: 'idle',
    help:
      'the children: idle workers (stop at once); slow workers (a stop takes 4 heartbeat timeouts,' +
      ' shutdown 3); OS processes that ignore SIGTERM (shutdown 2 heartbeat timeouts, then SIGKILL)',
  },
  preset: { type: 'string', choices: ['local', 'lan'], default: 'lan', help: 'timing preset of the members (lan: heartbeat timeout 3 s; local: 1 s)' },
  tolerance: {
    type: 'number',
    default: undefined,
    help: 'overlaps up to this many ms are reported but do not fail the run (default: per pair of processes, the sum of their calibrated clock errors)',
  },
  'settle-timeout': { type: 'duration', default: 60_000, help: 'longest wait for a takeover or for quiescence after a heal' },
  'log-level': { type: 'string', choices: ['info', 'debug'], default: 'debug', help: 'log level of the members (their logs are kept on failure)' },
  json: { type: 'string', default: undefined, help: 'also write the result as JSON to this file' },
  keep: { type: 'bool', default: false, help: 'keep the node logs even when the run passes' },
  plan: { type: 'int', min: 1, default: undefined, help: 'print the first N rounds the seed plays, and exit (nothing is started)' },
  probe: { type: 'bool', default: false, help: 'print whether network namespaces are usable here ({ ok, reason } as JSON) and exit' },
};

/** @typedef {'local' | 'lan' | 'wan'} Preset */
/** @typedef {{ op: 'cut' | 'restore', from: string, to: string }} Change */
/** @typedef {{ until: 'takeover', extraMs: number, ms?: undefined } | { ms: number, until?: undefined, extraMs?: undefined }} Hold */
/** @typedef {ReturnType<typeof planRound>} Plan */
/** @typedef {{ minorityStoppedMs: number | undefined, longestGapMs: number }} PartitionFigures */
/**
 * One round as reported: the plan in words and its figures (ms), filled in as the round goes.
 * @typedef {{ round: number, plan: string, takeoverMs?: number, rollingApplyMs?: number, rollingTakeoverMs?: number, healMs?: number,
 *   healFromFirstMs?: number, split?: PartitionFigures, rolling?: PartitionFigures, overlaps?: number, overlapsUnderTolerance?: number }} Round
 */
/**
 * A majority run's result (written with --json).
 * @typedef {object} MajorityResult
 * @property {number | undefined} seed
 * @property {number} nodes
 * @property {number} children
 * @property {string} netsplit
 * @property {string} child
 * @property {string} preset
 * @property {number | 'calibrated'} toleranceMs
 * @property {{ maxErrorMs: number, maxWallDriftMissMs: number }} clock
 * @property {number} roundsPlanned
 * @property {Round[]} rounds
 * @property {number} overlaps
 * @property {number} overlapsUnderTolerance
 * @property {number} longestOverlapMs
 * @property {number} childrenLost
 * @property {number} duplicatesAfterQuiescence
 * @property {Array<import('./lib/invariants.mjs').Violation & { at: string }>} violations
 * @property {string[]} history
 * @property {string} logs
 * @property {object[]} [overlapList]
 * @property {number} [elapsedMs]
 * @property {Array<{ label: string, fromMs: number, toMs: number | undefined }>} [phases]
 */

/** @param {number} n */
const names = (n) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

const SLOW_WORKERS = fileURLToPath(new URL('./fixtures/slow-stop-worker.mjs', import.meta.url));
/** In the command line of every OS child of this run: the last-resort cleanup finds them by it (and kills them by pid). */
const OS_CHILD_MARK = `pogo-majority-os-child-${process.pid}`;

/**
 * The members' extra flags and the children's spec (control-hook startMany) for `--child`.
 * @param {string} kind
 * @param {number} timeoutMs
 * @returns {{ flags: string[], spec: Pick<import('../bench/lib/types.js').StartManyArgs, 'worker' | 'args' | 'start' | 'shutdown'> }}
 */
function childKind(kind, timeoutMs) {
  if (kind === 'slow') return { flags: ['--workers', SLOW_WORKERS], spec: { worker: 'slow-stop', args: { stopMs: 4 * timeoutMs }, shutdown: 3 * timeoutMs } };
  if (kind === 'os') {
    // A shell that ignores SIGTERM (and so do the sleeps it runs): only the SIGKILL after the shutdown time, or the lease's deadline, ends it.
    const script = `: ${OS_CHILD_MARK}; trap '' TERM; while :; do sleep 1; done`;
    return { flags: ['--allow-commands', '/bin/sh'], spec: { start: { command: '/bin/sh', args: ['-c', script] }, shutdown: 2 * timeoutMs } };
  }
  return { flags: [], spec: {} };
}

/**
 * SIGKILLs, by pid, every process whose command line carries `mark` (this run's own OS children only).
 * @param {string} mark
 */
function killMarked(mark) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(mark)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Every one-way link between a member of `side` and one outside it.
 * @param {readonly string[]} side
 * @param {readonly string[]} members
 * @returns {Array<[string, string]>}
 */
function cutsAround(side, members) {
  /** @type {Array<[string, string]>} */
  const out = [];
  for (const x of side) for (const y of members) if (!side.includes(y)) out.push([x, y], [y, x]);
  return out;
}

/**
 * A hold: until the takeover (plus 0–1 s), or a fixed time in heartbeat timeouts.
 * @param {SeededRandom} rng
 * @param {number} timeoutMs
 * @returns {Hold}
 */
function planHold(rng, timeoutMs) {
  return rng.next() < 0.6 ? { until: 'takeover', extraMs: rng.int(1000) } : { ms: Math.round(timeoutMs * (0.3 + 2 * rng.next())) };
}

/**
 * One round, every random choice drawn here, synchronously, from the seed alone.
 * @param {SeededRandom} rng
 * @param {string[]} members
 * @param {number} timeoutMs
 */
export function planRound(rng, members, timeoutMs) {
  const maxMinority = Math.floor((members.length - 1) / 2);
  const size = 1 + rng.int(maxMinority);
  const side = shuffle(rng, members).slice(0, size).sort();
  const spreadMs = Math.round(timeoutMs * /** @type {number} */ ([0, 0.15, 0.5, 1.5][rng.int(4)]));
  const split = cutsAround(side, members).map(([from, to]) => ({ from, to, atMs: spreadMs === 0 ? 0 : rng.int(spreadMs + 1) }));
  split.sort((a, b) => a.atMs - b.atMs);
  const holdSplit = planHold(rng, timeoutMs);
  /** @type {string[]} */
  let next;
  do
    next = shuffle(rng, members)
      .slice(0, 1 + rng.int(maxMinority))
      .sort();
  while (next.join() === side.join());
  const cutFirst = rng.next() < 0.5;
  const holdRolling = planHold(rng, timeoutMs);
  // The heal: pairs across the last cut, one at a time.
  const pairs = shuffle(
    rng,
    next.flatMap((x) => members.filter((y) => !next.includes(y)).map((y) => /** @type {[string, string]} */ ([x, y]))),
  );
  // Mostly a few hundred ms apart; sometimes longer than the longest redial backoff, so that the
  // node certainly links to its first peer well before the others.
  const heal = pairs.map((pair, i) => ({ pair, afterMs: i === 0 ? 0 : rng.next() < 0.7 ? 200 + rng.int(401) : 2000 + rng.int(4001) }));
  return { side, spreadMs, split, holdSplit, next, cutFirst, holdRolling, heal };
}

/** @param {Hold} h */
function describeHold(h) {
  return h.until ? `until the takeover + ${h.extraMs} ms` : `${h.ms} ms`;
}

/**
 * @param {Plan} p
 * @returns {string}
 */
export function describeRound(p) {
  const split = `split ${p.side.join(',')} | rest, ${p.split.length} one-way cuts within ${p.spreadMs} ms, held ${describeHold(p.holdSplit)}`;
  const rolling =
    `rolling: heal ${p.side.join(',')} and cut ${p.next.join(',')} at once (` +
    `${p.cutFirst ? 'cuts' : 'restores'} first), held ${describeHold(p.holdRolling)}`;
  const heal = `heal ${p.heal.map((h) => `${h.pair.join('-')}${h.afterMs ? ` +${h.afterMs} ms` : ''}`).join(', ')}`;
  return `${split}; ${rolling}; ${heal}`;
}

/**
 * The first `rounds` rounds a seed plays.
 * @param {number} seed
 * @param {number} nodes
 * @param {number} rounds
 * @param {string} [preset]
 * @returns {string[]}
 */
export function schedule(seed, nodes, rounds, preset = 'lan') {
  const rng = new SeededRandom(seed);
  return Array.from({ length: rounds }, () => describeRound(planRound(rng, names(nodes), TIMING_PRESETS[/** @type {Preset} */ (preset)].heartbeatTimeoutMs)));
}

/**
 * One run in `layout` (a NetnsLayout, created by the caller). Resolves with
 * the result; never throws for a failed check (see result.violations).
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts (the seed drawn by main)
 * @param {NetnsLayout} layout the members' network namespaces
 * @param {(line: string) => void} [log]
 * @returns {Promise<MajorityResult>}
 */
export async function runMajority(opts, layout, log = (line) => process.stdout.write(`${line}\n`)) {
  const members = names(opts.nodes);
  const timing = TIMING_PRESETS[/** @type {Preset} */ (opts.preset)];
  const rng = new SeededRandom(/** @type {number} */ (opts.seed));
  process.env.POGO_LOG_LEVEL = opts.logLevel;
  const child = childKind(opts.child, timing.heartbeatTimeoutMs);
  const cluster = new RealCluster({
    names: members,
    preset: /** @type {Preset} */ (opts.preset),
    flags: ['--netsplit', opts.netsplit, ...(opts.netsplit === 'majority' ? ['--expected-members', String(opts.nodes)] : []), ...child.flags],
    netns: layout,
    calibrate: true,
  });
  const record = new ChildRecord();
  cluster.onChildEvents((node, _events, raw) => record.add(node, raw));
  const began = performance.now();
  const t0 = epochNow();
  const sec = () => ((performance.now() - began) / 1000).toFixed(1);
  /** @type {string[]} */
  const history = [];
  /** @param {string} text */
  const note = (text) => history.push(`t=${sec()}s ${text}`);
  /** @type {Array<{ label: string, from: number, to: number | undefined }>} */
  const phases = [];
  /** @param {string} label */
  const phase = (label) => {
    /** @type {{ label: string, from: number, to: number | undefined }} */
    const p = { label, from: epochNow(), to: undefined };
    const last = phases.at(-1);
    if (last) last.to ??= p.from;
    phases.push(p);
    note(label);
  };
  /** @type {MajorityResult} */
  const result = {
    seed: opts.seed,
    nodes: opts.nodes,
    children: opts.children,
    netsplit: opts.netsplit,
    child: opts.child,
    preset: opts.preset,
    toleranceMs: opts.tolerance ?? 'calibrated',
    clock: { maxErrorMs: 0, maxWallDriftMissMs: 0 },
    roundsPlanned: opts.rounds,
    rounds: [],
    overlaps: 0,
    overlapsUnderTolerance: 0,
    longestOverlapMs: 0,
    childrenLost: 0,
    duplicatesAfterQuiescence: 0,
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
  const signals = closeOnSignal('majority', cluster, log);
  const ledger = new Ledger();
  /** @type {string[]} */
  let ids = [];

  /** @param {number} t */
  const ms = (t) => Math.round(t);
  /**
   * @param {Change[]} changes
   * @param {string} what
   */
  const apply = (changes, what) => {
    layout.apply(changes);
    note(`${what}: ${changes.map((c) => `${c.op} ${c.from}→${c.to}`).join(', ')}`);
  };

  /**
   * @param {(where: Map<string, string[]>) => boolean | Promise<boolean>} pred
   * @param {string} what
   */
  const waitTruth = (pred, what) => cluster.waitTruth(pred, opts.settleTimeout, what);
  /** @param {Map<string, string[]>} where */
  const quiescent = (where) => cluster.quiescentTruth(ids, where);
  const describeTruth = () => cluster.describeTruth(ids);

  /**
   * Every child runs exactly once, none on `side`, nothing else runs (available mode: every child once outside `side`).
   * @param {string[]} side
   */
  const takenOver = (side) => (/** @type {Map<string, string[]>} */ where) =>
    opts.netsplit === 'available'
      ? ids.every((id) => (where.get(id) ?? []).filter((n) => !side.includes(n)).length === 1)
      : ids.every((id) => where.get(id)?.length === 1 && !side.includes(/** @type {string[]} */ (where.get(id))[0])) && where.size === ids.length;

  /**
   * @param {Hold} h
   * @param {string[]} side
   * @param {number} sinceMs
   * @param {string} what
   * @returns {Promise<number | undefined>}
   */
  const hold = async (h, side, sinceMs, what) => {
    if (h.until) {
      const at = await waitTruth(takenOver(side), `${what}: the majority runs every child`);
      if (at === undefined) {
        fail('takeover', [], `${what}: the majority did not run every child within ${formatDuration(opts.settleTimeout)}: ${await describeTruth()}`);
        return undefined;
      }
      note(`${what}: the majority runs every child (${ms(at - sinceMs)} ms after the first cut)`);
      await sleep(h.extraMs);
      return at - sinceMs;
    }
    await sleep(Math.max(0, /** @type {number} */ (h.ms) - (epochNow() - sinceMs)));
    return undefined;
  };

  /** Figures of a partition from the child logs: when `side` had stopped everything, and the longest a child ran nowhere from a stop in [from, to). */
  /**
   * @param {string[]} side
   * @param {number} from
   * @param {number} to
   * @returns {PartitionFigures}
   */
  const partitionFigures = (side, from, to) => {
    /** @type {number | undefined} */
    let minorityStopped;
    for (const id of record.ids()) {
      for (const iv of record.byId.get(id) ?? []) {
        if (side.includes(iv.node) && iv.down !== undefined && iv.down >= from && iv.down <= to)
          minorityStopped = Math.max(minorityStopped ?? 0, iv.down - from);
      }
    }
    let longestGap = 0;
    for (const id of ids) for (const [a, b] of record.gaps(id)) if (a >= from && a < to) longestGap = Math.max(longestGap, b - a);
    return { minorityStoppedMs: minorityStopped === undefined ? undefined : ms(minorityStopped), longestGapMs: ms(longestGap) };
  };

  /** @param {string} label */
  const checkRound = async (label) => {
    const where = await cluster.readTruth();
    const counts = await cluster.counts(5000);
    const observerRuns = new Map([...where].map(([id, on]) => [id, on.length]));
    const r = checkQuiescent({ ledger, liveSpecs: ids, where, observerRuns, counts });
    result.childrenLost += r.lost.length;
    result.duplicatesAfterQuiescence += r.duplicates.length;
    for (const v of r.violations) fail(v.invariant, v.ids, `${label}: ${v.detail}`);
    return r.violations.length;
  };

  try {
    log(
      `majority: seed ${opts.seed}, ${opts.nodes} nodes (--netsplit ${opts.netsplit}` +
        `${opts.netsplit === 'majority' ? ` --expected-members ${opts.nodes}` : ': the control run, overlaps expected'}), ${opts.children} ` +
        `${opts.child === 'idle' ? '' : `${opts.child} `}children, ${opts.rounds} rounds, preset ${opts.preset} ` +
        `(heartbeat timeout ${timing.heartbeatTimeoutMs} ms), network namespaces ${layout.prefix}-*`,
    );
    log(
      `majority: replay with: node reliability/majority.mjs --nodes ${opts.nodes} --children ${opts.children} --rounds ${opts.rounds} --seed ${opts.seed} ` +
        `--preset ${opts.preset}${opts.child === 'idle' ? '' : ` --child ${opts.child}`}${opts.netsplit === 'majority' ? '' : ' --netsplit available'}`,
    );
    phase('start-up');
    await cluster.startAll();
    for (const node of cluster.all) void node.exited.then(() => record.exited(node, epochNow()));
    // A member takes children only once a majority confirms it: wait for every member's lease and readiness.
    await until(
      async () => {
        const counts = await cluster.counts(5000);
        return members.every((n) => counts.get(n)?.ready && members.every((m) => counts.get(n)?.up.includes(m)));
      },
      opts.settleTimeout,
      'every member up and ready',
      100,
    );
    ids = await cluster.startSpread(members, opts.children, 'c', child.spec);
    ledger.addLive(ids);
    if ((await waitTruth(quiescent, 'start-up')) === undefined) throw new Error(`no quiescence after the start-up: ${await describeTruth()}`);
    result.clock = clockFigures(cluster.all);
    log(
      `majority: t=${sec()}s ${opts.children} children running once; rounds begin. Child-log clocks calibrated to ±` +
        `${fig(result.clock.maxErrorMs * 1000, 0)} µs (the wall-drift estimate was off by up to ${fig(result.clock.maxWallDriftMissMs * 1000, 0)} µs)`,
    );

    for (let round = 1; round <= opts.rounds && result.violations.length === 0 && !signals.interrupted(); round++) {
      const plan = planRound(rng, members, timing.heartbeatTimeoutMs);
      /** @type {Round} */
      const rec = { round, plan: describeRound(plan) };
      note(`round ${round}: ${rec.plan}`);
      const firstPhase = phases.length;

      // (a) the split, one one-way cut at a time
      phase(`round ${round} split ${plan.side.join(',')}`);
      const splitAt = epochNow();
      for (const c of plan.split) {
        await sleep(Math.max(0, splitAt + c.atMs - epochNow()));
        apply([{ op: 'cut', from: c.from, to: c.to }], `+${ms(epochNow() - splitAt)} ms`);
      }
      rec.takeoverMs = await hold(plan.holdSplit, plan.side, splitAt, `round ${round} split`);
      if (result.violations.length > 0) break;

      // (c) the rolling partition, in one go
      phase(`round ${round} rolling ${plan.side.join(',')} → ${plan.next.join(',')}`);
      // The net change: what stays cut (a pair between C and C') is not touched.
      const target = new Set(cutsAround(plan.next, members).map(([from, to]) => `${from} ${to}`));
      const restores = members.flatMap((x) =>
        members.filter((y) => layout.isCut(x, y) && !target.has(`${x} ${y}`)).map((y) => /** @type {Change} */ ({ op: 'restore', from: x, to: y })),
      );
      const cuts = cutsAround(plan.next, members)
        .filter(([from, to]) => !layout.isCut(from, to))
        .map(([from, to]) => /** @type {Change} */ ({ op: 'cut', from, to }));
      const rollAt = epochNow();
      apply(plan.cutFirst ? [...cuts, ...restores] : [...restores, ...cuts], 'rolling');
      rec.rollingApplyMs = Number((epochNow() - rollAt).toFixed(1));
      note(`rolling applied in ${rec.rollingApplyMs} ms`);
      rec.rollingTakeoverMs = await hold(plan.holdRolling, plan.next, rollAt, `round ${round} rolling`);
      if (result.violations.length > 0) break;

      // (b) the heal, one pair at a time
      phase(`round ${round} heal ${plan.next.join(',')}`);
      const healAt = epochNow();
      let lastRestoreAt = healAt;
      for (const h of plan.heal) {
        await sleep(h.afterMs);
        const [x, y] = h.pair;
        apply(
          [
            { op: 'restore', from: x, to: y },
            { op: 'restore', from: y, to: x },
          ],
          `heal ${x}-${y}`,
        );
        lastRestoreAt = epochNow();
      }
      const settledAt = await waitTruth(quiescent, `round ${round} heal`);
      if (settledAt === undefined) {
        fail('quiescence', [], `round ${round}: no quiescence within ${formatDuration(opts.settleTimeout)} of the heal: ${await describeTruth()}`);
        break;
      }
      rec.healMs = ms(settledAt - lastRestoreAt);
      rec.healFromFirstMs = ms(settledAt - healAt);
      // The child logs are complete up to here (waitTruth read them).
      rec.split = partitionFigures(plan.side, splitAt, rollAt);
      rec.rolling = partitionFigures(plan.next, rollAt, healAt);
      await checkRound(`after round ${round}`);

      // The members are idle now: their clocks answer fastest (a tighter error bound for the overlap check).
      await Promise.all(members.map((n) => cluster.calibrateClock(cluster.node(n))));
      const inRound = record.overlaps().filter((o) => o.from >= /** @type {{ from: number }} */ (phases[firstPhase]).from);
      rec.overlaps = inRound.filter((o) => beyondClockError(o, opts.tolerance)).length;
      rec.overlapsUnderTolerance = inRound.length - rec.overlaps;
      result.rounds.push(rec);
      log(
        `majority: t=${sec()}s round ${round}: ${rec.plan}\n` +
          `          split: minority stopped all after ${rec.split.minorityStoppedMs ?? '-'} ms, majority ran all after ` +
          `${rec.takeoverMs === undefined ? '(not waited for)' : `${ms(rec.takeoverMs)} ms`}, longest a child ran nowhere ${rec.split.longestGapMs} ms; ` +
          `rolling: ${plan.next.join(',')} stopped all after ${rec.rolling.minorityStoppedMs ?? '-'} ms, longest a child ran nowhere ` +
          `${rec.rolling.longestGapMs} ms; heal: settled ${rec.healMs} ms after the last restore (${rec.healFromFirstMs} ms after the first); ` +
          `overlaps ${rec.overlaps}${rec.overlapsUnderTolerance ? ` (+${rec.overlapsUnderTolerance} within the clock error)` : ''}`,
      );
    }
  } catch (err) {
    const e = /** @type {Error} */ (err);
    fail('harness', [], `the run could not go on: ${e.stack ?? e.message}\n${cluster.logTails()}`);
  } finally {
    signals.release();
    const lastPhase = phases.at(-1);
    if (lastPhase) lastPhase.to ??= epochNow();
    await cluster.readTruth().catch(() => undefined);
    const all = record.overlaps();
    const real = all.filter((o) => beyondClockError(o, opts.tolerance));
    /** @param {number} t */
    const phaseOf = (t) => phases.findLast((p) => p.from <= t)?.label ?? 'before the start-up';
    result.overlaps = real.length;
    result.overlapsUnderTolerance = all.length - real.length;
    result.longestOverlapMs = all[0] ? Number(all[0].ms.toFixed(3)) : 0;
    result.overlapList = all
      .slice(0, 200)
      .map((o) => ({ id: o.id, ms: Number(o.ms.toFixed(3)), phase: phaseOf(o.from), a: o.a.toJSON(), b: o.b.toJSON(), line: describeOverlap(o, t0) }));
    if (real.length > 0)
      fail(
        'no-overlap',
        [...new Set(real.map((o) => o.id))],
        `${real.length} overlapping pairs of instances beyond the clock error: ${real
          .slice(0, 12)
          .map((o) => `${describeOverlap(o, t0)} during ${phaseOf(o.from)}`)
          .join('; ')}`,
      );
    if (record.unmatched > 0) note(`${record.unmatched} downs without an up in the child logs`);
    result.clock = clockFigures(cluster.all);
    result.elapsedMs = Math.round(performance.now() - began);
    result.phases = phases.map((p) => ({ label: p.label, fromMs: ms(p.from - t0), toMs: p.to === undefined ? undefined : ms(p.to - t0) }));
    const keep = opts.keep || result.violations.length > 0;
    if (keep) {
      writeFileSync(join(cluster.dir, 'child-intervals.json'), record.intervalsJson(t0));
      writeFileSync(join(cluster.dir, 'history.txt'), `${history.join('\n')}\n`);
    }
    if (!signals.interrupted()) {
      // OS children: a graceful stop lets each member stop (and at last kill) its own before the
      // harness SIGKILLs what is left; killMarked catches any that a killed member left behind.
      if (opts.child === 'os') await Promise.all(cluster.reachable().map((n) => cluster.stopGracefully(n, 4 * timing.heartbeatTimeoutMs)));
      await cluster.close({ keep });
      if (opts.child === 'os') killMarked(OS_CHILD_MARK);
    }
  }
  return result;
}

/**
 * The figure line and, for a failed run, the evidence.
 * @param {Awaited<ReturnType<typeof runMajority>>} result
 * @param {(line: string) => void} [log]
 */
export function report(result, log = (line) => process.stdout.write(`${line}\n`)) {
  const takeovers = result.rounds.flatMap((r) => [r.takeoverMs, r.rollingTakeoverMs]).filter((x) => x !== undefined);
  const heals = result.rounds.map((r) => r.healMs).filter((x) => x !== undefined);
  const gaps = result.rounds.flatMap((r) => [r.split?.longestGapMs, r.rolling?.longestGapMs]).filter((x) => x !== undefined);
  log(
    `majority: child-log clocks calibrated to ±${fig(result.clock.maxErrorMs * 1000, 0)} µs (the ` +
      `wall-drift estimate was off by up to ${fig(result.clock.maxWallDriftMissMs * 1000, 0)} µs)`,
  );
  log(
    `majority: ${result.rounds.length} rounds in ${fig(Number(result.elapsedMs) / 1000, 0)} s; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  if (result.violations.length > 0) {
    log('');
    log(`majority: FAILED — ${result.violations.length} violation(s):`);
    for (const v of result.violations) log(`  [${v.invariant}] ${v.at} ${v.detail}`);
    log('  fault history:');
    for (const h of result.history) log(`    ${h}`);
    log(`  node logs, child intervals (child-intervals.json) and this history kept in ${result.logs}`);
    log(
      `  replay: node reliability/majority.mjs --nodes ${result.nodes} --children ${result.children} --rounds ${result.roundsPlanned} --seed ${result.seed} ` +
        `--preset ${result.preset}${result.child === 'idle' ? '' : ` --child ${result.child}`}${result.netsplit === 'majority' ? '' : ' --netsplit available'}`,
    );
    log('');
  }
  /** @param {number[]} xs */
  const max = (xs) => (xs.length ? Math.round(Math.max(...xs)) : '-');
  log(
    `majority: seed ${result.seed}, ${result.nodes} nodes${result.netsplit === 'majority' ? '' : ' (netsplit available: control run)'},` +
      ` ${result.children} ${result.child === 'idle' ? '' : `${result.child} `}children, ${result.rounds.length} ` +
      `rounds (split, rolling partition, heal), overlaps ${result.overlaps} (` +
      (result.toleranceMs === 'calibrated'
        ? `beyond the calibrated clock error, ≤ ${fig(result.clock.maxErrorMs * 2, 3)} ms`
        : `tolerance ${result.toleranceMs} ms`) +
      '; ' +
      `${result.overlapsUnderTolerance} within it, longest ${fig(result.longestOverlapMs, 3)} ` +
      `ms), children lost ${result.childrenLost}, duplicates after quiescence ` +
      `${result.duplicatesAfterQuiescence}, longest takeover ${max(takeovers)} ms, longest a child ran nowhere ${max(gaps)} ms, longest heal ${max(heals)} ms`,
  );
}

async function main() {
  const opts = commandLine('majority', FLAGS);
  if (!opts) return;
  if (opts.plan) {
    if (opts.seed === undefined) {
      process.stderr.write('majority: --plan needs --seed\n');
      process.exit(2);
    }
    process.stdout.write(
      `${schedule(opts.seed, opts.nodes, opts.plan, opts.preset)
        .map((p, i) => `round ${i + 1}: ${p}`)
        .join('\n')}\n`,
    );
    return;
  }
  const usable = probe();
  if (opts.probe) {
    process.stdout.write(`${JSON.stringify(usable)}\n`);
    return;
  }
  if (!usable.ok) {
    process.stderr.write(`majority: needs Linux network namespaces for real partitions, not usable here: ${usable.reason}\n`);
    process.exit(3);
  }
  opts.seed ??= 1 + Math.floor(Math.random() * 2 ** 31);
  const stale = removeStale();
  if (stale.length > 0) process.stdout.write(`majority: removed namespaces of earlier runs that died: ${stale.join(', ')}\n`);
  const layout = new NetnsLayout(`pgc${process.pid}`, names(opts.nodes));
  layout.create();
  process.on('exit', () => {
    killTrackedNow();
    if (opts.child === 'os') killMarked(OS_CHILD_MARK);
    layout.destroy();
  });
  const result = await runMajority(opts, layout);
  finish(opts, result, report);
}

runIfMain(import.meta.url, 'majority', main);
