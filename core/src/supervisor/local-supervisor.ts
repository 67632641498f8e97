/**
 * LocalSupervisor: runs this node's children with OTP semantics
 * (one_for_one), except that a child past its restart intensity is marked
 * `failing` and retried with backoff instead of taking the supervisor down.
 *
 * Per child, a small state machine:
 *
 *   starting ──ok──▶ running ──exit──▶ (restart? intensity?) ──▶ starting
 *      │                │                      └──▶ failing ──backoff──▶ starting
 *      └─fail─▶ (first start: rejected, child removed; restart: as a crash)
 *   running ──terminateChild──▶ stopping ──▶ stopped   (temporary: removed)
 *
 * `desired` records intent ('running' or 'stopped'); every asynchronous step
 * carries the child's `generation`, so a late callback from an older
 * instance is ignored (race: an exit or start completion arriving after the
 * child was stopped or restarted). Every status change emits a `child` event.
 *
 * Each instance gets a fresh pid; its process-group memberships are dropped
 * when it ends (as Erlang's pg does when a process dies).
 *
 * Messages (issue 16): `instanceChannel(id, pid)` is the channel of the
 * instance `pid` while it is `running` and not handing over its state;
 * otherwise it says why there is none (`moved`: another instance will take
 * messages — stopping, restarting, handing over, or an older pid; `gone`:
 * no record of the child). `takeHandover` closes the instance to messages
 * first, then asks it for its state, so no message reaches it after its
 * state was taken (race "a call during the handover": it is answered
 * `moved` and waits for the new instance); the instance lets the handlers
 * already running settle before it gives its state (worker-child.ts, race
 * "a handler outlives the handover"). A start may carry the state a
 * previous instance handed over: the first instance gets it, a restart
 * after a crash does not.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock.js';
import type { JsonValue, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { Random } from '../random.js';
import { isCommandStart, parseChildSpec, sameSpec, type ChildSpec, type Shutdown } from './child-spec.js';
import { DEFAULT_IPC_MAX_MESSAGE_BYTES, DEFAULT_IPC_MAX_QUEUED_BYTES, type IpcLimits } from './ipc-channel.js';
import { LogRing, type OutputLine } from './log-ring.js';
import { startOsChild } from './os-child.js';
import { describeExit, failingBackoff, shouldRestart, withinIntensity, type ExitReason } from './restart-policy.js';
import type { ChildChannel } from './child-channel.js';
import { LaunchContext, StartError, type HandoverLosses, type RunningChild } from './running-child.js';
import { startWorkerChild } from './worker-child.js';
import type { ChildMessaging, WorkerRegistry } from './workers.js';

/** The status of a local child. */
export type ChildStatus = 'starting' | 'running' | 'stopping' | 'stopped' | 'failing';

/** What the local supervisor reports about one child: spec, status, pid, restarts, last exit. */
export interface ChildInfo {
  /** The child's id. */
  id: string;
  /** Its validated spec. */
  spec: ChildSpec;
  /** Its status on this node. */
  status: ChildStatus;
  /** Pid of the current instance (starting, running or stopping). */
  pid: string | undefined;
  /** The OS process id of the current instance, for an OS-process child; `undefined` for a worker or when none runs. */
  osPid: number | undefined;
  /** Restarts since the child was added. */
  restarts: number;
  /** When the current status began. */
  since: number;
  /** When the current instance started running. */
  startedAt: number | undefined;
  /** How the last instance ended (e.g. `exited normally`, `failed: ...`); `undefined` before the first exit. */
  lastExit: string | undefined;
  /** The last failed start's or abnormal exit's message; `undefined` when there was none. */
  lastError: string | undefined;
  /** For a failing child: when the next retry is due. */
  nextRetryAt: number | undefined;
}

