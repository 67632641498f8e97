/**
 * The members as placement sees them, decided: which are candidates and
 * up, which will be ready soon (a start only they could run waits instead of
 * being refused), which are joining (a child they would own waits for them
 * instead of starting here and moving), and whose start gate is closed.
 * Pure; the reconciler (the only orchestrator) derives them whenever
 * membership, announcements or the netsplit policy's answers change, and
 * acts on them (sweeps, timers, `explain`).
 *
 * Up: this node always; a linked member once its groups have arrived (its
 * pg snapshot) or if it counted as up before; a member that is not linked
 * while the netsplit policy says it may still run its children (it is
 * present); an observer while linked (it places nothing).
 *
 * Joining (the reconciler's header, race "the first member ready after a
 * whole-cluster restart"): for `readyTimeoutMs` after this node's own
 * readiness, a member linked to it that has never been ready in its present
 * incarnation, each for at most `readyTimeoutMs` from when this node first
 * saw it so. `trackNotReady` keeps who has ever been ready and since when the
 * others have not been; `joiningMembers` reads it.
 *
 * Cut off (an observer's view only, `cutOffMembers`): a member the observer
 * reaches but more than half of the other members it reaches, and of those
 * it cannot reach that the cluster still counts (`awayButCounted`), report
 * they cannot hear. The members place as they hear each other, so an observer
 * that counted it up placed its children on it while the members ran them
 * elsewhere: the board showed them "moving" for the whole split and the
 * timeline told the takeover as "moved (node joined)" (an outsider's tour,
 * network namespaces, majority mode). A member's own view never uses this:
 * its netsplit policy decides who is present.
 *
 * Races handled here, by name:
 * - "link up before its groups": until a peer's snapshot arrives we cannot
 *   see what it runs, so we do not hand it children or move ours to it — nor
 *   take its children from it when it counted already ("relinked": a link
 *   replaced, or a peer that closed the link and counted present while
 *   relinking, netsplit-available.ts).
 * - "a start during a whole-cluster restart": a start only members not ready
 *   yet could run was refused as unplaceable ("n1: not ready"), and status
 *   said every child was; with `onceReady` it is pending.
 * - "an incarnation gone": the sets keep only incarnations membership still
 *   lists (restarted, reaped), so they stay as long as the member list.
 */
import { isLinked, type Member } from '../membership.js';
import type { Candidate } from './placement.js';

/** What `candidatesOf` reads besides the members. */
export interface CandidateInput {
  self: string;
  /** The members this node holds a link to. */
  linked: ReadonlySet<string>;
  /** Whether `peer`'s groups (its pg snapshot) have arrived. */
  announced(peer: string): boolean;
  /** The incarnations (`name/incarnation`) that counted as up last time. */
  wasUp: ReadonlySet<string>;
  /** The netsplit policy's word on each member: whether it counts as present. */
  presence: ReadonlyMap<string, boolean>;
  /** Whether this node counts as ready (it is a member, ready and not leaving). */
  selfReady: boolean;
  /** The members being drained. */
  drains: ReadonlySet<string>;
  /** Members cut off from the others (an observer's view: `cutOffMembers`): not up, though linked. */
  cutOff?: ReadonlySet<string>;
}

/** Every member but those that left, as placement's candidates, and the incarnations up among them. */
export function candidatesOf(members: readonly Member[], input: CandidateInput): { candidates: Candidate[]; up: Set<string> } {
  const up = new Set<string>();
  // An observer's explain names itself as what the UI shows it as, not by its generated name.
  const from = members.some((m) => m.name === input.self && m.role === 'observer')
    ? { subject: 'this observer', object: 'it' }
    : { subject: input.self, object: input.self };
  const candidates = members
    .filter((m) => m.status !== 'left')
    .map((m) => {
      const self = m.name === input.self;
      const linked = input.linked.has(m.name);
      const seen = self || m.role !== 'member' || input.announced(m.name) || input.wasUp.has(`${m.name}/${m.incarnation}`);
      const cutOff = input.cutOff?.has(m.name) ?? false;
      const isUp = self || (m.role === 'member' ? (linked ? seen && !cutOff : (input.presence.get(m.name) ?? false)) : linked);
      if (isUp) up.add(`${m.name}/${m.incarnation}`);
      return {
        name: m.name,
        role: m.role,
        up: isUp,
        ...(isUp ? {} : { notUp: notUpWords(from, linked, cutOff) }),
        ready: self ? input.selfReady : m.ready === true,
        draining: input.drains.has(m.name),
        labels: m.labels,
        workers: m.workers,
        commands: m.commands ?? [],
        capacity: m.capacity ?? 1,
      };
    });
  return { candidates, up };
}

