/**
 * Failure detection with mixed timing settings (link.ts, "Mixed settings"):
 * the derivation rule as a pure function, and nodes on different presets on
 * the in-memory network under one ManualClock — they stay linked over many
 * intervals, and a real silence still takes the link down at the derived
 * timeout, at both ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TIMING_PRESETS } from '../src/config.js';
import { handshakeProof, linkHeartbeat, type HeartbeatTiming } from '../src/link.js';
import type { PogoNode } from '../src/node.js';
import { SeededRandom } from '../src/random.js';
import { SIM_SECRET, SimCluster } from './support/sim.js';

const { local, lan, wan } = TIMING_PRESETS;
const heartbeatOf = (t: HeartbeatTiming): HeartbeatTiming => ({
  heartbeatIntervalMs: t.heartbeatIntervalMs,
  suspectAfterMs: t.suspectAfterMs,
  heartbeatTimeoutMs: t.heartbeatTimeoutMs,
});

let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

describe('linkHeartbeat: the rule', () => {
  it('local with lan: pings at the local interval, waits for the lan thresholds, whichever end computes it', () => {
    const expected = { heartbeatIntervalMs: 200, suspectAfterMs: 2_000, heartbeatTimeoutMs: 3_000 };
    expect(linkHeartbeat(heartbeatOf(local), heartbeatOf(lan))).toEqual(expected);
    expect(linkHeartbeat(heartbeatOf(lan), heartbeatOf(local))).toEqual(expected);
    expect(linkHeartbeat(heartbeatOf(local), heartbeatOf(wan))).toEqual({ heartbeatIntervalMs: 200, suspectAfterMs: 5_000, heartbeatTimeoutMs: 15_000 });
  });

  it('a peer that announced nothing (protocol 2.0) is taken to share our settings', () => {
    expect(linkHeartbeat(heartbeatOf(local), undefined)).toEqual(heartbeatOf(local));
    expect(linkHeartbeat(heartbeatOf(lan), undefined)).toEqual(heartbeatOf(lan));
  });

  it('for any two valid settings: symmetric, ordered, and never less patient than either end on its own', () => {
    const random = new SeededRandom(14);
    const settings = (): HeartbeatTiming => {
      const heartbeatIntervalMs = 10 + random.int(5_000);
      const suspectAfterMs = heartbeatIntervalMs + 1 + random.int(20_000);
      return { heartbeatIntervalMs, suspectAfterMs, heartbeatTimeoutMs: suspectAfterMs + 1 + random.int(60_000) };
    };
    for (let i = 0; i < 2_000; i++) {
      const a = settings();
      const b = settings();
      const link = linkHeartbeat(a, b);
      expect(linkHeartbeat(b, a)).toEqual(link);
      expect(link.heartbeatIntervalMs).toBeLessThan(link.suspectAfterMs);
      expect(link.suspectAfterMs).toBeLessThan(link.heartbeatTimeoutMs);
      for (const end of [a, b]) {
        // Pings at least as often, and tolerates at least as many missed pings, as this end's own setting.
        expect(link.heartbeatIntervalMs).toBeLessThanOrEqual(end.heartbeatIntervalMs);
        expect(link.suspectAfterMs).toBeGreaterThanOrEqual(end.suspectAfterMs);
        expect(link.heartbeatTimeoutMs).toBeGreaterThanOrEqual(end.heartbeatTimeoutMs);
        expect(link.heartbeatTimeoutMs / link.heartbeatIntervalMs).toBeGreaterThanOrEqual(end.heartbeatTimeoutMs / end.heartbeatIntervalMs);
      }
    }
  });
});

/** Pings sent from `from` to `to` (alone or in a batch), counted by a tap on the network. */
function countPings(cluster: SimCluster): (from: string, to: string) => number {
  const counts = new Map<string, number>();
  cluster.network.tap = (from, to, message) => {
    const m = message as { t?: string; frames?: Array<{ t?: string }> };
    const pings = m.t === 'ping' ? 1 : m.t === 'batch' ? (m.frames ?? []).filter((f) => f.t === 'ping').length : 0;
    if (pings > 0) counts.set(`${from}>${to}`, (counts.get(`${from}>${to}`) ?? 0) + pings);
  };
  return (from, to) => counts.get(`${SimCluster.address(from)}>${SimCluster.address(to)}`) ?? 0;
}

