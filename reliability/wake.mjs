#!/usr/bin/env node
/**
 * Waking from a pause: `node reliability/wake.mjs [--nodes 3] [--children 120]
 * [--rounds 3] [--seed N] [--netsplit available|majority]`.
 *
 * Runs N `pogo node` members on loopback (netsplit `available`, or
 * `majority` with --expected-members N) and 120 idle worker children, each
 * member recording the ups and downs of its own children (the control
 * hook's child log). Then, per round, drawn from the seed: SIGSTOP a random
 * member for F seconds — by default between 1.5 and 12 heartbeat timeouts
 * (4.5–36 s with the `lan` preset), so its peers declare it down and start
 * its children elsewhere — then SIGCONT, and wait until the cluster is
 * quiet: every child once on its owner (child logs), every member up, ready,
 * linked to all and counting every child once; then --quiet more.
 *
 * The round is judged from the members' own records (lib/wake-judge.mjs),
 * the policy of docs/reliability.md ("A frozen node…"):
 *   wake-start      the woken node started no child that was running on a
 *                   peer at that moment (every instance it started after
 *                   the SIGSTOP, up to the end of the round);
 *   duplicate       (available) each child the freeze left running twice
 *                   (its instance on the frozen node, and the one a peer
 *                   started meanwhile) is down to one instance within
 *                   --resolve-bound of the SIGCONT (default: derived from
 *                   the preset: one redial at the longest backoff, a
 *                   handshake, and two heartbeat timeouts: 16 s with lan);
 *                   the time each took is reported (max, median);
 *   frozen-overlap  (majority) the only overlap allowed is the documented
 *                   one: a node frozen for longer than its lease cannot stop
 *                   its children, the majority restarts them once the lease
 *                   and stop time have run out, and the woken node's worker
 *                   children "run on for a moment when it wakes". Checked
 *                   exactly: the freeze was longer than the lease (one
 *                   heartbeat timeout); the frozen node's instance ran since
 *                   before the SIGSTOP and was down within lease + one
 *                   heartbeat timeout of the SIGCONT (its stop deadline, and
 *                   a timeout's slack to wake and reconcile); the peer's
 *                   instance started no earlier than lease + stop time − one
 *                   ping interval after the SIGSTOP (the majority waits lease
 *                   + stop time + margin from the last moment it heard the
 *                   frozen node, at most one ping interval before the
 *                   SIGSTOP — counted from the moment the frozen node last
 *                   answered its control pipe, just before it: its loop ran,
 *                   so its ticker had sent every ping due): 5 s with lan;
 *   overlap         any other two instances of one child at the same time;
 *   quiescence, one-instance, no-lost-spec, nothing-else, views-agree
 *                   after every round: every child runs exactly once.
 * Overlaps within the calibrated clock error of the pair are left out (and
 * counted), as in majority.mjs and restarts.mjs.
 *
 * Control runs (the check can fail): `--netsplit available --judge majority`
 * judges available mode, whose peers take a frozen node's children over
 * after one heartbeat timeout, by majority mode's rule: frozen-overlap must
 * fail. For wake-start, the core before 3b66a3f (its own transport's closes
 * on waking taken as the peers' deaths) started every child of its peers on
 * waking from a 38 s freeze; reliability/README.md says how to run the same
 * script against that core.
 *
 * No observer node: the script talks to the members over their control
 * pipes only. Exit code 0 when every check held, 1 otherwise (node logs,
 * child intervals and the history kept in /tmp/pogo-reliability-*), 2 for
 * bad flags.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { killTrackedNow, sleep, until } from '../bench/lib/harness.mjs';
import { TIMING_PRESETS } from '../core/dist/index.js';
import { SeededRandom } from '../core/dist/testing.js';
import { RealCluster, closeOnSignal } from './lib/cluster.mjs';
import { Ledger, checkQuiescent } from './lib/invariants.mjs';
import { commandLine, fig, finish, formatDuration, parseDuration, runIfMain } from './lib/options.mjs';
import { ChildRecord, clockFigures, epochNow } from './lib/overlap.mjs';
import { judgeWakeRound } from './lib/wake-judge.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
export const FLAGS = {
  nodes: { type: 'int', min: 3, default: 3, help: 'members' },
  children: { type: 'int', min: 1, default: 120, help: 'idle worker children, started once before the first round' },
  rounds: { type: 'int', min: 1, default: 3, help: 'rounds of SIGSTOP, SIGCONT and quiet' },
  seed: { type: 'int', min: 1, default: undefined, help: 'seed of the victims and freeze lengths (default: random, printed)' },
  netsplit: {
    type: 'string',
    choices: ['available', 'majority'],
    default: 'available',
    help: 'netsplit mode of the members (majority: --expected-members = --nodes)',
  },
  judge: {
    type: 'string',
    choices: ['available', 'majority'],
    default: undefined,
    help:
      "judge the overlaps by this mode's rule (default: --netsplit); --netsplit available --judge majority is the control run, " +
      'whose frozen-overlap check must fail',
  },
  'freeze-min': { type: 'number', default: 1.5, help: 'shortest drawn freeze, in heartbeat timeouts' },
  'freeze-max': { type: 'number', default: 12, help: 'longest drawn freeze, in heartbeat timeouts' },
  freezes: {
    type: 'string',
    default: undefined,
    help: 'freeze lengths to play instead of drawing them, comma-separated durations (e.g. 38s,5s), cycled through the rounds',
  },
  preset: { type: 'string', choices: ['local', 'lan'], default: 'lan', help: 'timing preset of the members (lan: heartbeat timeout 3 s; local: 1 s)' },
  quiet: { type: 'duration', default: 2000, help: 'how long to keep watching after the cluster is quiet, before judging the round' },
  'resolve-bound': {
    type: 'duration',
    default: undefined,
    help:
      '(available) a duplicate must be down to one instance this long after the SIGCONT ' +
      "(default: the preset's reconnectMaxMs + handshakeTimeoutMs + 2 heartbeat timeouts)",
  },
  tolerance: {
    type: 'number',
    default: undefined,
    help: 'overlaps up to this many ms are left out (default: per pair of processes, the sum of their calibrated clock errors)',
  },
  'settle-timeout': { type: 'duration', default: 60_000, help: 'longest wait for quiescence after the SIGCONT' },
  'log-level': { type: 'string', choices: ['info', 'debug'], default: 'info', help: 'log level of the members (their logs are kept on failure)' },
  json: { type: 'string', default: undefined, help: 'also write the result as JSON to this file' },
  keep: { type: 'bool', default: false, help: 'keep the node logs even when the run passes' },
  plan: { type: 'int', min: 1, default: undefined, help: 'print the first N rounds the seed plays, and exit (nothing is started)' },
};

/** @typedef {'local' | 'lan' | 'wan'} Preset */
/** @typedef {import('../core/dist/index.js').TimingConfig} TimingConfig */

