/**
 * This node's instances of distributed children: starting and stopping them
 * on the local supervisor, publishing them in pg, retrying failed starts with
 * backoff, and the move rate limit. The only module of the distributed
 * supervisor that acts on the local supervisor; the reconciler tells it what
 * to do, and it tells the reconciler which children need another look.
 *
 * - An instance that runs joins `run:<id>` with its own pid, value
 *   `{ rev, restarts }`, restarts left out while 0 (and an OS-process instance `os:<id>`, value
 *   `{ osPid }`); pg drops them when the instance ends or the node dies.
 * - A start that fails (or an instance past its restart intensity) is
 *   recorded in `fail:<id>` (this node's supervisor pid, value
 *   `{ rev, failures, lastError, at }`) and retried with exponential backoff
 *   (1 s doubling to 30 s, jittered); after `maxStartFailures` here the record
 *   stays, so placement skips this node and the next one in HRW order takes
 *   over. The record is forgotten `failureResetMs` after the last failure (a
 *   child failing everywhere is tried again, slowly), or once the instance has
 *   run for its `maxSeconds`.
 * - An instance that ends for good on its own (a transient child that
 *   finished, a temporary one) is done everywhere: `finished` asks for its
 *   spec to be removed, as OTP's dynamic supervisor removes a child it will
 *   not restart.
 * - Planned moves take a token from a bucket refilled at
 *   `maxMovesPerSecond`; a move without a token waits in a queue, and as
 *   tokens come due the queue's head is looked at again, as many ids as
 *   there are tokens (race "every waiting move woken by each token": a
 *   drain of 1,000 children at 100 moves/s reconciled every waiting id at
 *   every token, half a million reconciles for 1,000 moves). Start retries
 *   after a failure wait on one timer, due at the earliest retry.
 * - `starting()`: the children whose instance is starting here. The store's
 *   acknowledgements wait for them (store/replication.ts: race "terminate
 *   during a start").
 * - Restart in place (`restart`): an operator asks for a new instance of a
 *   child on the node that runs it. Stop, then start, here; the managed
 *   record (revision, failures) stays. The new instance starts fresh (no
 *   handover: a restart is how an operator clears an instance's state, as
 *   OTP's restart_child; docs/children.md). Two races, handled where named:
 *     race "the reconciler sees the instance stopped": were a reconcile to
 *     run between the stop and the start, `decide` would start the child
 *     itself (owner: a second launch) or drop it (not the owner, e.g. while
 *     rebalancing is paused). Today the start follows the stop within one
 *     turn (no timer between them), and while `restarting` holds the id
 *     `instance()` reports it running and `start()` leaves it to the
 *     restart, so that stays true if either step becomes asynchronous;
 *     race "a peer takes over during the gap": the stop drops the instance's
 *     `run:` entry, and a peer that places the child elsewhere (paused off
 *     its hash owner, or a move waiting for a token) would start it there.
 *     The old pid's `run:` entry is joined again in the same turn as the
 *     stop left it — peers get the leave and the join in one batch, so no
 *     reconcile of theirs sees the child without an instance — and left
 *     when the new instance joins (or the restart fails).
 *   A stop asked for meanwhile (terminate, a new revision, a move) wins: it
 *   forgets the managed record, and the restart, seeing that, starts
 *   nothing and says so. A start that fails counts as a failed start here
 *   (backoff, then the next node), as any other.
 * - Handover (issue 16, distributed/calls.ts): a planned move's stop
 *   (`stopInstance` with `moveTo`) first hands the instance's state over to
 *   the node it moves to (`handOver`: the instance stops taking messages, its
 *   state goes out on the link), then stops it — so the state is on its way
 *   before the `run:` leave that lets the new owner start it. A start takes
 *   a state handed over to this node for that revision (`receivedHandover`)
 *   and gives it to the new instance. Race "the move is called off during
 *   the handover" (the pin is undone, the spec replaced): the stop goes on
 *   regardless, as a stop of a move always did, and the state sent is
 *   dropped unused where it arrived.
 *   Race "the lease runs out during a handover" (majority mode; an
 *   outsider's tour, network namespaces): the instance being handed over is
 *   still `running` (closed to messages) while its handlers finish and its
 *   state is taken — up to twice the handover timeout — so `hurry`, which
 *   stopped only instances already `stopping`, passed it by: the majority
 *   started the child after the lease while the old instance ran on (13.5 s
 *   of two instances with a 20 s handover timeout). `hurry` now stops those
 *   too, within the lease, and the state waits for no link (`hurried`).
 * - Claims (majority mode, decide.ts): `claim` joins `claim:<id>` with this
 *   node's supervisor pid and probes the present members; the claim is
 *   *confirmed* once each of them (still linked, same incarnation) has echoed
 *   a ping sent after the join (`linkConfirmed`: the links report each echo);
 *   `unclaim` leaves the group.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { JsonValue, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { Random } from '../random.js';
import { trustSpec, type ChildSpec } from '../supervisor/child-spec.js';
import type { ChildEvent, ChildInfo, LocalSupervisor } from '../supervisor/local-supervisor.js';
import { failingBackoff } from '../supervisor/restart-policy.js';
import type { LocalClaim, LocalInstance } from './decide.js';
import type { DistributedConfig } from './distributed-config.js';
import { DistError } from './errors.js';
import type { SpecEntry, Ver } from './registers.js';
import { group } from './tags.js';

/** The local instances' part of the distributed supervisor's settings: start failures and their reset, the move rate. */
export type LocalInstancesConfig = Pick<DistributedConfig, 'maxStartFailures' | 'failureResetMs' | 'maxMovesPerSecond'>;

