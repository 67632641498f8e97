/**
 * The gateway's convergence measure (observer/convergence.ts), driven by
 * events and listings alone: when a convergence opens, when it may close
 * (every child once, every running instance's start reported), and what it
 * measures.
 */
import { describe, expect, it } from 'vitest';
import { ConvergenceTracker, anyMemberUp, convergedNow, membersSettled, type ChildInstances, type MemberReadiness } from '../src/observer/convergence.js';

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

describe('membersSettled', () => {
  it('a member up or suspect and not ready is between states; observers, members down or gone, and members that do not announce readiness are not', () => {
    expect(membersSettled([{ role: 'member', status: 'up', ready: true }])).toBe(true);
    expect(membersSettled([{ role: 'member', status: 'up', ready: false }])).toBe(false);
    expect(membersSettled([{ role: 'member', status: 'suspect', ready: false }])).toBe(false);
    expect(membersSettled([{ role: 'member', status: 'down', ready: false }])).toBe(true);
    expect(membersSettled([{ role: 'member', status: 'left', ready: false }])).toBe(true);
    expect(membersSettled([{ role: 'observer', status: 'up', ready: false }])).toBe(true);
    expect(membersSettled([{ role: 'member', status: 'up' }])).toBe(true);
    // Race "linked before it said anything": the entry made at link up, its metadata (version 0) not arrived yet.
    expect(membersSettled([{ role: 'member', status: 'up', version: 0 }])).toBe(false);
    expect(membersSettled([{ role: 'member', status: 'up', version: 3 }])).toBe(true);
  });
});

