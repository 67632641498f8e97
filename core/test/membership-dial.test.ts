/**
 * Dialling what does not answer: each address logs its 1st, 2nd, 4th, …
 * failed attempt, and the node logs at most 10 failed dials one by one per
 * 10 s, the rest in one line per window (membership.ts `logDialFailure`):
 * a DNS name answering with hundreds of dead addresses made 2,000 warnings
 * in 15 s in a tour. Simulated network and clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimCluster } from './support/sim.js';

let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

describe('failed dials in the log', () => {
  it('50 dead seeds: at most 10 one by one per 10 s, the rest counted in one line; every address still dialled', async () => {
    sim = new SimCluster(5, { latencyMs: 1, jitterMs: 0 });
    const dead = Array.from({ length: 50 }, (_, i) => `dead${i}`);
    const node = await sim.start('n1', dead, { preset: 'lan' });
    await sim.run(30_000);
    const warnings = sim.log.entries.filter((e) => e.level === 'warn');
    const oneByOne = warnings.filter((e) => e.message.startsWith('cannot link to dead'));
    const summaries = warnings.filter((e) => /^cannot link to \d+ more address\(es\)/.test(e.message));
    expect(oneByOne.length).toBeLessThanOrEqual(10 * 4);
    expect(oneByOne.length).toBeGreaterThanOrEqual(10);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries[0]!.message).toMatch(/\(\d+ failed dials not logged one by one\); retrying each with backoff/);
    // Quieter, not slower: every seed is still being dialled, each with its own count of attempts.
    const dialing = node.status().dialing;
    expect(dialing.map((d) => d.address).sort()).toEqual(dead.map(SimCluster.address).sort());
    expect(dialing.every((d) => d.attempts >= 3)).toBe(true);
  });
});