/** An event of the local supervisor about one child (started, exited, restarted...). */
export interface ChildEvent {
  /** The child's id. */
  id: string;
  /** Its status before the transition; `undefined` when it was just added. */
  from: ChildStatus | undefined;
  /** Its status after; `removed` when it was deleted from the supervisor. */
  to: ChildStatus | 'removed';
  /** When the transition happened (ms, the supervisor's clock). */
  at: number;
  /** Pid of the instance concerned; `undefined` when there is none. */
  pid: string | undefined;
  /** Why, in words (e.g. `started`, `start failed`, `deleted`). */
  reason: string;
  /** Set when the transition follows the instance ending on its own (not a stop the supervisor was asked for). */
  exit?: ExitReason;
}

/** How many local children are in each status. */
export interface ChildCounts {
  /** Children the supervisor holds, in any status. */
  specs: number;
  /** Children starting, running or stopping. */
  active: number;
  /** Children failing (waiting to retry a start). */
  failing: number;
  /** Children stopped. */
  stopped: number;
  /** Children that are workers (in this process). */
  workers: number;
  /** Children that are OS processes. */
  commands: number;
}

/**
 * The local supervisor's section of the node's config (config-sections.ts),
 * spread whole into its options: the commands OS children may run, the
 * start timeout, and the longest IPC line (derived from callMaxBytes).
 */
export type SupervisorConfig = Required<Pick<LocalSupervisorOptions, 'allowCommands' | 'startTimeoutMs' | 'ipcMaxMessageBytes'>>;

/** The local supervisor's options: node, clock, random, logger, groups, worker registry, allowed commands. */
export interface LocalSupervisorOptions {
  /** This node's name. */
  node: string;
  /** The clock timers and timestamps use. */
  clock: Clock;
  /** The random source for backoff jitter. */
  random: Random;
  /** Where the supervisor and its children log. */
  log: Logger;
  /** The node's process groups; a child's memberships are dropped when it exits. */
  groups: ProcessGroups;
  /** The worker types children may run. */
  workers: WorkerRegistry;
  /** Commands OS-process children may run, matched exactly against `start.command`. None by default. */
  allowCommands: readonly string[];
  /** A new pid for a child's next instance. */
  newPid(): string;
  /** Longest a start may take, in ms. */
  startTimeoutMs?: number;
  /** First retry delay of a failing child, doubling up to `failingBackoffMaxMs`. */
  failingBackoffBaseMs?: number;
  /** Longest retry delay of a failing child, in ms (default 60,000). */
  failingBackoffMaxMs?: number;
  /** Longest message to or from an OS child with `ipc`, bytes of JSON (default 1 MiB); the router passes its own message limit. */
  ipcMaxMessageBytes?: number;
  /** Most bytes written to such a child and not yet read by it before calls to it are refused (default 4 MiB, at least 2 messages). */
  ipcMaxQueuedBytes?: number;
  /** Lines of output kept per OS-process child. */
  outputLines?: number;
  /** Calls and casts the children make (workers' `ctx.call`): the distributed layer, once it exists. */
  messaging?(): ChildMessaging | undefined;
}

/** Why an instance takes no message now (`instanceChannel`). */
export type NoChannel = 'moved' | 'gone';

/** The codes a SupervisorError carries. */
export type SupervisorErrorCode =
  'invalid-spec' | 'already-present' | 'not-found' | 'running' | 'not-allowed' | 'unknown-worker' | 'start-failed' | 'shutting-down';

/** An error of the local supervisor, with a machine-readable code. */
export class SupervisorError extends Error {
  constructor(
    /** What went wrong, for programs to test. */
    readonly code: SupervisorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SupervisorError';
  }
}

interface ChildRecord {
  spec: ChildSpec;
  status: ChildStatus;
  desired: 'running' | 'stopped';
  generation: number;
  instance: RunningChild | undefined;
  pid: string | undefined;
  restarts: number;
  restartTimes: number[];
  failures: number;
  since: number;
  startedAt: number | undefined;
  lastExit: string | undefined;
  lastError: string | undefined;
  retryTimer: TimerHandle | undefined;
  stableTimer: TimerHandle | undefined;
  nextRetryAt: number | undefined;
  output: LogRing | undefined;
  /** An exit reported while the instance was still being registered. */
  pendingExit: ExitReason | undefined;
  stopWaiters: Array<() => void>;
  /** A stop with a deadline was asked for (terminateChild): a start still in progress is stopped within it. */
  stopDeadlineMs?: number;
  /** The state handed over by a previous instance, for the next launch only. */
  handover?: JsonValue;
  /** The pid whose state was taken (takeHandover): it takes no more messages. */
  handedOver?: string;
}

