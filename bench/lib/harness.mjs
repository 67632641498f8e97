/**
 * The benchmark harness: named, bounded steps; every OS process a scenario
 * starts, registered so that it is stopped by pid whatever happens; the
 * statistics and the /proc readings the scenarios report.
 *
 * A step is `await ctx.step('kill n2', boundMs, async () => ...)`. If its
 * work throws or does not finish within its bound, the scenario stops with a
 * StepFailure naming the step ("scenario failover failed at step 'kill n2':
 * ..."); the runner then stops everything the scenario started.
 *
 * Processes: the `pogo node` processes are the cluster harness's
 * (pogo-core/testing's ProcessCluster, see cluster.mjs), which registers
 * every live one; `track(child)` records any other child a scenario spawns
 * (a `pogo ctl` run). `killTracked()` sends each of both SIGCONT (so a
 * frozen node is not left stopped if the SIGKILL fails) and SIGKILL, by
 * pid, and waits (bounded) for the exits. A `process.on('exit')` net
 * (installed once by the runner) SIGKILLs whatever is still live if the
 * runner itself ends abruptly; the node processes also exit by themselves
 * when their stdin (the runner's control pipe) closes.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { killAll, killAllNow, liveProcessCount } from '../../core/dist/testing.js';

export class StepFailure extends Error {
  /**
   * @param {string} step
   * @param {unknown} reason
   */
  constructor(step, reason) {
    super(`step '${step}': ${reason instanceof Error ? reason.message : String(reason)}`);
    this.step = step;
    this.reason = reason instanceof Error ? reason.message : String(reason);
  }
}

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */

/**
 * Every child process started by any scenario and not yet reaped.
 * @type {Set<ChildProcess>}
 */
const tracked = new Set();

/**
 * @template {ChildProcess} C
 * @param {C} child
 * @returns {C}
 */
export function track(child) {
  tracked.add(child);
  child.once('exit', () => tracked.delete(child));
  return child;
}

/**
 * SIGKILLs `children` (default: every tracked process and every live harness
 * process), after SIGCONT in case one is frozen, and waits (bounded) for the exits.
 */
/**
 * @param {ChildProcess[]} [children]
 * @param {number} [boundMs]
 * @returns {Promise<void>}
 */
export async function killTracked(children = undefined, boundMs = 5000) {
  if (children === undefined) {
    await Promise.all([killTracked([...tracked], boundMs), killAll(boundMs)]);
    return;
  }
  const exits = children.map((child) => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    /** @type {Promise<void>} */
    const exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const sig of ['SIGCONT', 'SIGKILL']) {
      try {
        process.kill(/** @type {number} */ (child.pid), sig);
      } catch {
        // already gone
      }
    }
    return exited;
  });
  await Promise.race([Promise.all(exits), sleep(boundMs)]);
}

/** Synchronous last resort for process.on('exit'): SIGKILL every tracked and every live harness pid. */
export function killTrackedNow() {
  killAllNow();
  for (const child of tracked) {
    try {
      process.kill(/** @type {number} */ (child.pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** @returns {number} */
export function trackedCount() {
  return [...tracked].filter((c) => c.exitCode === null && c.signalCode === null).length + liveProcessCount();
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Rejects after `ms` with a message naming `what`; resolves with `promise` otherwise.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function within(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

/**
 * Polls `predicate` (sync or async) every `everyMs` until it holds; throws naming `what` after `timeoutMs`. Returns the time it took.
 * @param {() => unknown} predicate
 * @param {number} timeoutMs
 * @param {string} what
 * @param {number} [everyMs]
 * @returns {Promise<number>}
 */
export async function until(predicate, timeoutMs, what, everyMs = 10) {
  const start = performance.now();
  /** @type {any} */
  let lastError;
  for (;;) {
    try {
      if (await predicate()) return performance.now() - start;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() - start > timeoutMs)
      throw new Error(`${what} did not hold within ${Math.round(timeoutMs)} ms${lastError ? ` (last error: ${lastError.message})` : ''}`);
    await sleep(everyMs);
  }
}

/**
 * @typedef {{ n: number, median: number | undefined, min: number | undefined, max: number | undefined }} Summary
 */

/**
 * Median, min and max of a list of numbers (undefined for an empty list).
 * @param {readonly unknown[]} values
 * @returns {Summary}
 */
export function summarize(values) {
  const v = values.filter(/** @returns {x is number} */ (x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: undefined, min: undefined, max: undefined };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { n: v.length, median, min: v[0], max: v[v.length - 1] };
}

/** @type {number | undefined} */
let clockTicks;
/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK; normally 100). */
/** @returns {number} */
export function clkTck() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
/**
 * @param {number} pid
 * @returns {number}
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / clkTck();
}

/** Resident memory of a process in bytes, from /proc/<pid>/status (VmRSS). */
/**
 * @param {number} pid
 * @returns {number | undefined}
 */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}
