/**
 * Event intake: turns what the observer's own supervisor reports into what
 * really happened in the cluster.
 *
 * The observer is a node like any other: it derives its events from its own
 * links and its own copy of the live state (pg). When its link to a member
 * drops, its pg loses that member's instances at once, so its supervisor
 * reports the member down and every child there stopped; when the link comes
 * back, it reports them started again. If the member never stopped (only the
 * link between it and the observer broke: an observer with other timing
 * settings, a loaded laptop, a firewall), none of that happened, and a UI
 * that shows it invents outages.
 *
 * So a member the observer loses is first *unreachable from here*, a state
 * of its own, and the observer asks the other members before it says
 * "down" (`memberVerdict`, pure): each member tells its linked peers, the
 * observer included, whom it cannot hear (membership.ts `reach`). The member
 * is down when more than half of the other members report it unheard (the
 * members the cluster still counts: not left, not judged down here; only
 * reports of members the observer is linked to count), when it left, or
 * when it comes back as another incarnation (it restarted). With no other
 * member to ask it stays unreachable: the observer cannot know. Race "an
 * observer that reaches only the minority": the half is of the members the
 * cluster has, not of those the observer reaches. An observer linked to n3
 * alone, n3 cut off from n1 and n2, took n3's word ("1 of 1") and showed
 * n1 and n2 down for the whole split, a toast said so, and every child of
 * theirs "pending", while they ran there all along (an outsider's tour, in
 * network namespaces). n3 is one of three: they stay unreachable.
 *
 * While a member is unreachable, the events its loss causes here are held,
 * not published: its `node-down`, the `stopped` of its instances, and every
 * `placed` (owners this node recomputed without it; only the latest per
 * child, so a member unreachable for days holds at most one per child).
 * Then:
 *
 * - Verdict down: the held events are published in their order, the
 *   node-down first, stamped with the time of the members' verdict (when
 *   their reports made it down here, or the cluster restarted one of its
 *   children elsewhere), not with the time the observer lost its own link:
 *   an observer with a shorter heartbeat timeout than the members (mixed
 *   timing) lost a frozen member seconds before the cluster did, and the
 *   timeline said "down (heartbeat timeout after 1000 ms)", the observer's
 *   own setting, and measured the convergence from then ("converged in
 *   2.17 s" of a restart 130 ms after the members' verdict). When the two
 *   are more than VERDICT_LAG_MS apart, the node-down says both: the
 *   members' verdict, and that this observer had lost its link earlier,
 *   with its reason. A member gone from the table, or back as another
 *   incarnation, was down at some unknown time: the observer's stamp stays.
 * - Race "a held child starts elsewhere before the verdict": a `started` or
 *   `moved` of a child whose stop is held is real news (another node took it
 *   over, so for the cluster it did stop there): that member's held events
 *   are published first, so a stop never follows its own restart. The same
 *   when its stop is not held yet but its published instance is on the lost
 *   member: the supervisor reports one change of a child as its start
 *   elsewhere first and the stop of the old instance after, so without this
 *   the moves of a SIGKILLed member's children came before its node-down on
 *   the timeline, outside the redistribution the node-down heads.
 * - Back (linked again, same incarnation): the held events are dropped and
 *   the node-up is swallowed. The relink then reports the member's
 *   instances started again: `started` is published only for a pid not
 *   already published as running, so those are swallowed too. Once the
 *   member's live state has arrived again (`settle`), an instance held as
 *   stopped that is not there really stopped meanwhile, and its stop is
 *   published then. So do the placements held meanwhile wait, and every
 *   placement made until then (the observer's supervisor places the
 *   member's children elsewhere until its groups arrive, then back): a
 *   child that runs where it was placed already is no news, another
 *   change is published then (`learnedPlacement`, races "a relink told as
 *   a placement" and "a relink's transient owners").
 * - `placed` is published only when the owner (or how it was chosen)
 *   differs from the last one published for that child, so owners that
 *   flicker with the observer's view are not news.
 *
 * A graceful leave is the member going down, from its first word: a member
 * that leaves (SIGTERM, `node.stop()`) first says it takes no children any
 * more (its `ready` turns false while it is up), the others become their
 * owners and start each child as soon as its instance there has stopped,
 * and only then does the member close its links with `leave`. Publishing
 * the node-down at the `leave` put every move it caused before it (race
 * "the moves of a leave come before its node-down": seen with children
 * that take a moment to stop). So the node-down is published when the
 * observer sees a member it knew ready turn not ready while up (the same
 * incarnation; `observeMembers`), with reason LEAVING_REASON, and the
 * node-down of that incarnation's `leave` later is not published again
 * (the stops it causes are).
 *
 * A move is a child's one instance ending up on another node, not a second
 * instance appearing. The supervisor used to report `moved` as soon as an
 * instance showed up on another node than the last one, so a duplicate (a
 * node that ran alone while frozen or cut off, its instances seen again
 * after the heal) was a "move" for every child it duplicated, including the
 * ones whose new instance was then stopped. Its stream no longer says so
 * (distributed/events.ts `diffChild`: a move is reported once the child runs
 * alone again, on another node than before the duplicate), and the stream
 * taken here is always that: it is the observer's own supervisor, of this
 * build, deriving its events from its own groups and store (no member
 * sends its events, so a member of an older release changes nothing).
 * What stays is the order: this intake's own record of the instances
 * published as running can hold one that the supervisor has seen go — a
 * plain move reported in one diff (started, moved, then the old stop), a
 * stop held for an unreachable member, or one dropped when it came back and
 * published at `settle`. So a `moved` that finds its child with more than
 * one instance published as running is held (the latest per child) until
 * the child is down to one: published then, after that stop and stamped
 * with it, if the survivor is on the node it names; dropped otherwise
 * (which the supervisor's stream leads to only when the new instance stops
 * too before the old one's stop is published). A start-first handoff is a
 * move when the old instance stops, in the supervisor's stream as here.
 *
 * What the observer learns as it links is the cluster's past, not events
 * (race "an observer joining invents events": its supervisor diffs every
 * child's view as the members' desired and live state arrive, so it
 * reported "19 placed on 3 nodes" and "10 started on 3 nodes" at the
 * moment the observer joined, for children started long before, and every
 * child's history listed them). So the intake *catches up* first: from its
 * start, and again from the moment the observer is linked to no member
 * (what it learns when it links again is as old), until the gateway says
 * it has caught up (`endCatchUp`: its supervisor ready, and every member
 * it is linked to has sent its live state). Meanwhile the per-child events
 * are taken in silently — the instances as running, the owners as placed,
 * so that what follows is told against them — and none is published;
 * membership events are judged as always. (Distributed/events.ts says
 * "before readiness, what arrives is the cluster's past" of the flags
 * alone; for children the observer's supervisor reports it all, which is
 * why this is done here.)
 *
 * Race "a healed duplicate told as a move": a member the observer lost
 * and another member declared down (its children restarted elsewhere, so
 * its loss was published, the stops of its instances with it) may have
 * been frozen or cut off, not dead: its instances ran on. When it is back,
 * the observer's supervisor sees them again (`started`, the same pids) and,
 * once the copies are stopped, reports the child "moved" back to it, since
 * as far as it saw, the child had run alone on the copy's node. Neither
 * happened: those instances never stopped, and the copies were duplicates
 * stopped. So a `started` of a pid whose stop was published with a loss is
 * the instance seen again: taken in, not published; and the move it leads
 * to, once the other instance stops, is published as what it was, a
 * `duplicate-resolved` (the instance seen again kept, the copy stopped).
 * Race "a loss judged at once": when the members had declared a member down
 * before this observer lost it, its loss is published as the observer
 * loses it, before the stops of its instances arrive; those stops count as
 * published with the loss (the minority-side tour: "30 started on n1" at
 * the heal of instances that had run on n1 all along).
 * Race "the copy's stop first": at the heal the member that ran the copy
 * may stop it, and the observer hear of it, before the live state of the
 * member coming back arrives; a copy's stop while an instance of the child
 * may still be seen again counts as the duplicate stopped all the same (an
 * outsider's tour, available mode, the observer on the minority side: "30
 * moved from n3 to n1 (node joined)" of instances that had run on n1 all
 * along). The convergence takes a duplicate resolved's survivor as a
 * reported start (convergence.ts): its start is never published.
 *
 * Race "a drain heard late told as a node down": a member the observer
 * alone lost (the others hear it) and drained through a member the observer
 * does not reach: the drain flag comes to the observer seconds later (the
 * store sends a change to linked peers only; digests bring it over), and its
 * supervisor, which had the member down in its own table, reported the moves
 * off it as "failure" ("4 moved from n1 (node down)", an outsider's tour,
 * majority mode, by each child's own records: a drain, n1 up throughout).
 * The moves wait anyway (the stops on the lost member are held): a move
 * off a member that was draining by the time of the move says `drain`
 * when it is published (`drainReason`, pure; the precedence of
 * distributed/events.ts `causeOf`, where a drain comes before all but a
 * pin). Nor is a start elsewhere of a child of a member known to be
 * draining the members' verdict on it (`takenOver`): a drain moves its
 * children while it runs.
 *
 * Race "a stop during a split told as a move": in available mode a member
 * cut off from the others runs a copy of each child; an operator's stop
 * through the others ends their instance, and the supervisor, seeing the
 * child go from two instances to the copy, reported "moved n2 → n3 (node
 * joined)" right after "stopped for good" (an outsider's tour). A child
 * whose spec is gone moves nowhere: its `moved` is dropped.
 *
 * A stop command is no "placed nowhere": a child whose spec was removed
 * (terminated) is re-placed by the observer's supervisor with no owner, a
 * `placed` the UI read as "w8 has no node to run on", before its `stopped`.
 * So a `placed` with no node is held until the next `settleNowhere` (the
 * gateway's next tick: the supervisor reports the placement from inside
 * the change, before its own view of the child is updated, so asking at
 * once still found the spec), and dropped if its spec is gone then
 * (`isLive`) or its stop came first and said so; and its `stopped` carries `terminated` (state.ts
 * StopNote), with who asked when the stop went through this gateway
 * (`stopAsked`).
 *
 * Race "the stop heard before the spec's removal": the removal travels from
 * the member the stop command went to, the owner's leave of `run:<id>` from
 * the owner, on two links; on a loaded host the leave can arrive first, and
 * its `stopped` (the spec still live here) would read as an ordinary stop,
 * "ticker-1 stopped on n3", not the operator's. So the `stopped` of a
 * child's last instance, while a stop of it asked through this gateway is
 * pending and its spec is still live here, is held (`stopsHeld`) until the
 * next `settleStops` finds the spec gone, for at most `STOP_HOLD_MS` (then
 * published as it is: the stop did not remove the spec); any later event of
 * that child publishes it first, so each child's events keep their order.
 *
 * Race "the lease's stops before the cut-off" (majority mode): a member cut
 * off from the others stops its children when its lease lapses, about a
 * link timeout before they declare it down, and the observer, which still
 * hears it, published "5 stopped on n3", then "5 placed on n1, n2" (its own
 * supervisor acts on the reach reports as they arrive), then "n3 down (cut
 * off)" at the gateway's next tick. So the stops of a member whose lease
 * may have lapsed (`leaseLapsing`: its start gate closed, announced before
 * the stops) wait for the verdict on it (at most LEASE_HOLD_MS), and every
 * per-child event judges who is cut off before it is taken in.
 *
 * Observers and `pogo ctl` sessions coming and going are not cluster events:
 * their node-up/node-down are counted (`sessions`) and not published. Nor
 * is the observer meeting the members that were up before it started: a
 * first node-up of an incarnation that started before the observer is its
 * discovery, not a join (incarnations started within the clock skew of two
 * hosts of the observer's own start may be taken either way).
 */
