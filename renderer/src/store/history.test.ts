import { beforeEach, describe, expect, it } from 'vitest';
import { emptyState, type ChildView, type ClusterState, type ConvergedEvent, type EventView, type MemberView } from 'pogo-core/observer-state';
import { CONVERGENCE_LIMIT, SAMPLE_LIMIT } from './history';
import { resetStore, useStore } from './index';

const member = (name: string, status: MemberView['status'] = 'up'): MemberView => ({ name, status, role: 'member', address: `${name}:1`, incarnation: 'abcdef0123456789', labels: {}, workers: ['w'], ready: true, draining: false, reachable: true });
const child = (id: string, node: string | null, restarts = 0): ChildView => ({ id, status: node ? 'running' : 'pending', node, pid: node ? `${node}/x/c1` : null, owner: node, pin: null, instances: [], restarts, worker: 'w', command: null, restart: 'permanent', handoff: 'stop-first', lastError: null, failures: [] });

function state(children: ChildView[], events: EventView[] = [], nodes = ['a', 'b']): ClusterState {
  const s = emptyState();
  s.cluster = 'test';
  for (const n of nodes) s.members[n] = member(n);
  for (const c of children) s.children[c.id] = c;
  s.events = events;
  return s;
}

const converged = (seq: number, after: number, node = 'b', cause: ConvergedEvent['cause'] = 'node-down'): EventView => ({ seq, at: 10_000 + seq, type: 'converged', after, cause, node, children: 2 });

let clock = 1_000;
beforeEach(() => {
  resetStore();
  clock = 1_000;
  useStore.setState({ now: () => clock });
});

const record = (s: ClusterState, at: number): void => {
  clock = at;
  useStore.getState().applySnapshot(s);
};

describe('history: restarts', () => {
  it('counts increases of restarts in place, not the counts already there at the first sample', () => {
    record(state([child('x', 'a', 4), child('y', 'b', 0)]), 1_000);
    expect(useStore.getState().samples[0]!.restarts).toBe(0);
    record(state([child('x', 'a', 6), child('y', 'b', 1)]), 2_000);
    expect(useStore.getState().samples[1]!.restarts).toBe(3);
    // Merged into the same second: adds up.
    record(state([child('x', 'a', 7), child('y', 'b', 1)]), 2_400);
    expect(useStore.getState().samples).toHaveLength(2);
    expect(useStore.getState().samples[1]).toMatchObject({ restarts: 4, until: 2_400 });
  });

  it('a child that moved starts from its new instance: a lower count is no restart, its new count is', () => {
    record(state([child('x', 'a', 5)]), 1_000);
    record(state([child('x', 'b', 0)]), 2_000);
    expect(useStore.getState().samples[1]!.restarts).toBe(0);
    record(state([child('x', 'b', 2)]), 3_000);
    expect(useStore.getState().samples[2]!.restarts).toBe(2);
    // Moved back and restarted once on the way: its count is that instance's.
    record(state([child('x', 'a', 1)]), 4_000);
    expect(useStore.getState().samples[3]!.restarts).toBe(1);
    // A new child seen after the first sample counts its restarts; a removed one is forgotten.
    record(state([child('z', 'a', 1)]), 5_000);
    expect(useStore.getState().samples[4]!.restarts).toBe(1);
    expect(Object.keys(useStore.getState().restartsSeen ?? {})).toEqual(['z']);
  });
});

describe('history: convergence', () => {
  it('keeps each converged event once, from the snapshot and from later patches', () => {
    const first = state([child('x', 'a')], [{ seq: 1, at: 1, type: 'node-down', node: 'b', role: 'member', reason: 'member-down' }, converged(2, 84)]);
    record(first, 1_000);
    clock = 1_100;
    useStore.getState().applyPatch({ events: [converged(2, 84), { seq: 3, at: 3, type: 'node-up', node: 'b', role: 'member' }] }); // seq 2 sent again
    clock = 2_500;
    useStore.getState().applyPatch({ events: [converged(4, 120, 'b', 'node-up')] });
    // A reconnect delivers a snapshot with the same events.
    record({ ...useStore.getState().cluster! }, 3_000);
    expect(useStore.getState().convergence).toEqual([
      { seq: 2, at: 10_002, after: 84, cause: 'node-down', node: 'b', children: 2 },
      { seq: 4, at: 10_004, after: 120, cause: 'node-up', node: 'b', children: 2 },
    ]);
  });

  it('is bounded, and starts over when the gateway numbers its events from 1 again', () => {
    const events = Array.from({ length: CONVERGENCE_LIMIT + 20 }, (_, i) => converged(i + 1, i));
    record(state([], events.slice(-500)), 1_000);
    expect(useStore.getState().convergence).toHaveLength(CONVERGENCE_LIMIT);
    expect(useStore.getState().convergence.at(-1)!.after).toBe(CONVERGENCE_LIMIT + 19);
    // A restarted gateway: seq 1 again.
    record(state([], [converged(1, 7)]), 2_000);
    expect(useStore.getState().convergence.at(-1)!.after).toBe(7);
    expect(useStore.getState().countedSeq).toBe(1);
  });
});

describe('history: samples', () => {
  it('keeps at most SAMPLE_LIMIT samples, newest last', () => {
    for (let i = 0; i < SAMPLE_LIMIT + 5; i++) record(state([child('x', 'a')]), 1_000 + i * 1_000);
    const samples = useStore.getState().samples;
    expect(samples).toHaveLength(SAMPLE_LIMIT);
    expect(samples.at(-1)!.at).toBe(1_000 + (SAMPLE_LIMIT + 4) * 1_000);
  });

  it('lists up members with no children as 0, and down members not at all', () => {
    const s = state([child('x', 'a')], [], ['a', 'b', 'c']);
    s.members['c'] = member('c', 'down');
    record(s, 1_000);
    expect(useStore.getState().samples[0]).toMatchObject({ members: 2, perNode: { a: 1, b: 0 } });
  });
});
