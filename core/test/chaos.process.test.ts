/**
 * Chaos on real processes, the bounded CI version of reliability/chaos.mjs:
 * five `pogo node` processes with 300 children; for about 75 s (at least one
 * round of each fault: SIGKILL and restart, SIGSTOP/SIGCONT, rolling
 * graceful restart, partition — network namespaces where the machine allows
 * it, else a frozen side), with children started and stopped meanwhile.
 * After every quiet period the script checks DESIGN §3.5 against what the
 * node processes really run. Fixed seed; no timing is asserted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { scriptHarness } from './support/scripts.js';

const CHAOS = fileURLToPath(new URL('../../reliability/chaos.mjs', import.meta.url));
const SEED = 20261123;

const { dir, run: runScript } = scriptHarness('pogo-chaos-test-');

interface ChaosResult {
  seed: number;
  partitionMethod: 'netns' | 'freeze';
  faults: { total: number; kills: number; freezes: number; rolling: number; partitions: number };
  childrenLost: number;
  duplicatesAfterQuiescence: number;
  longestRecoveryMs: number;
  violations: Array<{ invariant: string; ids: string[]; detail: string }>;
}

it('5 nodes, 300 children, every kind of fault: no child lost, no duplicate after quiescence', { timeout: 420_000 }, async () => {
  const json = join(dir, 'chaos.json');
  const args = [CHAOS, '--nodes', '5', '--children', '300', '--duration', '75s', '--min-rounds', '4', '--seed', String(SEED), '--quiet', '2s', '--json', json];
  const run = runScript(args);
  const { code, output } = await run.done;
  const result = JSON.parse(readFileSync(json, 'utf8')) as ChaosResult;
  const figure = output
    .split('\n')
    .filter((l) => l.startsWith(`chaos: seed ${SEED},`))
    .at(-1);
  console.log(figure);
  expect(result.violations, output.slice(-6000)).toEqual([]);
  expect(code, output.slice(-3000)).toBe(0);
  expect(result.childrenLost).toBe(0);
  expect(result.duplicatesAfterQuiescence).toBe(0);
  // Every kind of fault was applied at least once (the first four rounds are one of each).
  expect(result.faults.kills).toBeGreaterThan(0);
  expect(result.faults.freezes).toBeGreaterThan(0);
  expect(result.faults.rolling).toBeGreaterThan(0);
  expect(result.faults.partitions).toBeGreaterThan(0);
});
