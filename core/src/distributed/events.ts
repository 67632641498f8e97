/**
 * The distributed supervisor's events, derived by a pure diff of two views
 * of one child (view.ts) instead of being emitted while reading: the
 * reconciler keeps each child's last view, builds the new one, and emits
 * what `diffChild` says changed.
 *
 *   placed              the owner (or how it was chosen) changed
 *   started / stopped   an instance appeared / went (any node, as seen here)
 *   moved {from, to}    the child runs once again, on another node than the
 *                       one it last ran on alone, with the reason the owner
 *                       changed. A second instance is no move: while several
 *                       run (a node that was frozen or cut off wakes with its
 *                       instances, a start-first handoff), the move waits for
 *                       the stops, and is one only if the survivor is not on
 *                       the node the child ran on before the duplicate
 *   failed              a node's failed-start count of the live revision rose
 *   duplicate-resolved  emitted by the node that stops its duplicate (it
 *                       alone knows which instance won), not by the diff: a
 *                       third node may see a stop-first move's new instance
 *                       before the old one's stop, which its views cannot
 *                       tell from a duplicate
 *   node-up / node-down membership, with the member's role
 *   drain               a node's drain flag changed (`draining`), set by `by`
 *   rebalancing         the cluster-wide pause flag changed (`paused`)
 *
 * The flag events come from `flagEvents`, a diff of the flag registers the
 * reconciler saw before and after a change: `at` and `by` are the time and
 * the node of the register's version (when and where the command was
 * executed), not when this node heard of it. A version that is newer but
 * holds the same value (drain twice) is no event. What a node learns while
 * it is not yet ready (its first sync with the cluster) is not news: those
 * flags were set before it came, and the reconciler takes them in silently.
 */
import type { Role } from '../protocol.js';
import { verNode, verTime, type FlagRegister } from './registers.js';
import type { ChildView, MoveReason, PlacedBy } from './view.js';

/** An event of the distributed supervisor (child placed, moved, failed, duplicate resolved...). */
export type DistEvent =
  | { type: 'placed'; id: string; node: string | undefined; by: PlacedBy; at: number }
  | { type: 'started'; id: string; node: string; pid: string; at: number }
  | { type: 'stopped'; id: string; node: string; pid: string; at: number }
  | { type: 'moved'; id: string; from: string; to: string; reason: MoveReason; at: number }
  | { type: 'failed'; id: string; node: string; failures: number; error: string; at: number }
  | { type: 'duplicate-resolved'; id: string; survivor: { node: string; pid: string }; stopped: Array<{ node: string; pid: string }>; at: number }
  | { type: 'node-up'; node: string; role: Role; at: number }
  | { type: 'node-down'; node: string; role: Role; reason: string; at: number }
  | { type: 'drain'; node: string; draining: boolean; by: string; at: number }
  | { type: 'rebalancing'; paused: boolean; by: string; at: number };

/** The flag registers as one node holds them (desired-state.ts `flags()`). */
export interface Flags {
  readonly drains: ReadonlyMap<string, FlagRegister>;
  readonly pause: FlagRegister | undefined;
}

export const NO_FLAGS: Flags = { drains: new Map(), pause: undefined };

/** The drain and rebalancing events between two readings of the flags (an absent flag is false). */
export function flagEvents(before: Flags, after: Flags): DistEvent[] {
  const out: DistEvent[] = [];
  for (const [node, flag] of after.drains) {
    if ((before.drains.get(node)?.value ?? false) !== flag.value)
      out.push({ type: 'drain', node, draining: flag.value, by: verNode(flag.ver), at: verTime(flag.ver) });
  }
  if (after.pause && (before.pause?.value ?? false) !== after.pause.value)
    out.push({ type: 'rebalancing', paused: after.pause.value, by: verNode(after.pause.ver), at: verTime(after.pause.ver) });
  return out;
}

/** Why a node may be gaining children: the latest change of placement inputs in its favour. */
export type GainReason = 'join' | 'undrain' | 'resume';

/** What placement depended on at one moment, as far as gains are concerned. */
export interface GainInputs {
  /** Members that may take children: up, ready and not draining. */
  readonly eligible: ReadonlySet<string>;
  readonly drains: ReadonlySet<string>;
  readonly paused: boolean;
}

/**
 * The latest gain of each node, ordered by a counter: a node that became
 * eligible (`join`, or `undrain` when it was draining before), and the last
 * `resume` of rebalancing, which applies to every node.
 */
