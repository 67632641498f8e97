#!/usr/bin/env node
/**
 * The benchmark runner: `npm run bench [-- --quick] [-- --only a,b] [-- --out dir]`.
 *
 * Runs each scenario module of bench/scenarios/ in order against real
 * `pogo node` processes on loopback (and, for `sim`, the in-memory
 * transport), writes `<out>/<scenario>.json` per scenario and
 * `<out>/SUMMARY.md` (median, min and max over repeats, the targets, and the
 * machine: cores, model, memory, Node.js version, date, git commit). A
 * complete full run (no --quick, --only or --set) also writes
 * bench/LAST-RUN.md, the copy docs/performance.md links to.
 *
 * A scenario module exports `title`, `description`, `run(ctx)` and, if it
 * needs something that may be missing, `skipReason()` (a string: skip the
 * scenario and print why; undefined: run it). ctx gives
 * it named bounded steps (`ctx.step(name, boundMs, fn)`), clusters whose
 * processes are stopped by pid when the scenario ends, and `ctx.metric(...)`
 * to record figures. A scenario whose step fails or exceeds its bound stops
 * there; the runner prints `scenario X failed at step 'Y': reason`, kills
 * what it started, goes on with the next scenario and exits 1 at the end.
 * No timing is ever asserted: a slow run still passes; only a scenario that
 * cannot reach its state fails.
 *
 * Scenario 6 (ui) is optional: bench/scenarios/ui.mjs is run if it exists
 * (and its skipReason() has no objection) and skipped with a printed reason
 * otherwise.
 *
 * Flags:
 *   --quick           small sizes and one repeat (the CI smoke run, well under 2 minutes)
 *   --only a,b        run only these scenarios (names below)
 *   --out <dir>       where to write the results (default bench/results)
 *   --bounds <x>      multiply every step's time bound by x (e.g. 2 on a slow machine;
 *                     0.001 shows how a scenario that cannot reach its state fails)
 *   --set k=v,...     override a scenario's sizes (e.g. --only scale --set nodes=10,children=5000);
 *                     for exploring, not for comparable results
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ScenarioContext } from './lib/context.mjs';
import { killTrackedNow, trackedCount } from './lib/harness.mjs';
import { referenceWorkMs } from './lib/host-speed.mjs';
import { renderSummary } from './lib/report.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCENARIOS = ['failover', 'start-rate', 'rebalance', 'idle', 'scale', 'bytes', 'sim', 'ctl', 'calls', 'ui'];

/**
 * @param {string} [message]
 * @returns {never}
 */
function usage(message) {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(`usage: node bench/run.mjs [--quick] [--only ${SCENARIOS.join(',')}] [--out dir] [--bounds factor]\n`);
  process.exit(2);
}

/**
 * @param {string[]} argv
 * @returns {{ quick: boolean, only: string[], out: string, bounds: number, set: Record<string, number> }}
 */
function parseArgs(argv) {
  /** @type {ReturnType<typeof parseArgs>} */
  const opts = { quick: false, only: SCENARIOS, out: join(HERE, 'results'), bounds: 1, set: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    /** @returns {string} */
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--only') {
      opts.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = opts.only.filter((s) => !SCENARIOS.includes(s));
      if (unknown.length > 0) usage(`unknown scenario ${unknown.join(', ')}`);
    } else if (arg === '--out') opts.out = resolve(value());
    else if (arg === '--bounds') {
      opts.bounds = Number(value());
      if (!(opts.bounds > 0)) usage('--bounds must be a positive number');
    } else if (arg === '--set') {
      for (const pair of value().split(',')) {
        const [k, v] = pair.split('=');
        if (!k || v === undefined || !Number.isFinite(Number(v))) usage(`--set wants key=number pairs, got ${pair}`);
        opts.set[k.trim()] = Number(v);
      }
    } else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return opts;
}

