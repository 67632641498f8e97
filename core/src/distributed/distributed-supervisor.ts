/**
 * The distributed supervisor: a child started from any node runs exactly
 * once in the cluster, on a node chosen by placement, and moves when the
 * topology changes. No leader (DESIGN §3.5).
 *
 * This file is the API; the work is done by one module per job:
 *   waiters.ts         the requests waiting for the cluster's effect and
 *                      for every up member to hold their write (deadlines)
 *   desired-state.ts   desired state: the replicated store (specs with
 *                      revisions, floors, pins; drains; pause; roster)
 *   live-state.ts      live state: `run:` and `fail:` groups in pg
 *   reconciler.ts      the one orchestrator: dirty ids, sweeps, slices,
 *                      readiness; calls the pure `decide` (decide.ts) and
 *                      derives events by diffing views (events.ts)
 *   readiness.ts, candidates.ts, sweep-plan.ts, wake.ts
 *                      the reconciler's other decisions, pure: readiness,
 *                      the members as candidates (joining, gated), which
 *                      ids a change of members can move, the wake gate
 *   local-instances.ts this node's instances: start, stop, backoff, moves
 *   policies/          netsplit (available, majority) and handoff
 *                      (stop-first, start-first)
 *   placement.ts       HRW with filters, pins, the pause rule
 *   tombstones.ts      when a terminated child's register may go
 *   persistence.ts     the desired state on disk (`--data-dir`)
 *   distributed-config.ts  the settings: the node config's distributed
 *                      section, of which each part reads a `Pick`
 *
 * The API only records intent in the desired state and waits; the
 * reconcilers of all nodes do the rest. A request resolves when the cluster
 * shows its effect *and* every up member holds the write (the store's
 * acknowledgements), so what resolved survives the loss of any nodes as long
 * as one member survives; a request that times out stays in place.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import type { PgEvent, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import { isLinked, type Member } from '../membership.js';
import type { StoreMessage, WaitsFor } from '../protocol.js';
import type { Random } from '../random.js';
import { parseChildSpec, sameSpec, type ChildSpec } from '../supervisor/child-spec.js';
import type { LocalSupervisor } from '../supervisor/local-supervisor.js';
import type { JsonValue } from '../groups.js';
import type { CallWire } from './calls.js';
import { CallRouter, DEFAULT_CALL_MAX_BYTES, type CallAnswer, type CallFigures, type CallOptions } from './calls.js';
import type { RouteInput } from './call-route.js';
import { DesiredState, type StoreSummary } from './desired-state.js';
import type { DistributedConfig } from './distributed-config.js';
import { DistError } from './errors.js';
import type { DistEvent } from './events.js';
import { LiveState, shareRevision } from './live-state.js';
import { LocalInstances, type ClaimLinks } from './local-instances.js';
import { Persistence } from './persistence.js';
import { anyEligible, owner, place, type Candidate } from './placement.js';
import { available } from './policies/netsplit-available.js';
import { majority } from './policies/netsplit-majority.js';
import { Reconciler } from './reconciler.js';
import { verNode, verTime, type ChildRegister, type FlagRegister, type Ver } from './registers.js';
import { Waiters } from './waiters.js';
import { bridgedPeers } from '../store/bridge.js';
import type { SavedState } from './state-file.js';
import { key, parseGroup } from './tags.js';
import {
  countInto,
  emptyCounts,
  globalChild,
  instanceOf,
  submitted,
  type ChildCountsGlobal,
  type ChildView,
  type Explanation,
  type GlobalChild,
  type LocalChild,
  type Submitted,
} from './view.js';

export type { DistributedConfig } from './distributed-config.js';
export type { DistEvent } from './events.js';
export type { StoreSummary } from './desired-state.js';
export type { ChildCountsGlobal, Explanation, GlobalChild, GlobalStatus, LocalChild, MoveReason, Submitted } from './view.js';
export { RECONCILE_SLICE } from './reconciler.js';

/** The distributed supervisor's options (the node builds them from its config). */
export interface DistributedOptions {
  /** This node's name. */
  node: string;
  /** Whether this node is a member (may run children and holds the desired state) rather than an observer or client. */
  isMember: boolean;
  /** The clock every timer and timestamp of the supervisor uses. */
  clock: Clock;
  /** The random source for jitter. */
  random: Random;
  /** Where the supervisor logs. */
  log: Logger;
  /** The node's process groups, through which instances are announced (`run:`, `claim:`, `fail:` groups) and found. */
  groups: ProcessGroups;
  /** The node's local supervisor, which runs this node's instances. */
  local: LocalSupervisor;
  /** This node's view of the cluster. */
  members(): Member[];
  /** A pid for this node's own records in pg (`fail:` groups). */
  pid: string;
  /** The process-group scope the supervisor's groups live in. */
  scope: string;
  /** What claims need of the links (majority mode: local-instances.ts). */
  links: ClaimLinks;
  /** Sends a store message to a linked peer (the link layer). */
  send(peer: string, message: StoreMessage): void;
  /** The settings, the node config's `distributed` section whole (config-sections.ts). */
  config: DistributedConfig;
  /** When this node started (ms, its clock); desired state written after it is not stale when the node finds itself forgotten. */
  startedAt: number;
  /** Publishes this node's readiness in its member metadata. */
  setReady(ready: boolean): void;
  /** Publishes what this node waits for while it is not ready (member metadata `waitsFor`, protocol 2.7); undefined once it is ready. */
  setWaitsFor?(waitsFor: WaitsFor | undefined): void;
  /** Publishes whether this node's start gate is open (member metadata `startable`): peers wait for it before a stop-first move to it. */
  setStartable(startable: boolean): void;
  /** Whether every peer linked when this node announced its readiness has heard of it (node.ts). */
  readyConfirmed(): boolean;
  /** How long this node's own timers were kept from running in a stall under way or just ended, ms (the link layer's failure detector). */
  ownStallMs?(): number;
  /** Whether the node was given seeds: then it is not ready before it has linked to someone. */
  hasSeeds: boolean;
  /** This node runs no children (an observer, or `pogo ctl`). */
  observer?: boolean;
  /** True when dialling this address has failed and no link exists (a dead member learned from gossip). */
  dialFailed?(address: string): boolean;
  /** The addresses still dialled whose last answer refused this node for good (membership.ts `refusals`). */
  refusals?(): Array<{ address: string; code: string; message: string }>;
  /** The DNS seeds never answered that give no address (discovery/seed-discovery.ts `unresolved`). */
  unresolvedSeeds?(): Array<{ seed: string; problem: string }>;
  /** The linked members that report they cannot hear this incarnation of `name` (membership.ts `unheardBy`): store/bridge.ts reads them. */
  unheardBy?(name: string, incarnation: string): ReadonlyArray<{ reporter: string }>;
  /** Durable desired state (members with a data dir): what to restore at start, and where to save. */
  persistence?: { restored: SavedState | undefined; save(state: SavedState): void };
  /** Closes every link (they are dialled again): after this member discarded its state, to sync it afresh. */
  relink?(reason: string): void;
  /** Sends a call, call reply or handover frame to a linked peer; false without a link (distributed/calls.ts). */
  sendCall?(peer: string, frame: CallWire): boolean;
  /** Whether `peer` speaks protocol 2.3 or later (takes calls and handovers). */
  takesCalls?(peer: string): boolean;
}

export type { CallAnswer, CallFigures, CallOptions } from './calls.js';

/** How long a moving instance's `onHandover` may take. */
export const DEFAULT_HANDOVER_TIMEOUT_MS = 5_000;

