/**
 * Convergence: how long the cluster took, after a change that redistributes
 * children (a member node going down or coming up, a node drained or
 * undrained, rebalancing resumed), until every child ran exactly once
 * again, on its owner. The gateway adds it to the timeline as a `converged`
 * event.
 *
 * - Start: the first member `node-up` or `node-down`, `drain` event (a
 *   drain or an undrain) or resume (`rebalancing`, not paused: `node` is
 *   where the command was given), while no convergence is open. Observers (a UI,
 *   `pogo ctl`) coming and going move nothing, so they start none; a second
 *   change inside an open one belongs to it. A drain's moves are
 *   rate-limited: between two of them every child may run once, but those
 *   still on the drained node are not on their owner (`moving`, not
 *   `running`), so it stays open until the last has moved.
 * - End: the first check (the gateway checks before each round of patches)
 *   at which every child is `running` with exactly one instance, and each of
 *   those instances' starts was reported by an event (`convergedNow`), and
 *   no member is between states (`membersSettled`).
 * - Time: from the change to the last cluster event before the end, so it
 *   is measured between cluster events, not in gateway ticks.
 *
 * Race: the listing reads live state afresh, so it can show an instance
 * before the supervisor has emitted its `started` (and `moved`) event.
 * Ending then would put the converged event before the events that led to
 * it and stop its time short of them; hence the wait for every running
 * instance's start to be reported. The instances running when the gateway
 * started count as reported.
 *
 * Race "settled before it began": a member that comes up takes no child
 * until it is ready (linked to every member and synced), and a member that
 * leaves says first that it takes none any more (ready: false), then stops
 * its children one by one. Meanwhile every child may well run once where it
 * ran before: ending then measured 0 ms and left the moves that followed
 * outside the convergence. So a member up but not ready (joining or
 * leaving) keeps it open, and so does one whose metadata has not arrived
 * yet (race "linked before it said anything": membership makes the entry
 * of a member at link up with version 0 and no `ready`, and the member's
 * own gossip fills it in a moment later; counting it as ready closed the
 * convergence between the two). A member of a release that does not
 * announce readiness (`ready` undefined once its metadata is known) counts
 * as ready. One that never becomes
 * ready keeps it open for as long: the cluster has not settled, and the
 * timeline shows the redistribution still open.
 *
 * No member up is no convergence: when every member has gone (a
 * whole-cluster stop, SIGKILL of them all), every child "runs exactly once"
 * of an empty listing, or of none at all, and ending then said "converged:
 * 0 children running once" of a cluster that runs nothing. So the check
 * needs a member up (or suspect) in the table; the convergence stays open
 * until the cluster is back and settled, and is measured to then.
 *
 * Race "a healed duplicate never converges": the instance an observer sees
 * again after it published its stop with a member's loss is not published
 * as started (event-intake.ts: it never stopped), only the
 * `duplicate-resolved` that keeps it; its survivor counts as reported, or
 * the convergence after the heal waited for ever ("converging…" on a
 * cluster that ran every child once, an outsider's tour).
 *
 * Race: the reverse, a start reported before its child is listed (an
 * observer joining receives the members' live state before their desired
 * state). So what was reported is kept until its instance stops, whatever
 * the listing says; forgetting it at a convergence that closed on a shorter
 * listing left a later one waiting forever for a start already reported.
 */
import type { DistEvent } from '../distributed/events.js';
import type { GlobalStatus } from '../distributed/view.js';
import type { ConvergedEvent } from './state.js';
import { isLinked } from '../membership.js';

/** What the check needs of a child. */
export interface ChildInstances {
  id: string;
  status: GlobalStatus;
  instances: ReadonlyArray<{ pid: string }>;
}

/** True when every child runs exactly once and each running instance's start was reported (pids by child id). */
export function convergedNow(children: readonly ChildInstances[], reported: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  if (!children.every((c) => c.status === 'running' && c.instances.length === 1)) return false;
  return children.every((c) => reported.get(c.id)?.has(c.instances[0]!.pid) === true);
}

