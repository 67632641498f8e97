/**
 * Soak, CI-sized (reliability/soak.mjs): three `pogo node` processes, 40
 * children, 30 s of start/stop/move churn at 10 operations per second with
 * a member restarted every 12 s (SIGTERM, then SIGKILL), members with a
 * 45 s tombstone TTL and a 2 s anti-entropy pass. Then the metadata of the
 * terminated children must be reclaimed: no tombstone left and exactly one
 * child register and one run: group per live child, on every member and in
 * the observer's view; and the end state holds DESIGN §3.5 — including
 * `terminate-final`: a terminated child never starts again anywhere.
 * Memory is reported by the script, not asserted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { scriptHarness } from './support/scripts.js';

const SOAK = fileURLToPath(new URL('../../reliability/soak.mjs', import.meta.url));

interface Counts {
  groups: number;
  registers: number;
  runs: number;
  fails: number;
  flags: number;
  tombstones: number;
  error?: string;
}
interface Sample {
  phase: string;
  live: number;
  observer: Counts;
  nodes: Record<string, Counts>;
}
interface SoakResult {
  ops: { start: number; stop: number; move: number };
  restarts: unknown[];
  samples: Sample[];
  reclaimedAfterMs?: number;
  metadata: { tombstonesPeak: number; tombstonesEnd: number; groupsStart: number; groupsEnd: number };
  violations: Array<{ invariant: string; ids: string[]; detail: string }>;
}

const { dir, run: runScript } = scriptHarness('pogo-soak-test-');

it('metadata of terminated children is reclaimed after the tombstone TTL', { timeout: 360_000 }, async () => {
  const json = join(dir, 'soak.json');
  const args = [
    SOAK,
    '--duration',
    '30s',
    '--nodes',
    '3',
    '--children',
    '40',
    '--rate',
    '10',
    '--restart-every',
    '12s',
    '--tombstone-ttl',
    '45s',
    '--anti-entropy',
    '2s',
    '--sample',
    '3s',
    '--seed',
    '7',
    '--json',
    json,
  ];
  const run = runScript(args);
  const { code, output } = await run.done;
  console.log(
    output
      .split('\n')
      .filter((l) => l.startsWith('soak: ') && /metadata|slope|MB\/min/.test(l))
      .join('\n'),
  );
  const result = JSON.parse(readFileSync(json, 'utf8')) as SoakResult;
  expect(result.violations, output.slice(-5000)).toEqual([]);
  expect(code, output.slice(-3000)).toBe(0);
  // There was something to reclaim: children were stopped and left tombstones.
  expect(result.ops.stop).toBeGreaterThan(20);
  expect(result.metadata.tombstonesPeak).toBeGreaterThan(0);
  expect(result.restarts.length).toBeGreaterThan(0);
  // Back to the baseline shape: one child register and one run: group per live child, nothing else.
  const last = result.samples.at(-1)!;
  for (const counts of [last.observer, ...Object.values(last.nodes)]) {
    expect(counts.error).toBeUndefined();
    expect(counts.tombstones).toBe(0);
    expect(counts.fails).toBe(0);
    expect(counts.registers).toBe(last.live);
    expect(counts.runs).toBe(last.live);
    expect(counts.groups).toBe(last.live);
  }
  expect(result.reclaimedAfterMs).toBeDefined();
});