/** How often a handover waiting for a link to its node looks whether placement still picks that node (`handOver`). */
const HANDOVER_WATCH_MS = 50;

/** A start recorded in the desired state (or the same spec found there): what its waiter checks. */
interface StartRequest {
  readonly id: string;
  readonly spec: ChildSpec;
  readonly rev: Ver;
  /** The write made (or the touch of the spec held). */
  readonly tick: number;
}

/**
 * The revision a start request waits for: its own, or that of an identical
 * start of the same id that won (first start wins); undefined when the start
 * that won has another spec (a conflict).
 */
function awaitedRev(v: ChildView, rev: Ver, spec: ChildSpec): Ver | undefined {
  const live = v.live;
  if (!live || live.rev === rev) return rev;
  return sameSpec(live.spec, spec) ? live.rev : undefined;
}

/** The cluster-wide supervisor: starts each child on one node, moves it when that node goes, routes calls to it. */
export class DistributedSupervisor extends EventEmitter<{ event: [DistEvent]; change: [] }> {
  private readonly desired: DesiredState;
  private readonly live: LiveState;
  private readonly instances: LocalInstances;
  private readonly reconciler: Reconciler;
  private readonly persistence: Persistence | undefined;
  private readonly calls: CallRouter;
  private readonly waiters: Waiters;
  /** Ids with a terminateChild waiting (how many), looked at again when a cut-off member is fenced (terminateChild). */
  private readonly stopsWaiting = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  private initialChildren: unknown[] = [];
  /** This member restored desired state from its data dir (so it may be stale: see rosterChanged). */
  private restoredState = false;
  /** Since when this member's desired state holds nothing from before a forget (its start, or its last discard: rosterChanged). */
  private freshSince: number;
  /** Peers linked when this member last discarded its state: a forget from one of them may answer its old greeting (rosterChanged). */
  private greetedStale = new Set<string>();
  /** A collected mark landed before this member was ready: it affirms its roster entry once ready (affirmRoster). */
  private affirmPending = false;
  /** Stops and moves of ids this member holds no spec of, made before it knew the cluster (a stop) or was ready (a move): decided then. */
  private readonly untilSynced = new Set<{ ok: () => boolean; done: (err?: Error) => void }>();
  private stopped = false;
  private changeQueued = false;
  /** Observes the wall-clock duration of each reconcile slice (metrics); unset by default. */
  onReconcile: ((seconds: number) => void) | undefined;

  constructor(private readonly o: DistributedOptions) {
    super();
    this.freshSince = o.startedAt;
    const observer = o.observer === true || !o.isMember;
    this.waiters = new Waiters({
      clock: o.clock,
      log: o.log,
      timeoutMs: o.config.startChildTimeoutMs,
      heldByAll: (tick) => this.heldByAll(tick),
      heldTick: () => Math.min(this.desired.heldTick(this.reconciler.upPeers()), this.persistence?.waitTick ?? Infinity),
      markDirty: (id) => this.reconciler.markDirty(id),
      isDirty: (id) => this.reconciler.isDirty(id),
      gone: (id) => this.reconciler.waitersGone(id),
    });
    this.live = new LiveState(o.groups, o.scope, o.log);
    this.desired = new DesiredState({
      node: o.node,
      scope: o.scope,
      observer,
      clock: o.clock,
      log: o.log,
      antiEntropyIntervalMs: o.config.antiEntropyIntervalMs,
      bridgeIntervalMs: o.config.heartbeatIntervalMs,
      send: o.send,
      onChange: (keys, from) => {
        this.reconciler.storeChanged(keys);
        this.persistence?.changed();
        this.changed();
        if (from !== undefined && keys.includes(key.roster(o.node))) this.rosterChanged();
        if (this.persistence !== undefined && !observer && this.desired.collectedAmong(keys)) this.affirmRoster();
      },
      regressed: (peer, held, incoming) => this.peerRegressed(peer, held, incoming),
      // The first member up by name, as this member sees them: one relay (the others' views agree but in transients).
      relaysObserverWrites: () => !observer && firstByName(this.reconciler.upMembers()) === o.node,
      onProgress: () => {
        this.waiters.progress();
        this.reconciler.syncProgressed();
        // The store's sync with a peer is half of readiness (`synced`): a node waiting looks again soon.
        this.reconciler.readinessNews();
      },
      settledTick: () => this.reconciler.settledTick(),
      savedTick: () => this.persistence?.savedTick ?? Infinity,
    });
    if (o.persistence) {
      const save = o.persistence.save;
      this.persistence = new Persistence({
        replica: this.desired.replica,
        clock: o.clock,
        log: o.log,
        save,
        onSaved: () => {
          this.desired.replication.kick();
          this.waiters.progress();
        },
      });
    }
    this.instances = new LocalInstances({
      node: o.node,
      scope: o.scope,
      pid: o.pid,
      clock: o.clock,
      random: o.random,
      log: o.log,
      groups: o.groups,
      local: o.local,
      config: o.config,
      dirty: (id, urgent) => this.reconciler.markDirty(id, urgent),
      finished: (id, rev, reason) => this.finished(id, rev, reason),
      specOf: (id) => this.desired.live(id)?.spec,
      links: o.links,
      handOver: (id, rev, to) => this.handOver(id, rev, to),
      receivedHandover: (id, rev) => this.calls.takeReceived(id, rev),
      hurried: () => this.calls.abandonHandoverWaits(),
    });
    this.calls = new CallRouter({
      node: o.node,
      clock: o.clock,
      random: o.random,
      log: o.log,
      local: o.local,
      locate: (id) => this.locate(id),
      send: (peer, frame) => o.sendCall?.(peer, frame) ?? false,
      takesCalls: (peer) => o.takesCalls?.(peer) ?? true,
      maxBytes: o.config.callMaxBytes ?? DEFAULT_CALL_MAX_BYTES,
      // Long enough for the next node to see the old instance stop and start the new one.
      handoverTtlMs: Math.max(30_000, o.config.startChildTimeoutMs),
      // The reconciler is made just below; no message arrives before the constructor returns.
      mayDeliver: () => this.reconciler.mayDeliver(),
      ...(o.config.maxOutstandingCalls === undefined ? {} : { maxOutstanding: o.config.maxOutstandingCalls }),
      unlinked: () =>
        o
          .members()
          .filter((m) => m.role === 'member' && m.name !== o.node && m.status !== 'left' && !isLinked(m.status))
          .map((m) => m.name),
    });
    this.reconciler = new Reconciler({
      node: o.node,
      isMember: o.isMember && !observer,
      observer,
      clock: o.clock,
      log: o.log,
      desired: this.desired,
      live: this.live,
      instances: this.instances,
      netsplit: o.config.netsplit === 'majority' ? majority(o.config.expectedMembers ?? 1, o.config.heartbeatIntervalMs) : available,
      members: o.members,
      announced: (peer) => o.groups.announced(o.scope, peer),
      config: o.config,
      hasSeeds: o.hasSeeds,
      dialFailed: (address) => o.dialFailed?.(address) ?? false,
      refusals: () => o.refusals?.() ?? [],
      unresolvedSeeds: () => o.unresolvedSeeds?.() ?? [],
      restoredState: () => this.restoredState,
      startedAt: o.startedAt,
      setReady: o.setReady,
      setWaitsFor: (w) => o.setWaitsFor?.(w),
      setStartable: o.setStartable,
      readyConfirmed: o.readyConfirmed,
      ownStallMs: () => o.ownStallMs?.() ?? 0,
      emit: (e) => this.emitEvent(e),
      hasWaiter: (id) => this.waiters.has(id),
      reconciled: (id) => this.settleWaiters(id),
      // A stop that waits for a cut-off member to be fenced looks again then (terminateChild).
      presenceChanged: () => {
        for (const id of this.stopsWaiting.keys()) this.reconciler.markDirty(id);
      },
      becameReady: () => {
        if (this.affirmPending) this.affirmRoster();
        this.syncedMore();
        this.startInitialChildren();
      },
      learnedTheCluster: () => {
        this.syncedMore();
        this.calls.synced();
      },
      onSlice: (seconds) => this.onReconcile?.(seconds),
    });
  }

