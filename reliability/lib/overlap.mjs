/**
 * Did any child ever run on two nodes at the same moment? Replayed from the
 * nodes' own child logs (bench/fixtures/control-hook.mjs), not from what the
 * cluster's process groups say.
 *
 * Every node process records the ups and downs of its local children with
 * its own `performance.timeOrigin + performance.now()`; RealCluster converts
 * them to the script's time base (with `calibrate`, by an offset measured
 * per process over round trips, its error bound kept: see calibrateClock in
 * cluster.mjs). `ChildRecord` turns them into intervals, one per instance:
 * { id, node, proc, up, down } — `proc` names the process (`n2#3`: the third
 * process started as n2), `down` is undefined while the instance runs; the
 * times are converted when read, so a later, better calibration counts. A
 * process that exits (SIGKILL included: its in-process workers die with it)
 * closes its open intervals at the moment the script saw it exit, which is
 * never earlier than the truth.
 *
 * `overlaps()` compares every pair of intervals of one id: two instances
 * overlap from the later up to the earlier down. Pairs on one process count
 * too (a node running a child twice is as wrong as two nodes). The caller
 * gives a tolerance: overlaps no longer than it are reported apart, as
 * within the error of the time-base conversion, which `clockError()`
 * measures on fresh processes started the same way as the nodes.
 */
/** @typedef {import('../../bench/lib/cluster.mjs').BenchNode} BenchNode */
/** @typedef {import('../../bench/lib/types.js').ChildLogEntry} ChildLogEntry */
/**
 * Two instances of one child that ran at the same time (ChildRecord.overlaps).
 * @typedef {{ id: string, a: Instance, b: Instance, from: number, to: number, ms: number, boundMs: number }} Overlap
 */

/** @returns {number} */
export const epochNow = () => performance.timeOrigin + performance.now();

/**
 * One instance of a child on one node process. Its times are kept as the
 * node recorded them and converted when read, with the node's current
 * offset (RealCluster refines it as it samples the node's clock).
 */
class Instance {
  /**
   * @param {string} id
   * @param {BenchNode} ref
   * @param {string} proc
   * @param {number} rawUp
   */
  constructor(id, ref, proc, rawUp) {
    this.id = id;
    this.node = ref.name;
    this.proc = proc;
    this.ref = ref;
    this.rawUp = rawUp;
    /** @type {number | undefined} */
    this.rawDown = undefined;
    /**
     * When the script saw the process exit, in the script's time base (a process that dies ends its instances).
     * @type {number | undefined}
     */
    this.exitAt = undefined;
  }

  get up() {
    return this.rawUp - (this.ref.clockOffset ?? 0);
  }

  /**
   * undefined while it runs.
   * @returns {number | undefined}
   */
  get down() {
    return this.rawDown !== undefined ? this.rawDown - (this.ref.clockOffset ?? 0) : this.exitAt;
  }

  toJSON() {
    return {
      id: this.id,
      node: this.node,
      proc: this.proc,
      up: this.up,
      down: this.down,
      endedBy: this.rawDown !== undefined ? 'down' : this.exitAt !== undefined ? 'exit' : undefined,
    };
  }
}

export class ChildRecord {
  /**
   * id → instances, in the order their ups were recorded.
   * @type {Map<string, Instance[]>}
   */
  byId = new Map();
  /**
   * `proc id` → the instances of that process still open (oldest first).
   * @type {Map<string, Instance[]>}
   */
  openOf = new Map();
  /**
   * BenchNode → its process label.
   * @type {Map<BenchNode, string>}
   */
  procs = new Map();
  /** @type {Map<string, number>} */
  starts = new Map();
  /** Downs with no matching up on their process (should stay 0; counted for the record). */
  unmatched = 0;

  /**
   * The label of a node process: `name#k`, the k-th process started under that name.
   * @param {BenchNode} node
   * @returns {string}
   */
  proc(node) {
    let label = this.procs.get(node);
    if (label === undefined) {
      const k = (this.starts.get(node.name) ?? 0) + 1;
      this.starts.set(node.name, k);
      label = `${node.name}#${k}`;
      this.procs.set(node, label);
    }
    return label;
  }

  /** Child-log events of one node process as it recorded them: [id, 'up' | 'down', t in its own clock] (RealCluster's third listener argument).
   * @param {BenchNode} node
   * @param {readonly ChildLogEntry[]} raw
   */
  add(node, raw) {
    const proc = this.proc(node);
    for (const [id, kind, t] of raw) {
      const key = `${proc} ${id}`;
      if (kind === 'up') {
        const iv = new Instance(id, node, proc, t);
        let list = this.byId.get(id);
        if (!list) this.byId.set(id, (list = []));
        list.push(iv);
        const open = this.openOf.get(key) ?? [];
        open.push(iv);
        this.openOf.set(key, open);
      } else {
        const open = this.openOf.get(key);
        const iv = open?.shift();
        if (!open || !iv) {
          this.unmatched++;
          continue;
        }
        iv.rawDown = t;
        if (open.length === 0) this.openOf.delete(key);
      }
    }
  }

  /**
   * The process exited at `at`: whatever it still ran stopped then.
   * @param {BenchNode} node
   * @param {number} at
   */
  exited(node, at) {
    const proc = this.proc(node);
    for (const [key, open] of [...this.openOf]) {
      if (!key.startsWith(`${proc} `)) continue;
      for (const iv of open) iv.exitAt = at;
      this.openOf.delete(key);
    }
  }

  ids() {
    return [...this.byId.keys()];
  }