/** @param {number} n */
const names = (n) => Array.from({ length: n }, (_, i) => `n${i + 1}`);

/**
 * One round, drawn from the seed alone: the member frozen and for how long.
 * @param {{ int(n: number): number, next(): number }} rng
 * @param {readonly string[]} members
 * @param {number} timeoutMs the heartbeat timeout
 * @param {{ freezeMin: number, freezeMax: number, freezes?: readonly number[] | undefined }} o
 * @param {number} round 1-based
 * @returns {{ victim: string, freezeMs: number }}
 */
export function planRound(rng, members, timeoutMs, o, round) {
  const victim = /** @type {string} */ (members[rng.int(members.length)]);
  const drawn = Math.round(timeoutMs * (o.freezeMin + (o.freezeMax - o.freezeMin) * rng.next()));
  const fixed = o.freezes?.length ? o.freezes[(round - 1) % o.freezes.length] : undefined;
  return { victim, freezeMs: fixed ?? drawn };
}

/**
 * The bounds a round is judged by, from the members' timing (see the header).
 * @param {TimingConfig} t
 * @param {number | undefined} resolveBound
 */
export function bounds(t, resolveBound) {
  const leaseMs = t.heartbeatTimeoutMs;
  const stopMs = t.heartbeatTimeoutMs;
  return {
    leaseMs,
    resolveBoundMs: resolveBound ?? t.reconnectMaxMs + t.handshakeTimeoutMs + 2 * t.heartbeatTimeoutMs,
    wakeStopBoundMs: leaseMs + t.heartbeatTimeoutMs,
    takeoverAfterMs: leaseMs + stopMs - t.heartbeatIntervalMs,
  };
}

/**
 * @param {readonly string[]} text
 * @returns {number[] | undefined}
 */
function parseFreezes(text) {
  return text.length ? text.map((x) => parseDuration(x.trim(), '--freezes')) : undefined;
}

