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
 * client's copy (same `seq`); rate samples are appended by time, and so are
 * each node's resource figures (a series per node, bounded the same way at
 * both ends by `boundResourcePoints`).
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
import type { NetsplitSettings } from '../distributed/netsplit-settings.js';
import type { MemberStatus, Role, SaveFailing, WaitsFor } from '../protocol.js';
import type { ChildSpec, RestartType } from '../supervisor/child-spec.js';

/** The words of a member's wait (distributed/wait-words.ts), for the renderer as for `explain` and `pogo ctl status`. */
export { unreachedAdvice, unreachedWaitedFor, waitedForParts } from '../distributed/wait-words.js';

/**
 * A member's status as the UI shows it: the member table's, or
 * `unreachable` when the observer lost its own link to it and the other
 * members still hear it (or cannot be asked): unreachable from here, not
 * down (event-intake.ts).
 */
export type MemberViewStatus = MemberStatus | 'unreachable';

/** A member as the gateway shows it to UIs. */
export interface MemberView {
  /** The member's node name. */
  name: string;
  /** Its status as this observer shows it. */
  status: MemberViewStatus;
  /** Whether it is a member or an observer. */
  role: Role;
  /** The address (`host:port`) it is reached at. */
  address: string;
  /** Its incarnation (random hex, new at each start). */
  incarnation: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** The worker types it has registered. */
  workers: string[];
  /** Whether it has become ready to take children. */
  ready: boolean;
  /** Whether it is being drained. */
  draining: boolean;
  /** False when the observer itself is not linked to this member (it knows of it through gossip). */
  reachable: boolean;
  /**
   * Down after it went silent (event-intake.ts `wentSilent`): the observer
   * stopped hearing it well before its link was dropped, rather than seeing
   * its connection close. It may still be running (frozen, or cut off), and
   * so may its children, beside their restarts elsewhere. False unless the
   * status shown is `down`.
   */
  silent: boolean;
  /**
   * The other members that report they cannot hear it while it is linked to
   * this observer (their `reach` reports; absent when none does): a member
   * cut off from them, or partly, whom the observer alone still reaches. The
   * members place as they hear each other, so its children run elsewhere
   * (majority mode: once its lease has run out; it stops them itself), and
   * it is no place to move a child to.
   */
  unheardBy?: string[];
  /**
   * True while this observer's link to it is open but has gone quiet
   * (event-intake.ts `quietLink`: suspect, or three pings unanswered):
   * frozen or overloaded as likely as cut off. Absent otherwise (and from
   * gateways before it).
   */
  quiet?: boolean;
  /**
   * Its netsplit settings as it announces them (members of protocol 2.5 and
   * later; absent for older ones and for observers): what a member going
   * silent or being cut off means for its children — in mode `majority` it
   * stops them itself by its lease before the others restart them, in mode
   * `available` both sides run them until the heal.
   */
  netsplit?: NetsplitSettings;
  /**
   * Present while it cannot save its desired state to its data dir (members
   * of protocol 2.6 and later announce it): since when, and the last error.
   * Its commands still work and the others hold the state, but a restart of
   * every member would lose what changed since.
   */
  saveFailing?: SaveFailing;
  /**
   * Present while it is up but not ready (members of protocol 2.7 and later
   * announce it): whom it waits for — links, its saved roster, sync, a
   * seed, majority mode's lease — and when it takes children without them
   * (its clock). Children it would run wait meanwhile; when no member is
   * ready, every child does.
   */
  waitsFor?: WaitsFor;
}