/** @returns {import('./lib/report.mjs').Machine} */
function machine() {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: HERE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    cores: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Safety nets: whatever happens to the runner, no node process outlives it.
  process.on('exit', killTrackedNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}: stopping every node process\n`);
      killTrackedNow();
      process.exit(130);
    });
  }
  mkdirSync(opts.out, { recursive: true });
  const facts = machine();
  const began = performance.now();
  const overrides = Object.keys(opts.set).length > 0 ? `, sizes overridden: ${JSON.stringify(opts.set)}` : '';
  process.stdout.write(
    `pogo bench (${opts.quick ? 'quick' : 'full'}${overrides}): ${facts.cores} cores (${facts.model}),` +
      ` ${(facts.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${facts.node}, commit ${facts.commit}\n`,
  );
  /** @type {import('./lib/types.js').ScenarioResult[]} */
  const results = [];
  for (const name of opts.only) {
    const file = join(HERE, 'scenarios', `${name}.mjs`);
    if (!existsSync(file)) {
      const reason = `${relative(process.cwd(), file)} is not present${name === 'ui' ? ' (scenario 6, the UI, is added separately)' : ''}`;
      process.stdout.write(`\n== ${name}: skipped: ${reason}\n`);
      results.push({ scenario: name, status: 'skipped', reason });
      continue;
    }
    /** @type {import('./lib/types.js').ScenarioModule} */
    const mod = await import(pathToFileURL(file).href);
    const skip = typeof mod.skipReason === 'function' ? await mod.skipReason(opts) : undefined;
    if (skip) {
      process.stdout.write(`\n== ${name}: skipped: ${skip}\n`);
      results.push({ scenario: name, title: mod.title, status: 'skipped', reason: skip });
      continue;
    }
    const ctx = new ScenarioContext(name, mod, opts);
    // How fast the host is just now (lib/host-speed.mjs): this machine's speed drifts within minutes.
    const hostMs = referenceWorkMs();
    process.stdout.write(`\n== ${name}: ${mod.title ?? name} (host: reference workload ${hostMs} ms)\n`);
    const result = { ...(await ctx.execute()), hostMs };
    results.push(result);
    writeFileSync(
      join(opts.out, `${name}.json`),
      `${JSON.stringify({ ...result, mode: opts.quick ? 'quick' : 'full', overrides: opts.set, machine: facts }, null, 2)}\n`,
    );
    if (result.status === 'failed') process.stdout.write(`scenario ${name} failed at step '${result.failedStep}': ${result.error}\n`);
    else process.stdout.write(`== ${name}: ok in ${(result.durationMs / 1000).toFixed(1)} s\n`);
    if (trackedCount() > 0) process.stdout.write(`bench: warning: ${trackedCount()} process(es) still running after ${name}\n`);
  }
  const totalMs = performance.now() - began;
  const summary = renderSummary({
    results,
    machine: facts,
    quick: opts.quick,
    totalMs,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  });
  writeFileSync(join(opts.out, 'SUMMARY.md'), summary);
  // A complete full run (every scenario, no size overrides) also refreshes the committed copy.
  const complete = !opts.quick && opts.only.length === SCENARIOS.length && Object.keys(opts.set).length === 0;
  if (complete) writeFileSync(join(HERE, 'LAST-RUN.md'), summary);
  const failed = results.filter((r) => r.status === 'failed');
  process.stdout.write(
    `\nbench: ${results.length - failed.length} of ${results.length} scenarios ok in ` +
      `${(totalMs / 1000).toFixed(0)} s; results in ${relative(process.cwd(), opts.out) || '.'}/ (SUMMARY.md)\n`,
  );
  if (failed.length > 0) {
    process.stdout.write(`bench: failed: ${failed.map((r) => `${r.scenario} (at '${/** @type {any} */ (r).failedStep}')`).join(', ')}\n`);
    process.exitCode = 1;
  }
  // Everything is stopped by now; do not wait for a stray handle (an observer's socket, a timer).
  process.exit(process.exitCode ?? 0);
}

await main();
