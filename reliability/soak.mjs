#!/usr/bin/env node
/**
 * Soak: `node reliability/soak.mjs [--duration 10m] [--nodes 3] [--rate 20]`.
 *
 * Runs N `pogo node` processes (loopback, status endpoints on) with a base
 * of children and an observer in this process, then for the duration:
 *   - churn: `--rate` operations per second, sent as operator commands to
 *     random members: start a child with a fresh id, stop a live one, move
 *     (pin) a live one to a random member — about 40/40/20, steered so the
 *     number of live children stays near `--children`;
 *   - node restarts: every `--restart-every`, one of the members after the
 *     first `--stable` ones is restarted (by turns: SIGTERM and a graceful
 *     restart, or SIGKILL and a restart 1 s later);
 *   - samples every `--sample`: each member's heap and resident memory
 *     (control channel `stats`: process.memoryUsage()), and the metadata it
 *     holds (status endpoint `GET /status`): the registers of its
 *     desired-state store by kind (live children, tombstones of terminated
 *     ones — collected or not yet —, flags, roster), the process groups of
 *     the supervisor scope (run:, fail:), members, local child records; and
 *     its audit ring (`audit` command).
 * Then the churn stops, the cluster settles, and the script waits until
 * the metadata of terminated children is reclaimed: no tombstone left, and
 * exactly one child register and one run: group per live child (bounded:
 * the tombstone TTL plus three anti-entropy passes plus a margin: a
 * tombstone is marked collected in one pass once every member holds it, and
 * dropped in a later one).
 *
 * Figures: the slope of heap and RSS (MB per minute, least squares over the
 * second half of the churn, after warm-up) of the members that were never
 * restarted (`--stable`; restarted ones start from scratch each time); a
 * slope above 0.5 MB/min (heap) or 1 MB/min (RSS) in the second half that
 * is still there in the last quarter is flagged as growth that does not
 * flatten. Metadata: start → end (and the peak during the churn).
 *
 * Tombstones are reclaimed only after `tombstoneTtlMs` (default 1 h), by
 * the anti-entropy pass (default every 30 s) — so this script gives the
 * members a short TTL (`--tombstone-ttl`, default 60 s) to see reclamation
 * within the run, and prints what the default TTL implies at this churn.
 *
 * Exit code 0 when the metadata was reclaimed and the end state holds the
 * invariants of DESIGN §3.5 (every live child runs once, ...), 1 otherwise;
 * memory slopes are reported, never a failure. Every process is stopped by
 * pid on exit, including on SIGINT.
 */
import os from 'node:os';
import { killTrackedNow, sleep, until } from '../bench/lib/harness.mjs';
import { SeededRandom } from '../core/dist/testing.js';
import { RealCluster, closeOnSignal } from './lib/cluster.mjs';
import { Ledger, checkQuiescent, observerRuns } from './lib/invariants.mjs';
import { commandLine, finish, fig, formatDuration, slope, runIfMain } from './lib/options.mjs';

/** @satisfies {import('./lib/types.js').FlagSpec} */
export const FLAGS = {
  duration: { type: 'duration', default: 600_000, help: 'how long the churn goes on' },
  nodes: { type: 'int', min: 2, default: 3, help: 'members' },
  children: { type: 'int', min: 1, default: 200, help: 'live children to keep about (started first)' },
  rate: { type: 'number', default: 20, help: 'churn operations per second (start, stop, move)' },
  'restart-every': { type: 'duration', default: 60_000, help: 'restart a member this often' },
  stable: { type: 'int', min: 1, default: undefined, help: 'the first N members are never restarted; their memory is measured (default: nodes - 1)' },
  sample: { type: 'duration', default: 5000, help: 'sampling interval of memory and metadata' },
  'tombstone-ttl': {
    type: 'duration',
    default: 300_000,
    help: "members' tombstoneTtlMs (the node default is 1h): how long a terminated child's tombstone is kept at least; it goes once every member holds it",
  },
  'anti-entropy': { type: 'duration', default: 30_000, help: "members' antiEntropyIntervalMs (reclamation runs in that pass; node default 30s)" },
  'max-inflight': { type: 'int', min: 1, default: 50, help: 'operations in flight at most (more are skipped and counted)' },
  preset: { type: 'string', choices: ['local', 'lan', 'wan'], default: 'lan', help: 'timing preset of the members' },
  seed: { type: 'int', min: 1, default: undefined, help: 'seed of the operation mix (default: random, printed)' },
  json: { type: 'string', default: undefined, help: 'also write the result (with every sample) as JSON to this file' },
  keep: { type: 'bool', default: false, help: 'keep the node logs' },
};