/**
 * One round as reported (ms).
 * @typedef {{ round: number, victim: string, freezeMs: number, takeoverMs?: number, takenOver?: number, victimChildren?: number,
 *   closedOnWaking?: string[], quietMs?: number, wakeStarts?: number, wakeStartsOverPeers?: number, duplicates?: number,
 *   resolveMaxMs?: number, resolveMedianMs?: number, unresolved?: number, allowedOverlaps?: number, ranOnAfterWakeMs?: number,
 *   earliestTakeoverMs?: number, overlapsWithinError?: number, probeMs?: number, longestGapMs?: number }} Round
 */
/**
 * A wake run's result (written with --json).
 * @typedef {object} WakeResult
 * @property {number | undefined} seed
 * @property {number} nodes
 * @property {number} children
 * @property {string} netsplit
 * @property {string} judge
 * @property {string} preset
 * @property {ReturnType<typeof bounds>} bounds
 * @property {{ maxErrorMs: number, maxWallDriftMissMs: number }} clock
 * @property {number} roundsPlanned
 * @property {Round[]} rounds
 * @property {number} childrenLost
 * @property {Array<import('./lib/invariants.mjs').Violation & { at: string }>} violations
 * @property {string[]} history
 * @property {string} logs
 * @property {number} [elapsedMs]
 */

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? /** @type {number} */ (s[Math.floor((s.length - 1) / 2)]) : undefined;
};

/**
 * The "link … closed as this node ran again" lines of a node's log written after `sinceWallMs`: how its own links closed on waking.
 * @param {import('../bench/lib/cluster.mjs').BenchNode} node
 * @param {number} sinceWallMs
 * @returns {string[]}
 */
function closedOnWaking(node, sinceWallMs) {
  /** @type {string[]} */
  const out = [];
  try {
    for (const line of readFileSync(/** @type {string} */ (node.logFile), 'utf8').split('\n')) {
      if (!line.includes('closed as this node ran again')) continue;
      const l = JSON.parse(line);
      if (Date.parse(l.time) >= sinceWallMs) out.push(`${l.peer}: ${l.reason}`);
    }
  } catch {
    // no log
  }
  return out;
}

/**
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts
 * @param {(line: string) => void} [log]
 * @returns {Promise<WakeResult>}
 */