/** Every member-down and suspect any of `nodes` reports, as `observer: peer kind`. */
function recordTrouble(nodes: PogoNode[]): string[] {
  const trouble: string[] = [];
  for (const n of nodes) {
    n.on('member-down', (e) => trouble.push(`${n.name}: ${e.member.name} down (${e.reason})`));
    n.on('member-suspect', (e) => e.suspect && trouble.push(`${n.name}: ${e.member.name} suspect`));
  }
  return trouble;
}

const linkTiming = (node: PogoNode, peer: string) => node.status().links.find((l) => l.peer === peer)?.heartbeat;

describe('mixed presets on the simulated network', () => {
  it('a local node and a lan node stay linked for 10 minutes; both ends use the same numbers; each pings at 200 ms', async () => {
    sim = new SimCluster(1401, { latencyMs: 2, jitterMs: 8 });
    const a = await sim.start('a', [], { preset: 'local' });
    sim.clock.advance(137); // b's ticks fall between a's
    const b = await sim.start('b', ['a'], { preset: 'lan' });
    sim.settle(() => sim!.fullMesh(), 5_000, 'a-b linked');
    const trouble = recordTrouble([a, b]);
    const pings = countPings(sim);
    sim.clock.advance(600_000);
    expect(trouble).toEqual([]);
    expect(linkTiming(a, 'b')).toEqual({ intervalMs: 200, suspectAfterMs: 2_000, timeoutMs: 3_000 });
    expect(linkTiming(b, 'a')).toEqual({ intervalMs: 200, suspectAfterMs: 2_000, timeoutMs: 3_000 });
    // 600 s at one ping per 200 ms: 3,000 each way (a tick may come early, never late).
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      expect(pings(from, to)).toBeGreaterThanOrEqual(3_000);
      expect(pings(from, to)).toBeLessThanOrEqual(3_002);
    }
  });

  it('a lan observer among three local members: no member-down and no suspect anywhere for 10 minutes', async () => {
    sim = new SimCluster(1402, { latencyMs: 2, jitterMs: 8 });
    const members = [await sim.start('m1', [], { preset: 'local' })];
    for (const name of ['m2', 'm3']) members.push(await sim.start(name, ['m1'], { preset: 'local' }));
    sim.clock.advance(333);
    const observer = await sim.start('obs', ['m1'], { role: 'observer' });
    sim.settle(() => sim!.fullMesh(), 5_000, 'mesh');
    const trouble = recordTrouble([...members, observer]);
    sim.clock.advance(600_000);
    expect(trouble).toEqual([]);
    // Member to member: local's own numbers; to the observer: the derived ones.
    expect(linkTiming(members[0]!, 'm2')).toEqual({ intervalMs: 200, suspectAfterMs: 600, timeoutMs: 1_000 });
    expect(linkTiming(members[0]!, 'obs')).toEqual({ intervalMs: 200, suspectAfterMs: 2_000, timeoutMs: 3_000 });
  });

  it("a lan node pings each link at that link's interval: 200 ms to a local peer, 1 s to a lan peer", async () => {
    sim = new SimCluster(1403, { latencyMs: 1, jitterMs: 3 });
    await sim.start('a', [], { preset: 'local' });
    const b = await sim.start('b', ['a'], { preset: 'lan' });
    await sim.start('c', ['a'], { preset: 'lan' });
    sim.settle(() => sim!.fullMesh(), 5_000, 'mesh');
    const trouble = recordTrouble(sim.running());
    const pings = countPings(sim);
    sim.clock.advance(100_000);
    expect(trouble).toEqual([]);
    expect(linkTiming(b, 'c')).toEqual({ intervalMs: 1_000, suspectAfterMs: 2_000, timeoutMs: 3_000 });
    expect(pings('b', 'a')).toBeGreaterThanOrEqual(500);
    expect(pings('b', 'a')).toBeLessThanOrEqual(502);
    expect(pings('b', 'c')).toBeGreaterThanOrEqual(100);
    expect(pings('b', 'c')).toBeLessThanOrEqual(102);
  });

  it('a real silence still takes the link down at the derived timeout, at both ends (suspect at 2 s, down at 3 s)', async () => {
    sim = new SimCluster(1404, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { preset: 'local' });
    sim.clock.advance(71);
    const b = await sim.start('b', ['a'], { preset: 'lan' });
    sim.settle(() => sim!.fullMesh(), 5_000, 'a-b linked');
    sim.clock.advance(5_000);
    const seen: Record<string, Array<[string, number]>> = { a: [], b: [] };
    for (const n of [a, b]) {
      n.on('member-suspect', (e) => e.suspect && seen[n.name]!.push(['suspect', sim!.clock.now()]));
      n.on('member-down', () => seen[n.name]!.push(['down', sim!.clock.now()]));
    }
    sim.network.partition([SimCluster.address('a')], [SimCluster.address('b')]);
    sim.clock.advance(1);
    const lastHeard = { a: sim.clock.now() - a.status().links[0]!.lastHeardMsAgo, b: sim.clock.now() - b.status().links[0]!.lastHeardMsAgo };
    for (let i = 0; i < 1_000 && !(seen.a!.some(([k]) => k === 'down') && seen.b!.some(([k]) => k === 'down')); i++) sim.clock.advance(10);
    // On the derived thresholds (within the 10 ms steps of this loop), at both ends.
    for (const n of ['a', 'b'] as const) {
      expect(seen[n]!.map(([k, at]) => [k, Math.floor((at - lastHeard[n]) / 10) * 10])).toEqual([
        ['suspect', 2_000],
        ['down', 3_000],
      ]);
    }
  });

  it('a peer of protocol 2.0 announces nothing: the link uses our own settings, and our challenge announces them', async () => {
    sim = new SimCluster(1405, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { preset: 'local' });
    sim.settle(() => true, 10, 'start');
    const incarnation = 'abcdef0123456789';
    const nonce = '1'.repeat(32);
    const conn = sim.network.transport('old:4370').dial(SimCluster.address('a'));
    const received: Array<Record<string, unknown>> = [];
    conn.setHandlers({
      onOpen: () =>
        conn.send({
          t: 'hello',
          cluster: 'pogo',
          protocol: { major: 2, minor: 0 },
          name: 'old',
          incarnation,
          startedAt: 1,
          address: 'old:4370',
          role: 'member',
          nonce,
        }),
      onMessage: (m) => {
        const frame = m as Record<string, unknown>;
        received.push(frame);
        if (frame['t'] === 'challenge') {
          conn.send({
            t: 'auth',
            proof: handshakeProof(
              SIM_SECRET,
              'dialer',
              'pogo',
              { name: 'old', incarnation, nonce },
              { name: String(frame['name']), incarnation: String(frame['incarnation']), nonce: String(frame['nonce']) },
            ),
          });
        }
      },
      onClose: () => {},
    });
    sim.clock.advance(50);
    expect(received.map((m) => m['t'])).toContain('welcome');
    expect(received.find((m) => m['t'] === 'challenge')?.['heartbeat']).toEqual({ intervalMs: 200, suspectAfterMs: 600, timeoutMs: 1_000 });
    expect(linkTiming(a, 'old')).toEqual({ intervalMs: 200, suspectAfterMs: 600, timeoutMs: 1_000 });
    // It says nothing more: dropped after a's own timeout.
    sim.clock.advance(1_100);
    expect(a.status().links.find((l) => l.peer === 'old')).toBeUndefined();
  });
});
