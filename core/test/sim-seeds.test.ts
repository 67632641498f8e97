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
 * KNOWN_MAJORITY lists seeds that, run in majority mode (drawn or forced),
 * reproduce a known bug of the product (not of the harness): they are
 * skipped (and named in the output) until the bug is fixed; each kind has a
 * dedicated skipped test in majority.test.ts. Run them anyway with
 * `SIM_KNOWN=1`. A change to core/src shifts what each seed does, so after
 * the fix (or any change) the list is checked again with
 * `SIM_KNOWN=1 SIM_MODE=majority SIM_SEEDS=2500`.
 */
import { describe, expect, it } from 'vitest';
import { drawnMode, runChaos } from './support/chaos-sim.js';

const total = Number(process.env['SIM_SEEDS'] ?? 1000);
const from = Number(process.env['SIM_FROM'] ?? 1);
const mode = process.env['SIM_MODE'] as 'majority' | 'available' | undefined;
const runKnown = process.env['SIM_KNOWN'] === '1';
/** Which seeds keep data dirs (chaos-sim.ts `durable`): every third unless SIM_DURABLE=1 (all) or 0 (none). */
const durable = (seed: number): boolean => (process.env['SIM_DURABLE'] === undefined ? seed % 3 === 0 : process.env['SIM_DURABLE'] === '1');
const chunk = 50;

/**
 * Empty since start claims (distributed/decide.ts): the seeds listed before
 * (11, 104, 619, 1026, 1083, 1921, 2318; one root cause, a majority-mode
 * start decided on a stale view of a silent or concurrent peer) pass, and
 * so do all of `SIM_KNOWN=1 SIM_MODE=majority SIM_SEEDS=2500`.
 */
const KNOWN_MAJORITY: Record<number, string> = {};

describe('randomized simulation of the distributed supervisor', () => {
  for (let start = from; start < from + total; start += chunk) {
    const end = Math.min(from + total, start + chunk);
    it(`seeds ${start}..${end - 1}: exactly once, nothing lost, terminate wins; majority mode: never twice at any moment, nothing without a majority`, async () => {
      const failures: string[] = [];
      for (let seed = start; seed < end; seed++) {
        const known = (mode ?? drawnMode(seed)) === 'majority' ? KNOWN_MAJORITY[seed] : undefined;
        if (known !== undefined && !runKnown) {
          console.log(`seed ${seed} (majority) skipped: known bug, ${known}`);
          continue;
        }
        const result = await runChaos(seed, { ...(mode ? { mode } : {}), durable: durable(seed) });
        if (result.violations.length > 0)
          failures.push(`seed ${seed} (${result.mode}${durable(seed) ? ', durable' : ''}):\n  ${result.violations.join('\n  ')}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    }, 600_000);
  }
});