import type { DistEvent } from '../distributed/events.js';
import type { StoppedEvent } from './state.js';
import { isLinked } from '../membership.js';
import { cutOffWhy } from '../distributed/candidates.js';

/** How long a `stopped` may wait for its spec's removal (the header: "the stop heard before the spec's removal"). */
export const STOP_HOLD_MS = 2_000;

/** What the observer knows of a member it may have lost. */
export interface MemberFacts {
  name: string;
  incarnation: string;
  role: string;
  /** 'up' or 'suspect' while the observer is linked to it. */
  status: string;
  /** Other members, linked to the observer, that report they cannot hear this incarnation. */
  unheardBy?: ReadonlyArray<{ reporter: string }>;
  /** When this incarnation started (its own clock). */
  startedAt?: number;
  /** Whether it takes children (undefined from a release that does not say). */
  ready?: boolean;
  /** Whether its start gate is open (member metadata since protocol 2.4; undefined from a release that does not say). */
  startable?: boolean;
  /** Its netsplit mode as it announces it (since protocol 2.5). */
  netsplit?: { mode: string };
  /** When this observer last heard it, and how often its link pings (`quietLink`). */
  lastHeardAt?: number;
  pingIntervalMs?: number;
}

/** Below this lag between the observer losing a member and the members' verdict, the node-down is published as the observer saw it. */
export const VERDICT_LAG_MS = 100;

/**
 * The node-down of a member the members judged down at `verdictAt` (pure):
 * stamped then, saying whose verdict it is, and that the observer had lost
 * its own link earlier with its reason; as it was when the two are within
 * VERDICT_LAG_MS of each other.
 */
export function verdictDown(lost: Extract<DistEvent, { type: 'node-down' }>, verdictAt: number, by: string): Extract<DistEvent, { type: 'node-down' }> {
  if (verdictAt - lost.at < VERDICT_LAG_MS) return lost;
  return { ...lost, at: verdictAt, reason: `${by}; this observer had lost its own link ${verdictAt - lost.at} ms before: ${lost.reason}` };
}

/**
 * The reason a move is published with (pure): `drain` when the node it left
 * was draining by the time of the move (`drainingSince`: when its drain was
 * set), as distributed/events.ts `causeOf` would have said had the drain
 * been known; a pin or unpin stays what it is (it comes first there too).
 */
export function drainReason(move: Extract<DistEvent, { type: 'moved' }>, drainingSince: number | undefined): Extract<DistEvent, { type: 'moved' }> {
  if (drainingSince === undefined || drainingSince > move.at) return move;
  if (move.reason === 'drain' || move.reason === 'pin' || move.reason === 'unpin') return move;
  return { ...move, reason: 'drain' };
}

/** The reason of the node-down published when a member announces its leave. */
export const LEAVING_REASON = 'leaving: it stops its children, the others take them over';

/**
 * Whether a member announced its leave between two readings of its entry
 * (pure): the same incarnation, still up (or suspect), ready before and not
 * ready now. A member not ready yet (joining) never was ready, so it is not
 * leaving.
 */
export function announcedLeave(before: MemberFacts | undefined, now: MemberFacts): boolean {
  return (
    before !== undefined &&
    now.role === 'member' &&
    before.incarnation === now.incarnation &&
    before.ready === true &&
    now.ready === false &&
    isLinked(now.status)
  );
}

export type Verdict = 'reachable' | 'unreachable' | 'down';

/**
 * The verdict on member `m`, given the other members the observer is
 * linked to (`reporters`: role member, status up or suspect) and the
 * members the cluster counts (`counted`: role member, not left, not judged
 * down; the reporters when not given). Down takes reports from more than
 * half of the counted members other than `m` (race "an observer that
 * reaches only the minority", in the header).
 */
export function memberVerdict(m: MemberFacts, reporters: readonly string[], counted: readonly string[] = reporters): Verdict {
  if (isLinked(m.status)) return 'reachable';
  if (m.status === 'left') return 'down';
  const others = reporters.filter((r) => r !== m.name);
  if (others.length === 0) return 'unreachable';
  const unheard = new Set((m.unheardBy ?? []).map((u) => u.reporter));
  const against = others.filter((r) => unheard.has(r)).length;
  const voters = new Set([...others, ...counted.filter((c) => c !== m.name)]).size;
  return against * 2 > voters ? 'down' : 'unreachable';
}

/**
 * What `memberVerdict` counts, from a member table (pure): the `reporters`
 * (members the observer is linked to) and the members the cluster counts
 * (`counted`: not left, not in `judgedDown`, the members whose loss was
 * already published).
 */
