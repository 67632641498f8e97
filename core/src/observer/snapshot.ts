/**
 * The state a UI sees (state.ts ClusterState), built from the observer
 * node: its members, the distributed supervisor's children, the process
 * groups, the event history, and what the session may do.
 *
 * `remote` is the view of a member the observer can reach (remote-view.ts),
 * used when some members are beyond the observer's own links (firewalls):
 * then the children and those members' status are shown as that member
 * sees them, and `reachable: false` marks the members the observer cannot
 * reach itself.
 *
 * `Snapshots` builds the state at most once per change: the gateway marks
 * it dirty on supervisor, membership and group events, and each access
 * level's state is rebuilt on the first read after that, never per child
 * while idle. A built state is never changed (diffState compares the last
 * one a client acknowledged with the newest).
 */
import { SUPERVISOR_SCOPE, type PogoNode } from '../node.js';
import {
  keyed,
  type Access,
  type ActivityView,
  type ChildView,
  type ClusterState,
  type EventView,
  type MemberViewStatus,
  type NodeResourcesView,
  type SampleView,
} from './state.js';
import { memberVerdict, quietLink, verdictVoters, wentSilent, withLinkFacts } from './event-intake.js';
import type { ChildReport, MemberViewReply } from './ui-protocol.js';
import { isLinked, type Member } from '../membership.js';
import { cutOffMembers } from '../distributed/candidates.js';
import type { MemberStatus } from '../protocol.js';

/** A child as a UI sees it, from the supervisor's own listing or a member's report (GlobalChild fits both). */
/** The UI view of each listing entry already converted: an unchanged child keeps its object, which diffState skips by identity. */
const converted = new WeakMap<ChildReport, ChildView>();

function childView(c: ChildReport): ChildView {
  let v = converted.get(c);
  if (v === undefined) converted.set(c, (v = toChildView(c)));
  return v;
}

function toChildView(c: ChildReport): ChildView {
  const start = c.spec.start;
  return {
    id: c.id,
    status: c.status,
    node: c.node ?? null,
    pid: c.pid ?? null,
    owner: c.owner ?? null,
    pin: c.pin ?? null,
    instances: c.instances,
    restarts: c.restarts,
    worker: 'worker' in start && typeof start.worker === 'string' ? start.worker : null,
    command: 'command' in start && typeof start.command === 'string' ? start.command : null,
    restart: c.spec.restart,
    handoff: c.spec.handoff,
    lastError: c.lastError ?? null,
    failures: c.failures,
    unverified: false,
  };
}

/** The unverified copy of each view already made: an unchanged child keeps its object here too. */
const unverifiedCopies = new WeakMap<ChildView, ChildView>();

function asUnverified(v: ChildView): ChildView {
  if (v.unverified) return v;
  let u = unverifiedCopies.get(v);
  if (u === undefined) unverifiedCopies.set(v, (u = { ...v, unverified: true }));
  return u;
}

/**
 * A child stopped for good as seen here, shown with the instances of it that
 * still run (`instances`; `unverified`: on members unreachable from here,
 * not known gone), as last shown otherwise (`before`).
 */
function stoppedForGood(id: string, before: ChildView | undefined, instances: ChildView['instances'], unverified: boolean): ChildView {
  const [first] = instances;
  return {
    ...(before ?? { id, worker: null, command: null, restart: 'permanent', handoff: 'stop-first', restarts: 0, lastError: null, failures: [] }),
    status: instances.length > 1 ? 'duplicate' : 'running',
    node: first?.node ?? null,
    pid: first?.pid ?? null,
    owner: null,
    pin: null,
    instances,
    unverified,
    terminated: true,
  };
}

/** The views made by `withHidden`, per view seen, with the pids added: an unchanged child keeps its object. */
const hiddenCopies = new WeakMap<ChildView, { pids: string; shown: ChildView }>();

/**
 * `now` with the instances in `hidden` (on members unreachable from here, not known gone) beside its own, unverified:
 * running there when it runs nowhere as seen here, a duplicate when it runs here too.
 */
function withHidden(now: ChildView, hidden: ReadonlyArray<{ node: string; pid: string }>): ChildView {
  const pids = hidden.map((i) => i.pid).join(' ');
  const made = hiddenCopies.get(now);
  if (made !== undefined && made.pids === pids) return made.shown;
  const instances = [...now.instances, ...hidden.map((i) => ({ node: i.node, pid: i.pid }))];
  const first = instances[0]!;
  const shown: ChildView = {
    ...now,
    instances,
    // Where the listing has it, if anywhere (its column): the listing's first instance is not always the first listed.
    node: now.node ?? first.node,
    pid: now.pid ?? first.pid,
    status: instances.length > 1 ? 'duplicate' : 'running',
    unverified: true,
  };
  hiddenCopies.set(now, { pids, shown });
  return shown;
}