/** The per-node supervisor (Erlang one_for_one): starts, restarts and stops this node's children. */
export class LocalSupervisor extends EventEmitter<{ child: [ChildEvent] }> {
  private readonly children = new Map<string, ChildRecord>();
  /** Messages handovers went without, since start (worker-child.ts; the metrics read them). */
  readonly handoverLosses: HandoverLosses = { calls: 0, casts: 0 };
  private readonly startTimeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly ipcLimits: IpcLimits;
  private shuttingDown = false;

  constructor(private readonly o: LocalSupervisorOptions) {
    super();
    this.startTimeoutMs = o.startTimeoutMs ?? 10_000;
    this.backoffBaseMs = o.failingBackoffBaseMs ?? 1_000;
    this.backoffMaxMs = o.failingBackoffMaxMs ?? 60_000;
    const maxMessageBytes = o.ipcMaxMessageBytes ?? DEFAULT_IPC_MAX_MESSAGE_BYTES;
    this.ipcLimits = { maxMessageBytes, maxQueuedBytes: Math.max(o.ipcMaxQueuedBytes ?? DEFAULT_IPC_MAX_QUEUED_BYTES, 2 * maxMessageBytes) };
  }

  /** Checks a spec and whether this node can run it, without starting anything. Throws SupervisorError. */
  check(input: unknown): ChildSpec {
    let spec: ChildSpec;
    try {
      spec = parseChildSpec(input);
    } catch (err) {
      throw new SupervisorError('invalid-spec', (err as Error).message);
    }
    if (isCommandStart(spec.start)) {
      if (!this.o.allowCommands.includes(spec.start.command)) {
        throw new SupervisorError(
          'not-allowed',
          `command ${JSON.stringify(spec.start.command)} is not allowed on node ${this.o.node}; allow it with ` +
            `--allow-commands (allowed: ${this.o.allowCommands.length > 0 ? this.o.allowCommands.join(', ') : 'none'})`,
        );
      }
    } else if (!this.o.workers.get(spec.start.worker)) {
      throw new SupervisorError(
        'unknown-worker',
        `unknown worker type ${JSON.stringify(spec.start.worker)} on node ${this.o.node} ` +
          `(known: ${this.o.workers.names().join(', ') || 'none'}); load it with --workers`,
      );
    }
    return spec;
  }

  /**
   * Adds and starts a child. Resolves with its pid once it runs; rejects with
   * a SupervisorError (and keeps nothing) when the spec is invalid, the id is
   * taken, or the first start fails.
   */
  async startChild(input: unknown, options: { handover?: JsonValue } = {}): Promise<{ id: string; pid: string }> {
    if (this.shuttingDown) throw new SupervisorError('shutting-down', 'the node is shutting down');
    const spec = this.check(input);
    const existing = this.children.get(spec.id);
    if (existing) {
      const same = sameSpec(existing.spec, spec);
      throw new SupervisorError(
        'already-present',
        `a child with id ${JSON.stringify(spec.id)} already exists${same ? '' : ' with a different spec'} (status ${existing.status})`,
      );
    }
    const now = this.o.clock.now();
    const record: ChildRecord = {
      spec,
      status: 'starting',
      desired: 'running',
      generation: 0,
      instance: undefined,
      pid: undefined,
      restarts: 0,
      restartTimes: [],
      failures: 0,
      since: now,
      startedAt: undefined,
      lastExit: undefined,
      lastError: undefined,
      retryTimer: undefined,
      stableTimer: undefined,
      nextRetryAt: undefined,
      output: isCommandStart(spec.start) ? new LogRing(this.o.outputLines ?? 1000) : undefined,
      pendingExit: undefined,
      stopWaiters: [],
      ...(options.handover !== undefined ? { handover: options.handover } : {}),
    };
    this.children.set(spec.id, record);
    this.emitChange(record, undefined, 'starting', 'start requested');
    const error = await this.launch(record, true);
    if (error) {
      for (const w of record.stopWaiters.splice(0)) w();
      this.children.delete(spec.id);
      this.emitChange(record, record.status, 'removed', error);
      throw new SupervisorError('start-failed', `child ${spec.id}: ${error}`);
    }
    return { id: spec.id, pid: record.pid! };
  }

