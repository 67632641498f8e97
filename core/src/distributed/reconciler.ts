/**
 * The reconciler: the one orchestrator of the distributed supervisor. It
 * turns the desired state (desired-state.ts) and the live state
 * (live-state.ts) into actions on this node's own instances
 * (local-instances.ts), through the pure `decide` (decide.ts), and derives
 * events by diffing views (events.ts).
 *
 * Scheduling (event-driven; Pogo's fixed 5-second tick is what it beats):
 * - a change of a child's register, of its pg groups or of its local
 *   instance marks the id dirty (an instance appearing or going: urgent, so
 *   after a node dies its orphans go first); however many changes arrive in
 *   a turn, the id is reconciled once;
 * - a change of what placement reads (the placeable members and their
 *   inputs, drains, the pause flag, the netsplit policy's answers: a lease
 *   running out) bumps the *placement epoch* and starts a sweep over every
 *   id — or, when the only change is that members stopped or started being
 *   placeable, over the ids they owned (race "a member died": HRW moves only
 *   those) and the ids a newcomer outscores their owner on (a node restarted
 *   or joining, once ready: about 1/N of them), and when this node's start
 *   gate opened or closed, over its own (sweep-plan.ts decides which
 *   ids). After such a targeted sweep every other view and signature stays
 *   current (`validSince`). A member that is not up, not ready or draining
 *   places nothing, so its coming and going is no change at all
 *   (`memberKeys`);
 * - before its first readiness a node sweeps nothing and leaves group
 *   changes for later: it only reconciles the registers it receives, and
 *   makes one full sweep when it becomes ready (race "sweeping before it can
 *   act": a node restarted into 20 members used to sweep every id once per
 *   peer it linked to, while it needed the time for their handshakes);
 * - every `antiEntropyIntervalMs` a full sweep is the safety net; an id whose
 *   register tick, group stamps, placement epoch and local instance are as
 *   its last reconcile saw them is skipped (its signature, kept in `Known`). When the digest of
 *   all of them (`Digest`: the store's tick, pg's change count, the epoch)
 *   is as the last full sweep left it, no signature can have changed, so
 *   the pass does not walk the ids at all: it reconciles only the ids no
 *   signature covers (a caller waits, an instance starts or stops, a claim),
 *   which an idle node has none of. (It was a third of an idle node's CPU
 *   with 10,000 children.)
 * Work runs in slices of RECONCILE_SLICE ids with the event loop free in
 * between, so a node with 20,000 children keeps answering heartbeats; a
 * slice spawns at most SPAWNS_PER_SLICE OS-process children (spawning is
 * synchronous), the rest go to the next slices.
 *
 * Pending, not unplaceable: a child that no member could run now but one
 * not ready yet could (this node before its readiness, a member joining)
 * is pending (`ChildView.onceReady`, `candidatesWhenReady` for a start's
 * check): a start during a whole-cluster restart waits instead of being
 * refused.
 *
 * Acting on what peers sent (`settledTick`): the store acknowledges a
 * peer's changes only once they are reconciled here and no instance of
 * theirs is still starting (store/replication.ts: race "terminate during a
 * start"). The dirty sets keep ids in the order they were marked, with the
 * replica tick of the first mark, so the oldest unsettled change is the
 * first entry.
 *
 * Readiness: a node takes children only once it is *ready*: linked to every
 * member it knows of (membership and the roster), holding their groups
 * (pg) and their desired state (the store's sync) — or after
 * `readyTimeoutMs`. Otherwise a joining node could start a child before it
 * learns that another node runs it — the duplicates Pogo shows during joins.
 * The timeout does not make ready a member that none of its seeds has
 * linked while one of them refused it for good (race "a cluster answers and
 * refuses us": a wrong secret, a name in use). The decision is readiness.ts
 * (pure, with its races); `checkReady` acts on it.
 *
 * Woken from a stall (race "woken from a stall", told in full in wake.ts,
 * which decides it): a node frozen past its peers' heartbeat timeout finds
 * old frames when it runs again, not what its peers did since. If links
 * went down in the stall, it starts nothing until those peers are linked
 * and synced again, or gone, or the ready timeout has passed (`checkStall`
 * watches, `resynced` asks wake.ts). Its start gate is closed meanwhile,
 * so peers hold stop-first moves to it too; what runs there keeps running.
 *
 * Joining members (race "the first member ready after a whole-cluster
 * restart"): members come back a few hundred ms apart, and the first one
 * ready owns, by hash, every child nobody runs yet — it started them all,
 * and 50–500 ms later handed two thirds of them over to the others as they
 * became ready: each of those children started twice, stopped once. For
 * `readyTimeoutMs` after its own readiness, a node counts the members linked
 * to it that have never been ready (in their present incarnation) as
 * *joining*, each for at most `readyTimeoutMs` from when it first saw it
 * so (candidates.ts derives who): a child that runs nowhere and that such
 * a member would own once ready waits for it (`ChildView.heldFor`, placement.ts `joiningOwner`) instead of
 * starting here. When a joining member becomes ready it owns the child and
 * starts it; when it goes, or its time or this node's window runs out, the
 * ids held for it are reconciled again (`held`, the hold timer) and start
 * here. Only this short window after readiness holds anything: in a
 * cluster that runs, a node joining delays no start.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { WaitsFor } from '../protocol.js';
import { isLinked, type Member } from '../membership.js';
import {
  NO_TRACK,
  candidatesOf,
  awayButCounted,
  causeStateOf,
  cutOffMembers,
  fencedMembers,
  gatedMembers,
  joiningMembers,
  linkedNames,
  onceReadyCandidates,
  trackNotReady,
  type ReadyTrack,
} from './candidates.js';
import { decide, type Action, type ClusterView } from './decide.js';
import type { DesiredState } from './desired-state.js';
import type { DistributedConfig } from './distributed-config.js';
import {
  NO_FLAGS,
  NO_GAINS,
  causeOf,
  flagEvents,
  type Flags,
  diffChild,
  gainOf,
  nextGains,
  returning,
  type CauseContext,
  type ChildHistory,
  type DistEvent,
  type GainInputs,
  type Gains,
} from './events.js';
import type { LiveState } from './live-state.js';
import type { LocalInstances } from './local-instances.js';
import { joiningOwner, owner as placeOwner, placeChild, type Candidate } from './placement.js';
import { netsplitInputs, type NetsplitInputs, type NetsplitPolicy } from './policies/netsplit.js';
import { notReadyWords, readiness, readinessGaps, waitsFor, type ReadinessInput } from './readiness.js';
import { liveSpec, verNode, type SpecEntry } from './registers.js';
import { expired, resync, wokeFromStall, type Wake } from './wake.js';
import { changeOf, memberKeys, targetedIds, type SweptFor } from './sweep-plan.js';
import { isCommandStart, sameSpec } from '../supervisor/child-spec.js';
import { key, parseKey } from './tags.js';
import { forgettable, tombstoneStep } from './tombstones.js';
import type { ChildView, MoveReason } from './view.js';

const NO_FAILURES: Map<string, number> = new Map();
const NO_CLAIMS: ChildView['claims'] = [];
const NO_CUT_OFF: ReadonlySet<string> = new Set();

/** Ids one reconcile slice looks at before it yields to the event loop. */
export const RECONCILE_SLICE = 256;

/**
 * While a node waits to be ready, how soon it looks again without news: the
 * least right after any (a link, a membership or gossip change, a store or
 * group change, sync progress: groups and the store's sync arrive right
 * after links, and some of it tells nothing), doubling up to the most while
 * nothing happens. It looked every 5 ms for the whole wait: a member waiting
 * out --ready-timeout-ms for a member gone (a restart from its data dir in
 * majority mode) spent several % of a core rebuilding what it waits for.
 */
export const READY_RETRY_MIN_MS = 5;
/** See READY_RETRY_MIN_MS. */
export const READY_RETRY_MAX_MS = 250;

/**
 * OS-process children one slice starts; the others of the slice start in the
 * next ones. Race "a node silent while it spawns": spawning is synchronous
 * (fork and exec: 12 ms each for a 170 MB node on this machine, more under
 * load), so a node starting 100 OS children in one slice answered no ping
 * for over a second — past the 3 s heartbeat timeout on a loaded host (the
 * tour, after a whole-cluster restart): its peers declared it down and
 * started its children a second time. Worker children start in
 * microseconds and are not counted.
 */
export const SPAWNS_PER_SLICE = 8;

/**
 * The reconciler's part of the distributed supervisor's settings: start
 * failures that rule a node out, the anti-entropy interval, tombstone and
 * forget times (tombstones.ts), the ready timeout, this node's lease
 * (netsplit majority), and the heartbeat interval, which is also how often
 * it looks again while the netsplit policy waits on peers' words.
 */
