/**
 * Waking from a pause on real processes, the bounded CI version of
 * reliability/wake.mjs: three `pogo node` members on loopback, 60 idle
 * children; a member frozen (SIGSTOP) past the heartbeat timeout, so its
 * peers start its children, then woken (SIGCONT). From the members' own
 * child logs: the woken node starts nothing its peers run; in available
 * mode every duplicate of the freeze is down to one instance after the wake
 * (within the script's bound, derived from the preset: 16 s with lan); in
 * majority mode no overlap but the documented one of a frozen node's own
 * children; every child once after each round. Fixed freezes (4.5 s and 9 s
 * in available mode; 12 s in majority mode, whose peers wait for the frozen
 * node's lease, stop time and margin, 6.7 s), fixed seed.
 *
 * No wall-clock timing is asserted: the only bounds are the script's,
 * derived from the configured timeouts. That the peers took a frozen node's
 * children over in at least one round (else the test showed nothing) rests
 * on freezes of 3 and 4 heartbeat timeouts, 1.8 times majority mode's wait.
 * The analysis itself is shown failing on synthetic records in
 * wake-judge.test.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { scriptHarness } from './support/scripts.js';

const WAKE = fileURLToPath(new URL('../../reliability/wake.mjs', import.meta.url));
const SEED = 20261205;

const { dir, run: runScript } = scriptHarness('pogo-wake-test-');

interface WakeResult {
  rounds: Array<{
    round: number;
    freezeMs: number;
    takenOver: number;
    wakeStarts: number;
    wakeStartsOverPeers: number;
    duplicates: number;
    unresolved: number;
  }>;
  childrenLost: number;
  violations: Array<{ invariant: string; detail: string }>;
}

for (const [netsplit, freezes] of [
  ['available', '4.5s,9s'],
  ['majority', '12s'],
] as const) {
  it(
    `netsplit ${netsplit}: 3 members, 60 children, a member frozen ${freezes.replace(',', ' and ')} past the heartbeat timeout and woken: ` +
      'it starts nothing its peers run, the freeze leaves no overlap the policy does not allow, every child once after',
    { timeout: 240_000 },
    async () => {
      mkdirSync(dir, { recursive: true }); // the harness removes it after each test
      const json = join(dir, `wake-${netsplit}.json`);
      const rounds = freezes.split(',').length;
      const args = [WAKE, '--children', '60', '--rounds', String(rounds), '--seed', String(SEED), '--freezes', freezes, '--netsplit', netsplit, '--json', json];
      const { code, output } = await runScript(args).done;
      const result = JSON.parse(readFileSync(json, 'utf8')) as WakeResult;
      console.log(
        output
          .split('\n')
          .filter((l) => l.startsWith(`wake: seed ${SEED},`))
          .at(-1),
      );
      expect(result.violations, output.slice(-6000)).toEqual([]);
      expect(code, output.slice(-3000)).toBe(0);
      expect(result.rounds.map((r) => r.round)).toEqual(Array.from({ length: rounds }, (_, i) => i + 1));
      for (const r of result.rounds) {
        expect(r.wakeStartsOverPeers).toBe(0);
        // Available mode: each child the peers started is a duplicate (the woken node keeps its own instance), resolved.
        if (netsplit === 'available') expect([r.duplicates, r.unresolved]).toEqual([r.takenOver, 0]);
      }
      expect(result.rounds.some((r) => r.takenOver > 0)).toBe(true);
      expect(result.childrenLost).toBe(0);
    },
  );
}