  /**
   * Stops a child and keeps its spec (a temporary child is removed).
   * Resolves once it has stopped. `deadlineMs`: it must be gone within this
   * long, whatever its shutdown says — killed after it (majority mode's
   * lease: distributed/policies/netsplit-majority.ts), also when it was
   * already stopping.
   */
  async terminateChild(id: string, options: { deadlineMs?: number } = {}): Promise<void> {
    const record = this.mustGet(id);
    record.desired = 'stopped';
    this.cancelTimers(record);
    if (record.status === 'failing') this.setStatus(record, 'stopped', 'terminated while failing');
    if (record.status === 'stopped') {
      if (record.spec.restart === 'temporary') this.remove(record, 'terminated');
      return;
    }
    const deadline = options.deadlineMs;
    if (deadline !== undefined) record.stopDeadlineMs = Math.min(record.stopDeadlineMs ?? Infinity, deadline);
    if (deadline !== undefined && record.instance && record.status === 'stopping') {
      const instance = record.instance;
      const generation = record.generation;
      const timer = this.o.clock.setTimeout(() => {
        if (record.generation === generation && record.status === 'stopping') void instance.stop('brutal_kill');
      }, deadline);
      record.stopWaiters.push(() => this.o.clock.clearTimeout(timer));
    }
    if (record.status === 'running' && record.instance) {
      const instance = record.instance;
      this.setStatus(record, 'stopping', 'terminate requested');
      await instance.stop(deadline === undefined ? record.spec.shutdown : withinDeadline(record.spec.shutdown, deadline));
    }
    // 'starting' or 'stopping': wait until the instance has gone.
    if ((record.status as ChildStatus) !== 'stopped') await new Promise<void>((resolve) => record.stopWaiters.push(resolve));
    if (record.spec.restart === 'temporary' && this.children.get(id) === record) this.remove(record, 'terminated');
  }

  /**
   * Starts a stopped or failing child again (OTP's restart_child).
   * `countRestart`: it counts in `restarts`, as a restart in place does (the
   * distributed supervisor's `restart`: an operator's stop and start, which
   * readers tell from a new child record by that count).
   */
  async restartChild(id: string, options: { countRestart?: boolean; handover?: JsonValue } = {}): Promise<{ id: string; pid: string }> {
    if (this.shuttingDown) throw new SupervisorError('shutting-down', 'the node is shutting down');
    const record = this.mustGet(id);
    if (record.status === 'running' || record.status === 'starting' || record.status === 'stopping')
      throw new SupervisorError('running', `child ${id} is ${record.status}; terminate it first`);
    this.cancelTimers(record);
    record.desired = 'running';
    record.stopDeadlineMs = undefined;
    record.failures = 0;
    record.restartTimes = [];
    if (options.countRestart) record.restarts++;
    if (options.handover !== undefined) record.handover = options.handover;
    const error = await this.launch(record, true);
    if (error) {
      this.setStatus(record, 'stopped', error);
      for (const w of record.stopWaiters.splice(0)) w();
      throw new SupervisorError('start-failed', `child ${id}: ${error}`);
    }
    return { id, pid: record.pid! };
  }

  /** Removes a stopped (or failing) child's spec. */
  deleteChild(id: string): void {
    const record = this.mustGet(id);
    if (record.status !== 'stopped' && record.status !== 'failing') throw new SupervisorError('running', `child ${id} is ${record.status}; terminate it first`);
    this.cancelTimers(record);
    this.remove(record, 'deleted');
  }

