/**
 * Majority mode with an observer linked (the desktop app, `pogo observe`):
 * an observer sends `reach` reports like any node, but it is no member, so
 * its report must not count among those a takeover waits for. It did: the
 * member that took over waited for the observer's "latest word" (an echo of
 * its pings that only members give), so the children of a member that died
 * or was cut off from everyone, the observer included, were never restarted
 * while the observer stayed linked (found on real processes in network
 * namespaces, 2026-12-05: 23 s with no instance after a SIGKILL, until the
 * observer was stopped).
 *
 * And what members owe an observer's link: nothing. It dials them; they
 * never dial it (membership.ts: "observers are dialled by no one").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_TIMING, SimCluster } from './support/sim.js';
import type { DistEvent } from '../src/distributed/events.js';

const ADDRESS = SimCluster.address;
const TIMING = FAST_TIMING;
const ids = Array.from({ length: 12 }, (_, i) => `k${i}`);
const members = ['n1', 'n2', 'n3'];

let sim: SimCluster;
afterEach(() => sim?.stopAll());

async function clusterWithObserver(seed: number): Promise<void> {
  sim = new SimCluster(seed, { latencyMs: 1, jitterMs: 4 });
  const config = { ...TIMING, netsplit: 'majority' as const, expectedMembers: 3 };
  for (const name of members) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
  await sim.start('obs', ['n1'], { ...TIMING, role: 'observer' });
  await sim.until(() => sim.fullMesh() && members.every((m) => sim.mustGet(m).supervisor.isReady), 10_000, 'mesh and ready');
  for (const id of ids) await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id, start: { worker: 'w' } }));
  await sim.until(() => sim.exactlyOnce(ids), 5_000, 'children placed');
}

/** Runs until n1 and n2 run every child exactly once between them. */
const runsOnce = (id: string): boolean => ['n1', 'n2'].filter((n) => sim.mustGet(n).local.child(id)?.status === 'running').length === 1;
const survivorsRunAll = (): Promise<number> => sim.until(() => ids.every(runsOnce), 5_000, 'n1 and n2 run every child');