  /** Starts supervising: creates the scope, restores saved desired state, joins the roster (a member) and begins reconciling. Call once. */
  start(): void {
    this.o.groups.createScope(this.o.scope);
    const register = (id: string): ChildRegister => this.desired.child(id);
    this.o.groups.shareValues(this.o.scope, (g, value) => shareRevision(register, g, value));
    if (this.o.persistence?.restored) this.restore(this.o.persistence.restored);
    if (this.o.isMember && !this.o.observer) this.desired.setRoster(this.o.node, true);
    const monitor = this.o.groups.monitor(this.o.scope, undefined, (e) => this.onGroupEvent(e));
    this.unsubscribe = monitor.unsubscribe;
    for (const g of monitor.snapshot.keys()) {
      const parsed = parseGroup(g);
      if (parsed) this.reconciler.markDirty(parsed.id);
    }
    this.desired.start();
    this.reconciler.start();
  }

  /**
   * Children this node brings along (config `children`): once the node is
   * ready, each one whose id the cluster does not hold yet is started — so
   * they come back after a restart of the whole cluster, as in Pogo. One the
   * cluster stopped is not: race "a children file resurrects a stop" (the
   * tour: `pogo ctl stop w3`, then n3 restarted with the file, and w3 ran
   * again, with no word of it). While the stop's tombstone is held (the
   * tombstone TTL after every member holds it) the file's entry is skipped,
   * and said so; once it is collected the cluster no longer knows of the
   * stop, and the file starts the child again.
   */
  setInitialChildren(specs: unknown[]): void {
    this.initialChildren = specs;
    if (this.reconciler.isReady) this.startInitialChildren();
  }

  private startInitialChildren(): void {
    const stopped: string[] = [];
    for (const spec of this.initialChildren) {
      const id = (spec as { id?: unknown }).id;
      if (typeof id === 'string' && this.desired.live(id)) continue;
      if (typeof id === 'string' && this.desired.child(id).floor !== undefined) {
        stopped.push(id);
        continue;
      }
      this.startChild(spec).catch((err: unknown) => {
        const code = (err as { code?: string }).code;
        if (code !== 'timeout') this.o.log.warn({ child: id, code, err: (err as Error).message }, 'initial child did not start');
      });
    }
    if (stopped.length > 0)
      this.o.log.warn(
        { children: stopped.slice(0, 100), count: stopped.length },
        `children file: not starting ${stopped.length} child${stopped.length === 1 ? '' : 'ren'} the cluster stopped (${stopped.slice(0, 5).join(', ')}` +
          `${stopped.length > 5 ? ', …' : ''}); remove them from the file, or start them with pogo ctl start`,
      );
  }

  /**
   * First step of a graceful stop: tell the cluster this node no longer
   * takes children, so the others become their owners (and start each one
   * as soon as its instance here has stopped).
   */
  prepareStop(): void {
    this.reconciler.unready();
    // Where each instance here goes next: placed as the others will place it, without this node (handOverForLeave).
    const others = this.reconciler.candidates.filter((c) => c.name !== this.o.node);
    for (const id of this.instances.ids()) {
      const v = this.reconciler.view(id);
      if (!v.live) continue;
      const failures = new Map([...v.failures].map(([n, f]) => [n, f.failures]));
      const to = owner({ id, spec: v.live.spec, candidates: others, pin: v.live.pin?.node, failures, maxStartFailures: this.o.config.maxStartFailures });
      if (to !== undefined) this.leaveTargets.set(id, { rev: v.live.rev, to });
    }
    // A member without a data dir can only come back empty: tombstones need not wait for it (tombstones.ts).
    if (this.o.isMember && !this.o.observer && !this.persistence) this.desired.setRoster(this.o.node, false);
    this.desired.replication.flushNow();
    this.persistence?.flush();
    this.stop();
  }

  /**
   * Takes `node` off the roster: tombstones stop waiting for it; if it comes back with older state, it discards it (tombstones.ts).
   * Refused for a member this node sees up: `ineligible-node`.
   */
  forget(node: string): void {
    if (node === this.o.node) throw new DistError('ineligible-node', 'a node cannot forget itself; run forget on another member');
    const entry = this.desired.rosterEntry(node);
    if (entry === undefined)
      throw new DistError(
        'unknown-node',
        `no member named ${JSON.stringify(node)} on the roster (known: ${[...this.desired.roster().keys()].sort().join(', ')})`,
      );
    // A live member forgotten would discard its desired state and restart its children (the tour: `pogo ctl
    // forget n2` on an up n2 stopped its children for 0.8 s). Forgetting is for a member gone for good.
    const member = this.o.members().find((m) => m.name === node);
    if (member !== undefined && isLinked(member.status))
      throw new DistError(
        'ineligible-node',
        `${node} is ${member.status === 'up' ? 'up' : 'up (suspected)'}: only a member gone for good can be forgotten (forgotten, it would discard its state ` +
          'and restart its children); stop it first',
      );
    // As the automatic forget (tombstones.ts `forgettable`): only a side linked to a strict majority of the
    // roster, so that of two sides of a partition at most one forgets the other. An outsider's tour:
    // `pogo ctl forget n1` and `forget n2` on the cut-off n3 were accepted; at the heal n1 and n2 took
    // themselves for forgotten, discarded their state and took n3's: a child started on their side
    // during the split was lost and one stopped there ran again.
    const onRoster = [...this.desired.roster()].filter(([, member]) => member).map(([name]) => name);
    const linked = onRoster.filter((n) => n === this.o.node || this.o.members().some((m) => m.name === n && isLinked(m.status)));
    if (linked.length * 2 <= onRoster.length)
      throw new DistError(
        'no-quorum',
        `${this.o.node} is linked to ${linked.length} of the ${onRoster.length} members on the roster (${linked.sort().join(', ')}): only a side ` +
          'linked to a majority of the roster may forget a member, so that of two sides of a partition at most one forgets the other ' +
          '(forgotten, the other side would discard its state at the heal); run it on a member linked to a majority',
      );
    this.desired.setRoster(node, false);
  }

