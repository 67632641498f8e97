#!/usr/bin/env node
/**
 * Two builds of Pogo, A and B, through the same benchmark scenarios in
 * turns (A, B, A, B, ...), then every figure side by side: a change's effect
 * on a machine whose speed drifts by 10-30 % within minutes (this one) shows
 * only in pairs run back to back, never in two runs an hour apart.
 *
 *   node bench/tools/ab-builds.mjs --a <rev> [--b <rev>] [--rounds 4] [--only start-rate] [--out DIR] [--keep]
 *
 * A side is a git revision (a commit, a branch, HEAD) or `work`, the
 * working tree as it is, built (uncommitted changes included). `--b`
 * defaults to `work`. Each revision is exported with `git archive` into
 * its own directory, given this checkout's node_modules (a symlink: the
 * revisions must share their dependencies) and built with the core's own
 * build; the working tree is built in place with `npm run build -w pogo-core`.
 * Each round runs `node bench/run.mjs --only <scenarios> --out <dir>` once
 * per side, the order alternating between rounds. Nothing else should
 * run on the machine meanwhile.
 *
 * Prints, per figure of the scenarios' JSON (bench/lib/report.mjs), each
 * round's median for A and B, their means, and B against A in %. For CPU
 * per child (start-rate) the minimum of a round's repeats is the steadier
 * figure (a repeat can only be slowed by the machine, never sped up), so
 * those rows use the minimum; every other row the median. `--out` keeps the
 * runs' JSON (default: a temporary directory, removed unless `--keep`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: opts } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: 'work' },
    rounds: { type: 'string', default: '4' },
    only: { type: 'string', default: 'start-rate' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
if (!opts.a) {
  console.error('usage: node bench/tools/ab-builds.mjs --a <rev> [--b <rev>|work] [--rounds 4] [--only start-rate] [--out DIR] [--keep]');
  process.exit(2);
}
const rounds = Number(opts.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  console.error(`--rounds: a whole number from 1 to 50, not ${opts.rounds}`);
  process.exit(2);
}
const scenarios = opts.only.split(',').filter(Boolean);
const out = opts.out ? resolve(opts.out) : mkdtempSync(join(tmpdir(), 'pogo-ab-'));
mkdirSync(out, { recursive: true });

/**
 * @typedef {{ label: 'A' | 'B', rev: string, root: string, exported: boolean }} Side
 * @typedef {{ name: string, unit: string, median: number | null, min: number | null }} Figure
 */

/**
 * The checkout a side runs from, built.
 * @param {'A' | 'B'} label
 * @param {string} rev
 * @returns {Side}
 */
