/**
 * Where a call or cast goes next: a pure function of what this node sees of
 * the child (distributed/calls.ts executes the answer; call-route.test.ts
 * covers every rule).
 *
 * - no live spec on a node that has not synced with the cluster yet (with
 *   no other member since it started or discarded its state: just started,
 *   back from a data dir, or its seeds do not answer): `wait`.
 *   Its store may lack the spec, or hold a tombstone the cluster has since
 *   moved past; what it learns next routes the call again. Race "a call
 *   right after start" (calls.ts);
 * - no live spec: `not-running` when the cluster holds its tombstone (it
 *   was terminated, or ended for good), else `not-found` (never known here);
 * - instances visible (`run:<id>` on this node or a linked one) that have
 *   not answered `moved` to this call: send to one of them — the owner's,
 *   else the first (a start-first overlap or a duplicate about to be
 *   resolved: either instance is a running one);
 * - otherwise `wait`: the child is between instances (a stop-first move, a
 *   restart, a failover, a handover) or every visible instance answered
 *   `moved`; the caller waits for the view to change (a new `run:` entry)
 *   until its deadline;
 * - a call past its deadline is not sent (`wait`, for its expiry): race "a
 *   caller woken from a freeze" (call-table.ts) lets a late deadline expire
 *   a turn later, and what arrives in that turn (a `run:` join, `moved`)
 *   must not deliver a message whose caller is about to be told `timeout`.
 */

export interface RouteInput {
  /** The cluster holds a live spec of the child. */
  readonly live: boolean;
  /** The cluster holds a tombstone of it (it was terminated). */
  readonly terminated: boolean;
  /** Its instances, as `run:<id>` shows them on visible nodes. */
  readonly runners: ReadonlyArray<{ readonly node: string; readonly pid: string }>;
  readonly owner: string | undefined;
  /** This node has not synced with the cluster yet (reconciler.ts `knowsTheCluster`): a spec it lacks may exist. */
  readonly syncing: boolean;
  /** Instances that answered this call `moved` (or could not be reached): not tried again. */
  readonly skip: ReadonlySet<string>;
  /** The call's deadline has passed (its expiry comes a turn later): it is sent nowhere. */
  readonly pastDeadline?: boolean;
}

export type Route =
  | { readonly to: 'send'; readonly node: string; readonly pid: string }
  | { readonly to: 'wait' }
  | { readonly to: 'fail'; readonly code: 'not-found' | 'not-running' };

const WAIT: Route = { to: 'wait' };

export function routeCall(input: RouteInput): Route {
  if (!input.live) return input.syncing ? WAIT : { to: 'fail', code: input.terminated ? 'not-running' : 'not-found' };
  if (input.pastDeadline === true) return WAIT;
  let pick: { node: string; pid: string } | undefined;
  for (const r of input.runners) {
    if (input.skip.has(r.pid)) continue;
    if (r.node === input.owner) return { to: 'send', node: r.node, pid: r.pid };
    pick ??= r;
  }
  return pick ? { to: 'send', node: pick.node, pid: pick.pid } : WAIT;
}