/**
 * What the UI is shown of one child (pure): `now`, as the observer's own
 * listing has it, unless the observer cannot see where it last ran. Then
 * `before`, the child as last shown, marked unverified:
 *
 * - `isolated`: the observer is linked to no member; its listing is empty
 *   or stale (its live state went with its links), so everything shown is
 *   the last known state;
 * - instances on a member in `lost` whose stop is held (`held`: the
 *   observer lost its link, the member was not judged down) are not known
 *   gone: shown beside those seen, or alone when none is, unverified;
 * - the child runs nowhere as seen here and last ran on a member in `lost`
 *   (unreachable from the observer only, with no member's view borrowed):
 *   its instance went from the observer's live state with the link, not
 *   from the cluster, so it is not "not running", it is not known;
 * - the child is pending as seen here while some member is in `lost`: it
 *   may run there (the lost members may be the other side of a split that
 *   took it over), so it is shown as seen, unverified.
 */
export function lastKnownChild(
  now: ChildView,
  before: ChildView | undefined,
  lost: ReadonlySet<string>,
  isolated: boolean,
  held: ReadonlyArray<{ node: string; pid: string }> = [],
): ChildView {
  if (isolated) return asUnverified(before ?? now);
  // Race "a minority's copies hide the instances it lost": linked to n3 alone, n3 cut off from n1 and n2 and running
  // copies of their children (available mode), the board showed each child on n3 alone, its instance on n1 gone with
  // the observer's link — while both ran (an outsider's tour, by the instances' own records). The instances on a
  // member unreachable from here whose stop is held (`held`) are not known gone: shown beside the ones seen, the whole
  // unverified. Race "a partial heal stops the copy, and the child is pending": then n3 heard n2 again, and n2, which
  // sees n1's instance beside n3's copy, had the copy stopped; n3 (and so the observer, n3's view borrowed) saw the child
  // run nowhere, placed on n2: "pending, unverified" in "Not running", while it ran on n1 throughout (the tour, by the
  // instances' own records). Its held instance is shown instead: running there, unverified. The last shown (below)
  // cannot tell: it was the duplicate, first on n3.
  if (held.length > 0) {
    const hidden = held.filter((i) => lost.has(i.node) && !now.instances.some((n) => n.pid === i.pid));
    if (hidden.length > 0) return withHidden(now, hidden);
  }
  if (before !== undefined && before.node !== null && lost.has(before.node) && now.instances.length === 0) return asUnverified(before);
  // Race "an observer that reaches only the minority": a child that runs nowhere as seen here may run on a member
  // that neither the observer nor its lender sees (the majority took it over: "pending" for the whole split, and
  // "waiting too long: placed on n3", n3's minority view told as fact). Not known, then: shown as seen, unverified.
  if (lost.size > 0 && now.instances.length === 0 && now.status === 'pending') return asUnverified(now);
  return now;
}

/**
 * The status a UI is shown of a member (pure). Reached by the observer: as
 * its own membership says. Not reached and not judged down (`unreachable`
 * here: event-intake.ts `memberVerdict`): unreachable, whatever a borrowed
 * view says of it — one member's word is no verdict (race "an observer that
 * reaches only the minority": the member lending its view was itself cut off
 * from the majority, and its "down" showed two running members down for the
 * whole split). Otherwise as the borrowed view says, or the observer's own
 * table.
 */
export function shownStatus(own: MemberStatus, reachable: boolean, unreachableHere: boolean, lent: MemberStatus | undefined): MemberViewStatus {
  if (reachable) return own;
  if (unreachableHere) return 'unreachable';
  return lent ?? own;
}

/**
 * The members whose children the observer cannot see now (pure): those
 * shown unreachable that the borrowed view does not see linked either (all
 * of them without one). A child that last ran on one of them and runs
 * nowhere as seen is shown as last known, unverified (`lastKnownChild`),
 * not as "pending": its instance went from the observer's live state, and
 * from the lender's, with their links, not from the cluster.
 */
export function unseenMembers(shown: Iterable<{ name: string; status: string }>, lent: ReadonlyMap<string, string>): Set<string> {
  const out = new Set<string>();
  for (const m of shown) if (m.status === 'unreachable' && !isLinked(lent.get(m.name) ?? 'down')) out.add(m.name);
  return out;
}

