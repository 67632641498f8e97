/**
 * What the observer's timeline says while members meet at start: nothing
 * down. Race "a member met late reported unheard" (membership.ts
 * `unheardList`): a member learned from gossip is down in a peer's table
 * until their link is up, and each member's `reach` report named the
 * newcomers it had not linked yet, so the observer published "n3 down (cut
 * off: n1, n2 cannot hear it)" for members starting (ten in one simulated
 * start of five members over 20-300 ms links; once on real processes, in
 * network namespaces, right after "n2 up").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '../src/observer/gateway.js';
import type { ClusterState } from '../src/observer/state.js';
import { SnapshotReader } from './support/gateway-snapshot.js';
import { FAST_TIMING, SimCluster } from './support/sim.js';

/** The state a UI connecting now is sent (the gateway's history included). */
const snapshots = new SnapshotReader();
const snapshot = (g: Gateway): Promise<ClusterState> => snapshots.read(g);

let sim: SimCluster | undefined;
let gateway: Gateway | undefined;
afterEach(async () => {
  snapshots.closeAll();
  await gateway?.close();
  sim?.stopAll();
});
describe('timeline truth: members meeting at start', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8])
    it(`five members started one after another over slow links: no node-down, one node-up each (seed ${seed})`, async () => {
      const s = new SimCluster(seed, { latencyMs: 20, jitterMs: 300 });
      sim = s;
      await s.start('n1', [], FAST_TIMING);
      await s.start('obs', ['n1'], { ...FAST_TIMING, role: 'observer' });
      gateway = await startGateway(s.mustGet('obs'), { intervalMs: 100 });
      await s.run(500);
      await s.start('n2', ['n1'], FAST_TIMING);
      await s.start('n3', ['n1'], FAST_TIMING);
      await s.start('n4', ['n2'], FAST_TIMING);
      await s.start('n5', ['n4'], FAST_TIMING);
      await s.run(5_000);
      const state = await snapshot(gateway);
      const t = state.events
        .filter((e) => e.type === 'node-down' || e.type === 'node-up')
        .map((e) => `${e.type} ${(e as { node: string }).node} ${(e as { reason?: string }).reason ?? ''}`);
      expect(t.filter((x) => x.startsWith('node-down'))).toEqual([]);
      for (const n of ['n2', 'n3', 'n4', 'n5']) expect(t.filter((x) => x.startsWith(`node-up ${n} `))).toHaveLength(1);
    });
});