export function verdictVoters(
  members: ReadonlyArray<{ name: string; role: string; status: string }>,
  judgedDown: ReadonlySet<string>,
): { reporters: string[]; counted: string[] } {
  const reporters: string[] = [];
  const counted: string[] = [];
  for (const m of members) {
    if (m.role !== 'member') continue;
    if (isLinked(m.status)) reporters.push(m.name);
    if (m.status !== 'left' && !judgedDown.has(m.name)) counted.push(m.name);
  }
  return { reporters, counted };
}

/**
 * Whether a member published cut off may still be (pure): more than half
 * of the members the cluster counts, other than it, report they cannot hear
 * it or cannot be asked (`away`: unreachable from here, not judged down).
 * A word the observer cannot have is no word that the member is heard
 * again (race "a cut-off member back because a reporter went quiet" in
 * `observeCutOff`).
 */
export function mayStillBeCutOff(m: MemberFacts, members: readonly MemberFacts[], away: ReadonlySet<string>): boolean {
  const reporters = new Set(members.filter((x) => x.role === 'member' && isLinked(x.status) && x.name !== m.name).map((x) => x.name));
  const unknown = [...away].filter((n) => n !== m.name && !reporters.has(n));
  const voters = reporters.size + unknown.length;
  const against = new Set((m.unheardBy ?? []).map((u) => u.reporter).filter((r) => reporters.has(r))).size + unknown.length;
  return against * 2 > voters;
}

/**
 * Whether a member that is down went silent first (pure): the observer had
 * not heard it for at least `suspectAfterMs` (its own suspect time; a
 * link's is never shorter) when its link was dropped. A process that dies
 * closes its connections, and is down within a ping interval of its last
 * frame; one frozen (SIGSTOP, a long pause) or cut off by the network goes
 * quiet and is dropped at the heartbeat timeout, and may still run. The
 * link's close reason cannot tell them apart (the side that times the
 * link out closes it, and the peer's socket reports a disconnect).
 */
export function wentSilent(m: { status: string; since?: number; lastHeardAt?: number }, suspectAfterMs: number): boolean {
  return m.status === 'down' && m.since !== undefined && m.lastHeardAt !== undefined && m.since - m.lastHeardAt >= suspectAfterMs;
}

/**
 * What a cut-off member's node-down says of this observer's own link to it
 * (pure): that it still hears it, or, when its link has gone quiet
 * (`quietLink`), for how long it has not heard it either — a frozen member is
 * cut off from the members first only because their timeout is shorter
 * than this observer's (mixed timing), and "this observer still does" of
 * a process that hears no one read as a network fault.
 */
export function stillHeard(m: Pick<MemberFacts, 'status' | 'lastHeardAt' | 'pingIntervalMs'> | undefined, at: number): string {
  if (m === undefined || !quietLink(m, at)) return 'this observer still does';
  const ms = m.lastHeardAt === undefined ? undefined : Math.max(0, at - m.lastHeardAt);
  return `this observer has not heard it ${ms === undefined ? 'lately' : `for ${ms} ms`} either, its own link not timed out yet`;
}

/**
 * A member's entry with what this observer's open link to it knows (pure):
 * when it last heard it and how often the link pings (`quietLink`), when
 * the link is to this incarnation.
 */
export function withLinkFacts<M extends { incarnation: string }>(
  m: M,
  link: { incarnation: string; lastHeardAt: number; pingIntervalMs: number } | undefined,
): M & { lastHeardAt?: number; pingIntervalMs?: number } {
  if (link === undefined || link.incarnation !== m.incarnation) return m;
  return { ...m, lastHeardAt: link.lastHeardAt, pingIntervalMs: link.pingIntervalMs };
}

/** Pings a live peer misses in a row before its link counts as quiet (`quietLink`): one or two is jitter, three is not. */
export const QUIET_PINGS = 3;

/**
 * Whether this observer's link to a member has gone quiet (pure): linked,
 * and suspect, or unheard for QUIET_PINGS of its ping intervals. A member
 * the others judged down (their timeout shorter than this observer's) is
 * quiet here too when it is frozen, not cut off.
 */
export function quietLink(m: Pick<MemberFacts, 'status' | 'lastHeardAt' | 'pingIntervalMs'>, at: number): boolean {
  if (!isLinked(m.status)) return false;
  if (m.status === 'suspect') return true;
  return m.lastHeardAt !== undefined && m.pingIntervalMs !== undefined && at - m.lastHeardAt >= QUIET_PINGS * m.pingIntervalMs;
}

/** A placement as the intake compares it: "node|by". */
export function placedKey(e: { node: string | undefined; by: string }): string {
  return `${e.node ?? ''}|${e.by}`;
}

/**
 * What becomes of the latest placement of a child made while a member was
 * unreachable from here, once that member is back and its live state has
 * arrived (pure): `none` when it is the one published last; `take-in` (the
 * baseline, not news) when the child's instance published as running is on
 * that node already — it was placed and started there while this observer
 * could not see the placement (its start was told); `publish` otherwise (a
 * real change meanwhile: a drain, a pin, a child not running there yet).
 * Race "a relink told as a placement": the placements made while a member
 * was unreachable were dropped when it came back, so a child started
 * meanwhile never had one recorded, and the observer's own supervisor,
 * placing it again once the member's groups arrived, had "2 placed on n1"
 * published at the relink for children that had run on n1 since they
 * started (an outsider's tour: "placed r3 on n2" at a relink, of a child
 * there for 21 s; the simulation, timeline-truth.test.ts).
 */
export function learnedPlacement(
  e: { node: string | undefined; by: string },
  published: string | undefined,
  running: ReadonlyMap<string, string | undefined> | undefined,
  returned?: string,
): 'none' | 'take-in' | 'publish' {
  if (published === placedKey(e)) return 'none';
  const runsOn = running === undefined ? [] : [...running.values()];
  // Race "the observer's own placement without the member it lost": it placed the returned member's
  // children elsewhere because it alone could not see that member (the members could: it was never
  // judged down), and the child still runs there — nothing moved. Published, it read "5 placed on g1,
  // g2" at the relink, when the observer's own supervisor had not placed them back yet (gateway.test,
  // "a link only the observer lost is no event", under load).
  if (returned !== undefined && e.node !== returned && runsOn.includes(returned)) return 'none';
  if (e.node !== undefined && runsOn.includes(e.node)) return 'take-in';
  return 'publish';
}

/**
 * Whether a placement by hash on `node` trails the start it placed (pure):
 * an instance of the child runs, as published, on `node` (the only one, or
 * a copy beside one on a member cut off, in available mode), and its start
 * was published after the child's last placement (`startedAt`, `placedAt`:
 * the order they were published in; an instance seeded or taken in counts
 * as older). Such a placement is the baseline, not news: the cluster
 * placed and started the child there while this observer could not see the
 * placement (a member it alone had lost, a cut-off it judged later than
 * the members), and its own supervisor caught up. Race "a placement that
 * trails its start": an observer that had lost n1 when n3 was cut off had
 * "moved n3 → n2" at the takeover, then "placed on n2" at its relink to n1,
 * of children that had run on n2 for 4 s (the tour: "placed r3 on n2" at a
 * relink, of a child there for 21 s). A placement there before its start,
 * or back to where it runs after a placement elsewhere (a move called off),
 * or a pin, is news.
 */
export function trailsItsStart(
  running: ReadonlyMap<string, string | undefined> | undefined,
  startedAt: (pid: string) => number | undefined,
  placedAt: number | undefined,
  node: string | undefined,
): boolean {
  if (node === undefined || running === undefined) return false;
  for (const [pid, at] of running) if (at === node && (startedAt(pid) ?? -1) > (placedAt ?? -1)) return true;
  return false;
}

