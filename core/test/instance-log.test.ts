/**
 * The simulation's ground truth (support/instance-log.ts): spans of child
 * instances per node process from the local supervisors' own events, and the
 * overlaps computed from them.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { PogoNode } from '../src/node.js';
import type { ChildEvent } from '../src/supervisor/local-supervisor.js';
import { InstanceLog } from './support/instance-log.js';
import { SimCluster } from './support/sim.js';

/** A node process as far as the log looks at it: a name, an incarnation and the local supervisor's events. */
function fakeNode(name: string, incarnation: string) {
  const local = new EventEmitter<{ child: [ChildEvent] }>();
  const node = { name, incarnation, local } as unknown as PogoNode;
  const emit = (id: string, to: ChildEvent['to'], pid?: string): void => void local.emit('child', { id, from: undefined, to, at: 0, pid, reason: 'test' });
  return { node, emit };
}

describe('instance log', () => {
  it('a span runs from starting to stopped; a restart in place is one span; failing ends it', () => {
    let now = 0;
    const log = new InstanceLog(() => now);
    const a = fakeNode('a', 'i1');
    log.attach(a.node);
    a.emit('x', 'starting');
    a.emit('x', 'running', 'p1');
    now = 10;
    a.emit('x', 'starting', 'p2'); // crashed and restarted
    a.emit('x', 'running', 'p2');
    now = 20;
    a.emit('x', 'failing');
    now = 30;
    a.emit('x', 'starting');
    a.emit('x', 'running', 'p3');
    now = 40;
    a.emit('x', 'stopping', 'p3');
    a.emit('x', 'stopped');
    expect(log.of('x').map((s) => [s.start.t, s.end?.t, s.pids])).toEqual([
      [0, 20, ['p1', 'p2']],
      [30, 40, ['p3']],
    ]);
    expect(log.overlaps()).toEqual([]);
  });

  it('finds every window two instances of a child ran at once, even one of no simulated time; a crash ends a node’s spans', () => {
    let now = 0;
    const log = new InstanceLog(() => now);
    const a = fakeNode('a', 'i1');
    const b = fakeNode('b', 'i2');
    const c = fakeNode('c', 'i3');
    for (const n of [a, b, c]) log.attach(n.node);
    a.emit('x', 'starting');
    now = 5;
    b.emit('x', 'starting'); // overlap 5..8 with a
    now = 8;
    a.emit('x', 'stopped');
    now = 12;
    c.emit('x', 'starting'); // same millisecond as b's stop, but before it: an overlap of 0 ms
    b.emit('x', 'removed');
    a.emit('y', 'starting');
    now = 15;
    c.emit('y', 'starting');
    now = 30;
    log.died(a.node);
    b.emit('z', 'starting');
    const found = log.overlaps().map((o) => [
      o.id,
      o.from.t,
      o.to?.t,
      o.spans
        .map((s) => s.node)
        .sort()
        .join(''),
    ]);
    expect(found).toEqual([
      ['x', 5, 8, 'ab'],
      ['x', 12, 12, 'bc'],
      ['y', 15, 30, 'ac'],
    ]);
    c.emit('z', 'starting');
    const open = log.overlaps(new Set(['z']));
    expect(open).toHaveLength(1);
    expect(open[0]!.to).toBeUndefined();
    expect(InstanceLog.describe(open[0]!)).toMatch(/^z ran twice from t=30 \(still running\): b\/i2 \[30\.\.\), c\/i3 \[30\.\.\)$/);
  });

  it('a simulated cluster records its nodes’ instances: a crashed node stops running its children at the crash', async () => {
    const sim = new SimCluster(31);
    try {
      const n1 = await sim.start('n1');
      await sim.start('n2', ['n1']);
      await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 5_000, 'ready');
      const started = await sim.resolve(n1.supervisor.startChild({ id: 'k', start: { worker: 'w' } }));
      await sim.run(100);
      const crashAt = sim.clock.now();
      sim.crash(started.node);
      await sim.until(() => sim.instances('k').length === 1, 5_000, 'k back on the survivor');
      const spans = sim.runs.of('k');
      expect(spans.map((s) => s.node)).toEqual([started.node, started.node === 'n1' ? 'n2' : 'n1']);
      expect(spans[0]!.end?.t).toBe(crashAt);
      expect(spans[0]!.endedBy).toBe('node crashed');
      expect(spans[1]!.start.t).toBeGreaterThan(crashAt);
      expect(sim.runs.overlaps()).toEqual([]);
    } finally {
      sim.stopAll();
    }
  });
});