describe('ConvergenceTracker', () => {
  it('a cluster with no member up is not converged: after every member went (left, or down), it stays open until one is back and the children run', () => {
    expect(
      anyMemberUp([
        { role: 'observer', status: 'up' },
        { role: 'member', status: 'down' },
        { role: 'member', status: 'left' },
      ]),
    ).toBe(false);
    expect(anyMemberUp([{ role: 'member', status: 'suspect' }])).toBe(true);
    const tracker = new ConvergenceTracker([running('a', 'p1')]);
    const gone: MemberReadiness[] = [
      { role: 'observer', status: 'up', ready: false },
      { role: 'member', status: 'left', ready: false },
      { role: 'member', status: 'down', ready: false },
    ];
    tracker.observe({ type: 'node-down', node: 'n2', role: 'member', reason: 'leaving', at: 1_000 });
    tracker.observe({ type: 'stopped', id: 'a', node: 'n1', pid: 'p1', at: 1_050 });
    // The listing is empty (or every child waits for a node): "every child runs once" of nothing is no convergence.
    expect(
      tracker.check(
        () => [],
        1_100,
        () => gone,
      ),
    ).toBeUndefined();
    expect(
      tracker.check(
        () => [{ id: 'a', status: 'unplaceable', instances: [] }],
        1_200,
        () => gone,
      ),
    ).toBeUndefined();
    // The cluster is back: it converges once the child runs, measured from the first change.
    tracker.observe({ type: 'started', id: 'a', node: 'n1', pid: 'p2', at: 5_000 });
    expect(
      tracker.check(
        () => [running('a', 'p2')],
        5_100,
        () => [{ role: 'member', status: 'up', ready: true, version: 2 }],
      ),
    ).toMatchObject({
      type: 'converged',
      after: 4_000,
      node: 'n2',
      children: 1,
    });
  });

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

  it('a drain opens one that stays open while a child still runs on the drained node (moving), and closes once the last has moved; so does a resume', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1'), running('b', 'p2')]);
    const moving = (id: string, pid: string): ChildInstances => ({ id, status: 'moving', instances: [{ pid }] });
    tracker.observe({ type: 'drain', node: 'n2', draining: true, by: 'n1', at: 2_000 });
    // Moves are rate-limited: a moment where every child runs once, b still on n2, is not the end.
    expect(tracker.check(() => [running('a', 'p1'), moving('b', 'p2')], 2_010)).toBeUndefined();
    tracker.observe({ type: 'stopped', id: 'b', node: 'n2', pid: 'p2', at: 2_020 });
    tracker.observe({ type: 'started', id: 'b', node: 'n3', pid: 'p3', at: 2_030 });
    tracker.observe({ type: 'moved', id: 'b', from: 'n2', to: 'n3', reason: 'drain', at: 2_030 });
    expect(tracker.check(() => [running('a', 'p1'), running('b', 'p3')], 2_100)).toEqual({
      type: 'converged',
      at: 2_100,
      after: 30,
      cause: 'drain',
      node: 'n2',
      children: 2,
    });
    // An undrain opens one too; a drain inside an open convergence belongs to it.
    tracker.observe({ type: 'drain', node: 'n2', draining: false, by: 'n1', at: 3_000 });
    tracker.observe({ type: 'drain', node: 'n3', draining: true, by: 'n1', at: 3_005 });
    expect(tracker.check(() => [running('a', 'p1'), running('b', 'p3')], 3_010)).toMatchObject({ cause: 'undrain', node: 'n2', after: 5 });
    // Pausing opens none; resuming does (the moves pausing held go then), named for the node it was given on.
    tracker.observe({ type: 'rebalancing', paused: true, by: 'n1', at: 4_000 });
    expect(tracker.check(() => [running('a', 'p1'), running('b', 'p3')], 4_010)).toBeUndefined();
    tracker.observe({ type: 'rebalancing', paused: false, by: 'n3', at: 5_000 });
    expect(tracker.check(() => [running('a', 'p1'), moving('b', 'p3')], 5_010)).toBeUndefined();
    tracker.observe({ type: 'started', id: 'b', node: 'n2', pid: 'p4', at: 5_020 });
    expect(tracker.check(() => [running('a', 'p1'), running('b', 'p4')], 5_030)).toMatchObject({ cause: 'resume', node: 'n3', after: 20 });
  });

  it('observers start none, and a second change belongs to the open one', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1')]);
    tracker.observe({ type: 'node-up', node: 'ui-1', role: 'observer', at: 10 });
    expect(tracker.check(() => [running('a', 'p1')], 20)).toBeUndefined();
    tracker.observe({ type: 'node-up', node: 'n3', role: 'member', at: 30 });
    tracker.observe({ type: 'node-down', node: 'n4', role: 'member', reason: 'x', at: 40 });
    expect(tracker.check(() => [running('a', 'p1')], 50)).toEqual({ type: 'converged', at: 50, after: 10, cause: 'node-up', node: 'n3', children: 1 });
  });

  it('race "settled before it began": a member that joins keeps it open until it is ready and the moves to it are done, and the time covers them', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1'), running('b', 'p2')]);
    const members: MemberReadiness[] = [
      { role: 'member', status: 'up', ready: true },
      { role: 'member', status: 'up', ready: false }, // n4, joining: linking and syncing
      { role: 'observer', status: 'up', ready: false },
    ];
    tracker.observe({ type: 'node-up', node: 'n4', role: 'member', at: 1_000 });
    // Every child still runs once where it ran: but n4 takes none before it is ready.
    expect(
      tracker.check(
        () => [running('a', 'p1'), running('b', 'p2')],
        1_010,
        () => members,
      ),
    ).toBeUndefined();
    members[1] = { role: 'member', status: 'up', ready: true };
    expect(
      tracker.check(
        () => [running('a', 'p1'), { id: 'b', status: 'moving', instances: [{ pid: 'p2' }] }],
        1_400,
        () => members,
      ),
    ).toBeUndefined();
    tracker.observe({ type: 'stopped', id: 'b', node: 'n1', pid: 'p2', at: 1_450 });
    tracker.observe({ type: 'started', id: 'b', node: 'n4', pid: 'p3', at: 1_480 });
    tracker.observe({ type: 'moved', id: 'b', from: 'n1', to: 'n4', reason: 'join', at: 1_480 });
    expect(
      tracker.check(
        () => [running('a', 'p1'), running('b', 'p3')],
        1_500,
        () => members,
      ),
    ).toMatchObject({ cause: 'node-up', node: 'n4', after: 480 });
  });

  it('a member that announced its leave (up, no longer ready) keeps it open until it is gone', () => {
    const tracker = new ConvergenceTracker([running('a', 'p1')]);
    tracker.observe({ type: 'node-down', node: 'n3', role: 'member', reason: 'leaving', at: 100 });
    const staying: MemberReadiness = { role: 'member', status: 'up', ready: true };
    const leaving: MemberReadiness[] = [staying, { role: 'member', status: 'up', ready: false }];
    expect(
      tracker.check(
        () => [running('a', 'p1')],
        110,
        () => leaving,
      ),
    ).toBeUndefined();
    expect(
      tracker.check(
        () => [running('a', 'p1')],
        120,
        () => [staying, { role: 'member', status: 'left', ready: false }],
      ),
    ).toMatchObject({ node: 'n3' });
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