  /** Every child the supervisor holds, in the order they were added. */
  whichChildren(): ChildInfo[] {
    return [...this.children.values()].map((r) => this.info(r));
  }

  /** The pid of `id`'s instance while it is running, else undefined (no snapshot made: sweeps ask for every child). */
  runningPid(id: string): string | undefined {
    const r = this.children.get(id);
    return r?.status === 'running' ? r.pid : undefined;
  }

  /**
   * Where calls and casts to `id` go (child-channel.ts): the channel of its
   * instance while it is running; undefined while it starts, stops or is
   * between instances or has handed over its state, when there is no such
   * child, and when its kind takes no messages (an OS child without `ipc`).
   * Calls already made on an instance's channel settle on their own when it
   * ends (`not-running`). The running instance's `instanceChannel`.
   */
  channelOf(id: string): ChildChannel | undefined {
    const pid = this.runningPid(id);
    const found = pid === undefined ? undefined : this.instanceChannel(id, pid);
    return found !== undefined && 'channel' in found ? found.channel : undefined;
  }

  /** The child `id`; `undefined` when there is none. */
  child(id: string): ChildInfo | undefined {
    const r = this.children.get(id);
    return r ? this.info(r) : undefined;
  }

  /** The channel of instance `pid` of `id` while it takes messages, or why it does not (see the header). */
  instanceChannel(id: string, pid: string): { channel: ChildChannel | undefined } | { none: NoChannel } {
    const r = this.children.get(id);
    if (!r) return { none: 'gone' };
    if (r.status !== 'running' || r.pid !== pid || r.handedOver === pid || !r.instance) return { none: 'moved' };
    return { channel: r.instance.channel };
  }

  /** The pid of `id`'s instance that takes messages now, if any. */
  messagePid(id: string): string | undefined {
    const r = this.children.get(id);
    return r?.status === 'running' && r.instance && r.handedOver !== r.pid ? r.pid : undefined;
  }

  /**
   * Closes `id`'s running instance to messages and asks it for its state
   * once the messages it took are answered (see the header). Undefined when it registered no handover, or nothing
   * runs; rejects with the reason when the instance failed to give it.
   */
  async takeHandover(id: string, timeoutMs: number): Promise<JsonValue | undefined> {
    const r = this.children.get(id);
    if (!r || r.status !== 'running' || !r.instance || r.pid === undefined) return undefined;
    r.handedOver = r.pid;
    return r.instance.takeHandover?.(timeoutMs);
  }

  /** How many children are in each status and of each kind. */
  countChildren(): ChildCounts {
    const counts: ChildCounts = { specs: 0, active: 0, failing: 0, stopped: 0, workers: 0, commands: 0 };
    for (const r of this.children.values()) {
      counts.specs++;
      if (r.status === 'running' || r.status === 'starting' || r.status === 'stopping') counts.active++;
      if (r.status === 'failing') counts.failing++;
      if (r.status === 'stopped') counts.stopped++;
      if (isCommandStart(r.spec.start)) counts.commands++;
      else counts.workers++;
    }
    return counts;
  }

  /** Captured output of an OS-process child (newest last). */
  output(id: string, afterSeq = 0, limit?: number): OutputLine[] {
    return this.mustGet(id).output?.read(afterSeq, limit) ?? [];
  }

