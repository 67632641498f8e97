/**
 * Dialling many unreachable members does not scan the member table on every
 * attempt. Found by an outsider's tour on real nodes: a peer holding the
 * secret gossiped 5,000 members at ~1,000 dead addresses; each redial asked
 * `wantsDial` and `alone`, each a scan of the whole table, and the node spent
 * 80 % of its CPU there with seconds of event-loop lag (/healthz took up to
 * 4 s). Counted here, not timed: how often the table is walked whole, against
 * the dials made. Simulated network and clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { MemberInfo } from '../src/protocol.js';
import { SimCluster } from './support/sim.js';

let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

describe('membership at scale', () => {
  it('redialling 1,000 dead addresses of 3,000 gossiped members walks the table a bounded number of times', async () => {
    sim = new SimCluster(17, { latencyMs: 1, jitterMs: 0 });
    const n1 = await sim.start('n1', [], { preset: 'local' });
    await sim.start('n2', ['n1'], { preset: 'local' });
    sim.settle(() => sim!.fullMesh(), 5_000, 'n1-n2 linked');
    const membership = (n1 as unknown as { membership: { table: Map<string, unknown>; onMessage(link: unknown, m: unknown): void } }).membership;
    let walks = 0;
    const table = membership.table;
    const values = table.values.bind(table);
    table.values = () => {
      walks++;
      return values();
    };
    const fake: MemberInfo[] = Array.from({ length: 3_000 }, (_, i) => ({
      name: `fake${i}`,
      incarnation: (0x10000000 + i).toString(16),
      startedAt: 1,
      address: `dead${i % 1_000}:4370`,
      role: 'member',
      labels: {},
      workers: [],
      version: 1,
      status: 'up',
    }));
    membership.onMessage({ peer: { name: 'n2' } }, { t: 'gossip', members: fake });
    walks = 0;
    await sim.run(20_000);
    const dialing = n1.status().dialing;
    expect(dialing.length).toBe(1_000);
    const attempts = dialing.reduce((sum, d) => sum + d.attempts, 0);
    expect(attempts).toBeGreaterThan(3_000);
    // Gossip rounds and status reads walk it; a dial attempt does not.
    expect(walks).toBeLessThan(attempts / 10);
    expect(n1.upMembers().sort()).toEqual(['n1', 'n2']);
  });
});