/**
 * Whether the stop of a younger instance of a child on `stoppedOn`, which
 * leaves `left` instances published as running, the older one on
 * `survivorOn`, is a duplicate resolved now (pure): one instance left, the
 * older one on another node unseen from here (`unseen`: unreachable, or
 * back and its live state not in yet; the observer's own supervisor cannot
 * see that instance, and would tell
 * the resolution only once it links that member again, as a "move" back
 * to it; a survivor it sees is left to the supervisor's stream, as it
 * is), not judged down (its instance's stop was published with its loss).
 * The node of the copy may still be held cut off: the copies' stops at a
 * heal come before the reports that it is heard again (a copy that
 * crashes during the split, its original on a member unseen from here,
 * would be told resolved too: the one case this gets wrong). Race "a duplicate resolved
 * long after its stop": available mode, the observer had lost n1 when n3
 * was cut off; at the heal n3 stopped its copies as it heard n1's
 * instances again, and the timeline said "k11 stopped on n3" then, and
 * "duplicate resolved (n1's kept, n3's stopped)" only once the observer's
 * own supervisor saw n1's instance again and reported the child "moved"
 * back to it (the tour: 12 s after; the simulation: 353 ms).
 */
export function resolvedAtStop(
  stoppedOn: string,
  left: number,
  survivorOn: string | undefined,
  judgedDown: ReadonlySet<string>,
  unseen: ReadonlySet<string>,
): boolean {
  if (left !== 1 || survivorOn === undefined || survivorOn === stoppedOn) return false;
  return unseen.has(survivorOn) && !judgedDown.has(survivorOn);
}

/** How long the stops of a member whose lease may have lapsed wait for the others' verdict on it (`leaseLapsing`). */
export const LEASE_HOLD_MS = 5_000;

/**
 * Whether the stops of member `m` may be the end of its majority lease
 * (pure): linked here, in majority mode, ready, and its start gate closed
 * (`startable: false`, announced with the lease's lapse, before the stops).
 * Race "the lease's stops before the cut-off": n3 cut off from n1 and n2
 * stops its children when its lease lapses, about a link timeout before the
 * others declare it down, and the observer, which still hears it, published
 * "5 stopped on n3" before "n3 down (cut off)" (an outsider's tour, majority
 * mode, network namespaces). Such stops wait (at most LEASE_HOLD_MS) for the
 * verdict, so that the node-down heads them.
 */
export function leaseLapsing(m: MemberFacts | undefined): boolean {
  return m !== undefined && m.role === 'member' && isLinked(m.status) && m.netsplit?.mode === 'majority' && m.ready === true && m.startable === false;
}

interface Lost {
  incarnation: string;
  /** The node-down and the stops it caused here, in order. */
  held: DistEvent[];
  /** Ids whose `stopped` is held. */
  stoppedIds: Set<string>;
  /** The latest `placed` per child while it was lost. */
  placed: Map<string, Extract<DistEvent, { type: 'placed' }>>;
}

export interface EventIntakeOptions {
  publish(e: DistEvent | StoppedEvent): void;
  /** Whether the child still has a live spec (false once it is terminated); all are taken to be when not given. */
  isLive?(id: string): boolean;
  /** Who asked this gateway to stop the child lately, if anyone did. */
  stopAsked?(id: string): string | undefined;
  /** The observer's current entry of a member (undefined once gone from its table). */
  member(name: string): MemberFacts | undefined;
  /** A member became unreachable from here, or is no longer: the UI shows it. */
  changed(): void;
  /** When the observer started (its clock): members started before it were already up, not joining. */
  startedAt?: number;
  /** Whether member `name`, down, went silent before its link here was dropped (`wentSilent`); none did when not given. */
  wentSilent?(name: string): boolean;
  /** Start catching up (the observer has not synced with the cluster yet): see the header. */
  catchingUp?: boolean;
}

export class EventIntake {
  private readonly lost = new Map<string, Lost>();
  /** Member incarnations this observer has seen up. */
  private readonly met = new Set<string>();
  /** Members judged down (their loss published), until they are up again. */
  private readonly down = new Set<string>();
  /** Members published down because the others cannot hear them, though this observer still did (`observeCutOff`). */
  private readonly cutOff = new Set<string>();
  /** Stops dropped when a member came back, to check once its live state has arrived again: node → stopped events. */
  private readonly returning = new Map<string, Array<Extract<DistEvent, { type: 'stopped' }>>>();
  /** id → pids published as running (started, not yet stopped), each with its node when known. */
  private readonly running = new Map<string, Map<string, string | undefined>>();
  /** id → a `moved` held while its child runs more than once as published here (published when it is down to one). */
  private readonly pendingMoves = new Map<string, Extract<DistEvent, { type: 'moved' }>>();
  /** id → pid → node: instances whose stop was published with a member's loss (they may be seen again: see the header). */
  private readonly vanished = new Map<string, Map<string, string>>();
  /** id → pid: an instance seen again after its stop was published with a loss, while a duplicate of it may still run. */
  private readonly reappeared = new Map<string, string>();
  /** id → the last instance of it stopped while an instance of it was seen again, or might be (the duplicate stopped). */
  private readonly healStops = new Map<string, { node: string; pid: string }>();
  /**
   * id → a younger instance stopped while an older one, published running before it, runs on (`older`): a duplicate
   * resolved, not a move to the older one's node. Race "a copy's stop told as a move": a member frozen past the
   * observer's timeout (mixed timing) was never judged down — its stops held, then dropped when it came back — and the
   * copies another member had started meanwhile stopped at the heal; the timeline said "2 moved from n1 to n2 (node
   * joined)" (the re-check of the tour, each instance's own records: n2's ran throughout).
   */
  private readonly youngerStopped = new Map<string, { node: string; pid: string; older: string; told?: boolean }>();
  /** id → the last `placed` published, as "node|by". */
  private readonly placed = new Map<string, string>();
  /** Each member's entry as last seen by `observeMembers`, to tell a leave announced. */
  private readonly lastSeen = new Map<string, MemberFacts>();
  /** Members being drained, as the drain events say: name → when the drain was set (race "a drain heard late told as a node down"). */
  private readonly draining = new Map<string, number>();
  /** Members whose leave was published (node-down with LEAVING_REASON): name → incarnation. */
  private readonly leaving = new Map<string, string>();
  /** Observer and `ctl` sessions seen coming (node-up with role observer); not timeline events. */
  sessions = 0;
  /** `placed` events with no node, held until it is known whether the child was terminated (see the header). */
  private readonly nowhere = new Map<string, Extract<DistEvent, { type: 'placed' }>>();
  /** `stopped` events of a child's last instance, held until its spec's removal arrives (see the header): id → event. */
  private readonly stopsHeld = new Map<string, Extract<DistEvent, { type: 'stopped' }>>();
  /** Stops of members whose lease may have lapsed (`leaseLapsing`), held for the verdict on them: node → since when, and the stops in order. */
  private readonly leaseHeld = new Map<string, { since: number; stops: Array<Extract<DistEvent, { type: 'stopped' }>> }>();
  /**
   * id → the latest placement of a child made while `member` was unreachable from here, once it is back, until its
   * live state has arrived again (`settle`, `learnedPlacement`).
   */
  private readonly returnedPlaced = new Map<string, { member: string; e: Extract<DistEvent, { type: 'placed' }> }>();
  /** How many starts and placements were published: the order of `startedN` and `placedN`. */
  private published = 0;
  /** pid → when (`published`) its start was published. */
  private readonly startedN = new Map<string, number>();
  /** id → when (`published`) its last placement was published (or taken in). */
  private readonly placedN = new Map<string, number>();
  /** When `judgeCutOffNow` last judged (clock ms). */
  private cutJudgedAt = -Infinity;
  /** Whether the observer is still learning the cluster's past (see the header): per-child events are taken in, not published. */
  private catching: boolean;

  constructor(private readonly o: EventIntakeOptions) {
    this.catching = o.catchingUp ?? false;
  }

  /** Whether the intake is catching up (the header): per-child events are the cluster's past. */
  get catchingUp(): boolean {
    return this.catching;
  }

  /** The observer has no member linked: what it learns when it links again is the cluster's past. */
  beginCatchUp(): void {
    this.catching = true;
  }

  /** The observer has caught up with the members it is linked to: per-child events are news again. */
  endCatchUp(): void {
    this.catching = false;
  }