export interface Gains {
  readonly byNode: ReadonlyMap<string, { readonly reason: 'join' | 'undrain'; readonly n: number; readonly returning: boolean }>;
  /** The counter at the last resume, -1 if none. */
  readonly resumed: number;
  readonly n: number;
}

export const NO_GAINS: Gains = { byNode: new Map(), resumed: -1, n: 0 };

/** The gains after placement inputs changed from `before` to `after` (pure). */
export function nextGains(g: Gains, before: GainInputs, after: GainInputs): Gains {
  let byNode: Map<string, { reason: 'join' | 'undrain'; n: number; returning: boolean }> | undefined;
  let n = g.n;
  for (const node of after.eligible) {
    if (before.eligible.has(node)) continue;
    byNode ??= new Map(g.byNode);
    // `returning`: it was eligible before (it comes back after a partition or a restart), not new.
    byNode.set(node, { reason: before.drains.has(node) && !after.drains.has(node) ? 'undrain' : 'join', n: ++n, returning: g.byNode.has(node) });
  }
  const resumed = before.paused && !after.paused ? ++n : g.resumed;
  return n === g.n ? g : { byNode: byNode ?? g.byNode, resumed, n };
}

/** Whether the latest gain of `node` is its return (eligible again after a partition or restart), not its first join. */
export function returning(g: Gains, node: string): boolean {
  return g.byNode.get(node)?.returning ?? false;
}

/** Why `node` gains a child now: the later of its own gain and the last resume; `join` when nothing is known. */
export function gainOf(g: Gains, node: string): GainReason {
  const own = g.byNode.get(node);
  if (g.resumed >= 0 && (own === undefined || g.resumed > own.n)) return 'resume';
  return own?.reason ?? 'join';
}

/** What the cause of an owner change depends on, as this node sees the cluster. */
export interface CauseContext {
  draining(node: string): boolean;
  /** Why `node` may be gaining children now (`gainOf`). */
  gain(node: string): GainReason;
  /** Whether `node` came back (eligible again) rather than joined for the first time (`returning`). */
  returning(node: string): boolean;
  /**
   * The member's state: 'left' also for a member that is gone from the table; 'leaving' when it announced it no longer
   * takes children. `to`: where the child goes, when known (the member taking it may be the one that lost `node`).
   */
  stateOf(node: string, to?: string): 'up' | 'down' | 'left' | 'leaving';
  maxStartFailures: number;
}

/**
 * Why the owner of a child changed from `previous` to `next` (for the
 * `moved` event that follows): a pin set or removed, the previous owner
 * draining, gone, down, leaving or failing to start the child, and
 * otherwise the reason `next` gained it (it joined, was undrained, or
 * rebalancing resumed) — or a heal, when several instances run and `next`
 * is a member coming back rather than a new one.
 */
export function causeOf(
  v: Pick<ChildView, 'failures' | 'runners'>,
  previous: string | undefined,
  next: string | undefined,
  pinBefore: string | null | undefined,
  pinAfter: string | null | undefined,
  ctx: CauseContext,
): MoveReason {
  if (pinAfter !== pinBefore && (pinAfter === next || pinBefore === previous)) return pinAfter == null ? 'unpin' : 'pin';
  if (previous !== undefined) {
    if (ctx.draining(previous)) return 'drain';
    const state = ctx.stateOf(previous, next);
    if (state === 'left' || state === 'leaving') return 'leave';
    if (state === 'down') return 'failure';
    if ((v.failures.get(previous)?.failures ?? 0) >= ctx.maxStartFailures) return 'failure';
  }
  // Several instances: a heal only when the new owner is a member coming back (the other side of a
  // partition). Race "the new start is seen before the old stop": with stop-first on other nodes, an
  // observer can hear the new instance before the old one's stop; the move is then the gain's.
  const gain = next === undefined ? 'join' : ctx.gain(next);
  if (v.runners.length > 1 && gain === 'join' && (next === undefined || ctx.returning(next))) return 'heal';
  return gain;
}