/**
 * Who cannot hear each member the observer reaches, as the UI is told it
 * (MemberView `unheardBy`, pure): the members' reports (`reach`), less the
 * reporters that are themselves cut off (candidates.ts `cutOffMembers`: more
 * than half of the others cannot hear them). In a split the lost side says
 * it cannot hear the majority too; told as it is, every member was "cut off"
 * and no column was a drop target while the cluster moved children between
 * the majority's members at will (the re-check of the tour). So n3 cut off
 * from n1 and n2 tags n3 alone; a partial partition (n1 and n2 cannot hear
 * each other, n3 hears both) tags both, each by the other. `judgedCutOff`:
 * members the intake holds cut off (judged down while linked here), whose
 * reports do not count either.
 */
export function unheardBy(members: readonly Member[], counted?: ReadonlySet<string>, judgedCutOff: ReadonlySet<string> = new Set()): Map<string, string[]> {
  // Race "a cut-off member's word back because a reporter went quiet": n3 cut off, then this observer lost n1 — n2's
  // word on n3 was one of two, n3 no longer cut off by the reports alone, and n2 was tagged "cut off from n3" while the
  // timeline (event-intake.ts `mayStillBeCutOff`) still had n3 down, cut off. The members the intake holds cut off
  // (`judgedCutOff`: judged down, linked here) are no reporters either.
  const cut = new Set([...cutOffMembers(members, counted), ...judgedCutOff]);
  const out = new Map<string, string[]>();
  for (const m of members) {
    if (m.role !== 'member' || !isLinked(m.status) || m.unheardBy === undefined) continue;
    const by = [...new Set(m.unheardBy.map((u) => u.reporter))].filter((r) => r !== m.name && !cut.has(r)).sort();
    if (by.length > 0) out.set(m.name, by);
  }
  return out;
}

/** What the gateway adds to the node's own state: its history, who is unreachable from here, sessions seen. */
export interface GatewayFacts {
  events: readonly EventView[];
  activity?: readonly ActivityView[];
  samples?: readonly SampleView[];
  /** Members the observer lost its own link to and the others still hear (event-intake.ts). */
  unreachable?: ReadonlySet<string>;
  /** Members whose loss the intake published (judged down), until seen up again (event-intake.ts `judgedDown`). */
  judgedDown?: ReadonlySet<string>;
  /** Instances on those members whose stop is held (event-intake.ts `heldInstances`): not known gone. */
  heldInstances?: ReadonlyMap<string, ReadonlyArray<{ node: string; pid: string }>>;
  sessions?: number;
  /** Resource figures per node (resource-history.ts): replaced, never changed, when they change. */
  resources?: Readonly<Record<string, NodeResourcesView>>;
  /** Since when the observer has been linked to no member (ClusterState.noMemberSince); null or absent while it is linked to one. */
  noMemberSince?: number | null;
}

/**
 * The state a session sees. `last`: the children as last shown, for the
 * ones the observer cannot see now (`lastKnownChild`).
 */