/** A child as the gateway shows it to UIs. */
export interface ChildView {
  /** The child's id. */
  id: string;
  /** Its cluster-wide status. */
  status: GlobalStatus;
  /** Node of its (first) instance; null when none runs. */
  node: string | null;
  /** Pid of that instance; null when none runs. */
  pid: string | null;
  /** The node placement chose; null when no node is eligible. */
  owner: string | null;
  /** The node it is pinned to; null when unpinned. */
  pin: string | null;
  /** Every live instance (more than one only transiently). */
  instances: Array<{ node: string; pid: string }>;
  /** Restarts in place of the current instance. */
  restarts: number;
  /** The worker type it runs; null for an OS-process child. */
  worker: string | null;
  /** The OS command it runs; null for a worker child. */
  command: string | null;
  /** Its restart type (permanent, transient, temporary). */
  restart: RestartType;
  /** How it moves: `stop-first` (no overlap) or `start-first`. */
  handoff: ChildSpec['handoff'];
  /** The last error of a failed start; null when none failed. */
  lastError: string | null;
  /** Failed starts of the live revision, by node, with each node's last error. */
  failures: Array<{ node: string; failures: number; lastError: string }>;
  /**
   * True when this is the child as last seen, not as it is now: its node is
   * unreachable from the observer (the observer alone lost its link, and no
   * member's view covers it), or the observer is linked to no member at all
   * (`noMemberSince`). Its node, pid and status are then those it had when
   * the observer last saw it, unverified since: it may run there still,
   * which the observer cannot tell, so it is not drawn as "not running".
   */
  unverified: boolean;
  /**
   * True when the child was stopped for good (its spec is gone) and the
   * instances listed still run: a member cut off from the others (available
   * mode) runs a copy until they hear it again, then stops it. Shown as last
   * listed, with those instances; absent otherwise.
   */
  terminated?: true;
}

/**
 * The gateway's own event: after a change that redistributes children
 * (`cause`: a member node `node` went down or came up, or was drained or
 * undrained; or rebalancing was resumed, by a command on `node`), every
 * child runs exactly once again. `after`: ms from the
 * change to the last event that led there (measured between cluster events,
 * not gateway ticks); `children`: how many run.
 */
export interface ConvergedEvent {
  /** The event's type. */
  type: 'converged';
  /** When the cluster converged (ms since the epoch, the observer's clock). */
  at: number;
  /** Ms from the topology change to the last event that led to convergence. */
  after: number;
  /** Whether a member node came up or went down, or was drained or undrained, or rebalancing resumed. */
  cause: 'node-up' | 'node-down' | 'drain' | 'undrain' | 'resume';
  /** The node that came up, went down, was drained or undrained; for `resume`, the node the command was given on. */
  node: string;
  /** How many children run, once each. */
  children: number;
}

/** The events the gateway adds to the supervisor's. */
export type GatewayEvent = ConvergedEvent;

/**
 * What the gateway adds to a `stopped` it knows more of (event-intake.ts):
 * `terminated` when the child's spec is gone (a stop command, or the child
 * is not to be restarted), not a stop the cluster will follow with a
 * start elsewhere; `by`, who asked, when the stop command went through
 * this gateway (the audit log has every member's record); `unseen` when
 * it is no stop seen but an instance lost from sight with a silent member.
 */
export interface StopNote {
  /** The child's spec was removed: it stopped for good. */
  terminated?: true;
  /**
   * Published with its member's loss, that member having gone silent (frozen,
   * cut off, or a host gone without closing its connections) rather than
   * closed its links: this observer lost sight of the instance, and cannot
   * know whether it stopped (it did if the member died; it runs on if the
   * member is frozen or cut off). event-intake.ts.
   */
  unseen?: true;
  /** Who asked for the stop (the user a session of this gateway declared). */
  by?: string;
}

/** A `stopped` event, with what the gateway knows of why (StopNote). */
export type StoppedEvent = Extract<DistEvent, { type: 'stopped' }> & StopNote;

/**
 * A cluster event as the observer saw it: the distributed supervisor's
 * events (distributed/events.ts: `placed`, `started`, `stopped`, `moved`
 * with its `reason`, `failed`, `duplicate-resolved`, `node-up` and
 * `node-down` with the node's `role`, `drain` and `rebalancing` when an
 * operator drains a node or pauses rebalancing) and the gateway's own.
 */
