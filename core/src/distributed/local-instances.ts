/**
 * This node's instances of distributed children: starting and stopping them
 * on the local supervisor, publishing them in pg, retrying failed starts with
 * backoff, and the move rate limit. The only module of the distributed
 * supervisor that acts on the local supervisor; the reconciler tells it what
 * to do, and it tells the reconciler which children need another look.
 *
 * - An instance that runs joins `run:<id>` with its own pid, value
 *   `{ rev, restarts }`; pg drops it when the instance ends or the node dies.
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
 *   `maxMovesPerSecond`; a move without a token is looked at again when the
 *   next token is due (one timer for everything deferred).
 * - `starting()`: the children whose instance is starting here. The store's
 *   acknowledgements wait for them (store/replication.ts: race "terminate
 *   during a start").
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { JsonValue, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { Random } from '../random.js';
import type { ChildSpec } from '../supervisor/child-spec.js';
import type { ChildEvent, ChildInfo, LocalSupervisor } from '../supervisor/local-supervisor.js';
import { failingBackoff } from '../supervisor/restart-policy.js';
import type { LocalInstance } from './decide.js';
import type { SpecEntry, Ver } from './registers.js';
import { group } from './tags.js';

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
  maxStartFailures: number;
  failureResetMs: number;
  maxMovesPerSecond: number;
  /** `id` needs another look by the reconciler (`urgent`: its instance appeared or went). */
  dirty(id: string, urgent?: boolean): void;
  /** The instance of `rev` ended for good on its own: its spec should be removed from the cluster. */
  finished(id: string, rev: Ver, reason: string): void;
  /** The live spec of `id` (for how long an instance must run to clear its failures). */
  specOf(id: string): ChildSpec | undefined;
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
  private readonly startingIds = new Set<string>();
  private readonly deferred = new Set<string>();
  private deferTimer: TimerHandle | undefined;
  private readonly resetTimers = new Set<TimerHandle>();
  private tokens: number;
  private tokensAt: number;
  private stopped = false;

  constructor(private readonly o: LocalInstancesOptions) {
    this.tokens = Math.max(1, o.maxMovesPerSecond);
    this.tokensAt = o.clock.now();
    o.local.on('child', this.onLocalChild);
  }

  /** Stops timers and listening (the node's shutdown stops the instances themselves). */
  stop(): void {
    this.stopped = true;
    this.o.local.off('child', this.onLocalChild);
    this.o.clock.clearTimeout(this.deferTimer);
    for (const t of this.resetTimers) this.o.clock.clearTimeout(t);
    for (const m of this.managed.values()) this.o.clock.clearTimeout(m.stableTimer);
  }

  /** This node's instance of `id`, for `decide`. */
  instance(id: string): LocalInstance | undefined {
    const m = this.managed.get(id);
    if (!m) return undefined;
    const c = this.o.local.child(id);
    return { rev: m.rev, running: c !== undefined && c.status !== 'stopped' };
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

  /** Starts the live spec here (unless a failed start is still backing off: then later). */
  start(id: string, live: SpecEntry): void {
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
      if ((err as { code?: string }).code === 'already-present') return;
      this.recordFailure(id, managed, (err as Error).message);
      if (!existing && this.o.local.child(id) === undefined && managed.failures >= this.o.maxStartFailures) this.managed.delete(id);
      this.o.dirty(id);
    });
  }

  /**
   * Stops the instance here (it stays managed until the local supervisor
   * has stopped it; then it is forgotten). `deadlineMs`: gone within this
   * long, whatever its shutdown (majority mode's lease).
   */
  stopInstance(id: string, why: string, deadlineMs?: number): void {
    const m = this.managed.get(id);
    if (!m) return;
    this.managed.delete(id);
    this.o.clock.clearTimeout(m.stableTimer);
    // Keep the record of failures when handing over (others must skip this node); drop it otherwise.
    if (m.failures < this.o.maxStartFailures) this.dropFailRecord(id);
    this.o.log.debug({ child: id, why }, 'stopping local instance');
    void this.o.local
      .terminateChild(id, deadlineMs === undefined ? {} : { deadlineMs })
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
   * Every instance of this node that is still stopping (a planned move
   * under way when the lease ran out) must be gone within `deadlineMs`.
   */
  hurry(deadlineMs: number): void {
    for (const c of this.o.local.whichChildren()) {
      if (c.status !== 'stopping') continue;
      this.o.local.terminateChild(c.id, { deadlineMs }).catch(() => undefined);
    }
  }

  /** A token for one planned move, or false (then `deferMove`). */
  takeMoveToken(): boolean {
    const now = this.o.clock.now();
    const rate = this.o.maxMovesPerSecond;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** A move that must wait for a token: look at this id again when the next token is due. */
  deferMove(id: string): void {
    this.deferUntil(this.o.clock.now() + Math.ceil(1000 / Math.max(0.001, this.o.maxMovesPerSecond)), id);
  }

  // ---- the local supervisor's events ---------------------------------------------

  private readonly onLocalChild = (e: ChildEvent): void => {
    if (e.to === 'starting') this.startingIds.add(e.id);
    else this.startingIds.delete(e.id);
    const m = this.managed.get(e.id);
    if (!m) return;
    if (e.to === 'running' && e.pid) {
      this.o.groups.join(this.o.scope, group.run(e.id), e.pid, { rev: m.rev, restarts: this.o.local.child(e.id)?.restarts ?? 0 });
      this.o.clock.clearTimeout(m.stableTimer);
      const spec = this.o.specOf(e.id);
      if (m.failures > 0 && spec) {
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
    this.o.dirty(e.id, e.to === 'running' || e.to === 'stopped' || e.to === 'removed');
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
    if (m.failures >= this.o.maxStartFailures && this.o.local.child(id)) this.stopInstance(id, `failed ${m.failures} times here; handing over to the next node`);
    // Forget the failures after a while, so a child failing everywhere is retried — slowly.
    const timer = this.o.clock.setTimeout(() => {
      this.resetTimers.delete(timer);
      if (this.managed.get(id) !== m && this.managed.has(id)) return;
      const latest = this.o.groups.getLocalMembers(this.o.scope, fail)[0]?.value as { at?: number } | undefined;
      if (latest && typeof latest.at === 'number' && this.o.clock.now() - latest.at >= this.o.failureResetMs) {
        this.dropFailRecord(id);
        if (this.managed.get(id) === m) m.failures = 0;
      }
    }, this.o.failureResetMs);
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

  /** One timer for everything deferred (rate-limited moves, start retries); it looks at those ids only. */
  private deferUntil(at: number, id: string): void {
    this.deferred.add(id);
    if (this.deferTimer || this.stopped) return;
    this.deferTimer = this.o.clock.setTimeout(
      () => {
        this.deferTimer = undefined;
        const ids = [...this.deferred];
        this.deferred.clear();
        for (const d of ids) this.o.dirty(d);
      },
      Math.max(1, at - this.o.clock.now()),
    );
  }
}