export interface LocalInstancesOptions {
  node: string;
  scope: string;
  /** This node's supervisor pid: it joins `fail:<id>` groups. */
  pid: string;
  clock: Clock;
  random: Random;
  log: Logger;
  groups: ProcessGroups;
  local: LocalSupervisor;
  /** The settings it reads, from the distributed section of the node's config. */
  config: LocalInstancesConfig;
  /** `id` needs another look by the reconciler (`urgent`: its instance appeared or went). */
  dirty(id: string, urgent?: boolean): void;
  /** The instance of `rev` ended for good on its own: its spec should be removed from the cluster. */
  finished(id: string, rev: Ver, reason: string): void;
  /** The live spec of `id` (for how long an instance must run to clear its failures). */
  specOf(id: string): ChildSpec | undefined;
  /** The links, for claims (majority mode): the seq the next ping carries, probing a peer, and whether it echoed `seq` yet. */
  links: ClaimLinks;
  /** Hands the state of this node's instance of `id` over to `to` before a planned move stops it (never rejects). */
  handOver?(id: string, rev: Ver, to: string): Promise<void>;
  /** The state handed over to this node for revision `rev` of `id`, taken once. */
  receivedHandover?(id: string, rev: Ver): JsonValue | undefined;
  /** The lease ran out while instances here were handing over (`hurry`): no state may go out any more. */
  hurried?(): void;
}

/** What claims need of the links (node.ts). */
export interface ClaimLinks {
  /** The seq the next ping will carry: a peer that echoed a ping with at least this seq has processed everything sent before. */
  nextPingSeq(): number;
  /** Pings `peer` now (it answers at once), to learn sooner that it has confirmed a claim; a no-op when not linked to it. */
  probe(peer: string): void;
  /**
   * Whether `peer` has processed what this node sent before the ping `seq`:
   * this incarnation of it echoed that ping (or a later one), or a newer
   * incarnation is linked (pg's sync on link up told it, before anything).
   */
  heard(peer: string, incarnation: string, seq: number): boolean;
}

interface PendingClaim {
  readonly id: string;
  readonly rev: Ver;
  readonly seq: number;
  readonly peers: ReadonlyArray<{ name: string; incarnation: string }>;
  confirmed: boolean;
}

