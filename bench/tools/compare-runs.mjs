#!/usr/bin/env node
/**
 * Puts two benchmark summaries side by side: every figure of the newer run
 * with the median of the same figure (same scenario, same name) in the older
 * one, and the change. Figures only one run has are listed as such.
 *
 *   node bench/tools/compare-runs.mjs <older SUMMARY.md> <newer SUMMARY.md> [--title T]
 *
 * Prints Markdown (the "old figures beside the new" section of
 * bench/LAST-RUN.md). Reads the summaries the bench writes (bench/lib/report.mjs):
 * a `## <scenario>: <title>` heading per scenario, then a table whose rows are
 * `| figure | median | min | max | unit | n | target |`; and, since
 * 2026-12-07, the time of the host's reference workload at each scenario's
 * start (bench/lib/host-speed.mjs), printed as the scenario's first row.
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const titleAt = args.indexOf('--title');
const title = titleAt >= 0 ? args.splice(titleAt, 2)[1] : 'Compared with the run before';
const [olderPath, newerPath] = args;
if (!olderPath || !newerPath) {
  console.error('usage: node bench/tools/compare-runs.mjs <older SUMMARY.md> <newer SUMMARY.md> [--title T]');
  process.exit(2);
}

/** @typedef {{ median: string, value: number, unit: string }} Figure */

/** The row that says how fast the host was (lower is faster): figures that moved by about as much moved with the host. */
const HOST_FIGURE = 'host: reference workload at the scenario start (lower is faster)';

/**
 * scenario → figure → { median, unit } (medians as printed, numbers parsed).
 * @param {string} path
 * @returns {Map<string, Map<string, Figure>>}
 */
function figures(path) {
  /** @type {Map<string, Map<string, Figure>>} */
  const out = new Map();
  /** @type {string | undefined} */
  let scenario;
  let inTable = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const h = /^## ([\w-]+):/.exec(line);
    if (h) {
      scenario = h[1];
      inTable = false;
      if (!out.has(scenario)) out.set(scenario, new Map());
      continue;
    }
    if (!scenario) continue;
    // How fast the host was at the scenario's start (bench/lib/host-speed.mjs), a row like any figure's.
    const host = /Host: reference workload ([\d.]+) ms/.exec(line);
    if (host) {
      /** @type {Map<string, Figure>} */ (out.get(scenario)).set(HOST_FIGURE, { median: host[1], value: Number(host[1]), unit: 'ms' });
      continue;
    }
    if (line.startsWith('| figure | median')) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (!line.startsWith('|')) {
      if (line.trim() !== '') inTable = false;
      continue;
    }
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells.length < 5 || /^-+$/.test(cells[0])) continue;
    const [figure, median, , , unit] = /** @type {string[]} */ (cells);
    /** @type {Map<string, Figure>} */ (out.get(scenario)).set(/** @type {string} */ (figure), {
      median: /** @type {string} */ (median),
      value: Number(/** @type {string} */ (median).replace(/,/g, '')),
      unit: /** @type {string} */ (unit),
    });
  }
  return out;
}

const older = figures(olderPath);
const newer = figures(newerPath);

/**
 * @param {Figure} a
 * @param {Figure} b
 */
function change(a, b) {
  if (!Number.isFinite(a.value) || !Number.isFinite(b.value)) return '';
  if (a.value === b.value) return '=';
  if (a.value === 0) return 'new non-zero';
  const ratio = b.value / a.value;
  return ratio >= 2 || ratio <= 0.5 ? `× ${ratio.toFixed(ratio >= 10 || ratio < 0.1 ? 3 : 2)}` : `${ratio > 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)} %`;
}

const lines = [`## ${title}`, '', `Older: \`${olderPath}\`. Newer: \`${newerPath}\`. Medians; the change is newer against older.`, ''];
for (const [scenario, figs] of newer) {
  const before = older.get(scenario) ?? new Map();
  lines.push(`### ${scenario}`, '', '| figure | before | after | unit | change |', '|---|---|---|---|---|');
  for (const [figure, b] of figs) {
    const a = before.get(figure);
    lines.push(`| ${figure} | ${a ? a.median : '—'} | ${b.median} | ${b.unit} | ${a ? change(a, b) : 'new'} |`);
  }
  for (const [figure, a] of before) if (!figs.has(figure)) lines.push(`| ${figure} | ${a.median} | — | ${a.unit} | no longer measured |`);
  lines.push('');
}
for (const [scenario] of older) if (!newer.has(scenario)) lines.push(`Scenario \`${scenario}\` is only in the older run.`, '');
console.log(lines.join('\n'));
