/**
 * The distributed supervisor: a child started from any node runs exactly
 * once in the cluster, on a node chosen by placement, and moves when the
 * topology changes. No leader: like Pogo, all state lives in process groups
 * of one scope (tags.ts), and every node runs the same idempotent reconcile.
 *
 * Desired state = registers (registers.ts): every member holds a copy of
 * every child register (spec, pin), of the drain flags and of the pause
 * flag, so a spec outlives any set of nodes as long as one member survives.
 * Actual state = `run:<id>` memberships, joined by each live instance's own
 * pid (pg drops them when the node or its link dies), and `fail:<id>`
 * entries for failed starts.
 *
 * Reconcile (event-driven: every change of a group, of membership or of a
 * local child marks the ids it touches dirty; debounced passes handle them,
 * in slices of RECONCILE_SLICE ids so that a node never stops answering
 * heartbeats, dirty ids before the sweep a topology change starts; a slow
 * anti-entropy pass re-checks everything as a safety net). For one id, a
 * node:
 *   1. mirrors the register: if its copy differs from the join of all
 *      copies, it replaces its copy (members only);
 *   2. computes the owner with placement.ts (the pin, drains, failures);
 *   3. acts on its own instance only — each node is the only writer of its
 *      own memberships:
 *      - owner, not running it: start it — unless another node still runs
 *        it and the spec's handoff is stop-first (then wait: no overlap);
 *      - running it, not the owner: stop it when the owner already runs it
 *        (start-first, or a duplicate), or at once for stop-first — as a
 *        planned move, rate-limited and held back while rebalancing is
 *        paused (pins and drains still move);
 *      - several instances (after a netsplit heals): the owner's survives,
 *        else the best-ranked runner's; the others stop (duplicate-resolved);
 *      - the spec is gone (terminated): stop it.
 *   In majority mode a node that sees no majority of `expectedMembers`
 *   stops its children and starts nothing.
 *
 * A node joins placement only once it is *ready*: linked to every member it
 * knows of and holding their groups (or after `readyTimeoutMs`). Otherwise a
 * joining node could start a child before it learns that another node runs
 * it — the duplicates Pogo shows during joins.
 *
 * Start failures: the owner retries a failed start with backoff and
 * publishes its count in `fail:<id>`; after `maxStartFailures` the node is
 * skipped and the next node in HRW order takes over. When every node has
 * failed, the child is visible as failing everywhere and is retried after
 * `failureResetMs` — never in a hot loop.
 *
 * Cost: work is proportional to the ids that changed; a topology change
 * re-places every id once (O(children × members)); an idle node does nothing
 * but the anti-entropy pass.
 *
 * Durable desired state (`persistence`, store.ts): at start a member joins
 * the registers it saved back into its own entries (before it is ready, so
 * readiness rules are unchanged); every change of its own registers is
 * saved, coalesced, and once more on a graceful stop.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../clock.js';
import { deepFreeze, type JsonValue, type PgEvent, type PgMember, type ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { Member } from '../membership.js';
import { canonicalOf } from '../protocol.js';
import type { Random } from '../random.js';
import { ChildSpecSchema, parseChildSpec, sameSpec, trustSpec, type ChildSpec } from '../supervisor/child-spec.js';
import type { ChildEvent, ChildStatus, LocalSupervisor } from '../supervisor/local-supervisor.js';
import { failingBackoff } from '../supervisor/restart-policy.js';
import { DistError } from './errors.js';
import { owner as computeOwner, hrwScore, place, type Candidate, type CandidateVerdict } from './placement.js';
import { VersionClock, asJson, highestRev, liveSpec, mergeChild, mergeFlag, sameRegister, verTime, type ChildRegister, type FlagRegister, type SpecEntry, type Ver } from './registers.js';
import { SAVE_COALESCE_MS, type DesiredState } from './store.js';
import { childIdOf, parseTag, tag, type ParsedTag } from './tags.js';

/** Ids one reconcile slice looks at before it yields to the event loop (see `reconcile`). */
export const RECONCILE_SLICE = 256;

export type MoveReason = 'join' | 'leave' | 'pin' | 'drain' | 'failure' | 'heal';

export type DistEvent =
  | { type: 'placed'; id: string; node: string | undefined; by: 'pin' | 'hash' | 'none'; at: number }
  | { type: 'started'; id: string; node: string; pid: string; at: number }
  | { type: 'stopped'; id: string; node: string; pid: string; at: number }
  | { type: 'moved'; id: string; from: string; to: string; reason: MoveReason; at: number }
  | { type: 'failed'; id: string; node: string; failures: number; error: string; at: number }
  | { type: 'duplicate-resolved'; id: string; survivor: { node: string; pid: string }; stopped: Array<{ node: string; pid: string }>; at: number }
  | { type: 'node-up'; node: string; role: string; at: number }
  | { type: 'node-down'; node: string; role: string; reason: string; at: number };

export type GlobalStatus = 'running' | 'pending' | 'moving' | 'duplicate' | 'failing' | 'unplaceable';

export interface GlobalChild {
  id: string;
  spec: ChildSpec;
  rev: Ver;
  status: GlobalStatus;
  /** Where it runs (the first instance, if several). */
  node: string | undefined;
  pid: string | undefined;
  /** Every live instance (more than one only transiently). */
  instances: Array<{ node: string; pid: string }>;
  /** Restarts in place of the current instance, on its node. */
  restarts: number;
  /** Where placement says it must run. */
  owner: string | undefined;
  pin: string | undefined;
  failures: Array<{ node: string; failures: number; lastError: string }>;
  lastError: string | undefined;
}

export interface LocalChild {
  id: string;
  node: string;
  pid: string | undefined;
  status: ChildStatus;
  restarts: number;
  pin: string | undefined;
  lastError: string | undefined;
}

export interface ChildCountsGlobal {
  specs: number;
  running: number;
  pending: number;
  moving: number;
  duplicate: number;
  failing: number;
  unplaceable: number;
  local: number;
}

export interface Explanation {
  id: string;
  spec: ChildSpec;
  owner: string | undefined;
  by: 'pin' | 'hash' | 'none';
  pin: string | undefined;
  paused: boolean;
  instances: Array<{ node: string; pid: string }>;
  candidates: CandidateVerdict[];
}

export interface DistributedOptions {
  node: string;
  isMember: boolean;
  clock: Clock;
  random: Random;
  log: Logger;
  groups: ProcessGroups;
  local: LocalSupervisor;
  /** This node's view of the cluster. */
  members(): Member[];
  /** A pid for this node's own register memberships. */
  pid: string;
  scope: string;
  netsplit: 'available' | 'majority';
  expectedMembers: number | undefined;
  maxMovesPerSecond: number;
  maxStartFailures: number;
  startChildTimeoutMs: number;
  antiEntropyIntervalMs: number;
  failureResetMs: number;
  tombstoneTtlMs: number;
  readyTimeoutMs: number;
  /** Publishes this node's readiness in its member metadata. */
  setReady(ready: boolean): void;
  /** Whether the node was given seeds: then it is not ready before it has linked to someone. */
  hasSeeds: boolean;
  /** This node runs no children (an observer, or `pogo ctl`). */
  observer?: boolean;
  /** True when dialling this address has failed and no link exists (a dead member learned from gossip). */
  dialFailed?(address: string): boolean;
  /** Durable desired state (members with a data dir): what to restore at start, and where to save this member's registers. */
  persistence?: { restored: DesiredState | undefined; save(state: DesiredState): void };
}

const VerSchema = z.string().min(18).max(300);
const ChildRegisterSchema = z
  .object({
    floor: VerSchema.optional(),
    floorAt: z.number().int().min(0).optional(),
    specs: z.array(z.object({ rev: VerSchema, spec: ChildSpecSchema, pin: z.object({ node: z.string().nullable(), ver: VerSchema }).strict().optional() }).strict()).max(64),
  })
  .strict();