const HEAP_LIMIT = 0.5;
const RSS_LIMIT = 1;
/** Below this many minutes of churn the slopes are printed without a verdict. */
const MIN_MINUTES = 4;
const MB = 1024 * 1024;
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Metadata a member holds, from its /status: registers of its store by kind
 * (`registers`: live children; `tombstones`: terminated ones, collected or
 * not; flags; roster) and its groups of the supervisor scope (run:, fail:),
 * members, local records.
 */
/**
 * @param {import('../core/dist/index.js').NodeStatus} status
 */
export function metadataOf(status) {
  const store = status.supervisor.store;
  const out = {
    groups: 0,
    registers: store.children,
    runs: 0,
    fails: 0,
    flags: store.flags,
    roster: store.roster,
    other: 0,
    tombstones: store.tombstones + store.collected,
    members: status.members.length,
    localRecords: status.supervisor.local.specs,
  };
  for (const group of Object.keys(status.groups?.pogo ?? {})) {
    out.groups++;
    if (group.startsWith('run:')) out.runs++;
    else if (group.startsWith('fail:')) out.fails++;
    else out.other++;
  }
  return out;
}

/**
 * The observer's view of the same (its replica of the store, and every member's groups).
 * @param {import('../core/dist/index.js').PogoNode} observer
 */
function observerMetadata(observer) {
  const store = observer.supervisor.store();
  const out = {
    groups: 0,
    registers: store.children,
    runs: 0,
    fails: 0,
    flags: store.flags,
    roster: store.roster,
    tombstones: store.tombstones + store.collected,
  };
  for (const group of observer.groups.whichGroups('pogo')) {
    out.groups++;
    if (group.startsWith('run:')) out.runs++;
    else if (group.startsWith('fail:')) out.fails++;
  }
  return out;
}

/**
 * What a member reported at one sample (an `error` instead of the figures when it could not be read).
 * @typedef {{ incarnation: string, error?: string } & Partial<ReturnType<typeof metadataOf> & {
 *   heapMB: number, rssMB: number, maxStallMs: number, audit: number | undefined }>} NodeSample
 */
/**
 * @typedef {{ t: number, phase: string, live: number, observer: ReturnType<typeof observerMetadata>, nodes: Record<string, NodeSample> }} Sample
 */
/**
 * Heap and RSS of one member over the churn (MB, slopes in MB/min); `growing` undefined for a run too short to judge.
 * @typedef {{ heapSlope: number | undefined, rssSlope: number | undefined, heapSlopeLastQuarter: number | undefined,
 *   rssSlopeLastQuarter: number | undefined, heapStart: number | undefined, heapEnd: number | undefined,
 *   rssStart: number | undefined, rssEnd: number | undefined, growing?: boolean | undefined }} MemoryFigures
 */
/**
 * A soak run's result (written with --json); the figures after `logs` are filled in as the run gets to them.
 * @typedef {object} SoakResult
 * @property {number | undefined} seed
 * @property {number} nodes
 * @property {string[]} stable
 * @property {number} children
 * @property {number} durationMs
 * @property {number} rate
 * @property {number} tombstoneTtlMs
 * @property {number} antiEntropyIntervalMs
 * @property {{ start: number, stop: number, move: number, failed: number, skipped: number, stopsOfTerminated: number, errors: Record<string, number> }} ops
 * @property {Array<{ t: number, node: string, how: string, incarnation: string, tookMs: number }>} restarts
 * @property {Sample[]} samples
 * @property {import('./lib/invariants.mjs').Violation[]} violations
 * @property {string} logs
 * @property {number} [reclaimedAfterMs]
 * @property {{ resurrected: number, transient: number, transientMaxAfterMs: number | undefined, ids: string[] }} [terminatedRanAgain]
 * @property {Record<string, MemoryFigures>} [memory]
 * @property {number} [heapSlope]
 * @property {number} [rssSlope]
 * @property {boolean | undefined} [flat]
 * @property {Record<string, number | undefined>} [metadata]
 * @property {number | undefined} [kbPerTombstone]
 * @property {number} [terminationsPerSecond]
 * @property {number} [minutes]
 * @property {number} [elapsedMs]
 */