  /** The roster: every member tombstones wait for (true), and those forgotten (false). */
  roster(): Record<string, boolean> {
    return Object.fromEntries([...this.desired.roster()].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /**
   * A peer's write changed this member's own roster entry. Forgotten by the
   * cluster while this member held state from before — an old data dir, or
   * it was running on the far side of a long partition — it discards its
   * desired state and takes it again from the others (tombstones.ts: a
   * tombstone collected meanwhile would otherwise bring a child back).
   * Forgotten but started empty (a member without a data dir that left and
   * came back): it simply rejoins the roster.
   */
  private rosterChanged(): void {
    if (this.stopped || !this.o.isMember || this.o.observer || !this.desired.isForgotten(this.o.node)) return;
    const entry = this.desired.rosterEntry(this.o.node)!;
    // Race "forgotten by two peers at once" (the backup tour: both saw a restored member's old greeting and
    // both forgot it): the second forget answers a greeting sent before this member discarded its state, so
    // what it holds now is newer than what that peer saw — it rejoins without discarding again (a second
    // discard stopped and restarted the children it had started meanwhile). Only a peer it was linked to
    // then, once, and within the ready timeout: a forget after that is news.
    const writer = verNode(entry.ver);
    const explained = this.greetedStale.delete(writer) && this.o.clock.now() - this.freshSince <= this.o.config.readyTimeoutMs;
    const stale = !explained && (this.restoredState || verTime(entry.ver) > this.freshSince);
    if (!stale) {
      this.desired.setRoster(this.o.node, true);
      return;
    }
    this.o.log.warn(
      { forgottenAt: new Date(verTime(entry.ver)).toISOString(), by: entry.ver.slice(18) },
      'this member was forgotten by the cluster while it was away; discarding its desired ' +
        'state and taking it again from the others (what it changed while away is lost)',
    );
    // The peers linked now had this member's greeting with the entry it discards (race "forgotten by two peers at once").
    this.greetedStale = new Set(
      this.o
        .members()
        .filter((m) => m.name !== this.o.node && isLinked(m.status))
        .map((m) => m.name),
    );
    this.restoredState = false;
    this.freshSince = this.o.clock.now();
    const discarded = new DistError(
      'conflict',
      'this node was forgotten by the cluster while it was away and discarded its desired state; the request is lost: make it again',
    );
    this.waiters.rejectAll(discarded);
    this.desired.reset();
    this.reconciler.forgetCluster();
    this.desired.setRoster(this.o.node, true, true);
    this.o.relink?.('this member was forgotten while it was away: syncing its desired state afresh');
  }

  /**
   * A collected mark landed in this member's store (it keeps a data dir):
   * it writes its roster entry again, so that every peer that later drops
   * the tombstone holds an entry newer than any older file of this member
   * (tombstones.ts, 5). Only once ready (race "affirmed before its greeting
   * reached a dropper": a member restored from a backup must greet every
   * member with its file's entry first).
   */
  private affirmRoster(): void {
    if (this.stopped) return;
    this.affirmPending = !this.reconciler.isReady;
    if (this.affirmPending) return;
    this.desired.affirmRoster(this.o.node);
    // On this member's disk before any peer holds it (race "killed between the affirm and its save"): saved
    // with the usual coalescing, a member SIGKILLed within those 200 ms had a file older than the entry its
    // peers held, and was taken for restored at its restart — back first and alone after a whole-cluster
    // kill (mode available), it then lost every start and stop it had acknowledged meanwhile (an outsider's
    // tour, reliability/backup-tour.mjs alone).
    this.persistence?.saveInTurn();
  }

  /**
   * `peer` sent its own roster entry older than the one this node holds: it
   * came back from a file older than its last save — restored from a backup
   * — and may hold children stopped since whose tombstones are gone
   * (tombstones.ts, 5). Forgotten here at once (the rest of what it sent is
   * refused), it discards its state and takes it from the others, then
   * rejoins the roster (rosterChanged on its side).
   */
  private peerRegressed(peer: string, held: FlagRegister, incoming: FlagRegister): void {
    if (this.stopped || !this.o.isMember || this.o.observer) return;
    this.o.log.warn(
      { peer, itsEntry: incoming.ver, heldEntry: held.ver },
      `${peer} came back with desired state older than it had saved (its data dir restored from a backup?): forgetting it, ` +
        'so that it discards that state and takes the state from the others',
    );
    this.desired.setRoster(peer, false);
  }

  /** Stops timers; the node's shutdown stops the local children. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of [...this.untilSynced]) w.done(new DistError('shutting-down', 'the node is shutting down'));
    this.unsubscribe?.();
    this.o.groups.shareValues(this.o.scope, undefined);
    this.reconciler.stop();
    this.instances.stop();
    this.desired.stop();
    this.calls.stop();
    this.persistence?.abandon();
    this.waiters.stop();
  }

  /** Called by the node on membership changes. */
  onMembership(event: { kind: string; member: Member; reason?: string }): void {
    const at = this.o.clock.now();
    const role = event.member.role;
    if (event.kind === 'member-up') this.emitEvent({ type: 'node-up', node: event.member.name, role, at });
    if (event.kind === 'member-down' || event.kind === 'member-left')
      this.emitEvent({ type: 'node-down', node: event.member.name, role, reason: event.reason ?? event.kind, at });
    this.reconciler.topologyChanged();
  }

  /** A peer's report of whom it cannot hear changed: the netsplit policy's inputs did. */
  reachChanged(): void {
    this.bridge();
    // Majority mode's presence reads the reports; an observer's candidates too (candidates.ts: cut off).
    if (this.stopped || (this.o.config.netsplit !== 'majority' && this.o.isMember && this.o.observer !== true)) return;
    this.reconciler.topologyChanged();
  }

  /** The link to `peer` came up (after its pg sync was sent): handovers waiting for it go, the store's sync starts. */
  peerUp(peer: string, role: 'member' | 'observer'): void {
    if (this.stopped) return;
    // After the pg sync, before anything this node stops: a handover waiting for this link reaches it first (calls.ts).
    this.calls.linkUp(peer);
    this.desired.replication.peerUp(peer, role);
    this.bridge();
  }

  /**
   * Whether everything this node has learned is acted on: no child waits for
   * a reconcile, so every event it causes has been emitted (the observer
   * gateway's catch-up waits for it: observer/gateway.ts `caughtUp`).
   */
  get settled(): boolean {
    return this.reconciler.settled;
  }

  /** The members this node bridges across a partial partition: they get its root digest every heartbeat (store/bridge.ts). */
  bridgedPeers(): string[] {
    return this.desired.replication.bridgedPeers();
  }

  /**
   * Members linked here that cannot hear each other by their own reports get
   * this replica's root digest every heartbeat (store/bridge.ts: race "a
   * partial partition"); members only, observers send no digests.
   */
  private bridge(): void {
    if (this.stopped || !this.o.isMember || this.o.observer === true || this.o.unheardBy === undefined) return;
    const unheardBy = this.o.unheardBy;
    const linked = this.o.members().filter((m) => m.role === 'member' && m.name !== this.o.node && isLinked(m.status));
    const incarnation = new Map(linked.map((m) => [m.name, m.incarnation]));
    this.desired.replication.bridge(
      bridgedPeers(
        linked.map((m) => m.name),
        (peer) => unheardBy(peer, incarnation.get(peer)!).map((u) => u.reporter),
      ),
    );
  }

  /** The link to `peer` went down: calls routed to its instances fail with MessageError `timeout`, and store replication stops sending to it. */
  peerDown(peer: string): void {
    this.calls.peerDown(peer);
    if (this.stopped) return;
    this.desired.replication.peerDown(peer);
    this.bridge();
  }

  /** A peer echoed a newer ping of this node's (the link layer): pending claims may be confirmed now. */
  linkConfirmed(): void {
    if (this.stopped) return;
    this.instances.linkConfirmed();
  }

  /** A store message from `peer` (validated by its schema). */
  handleStore(peer: string, message: StoreMessage): void {
    if (this.stopped) return;
    this.desired.replication.handle(peer, message);
  }

  /** Whether this node has become ready to take children (every known member linked and synced, or readyTimeoutMs passed); stays true once true. */
  get isReady(): boolean {
    return this.reconciler.isReady;
  }

  /**
   * While this node is not ready: what it waits for (the members it has no
   * link to, its saved roster's not heard of, those not synced, a seed, the
   * lease, and until when; see `WaitsFor`), as of now. The cluster hears it
   * only once the wait has lasted a second (member metadata `waitsFor`);
   * `pogo ctl status` asked of this node says it at once. Undefined once ready.
   */
  get waitsFor(): WaitsFor | undefined {
    return this.reconciler.waitingFor;
  }

  /**
   * False only on a member in netsplit mode `majority` without its lease (cut
   * off from the majority): a change made here reaches the members it cannot
   * hear only once they hear it again. Always true in mode `available`.
   */
  get hasQuorum(): boolean {
    return !this.o.isMember || this.o.observer || this.reconciler.mayRun;
  }

  /**
   * Whether this node's desired state is the cluster's: it has synced with
   * another member since it started (or last discarded its state), or has
   * no member to sync with. A node ready without it runs alone (its seeds
   * did not answer): what it lists is its own view.
   */
  get knowsTheCluster(): boolean {
    return this.stopped || this.reconciler.knowsTheCluster;
  }

  /** What the desired-state store holds, by kind. */
  store(): StoreSummary {
    return this.desired.summary();
  }

  /** The store's replication counters (benchmarks, tests). */
  get storeStats(): Record<string, number> {
    return { ...this.desired.replication.stats };
  }

  // ---- API -----------------------------------------------------------------

  /**
   * Starts a child somewhere in the cluster. Resolves once it runs and every
   * up member holds its spec; rejects with a DistError.
   */
  startChild(input: unknown): Promise<{ id: string; node: string; pid: string }> {
    let request: StartRequest;
    try {
      request = this.requestStart(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, spec, tick } = request;
    let rev = request.rev;
    return this.waiters.wait(id, tick, `start ${id}`, (resolve, reject) => {
      const v = this.reconciler.view(id);
      if (v.register.floor !== undefined && v.register.floor >= rev) {
        reject(new DistError('terminated', `child ${id} was terminated before it started`));
        return true;
      }
      const awaited = awaitedRev(v, rev, spec);
      if (awaited === undefined) {
        reject(new DistError('conflict', `another start of ${id} with a different spec won (it was requested first)`));
        return true;
      }
      rev = awaited;
      const runner = v.runners.find((r) => r.value.rev === rev);
      if (runner && this.heldByAll(tick)) {
        resolve({ id, node: runner.node, pid: runner.pid });
        return true;
      }
      if (!v.owner && v.failures.size > 0 && this.reconciler.candidates.some((c) => c.up && c.role === 'member')) {
        const last = [...v.failures.values()].map((f) => f.lastError).join('; ');
        reject(new DistError('start-failed', `child ${id} failed to start on every eligible node: ${last}`));
        return true;
      }
      return false;
    });
  }

  /**
   * Starts a child somewhere in the cluster and says what became of it,
   * without waiting for it to run: resolves once every up member holds the
   * spec (it is accepted) and a first outcome is known — an instance of it
   * runs, a start of it failed (the retries go on), or it has already ended
   * for good — or, when none is known after `waitMs`, with its state then
   * (`pending`). Rejects, with nothing kept, when the spec is refused
   * (`invalid-spec`, `conflict`, `unplaceable`, `no-quorum`); `timeout` when
   * the members do not all hold it within the request timeout (the request
   * stays in place, as for `startChild`).
   */
  submitChild(input: unknown, waitMs: number): Promise<Submitted> {
    let request: StartRequest;
    try {
      request = this.requestStart(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, spec, tick } = request;
    let rev = request.rev;
    const deadline = this.o.clock.now() + waitMs;
    // At the deadline its waiter looks again, to answer with the state then.
    const timer = this.o.clock.setTimeout(() => this.settleWaiters(id), waitMs);
    return this.waiters
      .wait<Submitted>(id, tick, `submit ${id}`, (resolve, reject) => {
        const v = this.reconciler.view(id);
        if (v.register.floor !== undefined && v.register.floor >= rev) {
          resolve({ id, state: 'finished' });
          return true;
        }
        const awaited = awaitedRev(v, rev, spec);
        if (awaited === undefined) {
          reject(new DistError('conflict', `another start of ${id} with a different spec won (it was requested first)`));
          return true;
        }
        rev = awaited;
        if (!this.heldByAll(tick)) return false;
        const runner = v.runners.find((r) => r.value.rev === rev);
        if (runner === undefined && v.failures.size === 0 && this.o.clock.now() < deadline) return false;
        resolve(submitted(v));
        return true;
      })
      .finally(() => this.o.clock.clearTimeout(timer));
  }

  /**
   * The part of a start every caller shares: checks the spec and whether the
   * cluster can take it, and records it in the desired state (or touches the
   * same spec already held). Throws a DistError, recording nothing.
   */
  private requestStart(input: unknown): StartRequest {
    if (this.stopped) throw new DistError('shutting-down', 'the node is shutting down');
    let spec: ChildSpec;
    try {
      spec = parseChildSpec(input);
    } catch (err) {
      throw new DistError('invalid-spec', (err as Error).message);
    }
    const id = spec.id;
    const held = this.desired.live(id);
    if (held && !sameSpec(held.spec, spec)) {
      throw new DistError('conflict', `a child with id ${JSON.stringify(id)} already exists with a different spec; terminate it first or use another id`);
    }
    if (this.o.isMember && !this.o.observer && !this.reconciler.mayRun) {
      throw new DistError('no-quorum', `this node has no majority of the ${this.o.config.expectedMembers} expected members behind it; nothing can start`);
    }
    if (held) return { id, spec, rev: held.rev, tick: this.desired.touch(id) };
    // Members not ready yet count as they will be (a start during a whole-cluster restart waits for them).
    const candidates = this.reconciler.candidatesWhenReady;
    const maxStartFailures = this.o.config.maxStartFailures;
    // The verdicts (and their reasons) are built only for a refusal: anyEligible is place's answer without them.
    const probe = anyEligible(spec, candidates, maxStartFailures)
      ? undefined
      : place({ id, spec, candidates, pin: undefined, failures: new Map(), maxStartFailures });
    if (probe && candidates.some((c) => c.up && c.role === 'member')) {
      const reasons = probe.verdicts.map((v) => `${v.node}: ${v.excludedBy.join(', ')}`).join('; ');
      throw new DistError('unplaceable', `no node can run ${id} (${reasons})`);
    }
    const { rev, tick } = this.desired.requestStart(spec);
    return { id, spec, rev, tick };
  }

  /**
   * `not-found` for a request about `id`, saying when the cluster holds its
   * tombstone that it was stopped (an outsider's tour: a second `ctl stop`
   * and `whereis` said only "no child with id", while a call said "was
   * terminated"). `not-ready` instead while this node does not know the
   * cluster (`knowsTheCluster`): its word is not the cluster's (an explain,
   * restart, unpin or whereis sent to a member just started, or to one whose
   * seeds never answered), and a script must not read it as "no such child".
   */
  noChild(id: string): DistError {
    if (this.unsynced) return new DistError('not-ready', `no child with id ${JSON.stringify(id)} on ${this.o.node} so far: ${this.unsyncedWhy()}`);
    const stopped = this.desired.child(id).floor !== undefined && this.desired.live(id) === undefined;
    return new DistError('not-found', `no child with id ${JSON.stringify(id)}${stopped ? ': it was stopped (pogo ctl audit shows who and when)' : ''}`);
  }

  /**
   * Stops a child wherever it runs and removes its spec; also cancels a
   * pending start. In majority mode a member without its lease (cut off from
   * the majority) records the stop but rejects with `no-quorum`: it cannot
   * see whether the members it cannot hear still run the child (an outsider's
   * tour: `pogo ctl stop` on the minority side answered "ok" at once while the
   * majority ran the child on until the heal).
   */
  terminateChild(id: string): Promise<void> {
    if (!this.desired.live(id)) {
      // Race "a stop retried on the minority" (the ops tour): the first stop is recorded here and answered
      // no-quorum; a retry found no live spec and said not-found, which `pogo ctl stop --ignore-not-found`
      // reads as nothing to stop (exit 0) while the majority still ran the child. Without its lease this
      // member cannot tell, so a stopped child's stop answers as the first one did.
      if (this.desired.child(id).floor !== undefined && !this.hasQuorum) return Promise.reject(this.stopWithoutQuorum(id));
      // Race "a stop before the state is in" (an outsider's tour): a member that has not synced with another
      // — started empty, or discarding a restored data dir's state to take the others' (rosterChanged) — may
      // lack a spec live in the cluster. Answered not-found at once, `pogo ctl stop --ignore-not-found`
      // exited 0 while the child ran on. Decided once it has synced (within the start timeout) while a sync
      // may come soon: not ready yet, or linked to a member. Ready alone (its seeds never answered: the
      // calls tour), nothing is coming: `not-ready` at once, not a wait that ends in ctl's own timeout.
      if (this.unsynced && this.o.isMember && !this.o.observer && this.syncMayCome)
        return this.whenSynced(`stop ${id}`, () => !this.unsynced || !this.syncMayCome).then(() => this.terminateChild(id));
      return Promise.reject(this.noChild(id));
    }
    // Where it runs, or would run, before the stop: a member cut off then (majority mode) keeps it
    // until its own lease has run out and it has stopped it, so the stop is not done before that member
    // is fenced or heard again. Race "a stop on the majority side of a fresh split": it resolved when the
    // link to the cut-off member closed, while that member's instance ran on for a lease and a stop time
    // (an outsider's tour: 977 ms after ctl said done, by the instance's own record).
    const owner = this.reconciler.view(id).owner;
    const written = this.desired.terminate(id)!;
    this.stopsWaiting.set(id, (this.stopsWaiting.get(id) ?? 0) + 1);
    const waiting = this.waiters.wait<void>(id, written.tick, `terminate ${id}`, (resolve, reject) => {
      if (this.o.isMember && !this.o.observer && !this.reconciler.mayRun) {
        reject(this.stopWithoutQuorum(id));
        return true;
      }
      if (owner !== undefined && this.reconciler.unheardButPresent(owner)) return false;
      const v = this.reconciler.view(id);
      // Done when no instance of what it covers runs, as far as this node sees, and every up member
      // holds the tombstone and has acted on it. Race "terminate during a stop-first move": the old
      // instance has left, the move's target has not started yet; resolving on our view alone let the
      // target start the child just after. A member acknowledges the tombstone only once it has
      // reconciled it and has no instance of it starting (store/replication.ts), and links are FIFO:
      // an instance it started before is visible here before its acknowledgement.
      const done = v.runners.every((r) => r.value.rev > written.floor) && !this.instances.has(id) && this.heldByAll(written.tick);
      if (done) resolve(undefined);
      return done;
    });
    const settled = (): void => {
      const n = (this.stopsWaiting.get(id) ?? 1) - 1;
      if (n > 0) this.stopsWaiting.set(id, n);
      else this.stopsWaiting.delete(id);
    };
    waiting.then(settled, settled);
    return waiting;
  }

  /** This node does not know the cluster (reconciler.ts `knowsTheCluster`): an id it holds no spec of may be live in the cluster. */
  private get unsynced(): boolean {
    return !this.stopped && !this.reconciler.knowsTheCluster;
  }

  /** Whether a first sync may come soon: this node is not ready yet (linking), or another member is linked to it (syncing). */
  private get syncMayCome(): boolean {
    return !this.reconciler.isReady || this.o.members().some((m) => m.name !== this.o.node && m.role === 'member' && isLinked(m.status));
  }

  /** Why this node's word is not the cluster's yet, for an error. */
  private unsyncedWhy(): string {
    const n = this.o.node;
    return this.reconciler.isReady
      ? `${n} runs without having synced with any other member (its seeds did not answer, or every member it knows of is down), ` +
          'so the cluster may hold it; ask a member linked to the others'
      : `${n} is not ready yet (still linking to and syncing with its peers), so the cluster may hold it; ask another member, or again in a moment`;
  }

  /**
   * Resolves once `ok` holds (looked at when this node learns the cluster and when it becomes ready); rejects with
   * `not-ready` after the start timeout, `shutting-down` if it stops first.
   */
  private whenSynced(what: string, ok: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w = {
        ok,
        done: (err?: Error): void => {
          this.untilSynced.delete(w);
          this.o.clock.clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        },
      };
      const ms = this.o.config.startChildTimeoutMs;
      const late = (): DistError => new DistError('not-ready', `${what}: not decided within ${ms} ms: ${this.unsyncedWhy()}`);
      const timer = this.o.clock.setTimeout(() => w.done(late()), ms);
      this.untilSynced.add(w);
    });
  }

  /** This node learned the cluster or became ready: the stops and moves waiting for it go on. */
  private syncedMore(): void {
    for (const w of [...this.untilSynced]) if (w.ok()) w.done();
  }

  /** A stop recorded by a member without its lease (terminateChild): what it did, and what it cannot know. */
  private stopWithoutQuorum(id: string): DistError {
    return new DistError(
      'no-quorum',
      `the stop of ${id} is recorded on ${this.o.node} (${id} does not start again here), but not confirmed: ${this.o.node} has no majority of the ` +
        `${this.o.config.expectedMembers} expected members behind it, so it cannot see whether the members it cannot hear still run ${id}; ` +
        `they stop it when they hear ${this.o.node} again (pogo ctl ls on a member of the majority shows where it runs)`,
    );
  }

  /** Pins a child to `node` (forced placement) and resolves once it runs there. */
  moveChild(id: string, node: string): Promise<{ id: string; node: string; pid: string }> {
    const live = this.desired.live(id);
    // Race "a stop before the state is in" (terminateChild), for a move: not-found from a member still syncing.
    // A move also needs this member's view of the candidates: it waits until it is ready (a member taking the state
    // afresh after it was taken for restored, relinked to one peer, found the other "not up").
    if (!live)
      return this.o.isMember && !this.o.observer && !this.stopped && !this.reconciler.isReady
        ? this.whenSynced(`move ${id}`, () => this.reconciler.isReady).then(() => this.moveChild(id, node))
        : Promise.reject(this.noChild(id));
    const candidates = this.reconciler.candidates;
    const target = candidates.find((c) => c.name === node);
    if (!target) {
      // A member that left or is down is no candidate, but it is no stranger either (`pogo ctl status` lists it).
      const gone = this.o.members().find((m) => m.name === node && m.role === 'member');
      if (gone !== undefined)
        return Promise.reject(
          new DistError('ineligible-node', `${node} ${gone.status === 'left' ? 'has left the cluster' : `is ${gone.status}`}: it cannot take children now`),
        );
      return Promise.reject(new DistError('unknown-node', `no member named ${JSON.stringify(node)} (members: ${memberNames(candidates)})`));
    }
    const verdict = place({ id, spec: live.spec, candidates: [target], pin: undefined, failures: new Map(), maxStartFailures: this.o.config.maxStartFailures })
      .verdicts[0]!;
    if (verdict.excludedBy.length > 0) return Promise.reject(new DistError('ineligible-node', `${node} cannot run ${id}: ${verdict.excludedBy.join(', ')}`));
    const rev = live.rev;
    const tick = this.desired.pin(id, live, node);
    return this.waiters.wait(id, tick, `move ${id} to ${node}`, (resolve, reject) => {
      const v = this.reconciler.view(id);
      if (!v.live || v.live.rev !== rev) {
        reject(new DistError('terminated', `child ${id} was terminated during the move`));
        return true;
      }
      const runner = v.runners.find((r) => r.node === node);
      if (runner && v.runners.length === 1 && this.heldByAll(tick)) {
        resolve({ id, node, pid: runner.pid });
        return true;
      }
      return false;
    });
  }

  /**
   * Restarts this node's instance of `id` in place: stops it and starts a
   * new one here (local-instances.ts, "restart in place"), fresh: no state
   * is handed over, as OTP's restart_child (a planned move hands it). Resolves with the
   * new instance; rejects with a DistError — `not-running` when no instance
   * runs on this node (ask the node it runs on: `runnersOf`).
   */
  async restartChild(id: string): Promise<{ id: string; node: string; pid: string }> {
    if (this.stopped) throw new DistError('shutting-down', 'the node is shutting down');
    const live = this.desired.live(id);
    if (!live) throw this.noChild(id);
    const pid = await this.instances.restart(id, live);
    return { id, node: this.o.node, pid };
  }

  /** Where the instances of `id` run, as this node sees them; undefined when the cluster holds no spec of that id. */
  runnersOf(id: string): Array<{ node: string; pid: string }> | undefined {
    const v = this.reconciler.view(id);
    if (!v.live) return undefined;
    return v.runners.map((r) => ({ node: r.node, pid: r.pid }));
  }

  /**
   * Where `id`'s instance runs now, as this node sees it (its `run:<id>`
   * group: no scan, no message); undefined when none runs. With several
   * (a start-first overlap, a duplicate about to be resolved), the one on
   * the child's owner, else the first.
   */
  whereis(id: string): { node: string; pid: string } | undefined {
    const v = this.reconciler.view(id);
    if (!v.live || v.runners.length === 0) return undefined;
    const r = v.runners.find((x) => x.node === v.owner) ?? v.runners[0]!;
    return { node: r.node, pid: r.pid };
  }

  /**
   * Sends `message` (plain JSON) to child `id` wherever it runs and
   * resolves with its reply (distributed/calls.ts: one hop, at most once,
   * waits for a new instance within `timeoutMs` while the child is between
   * instances); rejects with a MessageError: `not-found`, `not-running`,
   * `no-handler`, `handler-error`, `timeout`, `too-large`.
   */
  async call(id: string, message: JsonValue, options: CallOptions = {}): Promise<JsonValue> {
    return (await this.calls.call(id, message, options)).reply;
  }

  /** `call`, answering also which instance replied (its node and pid). */
  callDetailed(id: string, message: JsonValue, options: CallOptions = {}): Promise<CallAnswer> {
    return this.calls.call(id, message, options);
  }

  /**
   * Delivers `message` to child `id` without waiting for its handler:
   * resolves once the instance took it (at most once), rejects as `call`
   * does (a handler's error is logged where the child runs, not reported).
   */
  async cast(id: string, message: JsonValue, options: CallOptions = {}): Promise<void> {
    await this.calls.call(id, message, options, true);
  }

  /** `peer` announced its graceful leave: calls outstanding to it go to the child's next instance (calls.ts). */
  peerLeaving(peer: string): void {
    this.calls.peerLeaving(peer);
  }

  /** Resolves once every message delivered to a child here has been answered, or after `withinMs` (a graceful leave waits for it). */
  callsDelivered(withinMs: number): Promise<void> {
    return this.calls.delivered(withinMs);
  }

  /** A `call`, `call.reply` or `handover` frame from `peer` (validated by its schema). */
  handleCall(peer: string, frame: CallWire): void {
    this.calls.handle(peer, frame);
  }

  /** The route's inputs for `id`: its live spec or tombstone, its instances, its owner. */
  private locate(id: string): Omit<RouteInput, 'skip' | 'pastDeadline'> {
    const v = this.reconciler.view(id);
    return {
      live: v.live !== undefined,
      terminated: v.register.floor !== undefined,
      runners: v.runners,
      owner: v.owner,
      syncing: this.unsynced,
    };
  }

  /**
   * Planned move of this node's instance of `id` (revision `rev`) to `to`:
   * closes it to messages, lets the messages it took be answered (within
   * the handover timeout), takes its state (workers' `ctx.onHandover`) and
   * sends it to `to` before the instance stops (calls.ts: FIFO links). A
   * start-first child hands over nothing (its next instance already runs).
   * Failures are logged; the stop goes on.
   */
  private async handOver(id: string, rev: Ver, to: string): Promise<void> {
    if (this.desired.live(id)?.spec.handoff === 'start-first') return;
    let state: JsonValue | undefined;
    try {
      state = await this.o.local.takeHandover(id, this.o.config.handoverTimeoutMs ?? DEFAULT_HANDOVER_TIMEOUT_MS);
    } catch (err) {
      this.o.log.warn({ child: id, to, err: (err as Error).message }, 'handover failed; the next instance starts fresh');
      return;
    }
    if (state === undefined) return;
    // No link to `to` yet (a heal that reaches this node last, calls.ts): wait for one, within the handover timeout.
    // Not once the instance was stopped meanwhile (the lease ran out: local-instances.ts `hurry`).
    const waitMs = (): number => (this.o.local.child(id)?.status === 'running' ? (this.o.config.handoverTimeoutMs ?? DEFAULT_HANDOVER_TIMEOUT_MS) : 0);
    let target = to;
    const tried = new Set<string>();
    for (;;) {
      tried.add(target);
      const sending = this.calls.sendHandover(id, rev, target, state, waitMs());
      // While it waits for a link: placement picking another node ends the wait (the target went down, calls.ts).
      const dest = target;
      let watch: TimerHandle | undefined;
      const check = (): void => {
        watch = undefined;
        if (!this.calls.waitsForLink(id, dest)) return;
        if (this.stopped || this.reconciler.view(id).owner !== dest) return this.calls.abandonWait(id, dest);
        watch = this.o.clock.setTimeout(check, HANDOVER_WATCH_MS);
      };
      watch = this.o.clock.setTimeout(check, HANDOVER_WATCH_MS);
      const result = await sending;
      if (watch !== undefined) this.o.clock.clearTimeout(watch);
      if (result === 'sent') {
        this.o.log.info(
          { child: id, to: target },
          "sent the child's state to its next node (unacknowledged: a link lost before it arrives loses it, and the next instance starts fresh)",
        );
        return;
      }
      if (result === 'not-sent') return;
      // Race "the node it goes to dies during the handover" (calls.ts): the node placement picks now, once membership
      // has taken the loss in (a turn later); this node, or none yet, or one already tried: kept here to take back.
      await new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, 0));
      const next = this.stopped ? undefined : this.reconciler.view(id).owner;
      if (next === undefined || next === this.o.node || tried.has(next) || !isLinked(this.o.members().find((m) => m.name === next)?.status ?? 'down')) {
        this.calls.keep(id, rev, target, state);
        this.o.log.warn(
          { child: id, to: target },
          `${target} did not take the child's state (down, or no longer where placement puts it): kept here, for the instance that starts here next` +
            (next !== undefined && next !== this.o.node ? ` (the next instance on ${next} starts fresh)` : ''),
        );
        return;
      }
      this.o.log.info(
        { child: id, was: target, to: next },
        `${target} did not take the child's state (down, or no longer where placement puts it): handing it to ${next}`,
      );
      target = next;
    }
  }

