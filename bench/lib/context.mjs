/**
 * What a scenario gets from the runner: named bounded steps, clusters that
 * are torn down when it ends, and a place to record its figures.
 *
 *   ctx.quick, ctx.bounds           mode and the bound multiplier (--bounds)
 *   ctx.sizes(quick, full)          the sizes for this mode, with --set overrides applied
 *   ctx.params({ nodes: 3, ... })   the sizes and settings used (written to the JSON)
 *   ctx.step(name, boundMs, fn)     runs fn; fails the scenario naming the step
 *                                   if fn throws or takes longer than boundMs × bounds
 *   ctx.cluster(options)            a BenchCluster, closed (every process killed) at the end
 *   ctx.metric(name, unit, values, { target })
 *                                   a figure over repeats; target = ['<', 100] etc.,
 *                                   checked against the median (reported, never asserted)
 *   ctx.detail(key, value)          anything else worth keeping in the JSON
 *   ctx.log(text)                   a progress line
 */
import { BenchCluster } from './cluster.mjs';
import { StepFailure, killTracked, summarize, within } from './harness.mjs';

/** @typedef {import('./types.js').Metric} Metric */
/** @typedef {import('./types.js').ScenarioModule} ScenarioModule */
/** @typedef {import('./types.js').RunResult} RunResult */
/** @typedef {{ quick: boolean, bounds: number, set?: Record<string, number> }} RunOptions */

/** @type {Record<string, (a: number, b: number) => boolean>} */
const OPS = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
};

export class ScenarioContext {
  /** @type {Metric[]} */
  metrics = [];
  /** @type {Record<string, unknown>} */
  details = {};
  /** @type {Record<string, unknown>} */
  parameters = {};
  /** @type {BenchCluster[]} */
  clusters = [];
  /** @type {Array<() => unknown>} */
  cleanups = [];
  currentStep = 'set-up';

  /**
   * @param {string} name
   * @param {ScenarioModule} mod
   * @param {RunOptions} opts
   */
  constructor(name, mod, opts) {
    this.name = name;
    this.mod = mod;
    this.quick = opts.quick;
    this.bounds = opts.bounds;
    this.overrides = opts.set ?? {};
  }

  /**
   * @template {Record<string, number>} T
   * @param {T} quick
   * @param {T} full
   * @returns {T}
   */
  sizes(quick, full) {
    const base = this.quick ? quick : full;
    /** @type {Record<string, number>} */
    const out = { ...base };
    for (const [k, v] of Object.entries(this.overrides)) if (k in base) out[k] = v;
    return /** @type {T} */ (out);
  }

  /** @param {string} text */
  log(text) {
    process.stdout.write(`   ${text}\n`);
  }

  /** @param {Record<string, unknown>} values */
  params(values) {
    Object.assign(this.parameters, values);
  }

  /**
   * @param {string} key
   * @param {unknown} value
   */
  detail(key, value) {
    this.details[key] = value;
  }

  /**
   * @param {string} name
   * @param {string} unit
   * @param {number | null | undefined | Array<number | null | undefined>} values (what is not a finite number is left out of the figures)
   * @param {{ target?: [string, number], note?: string }} [options]
   * @returns {import('./harness.mjs').Summary}
   */
  metric(name, unit, values, { target, note } = {}) {
    const list = Array.isArray(values) ? values : [values];
    const stats = summarize(list);
    /** @type {Metric} */
    const entry = { name, unit, values: list.map(round), ...stats, ...roundStats(stats) };
    if (note) entry.note = note;
    if (target) {
      const [op, limit] = target;
      entry.target = `${op} ${limit}`;
      entry.met = stats.median === undefined ? false : OPS[op](stats.median, limit);
    }
    this.metrics.push(entry);
    const range = stats.n > 1 ? ` (min ${fmt(stats.min)}, max ${fmt(stats.max)}, n=${stats.n})` : '';
    this.log(`${name}: ${fmt(stats.median)} ${unit}${range}${entry.target ? `  [target ${entry.target}: ${entry.met ? 'met' : 'MISSED'}]` : ''}`);
    return stats;
  }

  /**
   * @param {ConstructorParameters<typeof BenchCluster>[0]} [options]
   * @returns {BenchCluster}
   */
  cluster(options = {}) {
    const cluster = new BenchCluster({ bounds: this.bounds, ...options });
    this.clusters.push(cluster);
    return cluster;
  }

  /**
   * Registers a function the runner calls when the scenario ends (after the clusters close).
   * @param {() => unknown} fn
   */
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

  /**
   * @template T
   * @param {string} name
   * @param {number} boundMs
   * @param {() => T | Promise<T>} fn
   * @returns {Promise<T>}
   */
  async step(name, boundMs, fn) {
    this.currentStep = name;
    this.log(`· ${name}`);
    const began = performance.now();
    try {
      return await within(Promise.resolve().then(fn), boundMs * this.bounds, 'bound exceeded');
    } catch (err) {
      if (err instanceof StepFailure) throw err;
      const tails = this.clusters
        .map((c) => c.logTails())
        .filter(Boolean)
        .join('\n');
      this.details.failureLogTails = tails;
      throw new StepFailure(name, err);
    } finally {
      const ms = performance.now() - began;
      if (ms > 2000) this.log(`  (${(ms / 1000).toFixed(1)} s)`);
    }
  }

  /**
   * Runs the scenario module; always tears everything down.
   * @returns {Promise<RunResult>}
   */
  async execute() {
    const began = performance.now();
    /** @type {'ok' | 'failed'} */
    let status = 'ok';
    /** @type {string | undefined} */
    let failedStep;
    /** @type {string | undefined} */
    let error;
    try {
      await this.mod.run(this);
    } catch (err) {
      status = 'failed';
      failedStep = err instanceof StepFailure ? err.step : this.currentStep;
      error = err instanceof StepFailure ? err.reason : String(/** @type {any} */ (err)?.stack ?? err);
    } finally {
      for (const cluster of this.clusters) await cluster.close({ keep: status === 'failed' }).catch(() => undefined);
      for (const fn of this.cleanups)
        await Promise.resolve()
          .then(fn)
          .catch(() => undefined);
      await killTracked();
    }
    if (status === 'failed' && this.clusters.length > 0) this.details.logs = this.clusters.map((c) => c.dir);
    return {
      scenario: this.name,
      title: this.mod.title,
      description: this.mod.description,
      status,
      ...(failedStep ? { failedStep, error } : {}),
      durationMs: Math.round(performance.now() - began),
      params: this.parameters,
      metrics: this.metrics,
      details: this.details,
    };
  }
}

/**
 * @template T
 * @param {T} x
 * @returns {T}
 */
function round(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return /** @type {T} */ (Math.round(x * 10) / 10);
  return /** @type {T} */ (Math.round(x * 1000) / 1000);
}

/**
 * A summary's median, min and max rounded (n as it is).
 * @param {import('./harness.mjs').Summary} stats
 */
function roundStats(stats) {
  return { median: round(stats.median), min: round(stats.min), max: round(stats.max) };
}

/**
 * @param {unknown} x
 * @returns {string}
 */
export function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  if (typeof x !== 'number') return String(x);
  if (Number.isInteger(x) || Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