export type ClusterEvent = Exclude<DistEvent, { type: 'stopped' }> | StoppedEvent | GatewayEvent;
/** The type of an event in the gateway's cluster event log. */
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
  /** The burst's place in the event order (shared with `events`); stays the same as the burst grows. */
  seq: number;
  /** Grows each time the burst grows; a client replaces its copy when it changes. */
  rev: number;
  /** Time of the burst's first event (ms since the epoch). */
  at: number;
  /** Time of its last event so far (ms since the epoch). */
  until: number;
  /** The kind of event the burst collects. */
  type: ChildEventType;
  /** For moves: the node the children left. */
  from?: string;
  /** For moves: why they moved. */
  reason?: MoveReason;
  /** For duplicates resolved: the node whose instances were kept (the others, counted in `nodes`, were stopped). */
  kept?: string;
  /** How many events the burst holds. */
  count: number;
  /** Per node, how many children started, stopped, failed or were placed there (moves: went there). */
  nodes: Record<string, number>;
  /** The first children the burst's events were about, in order (bounded). */
  ids: string[];
  /** The burst's first event, what a burst of one shows. */
  first: EventView;
}

/**
 * One second of the cluster (timeline.ts): starts, stops, restarts in
 * place, moves and failures counted from the events in that second; members
 * and children per node when it closed.
 */
export interface SampleView {
  /** Start of the second (ms since the epoch, the observer's clock). */
  at: number;
  /** Children started in that second. */
  starts: number;
  /** Children stopped in that second. */
  stops: number;
  /** Children restarted in place in that second. */
  restarts: number;
  /** Children moved in that second. */
  moves: number;
  /** Failed starts in that second. */
  failures: number;
  /** Members (not observers) up when the second closed. */
  members: number;
  /** Children with an instance on each node when the second closed, by node name (a copy on a second node counts there too). */
  perNode: Record<string, number>;
}

/**
 * A node's resource figures over one of its sampling intervals
 * (core resources.ts says how each is measured). `at` is the gateway's
 * clock when they arrived, so every node's series shares the time axis of
 * the samples above, whatever the nodes' own clocks say.
 */
export interface ResourcePoint {
  /** When the figures arrived (ms since the epoch, the gateway's clock). */
  at: number;
  /** CPU time of the process over the interval, % of one core. */
  cpu: number;
  /** Resident set size, bytes. */
  rss: number;
  /** V8 heap in use and reserved, bytes. */
  heapUsed: number;
  /** V8 heap reserved, bytes. */
  heapTotal: number;
  /** Event-loop lag over the interval, ms; null when the node's probe had no measurement in it. */
  lagMean: number | null;
  /** 99th percentile of the event-loop lag over the interval, ms; null when there was no measurement. */
  lagP99: number | null;
  /** Largest event-loop lag over the interval, ms; null when there was no measurement. */
  lagMax: number | null;
}

/** A node's resource figures: the newest last (its current ones), at most MAX_RESOURCE_POINTS, none older than RESOURCE_WINDOW_MS before the newest. */
export interface NodeResourcesView {
  /** The node's sampling interval, ms (as its last report said). */
  intervalMs: number;
  /** The figures, oldest first. */
  points: ResourcePoint[];
}

/**
 * What this UI session may do: change the cluster (`operator`); only read
 * it, its operator rights dropped until it unlocks (`locked`: it reads as a
 * viewer does); only read it (`viewer` credential); or read it without any
 * credential (`none`).
 */
export type Access = 'operator' | 'locked' | 'viewer' | 'none';