export async function runWake(opts, log = (line) => process.stdout.write(`${line}\n`)) {
  const members = names(opts.nodes);
  const timing = TIMING_PRESETS[/** @type {Preset} */ (opts.preset)];
  const judge = /** @type {'available' | 'majority'} */ (opts.judge ?? opts.netsplit);
  const b = bounds(timing, opts.resolveBound);
  const freezes = opts.freezes ? parseFreezes(opts.freezes.split(',')) : undefined;
  const rng = new SeededRandom(/** @type {number} */ (opts.seed));
  process.env.POGO_LOG_LEVEL = opts.logLevel;
  const cluster = new RealCluster({
    names: members,
    preset: /** @type {Preset} */ (opts.preset),
    flags: ['--netsplit', opts.netsplit, ...(opts.netsplit === 'majority' ? ['--expected-members', String(opts.nodes)] : [])],
    calibrate: true,
  });
  const record = new ChildRecord();
  cluster.onChildEvents((node, _events, raw) => record.add(node, raw));
  const began = performance.now();
  const sec = () => ((performance.now() - began) / 1000).toFixed(1);
  /** @type {string[]} */
  const history = [];
  /** @param {string} text */
  const note = (text) => history.push(`t=${sec()}s ${text}`);
  /** @type {WakeResult} */
  const result = {
    seed: opts.seed,
    nodes: opts.nodes,
    children: opts.children,
    netsplit: opts.netsplit,
    judge,
    preset: opts.preset,
    bounds: b,
    clock: { maxErrorMs: 0, maxWallDriftMissMs: 0 },
    roundsPlanned: opts.rounds,
    rounds: [],
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
  const signals = closeOnSignal('wake', cluster, log);
  const ledger = new Ledger();
  /** @type {string[]} */
  let ids = [];
  /** @param {Map<string, string[]>} where */
  const quiescent = (where) => cluster.quiescentTruth(ids, where);
  const t0 = epochNow();

  try {
    log(
      `wake: seed ${opts.seed}, ${opts.nodes} nodes (--netsplit ${opts.netsplit}${opts.netsplit === 'majority' ? ` --expected-members ${opts.nodes}` : ''})` +
        `${judge === opts.netsplit ? '' : `, judged by ${judge} mode's rule: the control run, violations expected`}, ${opts.children} children, ` +
        `${opts.rounds} rounds, preset ${opts.preset} (heartbeat timeout ${timing.heartbeatTimeoutMs} ms); freezes ` +
        `${freezes ? freezes.map(formatDuration).join(', ') : `drawn from ${opts.freezeMin}–${opts.freezeMax} heartbeat timeouts`}; bounds: ` +
        (judge === 'available'
          ? `duplicates resolved within ${b.resolveBoundMs} ms of the SIGCONT`
          : `a frozen node's own instances down within ${b.wakeStopBoundMs} ms of the SIGCONT, ` +
            `a peer's started ≥ ${b.takeoverAfterMs} ms after the SIGSTOP, freezes > ${b.leaseMs} ms`),
    );
    log(
      `wake: replay with: node reliability/wake.mjs --nodes ${opts.nodes} --children ${opts.children} --rounds ${opts.rounds} --seed ${opts.seed} ` +
        `--netsplit ${opts.netsplit}${judge === opts.netsplit ? '' : ` --judge ${judge}`} --preset ${opts.preset}` +
        `${opts.freezes ? ` --freezes ${opts.freezes}` : ` --freeze-min ${opts.freezeMin} --freeze-max ${opts.freezeMax}`}`,
    );
    await cluster.startAll();
    for (const node of cluster.all) void node.exited.then(() => record.exited(node, epochNow()));
    await until(
      async () => {
        const counts = await cluster.counts(5000);
        return members.every((n) => counts.get(n)?.ready && members.every((m) => counts.get(n)?.up.includes(m)));
      },
      opts.settleTimeout,
      'every member up and ready',
      100,
    );
    ids = await cluster.startSpread(members, opts.children, 'w');
    ledger.addLive(ids);
    if ((await cluster.waitTruth(quiescent, opts.settleTimeout, 'start-up')) === undefined)
      throw new Error(`no quiescence after the start-up: ${await cluster.describeTruth(ids)}`);
    await Promise.all(members.map((n) => cluster.calibrateClock(cluster.node(n))));
    result.clock = clockFigures(cluster.all);
    log(
      `wake: t=${sec()}s ${opts.children} children running once; rounds begin. Child-log clocks calibrated to ±` +
        `${fig(result.clock.maxErrorMs * 1000, 0)} µs`,
    );

    for (let round = 1; round <= opts.rounds && result.violations.length === 0 && !signals.interrupted(); round++) {
      const plan = planRound(rng, members, timing.heartbeatTimeoutMs, { freezeMin: opts.freezeMin, freezeMax: opts.freezeMax, freezes }, round);
      /** @type {Round} */
      const rec = { round, victim: plan.victim, freezeMs: plan.freezeMs };
      note(`round ${round}: SIGSTOP ${plan.victim} for ${plan.freezeMs} ms`);
      await cluster.readTruth();
      const victim = cluster.node(plan.victim);
      const mine = ids.filter((id) => record.runningAt(id, epochNow()).some((iv) => iv.ref === victim));
      rec.victimChildren = mine.length;
      const roundStart = epochNow();
      const stopWallMs = Date.now();
      // The victim answers its control pipe right before the SIGSTOP: its event loop ran then, so its
      // heartbeat ticker had sent every ping due, and its peers heard it no earlier than one ping
      // interval before `probeAt` (the majority's takeover wait counts from then).
      const probeAt = epochNow();
      await victim.request('clock', {}, 10_000);
      const stopAt = epochNow();
      cluster.freeze(plan.victim);
      rec.probeMs = Number((stopAt - probeAt).toFixed(2));
      await sleep(Math.max(0, stopAt + plan.freezeMs - epochNow()));
      const contAt = epochNow();
      cluster.thaw(plan.victim);
      rec.freezeMs = Math.round(contAt - stopAt);
      note(`SIGCONT ${plan.victim} after ${rec.freezeMs} ms`);
      const settledAt = await cluster.waitTruth(quiescent, opts.settleTimeout, `round ${round} quiescence`, 100);
      if (settledAt === undefined) {
        fail(
          'quiescence',
          [],
          `round ${round}: no quiescence within ${formatDuration(opts.settleTimeout)} of the SIGCONT: ${await cluster.describeTruth(ids)}`,
        );
        break;
      }
      rec.quietMs = Math.round(settledAt - contAt);
      note(`quiet ${rec.quietMs} ms after the SIGCONT`);
      await sleep(opts.quiet);
      // The members are idle now: their clocks answer fastest (a tighter error bound for the checks).
      await Promise.all(members.map((n) => cluster.calibrateClock(cluster.node(n))));
      const where = await cluster.readTruth();
      const endAt = epochNow();
      const counts = await cluster.counts(5000);
      const q = checkQuiescent({ ledger, liveSpecs: ids, where, observerRuns: new Map([...where].map(([id, on]) => [id, on.length])), counts });
      result.childrenLost += q.lost.length;
      for (const v of q.violations) fail(v.invariant, v.ids, `after round ${round}: ${v.detail}`);

      const verdict = judgeWakeRound(record, {
        judge,
        frozen: victim,
        roundStart,
        stopAt,
        contAt,
        endAt,
        ...b,
        takeoverAfterMs: b.takeoverAfterMs - (stopAt - probeAt),
        ...(opts.tolerance === undefined ? {} : { toleranceMs: opts.tolerance }),
      });
      for (const v of verdict.violations) fail(v.invariant, v.ids, `round ${round} (${plan.victim} frozen ${rec.freezeMs} ms): ${v.detail}`);
      // When the peers ran every child of the frozen node (the first peer instance of each after the SIGSTOP).
      const taken = mine.flatMap((id) => {
        const ups = (record.byId.get(id) ?? []).filter((iv) => iv.ref !== victim && iv.up >= stopAt).map((iv) => iv.up);
        return ups.length ? [Math.min(...ups)] : [];
      });
      rec.takenOver = taken.length;
      if (taken.length > 0) rec.takeoverMs = Math.round(Math.max(...taken) - stopAt);
      rec.closedOnWaking = closedOnWaking(victim, stopWallMs);
      rec.wakeStarts = verdict.wakeStarts;
      rec.wakeStartsOverPeers = verdict.wakeStartsOverPeers.length;
      const resolved = verdict.duplicates.map((d) => d.resolveMs).filter((x) => x !== undefined);
      rec.duplicates = verdict.duplicates.length;
      rec.unresolved = verdict.duplicates.length - resolved.length;
      if (resolved.length) {
        rec.resolveMaxMs = Math.round(Math.max(...resolved));
        rec.resolveMedianMs = Math.round(/** @type {number} */ (median(resolved)));
      }
      rec.allowedOverlaps = verdict.allowedOverlaps;
      if (verdict.ranOnAfterWakeMs !== undefined) rec.ranOnAfterWakeMs = Math.round(verdict.ranOnAfterWakeMs);
      if (verdict.earliestTakeoverMs !== undefined) rec.earliestTakeoverMs = Math.round(verdict.earliestTakeoverMs);
      rec.overlapsWithinError = verdict.overlapsWithinError;
      // What the freeze cost: the longest a child ran nowhere, from a stop in the round.
      rec.longestGapMs = 0;
      for (const id of ids)
        for (const [from, to] of record.gaps(id, endAt)) if (from >= stopAt) rec.longestGapMs = Math.max(rec.longestGapMs, Math.round(to - from));
      result.rounds.push(rec);
      const closes = rec.closedOnWaking.length ? rec.closedOnWaking.join('; ') : 'none';
      log(
        `wake: t=${sec()}s round ${round}: ${plan.victim} frozen ${rec.freezeMs} ms; the peers started ${rec.takenOver} of its ` +
          `${rec.victimChildren} children${rec.takeoverMs === undefined ? '' : `, the last ${rec.takeoverMs} ms after the SIGSTOP`}; ` +
          `its links closed on waking as the peer's: ${closes}; it started ${rec.wakeStarts} after the wake, ${rec.wakeStartsOverPeers} ` +
          "over a peer's instance; " +
          (judge === 'available'
            ? `duplicates ${rec.duplicates}, down to one ${rec.resolveMaxMs ?? '-'} ms after the SIGCONT at most (median ${rec.resolveMedianMs ?? '-'} ms)` +
              `${rec.unresolved ? `, ${rec.unresolved} NOT resolved` : ''}`
            : `overlaps within the frozen-node exception ${rec.allowedOverlaps}` +
              (rec.allowedOverlaps
                ? ` (its instances ran on ≤ ${rec.ranOnAfterWakeMs} ms after the SIGCONT; the peers' started ≥ ${rec.earliestTakeoverMs} ms after the SIGSTOP)`
                : '')) +
          `; longest a child ran nowhere ${rec.longestGapMs} ms; quiet ${rec.quietMs} ms after the SIGCONT, every child once` +
          (rec.overlapsWithinError ? `; ${rec.overlapsWithinError} overlaps within the clock error` : ''),
      );
    }
  } catch (err) {
    const e = /** @type {Error} */ (err);
    fail('harness', [], `the run could not go on: ${e.stack ?? e.message}\n${cluster.logTails()}`);
  } finally {
    signals.release();
    if (record.unmatched > 0) note(`${record.unmatched} downs without an up in the child logs`);
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
 * The figure line and, for a failed run, the evidence.
 * @param {WakeResult} result
 * @param {(line: string) => void} [log]
 */
export function report(result, log = (line) => process.stdout.write(`${line}\n`)) {
  const rounds = result.rounds;
  /** @param {Array<number | undefined>} xs */
  const nums = (xs) => xs.filter(/** @returns {x is number} */ (x) => x !== undefined);
  const resolveMax = nums(rounds.map((r) => r.resolveMaxMs));
  const resolveMedian = nums(rounds.map((r) => r.resolveMedianMs));
  const ranOn = nums(rounds.map((r) => r.ranOnAfterWakeMs));
  const sum = (/** @type {(r: Round) => number | undefined} */ f) => rounds.reduce((a, r) => a + (f(r) ?? 0), 0);
  log(
    `wake: child-log clocks calibrated to ±${fig(result.clock.maxErrorMs * 1000, 0)} µs; ${rounds.length} rounds in ` +
      `${fig(Number(result.elapsedMs) / 1000, 0)} s; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} on ${os.cpus().length} cores`,
  );
  if (result.violations.length > 0) {
    log('');
    log(`wake: FAILED — ${result.violations.length} violation(s):`);
    for (const v of result.violations) log(`  [${v.invariant}] ${v.at} ${v.detail}`);
    log('  history:');
    for (const h of result.history) log(`    ${h}`);
    log(`  node logs, child intervals (child-intervals.json) and this history kept in ${result.logs}`);
    log('');
  }
  log(
    `wake: seed ${result.seed}, ${result.nodes} nodes, netsplit ${result.netsplit}` +
      `${result.judge === result.netsplit ? '' : ` judged as ${result.judge} (control run)`}, ` +
      `${result.children} children, ${rounds.length} rounds (freezes ${rounds.map((r) => fig(r.freezeMs / 1000, 1)).join(', ')} s), ` +
      `started by the woken node over a peer's instance ${sum((r) => r.wakeStartsOverPeers)} (of ${sum((r) => r.wakeStarts)} it started), ` +
      (result.judge === 'available'
        ? `duplicates ${sum((r) => r.duplicates)}, unresolved ${sum((r) => r.unresolved)}, ` +
          `down to one instance ${resolveMax.length ? Math.max(...resolveMax) : '-'} ms ` +
          `after the SIGCONT at most (round medians ${resolveMedian.join(', ') || '-'} ms; bound ${result.bounds.resolveBoundMs} ms)`
        : `overlaps within the frozen-node exception ${sum((r) => r.allowedOverlaps)}` +
          (ranOn.length ? ` (the woken node's instances ran on ≤ ${Math.max(...ranOn)} ms after the SIGCONT)` : '')) +
      `, longest a child ran nowhere ${Math.max(0, ...nums(rounds.map((r) => r.longestGapMs)))} ms` +
      `, children lost ${result.childrenLost}, violations ${result.violations.length}`,
  );
}

async function main() {
  const opts = commandLine('wake', FLAGS);
  if (!opts) return;
  const timing = TIMING_PRESETS[/** @type {Preset} */ (opts.preset)];
  if (opts.freezeMax < opts.freezeMin) {
    process.stderr.write('wake: --freeze-max must not be below --freeze-min\n');
    process.exit(2);
  }
  if (opts.plan) {
    if (opts.seed === undefined) {
      process.stderr.write('wake: --plan needs --seed\n');
      process.exit(2);
    }
    const rng = new SeededRandom(opts.seed);
    const freezes = opts.freezes ? parseFreezes(opts.freezes.split(',')) : undefined;
    for (let round = 1; round <= opts.plan; round++) {
      const p = planRound(rng, names(opts.nodes), timing.heartbeatTimeoutMs, { freezeMin: opts.freezeMin, freezeMax: opts.freezeMax, freezes }, round);
      process.stdout.write(`round ${round}: SIGSTOP ${p.victim} for ${p.freezeMs} ms\n`);
    }
    return;
  }
  opts.seed ??= 1 + Math.floor(Math.random() * 2 ** 31);
  process.on('exit', killTrackedNow);
  const result = await runWake(opts);
  finish(opts, result, report);
}

runIfMain(import.meta.url, 'wake', main);
