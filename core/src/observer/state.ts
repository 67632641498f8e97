/**
 * The cluster state the observer gateway serves to UIs, and its patches.
 *
 * Pure (no Node APIs), so the renderer imports it too: the gateway computes
 * `diffState(lastAcked, current)`; the client applies `applyPatch`. Keyed
 * collections (members by name, children by id, groups by scope/group) are
 * patched by upsert and removal, so a patch is sized to the changes, not to
 * the whole state. Notable events are appended (bounded); per-child
 * activity comes as bursts (timeline.ts) that may grow after they were
 * sent, so a burst is sent again whenever its `rev` changed and replaces the
 * client's copy (same `seq`); rate samples are appended by time.
 *
 * Invariant (tested): applyPatch(a, diffState(a, b)) deep-equals b, minus
 * entries older than the bounds.
 *
 * Everything here is typed down to the literals (member and child statuses,
 * each event's fields), so a UI reads the state without a cast; the Socket.IO
 * messages that carry it are in ui-protocol.ts.
 */
import type { DistEvent } from '../distributed/events.js';
import type { GlobalStatus, MoveReason } from '../distributed/view.js';
import type { MemberStatus, Role } from '../protocol.js';
import type { ChildSpec, RestartType } from '../supervisor/child-spec.js';

/**
 * A member's status as the UI shows it: the member table's, or
 * `unreachable` when the observer lost its own link to it and the other
 * members still hear it (or cannot be asked): unreachable from here, not
 * down (event-intake.ts).
 */
export type MemberViewStatus = MemberStatus | 'unreachable';

export interface MemberView {
  name: string;
  status: MemberViewStatus;
  role: Role;
  address: string;
  incarnation: string;
  labels: Record<string, string>;
  workers: string[];
  ready: boolean;
  draining: boolean;
  /** False when the observer itself is not linked to this member (it knows of it through gossip). */
  reachable: boolean;
}

export interface ChildView {
  id: string;
  status: GlobalStatus;
  node: string | null;
  pid: string | null;
  owner: string | null;
  pin: string | null;
  instances: Array<{ node: string; pid: string }>;
  /** Restarts in place of the current instance. */
  restarts: number;
  worker: string | null;
  command: string | null;
  restart: RestartType;
  handoff: ChildSpec['handoff'];
  lastError: string | null;
  failures: Array<{ node: string; failures: number; lastError: string }>;
}

/**
 * The gateway's own event: after a topology change (`cause`: a member node
 * `node` went down or came up), every child runs exactly once again.
 * `after`: ms from the change to the last event that led there (measured
 * between cluster events, not gateway ticks); `children`: how many run.
 */
export interface ConvergedEvent {
  type: 'converged';
  at: number;
  after: number;
  cause: 'node-up' | 'node-down';
  node: string;
  children: number;
}

/** The events the gateway adds to the supervisor's. */
export type GatewayEvent = ConvergedEvent;

/**
 * A cluster event as the observer saw it: the distributed supervisor's
 * events (distributed/events.ts: `placed`, `started`, `stopped`, `moved`
 * with its `reason`, `failed`, `duplicate-resolved`, `node-up` and
 * `node-down` with the node's `role`) and the gateway's own.
 */
export type ClusterEvent = DistEvent | GatewayEvent;
export type EventType = ClusterEvent['type'];

/** A cluster event numbered by the gateway (`seq` from 1, in the order it saw them). */
export type EventView = ClusterEvent & { seq: number };

/** The per-child event types, which the timeline collapses into bursts. */
export type ChildEventType = Extract<DistEvent, { id: string }>['type'];

/**
 * A burst of per-child events of one kind (timeline.ts): `count` events
 * between `at` and `until`; for moves, the node they left and why. `nodes`:
 * per node, how many started, stopped, failed or were placed there (moves:
 * went there). `ids`: the first children, in order (the UI expands them).
 * `first`: the first event, what a burst of one shows. `rev` grows with
 * the burst; `seq` is shared with the notable events, so both sort together.
 */
export interface ActivityView {
  seq: number;
  rev: number;
  at: number;
  until: number;
  type: ChildEventType;
  from?: string;
  reason?: MoveReason;
  count: number;
  nodes: Record<string, number>;
  ids: string[];
  first: EventView;
}

/**
 * One second of the cluster (timeline.ts): starts, stops, restarts in
 * place, moves and failures counted from the events in that second; members
 * and children per node when it closed.
 */
export interface SampleView {
  at: number;
  starts: number;
  stops: number;
  restarts: number;
  moves: number;
  failures: number;
  members: number;
  perNode: Record<string, number>;
}

/**
 * What this UI session may do: change the cluster (`operator`); only read
 * it, its operator rights dropped until it unlocks (`locked`: it reads as a
 * viewer does); only read it (`viewer` credential); or read it without any
 * credential (`none`).
 */
export type Access = 'operator' | 'locked' | 'viewer' | 'none';

export interface ClusterState {
  observer: string;
  cluster: string;
  paused: boolean;
  readOnly: boolean;
  access: Access;
  members: Record<string, MemberView>;
  children: Record<string, ChildView>;
  /** scope → group → node → how many of that node's pids are members (pg: a pid may join twice). */
  groups: Record<string, Record<string, Record<string, number>>>;
  /** Notable events (membership, convergence; never per-child ones), newest last, at most MAX_EVENTS. */
  events: EventView[];
  /** Per-child events as bursts, by seq, at most MAX_ACTIVITY. */
  activity: ActivityView[];
  /** One per second, oldest first, at most MAX_SAMPLES. */
  samples: SampleView[];
  /** Observer and `pogo ctl` sessions seen joining since the gateway started (not timeline events). */
  sessions: number;
}

