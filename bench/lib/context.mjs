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

const OPS = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
};

export class ScenarioContext {
  metrics = [];
  details = {};
  parameters = {};
  clusters = [];
  cleanups = [];
  currentStep = 'set-up';

  constructor(name, mod, opts) {
    this.name = name;
    this.mod = mod;
    this.quick = opts.quick;
    this.bounds = opts.bounds;
    this.overrides = opts.set ?? {};
  }

  sizes(quick, full) {
    const base = this.quick ? quick : full;
    const out = { ...base };
    for (const [k, v] of Object.entries(this.overrides)) if (k in base) out[k] = v;
    return out;
  }

  log(text) {
    process.stdout.write(`   ${text}\n`);
  }

  params(values) {
    Object.assign(this.parameters, values);
  }

  detail(key, value) {
    this.details[key] = value;
  }

  /**
   * @param {string} name
   * @param {string} unit
   * @param {number | number[]} values
   * @param {{ target?: [string, number], note?: string }} [options]
   */
  metric(name, unit, values, { target, note } = {}) {
    const list = Array.isArray(values) ? values : [values];
    const stats = summarize(list);
    /** @type {Record<string, any>} */
    const entry = { name, unit, values: list.map(round), ...mapValues(stats, round) };
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

  cluster(options = {}) {
    const cluster = new BenchCluster({ bounds: this.bounds, ...options });
    this.clusters.push(cluster);
    return cluster;
  }

  /** Registers a function the runner calls when the scenario ends (after the clusters close). */
  onCleanup(fn) {
    this.cleanups.push(fn);
  }

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

  /** Runs the scenario module; always tears everything down. */
  async execute() {
    const began = performance.now();
    let status = 'ok';
    let failedStep;
    let error;
    try {
      await this.mod.run(this);
    } catch (err) {
      status = 'failed';
      failedStep = err instanceof StepFailure ? err.step : this.currentStep;
      error = err instanceof StepFailure ? err.reason : String(err?.stack ?? err);
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

function round(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  if (Math.abs(x) >= 100) return Math.round(x * 10) / 10;
  return Math.round(x * 1000) / 1000;
}

function mapValues(obj, fn) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, k === 'n' ? v : fn(v)]));
}

export function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  if (typeof x !== 'number') return String(x);
  if (Number.isInteger(x) || Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}