  /**
   * A graceful leave (node.stop): hands over the state of every instance
   * here to the node that takes it next, as seen when the leave began
   * (prepareStop), before the children are stopped.
   */
  async handOverForLeave(): Promise<void> {
    const targets = this.leaveTargets;
    this.leaveTargets = new Map();
    await Promise.all([...targets].map(([id, t]) => this.handOver(id, t.rev, t.to)));
  }

  /** Where each instance here goes when this node leaves (prepareStop). */
  private leaveTargets = new Map<string, { rev: Ver; to: string }>();

  /** Removes a pin; placement decides again. */
  unpin(id: string): void {
    const live = this.desired.live(id);
    if (!live) throw this.noChild(id);
    this.desired.pin(id, live, null);
  }

  /** Moves every child off `node` and keeps new ones away. */
  drain(node: string): void {
    this.setDrain(node, true);
  }

  /** Lets `node` take children again after drain. Throws DistError `unknown-node` or `ineligible-node` (an observer). */
  undrain(node: string): void {
    this.setDrain(node, false);
  }

  /** Pauses (or resumes) rebalancing cluster-wide: running children stay put; pins and drains still move them. */
  setRebalancing(paused: boolean): void {
    this.desired.setPause(paused);
  }

  /** Whether rebalancing is paused cluster-wide (setRebalancing), as this node's view of the desired state says. */
  get rebalancingPaused(): boolean {
    return this.reconciler.paused;
  }

