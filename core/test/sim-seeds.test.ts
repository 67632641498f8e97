/**
 * Randomized deterministic simulation over many seeds (DESIGN §5.2), with
 * network faults as rude as real ones (support/chaos-sim.ts). CI runs 1,000
 * seeds; for longer runs: `SIM_SEEDS=20000 SIM_FROM=1000 npm run sim`.
 * A failing seed is printed; rerun it alone with `SIM_FROM=<seed> SIM_SEEDS=1`
 * (and trace it with runChaos(seed, { trace, traceId })).
 *
 * Each seed draws its netsplit mode (majority one run in two); `SIM_MODE=
 * majority` (or `available`) forces it, e.g. for a long run of majority
 * mode only: `SIM_MODE=majority SIM_SEEDS=5000 npm run sim`.
 *
 * KNOWN_MAJORITY lists seeds that, forced to majority mode, reproduce a
 * known bug of the product (not of the harness): they are skipped (and named
 * in the output) until the bug is fixed; each has a dedicated skipped test in
 * majority.test.ts. Run them anyway with `SIM_KNOWN=1`.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './support/chaos-sim.js';

const total = Number(process.env['SIM_SEEDS'] ?? 1000);
const from = Number(process.env['SIM_FROM'] ?? 1);
const mode = process.env['SIM_MODE'] as 'majority' | 'available' | undefined;
const runKnown = process.env['SIM_KNOWN'] === '1';
const chunk = 50;

const LEASE_TAIL = 'a start in the lease tail of a fresh split: a cut-off node still leased starts a child by its stale view';
const CONCURRENT = 'concurrent changes of placement inputs: two nodes, each the owner in its own view, start one child';
const KNOWN_MAJORITY: Record<number, string> = {
  104: `${LEASE_TAIL} (a pin on one side)`,
  650: `${CONCURRENT} (an undrain and a start in one instant)`,
  1026: `${LEASE_TAIL} (a drain on the minority side)`,
  1083: `${CONCURRENT} (an undrain as a one-way cut heals)`,
  1733: `${CONCURRENT} (two pins in one instant)`,
};

describe('randomized simulation of the distributed supervisor', () => {
  for (let start = from; start < from + total; start += chunk) {
    const end = Math.min(from + total, start + chunk);
    it(`seeds ${start}..${end - 1}: exactly once, nothing lost, terminate wins; majority mode: never twice at any moment, nothing without a majority`, async () => {
      const failures: string[] = [];
      for (let seed = start; seed < end; seed++) {
        const known = mode === 'majority' ? KNOWN_MAJORITY[seed] : undefined;
        if (known !== undefined && !runKnown) {
          console.log(`seed ${seed} (majority) skipped: known bug, ${known}`);
          continue;
        }
        const result = await runChaos(seed, mode ? { mode } : {});
        if (result.violations.length > 0) failures.push(`seed ${seed} (${result.mode}):\n  ${result.violations.join('\n  ')}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    }, 600_000);
  }
});