export type ReconcilerConfig = Pick<
  DistributedConfig,
  'maxStartFailures' | 'antiEntropyIntervalMs' | 'tombstoneTtlMs' | 'forgetAfterMs' | 'readyTimeoutMs' | 'leaseMs' | 'heartbeatIntervalMs'
>;

export interface ReconcilerOptions {
  node: string;
  isMember: boolean;
  observer: boolean;
  clock: Clock;
  log: Logger;
  desired: DesiredState;
  live: LiveState;
  instances: LocalInstances;
  netsplit: NetsplitPolicy;
  /** This node's view of the cluster. */
  members(): Member[];
  /** Whether `peer`'s pg snapshot of the supervisor's scope has arrived. */
  announced(peer: string): boolean;
  /** The settings it reads, from the distributed section of the node's config. */
  config: ReconcilerConfig;
  /** Whether the node was given seeds: then it is not ready before it has linked to someone. */
  hasSeeds: boolean;
  /** True when dialling this address has failed and no link exists (a dead member learned from gossip). */
  dialFailed(address: string): boolean;
  /** The addresses still dialled whose last answer refused this node for good (membership.ts `refusals`). */
  refusals(): Array<{ address: string; code: string; message: string }>;
  /** The DNS seeds never answered that give no address (seed-discovery.ts `unresolved`). */
  unresolvedSeeds?(): Array<{ seed: string; problem: string }>;
  /** Whether this node restored desired state from its data dir (it may be stale until it has synced with its roster). */
  restoredState?(): boolean;
  startedAt: number;
  /** Publishes this node's readiness in its member metadata. */
  setReady(ready: boolean): void;
  /** Publishes what readiness still lacks while the node waits (readiness.ts `waitsFor`); undefined once ready. */
  setWaitsFor?(waitsFor: WaitsFor | undefined): void;
  /** Publishes whether this node's start gate is open (member metadata `startable`). */
  setStartable(startable: boolean): void;
  /** Whether every peer linked when this node announced its readiness has heard of it. */
  readyConfirmed(): boolean;
  /** How long this node's own timers were kept from running in a stall under way or just ended, ms (header: "woken from a stall"). */
  ownStallMs?(): number;
  emit(event: DistEvent): void;
  /** A caller waits on `id`: never skip it in a sweep. */
  hasWaiter(id: string): boolean;
  /** `id` was reconciled: waiters may look again. */
  reconciled(id: string): void;
  /** The members counted present changed (majority mode: one cut off was fenced, or came back). */
  presenceChanged?(): void;
  /** The node became ready: initial children may start. */
  becameReady(): void;
  /** The node synced with another member for the first time since it started or discarded its state (`knowsTheCluster`). */
  learnedTheCluster?(): void;
  /** Observes the wall-clock duration of each slice (metrics). */
  onSlice?: (seconds: number) => void;
}

/** Every signature's inputs at once (see the header): while this is unchanged, so is every signature. */
interface Digest {
  epoch: number;
  tick: number;
  groups: number;
}

/**
 * What the last reconcile of one id left: its view and history (for the
 * next diff), and the signature of what it read (see the header: a sweep
 * skips the id while that is unchanged). One object per child, changed in
 * place by each reconcile: the history and the signature were objects of
 * their own, two more per child on every node (≈ 110 bytes at 20,000
 * children each, and garbage at every reconcile).
 */
class Known implements ChildHistory {
  /** Whether the sig* fields hold a signature; without one (`localMark` false) a sweep never skips the id. */
  signed = false;
  sigEpoch = 0;
  sigTick: number | undefined = undefined;
  sigRun = 0;
  sigFail = 0;
  sigClaim = 0;
  sigLocal: string | undefined = undefined;

  constructor(
    public view: ChildView,
    public lastRunner: string | undefined,
    /** ChildHistory `leftBecause` (undefined but while a child's owner is not where it last ran alone). */
    public leftBecause: ChildHistory['leftBecause'],
    /** The placement epoch the view's owner was computed under. */
    public epoch: number,
    /** The sweep planned when it was last reconciled (`sweepGen`): a sweep skips an id reconciled since it was planned. */
    public gen: number,
  ) {}
}

export class Reconciler {
  private readonly known = new Map<string, Known>();
  /** Dirty ids with the replica tick of their first mark, in marking order. */
  private readonly dirty = new Map<string, number>();
  /** Dirty ids whose instance appeared or went: they go first. */
  private readonly urgent = new Map<string, number>();
  private sweep: string[] = [];
  private sweepAt = 0;
  /** Ids whose last reconcile stored no signature (`localMark` false): a sweep never skips them. */
  private readonly unsigned = new Set<string>();
  /** The digest when the full sweep under way was planned, and when the last one completed. */
  private fullSweepFrom: Digest | undefined;
  private fullSweepDone: Digest | undefined;
  /** Counts planned sweeps: an id reconciled since the current one was planned saw its inputs (race "urgent before the sweep"). */
  private sweepGen = 0;
  /**
   * The oldest placement epoch whose views and signatures are still current:
   * a change that can move any owner makes it the new epoch; a member lost
   * (or the start gate moving) leaves it, and the ids that change can touch
   * wait in `targeted` until reconciled.
   */
  private validSince = 0;
  private targeted = new Set<string>();
  private fullSweep = false;
  private topologyDirty = true;
  private flagsDirty = true;
  private drains = new Set<string>();
  private pausedFlag = false;
  private flagsSeen: Flags = NO_FLAGS;
  private candidatesNow: Candidate[] = [];
  /** `name/incarnation` of the members that counted as up at the last topology refresh. */
  private upIncarnations = new Set<string>();
  private memberByName = new Map<string, Member>();
  /** Linked nodes (up or suspect), this one included. */
  private linked = new Set<string>();
  private presenceWhy = new Map<string, string>();
  /** An observer's view: members linked here that the other members cannot hear (candidates.ts `cutOffMembers`). */
  private cutOff: ReadonlySet<string> = NO_CUT_OFF;
  /** An observer's view: members it cannot reach that the cluster still counts (candidates.ts `awayButCounted`). */
  private away: ReadonlySet<string> = NO_CUT_OFF;
  /** An observer's view: cut-off members in majority mode, whose instances it does not count (candidates.ts `fencedMembers`). */
  private fenced: ReadonlySet<string> = NO_CUT_OFF;
  /** Whether this node sees `node`'s instances now: itself, or linked and not fenced (one function for every view, not one per view). */
  private readonly visible = (node: string): boolean => node === this.o.node || (this.linked.has(node) && !this.fenced.has(node));
  private netsplitInputs: NetsplitInputs | undefined;
  private mayRunNow = false;
  private mayStartNow = false;
  /** The start gate as last published (`publishStartable`). */
  private startablePublished = false;
  private placementKey = '';
  private epoch = 0;
  private placementMembers = new Map<string, string>();
  private sweptFor: SweptFor | undefined;
  private announcedPeers = -1;
  /** Up members but this node, for the waiters (rebuilt with the topology). */
  private upPeersNow: string[] | undefined;
  private ready = false;
  /** Set by `unready` (a graceful stop under way): readiness is never looked at again. */
  private leaving = false;
  /** Whether this node has been ready since it started (`unready` on leaving does not clear it). */
  private wasReady = false;
  /** `knowsTheCluster`, once true (until `forgetCluster`). */
  private clusterKnown = false;
  /** Sweeps planned before the first readiness, made as one full sweep at it. */
  private sweepDeferred = false;
  private readyRetry: TimerHandle | undefined;
  /** When `readyRetry` fires (clock time), and the wait before the next one (`checkReady`: doubling, back to the least on news). */
  private readyRetryAt = Infinity;
  private readyRetryMs = READY_RETRY_MIN_MS;
  private readyTimeout: TimerHandle | undefined;
  /** When `readyTimeout` fires (clock time), and what readiness lacked when last looked at (`explain` says them). */
  private readyDeadline = Infinity;
  private readyGaps: ReturnType<typeof readinessGaps> | undefined;
  /** When this node became ready (its window for holding children for joining members starts then). */
  private readyAt = -Infinity;
  /**
   * Who has been ready, and since when the members linked and never ready have been seen so (candidates.ts):
   * once ready, a member is never joining again (not ready later: leaving).
   */
  private readyTrack: ReadyTrack = NO_TRACK;
  /** The candidates with every member not ready yet (none leaving) counted as ready: what placement will have. */
  private candidatesOnceReady: readonly Candidate[] = [];
  private comingKey = '';
  /** Members joining (header: joining members), as candidates placeable once ready; empty outside the window. */
  private joining: Candidate[] = [];
  private joiningKey = '';
  /** Ids whose last reconcile held them for a joining member: reconciled again when the joining members change. */
  private readonly held = new Set<string>();
  private holdTimer: TimerHandle | undefined;
  private holdAt = Infinity;
  /**
   * Woken from a stall (header: "woken from a stall"): when this node ran
   * again, and the members whose links it must see up and synced again
   * before it starts anything; undefined when it is not waiting for that.
   */
  private woke: Wake | undefined;
  private wokeTimer: TimerHandle | undefined;
  private lastWake = -Infinity;
  /**
   * When `checkStall` last asked the link layer (clock ms). Every view and every slice refreshes the
   * inputs, so a burst of 10,000 starts asked it tens of thousands of times (a twentieth of the
   * caller's CPU, and a heap number per clock read). Its answer is a function of the clock and of
   * the failure detector's timer, which runs only between turns: asked again within the same
   * millisecond, it cannot say anything new.
   */
  private stallCheckedAt = -Infinity;
  /** OS-process children the slice under way may still start (SPAWNS_PER_SLICE), and the ids left for the next slice. */
  private spawnsLeft = SPAWNS_PER_SLICE;
  private spawnDeferred: string[] = [];
  private reconcileTimer: TimerHandle | undefined;
  private antiEntropyTimer: TimerHandle | undefined;
  private netsplitTimer: TimerHandle | undefined;
  private netsplitAt = Infinity;
  private confirmTimer: TimerHandle | undefined;
  private readonly awaySince = new Map<string, number>();
  private stopped = false;
  /** The refusals last logged while waiting for readiness (checkReady), so that each set is said once. */
  private refusedFor = '';
  /** The unresolved DNS seeds last logged while waiting for readiness, so that each set is said once. */
  private unresolvedFor = '';
  /** Counters (tests and benchmarks). */
  readonly stats = { reconciles: 0, slices: 0, urgent: 0, dirty: 0, swept: 0, antiEntropySkipped: 0, fullSweeps: 0, targetedSweeps: 0 };

