#!/usr/bin/env node
/**
 * Sums test results from the CI reports and prints one final line:
 *
 *   N passed, N failed, N skipped
 *
 * Usage: node .ci/sum-reports.mjs <report.json>...
 * Each report is recognised by shape:
 *   Vitest JSON      passed = numPassedTests, failed = numFailedTests,
 *                    skipped = numPendingTests + numTodoTests; a test file that
 *                    failed without any failed test (e.g. it did not import)
 *                    counts as one failure, and so does an unsuccessful run
 *                    with nothing else to show for it (unhandled errors).
 *   Playwright JSON  passed = stats.expected, failed = stats.unexpected +
 *                    stats.flaky (retries are 0, so flaky cannot happen; if it
 *                    does it is a failure), skipped = stats.skipped; global
 *                    errors (config, no tests found) count as one failure each.
 * A missing or unreadable report counts as one failure.
 * Per-report lines go to stderr, so stdout is just the summary line. Every
 * failed test is named there too (file, title, the first line of its error),
 * just above the summary: a log cut to its tail still says what failed.
 * Exit status: 1 if anything failed, else 0.
 */
import { readFileSync } from 'node:fs';

/** @typedef {{ passed: number, failed: number, skipped: number }} Counts */

/** @param {unknown} text */
function firstLine(text) {
  const line =
    String(text ?? '')
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** @param {string} file */
function relative(file) {
  const cwd = `${process.cwd()}/`;
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

/** @param {any} r @returns {string[]} */
function vitestFailures(r) {
  const out = [];
  for (const file of r.testResults ?? []) {
    const failed = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) {
      out.push(`${relative(file.name)} › ${t.fullName ?? t.title}: ${firstLine((t.failureMessages ?? [])[0])}`);
    }
    if (file.status === 'failed' && failed.length === 0) {
      out.push(`${relative(file.name)} (the file itself): ${firstLine(file.message)}`);
    }
  }
  return out;
}

/** @param {any} r @returns {string[]} */
function playwrightFailures(r) {
  const out = [];
  /** @param {any} suite @param {string[]} titles */
  const walk = (suite, titles) => {
    const here = suite.title ? [...titles, suite.title] : titles;
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        if (test.status !== 'unexpected' && test.status !== 'flaky') continue;
        const result = (test.results ?? []).find((x) => x.status !== 'passed') ?? {};
        const error = result.error?.message ?? (result.errors ?? [])[0]?.message;
        out.push(`${[...here, spec.title].join(' › ')}: ${firstLine(error)}`);
      }
    }
    for (const child of suite.suites ?? []) walk(child, here);
  };
  for (const suite of r.suites ?? []) walk(suite, []);
  for (const e of Array.isArray(r.errors) ? r.errors : []) out.push(`(global) ${firstLine(e.message)}`);
  return out;
}

/** @param {any} r @returns {Counts} */
function fromVitest(r) {
  const passed = r.numPassedTests ?? 0;
  let failed = r.numFailedTests ?? 0;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const brokenFiles = (r.testResults ?? []).filter(
    (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed'),
  ).length;
  failed += brokenFiles;
  if (r.success === false && failed === 0) failed = 1;
  return { passed, failed, skipped };
}

/** @param {any} r @returns {Counts} */
function fromPlaywright(r) {
  const s = r.stats ?? {};
  const globalErrors = Array.isArray(r.errors) ? r.errors.length : 0;
  return {
    passed: s.expected ?? 0,
    failed: (s.unexpected ?? 0) + (s.flaky ?? 0) + globalErrors,
    skipped: s.skipped ?? 0,
  };
}

const total = { passed: 0, failed: 0, skipped: 0 };
/** @type {string[]} */
const failures = [];
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node .ci/sum-reports.mjs <report.json>...');
  total.failed += 1;
}

for (const file of files) {
  /** @type {Counts} */
  let counts;
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof report.numTotalTests === 'number') {
      counts = fromVitest(report);
      failures.push(...vitestFailures(report));
    } else if (report.stats && typeof report.stats.expected === 'number') {
      counts = fromPlaywright(report);
      failures.push(...playwrightFailures(report));
    } else throw new Error('neither a Vitest nor a Playwright JSON report');
    console.error(`${file}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  } catch (err) {
    console.error(`${file}: counted as 1 failure (${err instanceof Error ? err.message : String(err)})`);
    counts = { passed: 0, failed: 1, skipped: 0 };
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}

for (const f of failures) console.error(`FAILED ${f}`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exitCode = total.failed > 0 ? 1 : 0;
