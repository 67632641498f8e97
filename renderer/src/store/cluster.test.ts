import { beforeEach, describe, expect, it } from 'vitest';
import { diffState, emptyState, type ClusterState } from 'pogo-core/observer-state';
import { childrenByNode, resetClusterStore, selectMemberNodes, useClusterStore } from './cluster';

const member = (name: string, role = 'member') => ({ name, status: 'up', role, address: `${name}:1`, incarnation: 'abcdef0123456789', labels: {}, workers: ['w'], ready: true, draining: false, reachable: true });
const child = (id: string, node: string | null) => ({ id, status: node ? 'running' : 'pending', node, pid: node ? `${node}/abcdef0123456789/c1` : null, owner: node, pin: null, instances: [], worker: 'w', command: null, restart: 'permanent', handoff: 'stop-first', lastError: null, failures: [] });

function state(children: Array<[string, string | null]>): ClusterState {
  const s = emptyState();
  s.cluster = 'test';
  for (const n of ['b', 'a', 'obs']) s.members[n] = member(n, n === 'obs' ? 'observer' : 'member');
  for (const [id, node] of children) s.children[id] = child(id, node);
  return s;
}

beforeEach(() => resetClusterStore());

describe('cluster store', () => {
  it('snapshot plus patches gives the same state as the latest snapshot', () => {
    const first = state([['x', 'a'], ['y', 'b']]);
    const second = { ...state([['y', 'a'], ['z', null]]), paused: true, events: [{ seq: 1, at: 5, type: 'moved' }] };
    useClusterStore.getState().applySnapshot(first);
    useClusterStore.getState().applyPatch(diffState(first, second)!);
    expect(useClusterStore.getState().cluster).toEqual(second);
  });

  it('selects member nodes (not observers), sorted, and groups children by node', () => {
    useClusterStore.getState().applySnapshot(state([['x', 'a'], ['y', 'b'], ['w', 'a'], ['p', null]]));
    expect(selectMemberNodes(useClusterStore.getState()).map((m) => m.name)).toEqual(['a', 'b']);
    const byNode = childrenByNode(useClusterStore.getState().cluster);
    expect(byNode['a']!.map((c) => c.id)).toEqual(['w', 'x']);
    expect(byNode['']!.map((c) => c.id)).toEqual(['p']);
  });

  it('keeps a move in flight until the cluster reports the child on the target node', () => {
    const before = state([['x', 'a']]);
    useClusterStore.getState().applySnapshot(before);
    useClusterStore.getState().startMove('x', 'b');
    expect(useClusterStore.getState().moving).toEqual({ x: 'b' });
    const stillThere = { ...before, children: { x: { ...child('x', 'a'), pin: 'b' } } };
    useClusterStore.getState().applyPatch(diffState(before, stillThere)!);
    expect(useClusterStore.getState().moving).toEqual({ x: 'b' });
    const moved = state([['x', 'b']]);
    useClusterStore.getState().applyPatch(diffState(stillThere, moved)!);
    expect(useClusterStore.getState().moving).toEqual({});
  });

  it('a refused move is dropped and its error shown', () => {
    useClusterStore.getState().applySnapshot(state([['x', 'a']]));
    useClusterStore.getState().startMove('x', 'b');
    useClusterStore.getState().failMove('x', 'forbidden: viewer');
    expect(useClusterStore.getState()).toMatchObject({ moving: {}, lastError: 'forbidden: viewer' });
  });
});