function prepare(label, rev) {
  if (rev === 'work') {
    console.log(`${label}: the working tree (${ROOT}), building`);
    execFileSync('npm', ['run', 'build', '-w', 'pogo-core'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    return { label, rev, root: ROOT, exported: false };
  }
  const commit = execFileSync('git', ['rev-parse', '--short', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const root = join(out, `build-${label}-${commit}`);
  console.log(`${label}: ${rev} (${commit}), exported to ${root}, building`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  // git archive | tar -x: the revision's files only, no worktree metadata left in the repository.
  const archive = spawnSync('git', ['archive', '--format=tar', commit], { cwd: ROOT, maxBuffer: 1 << 30 });
  if (archive.status !== 0) throw new Error(`git archive ${commit}: ${archive.stderr.toString()}`);
  execFileSync('tar', ['-x', '-C', root], { input: archive.stdout });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  if (existsSync(join(ROOT, 'core/node_modules'))) symlinkSync(join(ROOT, 'core/node_modules'), join(root, 'core/node_modules'));
  execFileSync('npm', ['run', 'build'], { cwd: join(root, 'core'), stdio: ['ignore', 'ignore', 'inherit'] });
  return { label, rev, root, exported: true };
}

/**
 * Runs the scenarios once from `side`'s checkout; the figures of each scenario's JSON.
 * @param {Side} side
 * @param {number} round
 * @returns {Map<string, Figure>}
 */
function runOnce(side, round) {
  const dir = join(out, `${side.label}-${round}`);
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [join(side.root, 'bench/run.mjs'), '--only', scenarios.join(','), '--out', dir], {
    cwd: side.root,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 60 * 60_000,
  });
  console.log(`round ${round} ${side.label}: exit ${run.status ?? run.signal}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  /** @type {Map<string, Figure>} */
  const figures = new Map();
  for (const s of scenarios) {
    const file = join(dir, `${s}.json`);
    if (!existsSync(file)) continue;
    /** @type {{ metrics: Array<{ name: string, unit: string, median: number | null, min: number | null }> }} */
    const json = JSON.parse(readFileSync(file, 'utf8'));
    for (const m of json.metrics) figures.set(`${s}: ${m.name}`, { name: m.name, unit: m.unit, median: m.median, min: m.min });
  }
  // CPU per child of every process summed (the figure two cores divide: 200 µs summed is 10,000 children/s at best).
  /** @type {Map<string, number>} */
  const sums = new Map();
  for (const [key, f] of figures) {
    const m = /^(.*): CPU per child, [^,]+, (.+)$/.exec(key);
    if (!m || typeof f.min !== 'number') continue;
    const summed = `${m[1]}: CPU per child, summed, ${m[2]}`;
    sums.set(summed, (sums.get(summed) ?? 0) + f.min);
  }
  for (const [key, sum] of sums) figures.set(key, { name: key, unit: 'µs', median: sum, min: sum });
  return figures;
}

/** @param {number[]} xs */
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** @param {number} x */
const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

const sides = [prepare('A', opts.a), prepare('B', opts.b)];
/** @type {Record<'A' | 'B', Array<Map<string, Figure>>>} */
const results = { A: [], B: [] };
try {
  for (let r = 1; r <= rounds; r++) {
    // Alternate who goes first, so that a machine slowing down over the run does not favour one side.
    for (const side of r % 2 === 1 ? sides : [...sides].reverse()) results[side.label].push(runOnce(side, r));
  }
} finally {
  for (const side of sides) if (side.exported && !opts.keep) rmSync(side.root, { recursive: true, force: true });
}

const kept = opts.out !== undefined || opts.keep;
console.log(
  `\nA = ${opts.a}, B = ${opts.b}; ${rounds} round${rounds === 1 ? '' : 's'} of --only ${scenarios.join(',')}; ` +
    (kept ? `the runs' JSON in ${out}\n` : "the runs' JSON removed (--out or --keep keeps it)\n"),
);
console.log('| figure | A, each round | B, each round | A mean | B mean | B vs A |');
console.log('|---|---|---|---|---|---|');
const names = new Set([...results.A, ...results.B].flatMap((m) => [...m.keys()]));
for (const key of names) {
  const unit = results.A.find((m) => m.has(key))?.get(key)?.unit ?? results.B.find((m) => m.has(key))?.get(key)?.unit ?? '';
  // CPU per child: the least of a round's repeats (see the header); other figures: the median.
  const pick = /CPU per child/.test(key) ? 'min' : 'median';
  /** @param {'A' | 'B'} label */
  const values = (label) =>
    results[label].map((m) => m.get(key)?.[pick]).filter(/** @returns {v is number} */ (v) => typeof v === 'number' && Number.isFinite(v));
  const a = values('A');
  const b = values('B');
  const change = a.length > 0 && b.length > 0 && mean(a) !== 0 ? `${((100 * (mean(b) - mean(a))) / Math.abs(mean(a))).toFixed(1)} %` : '—';
  console.log(
    `| ${key} (${unit}${pick === 'min' ? ', least of the repeats' : ''}) | ${a.map(fmt).join(' / ')} | ${b.map(fmt).join(' / ')} | ` +
      `${a.length ? fmt(mean(a)) : '—'} | ${b.length ? fmt(mean(b)) : '—'} | ${change} |`,
  );
}
if (!kept) rmSync(out, { recursive: true, force: true });
