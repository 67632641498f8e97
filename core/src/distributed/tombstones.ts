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
 * 5. Restored from a backup: a member started on a copy of its data dir
 *    older than its last save (restored from a backup, a disk snapshot)
 *    looks like a member that was only away — but its file may predate a
 *    stop whose tombstone every member (this one's newer file included) has
 *    since held, marked and dropped, and then nothing would stop the child
 *    it still holds. So a member with a data dir *affirms* its roster entry
 *    (writes it again: still true, a new version) whenever a collected mark
 *    lands in its store, once it is ready: the rewrite goes into the same
 *    save as the mark, and reaches every peer before the `rs.synced` that
 *    lets the peer drop the tombstone (the same FIFO link; the sync waits
 *    for that save). A dropper therefore holds a newer roster entry for the
 *    member than any file of it that still holds the stopped spec. Only the member
 *    itself writes its entry true, and its greeting (sent first on every
 *    link) carries its entry as its store holds it: a member whose own
 *    entry arrives *older* than the one held (`rosterRegressed`) came back
 *    from an older file. The peer forgets it on the spot (refusing anything
 *    else it sends), and the member takes the forgotten path of 4: it
 *    discards its state and takes the state from the others. Races, by name:
 *    - "affirmed before its greeting reached a dropper": a restored member
 *      could merge marks from a first peer and affirm before it links to a
 *      peer that dropped the tombstone; it affirms only once ready (linked
 *      to and synced with every member it knows of), so every such peer had
 *      its greeting first.
 *    - "killed between the affirm and its save": saved at the next
 *      coalesced save (up to 200 ms later), the affirm could reach the
 *      peers first, and a member SIGKILLed meanwhile came back with a file
 *      older than the entry they held: taken for restored, it discarded its
 *      state — back first and alone after a whole-cluster kill (mode
 *      available), with every start and stop it had confirmed meanwhile
 *      (an outsider's tour). So the affirm is saved within its turn
 *      (`Persistence.saveInTurn`), before a delta or a pull's answer can
 *      carry it: no peer holds an entry newer than the member's disk (a
 *      save that fails leaves this race open while the disk fails).
 *    Not covered: every member restored from backups together (nothing
 *    newer is left anywhere), and a member started empty that syncs from
 *    the restored one before any other (it then holds the old entry too).
 *
 * Costs (docs/children.md says them too): a tombstone costs its register (a
 * hundred bytes or so) on every node until every member has held it for
 * the TTL; while a member is away and not yet forgotten, tombstones
 * accumulate (churn × time away); marking and dropping each cost one round
 * of anti-entropy (`antiEntropyIntervalMs`) and one replicated write.
 */
import { isCollected, isTombstone, verTime, type ChildRegister, type FlagRegister } from './registers.js';

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

/**
 * Whether a member's own roster entry, as it sent it (`incoming`), is older
 * than the one held here for it (`held`): only the member writes its entry
 * true, so it came back from a file older than its last save (5 above). A
 * member forgotten here (held false) takes the forgotten path instead.
 */
export function rosterRegressed(held: FlagRegister | undefined, incoming: FlagRegister): boolean {
  return held?.value === true && incoming.value === true && incoming.ver < held.ver;
}
