/**
 * The gateway's convergence measure (observer/convergence.ts), driven by
 * events and listings alone: when a convergence opens, when it may close
 * (every child once, every running instance's start reported), and what it
 * measures.
 */
import { describe, expect, it } from 'vitest';
import { ConvergenceTracker, convergedNow, type ChildInstances } from '../src/observer/convergence.js';

const running = (id: string, pid: string): ChildInstances => ({ id, status: 'running', instances: [{ pid }] });

describe('convergedNow', () => {
  it('needs every child running exactly once, each instance reported', () => {
    const reported = new Map([
      ['a', new Set(['p1'])],
      ['b', new Set(['p2'])],
    ]);
    expect(convergedNow([running('a', 'p1'), running('b', 'p2')], reported)).toBe(true);
    expect(convergedNow([running('a', 'p1'), { id: 'b', status: 'moving', instances: [{ pid: 'p2' }] }], reported)).toBe(false);
    expect(convergedNow([running('a', 'p1'), { id: 'b', status: 'running', instances: [{ pid: 'p2' }, { pid: 'p3' }] }], reported)).toBe(false);
    // Race: the listing shows an instance whose start no event has reported yet.
    expect(convergedNow([running('a', 'p1'), running('b', 'p9')], reported)).toBe(false);
    expect(convergedNow([], reported)).toBe(true);
  });
});

describe('ConvergenceTracker', () => {
  it('opens on a member going down, closes once the listing and the events agree, and measures between events', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1'), running('b', 'p2')]);
    let listed = 0;
    const list = (children: ChildInstances[]) => () => (listed++, children);
    expect(tracker.check(list([running('a', 'p1')]), 0)).toBeUndefined();
    expect(listed).toBe(0); // nothing open: the children are not even listed

    tracker.observe({ type: 'node-down', node: 'n2', role: 'member', reason: 'member-down', at: 1_000 });
    tracker.observe({ type: 'stopped', id: 'b', node: 'n2', pid: 'p2', at: 1_010 });
    expect(tracker.check(list([running('a', 'p1'), { id: 'b', status: 'pending', instances: [] }]), 1_050)).toBeUndefined();
    // The new instance is listed before its `started` event arrived: not yet.
    expect(tracker.check(list([running('a', 'p1'), running('b', 'p3')]), 1_100)).toBeUndefined();
    tracker.observe({ type: 'started', id: 'b', node: 'n1', pid: 'p3', at: 1_120 });
    tracker.observe({ type: 'moved', id: 'b', from: 'n2', to: 'n1', reason: 'failure', at: 1_120 });
    expect(tracker.check(list([running('a', 'p1'), running('b', 'p3')]), 1_300)).toEqual({
      type: 'converged',
      at: 1_300,
      after: 120,
      cause: 'node-down',
      node: 'n2',
      children: 2,
    });
    // Closed: the next check reports nothing.
    expect(tracker.check(list([running('a', 'p1'), running('b', 'p3')]), 1_400)).toBeUndefined();
  });

  it('observers start none, and a second change belongs to the open one', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1')]);
    tracker.observe({ type: 'node-up', node: 'ui-1', role: 'observer', at: 10 });
    expect(tracker.check(() => [running('a', 'p1')], 20)).toBeUndefined();
    tracker.observe({ type: 'node-up', node: 'n3', role: 'member', at: 30 });
    tracker.observe({ type: 'node-down', node: 'n4', role: 'member', reason: 'x', at: 40 });
    expect(tracker.check(() => [running('a', 'p1')], 50)).toEqual({ type: 'converged', at: 50, after: 10, cause: 'node-up', node: 'n3', children: 1 });
  });

  it('race: a start reported before its child is listed still counts after a convergence closed on the shorter listing', () => {
    // An observer joining: a member's live state (the start of b) arrives before the desired state lists b.
    const tracker = new ConvergenceTracker([]);
    tracker.observe({ type: 'node-up', node: 'n1', role: 'member', at: 10 });
    tracker.observe({ type: 'started', id: 'b', node: 'n1', pid: 'p2', at: 11 });
    expect(tracker.check(() => [running('a', 'p1')], 20)).toBeUndefined(); // a's start is not reported
    tracker.observe({ type: 'started', id: 'a', node: 'n1', pid: 'p1', at: 21 });
    expect(tracker.check(() => [running('a', 'p1')], 30)).toMatchObject({ type: 'converged', node: 'n1', children: 1 });
    // Now b is listed, running the instance whose start was reported before: the next change converges.
    tracker.observe({ type: 'node-up', node: 'n2', role: 'member', at: 40 });
    expect(tracker.check(() => [running('a', 'p1'), running('b', 'p2')], 50)).toMatchObject({ type: 'converged', node: 'n2', children: 2 });
  });
});