/** The whole cluster as the gateway serves it to UIs: members, children, groups, events. */
export interface ClusterState {
  /** The observer node's name. */
  observer: string;
  /** The cluster's name. */
  cluster: string;
  /** Whether rebalancing is paused cluster-wide. */
  paused: boolean;
  /** True unless this session has operator access (then commands that change the cluster are refused). */
  readOnly: boolean;
  /** What this session may do. */
  access: Access;
  /** Every known member, by name. */
  members: Record<string, MemberView>;
  /** Every child with a live spec, by id. */
  children: Record<string, ChildView>;
  /** scope → group → node → how many of that node's pids are members (pg: a pid may join twice). */
  groups: Record<string, Record<string, Record<string, number>>>;
  /** Notable events (membership, convergence; never per-child ones), newest last, at most MAX_EVENTS. */
  events: EventView[];
  /** Per-child events as bursts, by seq, at most MAX_ACTIVITY. */
  activity: ActivityView[];
  /** One per second, oldest first, at most MAX_SAMPLES. */
  samples: SampleView[];
  /** Resource figures per node that reported any (members of release 2.2 and later, and the observer itself), while the node is in the member table. */
  resources: Record<string, NodeResourcesView>;
  /** Observer and `pogo ctl` sessions seen joining since the gateway started (not timeline events). */
  sessions: number;
  /**
   * Since when (ms since the epoch, the observer's clock) the observer has
   * been linked to no member at all; null while it is linked to one. Then
   * nothing here is live: the members and children shown are the last ones
   * known (children `unverified`), commands cannot reach the cluster, and
   * no convergence is judged.
   */
  noMemberSince: number | null;
}

/** A change to ClusterState, as the gateway pushes it to UIs. */
export interface StatePatch {
  /** Changed top-level fields, with their new values. */
  scalars?: Partial<Pick<ClusterState, 'observer' | 'cluster' | 'paused' | 'readOnly' | 'access' | 'sessions' | 'noMemberSince'>>;
  /** Members added or changed (whole), and names of members removed. */
  members?: { set?: MemberView[]; remove?: string[] };
  /** Children added or changed (whole), and ids of children removed. */
  children?: { set?: ChildView[]; remove?: string[] };
  /** Groups added or changed (per node, how many of its pids are members), and groups removed. */
  groups?: { set?: Array<{ scope: string; group: string; members: Record<string, number> }>; remove?: Array<{ scope: string; group: string }> };
  /** Events with seq greater than the last one the client has. */
  events?: EventView[];
  /** Bursts new or grown since the client's copy (replace by seq). */
  activity?: ActivityView[];
  /** Samples newer than the client's last. */
  samples?: SampleView[];
  /**
   * Resource figures: per node, the points newer than the client's last
   * (`replace`: the whole series, when the client's is not a part of it),
   * and the nodes gone.
   */
  resources?: { set?: Array<{ node: string; intervalMs: number; points: ResourcePoint[]; replace?: true }>; remove?: string[] };
}

export const MAX_EVENTS = 1_000;
export const MAX_ACTIVITY = 1_000;
export const MAX_SAMPLES = 600;
/** A node's resource series spans at most this long (10 minutes: 300 points at the default 2 s interval)… */
export const RESOURCE_WINDOW_MS = 10 * 60_000;
/** …and holds at most this many points (a node sampling faster gets a shorter span). */
export const MAX_RESOURCE_POINTS = 360;

/** A resource series cut to its bounds: the newest MAX_RESOURCE_POINTS, none older than RESOURCE_WINDOW_MS before the newest. Points are in time order. */
export function boundResourcePoints(points: ResourcePoint[]): ResourcePoint[] {
  const last = points.at(-1);
  if (!last) return points;
  let from = Math.max(0, points.length - MAX_RESOURCE_POINTS);
  while (from < points.length - 1 && points[from]!.at < last.at - RESOURCE_WINDOW_MS) from++;
  return from === 0 ? points : points.slice(from);
}