  constructor(private readonly o: ReconcilerOptions) {
    this.causes.maxStartFailures = o.config.maxStartFailures;
    this.cluster = { self: o.node, candidates: [], mayRun: false, mayStart: false, claims: o.netsplit.mode === 'majority', gated: new Set() };
  }

  start(): void {
    for (const id of this.o.desired.childIds()) this.markDirty(id);
    this.checkReady();
    if (!this.ready) this.armReadyTimeout();
    this.scheduleAntiEntropy();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    for (const t of [
      this.reconcileTimer,
      this.antiEntropyTimer,
      this.readyRetry,
      this.readyTimeout,
      this.netsplitTimer,
      this.confirmTimer,
      this.holdTimer,
      this.wokeTimer,
    ])
      this.o.clock.clearTimeout(t);
  }

  /**
   * The node leaves: it takes no children any more, for good. Race "ready
   * again while leaving": a membership change during a graceful stop (an
   * observer leaving, a peer's news) looks at readiness again; without
   * `leaving` the node found itself ready, told the cluster so, and could be
   * handed back the children it was stopping.
   */
  unready(): void {
    this.leaving = true;
    this.ready = false;
    this.o.setReady(false);
    this.startablePublished = false;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** What readiness lacked when last looked at, as the node announces it (readiness.ts `waitsFor`); undefined once ready. */
  get waitingFor(): WaitsFor | undefined {
    return !this.ready && this.readyGaps !== undefined ? waitsFor(this.readyGaps, this.readyDeadline) : undefined;
  }

  /**
   * Whether this node's desired state is the cluster's: it has synced with
   * another member (their groups and first digest in) since it started or
   * last discarded its state (`forgetCluster`), or it has no member to sync
   * with (no seeds, no other member in its roster). Every member holds the
   * whole desired state, so one is enough — unlike readiness, which waits
   * for every member it knows of (a member down and not yet reaped kept a
   * new node's answers back for the whole ready timeout), and which the
   * timeout grants to a node whose seeds never answered (it then said
   * not-found of children running elsewhere: the calls tour). Sticky: a
   * spec this node lacks after that was made since, as on any node. Set
   * only by `syncProgressed`, which also says so (`learnedTheCluster`): a
   * getter that set it on the way would swallow that news, and the calls
   * and stops waiting for it would wait out their deadlines.
   */
  get knowsTheCluster(): boolean {
    return this.clusterKnown;
  }

  /** This member discarded its desired state to take the others' again: it knows the cluster once it has synced anew. */
  forgetCluster(): void {
    this.clusterKnown = false;
  }

  /**
   * The store synced with a peer, or membership or a peer's groups moved
   * (`checkReady`): when this node first knows the cluster, records it and
   * tells `learnedTheCluster`.
   */
  syncProgressed(): void {
    if (this.clusterKnown || this.stopped || !(this.syncedWithAMember() || this.alone())) return;
    this.clusterKnown = true;
    this.o.learnedTheCluster?.();
  }

  /** No seeds and no other member known or in the roster: nothing to sync with (the first node of a cluster). */
  private alone(): boolean {
    if (this.o.hasSeeds) return false;
    if (this.o.members().some((m) => m.name !== this.o.node && m.role === 'member')) return false;
    for (const [name, waited] of this.o.desired.roster()) if (name !== this.o.node && waited) return false;
    return true;
  }

  // ---- what happened -------------------------------------------------------------

  /** Registers changed in the store (locally or from a peer). */
  storeChanged(keys: readonly string[]): void {
    for (const k of keys) {
      const parsed = parseKey(k);
      if (parsed === undefined) continue;
      if (parsed.kind === 'child') this.markDirty(parsed.id);
      else if (parsed.kind === 'roster') {
        this.topologyDirty = true;
        this.checkReady();
      } else this.flagsDirty = true;
    }
    this.schedule();
  }

  /** A `run:` or `fail:` group of `id` changed. */
  groupChanged(id: string, urgent: boolean): void {
    if (!this.wasReady && !this.o.hasWaiter(id)) {
      // Before the first readiness, peers' snapshots arrive as thousands of group changes: the one
      // full sweep at readiness reads them all (see `refreshInputs`), so none is reconciled twice.
      this.sweepDeferred = true;
      // A peer's snapshot arriving is half of its sync (`synced`): a node waiting looks again soon.
      this.readinessNews();
      return;
    }
    this.markDirty(id, urgent);
    this.schedule();
  }

  /** Membership changed, or a peer's announcements, or the netsplit policy's inputs. */
  topologyChanged(): void {
    this.topologyDirty = true;
    this.checkReady();
    this.schedule();
  }

  markDirty(id: string, urgent = false): void {
    if (this.stopped) return;
    const into = urgent ? this.urgent : this.dirty;
    if (!into.has(id)) into.set(id, this.o.desired.tick);
    this.schedule();
  }

  /**
   * The replica tick up to which every change has been acted on here: the
   * oldest mark of a dirty id, or of the register of an instance still
   * starting, minus one.
   */
  settledTick(): number {
    let oldest = Infinity;
    for (const map of [this.urgent, this.dirty]) {
      const first = map.values().next();
      if (!first.done && first.value < oldest) oldest = first.value;
    }
    for (const id of this.o.instances.starting()) {
      const t = this.o.desired.childTick(id);
      if (t !== undefined && t < oldest) oldest = t;
    }
    return oldest === Infinity ? this.o.desired.tick : oldest - 1;
  }

  // ---- reads ---------------------------------------------------------------------

  /** The view of `id` now (computed afresh when anything it reads may have changed since its last reconcile). */
  view(id: string): ChildView {
    this.refreshInputs();
    return this.currentView(id);
  }

  /** The view of every child with anything known about it here (one refresh of the inputs for all). */
  *views(): IterableIterator<ChildView> {
    this.refreshInputs();
    for (const id of this.ids()) yield this.currentView(id);
  }

  /** The last reconcile's view while it is current (same placement epoch, nothing pending), else one built now; inputs refreshed by the caller. */
  private currentView(id: string): ChildView {
    const k = this.known.get(id);
    if (k && this.current(id, k.epoch) && !this.isDirty(id)) return k.view;
    return this.buildView(id, k?.view, k?.epoch);
  }

  /** Every child id with anything known about it here. */
  ids(): Set<string> {
    const ids = new Set<string>(this.o.desired.childIds());
    for (const id of this.known.keys()) ids.add(id);
    return ids;
  }

  get candidates(): readonly Candidate[] {
    this.refreshInputs();
    return this.candidatesNow;
  }

  /** The candidates as they will be once every member not ready yet is (none leaving counted): for `startChild`'s check. */
  get candidatesWhenReady(): readonly Candidate[] {
    this.refreshInputs();
    return this.candidatesOnceReady;
  }

  get paused(): boolean {
    this.refreshInputs();
    return this.pausedFlag;
  }

  draining(): string[] {
    this.refreshInputs();
    return [...this.drains].sort();
  }

  /** Whether this node may run children (netsplit policy). */
  get mayRun(): boolean {
    this.refreshInputs();
    return this.mayRunNow;
  }

  get mayStart(): boolean {
    this.refreshInputs();
    return this.mayStartNow;
  }

  /**
   * Whether this node's instances may take messages now (calls.ts): in
   * majority mode, not once its lease has run out by its own clock — judged
   * now when the netsplit policy's next change is overdue, before the timer
   * that would judge it has run. Race "calls that arrived while it was
   * frozen" (the calls tour, majority mode, real processes): a node woken
   * from a 7 s SIGSTOP read its sockets before its timers ran, and its old
   * instance handled the 17 to 27 messages sent to it while it was frozen,
   * 0.4 to 1 s after the majority's replacement had started; only then did
   * it log that its lease had lapsed.
   */
  mayDeliver(): boolean {
    if (this.o.netsplit.mode !== 'majority' || !this.o.isMember || this.stopped) return true;
    if (this.netsplitAt <= this.o.clock.now()) this.topologyDirty = true;
    return this.mayRun;
  }

  /**
   * Whether `member` is counted present though this node cannot hear it
   * (majority mode: cut off, not fenced yet): it may still run what it ran,
   * until it has stopped it by its own lease.
   */
  unheardButPresent(member: string): boolean {
    this.refreshInputs();
    return member !== this.o.node && !this.linked.has(member) && this.presentPeers.some((p) => p.name === member);
  }

  /** Up members other than observers, this node included when it is one. */
  upMembers(): string[] {
    this.refreshInputs();
    return this.candidatesNow.filter((c) => c.role === 'member' && this.linked.has(c.name)).map((c) => c.name);
  }

  /** Up members but this node (shared: do not change it). */
  upPeers(): readonly string[] {
    this.refreshInputs();
    this.upPeersNow ??= this.upMembers().filter((n) => n !== this.o.node);
    return this.upPeersNow;
  }

  /**
   * The last caller waiting on `id` is gone. Its last reconcile stored no
   * signature (a waited-on id is never skipped), so every sweep would
   * reconcile it again until something else did: 10,000 children started
   * together cost the first anti-entropy pass after them 10,000 reconciles.
   * Unless something is pending for it, its view is current: sign it now.
   */
  waitersGone(id: string): void {
    const k = this.known.get(id);
    if (k === undefined || k.signed || !this.current(id, k.epoch) || this.isDirty(id)) return;
    if (this.sign(k, id)) this.unsigned.delete(id);
  }

  /**
   * Whether nothing waits for a reconcile here: no slice scheduled, no id
   * marked, no change of membership or flags not yet looked at, no sweep
   * under way — what this node has learned is acted on, its events emitted.
   */
  get settled(): boolean {
    return (
      this.reconcileTimer === undefined && !this.topologyDirty && !this.flagsDirty && this.urgent.size === 0 && this.dirty.size === 0 && this.sweep.length === 0
    );
  }

  /** Whether `id` waits for a reconcile (then its waiters are looked at after it). */
  isDirty(id: string): boolean {
    return this.dirty.has(id) || this.urgent.has(id);
  }

  /** What keeps children from moving or starting, in words. */
  waiting(): string[] {
    this.refreshInputs();
    const out: string[] = [];
    if (this.o.netsplit.mode === 'majority' && this.netsplitInputs) out.push(this.o.netsplit.describeSelf(this.netsplitInputs));
    if (!this.ready && this.o.isMember) out.push(notReadyWords(this.readyGaps, this.readyDeadline));
    for (const why of this.presenceWhy.values()) if (why) out.push(why);
    if (this.joining.length > 0)
      out.push(
        `${this.joining.map((c) => c.name).join(', ')} joining (linked, not ready yet): children that would be theirs and run ` +
          `nowhere wait for them rather than start here and move, until ${new Date(this.readyAt + this.o.config.readyTimeoutMs).toISOString()} at the latest`,
      );
    // A gated member we cannot hear is waited for too, but what keeps it is its absence, said above.
    for (const name of [...this.cluster.gated].filter((n) => this.linked.has(n)).sort())
      out.push(`${name} is ready but may not start children yet (not every peer has heard of its readiness): stop-first moves to it wait, running`);
    return out;
  }

  // ---- reconciling ---------------------------------------------------------------

  private schedule(): void {
    if (this.stopped || this.reconcileTimer) return;
    this.reconcileTimer = this.o.clock.setTimeout(() => {
      this.reconcileTimer = undefined;
      // Real elapsed time for metrics only; decisions never read it.
      const began = this.o.onSlice ? performance.now() : 0;
      try {
        this.slice();
      } catch (err) {
        this.o.log.error({ err }, 'reconcile failed');
      }
      this.o.onSlice?.((performance.now() - began) / 1000);
      this.o.desired.replication.kick();
    }, 0);
  }

  private scheduleAntiEntropy(): void {
    this.antiEntropyTimer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.antiEntropy();
      this.scheduleAntiEntropy();
    }, this.o.config.antiEntropyIntervalMs);
  }

  /**
   * The safety net: a sweep over every id, skipping those whose inputs are
   * as their last reconcile saw them; and the collection of tombstones and
   * of members away for good (tombstones.ts).
   */
  antiEntropy(): void {
    try {
      this.collect();
    } catch (err) {
      this.o.log.error({ err }, 'tombstone collection failed');
    }
    this.refreshInputs();
    const done = this.fullSweepDone;
    const now = this.digest();
    if (done !== undefined && done.epoch === now.epoch && done.tick === now.tick && done.groups === now.groups && this.sweep.length === 0) {
      // Nothing any signature reads has changed since the last full sweep ended: it would skip every id but these.
      this.stats.antiEntropySkipped++;
      for (const id of this.unsigned) this.markDirty(id);
      return;
    }
    this.fullSweep = true;
    this.flagsDirty = true;
    this.schedule();
  }

  private digest(): Digest {
    return { epoch: this.epoch, tick: this.o.desired.tick, groups: this.o.live.changes };
  }

  /** Marks, drops and forgets what tombstones.ts says may go now. */
  private collect(): void {
    this.refreshInputs();
    const now = this.o.clock.now();
    const desired = this.o.desired;
    const roster = desired.roster();
    const others = [...roster].filter(([name, member]) => member && name !== this.o.node).map(([name]) => name);
    const allLinked = others.every((n) => this.linked.has(n));
    let held = Infinity;
    for (const n of others) held = Math.min(held, desired.syncedTick(n));
    const observer = !this.o.isMember;
    let marked = 0;
    let dropped = 0;
    for (const id of [...desired.deadIds()]) {
      const r = desired.child(id);
      if (r.specs.length > 0 || r.floor === undefined) continue;
      const tick = desired.childTick(id) ?? 0;
      const step = tombstoneStep(r, { now, ttlMs: this.o.config.tombstoneTtlMs, everyoneHolds: allLinked && tick <= held, observer });
      if (step === 'mark') {
        desired.markCollected(id);
        marked++;
      } else if (step === 'drop') {
        desired.drop(key.child(id));
        dropped++;
      }
    }
    if (marked + dropped > 0) this.o.log.debug({ marked, dropped }, 'tombstones collected');
    if (observer) return;
    for (const name of forgettable({
      self: this.o.node,
      roster,
      linked: this.linked,
      awaySince: this.awaySince,
      now,
      forgetAfterMs: this.o.config.forgetAfterMs,
    })) {
      this.o.log.warn(
        { member: name, awayMs: now - (this.awaySince.get(name) ?? now) },
        `forgetting member ${name}: away for longer than forgetAfterMs; tombstones no longer wait for it, and if it comes back with older state it discards it`,
      );
      desired.setRoster(name, false);
    }
  }

  /** Recomputes flags and topology if something changed since; plans a sweep when placement inputs did. */
  private refreshInputs(): void {
    if (this.stopped) return;
    this.checkStall();
    if (this.announcementsChanged()) this.topologyDirty = true;
    if (!this.flagsDirty && !this.topologyDirty) return;
    const gainsBefore = this.gainInputs();
    if (this.flagsDirty) {
      this.drains = this.o.desired.draining();
      this.pausedFlag = this.o.desired.paused;
      // Drain and pause changes as events; before readiness, what arrives is the cluster's past (events.ts).
      const flags = this.o.desired.flags();
      if (this.ready) for (const e of flagEvents(this.flagsSeen, flags)) this.o.emit(e);
      this.flagsSeen = flags;
    }
    this.refreshTopology();
    this.flagsDirty = false;
    this.topologyDirty = false;
    this.gains = nextGains(this.gains, gainsBefore, this.gainInputs());
    const key = JSON.stringify([[...this.placementMembers.values()], this.mayRunNow, this.mayStartNow, this.pausedFlag, [...this.drains].sort()]);
    const moved = key !== this.placementKey;
    if (moved) {
      this.placementKey = key;
      this.epoch++;
    }
    if (!this.wasReady) {
      // Race "sweeping before it can act": until its first readiness a node holds no instance and
      // starts nothing, and what its peers send arrives as dirty ids, reconciled one by one (the
      // store's acknowledgements wait for those). Every peer that links changes placement here, and
      // a sweep of every id for each (19 at 20 members) cost a restarted node seconds it needed to
      // answer handshakes. One full sweep when it becomes ready covers them all.
      if (moved) this.validSince = this.epoch;
      if (moved || this.fullSweep) this.sweepDeferred = true;
      this.fullSweep = false;
      return;
    }
    if (this.sweepDeferred) {
      this.sweepDeferred = false;
      this.fullSweep = true;
    }
    if (!moved && !this.fullSweep && this.sweep.length > 0) {
      // Race "a refresh that moves nothing, mid-sweep": a link coming up, an observer joining or
      // leaving, a flag that places nothing differently. No placement input changed (same epoch),
      // so the sweep under way is still the right one: replacing it would only walk every id again,
      // and a full sweep replaced never counts as done, so the next anti-entropy pass would walk
      // them all once more (the idle cost at 10,000 children).
      return;
    }
    const sweptFor: SweptFor = { members: this.placementMembers, mayRun: this.mayRunNow, mayStart: this.mayStartNow, paused: this.pausedFlag };
    const change = changeOf(this.sweptFor, sweptFor, this.fullSweep);
    this.sweptFor = sweptFor;
    if (change !== undefined) {
      // Races "a member died" and "a node restarted into a loaded cluster" (sweep-plan.ts): only the ids
      // this change can move are swept; every other owner stands, and so do their views and signatures
      // (`validSince` stays; the ids that may move are `targeted` until reconciled).
      // Race "a member change mid-sweep": a sweep under way still looks at every id it has not
      // reached, under the new inputs; the ids it has passed that this change can move join it (a
      // node just ready, sweeping 20,000 ids while its peers' links come up one by one, used to
      // restart its sweep from the first id at each, dozens of times).
      const known = this.known;
      const desired = this.o.desired;
      const ids = targetedIds(change, {
        self: this.o.node,
        candidates: this.candidatesNow,
        known,
        unviewed: function* (this: void) {
          for (const id of desired.childIds()) if (!known.has(id)) yield id;
        },
        instances: this.o.instances.ids(),
        ownerOf: (id) => known.get(id)?.view.owner,
      });
      this.stats.targetedSweeps++;
      if (this.sweep.length > 0) {
        // Ids passed earlier in this sweep must not count as already seen by it (`gen`).
        this.sweepGen++;
        for (const id of ids) {
          this.sweep.push(id);
          this.targeted.add(id);
        }
        return;
      }
      this.sweep = ids;
      this.targeted = new Set(ids);
    } else {
      this.stats.fullSweeps++;
      if (moved) {
        this.validSince = this.epoch;
        this.targeted.clear();
      }
      // A new sweep replaces one in progress: it covers every id again, under the new topology;
      // the anti-entropy sweep also the ids known only from pg (an instance whose spec is gone).
      const ids = this.ids();
      for (const id of this.o.instances.ids()) ids.add(id);
      if (this.fullSweep) for (const id of this.o.live.groupIds()) ids.add(id);
      this.sweep = [...ids];
    }
    this.sweepAt = 0;
    this.sweepGen++;
    // Race "a sweep replaced half-way": only a full sweep that runs to its end counts as done.
    this.fullSweepFrom = this.fullSweep ? this.digest() : undefined;
    this.fullSweep = false;
  }

  /**
   * One slice: at most RECONCILE_SLICE ids, then the rest on the next timer
   * turn. Urgent ids first, then dirty ones, then the sweep.
   */
  private slice(): void {
    if (this.stopped) return;
    this.refreshInputs();
    this.stats.slices++;
    this.spawnsLeft = SPAWNS_PER_SLICE;
    let budget = RECONCILE_SLICE;
    for (const map of [this.urgent, this.dirty]) {
      for (const id of map.keys()) {
        if (budget <= 0) break;
        budget--;
        map.delete(id);
        if (map === this.urgent) {
          this.stats.urgent++;
          // One reconcile per id, however it was marked: a turn that brings a child's instance and
          // its register (the owner was the caller: one frame) marks it urgent and plain.
          this.dirty.delete(id);
        } else this.stats.dirty++;
        this.reconcileOne(id);
      }
    }
    while (budget-- > 0 && this.sweepAt < this.sweep.length) {
      const id = this.sweep[this.sweepAt++]!;
      const k = this.known.get(id);
      // Race "urgent before the sweep": after a member died, its orphans are reconciled first as urgent
      // (their instances went) under the new inputs; the sweep of the ids it owned follows and would
      // look at each again — at an orphan whose instance is still starting here (no signature) for
      // nothing. Whatever changed for an id since its reconcile marked it dirty or planned a new sweep.
      if (k !== undefined && (k.gen === this.sweepGen || this.unchangedSince(k, id))) continue;
      this.stats.swept++;
      this.reconcileOne(id);
    }
    if (this.sweepAt >= this.sweep.length) {
      this.sweep = [];
      this.sweepAt = 0;
      this.targeted.clear(); // each was reconciled, here or since the sweep was planned
      if (this.fullSweepFrom !== undefined) this.fullSweepDone = this.fullSweepFrom;
      this.fullSweepFrom = undefined;
    }
    // Marked only now: marked during the slice, they would be reconciled again in it (the loop reads the dirty maps as they grow).
    if (this.spawnDeferred.length > 0) {
      const deferred = this.spawnDeferred;
      this.spawnDeferred = [];
      for (const id of deferred) this.markDirty(id);
    }
    if (this.urgent.size > 0 || this.dirty.size > 0 || this.sweep.length > 0) this.schedule();
  }

  private reconcileOne(given: string): void {
    this.stats.reconciles++;
    this.targeted.delete(given);
    const before = this.known.get(given);
    // One string per id: ids reach here as new strings cut from group names and store keys, and a
    // record keyed by one and a view holding another kept two more copies of every id beside the
    // spec's own (1 MB at 20,000 children). The spec's is the one kept, then the record's.
    const register = this.o.desired.child(given);
    const id = before?.view.id ?? liveSpec(register)?.spec.id ?? given;
    const epoch = this.epoch;
    const view = this.buildView(id, before?.view, before?.epoch, register);
    this.noteReplacedSpec(id, before?.view.live, view.live);
    const { events, history } = diffChild(before, view, this.o.clock.now(), this.causeNow);
    for (let i = 0; i < events.length; i++) this.o.emit(events[i]!);
    this.act(id, decide(view, this.o.instances.instance(id), this.cluster, this.o.instances.claimOf(id)), view);
    if (view.heldFor !== undefined) this.held.add(id);
    else this.held.delete(id);
    if (view.register.specs.length === 0 && view.register.floor === undefined && view.runners.length === 0 && !this.o.instances.has(id)) {
      this.known.delete(id);
      this.unsigned.delete(id);
    } else {
      // Looked up again, not `before`: acting may have reconciled or forgotten the id meanwhile.
      let k = this.known.get(id);
      // The epoch the view was placed under (acting cannot move it, but a record must never claim a newer one).
      if (k === undefined) this.known.set(id, (k = new Known(history.view, history.lastRunner, history.leftBecause, epoch, this.sweepGen)));
      else {
        k.view = history.view;
        k.lastRunner = history.lastRunner;
        k.leftBecause = history.leftBecause;
        k.epoch = epoch;
        k.gen = this.sweepGen;
      }
      if (this.sign(k, id)) this.unsigned.delete(id);
      else this.unsigned.add(id);
    }
    this.o.reconciled(id);
  }

  /**
   * Race "one id, two specs, started apart": two sides of a split (mode
   * available) each accept a start of the same id with a different spec; at
   * the heal the first one started wins (registers.ts) and the other's
   * instances are replaced. Its start had been answered ok, and nothing said
   * it was dropped (an outsider's tour: `pogo ctl start` with args
   * majority-side on n1, minority-side on n3, both exit 0; after the heal a
   * call answered minority-side everywhere). The live spec going back to an
   * older revision with another spec is that, and only that: logged once,
   * on each node that held the dropped one.
   */
  private noteReplacedSpec(id: string, was: SpecEntry | undefined, now: SpecEntry | undefined): void {
    if (was === undefined || now === undefined || now.rev >= was.rev || sameSpec(was.spec, now.spec)) return;
    this.o.log.warn(
      { id, kept: now.rev, dropped: was.rev },
      `${id} was started with two different specs apart (on ${verNode(now.rev)} and on ${verNode(was.rev)}, during a netsplit): ` +
        `the first started wins, the one started on ${verNode(was.rev)} is dropped and its instances replaced`,
    );
  }

  private act(id: string, action: Action, view: ChildView): void {
    const at = this.o.clock.now();
    switch (action.do) {
      case 'nothing':
        return;
      case 'start':
        if (isCommandStart(action.entry.spec.start) && this.spawnsLeft-- <= 0) {
          this.spawnDeferred.push(id); // this slice has spawned its share: the next one starts it
          return;
        }
        this.o.instances.start(id, action.entry);
        return;
      case 'claim':
        this.o.instances.claim(id, action.rev, this.presentPeers);
        return;
      case 'unclaim':
        this.o.instances.unclaim(id);
        return;
      case 'stop':
        // Without a lease (majority mode) every child here must be gone within the stop time the others wait for.
        this.o.instances.stopInstance(id, action.why, this.mayRunNow ? undefined : this.o.config.leaseMs);
        return;
      case 'stop-duplicate': {
        const mine = view.runners.find((r) => r.node === this.o.node);
        this.o.instances.stopInstance(id, `duplicate: ${action.survivor.node} keeps ${action.survivor.pid}`);
        // The stopping node reports it: it alone knows for sure which instance won.
        if (mine && action.report)
          this.o.emit({
            type: 'duplicate-resolved',
            id,
            survivor: { node: action.survivor.node, pid: action.survivor.pid },
            stopped: [{ node: mine.node, pid: mine.pid }],
            at,
          });
        return;
      }
      case 'move':
        if (!this.o.instances.takeMoveToken()) {
          this.o.instances.deferMove(id);
          return;
        }
        this.o.instances.stopInstance(id, `moving to ${action.to}`, undefined, action.to);
        return;
    }
  }

  /**
   * Builds the view of `id` from the store and pg, placing it under the
   * current inputs. `placedUnder`: the epoch `previous` was placed under; `register`: its register, when the caller has it already.
   * Placement is a function of the id, its live entry (spec and pin), its
   * failed starts, the pause flag (then also its runners) and the candidates,
   * and every change of the candidates that can place anything differently
   * moves the epoch (`refreshInputs`). So when the epoch, the live entry (the
   * same frozen object) and the absence of failed starts are as they were,
   * and rebalancing is not paused, the previous owner stands and is not
   * computed again: most reconciles of a child are for its instances (its
   * start, a move's stop and start), and HRW over 20 candidates was a fifth
   * of a member's reconciling while a node restarted into 20 × 20,000.
   */
  private buildView(id: string, previous: ChildView | undefined, placedUnder: number | undefined, register = this.o.desired.child(id)): ChildView {
    const live = liveSpec(register);
    const me = this.o.node;
    const runners = this.o.live.runners(id, this.visible);
    const claims = this.cluster.claims ? this.o.live.claims(id, this.visible) : NO_CLAIMS;
    const failures = this.o.live.failures(id, live?.rev);
    let owner: string | undefined;
    let by: ChildView['by'] = 'none';
    let resumeTo: string | undefined;
    if (
      live !== undefined &&
      previous !== undefined &&
      placedUnder === this.epoch &&
      previous.live === live &&
      failures.size === 0 &&
      previous.failures.size === 0 &&
      !this.pausedFlag
    ) {
      owner = previous.owner;
      by = previous.by;
    } else if (live) {
      let counts: Map<string, number> = NO_FAILURES;
      if (failures.size > 0) {
        counts = new Map();
        for (const [node, f] of failures) counts.set(node, f.failures);
      }
      ({ owner, by, resumeTo } = placeChild(
        { id, spec: live.spec, candidates: this.candidatesNow, pin: live.pin?.node, failures: counts, maxStartFailures: this.o.config.maxStartFailures },
        runners,
        this.pausedFlag,
      ));
    }
    let cause = previous?.cause ?? 'join';
    if (previous === undefined || previous.owner !== owner || previous.by !== by) {
      cause = causeOf({ failures, runners }, previous?.owner, owner, previous?.live?.pin?.node, live?.pin?.node, this.causes);
    }
    let heldFor: string | undefined;
    let onceReady: string | undefined;
    const holding = this.joining.length > 0 && live !== undefined && owner === me && runners.length === 0 && !this.o.instances.has(id);
    const waiting = live !== undefined && owner === undefined && this.candidatesOnceReady !== this.candidatesNow;
    if (holding || waiting) {
      const counts = new Map<string, number>();
      for (const [node, f] of failures) counts.set(node, f.failures);
      const input = {
        id,
        spec: live.spec,
        candidates: this.candidatesNow,
        pin: live.pin?.node,
        failures: counts,
        maxStartFailures: this.o.config.maxStartFailures,
      };
      if (holding) heldFor = joiningOwner(input, this.joining);
      else onceReady = placeOwner({ ...input, candidates: this.candidatesOnceReady });
    }
    const view: ChildView = { id, register, live, runners, claims, failures, owner, by, cause };
    if (resumeTo === undefined && heldFor === undefined && onceReady === undefined) return view;
    return {
      ...view,
      ...(resumeTo === undefined ? {} : { resumeTo }),
      ...(heldFor === undefined ? {} : { heldFor }),
      ...(onceReady === undefined ? {} : { onceReady }),
    };
  }

  /** The latest gain of each node (events.ts), for the reason of moves towards it. */
  private gains: Gains = NO_GAINS;

  private gainInputs(): GainInputs {
    const eligible = new Set<string>();
    for (const c of this.candidatesNow) if (c.role === 'member' && c.up && c.ready && !c.draining) eligible.add(c.name);
    return { eligible, drains: this.drains, paused: this.pausedFlag };
  }

  /** What the cause of an owner change depends on (events.ts), read from the current topology. */
  private readonly causes: CauseContext = {
    maxStartFailures: 0,
    draining: (node) => this.drains.has(node),
    gain: (node) => gainOf(this.gains, node),
    returning: (node) => returning(this.gains, node),
    // An observer: what the members saw, not its own links (candidates.ts `causeStateOf`, race "a heal told as a failure").
    stateOf: (node, to) => causeStateOf(this.memberByName.get(node), this.o.node, this.o.observer ? { cutOff: this.cutOff, away: this.away, to } : undefined),
  };

  /** The reason of a move seen before this node's own placement of it (events.ts). */
  private readonly causeNow = (v: ChildView, from: string, to: string): MoveReason => causeOf(v, from, to, undefined, undefined, this.causes);

  /** What `decide` needs of the cluster: rebuilt when the topology is. */
  private cluster: ClusterView = { self: '', candidates: [], mayRun: false, mayStart: false, claims: false, gated: new Set() };
  /** The members a claim must be heard by (majority mode): every present member but this node, linked (the start gate makes sure). */
  private presentPeers: Array<{ name: string; incarnation: string }> = [];

  /**
   * The local part of a signature: this node's instance (its pid, or
   * undefined without one), or `false` when the id must not be skipped — a
   * caller waits on it, its local instance is not simply running, or this
   * node holds a claim to start it.
   */
  private localMark(id: string): string | undefined | false {
    if (this.o.hasWaiter(id) || this.o.instances.claimOf(id) !== undefined) return false;
    if (!this.o.instances.has(id)) return undefined;
    return this.o.instances.runningPid(id) ?? false;
  }

  /**
   * Stores in `k` the signature of `id`: everything a reconcile of it reads
   * that can change without a clock. False, and `k` unsigned (never
   * skipped), when `localMark` says so.
   */
  private sign(k: Known, id: string): boolean {
    const local = this.localMark(id);
    k.signed = local !== false;
    if (local === false) return false;
    k.sigEpoch = this.epoch;
    k.sigTick = this.o.desired.childTick(id);
    k.sigRun = this.o.live.runStamp(id);
    k.sigFail = this.o.live.failStamp(id);
    k.sigClaim = this.o.live.claimStamp(id);
    k.sigLocal = local;
    return true;
  }

  /** Whether what was computed for `id` under `epoch` still holds for placement (`validSince`). */
  private current(id: string, epoch: number): boolean {
    return epoch >= this.validSince && !this.targeted.has(id);
  }

  /** Whether the signature `k` holds for `id` is what `sign` would store now, compared field by field (a sweep asks this of every id). */
  private unchangedSince(k: Known, id: string): boolean {
    if (!k.signed || !this.current(id, k.sigEpoch)) return false;
    const local = this.localMark(id);
    if (local === false || local !== k.sigLocal) return false;
    return (
      k.sigTick === this.o.desired.childTick(id) &&
      k.sigRun === this.o.live.runStamp(id) &&
      k.sigFail === this.o.live.failStamp(id) &&
      k.sigClaim === this.o.live.claimStamp(id)
    );
  }

  // ---- topology -------------------------------------------------------------------

  /**
   * Peers whose groups we hold: a peer counts as up for placement only once
   * its snapshot has arrived. Whether one has announced the scope since last
   * asked (a count will do: a link going down is a topology change of its own).
   */
  private announcementsChanged(): boolean {
    let count = 0;
    for (const n of this.linked) if (n !== this.o.node && this.o.announced(n)) count++;
    if (count === this.announcedPeers) return false;
    this.announcedPeers = count;
    return true;
  }

  private refreshTopology(): void {
    this.upPeersNow = undefined;
    const members = this.o.members();
    const me = this.o.node;
    this.memberByName = new Map(members.map((m) => [m.name, m]));
    this.linked = linkedNames(members);
    // Since when each roster member has been away, as this node has seen it (tombstones.ts: forgetting).
    const now = this.o.clock.now();
    for (const [name, member] of this.o.desired.roster()) {
      if (!member || name === me || this.linked.has(name)) this.awaySince.delete(name);
      else if (!this.awaySince.has(name)) this.awaySince.set(name, now);
    }
    const inputs = this.buildNetsplitInputs(members);
    this.netsplitInputs = inputs;
    const couldRun = this.mayRunNow;
    this.mayRunNow = this.o.isMember && this.o.netsplit.mayRun(inputs);
    if (couldRun && !this.mayRunNow && this.o.netsplit.mode === 'majority') {
      this.o.log.warn(
        {},
        'majority lease lapsed: no majority has confirmed hearing this node; stopping ' +
          'every child here (killed if still running after the stop time) and starting nothing',
      );
      this.o.instances.hurry(this.o.config.leaseMs);
      this.o.instances.unclaimAll();
    }
    const presence = new Map<string, boolean>();
    this.presenceWhy = new Map();
    for (const m of inputs.members) {
      const p = this.o.netsplit.presence(inputs, m);
      presence.set(m.name, p.present);
      // What `explain` lists as waiting: a member counted present though this node cannot hear it keeps its
      // children where they are. One counted absent keeps nothing waiting (the tour: every explain said
      // "waiting: not linked" while a dead member's children ran elsewhere).
      if (p.why && p.present && m.state === 'down') this.presenceWhy.set(m.name, p.why);
    }
    // An observer's view: members the others cannot hear are not up for it either (candidates.ts: cut off).
    // Of the members the cluster counts, those the observer cannot reach among them (race "an observer that lost one of
    // the majority fences the other", candidates.ts `awayButCounted`).
    this.away = this.o.observer ? awayButCounted(members) : NO_CUT_OFF;
    this.cutOff = this.o.observer ? cutOffMembers(members, this.away) : NO_CUT_OFF;
    this.fenced = this.cutOff.size === 0 ? NO_CUT_OFF : fencedMembers(members, this.cutOff);
    // Race "link up before its groups" (candidates.ts): a linked peer is up once its snapshot has arrived.
    const { candidates, up } = candidatesOf(members, {
      self: me,
      linked: this.linked,
      announced: (peer) => this.o.announced(peer),
      wasUp: this.upIncarnations,
      presence,
      selfReady: this.ready && this.o.isMember,
      drains: this.drains,
      cutOff: this.cutOff,
    });
    this.candidatesNow = candidates;
    this.upIncarnations = up;
    this.placementMembers = memberKeys(this.candidatesNow);
    this.refreshJoining(members, now);
    this.mayStartNow = this.computeMayStart(members, presence);
    this.publishStartable();
    const gated = gatedMembers(members, me);
    const opened = [...this.cluster.gated].filter((name) => !gated.has(name));
    this.cluster = {
      self: me,
      candidates: this.candidatesNow,
      mayRun: this.mayRunNow,
      mayStart: this.mayStartNow,
      claims: this.o.netsplit.mode === 'majority',
      gated,
    };
    // An owner's start gate opened: the stop-first moves to it that waited go now. Their signatures
    // do not cover a peer's gate, so a sweep would pass them by; they are looked at again as dirty.
    if (opened.length > 0) {
      for (const id of this.o.instances.ids()) {
        const owner = this.known.get(id)?.view.owner;
        if (owner !== undefined && opened.includes(owner)) this.markDirty(id);
      }
    }
    const before = this.presentPeers;
    this.presentPeers = members
      .filter((m) => m.name !== me && m.role === 'member' && m.status !== 'left' && (presence.get(m.name) ?? false))
      .map((m) => ({ name: m.name, incarnation: m.incarnation }));
    this.o.instances.presentChanged(this.presentPeers);
    if (before.length !== this.presentPeers.length || before.some((p, i) => p.name !== this.presentPeers[i]!.name)) this.o.presenceChanged?.();
    this.armNetsplitTimer(inputs);
  }

  /**
   * The members joining now (header: joining members), and a timer for the
   * moment the next one stops counting; when the set changes, the ids held
   * for the old set are reconciled again.
   */
  private refreshJoining(members: readonly Member[], now: number): void {
    const me = this.o.node;
    this.readyTrack = trackNotReady(this.readyTrack, members, me, this.linked, now);
    const selfComing = this.o.isMember && !this.ready && !this.leaving && this.refusedFor === '';
    const onceReady = onceReadyCandidates(this.candidatesNow, this.memberByName, this.readyTrack, me, selfComing);
    this.candidatesOnceReady = onceReady;
    const comingKey =
      onceReady === this.candidatesNow
        ? ''
        : onceReady
            .filter((c, i) => c !== this.candidatesNow[i])
            .map((c) => c.name)
            .join(',');
    if (comingKey !== this.comingKey) {
      // Whether a child with no owner is pending or unplaceable changed: its view is built again (placement's epoch does not cover it).
      this.comingKey = comingKey;
      for (const [id, k] of this.known) if (k.view.owner === undefined && k.view.live !== undefined) this.markDirty(id);
    }
    const { joining, next } = joiningMembers(this.candidatesNow, this.memberByName, this.readyTrack, {
      now,
      readyAt: this.readyAt,
      readyTimeoutMs: this.o.config.readyTimeoutMs,
      active: this.o.isMember && this.ready,
    });
    this.joining = joining;
    const key = joining.map((c) => c.name).join(',');
    if (key !== this.joiningKey) {
      this.joiningKey = key;
      for (const id of this.held) this.markDirty(id);
      this.held.clear();
    }
    if (next === this.holdAt) return;
    this.o.clock.clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.holdAt = next;
    if (next === Infinity) return;
    this.holdTimer = this.o.clock.setTimeout(
      () => {
        this.holdTimer = undefined;
        this.holdAt = Infinity;
        this.topologyChanged();
      },
      Math.max(1, next - now),
    );
  }

  /**
   * Tells the cluster whether this node's start gate is open (member
   * metadata `startable`), when that changed: a peer that runs a stop-first
   * child this node owns keeps it running until then (decide.ts). The node
   * announces `startable: false` with every readiness change (node.ts), so
   * `setReady` resets what was published.
   */
  private publishStartable(): void {
    if (!this.o.isMember || this.leaving || this.mayStartNow === this.startablePublished) return;
    this.startablePublished = this.mayStartNow;
    if (this.mayStartNow) this.o.log.info({ inMs: this.o.clock.now() - this.o.startedAt }, 'starting children: every peer has heard this node is ready');
    this.o.setStartable(this.mayStartNow);
  }

  /**
   * The start gate: ready, allowed to run, and in majority mode linked to
   * and synced with every member still present (race "heal reaches one
   * peer first"). Available mode: readiness alone (a member that is not
   * linked is absent, so nothing of it can be overlooked).
   */
  private computeMayStart(members: readonly Member[], presence: ReadonlyMap<string, boolean>): boolean {
    if (!this.o.isMember || !this.ready || !this.mayRunNow) return false;
    if (this.woke !== undefined && !this.resynced(members)) return false;
    if (!this.o.readyConfirmed()) {
      // Race "two nodes ready at once": wait until the peers have heard of our readiness (node.ts); look again soon.
      this.armConfirmPoll();
      return false;
    }
    if (this.o.netsplit.mode !== 'majority') return true;
    for (const m of members) {
      if (m.name === this.o.node || m.role !== 'member' || m.status === 'left') continue;
      if (!(presence.get(m.name) ?? false)) continue;
      if (!this.linked.has(m.name) || !this.synced(m.name)) return false;
    }
    return true;
  }

  /**
   * Race "woken from a stall": notices, when the inputs are read, that this
   * node has just run again after a stall about as long as its heartbeat
   * timeout (SIGSTOP, a paused VM, a swap storm, a long busy stretch), and
   * watches its links for a heartbeat interval: the ones that go down in
   * that stall (its peers timed it out, or it them on waking) close its start
   * gate until they are back and synced (`resynced`). A stall that no link
   * went down in (a busy node whose peers waited) changes nothing: what they
   * sent meanwhile is all in its sockets, in order.
   */
  private checkStall(): void {
    if (this.woke !== undefined || !this.ready || !this.o.isMember || this.o.ownStallMs === undefined) return;
    const now = this.o.clock.now();
    if (now === this.stallCheckedAt) return;
    this.stallCheckedAt = now;
    const woke = wokeFromStall(this.o.ownStallMs(), now, this.lastWake, this.o.config);
    if (woke === undefined) return;
    this.lastWake = now;
    this.woke = woke;
    this.topologyDirty = true;
    const recheck = (): void => {
      this.wokeTimer = undefined;
      const woke = this.woke;
      if (woke !== undefined && expired(woke, this.o.clock.now(), this.o.config.readyTimeoutMs)) {
        this.o.log.warn({ awaiting: [...woke.awaiting].sort() }, 'starting children again although not every peer has resynced since the stall');
        this.woke = undefined;
      } else if (woke !== undefined) {
        this.wokeTimer = this.o.clock.setTimeout(recheck, Math.max(1, this.o.config.readyTimeoutMs - (this.o.clock.now() - woke.at)));
      }
      this.topologyChanged();
    };
    // At the end of the watch (a heartbeat interval), and at the ready timeout.
    this.wokeTimer = this.o.clock.setTimeout(recheck, this.o.config.heartbeatIntervalMs);
  }

  /** Whether this node's start gate may be open after a stall (`checkStall`; wake.ts `resync`), ending the watch when it is over. */
  private resynced(members: readonly Member[]): boolean {
    const woke = this.woke;
    if (woke === undefined) return true;
    const now = this.o.clock.now();
    const step = resync(woke, members, this.o.node, now, this.o.config.heartbeatIntervalMs, (peer) => this.synced(peer));
    if (step.firstDown)
      this.o.log.warn(
        { stalledMs: woke.stalledMs },
        'this node ran again after a stall about as long as its heartbeat timeout, and links went down in it: ' +
          'starting nothing until they are back and synced',
      );
    this.woke = step.wake;
    if (step.wake !== undefined) return step.open;
    this.o.clock.clearTimeout(this.wokeTimer);
    this.wokeTimer = undefined;
    if (woke.awaiting.size > 0) this.o.log.info({ afterMs: now - woke.at }, 'resynced with the peers after the stall: starting children again');
    return true;
  }

  /** Whether this node is linked to and synced with another member now (its desired state is then the cluster's too). */
  private syncedWithAMember(): boolean {
    return this.o.members().some((m) => m.name !== this.o.node && m.role === 'member' && isLinked(m.status) && this.synced(m.name));
  }

  /** Whether `peer`'s groups (its pg snapshot) and desired state (the store's first digest) have arrived since its link came up. */
  private synced(peer: string): boolean {
    return this.o.announced(peer) && this.o.desired.caughtUpWith(peer);
  }

  private buildNetsplitInputs(members: readonly Member[]): NetsplitInputs {
    return netsplitInputs(members, { name: this.o.node, startedAt: this.o.startedAt, leaseMs: this.o.config.leaseMs }, this.o.clock.now());
  }

  private armConfirmPoll(): void {
    if (this.confirmTimer || this.stopped) return;
    this.confirmTimer = this.o.clock.setTimeout(
      () => {
        this.confirmTimer = undefined;
        this.topologyChanged();
      },
      Math.max(1, Math.min(this.o.config.heartbeatIntervalMs, 20)),
    );
  }

  private armNetsplitTimer(inputs: NetsplitInputs): void {
    const next = this.o.netsplit.nextChangeAt(inputs);
    if (next === undefined || next === this.netsplitAt) return;
    this.o.clock.clearTimeout(this.netsplitTimer);
    this.netsplitAt = next;
    this.netsplitTimer = this.o.clock.setTimeout(
      () => {
        this.netsplitTimer = undefined;
        this.netsplitAt = Infinity;
        this.topologyChanged();
      },
      Math.max(1, next - this.o.clock.now()),
    );
  }

  // ---- readiness -----------------------------------------------------------------

  private armReadyTimeout(): void {
    this.readyDeadline = this.o.clock.now() + this.o.config.readyTimeoutMs;
    this.readyTimeout = this.o.clock.setTimeout(() => this.checkReady(true), this.o.config.readyTimeoutMs);
  }

  /** `retry`: called by `readyRetry` itself, with no news (the next look waits longer). */
  private checkReady(timedOut = false, retry = false): void {
    this.syncProgressed();
    if (this.ready || this.stopped || this.leaving) return;
    const members = this.o.members();
    const input: ReadinessInput = {
      self: this.o.node,
      members,
      roster: this.o.desired.roster(),
      isMember: this.o.isMember,
      observer: this.o.observer,
      hasSeeds: this.o.hasSeeds,
      dialFailed: (address) => this.o.dialFailed(address),
      synced: (peer) => this.synced(peer),
      restoredState: this.o.restoredState?.() ?? false,
      leased: this.o.netsplit.mode !== 'majority' || !this.o.isMember || this.o.netsplit.mayRun(this.buildNetsplitInputs(members)),
      timedOut,
      refusals: () => this.o.refusals(),
      unresolvedSeeds: () => this.o.unresolvedSeeds?.() ?? [],
    };
    const gaps = readinessGaps(input);
    const verdict = readiness(input, gaps);
    this.readyGaps = verdict.verdict === 'ready' || verdict.verdict === 'ready-by-timeout' ? undefined : gaps;
    // Said to the cluster too (member metadata, protocol 2.7): the desktop app names whom a member waits for.
    this.o.setWaitsFor?.(this.readyGaps && waitsFor(this.readyGaps, this.readyDeadline));
    if (verdict.verdict === 'unresolved') {
      if (verdict.why !== this.unresolvedFor) {
        this.unresolvedFor = verdict.why;
        this.o.log.warn(
          { seeds: verdict.seeds },
          `not taking children yet: ${verdict.why}. A cluster may run at the addresses it names, and children started here ` +
            'would run twice; waiting for an answer (check --dns-server and the name) or a link',
        );
      }
      // Looked at again each timeout: an answer (even "nothing there") or a link ends the wait.
      this.armReadyTimeout();
      return;
    }
    if (verdict.verdict === 'refused') {
      if (verdict.why !== this.refusedFor) {
        this.refusedFor = verdict.why;
        this.topologyDirty = true; // it no longer counts as a member that will be ready (`candidatesOnceReady`)
        this.o.log.error(
          { refusals: verdict.refusals },
          `not taking children: ${verdict.why}. A cluster runs there, and children started here would run twice; ` +
            'fix the setting (--secret, --name, --cluster, the --tls-* files) and restart',
        );
      }
      // Looked at again each timeout: a refusal ends when that address links, or stops answering.
      this.armReadyTimeout();
      return;
    }
    if (verdict.verdict !== 'waiting') {
      this.ready = true;
      this.wasReady = true;
      this.readyAt = this.o.clock.now();
      this.o.clock.clearTimeout(this.readyTimeout);
      if (verdict.verdict === 'ready-by-timeout')
        this.o.log.warn(
          { waitedMs: this.o.config.readyTimeoutMs, notLinked: verdict.notLinked, notSynced: verdict.notSynced, roster: verdict.roster },
          'taking children although not every known member is linked and synced' +
            // Race "back first with an old data dir" (docs/reliability.md): only the others' disks may hold a stop made
            // while this node was away; available mode takes children anyway, majority mode has no lease alone.
            (this.o.restoredState?.() === true && !this.syncedWithAMember()
              ? ': this node restored its desired state from its data dir and has reached no other member since, so ' +
                'children stopped or moved while it was away may run here until a member that holds those changes returns'
              : ''),
        );
      this.o.log.info({ inMs: this.o.clock.now() - this.o.startedAt }, 'ready to take children');
      this.o.setReady(true);
      this.startablePublished = false;
      this.topologyDirty = true;
      this.schedule();
      this.o.becameReady();
    } else {
      this.retryReady(retry);
    }
  }

  /**
   * Looks at readiness again soon (one pending look, however often we are
   * called): READY_RETRY_MIN_MS after news (`retry` false: a call from what
   * happened), else twice as long as the last time, up to READY_RETRY_MAX_MS.
   */
  private retryReady(retry: boolean): void {
    if (!retry) {
      this.readyRetryMs = READY_RETRY_MIN_MS;
      // A later look pending is brought forward (never pushed back: calls come by the thousand at a start).
      if (this.readyRetry !== undefined && this.readyRetryAt > this.o.clock.now() + READY_RETRY_MIN_MS) {
        this.o.clock.clearTimeout(this.readyRetry);
        this.readyRetry = undefined;
      }
    }
    if (this.readyRetry !== undefined) return;
    const ms = this.readyRetryMs;
    this.readyRetryMs = Math.min(ms * 2, READY_RETRY_MAX_MS);
    this.readyRetryAt = this.o.clock.now() + ms;
    this.readyRetry = this.o.clock.setTimeout(() => {
      this.readyRetry = undefined;
      this.checkReady(false, true);
    }, ms);
  }

  /** Something readiness reads moved without a membership or store change (the store's sync progressed): look again soon. */
  readinessNews(): void {
    if (this.ready || this.stopped || this.leaving || this.readyRetry === undefined) return;
    this.retryReady(false);
  }
}
