/**
 * Attention slice: which children need a person's attention, for the
 * board's "needs attention" lane.
 *
 * A child needs attention when it is
 *
 *   failing      it crashed more often than its restart limit allows (on
 *                some node), and waits for a retry
 *   unplaceable  no node can run it (labels, workers, all nodes draining)
 *   duplicate    it runs on more than one node. A `start-first` handoff
 *                runs two instances on purpose for a moment, so such a
 *                child counts only after SLOW_MS; any other at once
 *   slow         it has been `moving` (running away from its owner) or
 *                `pending` (placed, not running anywhere) for more than
 *                SLOW_MS. A move takes the child's shutdown time (5 s by
 *                default) plus its start, so 30 s is well past a normal one
 *
 * A member needs attention too when it is down after it went silent
 * (MemberView.silent: frozen, cut off, or a host gone without closing its
 * connections): the cluster has restarted its children elsewhere, but if
 * it still runs, so do they, there (netsplit mode `available` runs each
 * side's; an OS-process child runs on in a frozen node in any mode). The
 * observer cannot tell, so the lane says it may be so, until the member is
 * back (its duplicates are stopped then) or gone (`silentMembers`). A
 * member that died (its connections closed) or left is no such risk.
 *
 * "For how long" needs the time a child entered its status, which the
 * gateway does not send: this slice keeps it, `since`, for every child
 * whose status is not `running`, updated from the snapshot and from each
 * patch (only the children in the patch are looked at, so a patch costs what
 * it changes, not the size of the cluster). The time is when this window
 * saw the status first: after a reconnect, a status that did not change
 * keeps its earlier time; one seen first in a snapshot starts then.
 *
 * The decisions are pure functions of (cluster, since, now), tested with a
 * hand-set clock; the lane re-renders at the next deadline (`nextDeadline`).
 */
import type { StateCreator } from 'zustand';
import {
  unreachedAdvice,
  unreachedWaitedFor,
  waitedForParts,
  type ChildView,
  type ClusterState,
  type MemberView,
  type StatePatch,
} from 'pogo-core/observer-state';
import type { AppStore } from './index';
import { observerHears } from '../shared/member-status';

/** What a member that is not ready announces it waits for (protocol 2.7). */
type WaitsFor = NonNullable<MemberView['waitsFor']>;

/** How long a child may be moving, waiting to start, or (start-first) running twice before it needs attention, ms. */
export const SLOW_MS = 30_000;

export type AttentionKind = 'failing' | 'unplaceable' | 'duplicate' | 'slow';

export interface AttentionItem {
  child: ChildView;
  kind: AttentionKind;
  /** When this window first saw the child in its current status (ms). */
  since: number;
}

/** child id → its status and when this window first saw it there; children that run normally are not kept. */
export type Since = Record<string, { status: string; at: number }>;

export interface AttentionSlice {
  since: Since;
  trackStatuses: (cluster: ClusterState, patch: StatePatch | null, now: number) => void;
}

/** `since` after a snapshot: statuses that did not change keep their time, new ones start at `now`. */
export function sinceFromSnapshot(before: Since, cluster: ClusterState, now: number): Since {
  const next: Since = {};
  for (const c of Object.values(cluster.children)) {
    if (c.status === 'running') continue;
    const was = before[c.id];
    next[c.id] = was && was.status === c.status ? was : { status: c.status, at: now };
  }
  return next;
}

/** `since` after a patch; returns `before` itself when nothing in it changed. */
export function sinceFromPatch(before: Since, patch: StatePatch, now: number): Since {
  let next: Since | null = null;
  const edit = (): Since => (next ??= { ...before });
  for (const id of patch.children?.remove ?? []) if (id in before) delete edit()[id];
  for (const c of patch.children?.set ?? []) {
    const was = (next ?? before)[c.id];
    if (c.status === 'running') {
      if (was) delete edit()[c.id];
    } else if (!was || was.status !== c.status) edit()[c.id] = { status: c.status, at: now };
  }
  return next ?? before;
}