  /**
   * Instances of `id` running at `t`.
   * @param {string} id
   * @param {number} t
   */
  runningAt(id, t) {
    return (this.byId.get(id) ?? []).filter((iv) => iv.up <= t && (iv.down === undefined || iv.down > t));
  }

  /**
   * Every pair of instances of one id that ran at the same time, longest
   * first: { id, a, b, from, to, ms } (a started first; an open interval
   * counts until `now`).
   * @param {number} [now]
   * @returns {Overlap[]}
   */
  overlaps(now = epochNow()) {
    /** @type {Overlap[]} */
    const out = [];
    for (const [id, list] of this.byId) {
      const sorted = [...list].sort((x, y) => x.up - y.up);
      for (let i = 0; i < sorted.length; i++) {
        const a = /** @type {Instance} */ (sorted[i]);
        const aEnd = a.down ?? now;
        for (let j = i + 1; j < sorted.length; j++) {
          const b = /** @type {Instance} */ (sorted[j]);
          if (b.up >= aEnd) break;
          const to = Math.min(aEnd, b.down ?? now);
          out.push({ id, a, b, from: b.up, to, ms: to - b.up, boundMs: conversionBound(a, b) });
        }
      }
    }
    return out.sort((x, y) => y.ms - x.ms);
  }

  /**
   * The ids with more than one instance started at or after `since` (in a
   * whole-cluster restart: a child started, then handed over).
   * @param {number} since
   * @returns {string[]}
   */
  startedMoreThanOnce(since) {
    return [...this.byId].filter(([, list]) => list.filter((iv) => iv.up >= since).length > 1).map(([id]) => id);
  }

  /**
   * The spans in which `id` ran nowhere, between its first up and `now`
   * ([from, to]; the last one open-ended at `now` if it runs nowhere then).
   * @param {string} id
   * @param {number} [now]
   * @returns {Array<[number, number]>}
   */
  gaps(id, now = epochNow()) {
    /** @type {Array<[number, number]>} */
    const points = [];
    for (const iv of this.byId.get(id) ?? []) {
      points.push([iv.up, 1]);
      points.push([iv.down ?? Infinity, -1]);
    }
    points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    /** @type {Array<[number, number]>} */
    const out = [];
    let count = 0;
    /** @type {number | undefined} */
    let since;
    for (const [t, d] of points) {
      if (t === Infinity) break;
      const before = count;
      count += d;
      if (before > 0 && count === 0) since = t;
      if (before === 0 && count > 0 && since !== undefined) {
        out.push([since, t]);
        since = undefined;
      }
    }
    if (count === 0 && since !== undefined) out.push([since, now]);
    return out;
  }

  /**
   * Every instance as JSON, with its up and down as ms since `t0` (the run's child-intervals.json, kept for a failed run).
   * @param {number} t0
   * @returns {string}
   */
  intervalsJson(t0) {
    const intervals = [...this.byId.values()]
      .flat()
      .map((iv) => ({ ...iv.toJSON(), upMs: iv.up - t0, downMs: iv.down === undefined ? undefined : iv.down - t0 }));
    return `${JSON.stringify({ t0, intervals }, null, 1)}\n`;
  }
}

/**
 * How much of an overlap between `a` and `b` the time-base conversion could
 * have made up: the sum of the two processes' calibrated error bounds (0 on
 * one process: one clock). A process never calibrated counts with its
 * wall-drift estimate, good to a few ms at worst: 5 ms.
 * @param {Instance} a
 * @param {Instance} b
 * @returns {number}
 */
export function conversionBound(a, b) {
  if (a.ref === b.ref) return 0;
  /** @param {Instance} iv */
  const err = (iv) => iv.ref.clockErrorMs ?? 5;
  return err(a) + err(b);
}

/**
 * Whether an overlap counts: longer than `fixedMs` when given, else longer
 * than what the conversion could have made up (`boundMs`).
 * @param {Overlap} o
 * @param {number} [fixedMs]
 * @returns {boolean}
 */
export function beyondClockError(o, fixedMs) {
  return o.ms > (fixedMs ?? o.boundMs);
}

/**
 * One line for an overlap, times in ms since `t0` (the script's time base).
 * @param {Overlap} o
 * @param {number} t0
 * @returns {string}
 */
export function describeOverlap(o, t0) {
  /** @param {number | undefined} t */
  const at = (t) => (t === undefined ? 'still running' : `${(t - t0).toFixed(1)}`);
  return (
    `${o.id}: ${o.ms.toFixed(3)} ms (conversion error ≤ ${o.boundMs.toFixed(3)} ms) on ${o.a.proc} [` +
    `${at(o.a.up)}, ${at(o.a.down)}] and ${o.b.proc} [${at(o.b.up)}, ${at(o.b.down)}] (ms since the run began)`
  );
}

/**
 * The time-base conversion of every node process so far: the largest error
 * bound of the calibrated offsets, and the largest difference between those
 * and the wall-drift estimates (what the conversion would be off by without
 * calibration), in ms.
 * @param {Iterable<BenchNode>} nodes
 * @returns {{ maxErrorMs: number, maxWallDriftMissMs: number }}
 */
export function clockFigures(nodes) {
  let maxErrorMs = 0;
  let maxWallDriftMissMs = 0;
  for (const n of nodes) {
    if (n.clockErrorMs === undefined) continue;
    maxErrorMs = Math.max(maxErrorMs, n.clockErrorMs);
    maxWallDriftMissMs = Math.max(maxWallDriftMissMs, Math.abs(n.clockOffset - /** @type {number} */ (n.wallDriftOffset)));
  }
  return { maxErrorMs, maxWallDriftMissMs };
}