/** What a child looked like last, for the next diff. */
export interface ChildHistory {
  readonly view: ChildView;
  /**
   * The node it last ran on alone: the node of its only instance, kept while
   * none runs and while several do (a duplicate), so that the move reported
   * once it runs alone again is from there, and none when it is there again.
   */
  readonly lastRunner: string | undefined;
  /**
   * Why its owner last left `lastRunner` (`from`), kept until the child
   * runs alone elsewhere, or there again with the owner there (settled:
   * nothing moved): the reason its move off there reports, however many
   * owners followed, and whichever this node saw when the new instance
   * showed up. Race "a held move told by the heal": an observer that had
   * lost n1 while n3 was cut off placed n3's children on n2 ("failure": n3
   * cut off), then on n1 or back on n3 as things healed, and saw n1's
   * instances (there since the takeover) only when it linked n1 again: the
   * move n3 → n1 was told with the reason of that moment, "node joined",
   * where every member recorded "failure" (timeline-truth.test.ts). A pin
   * or unpin that placed it where it went names that instead. A duplicate
   * down to one keeps its own reason (a heal).
   */
  readonly leftBecause?: { readonly from: string; readonly cause: MoveReason };
}

/** The events of a diff that found none (shared: do not change it). */
const NO_EVENTS: readonly DistEvent[] = Object.freeze([]);
const NO_RUNNERS: ChildView['runners'] = Object.freeze([]);

/**
 * The events between two views of one child, and its history after them.
 * `before` is undefined for a child seen for the first time. `causeNow`
 * gives the reason of a move whose new instance showed up before this
 * node's own placement did (it saw the start before the topology change
 * settled here): then the reason comes from where the child ran before.
 *
 * A move is reported when the child runs exactly once on another node than
 * `lastRunner`: with the `started` of its new instance (the old one gone in
 * the same diff or before), or, when a duplicate is down to one instance
 * that was already running, after the `stopped` that ended the duplicate
 * (its reason then from the view that still held several instances, so a
 * member coming back may be a heal). A second instance appearing is only
 * `started`.
 * Every reconcile of every child diffs, and most find nothing: the event
 * list is made only for an event (the shared empty one otherwise), and the
 * failures are walked only when there are some.
 */
export function diffChild(
  before: ChildHistory | undefined,
  after: ChildView,
  at: number,
  causeNow: (v: ChildView, from: string, to: string) => MoveReason,
): { events: readonly DistEvent[]; history: ChildHistory } {
  let events: DistEvent[] | undefined;
  // Indexed loops and a list made with its first event: code that is not optimised yet allocates an
  // iterator result per step of a for-of, and a list grown from [] reserves 17 slots.
  const id = after.id;
  const old = before?.view;
  if (old === undefined ? after.owner !== undefined || after.by !== 'none' : old.owner !== after.owner || old.by !== after.by) {
    events = add(events, { type: 'placed', id, node: after.owner, by: after.by, at });
  }
  const lastRunner = before?.lastRunner;
  const oldRunners = old?.runners ?? NO_RUNNERS;
  const runners = after.runners;
  // The only instance, when there is one: a move is reported only towards it (several: a duplicate, no move yet).
  const alone = runners.length === 1 ? runners[0]! : undefined;
  const movedTo = alone !== undefined && lastRunner !== undefined && lastRunner !== alone.node ? alone : undefined;
  // Race "a restart in place read as a stop" (an outsider's tour): an instance replaced on its own node (a
  // restart in place, a crash restarted by the local supervisor) stopped before its successor started, but
  // both showed up in one diff and were told started-then-stopped: the child's history ended in "stopped on
  // n1" while it ran there. Such a stop comes first; the others keep their place after the starts.
  // The same for a move seen in one diff (the old instance gone, the new one alone elsewhere): told
  // started, moved, stopped, its history ended in "stopped on n1" while it ran on n2. Its stops come
  // first and the move last, as for a move seen in two diffs (which order the handoff had, one diff
  // cannot tell).
  const movedInOneDiff = movedTo !== undefined && !hasPid(oldRunners, movedTo.pid);
  // Why its owner last left where it last ran alone (ChildHistory `leftBecause`); forgotten once it is settled there.
  let leftBecause = before?.leftBecause?.from === lastRunner ? before?.leftBecause : undefined;
  if (lastRunner !== undefined) {
    if (after.owner === lastRunner && alone?.node === lastRunner) leftBecause = undefined;
    else if (after.owner !== old?.owner && after.owner !== lastRunner && (old?.owner === lastRunner || leftBecause === undefined))
      leftBecause = { from: lastRunner, cause: after.cause };
  }
  for (let i = 0; i < oldRunners.length; i++) {
    const b = oldRunners[i]!;
    if (!hasPid(runners, b.pid) && (movedInOneDiff || startsOn(runners, oldRunners, b.node))) {
      events = add(events, { type: 'stopped', id, node: b.node, pid: b.pid, at });
    }
  }
  for (let i = 0; i < runners.length; i++) {
    const r = runners[i]!;
    if (hasPid(oldRunners, r.pid)) continue;
    events = add(events, { type: 'started', id, node: r.node, pid: r.pid, at });
    if (r === movedTo) events = add(events, moved(id, lastRunner!, r.node, moveReason(after, lastRunner!, r.node, leftBecause, causeNow), at));
  }
  for (let i = 0; i < oldRunners.length; i++) {
    const b = oldRunners[i]!;
    if (!hasPid(runners, b.pid) && !movedInOneDiff && !startsOn(runners, oldRunners, b.node)) {
      events = add(events, { type: 'stopped', id, node: b.node, pid: b.pid, at });
    }
  }
  // A duplicate down to one instance that ran already: a move only if it is not where the child ran before.
  if (movedTo !== undefined && hasPid(oldRunners, movedTo.pid)) {
    const reason = after.owner === movedTo.node ? after.cause : causeNow(old!, lastRunner!, movedTo.node);
    events = add(events, moved(id, lastRunner!, movedTo.node, reason, at));
  }
  if (after.failures.size > 0) {
    for (const [node, f] of after.failures) {
      const prev = old?.failures.get(node);
      if (!prev || prev.failures !== f.failures) events = add(events, { type: 'failed', id, node, failures: f.failures, error: f.lastError, at });
    }
  }
  const runsAlone = alone?.node ?? lastRunner;
  const history =
    leftBecause === undefined || runsAlone !== lastRunner ? { view: after, lastRunner: runsAlone } : { view: after, lastRunner: runsAlone, leftBecause };
  return { events: events ?? NO_EVENTS, history };
}