/** Why a child needs attention now, or null when it does not. */
export function attentionKind(child: ChildView, since: number, now: number): AttentionKind | null {
  const long = now - since > SLOW_MS;
  switch (child.status) {
    case 'failing':
      return 'failing';
    case 'unplaceable':
      return 'unplaceable';
    case 'duplicate':
      return child.handoff !== 'start-first' || long ? 'duplicate' : null;
    case 'moving':
    case 'pending':
      // Unverified: as last seen, where the observer cannot see (a member unreachable from it): not known to be slow.
      return long && !child.unverified ? 'slow' : null;
    default:
      return null;
  }
}

/** Members down after they went silent, by name: they may still run, and their children twice. */
export function silentMembers(members: Readonly<Record<string, MemberView>> | null | undefined): MemberView[] {
  if (!members) return [];
  return Object.values(members)
    .filter((m) => m.role === 'member' && m.status === 'down' && m.silent)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The netsplit mode the members announce (MemberView `netsplit`) when every
 * member that announces one announces the same; undefined when none does
 * (members of an earlier release) or when they differ (then neither mode's
 * promise holds for the whole cluster: pogo ctl status names them).
 */
export function clusterNetsplit(members: Readonly<Record<string, MemberView>> | null | undefined): 'available' | 'majority' | undefined {
  let mode: 'available' | 'majority' | undefined;
  for (const m of Object.values(members ?? {})) {
    if (m.role !== 'member' || m.status === 'left' || m.netsplit === undefined) continue;
    if (mode !== undefined && mode !== m.netsplit.mode) return undefined;
    mode = m.netsplit.mode;
  }
  return mode;
}

/**
 * What a member down after it went silent means for its children, by the
 * cluster's netsplit mode (an outsider's tour: in majority mode the lane
 * said its children "may be running twice", which a cut-off member in that
 * mode rules out: it stops them by its own lease before the others start
 * them again; only a frozen member's OS processes run on meanwhile).
 */
export function silentText(mode: 'available' | 'majority' | undefined): string {
  if (mode === 'majority')
    return (
      'Down after it went silent. If it is cut off rather than dead, it stopped its children by its own lease before the others started them again ' +
      '(majority mode). If it is frozen (a long pause), its OS-process children run on meanwhile beside their restarts elsewhere, until it is back ' +
      '(then it stops them) or gone.'
    );
  return (
    'Down after it went silent: if it is frozen or cut off rather than dead, its children may be running twice (there and where they were restarted) ' +
    'until it is back or gone.'
  );
}

/** What the whole cluster needs attention for, before any node or child: the gateway reaches no member, or no node may take children. */
export interface ClusterWarning {
  kind: 'no-member' | 'all-draining' | 'cut-off' | 'partial-view' | 'save-failing' | 'not-ready';
  /** The entry's tag. */
  tag: string;
  /** One line of explanation. */
  text: string;
}

const hhmmss = (at: number): string => {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
};

/**
 * The cluster-wide entries of the lane, first in it (pure):
 *
 *   no-member     the gateway is linked to no member (`noMemberSince`,
 *                 given only while the gateway link itself is live): the
 *                 board is the last known state, and no command can be sent
 *   all-draining  every member that may run children (up, suspect, or
 *                 unreachable from here only) is draining: no child has an
 *                 eligible node; the children run on where they are, owned
 *                 by none, until a node is undrained
 *   partial-view  members this observer cannot reach (not judged down): what
 *                 it shows of them and their children is a member's view or
 *                 the last known, and the members it reaches may be the
 *                 minority of a split (the tour: an observer that reached
 *                 only n3, cut off from n1 and n2, read "Nothing needs
 *                 attention" while n3's view was all it had)
 *   cut-off       a member this observer reaches that other members report
 *                 they cannot hear (`unheardBy`): a split the observer sees
 *                 across, which its green marker alone hid (an outsider's
 *                 tour: "Nothing needs attention" while n3 had lost the
 *                 majority and stopped its children)
 *   save-failing  a member that cannot save its desired state to its data
 *                 dir (MemberView `saveFailing`, protocol 2.6: its disk full
 *                 or read-only): nothing is wrong yet, but a restart of
 *                 every member would lose what changed since (a disk tour:
 *                 only that member's own metrics and status said so)
 */
export function clusterWarnings(members: Readonly<Record<string, MemberView>> | null | undefined, noMemberSince: number | null): ClusterWarning[] {
  const out: ClusterWarning[] = [];
  if (noMemberSince !== null)
    out.push({
      kind: 'no-member',
      tag: 'no member reachable',
      text:
        `The gateway has reached no cluster member since ${hhmmss(noMemberSince)}. What the board shows is the last state it knew, not verified since; ` +
        'commands are disabled until a member is reachable again.',
    });
  const live = Object.values(members ?? {}).filter((m) => m.role === 'member' && (m.status === 'up' || m.status === 'suspect' || m.status === 'unreachable'));
  if (noMemberSince === null && live.length > 0 && live.every((m) => m.draining))
    out.push({
      kind: 'all-draining',
      tag: 'every node draining',
      text:
        `Every node is draining (${live.map((m) => m.name).join(', ')}): no child has an eligible node. ` +
        'Children run on where they are, owned by none, and nothing new can start until a node is undrained.',
    });
  const unreachable = Object.values(members ?? {})
    .filter((m) => m.role === 'member' && m.status === 'unreachable')
    .map((m) => m.name)
    .sort();
  if (noMemberSince === null && unreachable.length > 0) {
    const reached = Object.values(members ?? {}).filter((m) => m.role === 'member' && (m.status === 'up' || m.status === 'suspect')).length;
    out.push({
      kind: 'partial-view',
      tag: `${unreachable.length} ${unreachable.length === 1 ? 'node' : 'nodes'} not reachable from here`,
      text:
        `This observer cannot reach ${unreachable.join(', ')}, and the members have not declared ${unreachable.length === 1 ? 'it' : 'them'} down: ` +
        `${unreachable.length === 1 ? 'its' : 'their'} children are shown as a member sees them or as last seen, unverified. ` +
        (unreachable.length >= reached
          ? 'It reaches no more members than it lost: if the members it reaches cannot hear them either, the members it reaches may be ' +
            'the minority side of a split while the others run on; moves are not offered meanwhile.'
          : 'The members it reaches still hear them, or cannot say.'),
    });
  }
  const mode = clusterNetsplit(members);
  for (const m of cutOffMembers(members)) {
    const others = Object.values(members ?? {}).filter((o) => o.role === 'member' && o.name !== m.name && o.status !== 'left' && o.status !== 'down').length;
    const whole = m.unheardBy!.length * 2 > others;
    out.push({
      kind: 'cut-off',
      tag: whole ? `${m.name} cut off` : `${m.name} partly cut off`,
      text:
        `${m.unheardBy!.join(', ')} cannot hear ${m.name}, ${observerHears(m)}: ` +
        (whole
          ? mode === 'majority'
            ? `the other members count it down and run its children elsewhere once its lease has run out, after it has stopped them (majority mode). `
            : mode === 'available'
              ? `the other members count it down and run its children elsewhere while it runs them too: each runs twice until they hear it again ` +
                `(then the duplicates are stopped). `
              : `the other members count it down and run its children elsewhere (majority mode: once its lease has run out, after it has stopped them). `
          : `they do not take its children, but a move from or to it waits until they hear it again. `) +
        `It is no place to move a child to until they hear it again.`,
    });
  }
  const failing = Object.values(members ?? {})
    .filter((m) => m.role === 'member' && m.status !== 'left' && m.status !== 'down' && m.saveFailing !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const m of failing)
    out.push({
      kind: 'save-failing',
      tag: `${m.name} cannot save`,
      text:
        `${m.name} cannot save its desired state to its data dir since ${hhmmss(m.saveFailing!.since)} (${m.saveFailing!.error}). ` +
        'Its commands still work and the other members hold the state, but a restart of every member now would lose what changed since: ' +
        'free space on its disk or fix its data dir (it retries every second).',
    });
  return out;
}

/** Members this observer reaches that other members cannot hear (state.ts MemberView `unheardBy`), by name. */
export function cutOffMembers(members: Readonly<Record<string, MemberView>> | null | undefined): MemberView[] {
  return Object.values(members ?? {})
    .filter((m) => m.role === 'member' && (m.status === 'up' || m.status === 'suspect') && (m.unheardBy?.length ?? 0) > 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How long children may wait to start behind members not ready before the lane names those members, ms (a normal start readies in a second or two). */
export const NOT_READY_GRACE_MS = 5_000;

/**
 * What a member waits for, in words (core's distributed/wait-words.ts, as
 * `explain` and `pogo ctl status` say it), from what the member announces:
 * protocol 2.7 `waitsFor`.
 */
export function waitWords(w: WaitsFor): string {
  const parts = waitedForParts(w);
  return parts.length > 0 ? parts.join('; ') : 'links to and sync with every member it knows of';
}

/** Members up (or reached through the others) that are not ready: they take no children now. */
export function notReadyMembers(members: Readonly<Record<string, MemberView>> | null | undefined): MemberView[] {
  return Object.values(members ?? {})
    .filter((m) => m.role === 'member' && !m.ready && (m.status === 'up' || m.status === 'suspect' || m.status === 'unreachable'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The members not ready, how many pending children wait behind them, and since when the longest has (`since`; now when unknown). */
function behindNotReady(
  members: Readonly<Record<string, MemberView>> | null | undefined,
  children: Readonly<Record<string, ChildView>> | null | undefined,
  since: Since,
  now: number,
): { waiting: MemberView[]; blocked: number; oldest: number } {
  const waiting = notReadyMembers(members);
  if (waiting.length === 0) return { waiting, blocked: 0, oldest: Infinity };
  const names = new Set(waiting.map((m) => m.name));
  const anyReady = Object.values(members ?? {}).some((m) => m.role === 'member' && m.ready && (m.status === 'up' || m.status === 'suspect'));
  let blocked = 0;
  let oldest = Infinity;
  for (const c of Object.values(children ?? {})) {
    if (c.status !== 'pending' || c.unverified) continue;
    if (anyReady && (c.owner === null || !names.has(c.owner))) continue;
    blocked++;
    const s = since[c.id];
    oldest = Math.min(oldest, s && s.status === 'pending' ? s.at : now);
  }
  return { waiting, blocked, oldest };
}

/** When `notReadyWarnings` would start to name members it does not name yet (so the lane looks again then), or null. */
export function notReadyDeadline(
  members: Readonly<Record<string, MemberView>> | null | undefined,
  children: Readonly<Record<string, ChildView>> | null | undefined,
  since: Since,
  now: number,
): number | null {
  const { blocked, oldest } = behindNotReady(members, children, since, now);
  return blocked > 0 && now - oldest < NOT_READY_GRACE_MS ? oldest + NOT_READY_GRACE_MS : null;
}

/**
 * The lane's entries for members that are up but not ready while children
 * wait to start behind them (pure). An outsider's tour: n1 and n2,
 * restarted from their data dirs in majority mode, waited for n3, which was
 * blackholed; every child was pending and the lane said "Nothing needs
 * attention" (n3 was in no one's member table, only in their saved roster,
 * and the "not ready" tags on their columns said neither why nor for whom).
 *
 * Children wait behind them when no member is ready (every pending child),
 * or, while some are, the pending children placed on one that is not (a
 * joiner's). Named once the longest of those has waited NOT_READY_GRACE_MS
 * (by `since`: a normal start or join readies within it); none when no
 * child waits (the column's tag says the rest). Members waiting for the
 * same are one entry: "n1, n2 not ready", what they wait for (their
 * `waitsFor`; members before protocol 2.7 announce none, and the entry
 * says so), how many children are pending behind them, when they go on
 * without it (--ready-timeout-ms, their clock), and for a member waited
 * for that no member reaches, what to do: fix the network, or forget it if
 * it is gone for good.
 */
export function notReadyWarnings(
  members: Readonly<Record<string, MemberView>> | null | undefined,
  children: Readonly<Record<string, ChildView>> | null | undefined,
  since: Since,
  now: number,
): ClusterWarning[] {
  const { waiting, blocked, oldest } = behindNotReady(members, children, since, now);
  if (blocked === 0 || now - oldest < NOT_READY_GRACE_MS) return [];
  // One entry per distinct wait, in name order of its first member.
  const groups = new Map<string, MemberView[]>();
  for (const m of waiting) {
    // By what they wait for: members restarted together have deadlines a few ms apart (said once, below).
    const key = m.waitsFor ? waitWords(m.waitsFor) : '?';
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const pending = `${blocked} ${blocked === 1 ? 'child is' : 'children are'} pending`;
  const out: ClusterWarning[] = [];
  for (const group of groups.values()) {
    const one = group.length === 1;
    const who = group.map((m) => m.name).join(', ');
    // Behind every member not ready, which this entry may not name alone (members waiting for different things).
    const behind = group.length === waiting.length ? (one ? 'it' : 'them') : waiting.map((m) => m.name).join(', ');
    const pendingWords = `${pending} behind ${behind} (not started anywhere)`;
    const w = group[0]!.waitsFor;
    if (!w) {
      out.push({
        kind: 'not-ready',
        tag: `${who} not ready`,
        text:
          `${who} ${one ? 'takes' : 'take'} no children: not ready, and ${one ? 'it does' : 'they do'} not say what for (members before protocol 2.7 ` +
          `announce none; pogo ctl explain on ${one ? 'it' : 'one of them'} says). ${pendingWords}.`,
      });
      continue;
    }
    // A member waited for that no member reaches: the network to it, or it is gone (then forget it).
    const lost = unreachedWaitedFor(w, (n) => {
      const m = members?.[n];
      return m !== undefined && m.status !== 'down' && m.status !== 'left';
    });
    // Each goes on at its own deadline: one time when they fall in the same second, else the last ("by").
    const untils = group.flatMap((m) => (m.waitsFor?.until === undefined ? [] : [m.waitsFor.until]));
    const last = untils.length === group.length ? Math.max(...untils) : undefined;
    const same = last !== undefined && untils.every((u) => hhmmss(u) === hhmmss(last));
    const until =
      last !== undefined
        ? ` ${same ? 'At' : 'By'} ${hhmmss(last)} (--ready-timeout-ms, ${one ? 'its' : 'their'} clock) ${one ? 'it takes' : 'they take'} children without it.`
        : '';
    const advice = lost.length > 0 ? ` ${unreachedAdvice(lost)}.` : '';
    out.push({
      kind: 'not-ready',
      tag: `${who} not ready`,
      text: `${who} ${one ? 'takes' : 'take'} no children: ${one ? 'it waits' : 'each waits'} for ${waitWords(w)}. ${pendingWords}.${until}${advice}`,
    });
  }
  return out;
}

const ORDER: Record<AttentionKind, number> = { failing: 0, duplicate: 1, unplaceable: 2, slow: 3 };

/** Every child that needs attention: failing first, then duplicate, unplaceable, slow; within a kind the longest-standing first. */
/** What needs attention among `children` (the cluster's: only they are read, so a view subscribes to them alone). */
export function attentionItems(children: Readonly<Record<string, ChildView>> | null | undefined, since: Since, now: number): AttentionItem[] {
  if (!children) return [];
  const items: AttentionItem[] = [];
  for (const [id, s] of Object.entries(since)) {
    const child = children[id];
    if (!child || child.status !== s.status) continue;
    const kind = attentionKind(child, s.at, now);
    if (kind) items.push({ child, kind, since: s.at });
  }
  return items.sort((a, b) => ORDER[a.kind] - ORDER[b.kind] || a.since - b.since || (a.child.id < b.child.id ? -1 : 1));
}

/** The next time a child not yet counted would start to need attention (so the lane can look again then), or null. */
export function nextDeadline(children: Readonly<Record<string, ChildView>> | null | undefined, since: Since, now: number): number | null {
  if (!children) return null;
  let next: number | null = null;
  for (const [id, s] of Object.entries(since)) {
    const child = children[id];
    if (!child || child.status !== s.status || attentionKind(child, s.at, now) !== null) continue;
    if (child.status !== 'moving' && child.status !== 'pending' && child.status !== 'duplicate') continue;
    const at = s.at + SLOW_MS + 1;
    if (next === null || at < next) next = at;
  }
  return next;
}

export const createAttentionSlice: StateCreator<AppStore, [], [], AttentionSlice> = (set) => ({
  since: {},
  trackStatuses: (cluster, patch, now) => set((s) => ({ since: patch ? sinceFromPatch(s.since, patch, now) : sinceFromSnapshot(s.since, cluster, now) })),
});