/** A restart in place under way: the old instance's pid and `run:` value, joined again while no instance runs (`bridged`). */
interface Restarting {
  readonly pid: string;
  readonly value: JsonValue;
  bridged: boolean;
}

interface Managed {
  readonly rev: Ver;
  /** Failed starts here (initial failures and crash loops past intensity). */
  failures: number;
  lastError: string;
  retryAt: number;
  stableTimer: TimerHandle | undefined;
}

export class LocalInstances {
  private readonly managed = new Map<string, Managed>();
  /** Instances whose planned move is handing their state over: still running (closed to messages), not stopping yet. */
  private readonly handingOver = new Set<string>();
  private readonly startingIds = new Set<string>();
  private readonly restarting = new Map<string, Restarting>();
  private readonly deferred = new Set<string>();
  private deferTimer: TimerHandle | undefined;
  private deferDue = Infinity;
  /** Moves waiting for a token, in the order they were deferred. */
  private readonly moveQueue = new Set<string>();
  private moveTimer: TimerHandle | undefined;
  private readonly resetTimers = new Set<TimerHandle>();
  private tokens: number;
  private tokensAt: number;
  private stopped = false;
  private readonly claims = new Map<string, PendingClaim>();
  private readonly probePeers = new Set<string>();
  private probeQueued = false;

  constructor(private readonly o: LocalInstancesOptions) {
    this.tokens = Math.max(1, o.config.maxMovesPerSecond);
    this.tokensAt = o.clock.now();
    o.local.on('child', this.onLocalChild);
  }

  /** Stops timers and listening (the node's shutdown stops the instances themselves). */
  stop(): void {
    this.stopped = true;
    this.o.local.off('child', this.onLocalChild);
    this.o.clock.clearTimeout(this.deferTimer);
    this.o.clock.clearTimeout(this.moveTimer);
    for (const t of this.resetTimers) this.o.clock.clearTimeout(t);
    for (const m of this.managed.values()) this.o.clock.clearTimeout(m.stableTimer);
  }

  /** This node's instance of `id`, for `decide`. */
  instance(id: string): LocalInstance | undefined {
    const m = this.managed.get(id);
    if (!m) return undefined;
    const c = this.o.local.child(id);
    // Race "the reconciler sees the instance stopped": a restart in place is running it.
    return { rev: m.rev, running: this.restarting.has(id) || (c !== undefined && c.status !== 'stopped') };
  }

  has(id: string): boolean {
    return this.managed.has(id);
  }

  ids(): IterableIterator<string> {
    return this.managed.keys();
  }

  get count(): number {
    return this.managed.size;
  }

  /** The pid of the running instance of `id` (a managed child only). */
  runningPid(id: string): string | undefined {
    return this.managed.has(id) ? this.o.local.runningPid(id) : undefined;
  }

  /** Children whose instance is starting here. */
  starting(): ReadonlySet<string> {
    return this.startingIds;
  }

  /** The local supervisor's record of managed children. */
  children(): ChildInfo[] {
    const out: ChildInfo[] = [];
    for (const id of this.managed.keys()) {
      const c = this.o.local.child(id);
      if (c) out.push(c);
    }
    return out;
  }

  /**
   * Starts a spec of the store on the local supervisor. Every spec the store
   * holds was validated (decoded from a peer or a file, or parsed by the API)
   * and deep-frozen, so it is trusted here and the supervisor skips a second
   * validation (a tenth of a failover's CPU). Trusting it here rather than
   * when it is decoded keeps the trusted set to the specs this node runs, not
   * every spec of the cluster (a WeakSet entry each: 0.5 MB at 20,000).
   */
  private startSpec(spec: ChildSpec, opts: { handover?: JsonValue } = {}): Promise<{ id: string; pid: string }> {
    trustSpec(spec);
    return this.o.local.startChild(spec, opts);
  }