/**
 * Why a member is not up, as `explain` says it. Race "an unreachable member
 * read as dead": an outsider's tour (majority mode, network namespaces) read
 * "n1: not up" in a cut-off member's explain while n1 ran on; a node cannot
 * tell a dead member from one it cannot reach, so the words say which link
 * is missing, not that the member is down.
 */
function notUpWords(from: { subject: string; object: string }, linked: boolean, cutOff: boolean): string {
  if (!linked) return `no link from ${from.subject} (down, or cut off from ${from.object})`;
  if (cutOff) return 'cut off: the other members cannot hear it';
  return 'linked, its groups not arrived yet';
}

/** A member with the reports against it (membership.ts `unheardBy`), as `cutOffMembers` and its neighbours read it. */
type Reported = { name: string; role: string; status: string; unheardBy?: ReadonlyArray<{ reporter: string }> };

/** The members linked to this node: the only ones whose reports it has. */
function linkedReporters(members: readonly Reported[]): Set<string> {
  return new Set(members.filter((m) => m.role === 'member' && isLinked(m.status)).map((m) => m.name));
}

/** How many of `reporters`, `m` itself aside, report they cannot hear `m`. */
function reportsAgainst(m: Reported, reporters: ReadonlySet<string>): number {
  return new Set((m.unheardBy ?? []).filter((u) => u.reporter !== m.name && reporters.has(u.reporter)).map((u) => u.reporter)).size;
}

/**
 * The members this node reaches that are cut off from the others (see the
 * header: an observer's view), each with the members it cannot hear that
 * say nothing against it here (`hearsNot`). The one rule for it: the
 * board's placement (reconciler.ts), the members shown "cut off", the
 * member a command is sent to (observer/member-to-ask.ts) and the
 * timeline's "down (cut off)" (observer/event-intake.ts `observeCutOff`)
 * all read it, so they cannot contradict each other.
 *
 * Of the members the cluster counts — those this node reaches, and
 * `counted`: those it cannot reach but has not judged down — more than
 * half, other than it, either report they cannot hear it or are reported
 * by it as unheard (a link is one per pair: the link between them is down,
 * and the other end times it out too), with at least one report against it
 * from a member linked here unless this node reaches every member it names.
 * Only the reports of members it reaches are known.
 *
 * Race "an observer that reaches only the minority": linked to n3 alone
 * after n3 was cut off from n1 and n2, the observer still heard n1 a
 * moment longer than n2, and n3's "cannot hear n1" was one of one: n1 was
 * published down, "cut off: n3 cannot hear it" (the tour, available mode);
 * of the members the cluster counts it is one of two. So a member's own
 * word about members the observer cannot ask is no verdict; about members
 * it reaches, it is the first word of a link down that they will report at
 * their own timeout (race "the copies before the cut-off", available mode,
 * n3's copies published before "n3 down (cut off)", on real processes in
 * network namespaces). Race "one report of two": the observer had lost n1
 * when n3 was cut off from n1 and n2; n2's report was one of two, and the
 * timeline had the takeover's stops and moves with no node-down for the
 * whole split (an outsider's tour; the simulation, timeline-truth.test.ts).
 * n3 itself reports it cannot hear n1.
 *
 * Race "two rules for one cut-off": the timeline judged with the members'
 * own reports (the rule above) while the board and placement counted the
 * reports against a member alone, so with n1 lost here and n3 cut off the
 * timeline said "n3 down (cut off: n2 cannot hear it, and it cannot hear
 * n1)" while the observer's own placement, which the board shows, had n3
 * up (timeline-truth.test.ts).
 */
export function cutOffWhy(members: readonly Reported[], counted: ReadonlySet<string> = new Set()): Map<string, { hearsNot: string[] }> {
  const reporters = linkedReporters(members);
  const byName = new Map(members.map((m) => [m.name, m]));
  const all = [...new Set([...reporters, ...counted])];
  const out = new Map<string, { hearsNot: string[] }>();
  for (const m of members) {
    if (m.role !== 'member' || !isLinked(m.status)) continue;
    const voters = all.filter((v) => v !== m.name);
    const direct = new Set((m.unheardBy ?? []).map((u) => u.reporter).filter((r) => r !== m.name && reporters.has(r)));
    const hearsNot = voters.filter((v) => !direct.has(v) && (byName.get(v)?.unheardBy ?? []).some((u) => u.reporter === m.name)).sort();
    // Its own word alone counts only when this node reaches every member it names (they are no minority it cannot ask).
    if (direct.size === 0 && !hearsNot.every((v) => reporters.has(v))) continue;
    if ((direct.size + hearsNot.length) * 2 > voters.length) out.set(m.name, { hearsNot });
  }
  return out;
}