describe('majority mode with an observer linked: the observer is no reporter', () => {
  it('n3 dies: its children restart on n1 and n2 while the observer stays linked', async () => {
    await clusterWithObserver(7);
    expect(ids.some((id) => sim.mustGet('n3').local.child(id)?.status === 'running')).toBe(true);
    sim.crash('n3');
    await survivorsRunAll();
  });

  it('n3 cut off from everyone, the observer included: n1 and n2 take its children over', async () => {
    await clusterWithObserver(8);
    for (const other of ['n1', 'n2', 'obs']) sim.network.cut(ADDRESS('n3'), ADDRESS(other));
    await survivorsRunAll();
    await sim.until(() => sim.mustGet('n3').local.countChildren().active === 0, 3_000, 'n3 runs nothing');
  });

  it('n3 cut off from n1 and n2 but not from the observer: the observer shows its children running where the members put them, not moving to n3', async () => {
    // An outsider's tour: the observer counted n3 up (it reached it), placed n3's children on it while the members ran them
    // on n1 and n2, and showed them "moving" for the whole split; the timeline said they moved "(node joined)".
    await clusterWithObserver(9);
    const obs = sim.mustGet('obs');
    const events: Array<{ type: string; reason?: string }> = [];
    obs.supervisor.on('event', (e) => events.push(e as { type: string; reason?: string }));
    for (const other of ['n1', 'n2']) sim.network.cut(ADDRESS('n3'), ADDRESS(other));
    await survivorsRunAll();
    await sim.until(
      () => {
        const view = obs.supervisor.whichChildren('global') as Array<{ id: string; status: string; owner?: string }>;
        return ids.every((id) => view.find((c) => c.id === id)?.status === 'running');
      },
      3_000,
      "the observer's view: every child running",
    );
    const view = obs.supervisor.whichChildren('global') as Array<{ id: string; owner?: string }>;
    expect(view.filter((c) => c.owner === 'n3')).toEqual([]);
    expect(events.filter((e) => e.type === 'moved' && e.reason === 'join')).toEqual([]);
  });

  it('race "an observer slower than the members": n1 cut off from everyone, the observer still linked to it, shows no duplicate that never ran', async () => {
    // An outsider's tour: an observer on a longer heartbeat timeout showed each of n1's children "duplicate" for 8 s: it still
    // held n1's instances (its link to n1 had not timed out) after n1 had stopped them and the others had started them again.
    sim = new SimCluster(10, { latencyMs: 1, jitterMs: 4 });
    const config = { ...TIMING, netsplit: 'majority' as const, expectedMembers: 3 };
    for (const name of members) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
    await sim.start('obs', ['n1'], { ...TIMING, suspectAfterMs: 2_000, heartbeatTimeoutMs: 4_000, role: 'observer' });
    await sim.until(() => sim.fullMesh() && members.every((m) => sim.mustGet(m).supervisor.isReady), 10_000, 'mesh and ready');
    for (const id of ids) await sim.resolve(sim.mustGet('n2').supervisor.startChild({ id, start: { worker: 'w' } }));
    await sim.until(() => sim.exactlyOnce(ids), 5_000, 'children placed');
    const obs = sim.mustGet('obs');
    const onN1 = ids.filter((id) => sim.mustGet('n1').local.child(id)?.status === 'running');
    expect(onN1.length).toBeGreaterThan(0);
    for (const other of ['n2', 'n3', 'obs']) sim.network.cut(ADDRESS('n1'), ADDRESS(other));
    let duplicates = 0;
    await sim.until(
      () => {
        const view = obs.supervisor.whichChildren('global') as Array<{ id: string; status: string; node?: string }>;
        duplicates = Math.max(duplicates, view.filter((c) => c.status === 'duplicate').length);
        return onN1.every((id) => ['n2', 'n3'].includes(view.find((c) => c.id === id)?.node ?? '') && view.find((c) => c.id === id)?.status === 'running');
      },
      10_000,
      "the observer sees n1's children running on n2 and n3",
      1,
    );
    expect(duplicates).toBe(0);
    // The observer's own link to n1 is still up here: it is the fence, not the link, that hid n1's instances.
    expect(obs.member('n1')?.status).not.toBe('down');
  });

  it('race "an observer that lost one of the majority fences the other": n3 cut off while the observer has lost n1 — n2, heard by n1, is no cut-off member; its instances never stopped', async () => {
    // An outsider's tour, majority mode: at the moment n3's lease lapsed, the timeline said "5 stopped on 2 nodes", three
    // of them on n2, which never stopped (by each child's own record). The observer had lost n1, and counted only the
    // members it reached: n3's "cannot hear n2" was one of one, so n2 was "cut off", fenced, its instances hidden.
    const onN2: string[] = [];
    const stoppedOnN2: string[] = [];
    const obs = await cutN3AfterObserverLostN1(
      () => onN2.push(...ids.filter((id) => sim.mustGet('n2').local.child(id)?.status === 'running')),
      (e) => {
        if (e.type === 'stopped' && e.node === 'n2') stoppedOnN2.push(e.id);
      },
    );
    expect(onN2.length).toBeGreaterThan(0);
    // n2 ran its children throughout, and the observer, which reaches it, says so.
    expect(onN2.every((id) => sim.mustGet('n2').local.child(id)?.status === 'running')).toBe(true);
    expect(stoppedOnN2).toEqual([]);
    const view = obs.supervisor.whichChildren('global') as Array<{ id: string; node?: string }>;
    expect(onN2.map((id) => view.find((c) => c.id === id)?.node)).toEqual(onN2.map(() => 'n2'));
  });

  it('race "a takeover told as a join": n3 cut off while the observer has lost n1 — the moves off n3 are no "node joined"', async () => {
    // The re-check tour (majority mode, 4 of 4): "r3 moved n3 → n2 (node joined)". The observer, one report of two against
    // n3, could not call it cut off, saw it up, and took the move for n2's gain; no node had joined.
    const moves: Array<{ id: string; from: string; reason: string }> = [];
    await cutN3AfterObserverLostN1(
      () => undefined,
      (e) => {
        if (e.type === 'moved') moves.push({ id: e.id, from: e.from, reason: e.reason });
      },
    );
    const offN3 = moves.filter((m) => m.from === 'n3');
    expect(offN3.length).toBeGreaterThan(0);
    expect(offN3.filter((m) => m.reason === 'join')).toEqual([]);
  });

  it('race "a heal this node hears of second-hand": an observer members cannot dial relinks a member as soon as the members hear it again', async () => {
    // A re-check of an outsider's tour: `pogo observe` announces a loopback address, so members cannot dial it back, and an
    // observer on the wan preset waited out its own redial backoff: the board showed the split 11.6 s after the heal.
    sim = new SimCluster(11, { latencyMs: 1, jitterMs: 4 });
    const config = { ...TIMING, netsplit: 'majority' as const, expectedMembers: 3 };
    for (const name of members) await sim.start(name, name === 'n1' ? [] : ['n1'], config);
    // Members dial the address it announces, and fail; it dials them.
    await sim.start('obs', ['n1'], { ...TIMING, reconnectBaseMs: 500, reconnectMaxMs: 20_000, advertise: 'nowhere:9', role: 'observer' });
    await sim.until(() => sim.fullMesh() && members.every((m) => sim.mustGet(m).supervisor.isReady), 10_000, 'mesh and ready');
    const obs = sim.mustGet('obs');
    for (const other of ['n2', 'n3', 'obs']) sim.network.cut(ADDRESS('n1'), ADDRESS(other));
    await sim.run(60_000); // the observer's redial backoff grows to its cap
    expect(obs.member('n1')?.status).toBe('down');
    for (const other of ['n2', 'n3', 'obs']) sim.network.healPair(ADDRESS('n1'), ADDRESS(other));
    const took = await sim.until(() => obs.member('n1')?.status === 'up', 30_000, 'the observer linked to n1 again', 10);
    expect(took).toBeLessThan(2_000);
  });

  it('observers are dialled by no one: a member that lost one (the app quit without its leave) does not dial its loopback address', async () => {
    // It dialled the announced address for downReapAfterMs (15 min): 127.0.0.1:<port> on the member's own host, in vain or
    // reaching whatever else listened there.
    sim = new SimCluster(12, { latencyMs: 1, jitterMs: 4 });
    for (const name of members) await sim.start(name, name === 'n1' ? [] : ['n1'], TIMING);
    await sim.start('obs', ['n1'], { ...TIMING, role: 'observer' });
    await sim.start('obs2', ['n2'], { ...TIMING, role: 'observer' });
    const linked = (m: string) => sim.mustGet(m).member('obs')?.status === 'up' && sim.mustGet(m).member('obs2')?.status === 'up';
    await sim.until(() => members.every(linked), 10_000, 'observers linked');
    sim.crash('obs');
    await sim.until(() => members.every((m) => sim.mustGet(m).member('obs')?.status === 'down'), 5_000, 'obs down');
    await sim.run(30_000);
    for (const m of [...members, 'obs2'])
      expect(
        sim
          .mustGet(m)
          .status()
          .dialing.map((d) => d.address),
      ).not.toContain(ADDRESS('obs'));
    // The observer still dials the members: a member it lost is linked again once it is back.
    sim.crash('n3');
    await sim.until(() => sim.mustGet('obs2').member('n3')?.status === 'down', 5_000, 'n3 down');
    expect(
      sim
        .mustGet('obs2')
        .status()
        .dialing.map((d) => d.address),
    ).toContain(ADDRESS('n3'));
    await sim.start('n3', ['n1'], TIMING);
    await sim.until(() => sim.mustGet('obs2').member('n3')?.status === 'up', 10_000, 'the observer linked to n3 again');
  });

  it('race "an observer cut from one member only": the members still hear it, so the observer redials it within a fifth of its backoff cap', async () => {
    // An outsider's tour (network namespaces, `pogo observe --preset wan`): only the observer's link to one member was cut, the
    // members' reports never listed it, and the observer waited out its 30 s backoff: linked again 14.3 s after the heal.
    sim = new SimCluster(11, { latencyMs: 1, jitterMs: 4 });
    for (const name of members) await sim.start(name, name === 'n1' ? [] : ['n1'], TIMING);
    await sim.start('obs', ['n1'], { ...TIMING, reconnectBaseMs: 500, reconnectMaxMs: 20_000, advertise: 'nowhere:9', role: 'observer' });
    await sim.until(() => sim.fullMesh() && members.every((m) => sim.mustGet(m).supervisor.isReady), 10_000, 'mesh and ready');
    const obs = sim.mustGet('obs');
    sim.network.cut(ADDRESS('n1'), ADDRESS('obs'));
    await sim.run(60_000);
    expect(obs.member('n1')?.status).toBe('down');
    expect(sim.mustGet('n2').member('n1')?.status).toBe('up');
    sim.network.healPair(ADDRESS('n1'), ADDRESS('obs'));
    const took = await sim.until(() => obs.member('n1')?.status === 'up', 30_000, 'the observer linked to n1 again', 10);
    expect(took).toBeLessThanOrEqual(4_000 + 500);
  });
});

/**
 * Majority mode, 12 children: the observer loses its link to n1, then n3 is cut off from n1 and n2, until the survivors
 * run every child and 3 s more. `before` runs once the observer has lost n1; `listen` hears the observer's events from
 * then on.
 */
async function cutN3AfterObserverLostN1(before: () => void, listen: (e: DistEvent) => void) {
  await clusterWithObserver(12);
  const obs = sim.mustGet('obs');
  sim.network.cut(ADDRESS('obs'), ADDRESS('n1'));
  await sim.until(() => obs.member('n1')?.status === 'down', 10_000, 'the observer lost n1');
  before();
  obs.supervisor.on('event', listen);
  for (const other of ['n1', 'n2']) sim.network.cut(ADDRESS('n3'), ADDRESS(other));
  await survivorsRunAll();
  await sim.run(3_000);
  return obs;
}