  /** Starts the live spec here (unless a failed start is still backing off: then later). */
  start(id: string, live: SpecEntry): void {
    if (this.restarting.has(id)) return; // the restart in place starts it
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
    const handover = this.o.receivedHandover?.(id, live.rev);
    const withHandover = handover === undefined ? {} : { handover };
    const attempt = existing ? this.o.local.restartChild(id, withHandover) : this.startSpec(live.spec, withHandover);
    attempt.catch((err: unknown) => {
      if (this.managed.get(id) !== managed) return;
      if ((err as { code?: string }).code === 'already-present') return;
      this.recordFailure(id, managed, (err as Error).message);
      if (!existing && this.o.local.child(id) === undefined && managed.failures >= this.o.config.maxStartFailures) this.managed.delete(id);
      this.o.dirty(id);
    });
  }

  /**
   * Stops the instance here (it stays managed until the local supervisor
   * has stopped it; then it is forgotten). `deadlineMs`: gone within this
   * long, whatever its shutdown (majority mode's lease). `moveTo`: a
   * planned move to that node; the instance's state is handed over first.
   */
  stopInstance(id: string, why: string, deadlineMs?: number, moveTo?: string): void {
    const m = this.managed.get(id);
    if (!m) return;
    this.managed.delete(id);
    this.endRestart(id); // a stop wins over a restart in place under way
    this.o.clock.clearTimeout(m.stableTimer);
    // Keep the record of failures when handing over (others must skip this node); drop it otherwise.
    if (m.failures < this.o.config.maxStartFailures) this.dropFailRecord(id);
    this.o.log.debug({ child: id, why }, 'stopping local instance');
    const handOver = moveTo !== undefined ? this.o.handOver : undefined;
    if (handOver) this.handingOver.add(id);
    const handingOver = handOver ? handOver(id, m.rev, moveTo!).finally(() => this.handingOver.delete(id)) : Promise.resolve();
    void handingOver
      .then(() => this.o.local.terminateChild(id, deadlineMs === undefined ? {} : { deadlineMs }))
      .then(() => {
        const c = this.o.local.child(id);
        if (c && c.status === 'stopped' && !this.managed.has(id)) this.o.local.deleteChild(id);
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'not-found') this.o.log.warn({ child: id, err: (err as Error).message }, 'could not stop local instance');
      })
      .finally(() => this.o.dirty(id));
  }

  /**
   * Restarts this node's running instance of `id` in place (see the header):
   * stops it, then starts a new one here. Resolves with the new instance's
   * pid; rejects with a DistError: `not-running` when no instance of the
   * live revision runs here, `terminated` when a stop asked for meanwhile
   * won, `start-failed` when the new instance did not start.
   */
  async restart(id: string, live: SpecEntry): Promise<string> {
    const m = this.managed.get(id);
    const c = this.o.local.child(id);
    if (!m || m.rev !== live.rev || c?.status !== 'running' || c.pid === undefined) {
      throw new DistError('not-running', `${id} has no running instance on ${this.o.node}${c ? ` (${c.status})` : ''}; restart it where it runs`);
    }
    if (this.restarting.has(id)) throw new DistError('conflict', `${id} is restarting on ${this.o.node} already`);
    const run = this.o.groups.getLocalMembers(this.o.scope, group.run(id)).find((x) => x.pid === c.pid);
    this.restarting.set(id, { pid: c.pid, value: run?.value ?? { rev: m.rev, restarts: c.restarts }, bridged: false });
    const stoppedMeanwhile = (): DistError =>
      new DistError('terminated', `${id} was stopped on ${this.o.node} while it restarted (terminated, replaced by a new revision, or moved)`);
    try {
      await this.o.local.terminateChild(id);
      if (this.stopped) throw new DistError('shutting-down', `${this.o.node} is shutting down`);
      if (this.managed.get(id) !== m) throw stoppedMeanwhile();
      // It counts as a restart in place (`restarts`); a temporary child, removed when it stopped, starts afresh from its spec.
      const started = this.o.local.child(id) ? await this.o.local.restartChild(id, { countRestart: true }) : await this.startSpec(live.spec);
      if (this.managed.get(id) !== m) throw stoppedMeanwhile();
      return started.pid;
    } catch (err) {
      if (err instanceof DistError) throw err;
      const code = (err as { code?: string }).code;
      if (code === 'shutting-down') throw new DistError('shutting-down', `${this.o.node} is shutting down`);
      const message = (err as Error).message;
      if (this.managed.get(id) === m && !this.stopped) this.recordFailure(id, m, message);
      throw new DistError('start-failed', `${id} stopped on ${this.o.node} but did not start again: ${message}`);
    } finally {
      this.endRestart(id);
      this.o.dirty(id, true);
    }
  }

  /** The restart in place of `id` is over: the old pid's `run:` entry, if joined again, goes. */
  private endRestart(id: string): void {
    const r = this.restarting.get(id);
    if (!r) return;
    this.restarting.delete(id);
    if (r.bridged) this.o.groups.leave(this.o.scope, group.run(id), r.pid);
  }

  /**
   * Every instance of this node that is still stopping (a planned move
   * under way when the lease ran out) must be gone within `deadlineMs`.
   */
  hurry(deadlineMs: number): void {
    for (const c of this.o.local.whichChildren()) {
      // Race "the lease runs out during a handover" (the header): such an instance is still running, closed to
      // messages, for up to twice the handover timeout (and a link wait, calls.ts), while the majority starts the
      // child once this node's lease is out. It stops now, its state (if taken) goes nowhere.
      if (c.status !== 'stopping' && !(c.status === 'running' && this.handingOver.has(c.id))) continue;
      this.o.local.terminateChild(c.id, { deadlineMs }).catch(() => undefined);
    }
    if (this.handingOver.size > 0) this.o.hurried?.();
  }

  // ---- claims (majority mode) -------------------------------------------------------

  /** This node's claim to start `id`: none, pending, or confirmed by every present member. */
  claimOf(id: string): LocalClaim {
    const c = this.claims.get(id);
    if (c === undefined) return undefined;
    if (!c.confirmed) c.confirmed = c.peers.every((p) => this.o.links.heard(p.name, p.incarnation, c.seq));
    return c.confirmed ? 'confirmed' : 'pending';
  }

  /**
   * Claims the start of revision `rev` of `id`; `peers`: the present members
   * that must hear of it. The join goes out now; the probes that ask them to
   * confirm go out once per turn, after every claim of the turn (one round
   * trip confirms them all).
   */
  claim(id: string, rev: Ver, peers: ReadonlyArray<{ name: string; incarnation: string }>): void {
    if (this.claims.has(id)) return;
    this.o.groups.join(this.o.scope, group.claim(id), this.o.pid, { rev });
    this.claims.set(id, { id, rev, seq: this.o.links.nextPingSeq(), peers, confirmed: peers.length === 0 });
    for (const p of peers) this.probePeers.add(p.name);
    if (!this.probeQueued && this.probePeers.size > 0) {
      this.probeQueued = true;
      queueMicrotask(() => {
        this.probeQueued = false;
        if (this.stopped) return;
        for (const peer of this.probePeers) this.o.links.probe(peer);
        this.probePeers.clear();
      });
    }
  }

  unclaim(id: string): void {
    if (!this.claims.delete(id)) return;
    const g = group.claim(id);
    for (const x of this.o.groups.getLocalMembers(this.o.scope, g)) this.o.groups.leave(this.o.scope, g, x.pid);
  }

  /** Withdraws every claim (the lease lapsed). */
  unclaimAll(): void {
    for (const id of [...this.claims.keys()]) this.unclaim(id);
  }

  /**
   * The present members changed: a member no longer present (gone, or fenced
   * by the netsplit policy) need not hear of a pending claim any more. A
   * member restarted since learns of the claim on link up (pg's sync), before
   * anything it could start.
   */
  presentChanged(present: ReadonlyArray<{ name: string; incarnation: string }>): void {
    if (this.claims.size === 0) return;
    const names = new Set(present.map((p) => p.name));
    for (const c of this.claims.values()) {
      if (c.confirmed) continue;
      const still = c.peers.filter((p) => names.has(p.name));
      if (still.length !== c.peers.length) this.claims.set(c.id, { ...c, peers: still });
    }
    this.linkConfirmed();
  }

  /** A peer echoed a ping: each pending claim confirmed since makes its child dirty. */
  linkConfirmed(): void {
    if (this.claims.size === 0) return;
    for (const [id, c] of this.claims) {
      if (!c.confirmed && this.claimOf(id) === 'confirmed') this.o.dirty(id);
    }
  }

  /** A token for one planned move, or false (then `deferMove`). */
  takeMoveToken(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.o.clock.now();
    const rate = this.o.config.maxMovesPerSecond;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
  }

  /** A move that must wait for a token: it joins the queue (see the header). */
  deferMove(id: string): void {
    this.moveQueue.add(id);
    this.armMoveTimer();
  }

  private armMoveTimer(): void {
    if (this.moveTimer || this.stopped || this.moveQueue.size === 0) return;
    this.refill();
    const wait = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / Math.max(0.001, this.o.config.maxMovesPerSecond));
    this.moveTimer = this.o.clock.setTimeout(
      () => {
        this.moveTimer = undefined;
        this.refill();
        // As many as there are tokens now; an id woken that finds none (taken by a move decided
        // meanwhile) joins the queue again at its end.
        let wake = Math.max(1, Math.floor(this.tokens));
        for (const id of this.moveQueue) {
          if (wake-- <= 0) break;
          this.moveQueue.delete(id);
          this.o.dirty(id);
        }
        this.armMoveTimer();
      },
      Math.max(1, wait),
    );
  }

  // ---- the local supervisor's events ---------------------------------------------

  private readonly onLocalChild = (e: ChildEvent): void => {
    if (e.to === 'starting') this.startingIds.add(e.id);
    else this.startingIds.delete(e.id);
    const m = this.managed.get(e.id);
    if (!m) return;
    const restart = this.restarting.get(e.id);
    if (restart && !restart.bridged && (e.to === 'stopped' || e.to === 'removed')) {
      // Race "a peer takes over during the gap": the stop has just left `run:`; join again in the same turn.
      restart.bridged = true;
      this.o.groups.join(this.o.scope, group.run(e.id), restart.pid, restart.value);
    }
    if (e.to === 'running' && e.pid) {
      const c = this.o.local.child(e.id);
      // `restarts` only once there are some (protocol 2.8: a 2.7 reader takes none as 0 as well).
      const restarts = c?.restarts ?? 0;
      this.o.groups.join(this.o.scope, group.run(e.id), e.pid, restarts === 0 ? { rev: m.rev } : { rev: m.rev, restarts });
      // The OS process id, in a group of its own (tags.ts); it goes with the instance's pid when it ends.
      if (c?.osPid !== undefined) this.o.groups.join(this.o.scope, group.os(e.id), e.pid, { osPid: c.osPid });
      if (restart) this.endRestart(e.id); // the new instance stands in `run:` now
      this.o.clock.clearTimeout(m.stableTimer);
      // The spec is looked up only when there are failures to clear (a failover starts hundreds at once).
      const spec = m.failures > 0 ? this.o.specOf(e.id) : undefined;
      if (spec) {
        m.stableTimer = this.o.clock.setTimeout(() => {
          m.stableTimer = undefined;
          if (this.o.local.child(e.id)?.status === 'running') this.clearFailures(e.id, m);
        }, spec.maxSeconds * 1000);
      }
    }
    if (e.to === 'failing') this.recordFailure(e.id, m, this.o.local.child(e.id)?.lastError ?? e.reason);
    if ((e.to === 'stopped' || e.to === 'removed') && e.exit && !this.stopped) {
      // The child ended and its restart policy says so (a transient child that finished, a temporary one).
      this.managed.delete(e.id);
      this.o.clock.clearTimeout(m.stableTimer);
      if (this.o.local.child(e.id)?.status === 'stopped') this.o.local.deleteChild(e.id);
      this.o.finished(e.id, m.rev, e.reason);
    }
    // Not for 'starting': every start is either this module's own (`start`, `restart`, called from a
    // reconcile of this very id, which sees the instance) or the local supervisor's restart after an
    // exit (whose `run:` leave marked the id already). A mark here reconciled every orphan a failover
    // starts a second time for nothing (a fifth of a survivor's reconciles).
    if (e.to !== 'starting') this.o.dirty(e.id, e.to === 'running' || e.to === 'stopped' || e.to === 'removed');
  };

  // ---- failures -------------------------------------------------------------------

  private recordFailure(id: string, m: Managed, error: string): void {
    m.failures++;
    m.lastError = error;
    const wait = failingBackoff(m.failures, 1000, 30_000, this.o.random.next());
    m.retryAt = this.o.clock.now() + wait;
    this.o.log.warn({ child: id, failures: m.failures, error, retryInMs: wait }, 'child failed to start here');
    const fail = group.fail(id);
    this.setFailRecord(fail, { rev: m.rev, failures: m.failures, lastError: error.slice(0, 2000), at: this.o.clock.now() });
    if (m.failures >= this.o.config.maxStartFailures && this.o.local.child(id))
      this.stopInstance(id, `failed ${m.failures} times here; handing over to the next node`);
    // Forget the failures after a while, so a child failing everywhere is retried — slowly.
    const timer = this.o.clock.setTimeout(() => {
      this.resetTimers.delete(timer);
      if (this.managed.get(id) !== m && this.managed.has(id)) return;
      const latest = this.o.groups.getLocalMembers(this.o.scope, fail)[0]?.value as { at?: number } | undefined;
      if (latest && typeof latest.at === 'number' && this.o.clock.now() - latest.at >= this.o.config.failureResetMs) {
        this.dropFailRecord(id);
        if (this.managed.get(id) === m) m.failures = 0;
      }
    }, this.o.config.failureResetMs);
    this.resetTimers.add(timer);
  }

  private clearFailures(id: string, m: Managed): void {
    m.failures = 0;
    m.retryAt = 0;
    this.dropFailRecord(id);
  }

  /** Replaces this node's `fail:<id>` entry: the new value joins first, so the group never empties. */
  private setFailRecord(g: string, value: JsonValue): void {
    const mine = this.o.groups.getLocalMembers(this.o.scope, g);
    this.o.groups.join(this.o.scope, g, this.o.pid, value);
    for (const x of mine) this.o.groups.leave(this.o.scope, g, x.pid);
  }

  private dropFailRecord(id: string): void {
    const g = group.fail(id);
    for (const x of this.o.groups.getLocalMembers(this.o.scope, g)) this.o.groups.leave(this.o.scope, g, x.pid);
  }

  // ---- deferral -------------------------------------------------------------------

  /** One timer for the start retries, due at the earliest; it looks at those ids only (one not due yet defers itself again). */
  private deferUntil(at: number, id: string): void {
    this.deferred.add(id);
    if (this.stopped || (this.deferTimer && this.deferDue <= at)) return;
    this.o.clock.clearTimeout(this.deferTimer);
    this.deferDue = at;
    this.deferTimer = this.o.clock.setTimeout(
      () => {
        this.deferTimer = undefined;
        this.deferDue = Infinity;
        const ids = [...this.deferred];
        this.deferred.clear();
        for (const d of ids) this.o.dirty(d);
      },
      Math.max(1, at - this.o.clock.now()),
    );
  }
}