/** The members cut off (`cutOffWhy`), by name. */
export function cutOffMembers(members: readonly Reported[], counted?: ReadonlySet<string>): Set<string> {
  return new Set(cutOffWhy(members, counted).keys());
}

/**
 * The members an observer cannot reach that the cluster still counts
 * (pure), for `cutOffMembers`' `counted`: members, not left, that no more
 * than half of the members it reaches report they cannot hear (those the
 * reporters have lost too are down for the cluster, and count for no
 * side). Race "an observer that lost one of the majority fences the
 * other": an observer that had lost n1 (its own link; n2 still heard it)
 * counted the members it reached alone, so when n3 was cut off from n1 and
 * n2, n3's "cannot hear n2" was one of one: n2 was cut off, fenced in
 * majority mode, and its instances left the observer's view, "3 stopped on
 * n2" at the moment n3's lease lapsed, while they ran on (an outsider's
 * tour, network namespaces, by each child's own record). n1 counts: n3's
 * word on n2 is one of two.
 */
export function awayButCounted(members: readonly Reported[]): Set<string> {
  const reporters = linkedReporters(members);
  const out = new Set<string>();
  for (const m of members) {
    if (m.role !== 'member' || m.status === 'left' || isLinked(m.status)) continue;
    if (reportsAgainst(m, reporters) * 2 <= reporters.size) out.add(m.name);
  }
  return out;
}

/** Whether `reporter` (a member, not `m` itself) reports it cannot hear `m`. */
function reportedBy(m: Reported, reporter: string | undefined): boolean {
  return reporter !== undefined && reporter !== m.name && (m.unheardBy ?? []).some((u) => u.reporter === reporter);
}

/**
 * A member's state as the reason of a move off it reads it (events.ts
 * `CauseContext.stateOf`), pure: `left` when it left or is gone from the
 * table, `down` when it is down, `leaving` when it announced it takes no
 * children any more (`ready` false; never this node itself), `up`
 * otherwise.
 *
 * A member's own table says who is down for it: its netsplit policy acts on
 * it. An observer's table says only whom the observer hears, so `observer`
 * (its view) gives what the members saw: `down` is a member cut off from
 * them (`cutOffWhy`), or one this observer cannot reach that they do not
 * count either (not in `away`: `awayButCounted`, more than half of the
 * members reached report they cannot hear it too). A member only this
 * observer lost, the others still hearing it, is not down, and a move off it
 * is the reason the members had (the gain of where it goes, a drain, a
 * pin) — unless the member it goes to (`to`) cannot hear it either: that
 * member took it over (race "a crash told as a join", available mode: the
 * members take a killed member's children within milliseconds, before
 * more than one of them has said it cannot hear it; the one taking the
 * child has). Race "a heal told as a failure" (timeline-truth.test.ts, majority
 * mode, the observer reaching all): at the heal of n3 cut off from n1 and
 * n2, n3 still said it could not hear n1 for a moment after n1 and n2 heard
 * it again; any single report made a member down for the reason (race "a
 * takeover told as a join", once answered with that: `unheardMembers`), so
 * the timeline said "4 moved from n1 to n3 (node down or failing)" of the
 * rebalance back that every member recorded as "join", n1 up throughout. A
 * takeover off a cut-off member is a failure still: the one rule says n3
 * is cut off from one report and its own (race "one report of two").
 */
export function causeStateOf(
  m: (Reported & { ready?: boolean }) | undefined,
  self: string,
  observer?: { cutOff: ReadonlySet<string>; away: ReadonlySet<string>; to?: string | undefined },
): 'up' | 'down' | 'left' | 'leaving' {
  if (m === undefined || m.status === 'left') return 'left';
  const down =
    observer === undefined
      ? m.status === 'down'
      : observer.cutOff.has(m.name) || (!isLinked(m.status) && (!observer.away.has(m.name) || reportedBy(m, observer.to)));
  if (down) return 'down';
  if (m.ready === false && m.name !== self) return 'leaving';
  return 'up';
}

