/**
 * Cluster states for the renderer's tests: a member, a child and a state
 * holding them, each with every field set to an ordinary value that a test
 * overrides where it matters; and bursts of per-child events shaped as the
 * gateway's history shapes them.
 */
import { emptyState, type ActivityView, type ChildView, type ClusterEvent, type ClusterState, type MemberView } from 'pogo-core/observer-state';

export const member = (name: string, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  status: 'up',
  role: 'member',
  address: `127.0.0.1:${4370 + name.length}`,
  incarnation: 'abcdef0123456789',
  labels: {},
  workers: ['w'],
  ready: true,
  draining: false,
  reachable: true,
  silent: false,
  ...extra,
});

export const child = (id: string, extra: Partial<ChildView> = {}): ChildView => {
  const node = extra.node === undefined ? 'a' : extra.node;
  return {
    id,
    status: 'running',
    node,
    pid: node ? `${node}/abcdef0123456789/${id}` : null,
    owner: node,
    pin: null,
    instances: node ? [{ node, pid: `${node}/abcdef0123456789/${id}` }] : [],
    restarts: 0,
    worker: 'w',
    command: null,
    restart: 'permanent',
    handoff: 'stop-first',
    lastError: null,
    failures: [],
    unverified: false,
    ...extra,
  };
};

/** A cluster named `test` with these members (and an observer `obs`) and children. */
export function clusterOf(members: MemberView[], children: ChildView[], extra: Partial<ClusterState> = {}): ClusterState {
  const s = emptyState();
  s.cluster = 'test';
  s.observer = 'obs';
  for (const m of [...members, member('obs', { role: 'observer', workers: [] })]) s.members[m.name] = m;
  for (const c of children) s.children[c.id] = c;
  return { ...s, ...extra };
}

/** A failing child: it crashed too often on `node` and runs nowhere. */
export const failing = (id: string, node = 'a', lastError = 'boom'): ChildView =>
  child(id, { status: 'failing', node: null, pid: null, instances: [], owner: node, lastError, failures: [{ node, failures: 4, lastError }] });

/** A per-child event (the kinds the gateway collapses into bursts). */
export type ChildEvent = Extract<ClusterEvent, { id: string }>;

/**
 * A burst of per-child events of one kind, as the gateway builds them (core
 * observer/timeline.ts): counted per node (moves: where they went), the ids
 * in order, the first event as what a burst of one shows.
 */
export function burstOf(seq: number, events: readonly ChildEvent[], rev = events.length - 1): ActivityView {
  const first = events[0]!;
  const nodes: Record<string, number> = {};
  for (const e of events) {
    const node = e.type === 'moved' ? e.to : e.type === 'duplicate-resolved' ? e.stopped[0]?.node : e.node;
    if (node !== undefined) nodes[node] = (nodes[node] ?? 0) + 1;
  }
  return {
    seq,
    rev,
    at: first.at,
    until: events.at(-1)!.at,
    type: first.type,
    ...(first.type === 'moved' ? { from: first.from, reason: first.reason } : {}),
    ...(first.type === 'duplicate-resolved' ? { kept: first.survivor.node } : {}),
    count: events.length,
    nodes,
    ids: events.slice(0, 500).map((e) => e.id),
    first: { ...first, seq },
  };
}