export function buildState(
  node: PogoNode,
  facts: GatewayFacts,
  access: Access,
  remote?: MemberViewReply,
  last?: Readonly<Record<string, ChildView>>,
): ClusterState {
  const draining = new Set(node.supervisor.draining());
  const members: ClusterState['members'] = keyed();
  const remoteStatus = new Map((remote?.members ?? []).map((m) => [m.name, m.status]));
  const withReach = node.members().map((m) => (m.name === node.name ? m : { ...m, unheardBy: node.unheardBy(m.name, m.incarnation) }));
  // Members down in the observer's table that it never lost itself (it started, or linked again, during a split): down
  // only as the intake judges a loss, by more than half of the members the cluster counts (`memberVerdict`). Race "an
  // observer started during a split": linked to n3 alone, cut off from n1 and n2, a new observer took n3's table as it
  // was — n1 and n2 down, with Dismiss buttons, "nothing needs attention" — while both ran (the re-check of the tour).
  const judgedDown = facts.judgedDown ?? new Set<string>();
  const { reporters, counted: voters } = verdictVoters(withReach, judgedDown);
  const unverdicted = new Set<string>();
  // (A member the borrowed view sees linked is shown as it says: an observer behind a firewall never reached it.)
  for (const m of withReach)
    if (m.role === 'member' && m.status === 'down' && facts.unreachable?.has(m.name) !== true && !judgedDown.has(m.name))
      if (!isLinked(remoteStatus.get(m.name) ?? 'down') && memberVerdict(m, reporters, voters) === 'unreachable') unverdicted.add(m.name);
  // The members the cluster counts beside those the observer reaches: those unreachable from here, not judged down.
  const counted = new Set([...(facts.unreachable ?? []), ...unverdicted]);
  const judgedCutOff = new Set(withReach.filter((m) => m.role === 'member' && isLinked(m.status) && judgedDown.has(m.name)).map((m) => m.name));
  const unheard = unheardBy(withReach, counted, judgedCutOff);
  for (const m of node.members()) {
    if (m.status === 'left') continue;
    const reachable = m.name === node.name || isLinked(m.status);
    const status = shownStatus(m.status, reachable, counted.has(m.name), remoteStatus.get(m.name));
    members[m.name] = {
      name: m.name,
      status,
      role: m.role,
      address: m.address,
      incarnation: m.incarnation,
      labels: m.labels,
      workers: m.workers,
      ready: m.name === node.name ? node.supervisor.isReady : m.ready === true,
      draining: draining.has(m.name),
      reachable,
      silent: status === 'down' && wentSilent(m, node.config.suspectAfterMs),
      ...(m.role === 'member' && m.netsplit !== undefined ? { netsplit: m.netsplit } : {}),
      ...(m.role === 'member' && m.saveFailing !== undefined ? { saveFailing: m.saveFailing } : {}),
      ...(m.role === 'member' && m.waitsFor !== undefined && m.ready !== true && status !== 'down' && status !== 'left' ? { waitsFor: m.waitsFor } : {}),
    };
    const unheardBy = unheard.get(m.name);
    if (unheardBy !== undefined) members[m.name]!.unheardBy = unheardBy;
    if (m.name !== node.name && quietLink(withLinkFacts(m, node.linkHeard(m.name)), node.clock.now())) members[m.name]!.quiet = true;
  }
  const children: ClusterState['children'] = keyed();
  const isolated = facts.noMemberSince !== undefined && facts.noMemberSince !== null;
  // With a member's view borrowed, what it does not see running is not running, but for the members it cannot see either.
  // Only the members shown unreachable: one that left or is judged down took its children with it.
  const lost = unseenMembers(Object.values(members), remoteStatus);
  const held = facts.heldInstances ?? new Map<string, ReadonlyArray<{ node: string; pid: string }>>();
  for (const c of remote?.children ?? node.supervisor.whichChildren('global'))
    children[c.id] = lastKnownChild(childView(c), last?.[c.id], lost, isolated, held.get(c.id));
  // Race "a stop during a split hides the copy that runs on": a child stopped for good whose instance on a member cut off
  // from the others runs on (available mode) vanished from the board, "no longer in the cluster", while it ran (an
  // outsider's tour, by the instance's own records). It stays, as last listed, with the instances that still run.
  // While a member is cut off, every instance of a child stopped for good that still runs: a stop written on the cut-off
  // member reaches the others only at the heal (race "a stop through a cut-off member hides the instance that runs on":
  // the tour's `pogo ctl stop` through n3, cut off, and the child gone from the board while it ran on n2 for 34 s), and
  // where it was written is not in the register (its floor is the revision stopped). An instance that is only stopping
  // (its shutdown time) is shown so for that time; with no member cut off, it is not.
  const cut = remote === undefined ? cutOffMembers(withReach, counted) : new Set<string>();
  if (cut.size > 0)
    for (const t of node.supervisor.terminatedInstances()) {
      if (children[t.id] !== undefined || t.instances.length === 0) continue;
      children[t.id] = stoppedForGood(t.id, last?.[t.id], t.instances, false);
    }
  // Race "a stop through the only member the observer reaches hides the instance it cannot see": linked to n3 alone, n3
  // cut off, a child stopped from the board vanished ("no longer in the cluster") while its instance ran on n1 until the
  // heal (the tour, available and majority mode). A child gone from the listing whose instances were last shown on
  // members unreachable from here stays, stopped for good, with those instances, unverified, until they are seen again.
  if (!isolated)
    for (const [id, instances] of held) {
      const unseen = instances.filter((i) => lost.has(i.node));
      if (children[id] !== undefined || unseen.length === 0) continue;
      const before = last?.[id];
      // The same object again while nothing changed (the view last shown, already this).
      const same = before?.terminated === true && before.unverified && before.instances.map((i) => i.pid).join(' ') === unseen.map((i) => i.pid).join(' ');
      children[id] = same
        ? before
        : stoppedForGood(
            id,
            before,
            unseen.map((i) => ({ node: i.node, pid: i.pid })),
            true,
          );
    }
  // Linked to no member, the observer's listing loses what its links carried: the children last shown stay, unverified.
  if (isolated && last !== undefined) for (const [id, v] of Object.entries(last)) children[id] ??= asUnverified(v);
  const groups: ClusterState['groups'] = keyed();
  // The supervisor's own scope is shown as children (and is the big one: a group per child).
  const snapshot = node.groups.snapshot(node.groups.scopes().filter((scope) => scope !== SUPERVISOR_SCOPE));
  for (const [scope, gs] of Object.entries(snapshot)) {
    const byGroup = keyed<Record<string, number>>();
    for (const [group, list] of Object.entries(gs)) {
      const perNode = keyed<number>();
      for (const m of list) perNode[m.node] = (perNode[m.node] ?? 0) + 1;
      byGroup[group] = perNode;
    }
    groups[scope] = byGroup;
  }
  return {
    observer: node.name,
    cluster: node.cluster,
    paused: node.supervisor.rebalancingPaused,
    readOnly: access !== 'operator',
    access,
    members,
    children,
    groups,
    events: [...facts.events],
    activity: [...(facts.activity ?? [])],
    samples: [...(facts.samples ?? [])],
    resources: keyed(facts.resources),
    sessions: facts.sessions ?? 0,
    noMemberSince: facts.noMemberSince ?? null,
  };
}

