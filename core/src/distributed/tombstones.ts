/**
 * Tombstones without resurrection: when the register of a terminated child
 * may go, and when a member that stays away may be forgotten. Pure
 * decisions; the reconciler applies them in its anti-entropy pass.
 *
 * A terminated child's register is a tombstone (registers.ts: a floor, no
 * spec). Dropping it anywhere is only safe once no replica that could still
 * merge the spec it covers exists — otherwise a node that was partitioned
 * or powered off, or an old data dir, brings the child back. So:
 *
 * 1. The roster (`m:<node>` flags in the store) lists every member the
 *    cluster must wait for: a member adds itself at start; a member without
 *    a data dir that leaves gracefully takes itself off (it can only come
 *    back empty); any member can be forgotten (below).
 * 2. Mark: a node marks a tombstone *collected* (raises its `collected` to
 *    its floor: a replicated write) once it is older than `tombstoneTtlMs`
 *    and every member on the roster is linked and has synced with this
 *    node's replica since the tombstone last changed here (store:
 *    `rs.synced`, sent only once the state is on the member's disk, if it
 *    keeps one). Then every member holds the tombstone: none can send the
 *    spec it covers any more.
 * 3. Drop: a node drops a collected tombstone once every member on the
 *    roster has synced since it held the collected version. Then every
 *    member holds *that*; a replica that lacks the key refuses a collected
 *    tombstone (`ignoreWhenAbsent`), so no two replicas pass it back and
 *    forth, and anti-entropy settles (a pull's answer resolves its buckets
 *    even where fingerprints still differ by it).
 *    Observers are not on the roster: they drop a collected tombstone at
 *    once, and they keep no replica while no member is linked (replication.ts).
 * 4. Forget: a member that has been away (not linked) for `forgetAfterMs`
 *    (default a day) is forgotten — written off the roster — by a node that
 *    is linked to a strict majority of the roster, so that of two sides of
 *    a long partition at most one forgets the other. A forgotten member that
 *    comes back with state from before (an old data dir, or a side of a
 *    partition) is told so by its first sync, discards its desired state
 *    and takes it again from the others; meanwhile the others neither merge
 *    nor pull anything from it but its own roster entry. What it changed
 *    while it was away is lost: that is the cost of collecting at all.
 *
 * Costs (docs/children.md says them too): a tombstone costs its register (a
 * hundred bytes or so) on every node until every member has held it for
 * the TTL; while a member is away and not yet forgotten, tombstones
 * accumulate (churn × time away); marking and dropping each cost one round
 * of anti-entropy (`antiEntropyIntervalMs`) and one replicated write.
 */
import { isCollected, isTombstone, verTime, type ChildRegister } from './registers.js';

export type TombstoneStep = 'keep' | 'mark' | 'drop';

/**
 * What to do with one child register now. `everyoneHolds`: every member on
 * the roster is linked and has synced with this node since the register
 * last changed here.
 */
export function tombstoneStep(r: ChildRegister, ctx: { now: number; ttlMs: number; everyoneHolds: boolean; observer: boolean }): TombstoneStep {
  if (!isTombstone(r)) return 'keep';
  if (isCollected(r)) return ctx.observer || ctx.everyoneHolds ? 'drop' : 'keep';
  if (ctx.observer) return 'keep';
  const age = ctx.now - (r.floorAt ?? verTime(r.floor!));
  if (age < ctx.ttlMs) return 'keep';
  return ctx.everyoneHolds ? 'mark' : 'keep';
}

/**
 * The roster members this node may forget now: away for at least
 * `forgetAfterMs` (as this node has seen it: `awaySince`), while this node
 * is linked to a strict majority of the roster (itself included).
 */
export function forgettable(ctx: {
  self: string;
  roster: ReadonlyMap<string, boolean>;
  linked: ReadonlySet<string>;
  awaySince: ReadonlyMap<string, number>;
  now: number;
  forgetAfterMs: number;
}): string[] {
  const members = [...ctx.roster].filter(([, member]) => member).map(([name]) => name);
  const present = members.filter((n) => n === ctx.self || ctx.linked.has(n)).length;
  if (present * 2 <= members.length) return [];
  return members.filter((n) => n !== ctx.self && !ctx.linked.has(n) && ctx.now - (ctx.awaySince.get(n) ?? ctx.now) >= ctx.forgetAfterMs);
}