  /** The members being drained, sorted by name. */
  draining(): string[] {
    return this.reconciler.draining();
  }

  /**
   * Instances of children stopped for good (a terminate floor and no live
   * spec) that still run where this node sees them: in available mode a
   * member cut off from the others runs a copy of each child, and stops it
   * only once they hear it again. whichChildren('global') lists live specs
   * only; an observer shows these too (observer/snapshot.ts).
   */
  terminatedInstances(): Array<{ id: string; instances: Array<{ node: string; pid: string; osPid?: number }> }> {
    const out: Array<{ id: string; instances: Array<{ node: string; pid: string; osPid?: number }> }> = [];
    for (const v of this.reconciler.views())
      if (!v.live && v.register.floor !== undefined && v.runners.length > 0) out.push({ id: v.id, instances: v.runners.map(instanceOf) });
    return out;
  }

  /** The instances this node runs (one entry per local instance). */
  whichChildren(scope: 'local'): LocalChild[];
  /** Every child with a live spec cluster-wide, as this node sees it; an unchanged child keeps the same object between calls. */
  whichChildren(scope: 'global'): GlobalChild[];
  whichChildren(scope: 'local' | 'global'): LocalChild[] | GlobalChild[] {
    if (scope === 'local') {
      return this.instances.children().map((c) => ({
        id: c.id,
        node: this.o.node,
        pid: c.pid,
        status: c.status,
        restarts: c.restarts,
        pin: this.desired.live(c.id)?.pin?.node ?? undefined,
        lastError: c.lastError,
      }));
    }
    const out: GlobalChild[] = [];
    for (const v of this.reconciler.views()) {
      if (!v.live) continue;
      // A view is reused while nothing about its child changed, and so is its listing entry: readers
      // (the gateway's state) can tell an unchanged child by identity instead of comparing it.
      let g = this.listed.get(v);
      if (g === undefined) this.listed.set(v, (g = globalChild(v, v.live)));
      out.push(g);
    }
    return out;
  }

