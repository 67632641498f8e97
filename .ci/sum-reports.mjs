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
 * Per-report lines go to stderr, so stdout is just the summary line.
 * Exit status: 1 if anything failed, else 0.
 */
import { readFileSync } from 'node:fs';

/** @typedef {{ passed: number, failed: number, skipped: number }} Counts */

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
    if (typeof report.numTotalTests === 'number') counts = fromVitest(report);
    else if (report.stats && typeof report.stats.expected === 'number') counts = fromPlaywright(report);
    else throw new Error('neither a Vitest nor a Playwright JSON report');
    console.error(`${file}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  } catch (err) {
    console.error(`${file}: counted as 1 failure (${err instanceof Error ? err.message : String(err)})`);
    counts = { passed: 0, failed: 1, skipped: 0 };
  }
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
}

console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exitCode = total.failed > 0 ? 1 : 0;
