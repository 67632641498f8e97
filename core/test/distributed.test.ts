/**
 * The distributed supervisor in deterministic simulation: Pogo's own test
 * scenarios and the guarantees of DESIGN §3.5, on the in-memory network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DistEvent } from '../src/distributed/distributed-supervisor.js';
import { DistError } from '../src/distributed/errors.js';
import type { PogoNode } from '../src/node.js';
import { SimCluster } from './support/sim.js';

let sim: SimCluster;
afterEach(() => sim?.stopAll());

const w = (id: string, extra: Record<string, unknown> = {}) => ({ id, start: { worker: 'w' }, ...extra });

async function cluster(n: number, seed: number, config: Record<string, unknown> = {}): Promise<PogoNode[]> {
  sim = new SimCluster(seed);
  const nodes: PogoNode[] = [];
  for (let i = 1; i <= n; i++) nodes.push(await sim.start(`n${i}`, i === 1 ? [] : ['n1'], config));
  await sim.until(() => sim.fullMesh() && sim.running().every((x) => x.supervisor.isReady), 5_000, 'mesh and ready');
  return nodes;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<DistError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DistError);
    expect((err as DistError).code).toBe(code);
    return err as DistError;
  }
  throw new Error(`expected a DistError ${code}`);
}

describe('distributed supervisor: Pogo scenarios', () => {
  it('a spec requested from several nodes starts once', async () => {
    const [n1, n2, n3] = await cluster(3, 101);
    const results = await sim.resolve(Promise.all([n1!, n2!, n3!].map((n) => n.supervisor.startChild(w('once')))));
    expect(new Set(results.map((r) => r.pid)).size).toBe(1);
    await sim.run(100);
    expect(sim.instances('once')).toEqual([results[0]!.node]);
    expect(sim.exactlyOnce()).toBe(true);
  });

  it('terminates through a node that neither runs nor requested the child', async () => {
    const [n1, n2, n3] = await cluster(3, 102);
    const started = await sim.resolve(n1!.supervisor.startChild(w('t1')));
    const bystander = [n2!, n3!].find((n) => n.name !== started.node)!;
    await sim.resolve(bystander.supervisor.terminateChild('t1'));
    expect(sim.instances('t1')).toEqual([]);
    await sim.run(1_000);
    for (const n of sim.running()) expect(n.supervisor.whichChildren('global')).toEqual([]);
  });

  it('tracks the new pid after a crash', async () => {
    const [n1] = await cluster(3, 103);
    const started = await sim.resolve(n1!.supervisor.startChild({ id: 'c1', start: { worker: 'crashy' } }));
    expect(sim.workers.crash(started.node, 'c1')).toBe(true);
    await sim.until(() => sim.running().every((n) => { const g = n.supervisor.whichChildren('global')[0]; return g?.status === 'running' && g.pid !== started.pid; }), 1_000, 'new pid everywhere');
    const views = sim.running().map((n) => n.supervisor.whichChildren('global')[0]!);
    expect(new Set(views.map((v) => v.pid)).size).toBe(1);
    expect(views[0]!.node).toBe(started.node);
  });

  it('moves a child to a joining node and back when it leaves', async () => {
    const [n1] = await cluster(2, 104);
    // Find an id that the third node wins under HRW.
    const ids = Array.from({ length: 40 }, (_, i) => `mv${i}`);
    for (const id of ids) await sim.resolve(n1!.supervisor.startChild(w(id)));
    const before = new Map(ids.map((id) => [id, sim.instances(id)[0]!]));
    const events: DistEvent[] = [];
    n1!.supervisor.on('event', (e) => events.push(e));
    await sim.start('n3', ['n1']);
    await sim.until(() => sim.running().every((n) => n.member('n3')?.ready === true), 5_000, 'everyone sees n3 ready');
    await sim.run(1); // let the reconcile that follows run
    await sim.until(() => ids.every((id) => sim.instances(id).length === 1 && n1!.supervisor.whichChildren('global').find((c) => c.id === id)?.status === 'running'), 5_000, 'settled after join');
    const movedToN3 = ids.filter((id) => sim.instances(id)[0] === 'n3');
    expect(movedToN3.length).toBeGreaterThan(0);
    // Only children now owned by n3 moved; the rest stayed where they were.
    for (const id of ids) if (!movedToN3.includes(id)) expect(sim.instances(id)[0]).toBe(before.get(id));
    expect(events.flatMap((e) => (e.type === 'moved' && e.reason === 'join' ? [e.id] : [])).sort()).toEqual([...movedToN3].sort());
    await sim.leave('n3');
    await sim.until(() => ids.every((id) => sim.instances(id).length === 1), 5_000, 'settled after leave');
    for (const id of ids) expect(sim.instances(id)[0]).toBe(before.get(id));
    expect(events.some((e) => e.type === 'moved' && e.reason === 'leave')).toBe(true);
  });

  it('restarts a child elsewhere when its owner dies', async () => {
    const [n1] = await cluster(3, 105);
    const started = await sim.resolve(n1!.supervisor.startChild(w('d1')));
    const victim = started.node === 'n1' ? 'n2' : started.node;
    // Make sure the child does not live on n1, whose view we read.
    if (started.node === 'n1') await sim.resolve(n1!.supervisor.moveChild('d1', victim));
    const t0 = sim.clock.now();
    sim.crash(victim);
    const took = await sim.until(() => sim.instances('d1').length === 1, 2_000, 'restarted on a survivor');
    expect(sim.instances('d1')[0]).not.toBe(victim);
    expect(took).toBeLessThan(100);
    expect(sim.clock.now() - t0).toBe(took);
  });

  it('starts initial children, and again after the whole cluster restarts', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'pogo-children-')), 'children.json');
    writeFileSync(file, JSON.stringify([w('init-a'), w('init-b'), w('init-c')]));
    await cluster(3, 106, { children: file });
    await sim.until(() => sim.exactlyOnce(['init-a', 'init-b', 'init-c']) && sim.liveIds().length === 3, 3_000, 'initial children run once');
    for (const n of ['n1', 'n2', 'n3']) sim.crash(n);
    await sim.run(100);
    for (let i = 1; i <= 3; i++) await sim.start(`n${i}`, i === 1 ? [] : ['n1'], { children: file });
    await sim.until(() => sim.fullMesh() && sim.liveIds().length === 3 && sim.exactlyOnce(['init-a', 'init-b', 'init-c']), 8_000, 'initial children again');
  });

  it('lists children locally and globally, and counts them', async () => {
    const [n1, n2] = await cluster(3, 107);
    for (let i = 0; i < 9; i++) await sim.resolve(n1!.supervisor.startChild(w(`l${i}`)));
    const global = n2!.supervisor.whichChildren('global');
    expect(global).toHaveLength(9);
    expect(global.every((c) => c.status === 'running' && c.node && c.pid && c.owner === c.node)).toBe(true);
    const locals = sim.running().flatMap((n) => n.supervisor.whichChildren('local'));
    expect(locals.map((c) => c.id).sort()).toEqual(global.map((c) => c.id).sort());
    expect(locals.every((c) => c.status === 'running')).toBe(true);
    expect(n2!.supervisor.countChildren()).toMatchObject({ specs: 9, running: 9, pending: 0, failing: 0 });
  });

  it('a child that fails to start does not crash the supervisor; later children still start', async () => {
    const [n1] = await cluster(3, 108, { maxStartFailures: 2 });
    const failing = n1!.supervisor.startChild({ id: 'bad', start: { worker: 'failing' } });
    const err = await expectCode(sim.resolve(failing), 'start-failed');
    expect(err.message).toMatch(/missing configuration/);
    const ok = await sim.resolve(n1!.supervisor.startChild(w('good')));
    expect(sim.instances('good')).toEqual([ok.node]);
    const bad = n1!.supervisor.whichChildren('global').find((c) => c.id === 'bad')!;
    expect(bad.status).toBe('failing');
    expect(bad.failures.map((f) => f.node).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(bad.lastError).toMatch(/missing configuration/);
    // Not retried in a hot loop: a second of simulated time adds no attempts.
    const before = JSON.stringify(bad.failures);
    await sim.run(1_000);
    expect(JSON.stringify(n1!.supervisor.whichChildren('global').find((c) => c.id === 'bad')!.failures)).toBe(before);
  });
});
