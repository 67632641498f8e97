import { beforeEach, describe, expect, it } from 'vitest';
import { diffState, emptyState, type ActivityView, type ChildView, type ClusterState, type MemberView, type SampleView } from 'pogo-core/observer-state';
import { childrenByNode, matchesFilter, selectMemberNodes } from './cluster';
import { resetStore, useStore } from './index';

const member = (name: string, role: MemberView['role'] = 'member'): MemberView => ({
  name,
  status: 'up',
  role,
  address: `${name}:1`,
  incarnation: 'abcdef0123456789',
  labels: {},
  workers: ['w'],
  ready: true,
  draining: false,
  reachable: true,
  silent: false,
});
const child = (id: string, node: string | null): ChildView => ({
  id,
  status: node ? 'running' : 'pending',
  node,
  pid: node ? `${node}/abcdef0123456789/c1` : null,
  owner: node,
  pin: null,
  instances: [],
  restarts: 0,
  worker: 'w',
  command: null,
  restart: 'permanent',
  handoff: 'stop-first',
  lastError: null,
  failures: [],
  unverified: false,
});

function state(children: Array<[string, string | null]>): ClusterState {
  const s = emptyState();
  s.cluster = 'test';
  for (const n of ['b', 'a', 'obs']) s.members[n] = member(n, n === 'obs' ? 'observer' : 'member');
  for (const [id, node] of children) s.children[id] = child(id, node);
  return s;
}

let clock = 1_000;
beforeEach(() => {
  resetStore();
  clock = 1_000;
  useStore.setState({ now: () => clock });
});

describe('cluster slice', () => {
  it('snapshot plus patches gives the same state as the latest snapshot', () => {
    const first = state([
      ['x', 'a'],
      ['y', 'b'],
    ]);
    const second: ClusterState = {
      ...state([
        ['y', 'a'],
        ['z', null],
      ]),
      paused: true,
      events: [{ seq: 1, at: 5, type: 'moved', id: 'y', from: 'b', to: 'a', reason: 'join' }],
    };
    useStore.getState().applySnapshot(first);
    useStore.getState().applyPatch(diffState(first, second)!);
    expect(useStore.getState().cluster).toEqual(second);
  });

  it('selects member nodes (not observers), sorted, and groups children by node', () => {
    useStore.getState().applySnapshot(
      state([
        ['x', 'a'],
        ['y', 'b'],
        ['w', 'a'],
        ['p', null],
      ]),
    );
    expect(selectMemberNodes(useStore.getState()).map((m) => m.name)).toEqual(['a', 'b']);
    const byNode = childrenByNode(useStore.getState().cluster);
    expect(byNode['a']!.map((c) => c.id)).toEqual(['w', 'x']);
    expect(byNode['']!.map((c) => c.id)).toEqual(['p']);
  });

  it('filters children by every word of the search', () => {
    const c = { ...child('ticker-1', 'a'), pin: 'a' };
    expect(matchesFilter(c, '')).toBe(true);
    expect(matchesFilter(c, 'TICK')).toBe(true);
    expect(matchesFilter(c, 'ticker pinned')).toBe(true);
    expect(matchesFilter(c, 'ticker b')).toBe(false);
    useStore.getState().applySnapshot(
      state([
        ['x1', 'a'],
        ['y1', 'b'],
        ['x2', 'b'],
      ]),
    );
    expect(
      Object.values(childrenByNode(useStore.getState().cluster, 'x'))
        .flat()
        .map((c) => c.id),
    ).toEqual(['x1', 'x2']);
  });

  it('keeps a move in flight until the cluster reports the child on the target node, and marks its arrival', () => {
    const before = state([['x', 'a']]);
    useStore.getState().applySnapshot(before);
    useStore.getState().startMove('x', 'b');
    expect(useStore.getState().moving).toEqual({ x: 'b' });
    const stillThere = { ...before, children: { x: { ...child('x', 'a'), pin: 'b' } } };
    useStore.getState().applyPatch(diffState(before, stillThere)!);
    expect(useStore.getState().moving).toEqual({ x: 'b' });
    clock = 2_000;
    const moved = state([['x', 'b']]);
    useStore.getState().applyPatch(diffState(stillThere, moved)!);
    expect(useStore.getState().moving).toEqual({});
    expect(useStore.getState().arrived).toEqual({ x: { from: 'a', at: 2_000 } });
    clock = 10_000;
    useStore.getState().applyPatch({ scalars: { paused: true } });
    expect(useStore.getState().arrived).toEqual({});
  });

  it('a refused move is dropped and its error shown', () => {
    useStore.getState().applySnapshot(state([['x', 'a']]));
    useStore.getState().startMove('x', 'b');
    useStore.getState().failMove('x', 'forbidden: viewer');
    expect(useStore.getState()).toMatchObject({ moving: {}, lastError: 'forbidden: viewer' });
  });
});

describe('connection slice', () => {
  it('starts disconnected and moves through the lifecycle, keeping a refusal reason', () => {
    expect(useStore.getState().status).toBe('disconnected');
    const seen: string[] = [];
    const unsubscribe = useStore.subscribe((s) => seen.push(s.status));
    useStore.getState().setStatus('connecting');
    useStore.getState().setStatus('connected');
    useStore.getState().setStatus('lost', 'unauthorized: wrong token');
    unsubscribe();
    expect(seen).toEqual(['connecting', 'connected', 'lost']);
    expect(useStore.getState().refusal).toBe('unauthorized: wrong token');
    resetStore();
    expect(useStore.getState()).toMatchObject({ status: 'disconnected', refusal: null });
  });
});

describe("the past is the state's", () => {
  const sample = (at: number, starts: number): SampleView => ({ at, starts, stops: 0, restarts: 0, moves: 0, failures: 0, members: 2, perNode: { a: 2 } });
  const burst = (seq: number, rev: number, ids: string[]): ActivityView => ({
    seq,
    rev,
    at: 1_000,
    until: 1_000 + rev,
    type: 'started',
    count: ids.length,
    nodes: { a: ids.length },
    ids,
    first: { seq, at: 1_000, type: 'started', id: ids[0]!, node: 'a', pid: `a/x/${ids[0]!}` },
  });

  it('keeps the gateway history from the snapshot and patches (bursts replaced as they grow), and a fresh store with the same state has the same', () => {
    const first: ClusterState = {
      ...state([['x', 'a']]),
      events: [{ seq: 1, at: 900, type: 'node-up', node: 'a', role: 'member' }],
      activity: [burst(2, 0, ['x'])],
      samples: [sample(0, 0)],
      sessions: 1,
    };
    const second: ClusterState = {
      ...state([
        ['x', 'a'],
        ['y', 'a'],
      ]),
      events: first.events,
      activity: [burst(2, 1, ['x', 'y'])],
      samples: [sample(0, 0), sample(1_000, 2)],
      sessions: 3,
    };
    useStore.getState().applySnapshot(first);
    useStore.getState().applyPatch(diffState(first, second)!);
    const kept = useStore.getState().cluster!;
    expect(kept).toEqual(second);
    expect(kept.activity[0]!.count).toBe(2);

    // A reload: a fresh store, and the gateway's snapshot of the same state.
    resetStore();
    expect(useStore.getState().cluster).toBeNull();
    useStore.getState().applySnapshot(second);
    expect(useStore.getState().cluster).toEqual(kept);
  });
});