  /** Stops every child in parallel, each within its shutdown time; refuses new starts. */
  async stopAll(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [...this.children.keys()].map((id) => this.terminateChild(id).catch((err: unknown) => this.o.log.error({ id, err }, 'error while stopping child'))),
    );
  }

  /**
   * The process is dying (simulated crash): cancel every timer and refuse
   * new starts, without stopping anything — a dead process stops nothing.
   */
  abandon(): void {
    this.shuttingDown = true;
    for (const record of this.children.values()) {
      this.cancelTimers(record);
      record.desired = 'stopped';
    }
  }

  // ---- internals ----------------------------------------------------------

  /**
   * Starts a new instance. Returns an error message when the start failed.
   * An `explicit` start (startChild, restartChild) reports the failure to its
   * caller; a restart treats it as one more crash.
   */
  private async launch(record: ChildRecord, explicit: boolean): Promise<string | undefined> {
    const generation = ++record.generation;
    const id = record.spec.id;
    const pid = this.o.newPid();
    record.pid = pid;
    record.pendingExit = undefined;
    if (record.status !== 'starting') this.setStatus(record, 'starting', record.restarts > 0 ? 'restarting' : 'starting');
    const handover = record.handover;
    record.handover = undefined;
    const ctx = new LaunchContext(
      id,
      pid,
      this.o.node,
      this.o.clock,
      this.o.log,
      this.o.groups,
      handover,
      this.o.messaging?.(),
      (reason: ExitReason) => this.onExit(record, generation, reason),
      this.handoverLosses,
    );
    let instance: RunningChild;
    try {
      const start = record.spec.start;
      if (isCommandStart(start)) {
        instance = await startOsChild(start, ctx, record.output!, this.ipcLimits);
      } else {
        const factory = this.o.workers.get(start.worker);
        if (!factory) throw new StartError(`unknown worker type ${start.worker}`);
        instance = await startWorkerChild(start.worker, factory, start.args, ctx, this.startTimeoutMs);
      }
    } catch (err) {
      const message = err instanceof StartError ? err.message : `start failed: ${(err as Error)?.message ?? String(err)}`;
      if (record.generation !== generation) return message;
      record.pid = undefined;
      this.o.groups.leaveAll(pid);
      record.lastError = message;
      this.o.log.warn({ child: id, error: message }, 'child failed to start');
      if (explicit) return message;
      this.afterExit(record, { kind: 'error', message }, 'start failed');
      return message;
    }
    if (record.generation !== generation) return undefined;
    record.instance = instance;
    record.startedAt = this.o.clock.now();
    this.setStatus(record, 'running', record.restarts > 0 ? `restarted (${record.restarts})` : 'started');
    if (record.failures > 0) {
      // Reset the failing count once the child has stayed up for a full intensity window.
      record.stableTimer = this.o.clock.setTimeout(() => {
        record.stableTimer = undefined;
        if (record.generation === generation && record.status === 'running') record.failures = 0;
      }, record.spec.maxSeconds * 1000);
    }
    if (record.desired === 'stopped') {
      this.setStatus(record, 'stopping', 'terminate requested while starting');
      void instance.stop(record.stopDeadlineMs === undefined ? record.spec.shutdown : withinDeadline(record.spec.shutdown, record.stopDeadlineMs));
    }
    if (record.pendingExit) {
      const reason = record.pendingExit;
      record.pendingExit = undefined;
      this.onExit(record, generation, reason);
    }
    return undefined;
  }

  private onExit(record: ChildRecord, generation: number, reason: ExitReason): void {
    if (record.generation !== generation) return;
    if (!record.instance) {
      // Race: the instance reported its exit before launch() registered it.
      record.pendingExit = reason;
      return;
    }
    const pid = record.pid;
    record.instance = undefined;
    record.pid = undefined;
    record.startedAt = undefined;
    if (pid) this.o.groups.leaveAll(pid);
    this.o.clock.clearTimeout(record.stableTimer);
    record.stableTimer = undefined;
    record.lastExit = describeExit(reason);
    if (reason.kind === 'error' || reason.kind === 'killed') record.lastError = describeExit(reason);
    if (record.desired === 'stopped' || record.status === 'stopping' || this.shuttingDown) {
      this.setStatus(record, 'stopped', record.lastExit);
      for (const w of record.stopWaiters.splice(0)) w();
      return;
    }
    this.afterExit(record, reason, record.lastExit);
  }

  /** Applies the restart policy and intensity after an instance ended on its own. */
  private afterExit(record: ChildRecord, reason: ExitReason, why: string): void {
    const spec = record.spec;
    if (record.desired === 'stopped' || this.shuttingDown) {
      this.setStatus(record, 'stopped', why);
      for (const w of record.stopWaiters.splice(0)) w();
      return;
    }
    if (!shouldRestart(spec.restart, reason)) {
      this.setStatus(record, 'stopped', why, reason);
      for (const w of record.stopWaiters.splice(0)) w();
      if (spec.restart === 'temporary') this.remove(record, why, reason);
      return;
    }
    const now = this.o.clock.now();
    if (record.failures === 0 && withinIntensity(record.restartTimes, now, spec.maxRestarts, spec.maxSeconds)) {
      record.restartTimes.push(now);
      record.restarts++;
      this.o.log.info({ child: spec.id, reason: why, restarts: record.restarts }, 'restarting child');
      void this.launch(record, false);
      return;
    }
    record.failures++;
    const wait = failingBackoff(record.failures, this.backoffBaseMs, this.backoffMaxMs, this.o.random.next());
    record.nextRetryAt = now + wait;
    this.setStatus(
      record,
      'failing',
      `${why}; ${record.failures === 1 ? `more than ${spec.maxRestarts} restarts within ${spec.maxSeconds} s` : `retry ${record.failures - 1} failed`}; ` +
        `next retry in ${wait} ms`,
    );
    this.o.log.warn({ child: spec.id, lastError: record.lastError, failures: record.failures, retryInMs: wait }, 'child failing; retrying with backoff');
    record.retryTimer = this.o.clock.setTimeout(() => {
      record.retryTimer = undefined;
      record.nextRetryAt = undefined;
      if (record.status !== 'failing' || record.desired !== 'running') return;
      record.restarts++;
      void this.launch(record, false);
    }, wait);
  }

  private setStatus(record: ChildRecord, to: ChildStatus, reason: string, exit?: ExitReason): void {
    const from = record.status;
    record.status = to;
    record.since = this.o.clock.now();
    if (to !== 'failing') record.nextRetryAt = undefined;
    this.emitChange(record, from, to, reason, exit);
  }

  private emitChange(record: ChildRecord, from: ChildStatus | undefined, to: ChildStatus | 'removed', reason: string, exit?: ExitReason): void {
    try {
      this.emit('child', { id: record.spec.id, from, to, at: this.o.clock.now(), pid: record.pid, reason, ...(exit ? { exit } : {}) });
    } catch (err) {
      this.o.log.error({ err, child: record.spec.id }, 'child event listener threw');
    }
  }

  private remove(record: ChildRecord, reason: string, exit?: ExitReason): void {
    for (const w of record.stopWaiters.splice(0)) w();
    if (this.children.get(record.spec.id) !== record) return;
    this.children.delete(record.spec.id);
    this.emitChange(record, record.status, 'removed', reason, exit);
  }

  private cancelTimers(record: ChildRecord): void {
    this.o.clock.clearTimeout(record.retryTimer);
    this.o.clock.clearTimeout(record.stableTimer);
    record.retryTimer = undefined;
    record.stableTimer = undefined;
    record.nextRetryAt = undefined;
  }

  private mustGet(id: string): ChildRecord {
    const record = this.children.get(id);
    if (!record) throw new SupervisorError('not-found', `no child with id ${JSON.stringify(id)}`);
    return record;
  }

  private info(r: ChildRecord): ChildInfo {
    return {
      id: r.spec.id,
      spec: r.spec,
      status: r.status,
      pid: r.pid,
      osPid: r.instance?.osPid,
      restarts: r.restarts,
      since: r.since,
      startedAt: r.startedAt,
      lastExit: r.lastExit,
      lastError: r.lastError,
      nextRetryAt: r.nextRetryAt,
    };
  }
}

/** The shutdown of a child that must be gone within `deadlineMs`. */
function withinDeadline(shutdown: Shutdown, deadlineMs: number): Shutdown {
  if (shutdown === 'brutal_kill') return shutdown;
  if (shutdown === 'infinity') return Math.max(1, deadlineMs);
  return Math.max(1, Math.min(shutdown, deadlineMs));
}
