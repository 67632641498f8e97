/**
 * Whole-cluster restarts with data dirs on real processes, the bounded CI
 * version of reliability/restarts.mjs: three `pogo node` members on
 * loopback with `--data-dir`, 50 children; all three SIGKILLed and started
 * again in staggered groups — n1 first, then n2 and n3 together (the order
 * of the issue, twice), and two other orders — with gaps drawn from the seed.
 * From the members' own child logs: no child ever ran on two nodes at the
 * same moment, every child is back exactly once, each member restored them
 * all from its data dir. Once in the default netsplit mode and once in
 * majority mode. No timing is asserted.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { scriptHarness } from './support/scripts.js';

const RESTARTS = fileURLToPath(new URL('../../reliability/restarts.mjs', import.meta.url));
const SEED = 20261125;
const ORDERS = 'n1/n2+n3,n2/n1+n3,n1/n2+n3,n1/n2/n3';

const { dir, run: runScript } = scriptHarness('pogo-restarts-test-');

interface RestartsResult {
  repetitions: Array<{ rep: number; order: string; backMs?: number; overlaps: number }>;
  overlaps: number;
  childrenLost: number;
  violations: Array<{ invariant: string; detail: string }>;
}

for (const netsplit of ['available', 'majority'] as const) {
  it(
    `netsplit ${netsplit}: 3 members with data dirs, 50 children, SIGKILL all and restart in staggered groups 4 times: ` +
      'every child back exactly once, never on two nodes at once',
    { timeout: 240_000 },
    async () => {
      mkdirSync(dir, { recursive: true }); // the harness removes it after each test
      const json = join(dir, `restarts-${netsplit}.json`);
      const args = [
        RESTARTS,
        '--nodes',
        '3',
        '--children',
        '50',
        '--repetitions',
        '4',
        '--seed',
        String(SEED),
        '--orders',
        ORDERS,
        '--gaps',
        '0,200,1000,2500',
        '--netsplit',
        netsplit,
        '--json',
        json,
      ];
      const { code, output } = await runScript(args).done;
      const result = JSON.parse(readFileSync(json, 'utf8')) as RestartsResult;
      console.log(
        output
          .split('\n')
          .filter((l) => l.startsWith(`restarts: seed ${SEED},`))
          .at(-1),
      );
      expect(result.violations, output.slice(-6000)).toEqual([]);
      expect(code, output.slice(-3000)).toBe(0);
      expect(result.repetitions.map((r) => r.order)).toEqual(ORDERS.split(','));
      expect(result.repetitions.every((r) => r.backMs !== undefined && r.overlaps === 0)).toBe(true);
      expect(result.overlaps).toBe(0);
      expect(result.childrenLost).toBe(0);
    },
  );
}