/**
 * @param {import('./lib/types.js').Flags<typeof FLAGS>} opts
 * @param {(line: string) => void} [log]
 * @returns {Promise<SoakResult>}
 */
export async function runSoak(opts, log = (line) => process.stdout.write(`${line}\n`)) {
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`);
  const stable = names.slice(0, Math.min(opts.stable ?? opts.nodes - 1, opts.nodes));
  const restartable = names.filter((n) => !stable.includes(n));
  const rng = new SeededRandom(/** @type {number} */ (opts.seed));
  const flags = ['--tombstone-ttl-ms', String(opts.tombstoneTtl), '--anti-entropy-interval-ms', String(opts.antiEntropy)];
  const cluster = new RealCluster({ names, preset: /** @type {'local' | 'lan' | 'wan'} */ (opts.preset), flags, status: true, gc: true });
  const ledger = new Ledger("its terminate's reply");
  cluster.onChildEvents((node, events) => ledger.noteUps(node.name, events));
  /** @type {SoakResult} */
  const result = {
    seed: opts.seed,
    nodes: opts.nodes,
    stable,
    children: opts.children,
    durationMs: opts.duration,
    rate: opts.rate,
    tombstoneTtlMs: opts.tombstoneTtl,
    antiEntropyIntervalMs: opts.antiEntropy,
    ops: { start: 0, stop: 0, move: 0, failed: 0, skipped: 0, stopsOfTerminated: 0, errors: {} },
    restarts: [],
    samples: [],
    violations: [],
    logs: cluster.dir,
  };
  const began = performance.now();
  let churnStart = began;
  const minutes = () => (performance.now() - churnStart) / 60_000;
  const signals = closeOnSignal('soak', cluster, log);

  /**
   * @param {string} phase
   * @returns {Promise<Sample>}
   */
  const sampleOnce = async (phase) => {
    const at = minutes();
    await cluster.readTruth(); // also empties the nodes' child logs, so the control hook holds nothing
    /** @type {Record<string, NodeSample>} */
    const nodes = {};
    await Promise.all(
      cluster.reachable().map(async (name) => {
        const node = cluster.node(name);
        try {
          await cluster.collectGarbage(name);
          const [stats, status, audit] = await Promise.all([
            node.request('stats', {}, 20_000),
            cluster.fetchJson(name, '/status', 20_000),
            cluster.command(name, 'audit', {}, 20_000),
          ]);
          nodes[name] = {
            incarnation: node.incarnation,
            heapMB: stats.memory.heapUsed / MB,
            rssMB: stats.memory.rss / MB,
            maxStallMs: stats.maxStallMs,
            audit: audit.ok ? audit.result.length : undefined,
            ...metadataOf(/** @type {import('../core/dist/index.js').NodeStatus} */ (status)),
          };
        } catch (err) {
          nodes[name] = { incarnation: node.incarnation, error: /** @type {Error} */ (err).message };
        }
      }),
    );
    const s = { t: Number(at.toFixed(3)), phase, live: cluster.observer.supervisor.countChildren().specs, observer: observerMetadata(cluster.observer), nodes };
    result.samples.push(s);
    return s;
  };

  // ---- churn ---------------------------------------------------------------------------
  /** @type {Set<string>} */
  const busy = new Set();
  /**
   * Terminated children that were live specs again (stopped a second time).
   * @type {Set<string>}
   */
  const resurrected = new Set();
  /** @type {Set<string>} */
  const restarting = new Set();
  let inflight = 0;
  let nextId = 0;
  /** @param {import('../core/dist/index.js').CommandOutcome} reply */
  const tally = (reply) => {
    if (reply.ok) return;
    result.ops.failed++;
    const code = reply.error?.code ?? 'error';
    result.ops.errors[code] = (result.ops.errors[code] ?? 0) + 1;
  };
  const oneOp = async () => {
    const targets = cluster.commandable().filter((n) => !restarting.has(n));
    if (targets.length === 0) return;
    const target = targets[rng.int(targets.length)];
    // Steer by what the cluster runs (its live specs), so a child that comes back is stopped again.
    const live = cluster.observer.supervisor
      .whichChildren('global')
      .map((c) => c.id)
      .filter((id) => !busy.has(id));
    const r = rng.next();
    const kind = live.length < opts.children * 0.9 ? 'start' : live.length > opts.children * 1.1 ? 'stop' : r < 0.4 ? 'start' : r < 0.8 ? 'stop' : 'move';
    if (kind === 'start' || live.length === 0) {
      const id = `s${nextId++}`;
      result.ops.start++;
      ledger.startRequested(id, target);
      const reply = await cluster.command(target, 'start', { spec: { id, start: { worker: 'idle' } } }, 35_000);
      ledger.startDone(id, reply);
      tally(reply);
      return;
    }
    const id = live[rng.int(live.length)];
    busy.add(id);
    try {
      if (kind === 'stop') {
        result.ops.stop++;
        if (ledger.ids.get(id)?.state === 'terminated') {
          result.ops.stopsOfTerminated++;
          resurrected.add(id);
        }
        ledger.stopRequested(id, target);
        const reply = await cluster.command(target, 'stop', { id }, 35_000);
        const at = epochNow();
        ledger.stopDone(id, reply, at);
        // No partitions here: once a terminate has resolved, every member has the tombstone; the child must never start again.
        if (reply.ok) ledger.sealOne(id, at);
        tally(reply);
      } else {
        result.ops.move++;
        const to = names[rng.int(names.length)];
        tally(await cluster.command(target, 'move', { id, node: to }, 35_000));
      }
    } finally {
      busy.delete(id);
    }
  };

  try {
    log(
      `soak: seed ${opts.seed}, ${opts.nodes} nodes (never restarted: ${stable.join(', ')}),` +
        ` ${opts.children} children, ${opts.rate} ops/s for ${formatDuration(opts.duration)},` +
        ` a restart every ${formatDuration(opts.restartEvery)}, tombstone TTL ` +
        `${formatDuration(opts.tombstoneTtl)}, anti-entropy every ${formatDuration(opts.antiEntropy)}`,
    );
    await cluster.startAll();
    await cluster.observe();
    ledger.addLive(await cluster.startSpread(names, opts.children, 'b'));
    await cluster.waitSettled(120_000, `${opts.children} children running once`);
    churnStart = performance.now();
    const baseline = await sampleOnce('baseline');
    log(
      `soak: baseline: ${Object.entries(baseline.nodes)
        .map(([n, s]) => `${n} heap ${fig(s.heapMB, 1)} MB rss ${fig(s.rssMB, 1)} MB groups ${s.groups}`)
        .join('; ')}`,
    );

    const end = churnStart + opts.duration;
    const interval = 1000 / opts.rate;
    let nextOp = performance.now();
    let nextSample = performance.now() + opts.sample;
    let nextRestart = performance.now() + opts.restartEvery;
    let nextLog = performance.now() + 60_000;
    let restartCount = 0;
    /** @type {Promise<void> | undefined} */
    let restartJob;
    /** @type {Promise<unknown> | undefined} */
    let sampleJob;
    while (performance.now() < end && !signals.interrupted()) {
      const now = performance.now();
      if (now >= nextOp) {
        nextOp += interval;
        if (nextOp < now - 1000) nextOp = now; // far behind (a stall): do not burst
        if (inflight >= opts.maxInflight) result.ops.skipped++;
        else {
          inflight++;
          void oneOp()
            .catch((err) => {
              result.ops.failed++;
              if (result.ops.failed < 5) log(`soak: operation failed: ${err.message}`);
            })
            .finally(() => inflight--);
        }
      }
      if (now >= nextRestart && !restartJob && restartable.length > 0) {
        nextRestart += opts.restartEvery;
        const victim = /** @type {string} */ (restartable[restartCount % restartable.length]);
        const graceful = restartCount % 2 === 0;
        restartCount++;
        restarting.add(victim);
        restartJob = (async () => {
          const t0 = performance.now();
          if (graceful) await cluster.stopGracefully(victim);
          else {
            await cluster.kill(victim);
            await sleep(1000);
          }
          const node = await cluster.start(victim);
          restarting.delete(victim);
          result.restarts.push({
            t: Number(minutes().toFixed(2)),
            node: victim,
            how: graceful ? 'SIGTERM' : 'SIGKILL',
            incarnation: node.incarnation,
            tookMs: Math.round(performance.now() - t0),
          });
        })()
          .catch((err) => log(`soak: restart of ${victim} failed: ${err.message}`))
          .finally(() => {
            restartJob = undefined;
          });
      }
      if (now >= nextSample && !sampleJob) {
        nextSample += opts.sample;
        sampleJob = sampleOnce('churn')
          .catch((err) => log(`soak: sample failed: ${err.message}`))
          .finally(() => {
            sampleJob = undefined;
          });
      }
      if (now >= nextLog) {
        nextLog += 60_000;
        const s = /** @type {Sample} */ (result.samples.at(-1));
        log(
          `soak: ${fig(minutes(), 1)} min, ${result.ops.start + result.ops.stop + result.ops.move} ops, ${s.live} live; ${Object.entries(s.nodes)
            .map(([n, x]) => `${n} heap ${fig(x.heapMB, 1)} rss ${fig(x.rssMB, 1)} groups ${x.groups} tombstones ${x.tombstones} audit ${x.audit}`)
            .join('; ')}`,
        );
      }
      await sleep(Math.max(1, Math.min(nextOp, nextSample) - performance.now()));
    }
    const churnMinutes = minutes();
    await until(() => inflight === 0 && !restartJob && !sampleJob, 60_000, 'operations in flight to finish', 50);
    const cameBack = [...ledger.cameBack];
    log(
      `soak: churn over after ${fig(churnMinutes, 1)} min: ${result.ops.start} starts, ${result.ops.stop} stops, ${result.ops.move} moves (` +
        `${result.ops.failed} failed: ${JSON.stringify(result.ops.errors)}; ${result.ops.skipped} skipped), ${result.restarts.length} restarts`,
    );
    const peak = await sampleOnce('end of churn');
    await cluster.waitSettled(120_000, 'quiescence after the churn');

    // ---- reclamation -------------------------------------------------------------------
    const churnEnded = performance.now();
    const reclaimBound = opts.tombstoneTtl + 3 * opts.antiEntropy + 60_000;
    /** @type {Sample | undefined} */
    let last;
    /** @param {Sample} s */
    const reclaimed = (s) => {
      const all = [...Object.values(s.nodes), s.observer];
      return all.every((x) => !('error' in x && x.error) && x.tombstones === 0 && x.registers === s.live && x.runs === s.live && x.fails === 0);
    };
    try {
      await until(
        async () => {
          last = await sampleOnce('reclaim');
          return reclaimed(last);
        },
        reclaimBound,
        'reclamation',
        2000,
      );
      result.reclaimedAfterMs = Math.round(performance.now() - churnEnded);
    } catch {
      result.violations.push({
        invariant: 'reclaimed',
        ids: [],
        detail: `metadata of terminated children not reclaimed within ${formatDuration(reclaimBound)} after the churn: ${JSON.stringify(last)}`,
      });
    }

    // ---- invariants at the end -----------------------------------------------------------
    const where = await cluster.readTruth();
    const liveSpecs = cluster.observer.supervisor.whichChildren('global').map((c) => c.id);
    const counts = await cluster.counts();
    const check = checkQuiescent({ ledger, liveSpecs, where, observerRuns: observerRuns(cluster.tracker), counts });
    result.violations.push(...check.violations);
    // Terminated children that ran again: lasting (the spec was live again) or transient (an instance
    // that was starting elsewhere as the terminate resolved, stopped a moment later).
    const liveNow = new Set(liveSpecs);
    for (const b of cameBack) if (liveNow.has(b.id) || where.has(b.id)) resurrected.add(b.id);
    const transient = cameBack.filter((b) => !resurrected.has(b.id));
    result.terminatedRanAgain = {
      resurrected: resurrected.size,
      transient: new Set(transient.map((b) => b.id)).size,
      transientMaxAfterMs: transient.length ? Math.max(...transient.map((b) => b.afterMs)) : undefined,
      ids: [...new Set(cameBack.map((b) => b.id)), ...resurrected].filter((id, i, a) => a.indexOf(id) === i).slice(0, 50),
    };

    // ---- figures --------------------------------------------------------------------------
    const churnSamples = result.samples.filter((s) => s.phase === 'churn' || s.phase === 'baseline');
    const half = churnMinutes / 2;
    const quarter = (churnMinutes * 3) / 4;
    /**
     * @param {string} name
     * @param {'heapMB' | 'rssMB'} key
     * @param {number} fromT
     * @returns {Array<[number, number]>}
     */
    const series = (name, key, fromT) =>
      churnSamples.filter((s) => s.t >= fromT && s.nodes[name]?.[key] !== undefined).map((s) => [s.t, /** @type {number} */ (s.nodes[name]?.[key])]);
    result.memory = Object.fromEntries(
      stable.map((name) => {
        /** @type {MemoryFigures} */
        const m = {
          heapSlope: slope(series(name, 'heapMB', half)),
          rssSlope: slope(series(name, 'rssMB', half)),
          heapSlopeLastQuarter: slope(series(name, 'heapMB', quarter)),
          rssSlopeLastQuarter: slope(series(name, 'rssMB', quarter)),
          heapStart: baseline.nodes[name]?.heapMB,
          heapEnd: peak.nodes[name]?.heapMB,
          rssStart: baseline.nodes[name]?.rssMB,
          rssEnd: peak.nodes[name]?.rssMB,
        };
        // Too short a run has no steady second half to judge (warm-up dominates): no verdict.
        m.growing =
          churnMinutes < MIN_MINUTES
            ? undefined
            : (Number(m.heapSlope) > HEAP_LIMIT && Number(m.heapSlopeLastQuarter) > HEAP_LIMIT) ||
              (Number(m.rssSlope) > RSS_LIMIT && Number(m.rssSlopeLastQuarter) > RSS_LIMIT);
        return [name, m];
      }),
    );
    const memory = result.memory;
    /** @param {'heapSlope' | 'rssSlope'} key */
    const worst = (key) => Math.max(...Object.values(memory).map((m) => m[key] ?? -Infinity));
    result.heapSlope = worst('heapSlope');
    result.rssSlope = worst('rssSlope');
    result.flat = churnMinutes < MIN_MINUTES ? undefined : !Object.values(memory).some((m) => m.growing);
    /** @typedef {'groups' | 'tombstones' | 'audit' | 'members'} Counted */
    /** @param {Counted} key */
    const peakOf = (key) => Math.max(...result.samples.map((s) => Math.max(...Object.values(s.nodes).map((x) => x[key] ?? 0))));
    const final = /** @type {Sample} */ (result.samples.at(-1));
    /**
     * @param {Sample} s
     * @param {Counted} key
     */
    const ofNodes = (s, key) => Math.max(...Object.values(s.nodes).map((x) => x[key] ?? 0));
    result.metadata = {
      groupsStart: ofNodes(baseline, 'groups'),
      groupsEnd: ofNodes(final, 'groups'),
      groupsPeak: peakOf('groups'),
      tombstonesStart: ofNodes(baseline, 'tombstones'),
      tombstonesEnd: ofNodes(final, 'tombstones'),
      tombstonesPeak: peakOf('tombstones'),
      auditStart: ofNodes(baseline, 'audit'),
      auditEnd: ofNodes(final, 'audit'),
      membersStart: ofNodes(baseline, 'members'),
      membersEnd: ofNodes(final, 'members'),
      liveStart: baseline.live,
      liveEnd: final.live,
    };
    // Heap per tombstone: what each member's heap lost (after a full GC) when the tombstones it held at the end of the churn were reclaimed.
    const perTombstone = stable
      .map((n) => {
        const p = peak.nodes[n];
        return p && Number(p.tombstones) > 0 ? ((Number(p.heapMB) - Number(final.nodes[n]?.heapMB)) * 1024) / Number(p.tombstones) : undefined;
      })
      .filter((x) => x !== undefined);
    result.kbPerTombstone = perTombstone.length ? perTombstone.reduce((a, b) => a + b, 0) / perTombstone.length : undefined;
    const stops = result.ops.stop;
    result.terminationsPerSecond = stops / (churnMinutes * 60);
    result.minutes = churnMinutes;
  } catch (err) {
    const e = /** @type {Error} */ (err);
    result.violations.push({ invariant: 'harness', ids: [], detail: `the run could not go on: ${e.stack ?? e.message}\n${cluster.logTails()}` });
  } finally {
    signals.release();
    result.elapsedMs = Math.round(performance.now() - began);
    if (!signals.interrupted()) await cluster.close({ keep: opts.keep || result.violations.length > 0 });
  }
  return result;
}

/**
 * @param {Awaited<ReturnType<typeof runSoak>>} result
 * @param {(line: string) => void} [log]
 */
export function report(result, log = (line) => process.stdout.write(`${line}\n`)) {
  const md = result.metadata;
  if (result.memory) {
    for (const [name, m] of Object.entries(result.memory)) {
      log(
        `soak: ${name} (never restarted): heap ${fig(m.heapStart, 1)} → ${fig(m.heapEnd, 1)} MB, slope ` +
          `${fig(m.heapSlope, 3)} MB/min (last quarter ${fig(m.heapSlopeLastQuarter, 3)}); RSS ${fig(m.rssStart, 1)} → ` +
          `${fig(m.rssEnd, 1)} MB, slope ${fig(m.rssSlope, 3)} MB/min (last quarter ${fig(m.rssSlopeLastQuarter, 3)})` +
          `${m.growing ? '  GROWING: does not flatten' : m.growing === undefined ? '  (run too short for a verdict)' : ''}`,
      );
    }
  }
  if (md) {
    log(
      `soak: metadata per member: groups ${md.groupsStart} → peak ${md.groupsPeak} → ${md.groupsEnd},` +
        ` tombstones ${md.tombstonesStart} → peak ${md.tombstonesPeak} → ${md.tombstonesEnd} (reclaimed ` +
        `${result.reclaimedAfterMs !== undefined ? `${fig(result.reclaimedAfterMs / 1000, 0)} s after the churn` : 'NOT within the bound'}), audit ring ` +
        `${md.auditStart} → ${md.auditEnd} entries (capped at 1000), members ` +
        `${md.membersStart} → ${md.membersEnd}, live children ${md.liveStart} → ${md.liveEnd}`,
    );
    const perTtl = Number(result.terminationsPerSecond) * (3600 + 30);
    const heap =
      result.kbPerTombstone !== undefined && result.kbPerTombstone > 0
        ? `, ≈ ${fig((perTtl * result.kbPerTombstone) / 1024, 0)} MB of heap at the ${fig(result.kbPerTombstone, 1)} KB per tombstone measured here`
        : '';
    log(
      `soak: the default tombstoneTtlMs (1 h) would hold about ${Math.round(perTtl).toLocaleString('en-US')} ` +
        `tombstones per member at this churn (${fig(result.terminationsPerSecond, 1)} ` +
        `terminations/s × (1 h + one 30 s anti-entropy pass))${heap} before the first is reclaimed; this run used ${formatDuration(result.tombstoneTtlMs)}`,
    );
  }
  const again = result.terminatedRanAgain;
  if (again && again.resurrected > 0)
    log(
      `soak: ${again.resurrected} terminated children came back as live specs (${result.ops.stopsOfTerminated} stops were ` +
        `for children already terminated once): their tombstones expired too early, see reliability/repro-tombstone-ttl.mjs`,
    );
  if (again && again.transient > 0)
    log(
      `soak: ${again.transient} terminated children ran again for a moment after terminateChild had resolved (up to ${fig(again.transientMaxAfterMs, 1)} ` +
        `ms after): an instance starting elsewhere as the terminate resolved, see reliability/repro-terminate-during-move.mjs`,
    );
  log(
    `soak: load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores`,
  );
  if (result.violations.length > 0) {
    log('soak: FAILED:');
    for (const v of result.violations) log(`  [${v.invariant}] ${v.detail}${v.ids.length ? ` ids: ${v.ids.slice(0, 20).join(', ')}` : ''}`);
    log(`  node logs kept in ${result.logs}`);
  }
  const ops = result.ops.start + result.ops.stop + result.ops.move;
  log(
    `soak: ${fig(result.minutes ?? 0, 1)} min, ${ops} ops, heap slope ${fig(result.heapSlope, 3)} MB/min, RSS ` +
      `slope ${fig(result.rssSlope, 3)} MB/min${result.flat === false ? ' (GROWING)' : result.flat ? ' (flat)' : ''},` +
      ` supervisor groups start→end ${md?.groupsStart ?? '-'}→${md?.groupsEnd ?? '-'}, tombstones ${md?.tombstonesStart ?? '-'}→${md?.tombstonesEnd ?? '-'}`,
  );
}

async function main() {
  const opts = commandLine('soak', FLAGS);
  if (!opts) return;
  opts.seed ??= 1 + Math.floor(Math.random() * 2 ** 31);
  process.on('exit', killTrackedNow);
  const result = await runSoak(opts);
  finish(opts, result, report);
}

runIfMain(import.meta.url, 'soak', main);