  /** The listing entry of each current view (globalChild is a function of the view alone). */
  private readonly listed = new WeakMap<ChildView, GlobalChild>();

  /** This node's calls in figures: outstanding, waiting, being delivered, handovers held, and counters since start. */
  callFigures(): CallFigures {
    return this.calls.figures();
  }

  /** How many cluster-wide children are in each global status, and how many instances this node runs. */
  countChildren(): ChildCountsGlobal {
    const counts = emptyCounts(this.instances.count);
    for (const v of this.reconciler.views()) countInto(counts, v);
    return counts;
  }

  /** Why a child is where it is: each candidate's score, the filters that excluded nodes, the pin, and what it waits for. */
  explain(id: string): Explanation {
    const v = this.reconciler.view(id);
    if (!v.live) throw this.noChild(id);
    const failures = new Map([...v.failures].map(([n, f]) => [n, f.failures]));
    const p = place({
      id,
      spec: v.live.spec,
      candidates: this.reconciler.candidates,
      pin: v.live.pin?.node,
      failures,
      maxStartFailures: this.o.config.maxStartFailures,
    });
    return {
      id,
      spec: v.live.spec,
      owner: v.owner,
      by: v.by,
      pin: v.live.pin?.node ?? undefined,
      paused: this.reconciler.paused,
      ...(v.resumeTo !== undefined ? { resumeTo: v.resumeTo } : {}),
      instances: v.runners.map(instanceOf),
      candidates: p.verdicts,
      waiting: this.reconciler.waiting(),
    };
  }