/** What the check needs of a member. */
export interface MemberReadiness {
  role: string;
  status: string;
  ready?: boolean;
  /** Its metadata's version: 0 while it is not known yet (membership.ts: the entry made at link up). */
  version?: number;
}

/** True when no member is between states: none is up (or suspect) and not ready, or not known to be ready yet; so none is joining or leaving. */
export function membersSettled(members: readonly MemberReadiness[]): boolean {
  return members.every((m) => m.role !== 'member' || (m.status !== 'up' && m.status !== 'suspect') || (m.ready !== false && m.version !== 0));
}

/** True when some member (not an observer) is up or suspect: there is a cluster to converge. */
export function anyMemberUp(members: readonly MemberReadiness[]): boolean {
  return members.some((m) => m.role === 'member' && isLinked(m.status));
}

export class ConvergenceTracker {
  private open: { since: number; cause: ConvergedEvent['cause']; node: string } | undefined;
  private lastChangeAt = 0;
  /** Instances whose start was reported (or that ran when the tracker started), per child id. */
  private readonly reported = new Map<string, Set<string>>();

  constructor(running: readonly ChildInstances[]) {
    this.seed(running);
  }

  /** Instances running that no event will report (the cluster's past, as the observer caught up with it): they count as reported. */
  seed(running: readonly ChildInstances[]): void {
    for (const c of running) {
      if (c.instances.length === 0) continue;
      const pids = this.reported.get(c.id) ?? new Set<string>();
      for (const i of c.instances) pids.add(i.pid);
      this.reported.set(c.id, pids);
    }
  }

  /** Takes in one supervisor event. */
  observe(e: DistEvent): void {
    this.lastChangeAt = e.at;
    if (e.type === 'started') {
      const pids = this.reported.get(e.id) ?? new Set<string>();
      pids.add(e.pid);
      this.reported.set(e.id, pids);
    } else if (e.type === 'duplicate-resolved') {
      // The survivor is an instance seen again after a loss (event-intake.ts): running, though no start of it is published.
      const pids = this.reported.get(e.id) ?? new Set<string>();
      pids.add(e.survivor.pid);
      this.reported.set(e.id, pids);
    } else if (e.type === 'stopped') {
      const pids = this.reported.get(e.id);
      if (pids?.delete(e.pid) && pids.size === 0) this.reported.delete(e.id);
    } else if ((e.type === 'node-up' || e.type === 'node-down') && e.role === 'member') {
      this.open ??= { since: e.at, cause: e.type, node: e.node };
    } else if (e.type === 'drain') {
      this.open ??= { since: e.at, cause: e.draining ? 'drain' : 'undrain', node: e.node };
    } else if (e.type === 'rebalancing' && !e.paused) {
      this.open ??= { since: e.at, cause: 'resume', node: e.by };
    }
  }

  /**
   * The converged event when an open convergence has just ended (then it is
   * closed), else undefined. `children` is called only while one is open:
   * listing every child is the costly part, and most checks have none open.
   * `members`: the member table (none given: none is between states, and
   * the cluster is taken to be there); with none up, it stays open.
   */
  check(children: () => readonly ChildInstances[], now: number, members?: () => readonly MemberReadiness[]): ConvergedEvent | undefined {
    if (!this.open) return undefined;
    const table = members?.();
    if (table !== undefined && (!membersSettled(table) || !anyMemberUp(table))) return undefined;
    const list = children();
    if (!convergedNow(list, this.reported)) return undefined;
    // `reported` is not pruned to the listing: a start can be reported before
    // its child is listed (the live state arrives before the spec), and a
    // child's entry goes when its last instance stops.
    const { since, cause, node } = this.open;
    this.open = undefined;
    return { type: 'converged', at: now, after: Math.max(0, this.lastChangeAt - since), cause, node, children: list.length };
  }
}