const FlagSchema = z.object({ value: z.boolean(), ver: VerSchema }).strict();
/** A live instance: the spec revision it runs, and how often its node restarted it in place. */
const RunValueSchema = z.object({ rev: VerSchema, restarts: z.number().int().min(0).optional() }).strict();
const FailValueSchema = z.object({ rev: VerSchema, failures: z.number().int().min(0), lastError: z.string().max(2000), at: z.number() }).strict();

/** Each member candidate's placement inputs as one text, by name. */
function memberKeys(candidates: readonly Candidate[]): Map<string, string> {
  return new Map(candidates.filter((c) => c.role === 'member').map((c) => [c.name, JSON.stringify(c)]));
}

/**
 * The members that stopped being candidates when nothing else changed (the
 * rest exactly as before, none new), or undefined: then owners may change
 * anywhere. Empty when nothing changed for placement.
 */
function membersLost(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Set<string> | undefined {
  const lost = new Set<string>();
  for (const [name, key] of after) {
    const was = before.get(name);
    if (was === key) continue;
    if (was === undefined) return undefined;
    // Still listed but no longer up (down, not yet synced), and otherwise as before: lost.
    const previous = JSON.parse(was) as Candidate;
    if (!previous.up || JSON.stringify({ ...previous, up: false }) !== key) return undefined;
    lost.add(name);
  }
  for (const name of before.keys()) if (!after.has(name)) lost.add(name);
  return lost;
}

/** What a reconcile of one id read (see `DistributedSupervisor.signature`). */
interface Signature {
  epoch: number;
  child: number;
  run: number;
  fail: number;
  /** The local instance's pid while it runs here; undefined when the child is not managed here. */
  local: string | undefined;
}

interface ChildState {
  id: string;
  register: ChildRegister;
  live: SpecEntry | undefined;
  runners: Array<{ node: string; pid: string; rev: Ver; restarts: number }>;
  failures: Map<string, { failures: number; lastError: string }>;
  owner: string | undefined;
  by: 'pin' | 'hash' | 'none';
  /** The placement epoch `owner` was computed under. */
  ownerEpoch: number;
  lastPin: string | null | undefined;
  /** Why the owner last changed: the reason a following move reports. */
  cause: MoveReason;
  lastRunner: string | undefined;
  /** What this id's last reconcile saw (see `signature`): a sweep skips it while that is unchanged. */
  sig: Signature | undefined;
  /**
   * Our copy (the group value) and the register it was last written from or
   * found equal to. Both are frozen, so while both objects are the same the
   * copy needs no comparison (a restarted node had never compared its copies,
   * and did all of them in the sweep of its first failover: a tenth of it).
   */
  own: { value: unknown; register: ChildRegister } | undefined;
  /** Its group names, made once (a reconcile reads all three, a sweep stamps all three). */
  readonly groups: ChildGroups;
}

interface ChildGroups {
  readonly child: string;
  readonly run: string;
  readonly fail: string;
}

interface Waiter {
  check(): boolean;
  timer: TimerHandle;
}

interface ManagedChild {
  rev: Ver;
  /** Failed starts here (initial failures and crash loops past intensity). */
  failures: number;
  lastError: string;
  retryAt: number;
  stableTimer: TimerHandle | undefined;
}

export class DistributedSupervisor extends EventEmitter<{ event: [DistEvent] }> {
  private readonly state = new Map<string, ChildState>();
  private readonly managed = new Map<string, ManagedChild>();
  private readonly drains = new Map<string, boolean>();
  private paused = false;
  private readonly dirty = new Set<string>();
  /** Dirty ids that go first: an instance appeared or went (after a node dies, its orphans). */
  private readonly urgent = new Set<string>();
  private flagsDirty = true;
  private topologyDirty = true;
  /** The next sweep also covers ids known only from groups (the anti-entropy pass). */
  private fullSweep = false;
  private placementKey = '';
  private placementEpoch = 0;
  /** Each member candidate as one text, by name, as of the last `notePlacementInputs`. */
  private placementMembers = new Map<string, string>();
  /** Ids a topology or flag change asked to look at again, and how far the slices have got. */
  private sweep: string[] = [];
  private sweepAt = 0;
  /** The member candidates (one JSON text per name) and quorum the last sweep was built for. */
  private sweptFor: { members: Map<string, string>; quorum: boolean; paused: boolean } | undefined;
  private reconcileTimer: TimerHandle | undefined;
  private antiEntropyTimer: TimerHandle | undefined;
  private deferTimer: TimerHandle | undefined;
  private readonly deferred = new Set<string>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly vclock: VersionClock;
  private readonly validated = new WeakMap<object, unknown>();
  private readonly joined = new WeakMap<ChildRegister, ChildRegister>();
  private candidates: Candidate[] = [];
  /** The member table as of the last `refreshTopology`, by name. */
  private memberByName = new Map<string, Member>();
  private upNodes = new Set<string>();
  private quorum = true;
  private ready = false;
  private readyRetry: TimerHandle | undefined;
  private readonly startedAt: number;
  private tokens: number;
  private tokensAt: number;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private initialChildren: unknown[] = [];
  private saveTimer: TimerHandle | undefined;
  private saveFailing = false;
  /** Observes the wall-clock duration of each reconcile pass (metrics); unset by default. */
  onReconcile: ((seconds: number) => void) | undefined;

  constructor(private readonly o: DistributedOptions) {
    super();
    this.vclock = new VersionClock(o.node, () => o.clock.now());
    this.startedAt = o.clock.now();
    this.tokens = Math.max(1, o.maxMovesPerSecond);
    this.tokensAt = this.startedAt;
  }

  start(): void {
    this.o.groups.createScope(this.o.scope);
    if (this.o.persistence?.restored) this.restore(this.o.persistence.restored);
    const monitor = this.o.groups.monitor(this.o.scope, undefined, (e) => this.onGroupEvent(e));
    this.unsubscribe = monitor.unsubscribe;
    for (const group of monitor.snapshot.keys()) this.markGroup(group);
    this.o.local.on('child', this.onLocalChild);
    this.checkReady();
    if (!this.ready) this.o.clock.setTimeout(() => this.checkReady(true), this.o.readyTimeoutMs);
    this.scheduleAntiEntropy();
    this.schedule();
  }

  /**
   * Children this node brings along (config `children`): once the node is
   * ready, each one whose id the cluster does not hold yet is started — so
   * they come back after a restart of the whole cluster, as in Pogo.
   */
  setInitialChildren(specs: unknown[]): void {
    this.initialChildren = specs;
    if (this.ready) this.startInitialChildren();
  }

  private startInitialChildren(): void {
    for (const spec of this.initialChildren) {
      const id = (spec as { id?: unknown }).id;
      if (typeof id === 'string' && this.refresh(id).live) continue;
      this.startChild(spec).catch((err: unknown) => {
        const code = (err as { code?: string }).code;
        if (code !== 'timeout') this.o.log.warn({ child: id, code, err: (err as Error).message }, 'initial child did not start');
      });
    }
  }

  /**
   * First step of a graceful stop: tell the cluster this node no longer
   * takes children, so the others become their owners (and start each one
   * as soon as its instance here has stopped).
   */
  prepareStop(): void {
    this.ready = false;
    this.o.setReady(false);
    if (this.saveTimer) this.saveState();
    this.stop();
  }

  /** Stops timers; the node's shutdown stops the local children. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.o.local.off('child', this.onLocalChild);
    for (const t of [this.reconcileTimer, this.antiEntropyTimer, this.deferTimer, this.saveTimer, this.readyRetry]) this.o.clock.clearTimeout(t);
    for (const m of this.managed.values()) this.o.clock.clearTimeout(m.stableTimer);
    for (const set of this.waiters.values()) for (const w of set) this.o.clock.clearTimeout(w.timer);
    this.waiters.clear();
  }

  /** Called by the node on membership changes. */
  onMembership(event: { kind: string; member: Member; reason?: string }): void {
    const at = this.o.clock.now();
    const role = event.member.role;
    if (event.kind === 'member-up') this.emitEvent({ type: 'node-up', node: event.member.name, role, at });
    if (event.kind === 'member-down' || event.kind === 'member-left') this.emitEvent({ type: 'node-down', node: event.member.name, role, reason: event.reason ?? event.kind, at });
    this.topologyDirty = true;
    this.checkReady();
    this.schedule();
  }

  get isReady(): boolean {
    return this.ready;
  }

  // ---- API -----------------------------------------------------------------

  /**
   * Starts a child somewhere in the cluster. Resolves once it runs and every
   * up member holds its spec; rejects with a DistError.
   */
  startChild(input: unknown): Promise<{ id: string; node: string; pid: string }> {
    if (this.stopped) return Promise.reject(new DistError('shutting-down', 'the node is shutting down'));
    let spec: ChildSpec;
    try {
      spec = parseChildSpec(input);
    } catch (err) {
      return Promise.reject(new DistError('invalid-spec', (err as Error).message));
    }
    this.refreshTopology();
    const st = this.refresh(spec.id);
    if (st.live && !sameSpec(st.live.spec, spec)) {
      return Promise.reject(new DistError('conflict', `a child with id ${JSON.stringify(spec.id)} already exists with a different spec; terminate it first or use another id`));
    }
    if (this.withoutMajority) {
      return Promise.reject(new DistError('no-quorum', `this node sees no majority of the ${this.o.expectedMembers} expected members; nothing can start`));
    }
    let rev: Ver;
    if (st.live) {
      rev = st.live.rev;
    } else {
      const probe = place({ id: spec.id, spec, candidates: this.candidates, pin: undefined, failures: new Map(), maxStartFailures: this.o.maxStartFailures });
      if (!probe.owner && this.candidates.some((c) => c.up && c.role === 'member')) {
        const reasons = probe.verdicts.map((v) => `${v.node}: ${v.excludedBy.join(', ')}`).join('; ');
        return Promise.reject(new DistError('unplaceable', `no node can run ${spec.id} (${reasons})`));
      }
      rev = this.vclock.next();
      this.writeChild(spec.id, mergeChild([st.register, { specs: [{ rev, spec }] }]));
    }
    const id = spec.id;
    return this.wait(id, `start ${id}`, (resolve, reject) => {
      const s = this.state.get(id);
      if (!s) return false;
      if (s.register.floor !== undefined && s.register.floor >= rev) {
        reject(new DistError('terminated', `child ${id} was terminated before it started`));
        return true;
      }
      const live = s.live;
      if (live && live.rev !== rev) {
        if (!sameSpec(live.spec, spec)) {
          reject(new DistError('conflict', `another start of ${id} with a different spec won (it was requested first)`));
          return true;
        }
        rev = live.rev;
      }
      const runner = s.runners.find((r) => r.rev === rev);
      if (runner && this.heldByAllMembers(id, rev)) {
        resolve({ id, node: runner.node, pid: runner.pid });
        return true;
      }
      if (!s.owner && s.failures.size > 0 && this.candidates.some((c) => c.up && c.role === 'member')) {
        const last = [...s.failures.values()].map((f) => f.lastError).join('; ');
        reject(new DistError('start-failed', `child ${id} failed to start on every eligible node: ${last}`));
        return true;
      }
      return false;
    });
  }

  /** Stops a child wherever it runs and removes its spec; also cancels a pending start. */
  terminateChild(id: string): Promise<void> {
    const st = this.refresh(id);
    const floor = highestRev(st.register);
    if (!st.live || floor === undefined) return Promise.reject(new DistError('not-found', `no child with id ${JSON.stringify(id)}`));
    this.writeTombstone(id, st.register, floor);
    return this.wait(id, `terminate ${id}`, (resolve) => {
      const s = this.state.get(id);
      // Done when no instance of what it covers runs, as far as this node sees, and every up member
      // holds the tombstone. Race "terminate during a stop-first move": the old instance has left,
      // the move's target has not started yet; resolving on our view alone let the target start the
      // child just after (reliability/repro-terminate-during-move.mjs). Links are FIFO: a run join
      // a member sent before it mirrored the tombstone reaches us before its tombstone copy does.
      const done = !s || (s.runners.every((r) => r.rev > floor) && !this.managed.has(id) && this.tombstoneHeldByAllMembers(id, floor));
      if (done) resolve(undefined);
      return done;
    });
  }

  /** Pins a child to `node` (forced placement) and resolves once it runs there. */
  moveChild(id: string, node: string): Promise<{ id: string; node: string; pid: string }> {
    this.refreshTopology();
    const st = this.refresh(id);
    if (!st.live) return Promise.reject(new DistError('not-found', `no child with id ${JSON.stringify(id)}`));
    const target = this.candidates.find((c) => c.name === node);
    if (!target) return Promise.reject(new DistError('unknown-node', `no member named ${JSON.stringify(node)} (known: ${this.candidates.map((c) => c.name).join(', ')})`));
    const verdict = place({ id, spec: st.live.spec, candidates: [target], pin: undefined, failures: new Map(), maxStartFailures: this.o.maxStartFailures }).verdicts[0]!;
    if (verdict.excludedBy.length > 0) return Promise.reject(new DistError('ineligible-node', `${node} cannot run ${id}: ${verdict.excludedBy.join(', ')}`));
    const rev = st.live.rev;
    this.writeChild(id, mergeChild([st.register, { specs: [{ ...st.live, pin: { node, ver: this.vclock.next() } }] }]));
    return this.wait(id, `move ${id} to ${node}`, (resolve, reject) => {
      const s = this.state.get(id);
      if (!s?.live || s.live.rev !== rev) {
        reject(new DistError('terminated', `child ${id} was terminated during the move`));
        return true;
      }
      const runner = s.runners.find((r) => r.node === node);
      if (runner && s.runners.length === 1) {
        resolve({ id, node, pid: runner.pid });
        return true;
      }
      return false;
    });
  }

  /** Removes a pin; placement decides again. */
  unpin(id: string): void {
    const st = this.refresh(id);
    if (!st.live) throw new DistError('not-found', `no child with id ${JSON.stringify(id)}`);
    this.writeChild(id, mergeChild([st.register, { specs: [{ ...st.live, pin: { node: null, ver: this.vclock.next() } }] }]));
  }

  /** Moves every child off `node` and keeps new ones away. */
  drain(node: string): void {
    this.setDrain(node, true);
  }

  undrain(node: string): void {
    this.setDrain(node, false);
  }

  /** Pauses (or resumes) rebalancing cluster-wide: running children stay put; pins and drains still move them. */
  setRebalancing(paused: boolean): void {
    this.writeFlag(tag.pause, { value: paused, ver: this.vclock.next() });
  }

  get rebalancingPaused(): boolean {
    return this.paused;
  }

  draining(): string[] {
    return [...this.drains.entries()].filter(([, d]) => d).map(([n]) => n).sort();
  }

  whichChildren(scope: 'local'): LocalChild[];
  whichChildren(scope: 'global'): GlobalChild[];
  whichChildren(scope: 'local' | 'global'): LocalChild[] | GlobalChild[] {
    if (scope === 'local') {
      return [...this.managed.keys()].flatMap((id) => {
        const c = this.o.local.child(id);
        if (!c) return [];
        const st = this.state.get(id);
        return [{ id, node: this.o.node, pid: c.pid, status: c.status, restarts: c.restarts, pin: st?.live?.pin?.node ?? undefined, lastError: c.lastError }];
      });
    }
    this.catchUp();
    const out: GlobalChild[] = [];
    for (const st of this.state.values()) if (st.live) out.push(this.globalView(st, st.live));
    return out;
  }

  countChildren(): ChildCountsGlobal {
    this.catchUp();
    const counts: ChildCountsGlobal = { specs: 0, running: 0, pending: 0, moving: 0, duplicate: 0, failing: 0, unplaceable: 0, local: this.managed.size };
    for (const st of this.state.values()) {
      if (!st.live) continue;
      counts.specs++;
      counts[this.status(st)]++;
    }
    return counts;
  }

  /** Why a child is where it is: each candidate's score, the filters that excluded nodes, the pin. */
  explain(id: string): Explanation {
    this.catchUp();
    const st = this.refresh(id);
    if (!st.live) throw new DistError('not-found', `no child with id ${JSON.stringify(id)}`);
    const p = place({ id, spec: st.live.spec, candidates: this.candidates, pin: st.live.pin?.node, failures: new Map([...st.failures].map(([n, f]) => [n, f.failures])), maxStartFailures: this.o.maxStartFailures });
    return { id, spec: st.live.spec, owner: p.owner, by: p.by, pin: st.live.pin?.node ?? undefined, paused: this.paused, instances: st.runners.map((r) => ({ node: r.node, pid: r.pid })), candidates: p.verdicts };
  }

  // ---- events in -------------------------------------------------------------

  private onGroupEvent(e: PgEvent): void {
    const t = parseTag(e.group);
    // Race "a member dies": it takes its copy of every register with it, and looking at every
    // child again held the survivors' failover back (3,000 ids for 1,000 orphans). A copy that
    // leaves can only take from the join (a lattice max), and our own copy already holds the
    // join: nothing to do for that id now, unless a caller waits on it (fewer copies to wait
    // for). Its stamp moved, so the next anti-entropy pass still looks.
    if (e.kind === 'leave' && t?.kind === 'child' && !this.waiters.has(t.id)) return;
    this.markTag(t);
    this.schedule();
  }

  private markGroup(group: string, into: Set<string> = this.dirty): void {
    this.markTag(parseTag(group), into);
  }

  private markTag(t: ParsedTag, into: Set<string> = this.dirty): void {
    if (!t) return;
    if (t.kind === 'drain' || t.kind === 'pause') {
      this.flagsDirty = true;
      return;
    }
    (t.kind === 'run' && into === this.dirty ? this.urgent : into).add(t.id);
  }

  private readonly onLocalChild = (e: ChildEvent): void => {
    const m = this.managed.get(e.id);
    if (!m) return;
    if (e.to === 'running' && e.pid) {
      this.o.groups.join(this.o.scope, tag.run(e.id), e.pid, { rev: m.rev, restarts: this.o.local.child(e.id)?.restarts ?? 0 });
      this.o.clock.clearTimeout(m.stableTimer);
      const spec = this.state.get(e.id)?.live?.spec;
      if (m.failures > 0 && spec) {
        m.stableTimer = this.o.clock.setTimeout(() => {
          m.stableTimer = undefined;
          if (this.o.local.child(e.id)?.status === 'running') this.clearFailures(e.id, m);
        }, spec.maxSeconds * 1000);
      }
    }
    if (e.to === 'failing') this.recordFailure(e.id, m, this.o.local.child(e.id)?.lastError ?? e.reason);
    if ((e.to === 'stopped' || e.to === 'removed') && e.exit && !this.stopped) {
      // The child ended and its restart policy says so (a transient child
      // that finished, a temporary one): it is done everywhere, as a child of
      // OTP's dynamic supervisor is removed when it will not be restarted.
      this.managed.delete(e.id);
      this.o.clock.clearTimeout(m.stableTimer);
      if (this.o.local.child(e.id)?.status === 'stopped') this.o.local.deleteChild(e.id);
      const st = this.refresh(e.id);
      const floor = highestRev(st.register);
      if (st.live?.rev === m.rev && floor !== undefined) {
        this.o.log.info({ child: e.id, reason: e.reason }, 'child finished; removing its spec from the cluster');
        this.writeTombstone(e.id, st.register, floor);
      }
    }
    this.dirty.add(e.id);
    this.schedule();
  };

  // ---- reconcile ---------------------------------------------------------------

  private schedule(): void {
    if (this.stopped || this.reconcileTimer) return;
    this.reconcileTimer = this.o.clock.setTimeout(() => {
      this.reconcileTimer = undefined;
      // Real elapsed time for metrics only; decisions never read it.
      const began = this.onReconcile ? performance.now() : 0;
      try {
        this.reconcile();
      } catch (err) {
        this.o.log.error({ err }, 'reconcile failed');
      }
      this.onReconcile?.((performance.now() - began) / 1000);
    }, 0);
  }

  private scheduleAntiEntropy(): void {
    this.antiEntropyTimer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.antiEntropy();
      this.scheduleAntiEntropy();
    }, this.o.antiEntropyIntervalMs);
  }

  /**
   * The safety net: a sweep over every id, including ids known only from
   * groups. An id whose groups, placement inputs and local instance are as
   * its last reconcile saw them is skipped (see `signature`), so an idle
   * node with 10,000 children pays for a few map lookups per child, not a
   * reconcile.
   */
  private antiEntropy(): void {
    this.fullSweep = true;
    this.flagsDirty = true;
    this.schedule();
  }

  /**
   * One slice of reconciliation: at most RECONCILE_SLICE ids, then the rest
   * on the next timer turn, so a pass over 20,000 children never holds the
   * event loop (heartbeats, frames, API calls) for long. Ids some event
   * touched go first — after a node dies those are its orphans, the
   * children that must start somewhere now — then the sweep over every id
   * that a topology or flag change (or the anti-entropy timer) asks for.
   */
  private reconcile(): void {
    if (this.stopped) return;
    if (this.announcementsChanged()) this.topologyDirty = true;
    if (this.flagsDirty) this.refreshFlags();
    if (this.topologyDirty || this.flagsDirty) {
      this.refreshTopology();
      this.notePlacementInputs();
      // Drains are in the candidates; the pause flag and quorum are compared here.
      const sweptFor = { members: this.placementMembers, quorum: this.quorum, paused: this.paused };
      const same = this.sweptFor !== undefined && this.sweptFor.quorum === this.quorum && this.sweptFor.paused === this.paused;
      const lost = same && !this.fullSweep && this.sweep.length === 0 ? membersLost(this.sweptFor!.members, sweptFor.members) : undefined;
      this.sweptFor = sweptFor;
      if (lost !== undefined) {
        // Race "a member died": HRW moves only the ids it owned (its running children are already
        // urgent). Every other owner stands, so the sweep covers those ids alone, not all 3,000.
        // The rest have a stale signature: the next anti-entropy pass still looks at them.
        this.sweep = [];
        for (const st of this.state.values()) if (st.owner !== undefined && lost.has(st.owner)) this.sweep.push(st.id);
      } else {
        // A new sweep replaces one in progress: it covers every id again, under the new topology.
        // Every id with state, then those only the local supervisor or (a full sweep) the groups know.
        const sweep = [...this.state.keys()];
        const extra = new Set<string>();
        for (const id of this.managed.keys()) if (!this.state.has(id)) extra.add(id);
        if (this.fullSweep) {
          for (const group of this.o.groups.groupNames(this.o.scope)) {
            const id = childIdOf(group);
            if (id !== undefined && !this.state.has(id)) extra.add(id);
          }
        }
        for (const id of extra) sweep.push(id);
        this.sweep = sweep;
      }
      this.sweepAt = 0;
      this.fullSweep = false;
    }
    this.topologyDirty = false;
    this.flagsDirty = false;
    let budget = RECONCILE_SLICE;
    for (const ids of [this.urgent, this.dirty]) {
      for (const id of ids) {
        if (budget <= 0) break;
        budget--;
        ids.delete(id);
        this.reconcileOne(id);
      }
    }
    while (budget-- > 0 && this.sweepAt < this.sweep.length) {
      const id = this.sweep[this.sweepAt++]!;
      const st = this.state.get(id);
      const tombstone = st !== undefined && st.register.specs.length === 0 && st.register.floor !== undefined; // expires with time
      if (st !== undefined && !tombstone && this.unchangedSince(st.sig, st)) continue;
      this.reconcileOne(id);
    }
    if (this.sweepAt >= this.sweep.length) {
      this.sweep = [];
      this.sweepAt = 0;
    }
    if (this.urgent.size > 0 || this.dirty.size > 0 || this.sweep.length > 0) this.schedule();
  }

  /**
   * Race "read before the reconcile": a group change is applied to the view
   * by the next reconcile, one timer turn later. A read in between (`pogo ctl
   * ls` the moment its node is ready) would show children as pending that the
   * groups already place. Reads bring the view up to date first; acting on
   * the changes stays with the reconcile, which still has them queued.
   */
  private catchUp(): void {
    if (this.stopped) return;
    if (this.announcementsChanged()) this.topologyDirty = true;
    if (this.topologyDirty) {
      this.refreshTopology();
      this.notePlacementInputs();
    }
    for (const ids of [this.urgent, this.dirty]) for (const id of ids) this.placeForView(this.refresh(id));
    for (const st of this.state.values()) if (st.ownerEpoch !== this.placementEpoch) this.placeForView(st);
  }

  /** Mode `majority` on a side without a majority: nothing runs here, nothing is placed. */
  private get withoutMajority(): boolean {
    return this.o.netsplit === 'majority' && !this.quorum;
  }

  /** The owner as the next reconcile will see it, without acting on it: an id whose owner changed is queued for that reconcile. */
  private placeForView(st: ChildState): void {
    const before = st.owner;
    if (!st.live) this.updateOwner(st, undefined, 'none');
    else if (!this.withoutMajority) this.updateOwner(st, ...this.ownerOf(st, st.live));
    if (st.owner !== before) {
      this.dirty.add(st.id);
      this.schedule();
    }
  }

  private reconcileOne(id: string): void {
    const st = this.refresh(id);
    this.mirror(st);
    this.decide(st);
    this.settleWaiters(id);
    st.sig = this.signature(st);
  }

  /**
   * Everything a reconcile of `id` reads that can change without a clock:
   * its three groups (by their change stamps), the placement inputs (an
   * epoch) and its local instance. Undefined (never skip) while a caller
   * waits on the id or its local instance is not simply running.
   */
  private signature(st: ChildState): Signature | undefined {
    const id = st.id;
    if (this.waiters.has(id)) return undefined;
    let local: string | undefined;
    if (this.managed.has(id)) {
      local = this.o.local.runningPid(id);
      if (local === undefined) return undefined;
    }
    const { groups, scope } = this.o;
    return { epoch: this.placementEpoch, child: groups.stamp(scope, st.groups.child), run: groups.stamp(scope, st.groups.run), fail: groups.stamp(scope, st.groups.fail), local };
  }

  /** Whether `sig` is still `st`'s signature (compared field by field, no text built per id). */
  private unchangedSince(sig: Signature | undefined, st: ChildState): boolean {
    if (sig === undefined) return false;
    const now = this.signature(st);
    return now !== undefined && now.epoch === sig.epoch && now.child === sig.child && now.run === sig.run && now.fail === sig.fail && now.local === sig.local;
  }

  /**
   * Bumps the placement epoch when anything placement reads has changed
   * (members, drains, pause, quorum). Observers never run children, so one
   * coming or going (a desktop app, `pogo ctl`) changes nothing here.
   */
  private notePlacementInputs(): void {
    this.placementMembers = memberKeys(this.candidates);
    const key = JSON.stringify([[...this.placementMembers.values()], this.quorum, this.paused, [...this.drains]]);
    if (key === this.placementKey) return;
    this.placementKey = key;
    this.placementEpoch++;
  }

  /** Peers whose groups we hold: a peer counts as up for placement only once its snapshot has arrived. */
  private announcedPeers = '';

  private announcementsChanged(): boolean {
    const key = [...this.upNodes].filter((n) => n !== this.o.node && this.o.groups.announced(this.o.scope, n)).join(',');
    if (key === this.announcedPeers) return false;
    this.announcedPeers = key;
    return true;
  }

  private refreshFlags(): void {
    const scope = this.o.scope;
    const pause = mergeFlag(this.flagValues(tag.pause));
    this.paused = pause?.value ?? false;
    this.mirrorFlag(tag.pause, pause);
    this.drains.clear();
    for (const group of this.o.groups.whichGroups(scope)) {
      const t = parseTag(group);
      if (t?.kind !== 'drain') continue;
      const merged = mergeFlag(this.flagValues(group));
      if (merged?.value) this.drains.set(t.node, true);
      this.mirrorFlag(group, merged);
    }
  }

  private refreshTopology(): void {
    const members = this.o.members();
    this.memberByName = new Map(members.map((m) => [m.name, m]));
    this.upNodes = new Set(members.filter((m) => m.status === 'up' || m.status === 'suspect').map((m) => m.name));
    this.candidates = members
      .filter((m) => m.status !== 'left')
      .map((m) => ({
        name: m.name,
        role: m.role,
        // Race "link up before its groups": until a peer's snapshot arrives we
        // cannot see what it runs, so we do not hand it children or move ours to it.
        up: this.upNodes.has(m.name) && (m.name === this.o.node || m.role !== 'member' || this.o.groups.announced(this.o.scope, m.name)),
        ready: m.name === this.o.node ? this.ready && this.o.isMember : m.ready === true,
        draining: this.drains.get(m.name) === true,
        labels: m.labels,
        workers: m.workers,
        commands: m.commands ?? [],
        capacity: m.capacity ?? 1,
      }));
    if (this.o.netsplit === 'majority') {
      const expected = this.o.expectedMembers ?? 1;
      const upMembers = members.filter((m) => m.role === 'member' && this.upNodes.has(m.name)).length;
      const had = this.quorum;
      this.quorum = upMembers >= Math.floor(expected / 2) + 1;
      if (had !== this.quorum) this.o.log.warn({ upMembers, expected, quorum: this.quorum }, this.quorum ? 'majority regained: children may run here again' : 'no majority: stopping children and starting nothing');
    }
  }

  /** Rebuilds one id's state from the groups and emits events for what changed. */
  private refresh(id: string): ChildState {
    const scope = this.o.scope;
    let st = this.state.get(id);
    const groups = st?.groups ?? { child: tag.child(id), run: tag.run(id), fail: tag.fail(id) };
    const registers = this.o.groups
      .getMembers(scope, groups.child)
      .map((m) => this.validate(m, ChildRegisterSchema) as ChildRegister | undefined)
      .filter((r): r is ChildRegister => r !== undefined);
    const register = this.join(registers);
    const live = liveSpec(register);
    const runners = this.o.groups.getMembers(scope, groups.run).flatMap((m) => {
      const v = this.validate(m, RunValueSchema) as { rev: Ver; restarts?: number } | undefined;
      return v && (this.upNodes.has(m.node) || m.node === this.o.node) ? [{ node: m.node, pid: m.pid, rev: v.rev, restarts: v.restarts ?? 0 }] : [];
    });
    const failures = new Map<string, { failures: number; lastError: string }>();
    for (const m of this.o.groups.getMembers(scope, groups.fail)) {
      const v = this.validate(m, FailValueSchema) as { rev: Ver; failures: number; lastError: string } | undefined;
      if (v && live && v.rev === live.rev) failures.set(m.node, { failures: v.failures, lastError: v.lastError });
    }
    const at = this.o.clock.now();
    if (!st) {
      st = { id, register, live, runners: [], failures: new Map(), owner: undefined, by: 'none', ownerEpoch: -1, lastPin: undefined, cause: 'join', lastRunner: undefined, sig: undefined, own: undefined, groups };
      this.state.set(id, st);
    }
    // Events: instances that appeared or went, moves, failures.
    const before = st.runners;
    for (const r of runners) {
      if (before.some((b) => b.pid === r.pid)) continue;
      this.emitEvent({ type: 'started', id, node: r.node, pid: r.pid, at });
      if (st.lastRunner !== undefined && st.lastRunner !== r.node && !before.some((b) => b.node === r.node)) {
        // The new instance may show up here before this node's own placement pass (it saw the start
        // before the topology change settled): then the reason comes from where it ran before.
        const reason = st.owner === r.node ? st.cause : this.causeOf(st, st.lastRunner, r.node, live?.pin?.node);
        this.emitEvent({ type: 'moved', id, from: st.lastRunner, to: r.node, reason, at });
      }
      st.lastRunner = r.node;
    }
    for (const b of before) if (!runners.some((r) => r.pid === b.pid)) this.emitEvent({ type: 'stopped', id, node: b.node, pid: b.pid, at });
    for (const [node, f] of failures) {
      const prev = st.failures.get(node);
      if (!prev || prev.failures !== f.failures) this.emitEvent({ type: 'failed', id, node, failures: f.failures, error: f.lastError, at });
    }
    st.register = register;
    st.live = live;
    st.runners = runners;
    st.failures = failures;
    if (!live && runners.length === 0 && register.specs.length === 0 && register.floor === undefined && !this.managed.has(id)) this.state.delete(id);
    return st;
  }

  /**
   * The join of the copies of one register. Settled, every member's copy is
   * the same interned value (groups.ts), so the common case is one object,
   * whose join is computed once and kept (frozen, so its canonical form is
   * cached too).
   */
  private join(registers: ChildRegister[]): ChildRegister {
    const first = registers[0];
    // Equal copies are usually one interned object; copies written by different nodes may list
    // their fields in another order (other JSON text, other object), yet are equal: compare their
    // canonical forms, cached per frozen copy, before merging into a new, uncached object.
    if (first === undefined || !registers.every((r) => r === first || canonicalOf(r) === canonicalOf(first))) return mergeChild(registers);
    let joined = this.joined.get(first);
    if (joined === undefined) {
      joined = deepFreeze(mergeChild([first]));
      this.joined.set(first, joined);
    }
    return joined;
  }

  private validate(member: PgMember, schema: z.ZodType): unknown {
    const value = member.value;
    if (value === null || typeof value !== 'object') return undefined;
    if (this.validated.has(value)) return this.validated.get(value);
    const parsed = schema.safeParse(value);
    if (!parsed.success) this.o.log.warn({ node: member.node, pid: member.pid }, 'ignoring an invalid supervisor record from a peer');
    // Frozen: shared by every reader of this value, and its canonical form is cached (registers.ts).
    const result = parsed.success ? deepFreeze(parsed.data) : undefined;
    if (result && schema === ChildRegisterSchema) for (const entry of (result as ChildRegister).specs) trustSpec(entry.spec);
    this.validated.set(value, result);
    return result;
  }

  /** Step 1: keep this member's copy of the register equal to the join of all copies. */
  private mirror(st: ChildState): void {
    const group = st.groups.child;
    const mine = this.o.groups.getLocalMembers(this.o.scope, group);
    const empty = st.register.specs.length === 0 && st.register.floor === undefined;
    // A tombstone lives tombstoneTtlMs from when it was written (a child older than the TTL must not come back).
    const expired = st.register.specs.length === 0 && st.register.floor !== undefined && this.o.clock.now() - (st.register.floorAt ?? verTime(st.register.floor)) > this.o.tombstoneTtlMs;
    if (!this.o.isMember) {
      // Observers never hold state: their own writes are dropped once every up member holds them.
      if (mine.length > 0 && this.membersHold(st)) this.dropOwn(group);
      return;
    }
    if (empty || expired) {
      this.dropOwn(group);
      return;
    }
    if (mine.length === 1) {
      const value = mine[0]!.value;
      if (st.own !== undefined && st.own.value === value && st.own.register === st.register) return;
      if (sameRegister(value, st.register)) {
        st.own = { value, register: st.register };
        return;
      }
    }
    this.setOwn(group, asJson(st.register));
    const written = this.o.groups.getLocalMembers(this.o.scope, group);
    st.own = written.length === 1 ? { value: written[0]!.value, register: st.register } : undefined;
  }

  private membersHold(st: ChildState): boolean {
    const members = this.upMemberNames();
    const wanted = canonicalOf(st.register);
    return members.length > 0 && this.everyUpMemberHolds(st.groups.child, (c) => canonicalOf(c.value) === wanted, members);
  }

  /** Steps 2 and 3. */
  private decide(st: ChildState): void {
    const id = st.id;
    const local = this.managed.has(id) ? this.o.local.child(id) : undefined;
    const iRun = local !== undefined && local.status !== 'stopped';
    const live = st.live;
    if (!live) {
      if (local) this.stopLocal(id, 'terminated');
      this.updateOwner(st, undefined, 'none');
      return;
    }
    if (this.withoutMajority) {
      if (local) this.stopLocal(id, 'no majority');
      return;
    }
    const [owner, by] = this.ownerOf(st, live);
    this.updateOwner(st, owner, by);
    const me = this.o.node;
    const others = st.runners.filter((r) => r.node !== me);

    if (local && this.managed.get(id)!.rev !== live.rev) {
      this.stopLocal(id, 'spec replaced');
      return;
    }
    if (owner === me) {
      if (iRun) return;
      if (others.length > 0 && live.spec.handoff === 'stop-first') return; // wait for the old instance to stop
      this.startLocal(id, live);
      return;
    }
    if (!iRun) {
      if (local) this.stopLocal(id, 'not the owner');
      return;
    }
    if (owner === undefined) return; // nowhere better to go: keep running
    const ownerRun = others.find((r) => r.node === owner);
    if (ownerRun) {
      this.resolveDuplicate(st, ownerRun);
      return;
    }
    if (others.length > 0) {
      // Several instances and none on the owner: the best-ranked runner survives.
      const capacity = (n: string) => this.candidates.find((c) => c.name === n)?.capacity ?? 1;
      const ranked = [...st.runners].sort((a, b) => hrwScore(id, b.node, capacity(b.node)) - hrwScore(id, a.node, capacity(a.node)));
      if (ranked[0]!.node !== me) {
        this.resolveDuplicate(st, ranked[0]!);
        return;
      }
    }
    if (live.spec.handoff === 'start-first') return; // the owner starts first; we stop once it runs
    if (!this.takeMoveToken()) {
      this.defer(id);
      return;
    }
    this.stopLocal(id, `moving to ${owner}`);
  }

  /**
   * Stops this node's instance because `survivor` keeps running. The stopping
   * node reports it: it alone knows for sure which instance won.
   */
  private resolveDuplicate(st: ChildState, survivor: { node: string; pid: string }): void {
    const mine = st.runners.find((r) => r.node === this.o.node);
    this.stopLocal(st.id, `duplicate: ${survivor.node} keeps ${survivor.pid}`);
    if (mine && st.live?.spec.handoff !== 'start-first') {
      this.emitEvent({ type: 'duplicate-resolved', id: st.id, survivor: { node: survivor.node, pid: survivor.pid }, stopped: [{ node: mine.node, pid: mine.pid }], at: this.o.clock.now() });
    }
  }

  /** Where `st` must run now, and why: placement, then the pause rule. */
  private ownerOf(st: ChildState, live: SpecEntry): [string | undefined, 'pin' | 'hash' | 'none'] {
    const pin = live.pin?.node ?? undefined;
    const failures = new Map([...st.failures].map(([n, f]) => [n, f.failures]));
    let owner = computeOwner({ id: st.id, spec: live.spec, candidates: this.candidates, pin, failures, maxStartFailures: this.o.maxStartFailures });
    const by: 'pin' | 'hash' | 'none' = owner === undefined ? 'none' : pin !== undefined && owner === pin ? 'pin' : 'hash';
    // Paused: a child running on an eligible node stays there (unless a pin or a drain says otherwise).
    if (this.paused && owner !== undefined && by === 'hash' && st.runners.length === 1) {
      const runner = st.runners[0]!.node;
      const c = this.candidates.find((x) => x.name === runner);
      if (c && c.up && c.ready && !c.draining && (failures.get(runner) ?? 0) < this.o.maxStartFailures) owner = runner;
    }
    return [owner, by];
  }

  private updateOwner(st: ChildState, owner: string | undefined, by: 'pin' | 'hash' | 'none'): void {
    st.ownerEpoch = this.placementEpoch;
    const pin = st.live?.pin?.node;
    if (owner === st.owner && by === st.by) {
      st.lastPin = pin;
      return;
    }
    const previous = st.owner;
    st.cause = this.causeOf(st, previous, owner, pin);
    st.owner = owner;
    st.by = by;
    st.lastPin = pin;
    this.emitEvent({ type: 'placed', id: st.id, node: owner, by, at: this.o.clock.now() });
  }

  private causeOf(st: ChildState, previous: string | undefined, next: string | undefined, pin: string | null | undefined): MoveReason {
    if (pin !== st.lastPin && (pin === next || st.lastPin === previous)) return 'pin';
    if (previous !== undefined) {
      if (this.drains.get(previous)) return 'drain';
      const m = this.memberByName.get(previous);
      if (!m || m.status === 'left') return 'leave';
      if (m.status === 'down') return 'failure';
      if (m.ready === false && m.name !== this.o.node) return 'leave'; // it announced it is leaving
      if ((st.failures.get(previous)?.failures ?? 0) >= this.o.maxStartFailures) return 'failure';
    }
    if (st.runners.length > 1) return 'heal';
    return 'join';
  }

  // ---- local actions -------------------------------------------------------------

  private startLocal(id: string, live: SpecEntry): void {
    let m = this.managed.get(id);
    const now = this.o.clock.now();
    if (m && m.retryAt > now) {
      this.deferUntil(m.retryAt, id);
      return;
    }
    const existing = this.o.local.child(id);
    if (existing && existing.status !== 'stopped') return;
    if (!m) {
      m = { rev: live.rev, failures: 0, lastError: '', retryAt: 0, stableTimer: undefined };
      this.managed.set(id, m);
    }
    const managed = m;
    const attempt = existing ? this.o.local.restartChild(id) : this.o.local.startChild(live.spec);
    attempt.catch((err: unknown) => {
      if (this.managed.get(id) !== managed) return;
      const message = (err as Error).message;
      if ((err as { code?: string }).code === 'already-present') return;
      this.recordFailure(id, managed, message);
      if (!existing && this.o.local.child(id) === undefined && managed.failures >= this.o.maxStartFailures) this.managed.delete(id);
      this.dirty.add(id);
      this.schedule();
    });
  }

  private recordFailure(id: string, m: ManagedChild, error: string): void {
    m.failures++;
    m.lastError = error;
    const wait = failingBackoff(m.failures, 1000, 30_000, this.o.random.next());
    m.retryAt = this.o.clock.now() + wait;
    this.o.log.warn({ child: id, failures: m.failures, error, retryInMs: wait }, 'child failed to start here');
    const group = tag.fail(id);
    this.setOwn(group, { rev: m.rev, failures: m.failures, lastError: error.slice(0, 2000), at: this.o.clock.now() });
    if (m.failures >= this.o.maxStartFailures && this.o.local.child(id)) this.stopLocal(id, `failed ${m.failures} times here; handing over to the next node`);
    // Forget the failures after a while, so a child failing everywhere is retried — slowly.
    this.o.clock.setTimeout(() => {
      if (this.managed.get(id) === m || !this.managed.has(id)) {
        const current = this.o.groups.getLocalMembers(this.o.scope, group);
        const latest = current[0]?.value as { at?: number } | undefined;
        if (latest && typeof latest.at === 'number' && this.o.clock.now() - latest.at >= this.o.failureResetMs) {
          this.dropOwn(group);
          if (this.managed.get(id) === m) m.failures = 0;
        }
      }
    }, this.o.failureResetMs);
  }

  private clearFailures(id: string, m: ManagedChild): void {
    m.failures = 0;
    m.retryAt = 0;
    this.dropOwn(tag.fail(id));
  }

  private stopLocal(id: string, why: string): void {
    const m = this.managed.get(id);
    if (!m) return;
    this.managed.delete(id);
    this.o.clock.clearTimeout(m.stableTimer);
    // Keep the record of failures when handing over (others must skip this node); drop it otherwise.
    if (m.failures < this.o.maxStartFailures) this.dropOwn(tag.fail(id));
    this.o.log.debug({ child: id, why }, 'stopping local instance');
    void this.o.local
      .terminateChild(id)
      .then(() => {
        const c = this.o.local.child(id);
        if (c && c.status === 'stopped' && !this.managed.has(id)) this.o.local.deleteChild(id);
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'not-found') this.o.log.warn({ child: id, err: (err as Error).message }, 'could not stop local instance');
      })
      .finally(() => {
        this.dirty.add(id);
        this.schedule();
      });
  }

  private takeMoveToken(): boolean {
    const now = this.o.clock.now();
    const rate = this.o.maxMovesPerSecond;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** A move that must wait for a token: look at this id again when the next token is due. */
  private defer(id: string): void {
    this.deferred.add(id);
    this.deferUntil(this.o.clock.now() + Math.ceil(1000 / Math.max(0.001, this.o.maxMovesPerSecond)));
  }

  /** One timer for everything deferred (rate-limited moves, start retries); it re-checks only those ids. */
  private deferUntil(at: number, id?: string): void {
    if (id !== undefined) this.deferred.add(id);
    if (this.deferTimer) return;
    this.deferTimer = this.o.clock.setTimeout(
      () => {
        this.deferTimer = undefined;
        for (const d of this.deferred) this.dirty.add(d);
        this.deferred.clear();
        this.schedule();
      },
      Math.max(1, at - this.o.clock.now()),
    );
  }

  // ---- registers and flags ----------------------------------------------------------

  /** Replaces this node's own entry in `group`: the new value joins first, so the group never empties. */
  private setOwn(group: string, value: JsonValue): void {
    const mine = this.o.groups.getLocalMembers(this.o.scope, group);
    this.o.groups.join(this.o.scope, group, this.o.pid, value);
    for (const m of mine) this.o.groups.leave(this.o.scope, group, m.pid);
    this.saveSoon(group);
  }

  private dropOwn(group: string): void {
    const mine = this.o.groups.getLocalMembers(this.o.scope, group);
    for (const m of mine) this.o.groups.leave(this.o.scope, group, m.pid);
    if (mine.length > 0) this.saveSoon(group);
  }

  private writeChild(id: string, register: ChildRegister): void {
    this.setOwn(tag.child(id), asJson(register));
    this.dirty.add(id);
    this.schedule();
  }

  /** Terminates every revision the register holds (raises its floor to the highest one). */
  private writeTombstone(id: string, register: ChildRegister, floor: Ver): void {
    this.writeChild(id, mergeChild([register, { floor, floorAt: this.o.clock.now(), specs: [] }]));
  }

  private flagValues(group: string): Array<FlagRegister<boolean>> {
    return this.o.groups
      .getMembers(this.o.scope, group)
      .map((m) => this.validate(m, FlagSchema) as FlagRegister<boolean> | undefined)
      .filter((v): v is FlagRegister<boolean> => v !== undefined);
  }

  private mirrorFlag(group: string, merged: FlagRegister<boolean> | undefined): void {
    if (!merged || !this.o.isMember) return;
    const mine = this.o.groups.getLocalMembers(this.o.scope, group);
    if (mine.length === 1 && sameRegister(mine[0]!.value, merged)) return;
    this.setOwn(group, asJson(merged));
  }

  private writeFlag(group: string, value: FlagRegister<boolean>): void {
    this.setOwn(group, asJson(value));
    this.flagsDirty = true;
    this.schedule();
  }

  private setDrain(node: string, draining: boolean): void {
    this.refreshTopology();
    const m = this.candidates.find((c) => c.name === node);
    if (!m) throw new DistError('unknown-node', `no member named ${JSON.stringify(node)} (known: ${this.candidates.map((c) => c.name).join(', ')})`);
    if (m.role !== 'member') throw new DistError('ineligible-node', `${node} is an observer; it runs no children`);
    this.writeFlag(tag.drain(node), { value: draining, ver: this.vclock.next() });
  }

  // ---- durable desired state (--data-dir) -------------------------------------------

  /**
   * Joins saved registers into this member's own (still empty) entries. Each
   * is validated like a peer's record; the merge with the peers' copies then
   * runs as for any change, so a newer floor, pin or flag elsewhere wins.
   */
  private restore(saved: DesiredState): void {
    let children = 0;
    let skipped = 0;
    for (const [id, value] of Object.entries(saved.children)) {
      const parsed = ChildRegisterSchema.safeParse(value);
      if (!parsed.success || parsed.data.specs.some((s) => s.spec.id !== id)) {
        skipped++;
        continue;
      }
      const register = mergeChild([parsed.data as ChildRegister]);
      if (register.specs.length === 0 && register.floor === undefined) continue;
      this.setOwn(tag.child(id), asJson(register));
      children++;
    }
    const flags: Array<[string, unknown]> = [...Object.entries(saved.drains).map(([node, flag]): [string, unknown] => [tag.drain(node), flag]), ...(saved.pause ? [[tag.pause, saved.pause] as [string, unknown]] : [])];
    let restoredFlags = 0;
    for (const [group, value] of flags) {
      const parsed = FlagSchema.safeParse(value);
      if (!parsed.success) {
        skipped++;
        continue;
      }
      this.setOwn(group, asJson(parsed.data));
      restoredFlags++;
    }
    if (skipped > 0) this.o.log.warn({ skipped }, 'ignoring invalid records in the saved desired state');
    this.o.log.info({ children, flags: restoredFlags }, 'restored the saved desired state');
  }

  /** A register of this member changed: save the lot once the changes of the next moments are in. */
  private saveSoon(group: string, delayMs = SAVE_COALESCE_MS): void {
    if (!this.o.persistence || this.saveTimer || this.stopped) return;
    const kind = parseTag(group)?.kind;
    if (kind !== 'child' && kind !== 'drain' && kind !== 'pause') return;
    this.saveTimer = this.o.clock.setTimeout(() => this.saveState(), delayMs);
  }

  private saveState(): void {
    this.o.clock.clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const state: DesiredState = { children: {}, drains: {} };
    for (const group of this.o.groups.whichGroups(this.o.scope)) {
      const t = parseTag(group);
      if (!t || t.kind === 'run' || t.kind === 'fail') continue;
      const mine = this.o.groups.getLocalMembers(this.o.scope, group)[0]?.value;
      if (mine === undefined) continue;
      if (t.kind === 'child') state.children[t.id] = mine as unknown as ChildRegister;
      else if (t.kind === 'drain') state.drains[t.node] = mine as unknown as FlagRegister<boolean>;
      else state.pause = mine as unknown as FlagRegister<boolean>;
    }
    try {
      this.o.persistence!.save(state);
      if (this.saveFailing) this.o.log.info({}, 'saving the desired state works again');
      this.saveFailing = false;
    } catch (err) {
      // Never fatal: the state still lives in the cluster. Retry slowly, and say so once.
      if (!this.saveFailing) this.o.log.error({ err: (err as Error).message }, 'cannot save the desired state to the data dir; retrying (the cluster still holds it, but a full restart would lose changes)');
      this.saveFailing = true;
      this.saveSoon(tag.pause, 5 * SAVE_COALESCE_MS);
    }
  }

  // ---- readiness, waiting, views --------------------------------------------------------

  private checkReady(timedOut = false): void {
    if (this.ready || this.stopped) return;
    // Observers do not hold children: an observer we cannot reach (a firewall) must not hold us back.
    // An observer holds no children, so it cannot duplicate one: a member it has tried and failed to
    // reach (typically a dead node its peers still list) must not hold it back; a member does wait.
    const members = this.o.members().filter((m) => m.name !== this.o.node && m.status !== 'left' && m.role === 'member' && !(this.o.observer && m.status === 'down' && this.o.dialFailed?.(m.address)));
    // A node with seeds knows nothing of the cluster until it has linked to one of them.
    const joined = !this.o.hasSeeds || this.o.members().some((m) => m.name !== this.o.node && (m.status === 'up' || m.status === 'suspect'));
    const allLinked = members.every((m) => m.status === 'up' || m.status === 'suspect');
    const allSynced = members.filter((m) => m.role === 'member').every((m) => this.o.groups.announced(this.o.scope, m.name));
    if ((joined && allLinked && allSynced) || timedOut) {
      this.ready = true;
      if (timedOut && !(joined && allLinked && allSynced)) this.o.log.warn({ waitedMs: this.o.readyTimeoutMs }, 'taking children although not every known member is linked and synced');
      this.o.log.info({ inMs: this.o.clock.now() - this.startedAt }, 'ready to take children');
      this.o.setReady(true);
      this.topologyDirty = true;
      this.schedule();
      this.startInitialChildren();
    } else if (this.readyRetry === undefined) {
      // Groups arrive right after links: look again shortly (one pending look, however often we are called).
      this.readyRetry = this.o.clock.setTimeout(() => {
        this.readyRetry = undefined;
        this.checkReady();
      }, 5);
    }
  }

  /** The up members (not observers) of the current topology. */
  private upMemberNames(): string[] {
    return this.candidates.filter((c) => c.role === 'member' && c.up).map((c) => c.name);
  }

  /** Whether every up member holds a copy in `group` that passes `holds`. */
  private everyUpMemberHolds(group: string, holds: (copy: PgMember) => boolean, members = this.upMemberNames()): boolean {
    const copies = this.o.groups.getMembers(this.o.scope, group);
    return members.every((n) => copies.some((c) => c.node === n && holds(c)));
  }

  private tombstoneHeldByAllMembers(id: string, floor: Ver): boolean {
    return this.everyUpMemberHolds(tag.child(id), (c) => {
      const copyFloor = (this.validate(c, ChildRegisterSchema) as ChildRegister | undefined)?.floor;
      return copyFloor !== undefined && copyFloor >= floor;
    });
  }

  private heldByAllMembers(id: string, rev: Ver): boolean {
    return this.everyUpMemberHolds(tag.child(id), (c) => ((c.value as { specs?: Array<{ rev?: string }> } | null)?.specs ?? []).some((s) => s.rev === rev));
  }

  private wait<T>(id: string, what: string, check: (resolve: (v: T) => void, reject: (e: Error) => void) => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let set = this.waiters.get(id);
      if (!set) {
        set = new Set();
        this.waiters.set(id, set);
      }
      const waiters = set;
      const waiter: Waiter = {
        check: () => check(resolve, reject),
        timer: this.o.clock.setTimeout(() => {
          waiters.delete(waiter);
          reject(new DistError('timeout', `${what} did not complete within ${this.o.startChildTimeoutMs} ms; the request stays in place (see whichChildren('global'))`));
        }, this.o.startChildTimeoutMs),
      };
      waiters.add(waiter);
      this.dirty.add(id);
      this.schedule();
    });
  }

  private settleWaiters(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const w of [...set]) {
      let done: boolean;
      try {
        done = w.check();
      } catch (err) {
        this.o.log.error({ err, id }, 'waiter check failed');
        done = true;
      }
      if (done) {
        this.o.clock.clearTimeout(w.timer);
        set.delete(w);
      }
    }
    if (set.size === 0) this.waiters.delete(id);
  }

  private status(st: ChildState): GlobalStatus {
    if (st.runners.length > 1) return 'duplicate';
    if (st.runners.length === 1) return st.owner !== undefined && st.runners[0]!.node !== st.owner ? 'moving' : 'running';
    if (st.owner === undefined) return st.failures.size > 0 ? 'failing' : 'unplaceable';
    if ([...st.failures.values()].some((f) => f.failures > 0)) return 'failing';
    return 'pending';
  }

  private globalView(st: ChildState, live: SpecEntry): GlobalChild {
    const failures = [...st.failures].map(([node, f]) => ({ node, failures: f.failures, lastError: f.lastError }));
    return {
      id: st.id,
      spec: live.spec,
      rev: live.rev,
      status: this.status(st),
      node: st.runners[0]?.node,
      pid: st.runners[0]?.pid,
      instances: st.runners.map((r) => ({ node: r.node, pid: r.pid })),
      restarts: st.runners[0]?.restarts ?? 0,
      owner: st.owner,
      pin: live.pin?.node ?? undefined,
      failures,
      lastError: failures[0]?.lastError,
    };
  }

  private emitEvent(event: DistEvent): void {
    try {
      this.emit('event', event);
    } catch (err) {
      this.o.log.error({ err, event: event.type }, 'event listener threw');
    }
  }
}