/**
 * Of the members cut off (`cutOffMembers`), those in majority mode (as they
 * announce it, protocol 2.5): an observer does not count their instances.
 * Race "an observer slower than the members": an observer on a longer
 * heartbeat timeout keeps its link to a member the others have lost, and
 * with it that member's instances in its groups, after the member has
 * stopped them at its lease's end and the others have started them again:
 * it showed each child "duplicate" for 8 s that never ran twice (an
 * outsider's tour, each instance's own records). In majority mode the
 * others start a cut-off member's children only once it must have stopped
 * them (its lease and stop time, by its own clock), so its instances are
 * gone as far as anyone can tell; in available mode it really runs them
 * beside the others', and they are shown.
 */
export function fencedMembers(members: readonly Member[], cutOff: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const m of members) if (cutOff.has(m.name) && m.netsplit?.mode === 'majority') out.add(m.name);
  return out;
}

/**
 * The ready members other than `self` whose start gate is closed: they
 * announced `startable: false` (since protocol 2.4). A member that says
 * nothing of it (an older one) is never waited for.
 */
export function gatedMembers(members: readonly Member[], self: string): Set<string> {
  const out = new Set<string>();
  for (const m of members) if (m.name !== self && m.role === 'member' && m.ready === true && m.startable === false) out.add(m.name);
  return out;
}

/** Who has been ready (by incarnation, `name/incarnation`), and since when each linked member that never was has been seen so. */
export interface ReadyTrack {
  everReady: ReadonlySet<string>;
  notReadySince: ReadonlyMap<string, number>;
}

export const NO_TRACK: ReadyTrack = { everReady: new Set(), notReadySince: new Map() };

/** The track after this look at the members (race "an incarnation gone": what membership no longer lists is forgotten). */
export function trackNotReady(previous: ReadyTrack, members: readonly Member[], self: string, linked: ReadonlySet<string>, now: number): ReadyTrack {
  const everReady = new Set<string>();
  const notReadySince = new Map<string, number>();
  for (const m of members) {
    if (m.name === self || m.role !== 'member') continue;
    const k = `${m.name}/${m.incarnation}`;
    const was = previous.everReady.has(k);
    if (was || (linked.has(m.name) && m.ready === true)) everReady.add(k);
    else if (linked.has(m.name)) notReadySince.set(k, previous.notReadySince.get(k) ?? now);
  }
  return { everReady, notReadySince };
}

/**
 * The candidates as they will be once every member not ready yet is (race
 * "a start during a whole-cluster restart"): this node when `selfComing`
 * (a member, not ready, not leaving, not refused), and each up member
 * linked and never ready in this incarnation. `candidates` itself (the
 * same array) when there are none.
 */
export function onceReadyCandidates(
  candidates: readonly Candidate[],
  members: ReadonlyMap<string, Member>,
  track: ReadyTrack,
  self: string,
  selfComing: boolean,
): readonly Candidate[] {
  let out: Candidate[] | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const m = members.get(c.name);
    const coming =
      c.name === self ? selfComing : m !== undefined && c.role === 'member' && c.up && !c.ready && track.notReadySince.has(`${m.name}/${m.incarnation}`);
    if (!coming) continue;
    out ??= [...candidates];
    out[i] = { ...c, ready: true };
  }
  return out ?? candidates;
}

/**
 * The members joining now, as the candidates they will be once ready, and
 * when the set next changes (the first moment one stops counting, or this
 * node's window ends; Infinity when none counts). `readyAt`: when this node
 * became ready (-Infinity before), `active`: it is a ready member.
 */
export function joiningMembers(
  candidates: readonly Candidate[],
  members: ReadonlyMap<string, Member>,
  track: ReadyTrack,
  at: { now: number; readyAt: number; readyTimeoutMs: number; active: boolean },
): { joining: Candidate[]; next: number } {
  const { now, readyAt, readyTimeoutMs: bound } = at;
  const joining: Candidate[] = [];
  let next = Infinity;
  const windowEnd = readyAt + bound;
  if (!at.active || now >= windowEnd) return { joining, next };
  for (const c of candidates) {
    const m = members.get(c.name);
    const since = m === undefined ? undefined : track.notReadySince.get(`${m.name}/${m.incarnation}`);
    if (since === undefined || now >= since + bound || c.draining) continue;
    joining.push({ ...c, up: true, notUp: undefined, ready: true });
    next = Math.min(next, since + bound);
  }
  if (joining.length > 0) next = Math.min(next, windowEnd);
  return { joining, next };
}

/** The members in `linked` as they count for `isLinked` (up or suspect). */
export function linkedNames(members: readonly Member[]): Set<string> {
  return new Set(members.filter((m) => isLinked(m.status)).map((m) => m.name));
}