/** The reasons that say why a node gains a child, not why it left the one it ran on (`GainReason`). */
const GAIN_REASONS: ReadonlySet<MoveReason> = new Set<MoveReason>(['join', 'undrain', 'resume']);

/**
 * The reason of a move off `from` to a new instance on `to`, the child's
 * only one: why its owner last left `from` (ChildHistory `leftBecause`),
 * unless a pin or unpin placed it on `to` since; else the cause of the
 * owner now when that is `to`, or `causeNow`. A gain judged before the
 * loss of `from` was known gives way to the loss known now (`causeNow`
 * says `from` is draining, leaving or down: `causeOf` puts those before
 * any gain). Race "a crash told as a join": an observer's link to a killed
 * member resets at once, the members' reports that they cannot hear it
 * come a moment later, and the owner change in between read as the gain
 * of where the child goes ("5 moved from n3 (node joined)", every member:
 * "failure"); the move is seen once the members have moved it, when their
 * reports are in.
 */
function moveReason(
  after: ChildView,
  from: string,
  to: string,
  leftBecause: ChildHistory['leftBecause'],
  causeNow: (v: ChildView, from: string, to: string) => MoveReason,
): MoveReason {
  const now = after.owner === to ? after.cause : undefined;
  if (now === 'pin' || now === 'unpin') return now;
  const told = leftBecause?.cause ?? now;
  if (told !== undefined && !GAIN_REASONS.has(told)) return told;
  const seen = causeNow(after, from, to);
  return told === undefined || (!GAIN_REASONS.has(seen) && seen !== 'heal') ? seen : told;
}

function moved(id: string, from: string, to: string, reason: MoveReason, at: number): DistEvent {
  return { type: 'moved', id, from, to, reason, at };
}

function add(events: DistEvent[] | undefined, e: DistEvent): DistEvent[] {
  if (events === undefined) return [e];
  events.push(e);
  return events;
}

/** Whether an instance not in `before` runs on `node` in `after`. */
function startsOn(after: ChildView['runners'], before: ChildView['runners'], node: string): boolean {
  for (let i = 0; i < after.length; i++) if (after[i]!.node === node && !hasPid(before, after[i]!.pid)) return true;
  return false;
}

function hasPid(runners: ChildView['runners'], pid: string): boolean {
  for (let i = 0; i < runners.length; i++) if (runners[i]!.pid === pid) return true;
  return false;
}
