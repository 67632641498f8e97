/**
 * Which ids a change of placement's inputs can move, decided: the
 * reconciler (the only orchestrator) asks when the placement epoch moved
 * and sweeps what this says, every id or only some. Pure.
 *
 * What placement reads of the members is one text per placeable member
 * (`memberKeys`: up, ready, not draining; its labels, workers, commands and
 * capacity). Under rendezvous hashing (HRW) a child's owner is the eligible
 * member with the highest score for its id, so when the only change is that
 * members stopped or started being placeable, and every member in both is
 * exactly as before:
 * - an id can move away only from a member that was lost (it owned the id
 *   by hash, pin or the pause rule);
 * - an id can move to a gained member only where that member outscores the
 *   owner (placement.ts `gainMayMove`, about 1/N of the ids), and every id
 *   with no view yet must be looked at once;
 * - this node's start gate opening or closing (readiness confirmed,
 *   majority mode's sync) changes what `decide` does only for the ids it
 *   owns (as if it were lost and gained: `gate`) and those it holds an
 *   instance of.
 * Every other owner stands, and so do the views and signatures computed for
 * it. Anything else (a member's inputs changed, the lease, the pause flag,
 * the anti-entropy pass's full sweep) may move any id: a full sweep.
 *
 * Races handled here, by name:
 * - "a member died": HRW moves only the ids it owned; a sweep of every id
 *   on every survivor cost the failover its time.
 * - "a node restarted into a loaded cluster": once it is ready, HRW moves to
 *   it only the ids it outscores their owner on; a sweep of every id on
 *   every member cost 19 × 20,000 reconciles on two cores while its share
 *   waited.
 * - "paused, a member joins or goes": while rebalancing is paused a
 *   member's coming or going changes where children would resume
 *   (`resumeTo`), also for children held elsewhere (their owner is where they
 *   run): every id is looked at (after n4 died, ls and explain still said its
 *   children would resume to n4).
 */
import { gainMayMove, type Candidate } from './placement.js';
import type { ChildView } from './view.js';

/**
 * The placement inputs of each member a child can be placed on, as one text
 * by name. A candidate that is not up, not ready or draining is left out:
 * `exclusions` rules it out whatever the spec, so it places nothing whatever
 * its other fields, and of it `decide` reads only its capacity (ranking
 * duplicate runners; a setting, so it changes only with a new incarnation,
 * whose runners are new groups). So a member that appears, links and
 * announces itself before it is ready moves no owner and plans no sweep of
 * every id (race "a node restarted into a loaded cluster": each of those
 * steps used to cost every other member a reconcile of every child).
 */
export function memberKeys(candidates: readonly Candidate[]): Map<string, string> {
  return new Map(candidates.filter((c) => c.role === 'member' && c.up && c.ready && !c.draining).map((c) => [c.name, JSON.stringify(c)]));
}

/** What the last sweep was planned for: the placeable members' texts, and the flags that place everything differently. */
export interface SweptFor {
  members: ReadonlyMap<string, string>;
  /** Whether this node may run children (the netsplit policy). */
  mayRun: boolean;
  /** Whether this node's start gate is open. */
  mayStart: boolean;
  /** Whether rebalancing is paused. */
  paused: boolean;
}

/** A change that only some ids can be moved by: members no longer placeable, members newly so, and whether this node's start gate turned. */
export interface MemberChange {
  lost: ReadonlySet<string>;
  gained: ReadonlySet<string>;
  gate: boolean;
}

/**
 * The members that stopped being placeable and those that became placeable
 * when nothing else changed for the members in both (each exactly as
 * before), or undefined: then owners may change anywhere. Both empty when
 * nothing changed for placement.
 */
export function membersChanged(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): { lost: Set<string>; gained: Set<string> } | undefined {
  const gained = new Set<string>();
  for (const [name, text] of after) {
    const was = before.get(name);
    if (was === undefined) gained.add(name);
    else if (was !== text) return undefined;
  }
  const lost = new Set<string>();
  for (const name of before.keys()) if (!after.has(name)) lost.add(name);
  return { lost, gained };
}

/**
 * Whether the change from `previous` to `next` can move only some ids (a
 * `MemberChange`), or any (undefined: a full sweep). `full`: a full sweep
 * is asked for anyway (anti-entropy, the first sweep after readiness).
 */
export function changeOf(previous: SweptFor | undefined, next: SweptFor, full: boolean): MemberChange | undefined {
  if (full || previous === undefined || previous.mayRun !== next.mayRun || previous.paused !== next.paused) return undefined;
  const change = membersChanged(previous.members, next.members);
  if (change === undefined) return undefined;
  // Race "paused, a member joins or goes".
  if (next.paused && (change.gained.size > 0 || change.lost.size > 0)) return undefined;
  return { ...change, gate: previous.mayStart !== next.mayStart };
}

/** What `targetedIds` reads of the reconciler's state. */
export interface TargetInput {
  self: string;
  /** The candidates now (the gained members' entries are read from here). */
  candidates: readonly Candidate[];
  /** The last view of every id reconciled here (the reconciler's records, read in place: no copy per id). */
  known: ReadonlyMap<string, { readonly view: Pick<ChildView, 'owner' | 'live'> }>;
  /** Every id with a register here that has no view yet. */
  unviewed(): Iterable<string>;
  /** The ids this node holds an instance of. */
  instances: Iterable<string>;
  /** The owner the last view of `id` had, if any. */
  ownerOf(id: string): string | undefined;
}

/**
 * The ids a `MemberChange` can move (see the header), in this order: those
 * with a view (owned by a lost member, or one a gained member may take),
 * those with no view yet (when a member was gained), and this node's own
 * instances of ids it does not own (when its gate turned). An id may be
 * listed twice; a sweep reconciles it once.
 */
export function targetedIds(change: MemberChange, input: TargetInput): string[] {
  const { self } = input;
  const lost = change.gate ? new Set([...change.lost, self]) : change.lost;
  const gained = input.candidates.filter((c) => change.gained.has(c.name));
  const byName = new Map(input.candidates.map((c) => [c.name, c]));
  const ids: string[] = [];
  for (const [id, k] of input.known) {
    const { owner, live } = k.view;
    if (owner !== undefined && lost.has(owner)) ids.push(id);
    else if (
      gained.length > 0 &&
      live !== undefined &&
      gainMayMove({ id, spec: live.spec, pin: live.pin?.node, current: owner === undefined ? undefined : byName.get(owner) }, gained)
    )
      ids.push(id);
  }
  if (gained.length > 0) for (const id of input.unviewed()) ids.push(id);
  if (change.gate) for (const id of input.instances) if (input.ownerOf(id) !== self) ids.push(id);
  return ids;
}