function samePoint(a: ResourcePoint, b: ResourcePoint): boolean {
  return (
    a.at === b.at &&
    a.cpu === b.cpu &&
    a.rss === b.rss &&
    a.heapUsed === b.heapUsed &&
    a.heapTotal === b.heapTotal &&
    a.lagMean === b.lagMean &&
    a.lagP99 === b.lagP99 &&
    a.lagMax === b.lagMax
  );
}

/** What changed in the resource series: new points per node (or the whole series when the client's is not a part of it), and nodes gone. */
function diffResources(prev: ClusterState['resources'], next: ClusterState['resources']): StatePatch['resources'] {
  if (prev === next) return undefined;
  const set: NonNullable<NonNullable<StatePatch['resources']>['set']> = [];
  for (const [node, view] of Object.entries(next)) {
    const before = prev[node];
    if (before === view) continue;
    const last = before?.points.at(-1);
    // The client's newest point is in this series: it needs only what came after it.
    const at = last === undefined ? -1 : view.points.findIndex((p) => p.at === last.at);
    if (last !== undefined && at >= 0 && samePoint(view.points[at]!, last)) {
      const points = view.points.slice(at + 1);
      if (points.length > 0 || before!.intervalMs !== view.intervalMs) set.push({ node, intervalMs: view.intervalMs, points });
    } else {
      set.push({ node, intervalMs: view.intervalMs, points: view.points, replace: true });
    }
  }
  const remove = Object.keys(prev).filter((node) => !(node in next));
  if (set.length === 0 && remove.length === 0) return undefined;
  return { ...(set.length > 0 ? { set } : {}), ...(remove.length > 0 ? { remove } : {}) };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A record keyed by names the cluster chooses (node names, child ids, group names), without a
 * prototype: a node may be named `constructor` and a child `__proto__` (their patterns allow it),
 * and on a plain object the first read Object's own function where the name was absent (a node's
 * first resource figures threw, a count became text) and the second set the record's prototype
 * instead of an entry. `from`'s own entries are copied.
 */
export function keyed<T>(from?: Readonly<Record<string, T>>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  if (from !== undefined) Object.assign(out, from);
  return out;
}

/** `state` with its keyed collections as `keyed` records (a snapshot as JSON.parse made it). */
export function keyedState(state: ClusterState): ClusterState {
  const groups = keyed<Record<string, Record<string, number>>>();
  for (const scope of Object.keys(state.groups)) {
    const gs = keyed<Record<string, number>>();
    for (const group of Object.keys(state.groups[scope]!)) gs[group] = keyed(state.groups[scope]![group]);
    groups[scope] = gs;
  }
  return {
    ...state,
    members: keyed(state.members),
    children: keyed(state.children),
    groups,
    resources: keyed(state.resources),
    samples: state.samples.map(keyedSample),
  };
}

/**
 * `sample` with its `perNode` a `keyed` record (a sample as JSON.parse made it): a node named
 * `constructor` is absent from most seconds' counts, and reading it there gave Object's function.
 */
function keyedSample(sample: SampleView): SampleView {
  return { ...sample, perNode: keyed(sample.perNode) };
}

function diffKeyed<T>(prev: Record<string, T>, next: Record<string, T>): { set?: T[]; remove?: string[] } | undefined {
  if (prev === next) return undefined;
  const set: T[] = [];
  const remove: string[] = [];
  // The same object is the same value (the gateway reuses the view of an unchanged child): no need to compare.
  // for…in, not Object.entries: at 20,000 children this runs on every patch, and needs no pair per key.
  let kept = 0;
  for (const key in next) {
    const value = next[key]!;
    const had = Object.hasOwn(prev, key);
    if (had) kept++;
    if (!had || (prev[key] !== value && !same(prev[key], value))) set.push(value);
  }
  // Fewer of prev's keys are in next than prev has: some were removed.
  if (kept < Object.keys(prev).length) for (const key in prev) if (!Object.hasOwn(next, key)) remove.push(key);
  if (set.length === 0 && remove.length === 0) return undefined;
  return { ...(set.length > 0 ? { set } : {}), ...(remove.length > 0 ? { remove } : {}) };
}