  /**
   * The instances running when the gateway starts, and each child's owner,
   * as if their start and placement had been published. Race "an owner
   * never published": seeded with the instances alone, a link the observer
   * alone lost and regained published "placed" for every child of that
   * member — the placement back to where it was all along.
   */
  seed(
    children: Iterable<{ id: string; instances: ReadonlyArray<{ pid: string; node?: string }>; owner?: string | undefined; pin?: string | undefined }>,
  ): void {
    for (const c of children) {
      if (c.instances.length > 0) this.running.set(c.id, new Map(c.instances.map((i) => [i.pid, i.node])));
      if (c.owner !== undefined) this.placed.set(c.id, `${c.owner}|${c.pin === c.owner ? 'pin' : 'hash'}`);
    }
  }

  /** Members whose loss was published (judged down), until seen up again. */
  judgedDown(): ReadonlySet<string> {
    return this.down;
  }

  /** Members unreachable from here and not judged down. */
  unreachable(): ReadonlySet<string> {
    return new Set(this.lost.keys());
  }

  /**
   * The instances on members unreachable from here whose stop is held (id →
   * node and pid): gone from the observer's groups with its links, not known
   * to have stopped. The board shows them, unverified (snapshot.ts).
   */
  heldInstances(): Map<string, Array<{ node: string; pid: string }>> {
    const out = new Map<string, Array<{ node: string; pid: string }>>();
    for (const l of this.lost.values())
      for (const e of l.held)
        if (e.type === 'stopped') {
          const list = out.get(e.id);
          if (list === undefined) out.set(e.id, [{ node: e.node, pid: e.pid }]);
          else list.push({ node: e.node, pid: e.pid });
        }
    return out;
  }

  /** Whether some member is unreachable from here (the observer's view has a gap). */
  get hasGap(): boolean {
    return this.lost.size > 0;
  }

  /** One event of the observer's own supervisor. */
  onDistEvent(e: DistEvent): void {
    if (this.catching && 'id' in e) return this.absorb(e);
    if ('id' in e) {
      // Race "the lease's stops before the cut-off" (`leaseLapsing`): the observer's supervisor acts on the reach reports
      // as they arrive (it places a cut-off member's children elsewhere at once), the gateway judges them on its tick; a
      // per-child event judges them first, so the node-down of a member cut off heads what it caused.
      this.judgeCutOffNow(e.at);
      // A later event of a child whose stop is held for a lease's lapse publishes the stops held first (each child's order).
      for (const [node, h] of [...this.leaseHeld])
        if (h.stops.some((s) => s.id === e.id) && !(e.type === 'stopped' && e.node === node)) this.releaseLease(node);
    }
    // A later event of a child whose stop is held publishes the stop first (a no-node placement is the removal's own).
    if ('id' in e && this.stopsHeld.has(e.id) && !(e.type === 'placed' && e.node === undefined)) this.releaseStop(e.id);
    switch (e.type) {
      case 'node-up':
      case 'node-down':
        if (e.role !== 'member') {
          if (e.type === 'node-up') this.sessions++;
          return;
        }
        if (e.type === 'node-down') return this.onLost(e);
        return this.onFound(e);
      case 'stopped': {
        if (this.heldForLoss(e)) return;
        // Perhaps the end of its lease, a moment before the others' verdict on it: held for it (`leaseLapsing`).
        if (!this.down.has(e.node) && leaseLapsing(this.o.member(e.node))) {
          const h = this.leaseHeld.get(e.node) ?? { since: e.at, stops: [] };
          h.stops.push(e);
          this.leaseHeld.set(e.node, h);
          return;
        }
        // Race "a loss judged at once": the members' verdict was in when this observer lost the member, so its loss was
        // published before the stops of its instances arrived; each is a stop published with a loss all the same (it may
        // be seen again). Not for a member cut off while heard here: what it stops, it stops. Once this observer has
        // lost it too, what leaves its groups is its link, not its instances (race "a frozen member's instances
        // restarted": a member frozen past the members' timeout, then the observer's, was published down cut off,
        // and at its waking "5 started on n3" of instances that had run, frozen, all along).
        if (this.down.has(e.node) && (!this.cutOff.has(e.node) || !isLinked(this.o.member(e.node)?.status ?? 'down'))) {
          const gone = this.vanished.get(e.id) ?? new Map<string, string>();
          gone.set(e.pid, e.node);
          this.vanished.set(e.id, gone);
          if (this.lostFromSight(e.node)) {
            this.emit({ ...e, unseen: true });
            return;
          }
        }
        break;
      }
      case 'placed': {
        // Perhaps a child terminated: no owner because there is no child any more. Told at the next settleNowhere.
        if (e.node === undefined && this.o.isLive !== undefined) {
          this.nowhere.set(e.id, e);
          return;
        }
        this.nowhere.delete(e.id);
        if (this.heldForLoss(e)) return;
        // A member came back and its live state has not arrived yet: the latest placement waits for it (`settle`). Any
        // child's: race "a relink's transient owners", the observer's supervisor places the member's children elsewhere
        // until its groups arrive ("link up before its groups"), then back ("4 placed on n2", then "on n1", at a relink).
        const r = this.returnedPlaced.get(e.id);
        if (r !== undefined) {
          r.e = e;
          return;
        }
        const back = this.returning.keys().next().value;
        if (back !== undefined) {
          this.returnedPlaced.set(e.id, { member: back, e });
          return;
        }
        break;
      }
      case 'started':
      case 'moved':
        if (e.type === 'started' && this.vanished.get(e.id)?.get(e.pid) === e.node) return this.seenAgain(e);
        // Race "a stop during a split told as a move": a child stopped for good does not move; an instance left of it is a
        // copy on a member cut off from the others (available mode), stopped when they hear it again.
        if (e.type === 'moved' && this.o.isLive?.(e.id) === false) {
          this.pendingMoves.delete(e.id);
          return;
        }
        for (const [name, l] of [...this.lost]) {
          const starter = e.type === 'started' ? e.node : e.to;
          if ((l.stoppedIds.has(e.id) || (e.type === 'started' && e.node !== name && this.runsOn(e.id, name))) && this.takenOver(name, starter))
            this.release(name, { at: e.at, by: 'the members restarted its children elsewhere' });
        }
        // Two instances published as running here: the move waits for the stop that completes it (see the header).
        if (e.type === 'moved' && (this.running.get(e.id)?.size ?? 0) > 1) {
          this.pendingMoves.set(e.id, e);
          return;
        }
        if (e.type === 'moved') {
          this.pendingMoves.delete(e.id);
          // The supervisor reports the stop of the duplicate first, then the "move" to the instance seen again.
          const kept = this.reappeared.get(e.id);
          const pids = this.running.get(e.id);
          const stop = this.healStops.get(e.id);
          // Or to an instance older than the copy that stopped (race "a copy's stop told as a move").
          const younger = this.youngerStopped.get(e.id);
          this.youngerStopped.delete(e.id);
          if (younger !== undefined && pids?.size === 1 && pids.get(younger.older) === e.to) {
            // Told with the copy's stop already (`resolvedAtStop`): the move the supervisor reports later is no news.
            if (younger.told === true) return;
            this.o.publish({
              type: 'duplicate-resolved',
              id: e.id,
              survivor: { node: e.to, pid: younger.older },
              stopped: [{ node: younger.node, pid: younger.pid }],
              at: e.at,
            });
            return;
          }
          if (kept !== undefined && pids?.size === 1 && pids.get(kept) === e.to && stop !== undefined) {
            this.reappeared.delete(e.id);
            this.healStops.delete(e.id);
            this.o.publish({ type: 'duplicate-resolved', id: e.id, survivor: { node: e.to, pid: kept }, stopped: [stop], at: e.at });
            return;
          }
        }
        break;
      case 'drain':
        if (e.draining) this.draining.set(e.node, e.at);
        else this.draining.delete(e.node);
        break;
      default:
        // Every other event passes through as it is.
        break;
    }
    this.emit(e);
  }

  /**
   * Looks at the member table after a membership change: a member that
   * announced its leave (`announcedLeave`) is published down now, at `at`,
   * before the moves its leave causes.
   */
  observeMembers(members: readonly MemberFacts[], at: number): void {
    const names = new Set<string>();
    for (const m of members) {
      names.add(m.name);
      const before = this.lastSeen.get(m.name);
      this.lastSeen.set(m.name, m);
      if (!announcedLeave(before, m) || this.leaving.get(m.name) === m.incarnation || this.lost.has(m.name)) continue;
      this.leaving.set(m.name, m.incarnation);
      this.down.add(m.name);
      this.emit({ type: 'node-down', node: m.name, role: 'member', reason: LEAVING_REASON, at });
    }
    for (const name of this.lastSeen.keys()) if (!names.has(name)) this.lastSeen.delete(name);
  }

