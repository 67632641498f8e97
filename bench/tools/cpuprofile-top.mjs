#!/usr/bin/env node
/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`, e.g. a bench
 * node run with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"):
 * the top functions by self time and by inclusive time.
 *
 *   node bench/tools/cpuprofile-top.mjs <file.cpuprofile> [count] [--last <s>] [--skip-end <s>] [--samples]
 *
 * `--last 30 --skip-end 3` keeps only the samples from 33 to 3 seconds before
 * the profile ends (the idle scenario's window ends just before its nodes
 * stop; the shutdown is in the last seconds).
 *
 * `--samples` weighs every sample alike (at the default 1 ms interval, a
 * sample is about a millisecond of CPU) instead of by the wall time until
 * the next one. V8 samples on wall time: while the OS runs other processes
 * the next sample waits, and the whole wait lands on whatever function runs
 * then. On a loaded host (twenty nodes on two cores) that made a
 * millisecond's loop look like 280 ms; counts show what the CPU did.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const argv = process.argv.slice(2);
const lastAt = argv.indexOf('--last');
const lastSeconds = lastAt >= 0 ? Number(argv.splice(lastAt, 2)[1]) : undefined;
const skipAt = argv.indexOf('--skip-end');
const skipSeconds = skipAt >= 0 ? Number(argv.splice(skipAt, 2)[1]) : 0;
const samplesAt = argv.indexOf('--samples');
const bySamples = samplesAt >= 0;
if (bySamples) argv.splice(samplesAt, 1);
const [file, countArg] = argv;
if (!file) {
  process.stderr.write('usage: node bench/tools/cpuprofile-top.mjs <file.cpuprofile> [count] [--last <s>] [--skip-end <s>] [--samples]\n');
  process.exit(2);
}
const count = Number(countArg ?? 25);
/** @typedef {import('node:inspector').Profiler.ProfileNode} ProfileNode */
/** @type {import('node:inspector').Profiler.Profile & { samples: number[], timeDeltas: number[] }} */
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
/** @type {Map<number, number>} */
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample counts per node; time per sample from the deltas.
/** @type {Map<number, number>} */
const selfUs = new Map();
const to = profile.endTime - skipSeconds * 1e6;
const from = lastSeconds === undefined ? -Infinity : to - lastSeconds * 1e6;
let at = profile.startTime;
const meanUs = Math.min(1000, (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length));
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  // A sample's weight: the wall time since the one before, or (`--samples`) the profile's mean interval.
  const weight = bySamples ? meanUs : (profile.timeDeltas[i] ?? 0);
  if (at >= from && at <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + weight);
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** @param {ProfileNode} n */
const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
/** @type {Map<string, number>} */
const self = new Map();
/** @type {Map<string, number>} */
const inclusive = new Map();
for (const [id, us] of selfUs) {
  const n = /** @type {ProfileNode} */ (byId.get(id));
  self.set(label(n), (self.get(label(n)) ?? 0) + us);
  // Inclusive: count each distinct label once per sample stack.
  const seen = new Set();
  for (let cur = /** @type {number | undefined} */ (id); cur !== undefined; cur = parent.get(cur)) {
    const l = label(/** @type {ProfileNode} */ (byId.get(cur)));
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}
/**
 * @param {string} title
 * @param {Map<string, number>} map
 */
const show = (title, map) => {
  process.stdout.write(`${title}\n`);
  for (const [l, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count))
    process.stdout.write(`  ${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${l}\n`);
};
process.stdout.write(
  `${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled` +
    `${lastSeconds === undefined ? '' : ` in ${lastSeconds} s ending ${skipSeconds} s before the end`}` +
    `${bySamples ? ' (samples counted alike)' : ''}\n`,
);
show('by self time:', self);
show('by inclusive time:', inclusive);