/** The current state per access level, rebuilt on the first read after a change. */
export class Snapshots {
  private dirty = true;
  private historyDirty = false;
  private resourcesDirty = false;
  private readonly built: Partial<Record<Access, ClusterState>> = {};
  /** The children of the state built last: what a child the observer cannot see now is shown as (lastKnownChild). */
  private lastChildren: Readonly<Record<string, ChildView>> | undefined;

  constructor(
    private readonly node: PogoNode,
    private readonly facts: () => GatewayFacts,
    private readonly remote: () => MemberViewReply | undefined,
  ) {}

  /** Something the state shows changed. */
  markDirty(): void {
    this.dirty = true;
  }

  /**
   * Only the gateway's history changed (an event, a burst that grew, a
   * second's sample): the next state reuses the cluster part of the last one
   * instead of listing every child again, which at 20,000 children is what
   * an idle gateway would otherwise do every second.
   */
  markHistoryDirty(): void {
    this.historyDirty = true;
  }

  /** Only the resource figures changed (a node reported, every few seconds): the next state takes the new ones and reuses the rest. */
  markResourcesDirty(): void {
    this.resourcesDirty = true;
  }

  /** A state already built for some session (children and members are the same for all), or one built now. */
  any(): ClusterState {
    if (!this.dirty) for (const state of Object.values(this.built)) if (state) return state;
    return this.get('none');
  }

  /**
   * The state built last for any session, even if something changed since
   * (then it is at most one gateway tick old): for readers that look up one
   * child often and need not force a rebuild of every child for it (live
   * output, output-follow.ts). Built now when there is none.
   */
  latest(): ClusterState {
    for (const state of Object.values(this.built)) if (state) return state;
    return this.get('none');
  }

  /**
   * The observer is losing its last member link: what its listing holds now
   * (children waiting for a node after a whole-cluster stop, say) is the
   * last known state of those children, taken before the next state is
   * built without a link; the ones the listing no longer holds (their
   * links went first) keep what was shown last. Not a borrowed view: it
   * is a member's from before, and that member is going too.
   */
  freeze(): void {
    const now = buildState(this.node, { ...this.facts(), noMemberSince: null }, 'none', undefined, this.lastChildren);
    this.lastChildren = { ...this.lastChildren, ...now.children };
  }

  /** The same object until the next change, so an unchanged state is seen as unchanged. */
  get(access: Access): ClusterState {
    if (this.dirty) {
      for (const key of Object.keys(this.built) as Access[]) delete this.built[key];
      this.dirty = false;
      this.historyDirty = false;
      this.resourcesDirty = false;
    } else if (this.historyDirty || this.resourcesDirty) {
      const f = this.facts();
      const history = this.historyDirty
        ? { events: [...f.events], activity: [...(f.activity ?? [])], samples: [...(f.samples ?? [])], sessions: f.sessions ?? 0 }
        : {};
      const resources = this.resourcesDirty ? { resources: { ...f.resources } } : {};
      this.historyDirty = false;
      this.resourcesDirty = false;
      for (const key of Object.keys(this.built) as Access[]) {
        const old = this.built[key];
        if (old) this.built[key] = { ...old, ...history, ...resources };
      }
    }
    let state = this.built[access];
    if (state === undefined) {
      state = buildState(this.node, this.facts(), access, this.remote(), this.lastChildren);
      this.built[access] = state;
      this.lastChildren = state.children;
    }
    return state;
  }
}
