/**
 * Tombstones without resurrection (distributed/tombstones.ts): the pure
 * decisions, then whole clusters in simulation — tombstones collected once
 * every member holds them; held back by a member that is away; a member
 * back from a partition or with an old data dir (longer than the TTL)
 * resurrects nothing; a member away past forgetAfterMs is forgotten by a
 * majority and, when it comes back with older state, discards it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChildRegister } from '../src/distributed/registers.js';
import { forgettable, rosterRegressed, tombstoneStep } from '../src/distributed/tombstones.js';
import type { PogoNode } from '../src/node.js';
import { SimCluster } from './support/sim.js';

const NOW = 1_764_000_000_000;
const ver = (t: number, seq: number, node: string) => `${t.toString(36).padStart(10, '0')}.${seq.toString(36).padStart(6, '0')}.${node}`;

describe('tombstone decisions', () => {
  const floor = ver(NOW, 1, 'n1');
  const tomb: ChildRegister = { floor, floorAt: NOW, specs: [] };
  const collected: ChildRegister = { ...tomb, collected: floor };
  const base = { now: NOW + 10_000, ttlMs: 5_000, everyoneHolds: true, observer: false };

  it('marks a tombstone older than the TTL once every member holds it; drops it once every member holds the mark', () => {
    expect(tombstoneStep(tomb, base)).toBe('mark');
    expect(tombstoneStep(tomb, { ...base, now: NOW + 4_999 })).toBe('keep');
    expect(tombstoneStep(tomb, { ...base, everyoneHolds: false })).toBe('keep');
    expect(tombstoneStep(collected, base)).toBe('drop');
    expect(tombstoneStep(collected, { ...base, everyoneHolds: false })).toBe('keep');
    // A live spec above an older floor is no tombstone.
    expect(
      tombstoneStep(
        {
          floor,
          specs: [
            {
              rev: ver(NOW + 1, 1, 'n2'),
              spec: { id: 'x', start: { worker: 'w' }, restart: 'permanent', shutdown: 5000, maxRestarts: 3, maxSeconds: 5, labels: {}, handoff: 'stop-first' },
            },
          ],
        },
        base,
      ),
    ).toBe('keep');
  });

  it('an observer never marks, and drops a collected tombstone at once', () => {
    expect(tombstoneStep(tomb, { ...base, observer: true })).toBe('keep');
    expect(tombstoneStep(collected, { ...base, observer: true, everyoneHolds: false })).toBe('drop');
  });

  it("takes a member's own roster entry for regressed only when it is an older 'member' than the one held", () => {
    const older = { value: true, ver: ver(NOW, 1, 'n3') };
    const newer = { value: true, ver: ver(NOW + 5_000, 1, 'n3') };
    expect(rosterRegressed(newer, older)).toBe(true); // restored from a file older than its last save
    expect(rosterRegressed(newer, newer)).toBe(false); // its own current entry
    expect(rosterRegressed(older, newer)).toBe(false); // it affirmed since
    expect(rosterRegressed(undefined, older)).toBe(false); // a node that never heard of it
    expect(rosterRegressed({ value: false, ver: ver(NOW + 5_000, 1, 'n1') }, older)).toBe(false); // forgotten: the forgotten path instead
    expect(rosterRegressed(newer, { value: false, ver: ver(NOW, 2, 'n3') })).toBe(false); // an older leave: last writer wins
  });

  it('forgets members away past forgetAfterMs, only from a side linked to a strict majority of the roster', () => {
    const roster = new Map([
      ['n1', true],
      ['n2', true],
      ['n3', true],
      ['n4', true],
      ['n5', true],
      ['old', false],
    ]);
    const away = new Map([
      ['n4', NOW - 100_000],
      ['n5', NOW - 10],
    ]);
    const ctx = { self: 'n1', roster, awaySince: away, now: NOW, forgetAfterMs: 50_000 };
    expect(forgettable({ ...ctx, linked: new Set(['n2', 'n3']) })).toEqual(['n4']);
    // Two of five: a minority forgets nobody, however long the others are away.
    expect(forgettable({ ...ctx, linked: new Set(['n2']), awaySince: new Map([...away, ['n3', NOW - 100_000]]) })).toEqual([]);
  });
});

const root = mkdtempSync(join(tmpdir(), 'pogo-tombstones-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

describe('tombstones in a cluster (simulation)', () => {
  let sim: SimCluster;
  afterEach(() => sim?.stopAll());
  const TIMING = { heartbeatIntervalMs: 100, suspectAfterMs: 300, heartbeatTimeoutMs: 600, antiEntropyIntervalMs: 500, tombstoneTtlMs: 5_000 };
  const w = (id: string) => ({ id, start: { worker: 'w' } });
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
  const tombstones = (n: PogoNode) => n.supervisor.store().tombstones + n.supervisor.store().collected;

  async function cluster(seed: number, config: Record<string, unknown> = {}, durable = false): Promise<{ nodes: PogoNode[]; dirs: Record<string, string> }> {
    sim = new SimCluster(seed);
    const base = join(root, `c${++dirs}`);
    const dataDirs: Record<string, string> = { n1: join(base, 'n1'), n2: join(base, 'n2'), n3: join(base, 'n3') };
    const nodes: PogoNode[] = [];
    for (const name of ['n1', 'n2', 'n3'])
      nodes.push(await sim.start(name, name === 'n1' ? [] : ['n1'], { ...TIMING, ...config, ...(durable ? { dataDir: dataDirs[name] } : {}) }));
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 5_000, 'mesh and ready');
    for (const id of ids(10)) await sim.resolve(nodes[0]!.supervisor.startChild(w(id)));
    return { nodes, dirs: dataDirs };
  }

  it('a tombstone goes everywhere once every member holds it and the TTL has passed, not before', async () => {
    const { nodes } = await cluster(901);
    for (const id of ids(5)) await sim.resolve(nodes[1]!.supervisor.terminateChild(id));
    expect(sim.running().every((n) => tombstones(n) === 5)).toBe(true);
    await sim.run(TIMING.tombstoneTtlMs - 1_000);
    expect(sim.running().every((n) => tombstones(n) === 5)).toBe(true); // within the TTL: kept
    await sim.until(() => sim.running().every((n) => tombstones(n) === 0), 10_000, 'tombstones collected everywhere');
    for (const n of sim.running()) expect(n.supervisor.store()).toMatchObject({ children: 5, tombstones: 0, collected: 0, roster: 3 });
    expect(sim.exactlyOnce(ids(10).slice(5))).toBe(true);
  });

  it('a member partitioned for far longer than the TTL comes back and resurrects nothing', async () => {
    const { nodes } = await cluster(902);
    sim.network.partition(['n3:4370'], ['n1:4370', 'n2:4370']);
    await sim.run(1_000);
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.run(6 * TIMING.tombstoneTtlMs);
    // n3 is on the roster and away: its side still runs the children (available mode), and the tombstones wait for it.
    expect(tombstones(nodes[0]!)).toBe(5);
    expect(ids(5).some((id) => sim.mustGet('n3').local.child(id)?.status === 'running')).toBe(true);
    sim.network.heal();
    await sim.until(() => sim.fullMesh() && sim.exactlyOnce(ids(10).slice(5)), 10_000, 'healed: the terminated children gone everywhere');
    await sim.until(() => sim.running().every((n) => tombstones(n) === 0), 10_000, 'tombstones collected after the heal');
    await sim.run(2_000);
    expect(sim.liveIds()).toEqual(ids(10).slice(5).sort());
    for (const id of ids(5)) expect(sim.instances(id)).toEqual([]);
  });

  it('a member whose data dir is older than the TTL restarts and resurrects nothing; tombstones waited for it', async () => {
    const { nodes, dirs: dataDirs } = await cluster(903, {}, true);
    await sim.run(500); // saved
    sim.crash('n3');
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.run(4 * TIMING.tombstoneTtlMs);
    expect(tombstones(nodes[0]!)).toBe(5);
    await sim.start('n3', ['n1'], { ...TIMING, dataDir: dataDirs['n3']! }); // its file holds t0..t4 live
    await sim.until(
      () => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady) && sim.exactlyOnce(ids(10).slice(5)),
      10_000,
      'n3 back, nothing resurrected',
    );
    await sim.until(() => sim.running().every((n) => tombstones(n) === 0), 15_000, 'tombstones collected once n3 holds them');
    expect(sim.liveIds()).toEqual(ids(10).slice(5).sort());
  });

  it('a member killed just after affirming its roster entry is not taken for restored: the affirm was on its disk before any peer held it', async () => {
    // tombstones.ts, 5, race "killed between the affirm and its save": with the affirm saved at the next coalesced
    // save (up to 200 ms later), this crash made n3's file older than the entry its peers held, and n3 was taken
    // for restored at its restart (it discarded its state and took the others').
    const { nodes, dirs: dataDirs } = await cluster(911, {}, true);
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.resolve(sim.mustGet('n3').supervisor.startChild(w('late'))); // acknowledged: on n3's disk and in the others' stores
    const n3 = sim.mustGet('n3');
    await sim.until(() => n3.supervisor.store().collected > 0, 20_000, 'a collected mark on n3', 1);
    sim.crash('n3'); // just after its affirm went out with the mark
    await sim.start('n3', ['n1'], { ...TIMING, dataDir: dataDirs['n3']! });
    const live = [...ids(10).slice(5), 'late'].sort();
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady) && sim.exactlyOnce(live), 10_000, 'n3 back');
    await sim.run(3_000);
    expect(sim.log.entries.some((e) => e.fields['peer'] === 'n3' && /came back with desired state older/.test(e.message))).toBe(false);
    expect(sim.log.entries.some((e) => /forgotten by the cluster while it was away; discarding/.test(e.message))).toBe(false);
    expect(sim.liveIds()).toEqual(live);
    for (const id of ids(5)) expect(sim.instances(id)).toEqual([]);
    for (const n of sim.running()) expect(n.supervisor.roster()).toEqual({ n1: true, n2: true, n3: true });
  });

  it('the whole cluster killed just after a member affirmed: back first and alone (available), what it acknowledged meanwhile holds when the others return', async () => {
    // An outsider's tour (reliability/backup-tour.mjs alone): n3 SIGKILLed as a collected mark landed, its peers
    // a moment later (they had saved its affirm, it had not); n3 back first, alone, ready by timeout, confirmed a
    // stop and a start; then n1 and n2 took it for restored — it discarded its state, and the stop and the start
    // it had confirmed were lost: the stopped child ran again, the started one was gone.
    const { nodes, dirs: dataDirs } = await cluster(912, {}, true);
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    const n3 = sim.mustGet('n3');
    await sim.until(() => n3.supervisor.store().collected > 0, 20_000, 'a collected mark on n3', 1);
    sim.crash('n3');
    await sim.run(400); // n1 and n2 save n3's affirm
    sim.crash('n1');
    sim.crash('n2');
    await sim.run(100);
    const back = await sim.start('n3', ['n1', 'n2'], { ...TIMING, dataDir: dataDirs['n3']! });
    await sim.until(() => back.supervisor.isReady, 20_000, 'n3 ready alone (by timeout)');
    await sim.resolve(back.supervisor.terminateChild('t5'));
    await sim.resolve(back.supervisor.startChild(w('alone')));
    for (const name of ['n1', 'n2']) await sim.start(name, ['n3'], { ...TIMING, dataDir: dataDirs[name]! });
    const live = [...ids(10).slice(6), 'alone'].sort();
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady) && sim.exactlyOnce(live), 15_000, 'all back');
    await sim.run(3_000);
    expect(sim.log.entries.some((e) => /forgotten by the cluster while it was away; discarding/.test(e.message))).toBe(false);
    expect(sim.liveIds()).toEqual(live);
    expect(sim.instances('t5')).toEqual([]);
    for (const id of ids(5)) expect(sim.instances(id)).toEqual([]);
  });

  it('a member away past forgetAfterMs is forgotten by the majority; back with its old data dir, it discards it and resurrects nothing', async () => {
    const { nodes, dirs: dataDirs } = await cluster(904, { forgetAfterMs: 20_000 }, true);
    await sim.run(500);
    sim.crash('n3');
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.until(() => nodes[0]!.supervisor.roster()['n3'] === false, 40_000, 'n3 forgotten');
    await sim.until(() => sim.running().every((n) => tombstones(n) === 0), 20_000, 'tombstones collected without n3');
    const log = sim.log.entries.length;
    await sim.start('n3', ['n1'], { ...TIMING, forgetAfterMs: 20_000, dataDir: dataDirs['n3']! }); // holds t0..t4 live, and an old roster
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady) && sim.exactlyOnce(ids(10).slice(5)), 15_000, 'n3 back');
    await sim.run(3_000);
    expect(sim.liveIds()).toEqual(ids(10).slice(5).sort());
    for (const id of ids(5)) expect(sim.instances(id)).toEqual([]);
    for (const n of sim.running()) expect(n.supervisor.roster()).toEqual({ n1: true, n2: true, n3: true });
    expect(sim.log.entries.slice(log).some((e) => e.fields['node'] === 'n3' && /forgotten by the cluster while it was away; discarding/.test(e.message))).toBe(
      true,
    );
  });

  it('a member on the far side of a partition longer than forgetAfterMs discards what it holds at the heal; the minority forgets nobody', async () => {
    const { nodes } = await cluster(905, { forgetAfterMs: 20_000 });
    sim.network.partition(['n3:4370'], ['n1:4370', 'n2:4370']);
    await sim.run(1_000);
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.until(() => nodes[0]!.supervisor.roster()['n3'] === false, 40_000, 'n3 forgotten by the majority');
    expect(sim.mustGet('n3').supervisor.roster()).toEqual({ n1: true, n2: true, n3: true }); // alone, n3 forgets nobody
    await sim.until(() => tombstones(nodes[0]!) === 0, 20_000, 'tombstones collected on the majority side');
    const n3 = sim.mustGet('n3');
    expect(n3.supervisor.knowsTheCluster).toBe(true);
    sim.network.heal();
    const discarding = (): boolean =>
      sim.log.entries.some((e) => e.fields['node'] === 'n3' && /forgotten by the cluster while it was away; discarding/.test(e.message));
    await sim.until(discarding, 15_000, 'n3 discarding its state');
    // Its store emptied, its word is not the cluster's until it has synced anew (calls wait, reads say not-ready).
    expect(n3.supervisor.knowsTheCluster).toBe(false);
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady) && sim.exactlyOnce(ids(10).slice(5)), 15_000, 'healed');
    expect(n3.supervisor.knowsTheCluster).toBe(true);
    await sim.run(3_000);
    expect(sim.liveIds()).toEqual(ids(10).slice(5).sort());
    for (const id of ids(5)) expect(sim.instances(id)).toEqual([]);
    for (const n of sim.running()) expect(n.supervisor.roster()).toEqual({ n1: true, n2: true, n3: true });
  });

  it('a member without a data dir that leaves gracefully takes itself off the roster; back, it rejoins without discarding anything', async () => {
    const { nodes } = await cluster(906);
    await sim.leave('n3');
    await sim.until(() => nodes[0]!.supervisor.roster()['n3'] === false, 2_000, 'n3 off the roster');
    for (const id of ids(5)) await sim.resolve(nodes[0]!.supervisor.terminateChild(id));
    await sim.until(() => sim.running().every((n) => tombstones(n) === 0), 15_000, 'tombstones collected without waiting for n3');
    const back = await sim.start('n3', ['n1'], TIMING);
    await sim.until(() => sim.fullMesh() && back.supervisor.isReady && nodes[0]!.supervisor.roster()['n3'] === true, 5_000, 'n3 back on the roster');
    expect(sim.log.entries.some((e) => /discarding its desired state/.test(e.message))).toBe(false);
    await sim.until(() => sim.exactlyOnce(ids(10).slice(5)), 5_000, 'settled');
  });
});