  /**
   * Looks at who the members cannot hear (their reach reports, on every
   * gateway tick: they come without a membership event). A member this
   * observer still hears but most of the others cannot (candidates.ts
   * `cutOffWhy`) is down for the cluster: they take its children over.
   * Race "a cut-off member never down on the timeline": the board said "cut
   * off", and the timeline had the takeover's moves and no node-down
   * heading them; a node-down came only when this observer lost the member
   * too, half a minute later, saying "no child moved, converged in 0 ms",
   * and a heal it never lost had no node-up at all (an outsider's tour,
   * majority and available mode). So it is published down when it is cut
   * off, and up when the others hear it again while this observer still
   * does; if this observer loses it meanwhile, its loss is judged as any
   * other's, and its node-down is not published again. It is up again
   * only when the members that cannot be asked from here would not make it
   * cut off (`mayStillBeCutOff`). While catching up,
   * a member already cut off is the cluster's past: taken in, not published.
   */
  observeCutOff(members: readonly MemberFacts[], at: number): void {
    // Of the members the cluster counts: those unreachable from here, not judged down, among them (candidates.ts `cutOffWhy`).
    const cut = cutOffWhy(members, new Set(this.lost.keys()));
    for (const name of cut.keys()) {
      if (this.cutOff.has(name) || this.down.has(name) || this.lost.has(name)) continue;
      this.cutOff.add(name);
      this.down.add(name);
      if (this.catching) continue;
      const m = members.find((x) => x.name === name);
      const by = [...new Set((m?.unheardBy ?? []).map((u) => u.reporter))].filter((r) => r !== name).sort();
      const hearsNot = cut.get(name)?.hearsNot ?? [];
      const also = hearsNot.length === 0 ? '' : by.length === 0 ? `it cannot hear ${hearsNot.join(', ')}` : `, and it cannot hear ${hearsNot.join(', ')}`;
      this.emit({
        type: 'node-down',
        node: name,
        role: 'member',
        reason: `cut off: ${by.length > 0 ? `${by.join(', ')} cannot hear it` : ''}${also}; ${stillHeard(m, at)}`,
        at,
      });
      // What its lease's end stopped a moment before the verdict, after the node-down that heads it.
      this.releaseLease(name, at);
    }
    // Held for a verdict that did not come: its gate open again, or held long enough.
    for (const [name, h] of [...this.leaseHeld]) if (!leaseLapsing(this.o.member(name)) || at - h.since >= LEASE_HOLD_MS) this.releaseLease(name);
    for (const name of [...this.cutOff]) {
      if (cut.has(name)) continue;
      const m = members.find((x) => x.name === name);
      // Lost here too: its loss is judged as any other's, and the node-up of its relink says when it is back.
      if (m === undefined || !isLinked(m.status) || this.lost.has(name)) continue;
      // Race "a cut-off member back because a reporter went quiet": majority mode, n3 cut off from n1 and n2, then this
      // observer lost n1: n1's "cannot hear n3" no longer counted, n2's was one of two, and "n3 up" was published while
      // it was cut off still; at the heal, "n3 down (cut off)" and "up" again (an outsider's tour, network namespaces).
      // The members this observer cannot ask count as not hearing it yet.
      if (mayStillBeCutOff(m, members, new Set(this.lost.keys()))) continue;
      this.cutOff.delete(name);
      if (!this.down.delete(name)) continue;
      if (!this.catching) this.emit({ type: 'node-up', node: name, role: 'member', at });
    }
  }

  /**
   * Judges every lost member again (after a membership or reach change, or
   * on a timer): publishes what the loss of those now down caused.
   */
  judge(members: readonly MemberFacts[], now?: number): void {
    if (this.lost.size === 0) return;
    const { reporters, counted } = verdictVoters(members, this.down);
    for (const [name, l] of [...this.lost]) {
      const m = this.o.member(name);
      if (m === undefined || m.incarnation !== l.incarnation) this.release(name);
      else if (memberVerdict(m, reporters, counted) === 'down') {
        const against = (m.unheardBy ?? []).map((u) => u.reporter).filter((r) => r !== name && reporters.includes(r));
        const by = m.status === 'left' ? 'it left' : `declared down by the members: ${against.sort().join(', ')} cannot hear it`;
        this.release(name, now === undefined ? undefined : { at: now, by });
      }
    }
  }

  /**
   * The live state of `node` has arrived again after it came back: each
   * stop dropped then whose instance is not running (`isRunning`, read from
   * pg) really happened meanwhile, and is published now.
   */
  settle(node: string, isRunning: (id: string, pid: string) => boolean, at: number): void {
    const stops = this.returning.get(node);
    if (!stops) return;
    this.returning.delete(node);
    for (const s of stops) if (!isRunning(s.id, s.pid)) this.emit({ ...s, at });
    for (const [id, r] of [...this.returnedPlaced])
      if (r.member === node) {
        this.returnedPlaced.delete(id);
        const learned = learnedPlacement(r.e, this.placed.get(id), this.running.get(id), node);
        if (learned === 'publish' && this.placementIsNews(r.e)) this.emit(r.e);
        else if (learned === 'take-in') {
          this.placed.set(id, placedKey(r.e));
          this.placedN.set(id, ++this.published);
        }
      }
  }

  /** Members that came back and whose live state has not been checked yet (`settle`). */
  returningNodes(): string[] {
    return [...this.returning.keys()];
  }

  private onLost(e: Extract<DistEvent, { type: 'node-down' }>): void {
    if (this.lost.has(e.node)) return;
    this.returning.delete(e.node);
    // Lost again before its live state arrived: the placements learned at its return are held with this loss.
    const placed = new Map<string, Extract<DistEvent, { type: 'placed' }>>();
    for (const [id, r] of [...this.returnedPlaced])
      if (r.member === e.node) {
        this.returnedPlaced.delete(id);
        placed.set(id, r.e);
      }
    // Stops held for a lease's lapse are part of what its loss caused here.
    const lapsed = this.leaseHeld.get(e.node)?.stops ?? [];
    this.leaseHeld.delete(e.node);
    this.lost.set(e.node, {
      incarnation: this.o.member(e.node)?.incarnation ?? '',
      held: [e, ...lapsed],
      stoppedIds: new Set(lapsed.map((x) => x.id)),
      placed,
    });
    this.o.changed();
  }

  private onFound(e: Extract<DistEvent, { type: 'node-up' }>): void {
    const wasDown = this.down.delete(e.node);
    this.cutOff.delete(e.node);
    // Another incarnation: the leave announced was the old one's (the same one relinking is still leaving).
    if (this.leaving.get(e.node) !== this.o.member(e.node)?.incarnation) this.leaving.delete(e.node);
    const l = this.lost.get(e.node);
    if (l === undefined && wasDown && this.stillCutOff(e.node)) {
      // Race "a woken member down again": judged down, it links here again before the others hear it (a frozen member
      // woken reaches each peer at its own moment; or only this observer's link came back). For the cluster it is down
      // still: cut off as far as this observer can tell, up once the others hear it (observeCutOff). Published up at
      // once, it was "n3 up", "n3 down (cut off)" 3 ms later, and "up" again 300 ms after.
      this.down.add(e.node);
      this.cutOff.add(e.node);
      return;
    }
    if (l === undefined) {
      const m = this.o.member(e.node);
      const key = `${e.node}/${m?.incarnation ?? ''}`;
      const first = !this.met.has(key);
      this.met.add(key);
      // Discovery: it was up before this observer started.
      if (first && m?.startedAt !== undefined && this.o.startedAt !== undefined && m.startedAt < this.o.startedAt) return;
      return this.emit(e);
    }
    if (this.o.member(e.node)?.incarnation !== l.incarnation) {
      // Another incarnation: the one we lost was really down.
      this.release(e.node);
      return this.emit(e);
    }
    // Back: nothing happened to it.
    this.lost.delete(e.node);
    const stops = l.held.filter((h): h is Extract<DistEvent, { type: 'stopped' }> => h.type === 'stopped');
    // The placements made meanwhile wait for its live state too (race "a relink told as a placement", `learnedPlacement`).
    for (const p of l.placed.values()) this.returnedPlaced.set(p.id, { member: e.node, e: p });
    if (stops.length > 0 || l.placed.size > 0) this.returning.set(e.node, stops);
    this.o.changed();
  }