export function diffState(prev: ClusterState, next: ClusterState): StatePatch | undefined {
  const patch: StatePatch = {};
  const scalars: StatePatch['scalars'] = {};
  for (const key of ['observer', 'cluster', 'paused', 'readOnly', 'access', 'sessions', 'noMemberSince'] as const)
    if (prev[key] !== next[key]) (scalars as Record<string, unknown>)[key] = next[key];
  if (Object.keys(scalars).length > 0) patch.scalars = scalars;
  const members = diffKeyed(prev.members, next.members);
  if (members) patch.members = members;
  const children = diffKeyed(prev.children, next.children);
  if (children) patch.children = children;
  const gset: Array<{ scope: string; group: string; members: Record<string, number> }> = [];
  const gremove: Array<{ scope: string; group: string }> = [];
  if (prev.groups !== next.groups)
    for (const [scope, groups] of Object.entries(next.groups))
      for (const [group, members] of Object.entries(groups)) if (!same(prev.groups[scope]?.[group], members)) gset.push({ scope, group, members });
  for (const [scope, groups] of Object.entries(prev.groups))
    for (const group of Object.keys(groups)) if (next.groups[scope]?.[group] === undefined) gremove.push({ scope, group });
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
  const resources = diffResources(prev.resources, next.resources);
  if (resources) patch.resources = resources;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export function applyPatch(state: ClusterState, patch: StatePatch): ClusterState {
  const next: ClusterState = { ...state, ...(patch.scalars ?? {}) };
  if (patch.members) {
    next.members = keyed(state.members);
    for (const key of patch.members.remove ?? []) delete next.members[key];
    for (const m of patch.members.set ?? []) next.members[m.name] = m;
  }
  if (patch.children) {
    next.children = keyed(state.children);
    for (const key of patch.children.remove ?? []) delete next.children[key];
    for (const c of patch.children.set ?? []) next.children[c.id] = c;
  }
  if (patch.groups) {
    next.groups = keyed(state.groups);
    // Each scope the patch touches is copied once (not once per group: a scope may hold thousands).
    const copied = new Set<string>();
    const scopeOf = (scope: string): Record<string, Record<string, number>> => {
      if (!copied.has(scope)) {
        copied.add(scope);
        next.groups[scope] = keyed(next.groups[scope]);
      }
      return next.groups[scope]!;
    };
    for (const { scope, group } of patch.groups.remove ?? []) delete scopeOf(scope)[group];
    for (const { scope, group, members } of patch.groups.set ?? []) scopeOf(scope)[group] = keyed(members);
    for (const scope of copied) if (Object.keys(next.groups[scope]!).length === 0) delete next.groups[scope];
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
    next.samples = [...state.samples, ...patch.samples.filter((x) => x.at > lastAt).map(keyedSample)].slice(-MAX_SAMPLES);
  }
  if (patch.resources) {
    next.resources = keyed(state.resources);
    for (const node of patch.resources.remove ?? []) delete next.resources[node];
    for (const { node, intervalMs, points, replace } of patch.resources.set ?? []) {
      const before = replace ? undefined : next.resources[node];
      // A patch may be sent again (its ack was lost): keep only points newer than what we hold.
      const lastAt = before?.points.at(-1)?.at ?? -Infinity;
      next.resources[node] = { intervalMs, points: boundResourcePoints([...(before?.points ?? []), ...points.filter((p) => p.at > lastAt)]) };
    }
  }
  return next;
}

export function emptyState(): ClusterState {
  return {
    observer: '',
    cluster: '',
    paused: false,
    readOnly: true,
    access: 'none',
    members: keyed(),
    children: keyed(),
    groups: keyed(),
    events: [],
    activity: [],
    samples: [],
    resources: keyed(),
    sessions: 0,
    noMemberSince: null,
  };
}