  private setDrain(node: string, draining: boolean): void {
    const m = this.reconciler.candidates.find((c) => c.name === node);
    if (!m) throw new DistError('unknown-node', `no member named ${JSON.stringify(node)} (members: ${memberNames(this.reconciler.candidates)})`);
    if (m.role !== 'member') throw new DistError('ineligible-node', `${node} is an observer; it runs no children`);
    this.desired.setDrain(node, draining);
  }

  // ---- events in -------------------------------------------------------------

  private onGroupEvent(e: PgEvent): void {
    const parsed = parseGroup(e.group);
    if (!parsed) return;
    this.reconciler.groupChanged(parsed.id, parsed.kind === 'run');
    if (parsed.kind === 'run') this.calls.childChanged(parsed.id);
    if (parsed.kind !== 'claim') this.changed();
  }

  /** A child's instance ended for good on its own: remove its spec from the cluster (OTP's dynamic supervisor does so too). */
  private finished(id: string, rev: Ver, reason: string): void {
    if (this.stopped) return;
    if (this.desired.live(id)?.rev !== rev) return;
    this.o.log.info({ child: id, reason }, 'child finished; removing its spec from the cluster');
    this.desired.terminate(id);
  }

  /** Joins saved registers into this member's replica (before any link is up). */
  private restore(saved: SavedState): void {
    const { children, flags, roster, skipped, reasons } = this.persistence!.restore(saved);
    this.restoredState = children + flags + roster > 0;
    if (skipped > 0) this.o.log.warn({ skipped, reasons }, 'ignoring invalid records in the saved desired state');
    this.o.log.info({ children, flags, roster }, 'restored the saved desired state');
  }

  // ---- waiting -------------------------------------------------------------------

  /** Whether every up member (but this node) holds the write made at `tick`, and (`--data-dir`) this node has saved it. */
  private heldByAll(tick: number): boolean {
    return (this.persistence?.waitTick ?? Infinity) >= tick && this.desired.heldByAll(tick, this.reconciler.upPeers());
  }

  /** `id` was reconciled: calls to it and its waiters look again. */
  private settleWaiters(id: string): void {
    this.calls.childChanged(id);
    this.waiters.settle(id);
  }

  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      this.emit('change');
    });
  }

  private emitEvent(event: DistEvent): void {
    try {
      this.emit('event', event);
    } catch (err) {
      this.o.log.error({ err, event: event.type }, 'event listener threw');
    }
  }
}

/** The members among `candidates` (observers run no children, so they are no answer to "which node?"), for an error. */
function memberNames(candidates: readonly Candidate[]): string {
  const names = candidates.filter((c) => c.role === 'member').map((c) => c.name);
  return names.length > 0 ? names.join(', ') : 'none';
}

/** The smallest of `names`, or undefined for none. */
function firstByName(names: readonly string[]): string | undefined {
  let first: string | undefined;
  for (const n of names) if (first === undefined || n < first) first = n;
  return first;
}
