/**
 * Randomized deterministic simulation over many seeds (DESIGN §5.2). CI runs
 * 1,000 seeds; for longer runs: `SIM_SEEDS=20000 SIM_FROM=1000 npm run sim`.
 * A failing seed is printed; rerun it alone with `SIM_FROM=<seed> SIM_SEEDS=1`.
 */
import { describe, expect, it } from 'vitest';
import { runChaos } from './support/chaos-sim.js';

const total = Number(process.env['SIM_SEEDS'] ?? 1000);
const from = Number(process.env['SIM_FROM'] ?? 1);
const chunk = 50;

describe('randomized simulation of the distributed supervisor', () => {
  for (let start = from; start < from + total; start += chunk) {
    const end = Math.min(from + total, start + chunk);
    it(`seeds ${start}..${end - 1}: exactly once, nothing lost, terminate wins, majority respected, no overlap`, async () => {
      const failures: string[] = [];
      for (let seed = start; seed < end; seed++) {
        const result = await runChaos(seed);
        if (result.violations.length > 0) failures.push(`seed ${seed} (${result.mode}):\n  ${result.violations.join('\n  ')}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    }, 600_000);
  }
});
