/**
 * Bridging a partial partition (store/bridge.ts): n1 and n3 cannot hear each
 * other, n2 hears both. A change given to n1 reached n3 only through n2's
 * periodic root digest, an anti-entropy interval later (an outsider's tour on
 * real processes: a stop given to n1 of a child n3 ran took 24 s to reach
 * n3). Now n2 sends both its root digest every heartbeat while their reports
 * say they cannot hear each other.
 *
 * The bound checked is in simulated time (the manual clock), so it is exact,
 * not a timing assertion: without the bridge the change waits for the
 * anti-entropy pass (30 s by default here), far beyond it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bridgedPeers } from '../src/store/bridge.js';
import { FAST_TIMING, SimCluster } from './support/sim.js';

const ADDRESS = SimCluster.address;
const names = ['n1', 'n2', 'n3'];
/** Pings every 100 ms, down after 600 ms; the anti-entropy pass at its default (30 s). */
const TIMING = FAST_TIMING;
/** Ten heartbeats: a digest, a finer one and a pull take a few round trips after the next heartbeat. */
const CROSSES_WITHIN_MS = 1_000;
const ids = Array.from({ length: 12 }, (_, i) => `k${i}`);

let sim: SimCluster;
afterEach(() => sim?.stopAll());

describe('bridgedPeers (pure)', () => {
  it('names both ends of each linked pair of which one reports it cannot hear the other, and nothing in a full mesh', () => {
    const reports: Record<string, string[]> = { n1: ['n3'], n3: ['n1'] };
    expect(bridgedPeers(['n1', 'n3', 'n4'], (p) => reports[p] ?? [])).toEqual(['n1', 'n3']);
    // One-way: only n3 reports it cannot hear n1; both still get the digests.
    expect(bridgedPeers(['n3', 'n1'], (p) => (p === 'n1' ? ['n3'] : []))).toEqual(['n1', 'n3']);
    expect(bridgedPeers(['n1', 'n3'], () => [])).toEqual([]);
  });

  it('ignores reporters this node is not linked to (it cannot bridge to them) and a member reporting itself', () => {
    expect(bridgedPeers(['n1'], () => ['n3'])).toEqual([]);
    expect(bridgedPeers(['n1', 'n3'], (p) => [p])).toEqual([]);
  });
});

async function cluster(seed: number, netsplit: 'available' | 'majority'): Promise<void> {
  sim = new SimCluster(seed, { latencyMs: 1, jitterMs: 4 });
  const config = { ...TIMING, netsplit, ...(netsplit === 'majority' ? { expectedMembers: 3 } : {}) };
  for (const name of names) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
  await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 10_000, 'mesh and ready');
  for (const id of ids) await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id, start: { worker: 'w' } }));
  await sim.until(() => sim.exactlyOnce(ids), 5_000, 'children placed');
}

/** Cuts n1 and n3 apart (both ways), n2 hearing both, and runs until n1 and n3 know it and n2 bridges them. */
async function partial(): Promise<void> {
  sim.network.cut(ADDRESS('n1'), ADDRESS('n3'));
  await sim.until(
    () => !sim.mustGet('n1').upMembers().includes('n3') && !sim.mustGet('n3').upMembers().includes('n1'),
    5_000,
    'n1 and n3 no longer hear each other',
  );
  await sim.until(() => sim.mustGet('n2').supervisor.bridgedPeers().join() === 'n1,n3', 2_000, 'n2 bridges n1 and n3');
}

describe('a partial partition: a change crosses it through the member that hears both', () => {
  it('majority mode: a stop given to n1 of a child n3 runs stops it within a second, not at the next anti-entropy pass', async () => {
    await cluster(61, 'majority');
    const id = ids.find((k) => sim.instances(k)[0] === 'n3')!;
    expect(id).toBeDefined();
    await partial();
    const stop = sim.mustGet('n1').supervisor.terminateChild(id);
    stop.catch(() => undefined); // n1 cannot confirm it while it cannot hear n3 (ops-split.test.ts); the record is what counts here
    const at = sim.clock.now();
    await sim.until(() => sim.instances(id).length === 0, CROSSES_WITHIN_MS, `${id} stopped on n3`);
    expect(sim.clock.now() - at).toBeLessThan(CROSSES_WITHIN_MS);
    expect(sim.runs.overlaps()).toEqual([]);
  });

  it('available mode: a stop given to n1 of a child n3 runs reaches n3 within a second', async () => {
    await cluster(62, 'available');
    const id = ids.find((k) => sim.instances(k)[0] === 'n3')!;
    expect(id).toBeDefined();
    await partial();
    // Available mode: n3 runs on (and, where n1's view of placement makes n1 the owner, so does a copy on n1).
    await sim.run(1_000);
    expect(sim.instances(id)).toContain('n3');
    const stop = sim.mustGet('n1').supervisor.terminateChild(id);
    stop.catch(() => undefined);
    const at = sim.clock.now();
    await sim.until(() => sim.instances(id).length === 0, CROSSES_WITHIN_MS, `${id} stopped on n1 and n3`);
    expect(sim.clock.now() - at).toBeLessThan(CROSSES_WITHIN_MS);
  });

  it('the bridge ends with the partial partition: after the heal no member bridges', async () => {
    await cluster(63, 'available');
    await partial();
    sim.network.heal();
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.bridgedPeers().length === 0), 5_000, 'healed, no bridge');
  });
});