  /**
   * The member was really down: publish what its loss caused, the node-down
   * first, in order; stamped with the members' verdict when there is one
   * (`verdictDown`; the held events no earlier than it).
   */
  private release(name: string, verdict?: { at: number; by: string }): void {
    const l = this.lost.get(name);
    if (!l) return;
    this.lost.delete(name);
    this.down.add(name);
    // Its leave was published when it announced it: the node-down of its `leave` is not news (its stops are).
    const announced = this.leaving.get(name) === l.incarnation;
    if (announced) this.leaving.delete(name);
    // Published down when it was cut off (observeCutOff): its loss here is no second node-down (its stops are news).
    const cut = this.cutOff.has(name);
    // Gone silent (or cut off): its instances were lost from sight, not seen to stop (StopNote `unseen`).
    const silent = this.lostFromSight(name);
    const first = l.held[0];
    const down = verdict !== undefined && first?.type === 'node-down' ? verdictDown(first, verdict.at, verdict.by) : first;
    const at = down !== first && down !== undefined ? down.at : undefined;
    const restamp = <E extends DistEvent>(e: E): E => (at !== undefined && e.at < at ? { ...e, at } : e);
    for (const e of l.held) {
      if ((announced || cut) && e.type === 'node-down') continue;
      if (e.type === 'stopped') {
        const gone = this.vanished.get(e.id) ?? new Map<string, string>();
        gone.set(e.pid, e.node);
        this.vanished.set(e.id, gone);
        if (silent) {
          this.emit({ ...restamp(e), unseen: true });
          continue;
        }
      }
      this.emit(e === first ? down! : restamp(e));
    }
    for (const e of l.placed.values()) if (this.placementIsNews(e)) this.emit(restamp(e));
    this.o.changed();
  }

  /**
   * Holds what a lost member's loss causes here while it is unreachable: the
   * stop of one of its instances, or any placement (owners recomputed
   * without it; the latest per child). Whether it was held.
   */
  private heldForLoss(e: Extract<DistEvent, { type: 'stopped' | 'placed' }>): boolean {
    const l = e.type === 'stopped' ? this.lost.get(e.node) : this.firstLost();
    if (l === undefined) return false;
    if (e.type === 'stopped') {
      l.held.push(e);
      l.stoppedIds.add(e.id);
    } else l.placed.set(e.id, e);
    return true;
  }

  private firstLost(): Lost | undefined {
    for (const l of this.lost.values()) return l;
    return undefined;
  }

  /** A `stopped` of a child whose spec is gone says so, and who asked when the stop went through this gateway (StopNote). */
  private noted(e: DistEvent | StoppedEvent): DistEvent | StoppedEvent {
    if (e.type !== 'stopped' || this.o.isLive?.(e.id) !== false) return e;
    this.nowhere.delete(e.id);
    const by = this.o.stopAsked?.(e.id);
    return by === undefined ? { ...e, terminated: true } : { ...e, terminated: true, by };
  }

  /**
   * Whether `starter` starting a child of the lost member `name` is the
   * cluster's verdict on it (race "a held child starts elsewhere before the
   * verdict", in the header): with the starter's word added to the reports,
   * more than half of the members the cluster counts say they cannot hear
   * it (`memberVerdict`). Race "a minority's takeover taken for the
   * cluster's": an observer linked to n3 alone, n3 cut off from n1 and n2
   * (available mode, where a cut-off member starts the children of those it
   * lost), took n3's copies for the verdict — n1 and n2 down, every child
   * of theirs "stopped" and "moved" to n3, "converged: running once", a
   * toast "2 nodes are down" — while each ran on n1 and n2 and again on n3
   * (an outsider's tour in network namespaces, by the instances' own
   * records, 3 of 3). n3 is one of three: its copies are news, the loss is
   * not judged. The members the cluster counts are read from the table as
   * `observeMembers` last saw it (none seen: the starter's word is taken, as
   * before).
   */
  private takenOver(name: string, starter: string): boolean {
    // Race "a drain heard late told as a node down": a drain moves the children of a member that runs on.
    if (this.draining.has(name)) return false;
    const m = this.o.member(name);
    if (m === undefined) return true;
    const facts: MemberFacts[] = [];
    for (const n of this.lastSeen.keys()) {
      const f = n === name ? m : this.o.member(n);
      if (f !== undefined) facts.push(f);
    }
    const { reporters, counted } = verdictVoters(facts, this.down);
    const voters = new Set([...reporters, starter]);
    const unheardBy = [...(m.unheardBy ?? []), { reporter: starter }];
    return memberVerdict({ ...m, unheardBy }, [...voters], counted.length > 0 ? counted : [...voters]) === 'down';
  }

  /** Whether an instance of `id` published as running is on `node`. */
  private runsOn(id: string, node: string): boolean {
    for (const at of this.running.get(id)?.values() ?? []) if (at === node) return true;
    return false;
  }

  /** Publishes `e` unless it repeats what was already published (a pid already running, an owner already placed). */
  private emit(given: DistEvent | StoppedEvent): void {
    const e = given.type === 'moved' ? drainReason(given, this.draining.get(given.from)) : this.noted(given);
    if (e.type === 'started') {
      const pids = this.running.get(e.id) ?? new Map<string, string | undefined>();
      if (pids.has(e.pid)) return;
      pids.set(e.pid, e.node);
      this.running.set(e.id, pids);
      this.startedN.set(e.pid, ++this.published);
    } else if (e.type === 'stopped') {
      this.startedN.delete(e.pid);
      const pids = this.running.get(e.id);
      if (pids !== undefined) {
        const older = pids.keys().next().value;
        if (pids.size > 1 && older !== undefined && older !== e.pid && pids.has(e.pid)) this.youngerStopped.set(e.id, { node: e.node, pid: e.pid, older });
        if (!pids.delete(e.pid)) return;
        if (pids.size === 0) this.running.delete(e.id);
      }
      const kept = this.reappeared.get(e.id);
      const gone = this.vanished.get(e.id);
      if (kept === e.pid) this.reappeared.delete(e.id);
      // A copy stopped while an instance of it may still be seen again: the heal's stop can reach us before the live state does.
      else if (kept !== undefined || (gone !== undefined && !gone.has(e.pid))) this.healStops.set(e.id, { node: e.node, pid: e.pid });
      const move = this.pendingMoves.get(e.id);
      if (move !== undefined && (pids === undefined || pids.size <= 1)) {
        this.pendingMoves.delete(e.id);
        this.o.publish(e);
        // Down to one instance: a move if it is where the move said, else none happened.
        const [kept, keptNode] = pids?.entries().next().value ?? [];
        if (pids !== undefined && pids.size === 1 && keptNode === move.to) {
          // The instance kept is one seen again after a loss, or older than the one stopped: it never stopped, so nothing
          // moved; a duplicate was stopped.
          const younger = this.youngerStopped.get(e.id);
          if (kept !== undefined && (this.reappeared.get(e.id) === kept || (younger?.pid === e.pid && younger.older === kept)))
            this.o.publish({ type: 'duplicate-resolved', id: e.id, survivor: { node: move.to, pid: kept }, stopped: [{ node: e.node, pid: e.pid }], at: e.at });
          else this.o.publish({ ...drainReason(move, this.draining.get(move.from)), at: e.at });
        } else if (this.resolvesNow(e, pids)) this.tellResolved(e, pids);
        this.reappeared.delete(e.id);
        this.healStops.delete(e.id);
        return;
      }
      // Race "a duplicate resolved long after its stop" (`resolvedAtStop`): told with the stop, not when the move comes.
      if (this.resolvesNow(e, pids)) {
        this.o.publish(e);
        this.tellResolved(e, pids);
        return;
      }
      // The last instance of a child an operator here asked to stop, its spec still live: wait for the removal.
      if (!('terminated' in e) && !this.running.has(e.id) && this.o.stopAsked?.(e.id) !== undefined) {
        this.stopsHeld.set(e.id, e);
        return;
      }
    } else if (e.type === 'placed') {
      const k = placedKey(e);
      if (this.placed.get(e.id) === k) return;
      const before = this.placedN.get(e.id);
      this.placed.set(e.id, k);
      this.placedN.set(e.id, ++this.published);
      // Race "a placement that trails its start" (`trailsItsStart`): the baseline, not news.
      if (e.by === 'hash' && trailsItsStart(this.running.get(e.id), (pid) => this.startedN.get(pid), before, e.node)) return;
    }
    this.o.publish(e);
  }