export interface StatePatch {
  scalars?: Partial<Pick<ClusterState, 'observer' | 'cluster' | 'paused' | 'readOnly' | 'access' | 'sessions'>>;
  members?: { set?: MemberView[]; remove?: string[] };
  children?: { set?: ChildView[]; remove?: string[] };
  groups?: { set?: Array<{ scope: string; group: string; members: Record<string, number> }>; remove?: Array<{ scope: string; group: string }> };
  /** Events with seq greater than the last one the client has. */
  events?: EventView[];
  /** Bursts new or grown since the client's copy (replace by seq). */
  activity?: ActivityView[];
  /** Samples newer than the client's last. */
  samples?: SampleView[];
}

export const MAX_EVENTS = 1_000;
export const MAX_ACTIVITY = 1_000;
export const MAX_SAMPLES = 600;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffKeyed<T>(prev: Record<string, T>, next: Record<string, T>): { set?: T[]; remove?: string[] } | undefined {
  if (prev === next) return undefined;
  const set: T[] = [];
  const remove: string[] = [];
  // The same object is the same value (the gateway reuses the view of an unchanged child): no need to compare.
  for (const [key, value] of Object.entries(next)) if (prev[key] !== value && (!(key in prev) || !same(prev[key], value))) set.push(value);
  for (const key of Object.keys(prev)) if (!(key in next)) remove.push(key);
  if (set.length === 0 && remove.length === 0) return undefined;
  return { ...(set.length > 0 ? { set } : {}), ...(remove.length > 0 ? { remove } : {}) };
}

export function diffState(prev: ClusterState, next: ClusterState): StatePatch | undefined {
  const patch: StatePatch = {};
  const scalars: StatePatch['scalars'] = {};
  for (const key of ['observer', 'cluster', 'paused', 'readOnly', 'access', 'sessions'] as const) if (prev[key] !== next[key]) (scalars as Record<string, unknown>)[key] = next[key];
  if (Object.keys(scalars).length > 0) patch.scalars = scalars;
  const members = diffKeyed(prev.members, next.members);
  if (members) patch.members = members;
  const children = diffKeyed(prev.children, next.children);
  if (children) patch.children = children;
  const gset: Array<{ scope: string; group: string; members: Record<string, number> }> = [];
  const gremove: Array<{ scope: string; group: string }> = [];
  if (prev.groups !== next.groups) for (const [scope, groups] of Object.entries(next.groups)) for (const [group, members] of Object.entries(groups)) if (!same(prev.groups[scope]?.[group], members)) gset.push({ scope, group, members });
  for (const [scope, groups] of Object.entries(prev.groups)) for (const group of Object.keys(groups)) if (next.groups[scope]?.[group] === undefined) gremove.push({ scope, group });
  if (gset.length > 0 || gremove.length > 0) patch.groups = { ...(gset.length > 0 ? { set: gset } : {}), ...(gremove.length > 0 ? { remove: gremove } : {}) };
  const lastSeq = prev.events.at(-1)?.seq ?? 0;
  const events = next.events.filter((e) => e.seq > lastSeq);
  if (events.length > 0) patch.events = events;
  if (prev.activity !== next.activity) {
    const revs = new Map(prev.activity.map((a) => [a.seq, a.rev]));
    const changed = next.activity.filter((a) => revs.get(a.seq) !== a.rev);
    if (changed.length > 0) patch.activity = changed;
  }
  const lastAt = prev.samples.at(-1)?.at ?? -Infinity;
  const samples = next.samples.filter((x) => x.at > lastAt);
  if (samples.length > 0) patch.samples = samples;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export function applyPatch(state: ClusterState, patch: StatePatch): ClusterState {
  const next: ClusterState = { ...state, ...(patch.scalars ?? {}) };
  if (patch.members) {
    next.members = { ...state.members };
    for (const key of patch.members.remove ?? []) delete next.members[key];
    for (const m of patch.members.set ?? []) next.members[m.name] = m;
  }
  if (patch.children) {
    next.children = { ...state.children };
    for (const key of patch.children.remove ?? []) delete next.children[key];
    for (const c of patch.children.set ?? []) next.children[c.id] = c;
  }
  if (patch.groups) {
    next.groups = { ...state.groups };
    for (const { scope, group } of patch.groups.remove ?? []) {
      const g = { ...next.groups[scope] };
      delete g[group];
      if (Object.keys(g).length === 0) delete next.groups[scope];
      else next.groups[scope] = g;
    }
    for (const { scope, group, members } of patch.groups.set ?? []) next.groups[scope] = { ...next.groups[scope], [group]: members };
  }
  if (patch.events) {
    // A patch may be sent again (its ack was lost): keep only events newer than what we hold.
    const last = state.events.at(-1)?.seq ?? 0;
    next.events = [...state.events, ...patch.events.filter((e) => e.seq > last)].slice(-MAX_EVENTS);
  }
  if (patch.activity) {
    const bySeq = new Map(state.activity.map((a) => [a.seq, a]));
    for (const a of patch.activity) bySeq.set(a.seq, a);
    next.activity = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_ACTIVITY);
  }
  if (patch.samples) {
    const lastAt = state.samples.at(-1)?.at ?? -Infinity;
    next.samples = [...state.samples, ...patch.samples.filter((x) => x.at > lastAt)].slice(-MAX_SAMPLES);
  }
  return next;
}

export function emptyState(): ClusterState {
  return { observer: '', cluster: '', paused: false, readOnly: true, access: 'none', members: {}, children: {}, groups: {}, events: [], activity: [], samples: [], sessions: 0 };
}