  /** A placement nowhere of a child stopped for good (its spec gone) is no news: the header, "a stop command is no placed nowhere". */
  private placementIsNews(e: Extract<DistEvent, { type: 'placed' }>): boolean {
    return e.node !== undefined || this.o.isLive?.(e.id) !== false;
  }

  /** Publishes the stops held for the lease of `node` (`leaseLapsing`), no earlier than `notBefore` when given. */
  private releaseLease(node: string, notBefore?: number): void {
    const h = this.leaseHeld.get(node);
    if (h === undefined) return;
    this.leaseHeld.delete(node);
    for (const e of h.stops) this.emit(notBefore !== undefined && e.at < notBefore ? { ...e, at: notBefore } : e);
  }

  /** Judges who is cut off now (`observeCutOff`), from the members as `observeMembers` last listed them; once per clock ms. */
  private judgeCutOffNow(at: number): void {
    if (this.lastSeen.size === 0 || at === this.cutJudgedAt) return;
    this.cutJudgedAt = at;
    this.observeCutOff(this.membersNow(), at);
  }

  /** The members as the observer's table has them now (those `observeMembers` has seen). */
  private membersNow(): MemberFacts[] {
    const facts: MemberFacts[] = [];
    for (const n of this.lastSeen.keys()) {
      const f = this.o.member(n);
      if (f !== undefined) facts.push(f);
    }
    return facts;
  }

  /** Whether the instances of member `name`, down here, were lost from sight rather than seen to stop (StopNote `unseen`). */
  private lostFromSight(name: string): boolean {
    return this.cutOff.has(name) || this.o.wentSilent?.(name) === true;
  }

  /** Whether member `name`, linked here, may be cut off from the others still (`mayStillBeCutOff` on the table now). */
  private stillCutOff(name: string): boolean {
    const m = this.o.member(name);
    return m !== undefined && m.role === 'member' && mayStillBeCutOff(m, this.membersNow(), new Set(this.lost.keys()));
  }

  /** Whether the stop `e` of a younger instance, leaving `pids`, resolves a duplicate now (`resolvedAtStop`). */
  private resolvesNow(e: Extract<DistEvent, { type: 'stopped' }>, pids: ReadonlyMap<string, string | undefined> | undefined): boolean {
    const younger = this.youngerStopped.get(e.id);
    if (younger === undefined || younger.told === true || younger.pid !== e.pid) return false;
    // Unseen by its supervisor: unreachable, or back and its live state not in yet.
    const unseen = new Set([...this.lost.keys(), ...this.returning.keys()]);
    return resolvedAtStop(e.node, pids?.size ?? 0, pids?.get(younger.older), this.down, unseen);
  }

  /** Publishes the duplicate the stop `e` resolved (`resolvesNow` said it did): the older instance kept. */
  private tellResolved(e: Extract<DistEvent, { type: 'stopped' }>, pids: ReadonlyMap<string, string | undefined> | undefined): void {
    const younger = this.youngerStopped.get(e.id)!;
    younger.told = true;
    const survivor = { node: pids!.get(younger.older)!, pid: younger.older };
    this.o.publish({ type: 'duplicate-resolved', id: e.id, survivor, stopped: [{ node: e.node, pid: e.pid }], at: e.at });
  }

  /** Publishes the held stop of `id`, saying it was for good if its spec is gone by now. */
  private releaseStop(id: string): void {
    const e = this.stopsHeld.get(id);
    if (e === undefined) return;
    this.stopsHeld.delete(id);
    this.o.publish(this.noted(e));
  }

  /** The held stops (see the header): published once their spec is gone, or as they are after `STOP_HOLD_MS`. */
  settleStops(now: number): void {
    for (const [id, e] of [...this.stopsHeld]) if (this.o.isLive?.(id) === false || now - e.at >= STOP_HOLD_MS) this.releaseStop(id);
  }

  /** An instance seen again whose stop was published with a loss (see the header): running again here, and no news. */
  private seenAgain(e: Extract<DistEvent, { type: 'started' }>): void {
    const gone = this.vanished.get(e.id)!;
    gone.delete(e.pid);
    if (gone.size === 0) this.vanished.delete(e.id);
    const pids = this.running.get(e.id) ?? new Map<string, string | undefined>();
    pids.set(e.pid, e.node);
    this.running.set(e.id, pids);
    this.reappeared.set(e.id, e.pid);
  }

  /**
   * The held no-node placements: dropped for a
   * child whose spec is gone (terminated), published for the others (no
   * node can run them).
   */
  settleNowhere(): void {
    for (const [id, e] of [...this.nowhere]) {
      this.nowhere.delete(id);
      if (this.o.isLive?.(id) === false) continue;
      const l = this.firstLost();
      if (l) l.placed.set(id, e);
      else this.emit(e);
    }
  }

  /** Takes in a per-child event of the cluster's past: what runs and where each child is placed, with nothing published. */
  private absorb(e: Extract<DistEvent, { id: string }>): void {
    // Race "a member lost while catching up": what its loss causes here is held as at any other time (it may be
    // back in a moment, its instances never stopped); taken in, its instances were forgotten and their starts,
    // when it was linked again, published as news. Race "an isolated observer's owners taken for the past": linked to
    // no member, its supervisor placed every child nowhere; taken in, those owners were the baseline, and the members
    // it linked last (held as lost until then) had "4 placed on n1" published as they came back, the placement n1 had
    // all along (an outsider's tour, majority mode, the observer cut from every member for 8 s). A placement with no
    // node is held the same, unless its child is gone (a stop: no owner because no child).
    const holds = e.type === 'stopped' || (e.type === 'placed' && this.placementIsNews(e));
    if (holds && this.heldForLoss(e)) return;
    if (e.type === 'started') {
      const pids = this.running.get(e.id) ?? new Map<string, string | undefined>();
      pids.set(e.pid, e.node);
      this.running.set(e.id, pids);
    } else if (e.type === 'stopped') {
      const pids = this.running.get(e.id);
      if (pids?.delete(e.pid) && pids.size === 0) this.running.delete(e.id);
    } else if (e.type === 'placed') {
      this.placed.set(e.id, `${e.node ?? ''}|${e.by}`);
    }
    this.pendingMoves.delete(e.id);
  }

  /** Forget children that no longer exist (call now and then with the ids that do). */
  prune(ids: ReadonlySet<string>): void {
    for (const id of this.running.keys()) if (!ids.has(id)) this.running.delete(id);
    for (const id of this.placed.keys()) if (!ids.has(id)) this.placed.delete(id);
    for (const id of this.pendingMoves.keys()) if (!ids.has(id)) this.pendingMoves.delete(id);
    for (const id of this.vanished.keys()) if (!ids.has(id)) this.vanished.delete(id);
    for (const id of this.reappeared.keys()) if (!ids.has(id)) this.reappeared.delete(id);
    for (const id of this.healStops.keys()) if (!ids.has(id)) this.healStops.delete(id);
    for (const id of this.youngerStopped.keys()) if (!ids.has(id)) this.youngerStopped.delete(id);
    for (const id of this.returnedPlaced.keys()) if (!ids.has(id)) this.returnedPlaced.delete(id);
    for (const id of this.placedN.keys()) if (!ids.has(id)) this.placedN.delete(id);
    const live = new Set<string>();
    for (const pids of this.running.values()) for (const pid of pids.keys()) live.add(pid);
    for (const pid of this.startedN.keys()) if (!live.has(pid)) this.startedN.delete(pid);
  }
}
