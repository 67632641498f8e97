/**
 * Runs a worker type in-process as a child (see workers.ts for the API).
 *
 * Start: the factory runs inside the worker's AsyncLocalStorage scope, so
 * faults in its callbacks are attributed to it. The start fails when the
 * factory throws or rejects, returns no `stop`, exits abnormally before it
 * has returned, or takes longer than the start timeout (then the worker's
 * signal is aborted and a late handle is stopped at once).
 *
 * Stop: abort the signal, call `handle.stop('shutdown')` and wait for it per
 * the shutdown policy. In-process code cannot be killed: a worker that does
 * not stop in time is abandoned with a warning (its timers may still run),
 * which is why workers should honour `ctx.signal`.
 *
 * Messages (child-channel.ts): the instance's channel hands each call to the
 * handler the worker registered with `ctx.onMessage`, inside the worker's
 * scope; a throw or rejection is `handler-error` (the worker keeps running),
 * a reply that is not JSON is `handler-error` too, and no answer within the
 * call's `timeoutMs` is `timeout` — the late answer is dropped. A timer that
 * runs late (the node was frozen) lets one I/O turn pass first, so a
 * handler whose I/O completed in time answers (race "a caller woken from a
 * freeze", distributed/call-table.ts). A stopped
 * instance takes none (`no-handler`; the router never delivers to one).
 *
 * Handover: `takeHandover` first waits until the handler runs already under
 * way (calls and casts, whatever their callers' timeouts) have settled, at
 * most `timeoutMs`; then it calls the worker's `ctx.onHandover` function,
 * inside its scope, and checks the result is JSON within `timeoutMs` (so a
 * move waits at most twice the handover timeout here). The local supervisor
 * has closed the instance to new messages before (`handedOver`: they are
 * answered `moved` and go to the next instance), so the runs it waits for
 * can only end. Race "a handler outlives the handover": an async handler
 * still running when the state is taken changes state that has already
 * gone to the next instance, so its effect is lost; its reply must not
 * reach the caller as a success (the next instance would hand out the same
 * values again). A reply settled from the moment the state is taken is
 * answered `timeout`, saying the message may or may not have been handled —
 * the at-most-once wording of a lost link (distributed/calls.ts). A handler
 * that settled before is in the state taken; one that throws still answers
 * `handler-error`.
 *
 * Race "a cast outlives the handover" (an outsider's tour: journal children,
 * handlers of 12 s against the 5 s handover timeout): a cast's caller is
 * answered when the instance takes the message, so a cast whose handler is
 * still running at the bound was acknowledged and its effect is lost — 15
 * casts in two moves. Nothing can take that acknowledgement back, and
 * waiting for such a handler without a bound would let one that never
 * settles keep the child closed to messages for good; so the bound stands,
 * for casts as for calls, and the loss is said where it happens: the
 * warning counts the calls (told `timeout`) and the casts (acknowledged, not
 * in the state) apart, and each late cast is logged when it settles.
 * docs/children.md says a cast's effect survives a move only if its handler
 * settles within the handover timeout; an update that must survive goes by
 * call.
 */
import { setDeadline, type TimerHandle } from '../clock.js';
import type { JsonValue, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import { isJsonValue } from '../protocol.js';
import { MessageError, type ChildChannel } from './child-channel.js';
import type { Shutdown } from './child-spec.js';
import type { ExitReason } from './restart-policy.js';
import { StartError, delay, type InstanceContext, type RunningChild } from './running-child.js';
import {
  workerScope,
  type ChildMessaging,
  type MessageHandler,
  type WorkerContext,
  type WorkerExit,
  type WorkerFactory,
  type WorkerHandle,
  type WorkerScope,
} from './workers.js';

/** Messaging for an instance whose node routes none (a bare local supervisor). */
const NO_MESSAGING: ChildMessaging = {
  call: () => Promise.reject(new MessageError('not-found', 'this node routes no calls')),
  cast: () => Promise.reject(new MessageError('not-found', 'this node routes no casts')),
};

/**
 * The abort reason every stopping child's signal carries: an `AbortError`,
 * as a plain `abort()` gives, but made once — creating a DOMException per
 * stop cost more than the rest of a stop (profiled: moving 1,000 children).
 */
const STOPPING = new DOMException('the child is stopping', 'AbortError');

function toExitReason(reason: WorkerExit | undefined): ExitReason {
  if (reason === undefined || reason === 'normal') return { kind: 'normal' };
  if (reason === 'shutdown') return { kind: 'shutdown' };
  if (reason instanceof Error) return { kind: 'error', message: reason.message || reason.name };
  return { kind: 'error', message: String(reason) };
}

/** Whether `value` is a promise-like (a `then` that throws counts: awaiting it then fails the start). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return true;
  }
}

function faultMessage(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return `non-error thrown: ${String(err)}`;
}

/**
 * The `ctx` a worker's factory gets: a class with fixed fields, not an
 * object literal. The literal (thirteen properties, two of them getters)
 * lived in dictionary mode, a hash table of its properties beside it: about
 * 830 bytes per running worker (heap probe, bench/README.md), kept while the
 * instance runs. Its functions stay own properties bound to this instance,
 * so a worker may still take them apart (`const { exit, call } = ctx`);
 * `signal` and `log` are getters on the prototype (read through the
 * instance, or taken apart, as before).
 */
class InstanceWorkerContext implements WorkerContext {
  readonly id: string;
  readonly pid: string;
  readonly node: string;
  readonly groups: ProcessGroups;
  readonly handover: JsonValue | undefined;
  readonly exit: WorkerContext['exit'];
  readonly onMessage: WorkerContext['onMessage'];
  readonly onHandover: WorkerContext['onHandover'];
  readonly call: WorkerContext['call'];
  readonly cast: WorkerContext['cast'];

  constructor(
    private readonly run: WorkerRun,
    instance: InstanceContext,
  ) {
    this.id = instance.id;
    this.pid = instance.pid;
    this.node = instance.node;
    this.groups = instance.groups;
    this.handover = instance.handover;
    this.exit = (reason?: WorkerExit) => run.finish(toExitReason(reason));
    this.onMessage = (h: MessageHandler) => {
      if (typeof h !== 'function') throw new TypeError('ctx.onMessage: the handler must be a function');
      run.handler = h;
    };
    this.onHandover = (take: () => JsonValue | Promise<JsonValue>) => {
      if (typeof take !== 'function') throw new TypeError('ctx.onHandover: the argument must be a function');
      run.takeState = take;
    };
    const messaging = instance.messaging ?? NO_MESSAGING;
    this.call = (id, message, options) => messaging.call(id, message, options);
    this.cast = (id, message) => messaging.cast(id, message);
  }

  get signal(): AbortSignal {
    return this.run.signal();
  }

  get log(): Logger {
    return this.run.ctx.log;
  }
}

export async function startWorkerChild(
  worker: string,
  factory: WorkerFactory,
  args: JsonValue | undefined,
  ctx: InstanceContext,
  startTimeoutMs: number,
): Promise<RunningChild> {
  const run = new WorkerRun(worker, ctx);
  const workerCtx = new InstanceWorkerContext(run, ctx);
  let produced: WorkerHandle | Promise<WorkerHandle>;
  try {
    produced = workerScope.run(run, () => factory(args, workerCtx));
  } catch (err) {
    run.abort();
    throw new StartError(`worker ${worker} threw while starting: ${faultMessage(err)}`);
  }

  // A factory that returned its handle (the common case) has started: no race against the
  // start timeout (a timer and three promises per start were a tenth of a failover's CPU).
  if (!isThenable(produced)) {
    if (run.earlyExit && run.earlyExit.kind !== 'normal') throw run.exitedWhileStarting(run.earlyExit, produced);
    return run.finishStart({ ok: true, h: produced });
  }

  const timeout = delay(ctx.clock, startTimeoutMs);
  const early = new Promise<'early'>((resolve) => (run.notifyEarly = () => resolve('early')));
  if (run.earlyExit) run.notifyEarly?.();
  const outcome = await Promise.race([
    Promise.resolve(produced).then(
      (h) => ({ ok: true as const, h }),
      (err: unknown) => ({ ok: false as const, err }),
    ),
    timeout.promise.then(() => 'timeout' as const),
    early,
  ]);
  timeout.cancel();

  if (outcome === 'timeout') {
    run.abort();
    run.ended = true;
    stopLate(produced, run);
    throw new StartError(`worker ${worker} did not finish starting within ${startTimeoutMs} ms`);
  }
  if (outcome === 'early') {
    if (run.earlyExit && run.earlyExit.kind !== 'normal') throw run.exitedWhileStarting(run.earlyExit, produced);
    // A normal exit during start: wait for the handle, then report the exit.
    const settled = await Promise.resolve(produced).then(
      (h) => ({ ok: true as const, h }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    return run.finishStart(settled);
  }
  return run.finishStart(outcome);
}

/** A handle that came too late (or after an exit while starting) is stopped at once, in the worker's scope. */
function stopLate(produced: WorkerHandle | Promise<WorkerHandle>, scope: WorkerScope): void {
  void Promise.resolve(produced)
    .then((h) => workerScope.run(scope, () => h?.stop?.('start failed')))
    .catch(() => undefined);
}

/**
 * One running worker instance: its state, its channel and its stop, and the
 * scope its code runs in (`fault`). A class, not closures over the start's
 * variables: those were twenty closures and a context of thirty slots per
 * running worker, about 1.3 kB of the 2.2 kB a worker held in its local
 * supervisor (heap probe, 3 nodes × 10,000 children), and as much garbage
 * per start.
 */
class WorkerRun implements RunningChild, ChildChannel, WorkerScope {
  readonly osPid = undefined;
  /** The signal is made when the worker first reads `ctx.signal` (see `signal`). */
  private controller: AbortController | undefined;
  private aborted = false;
  private started = false;
  ended = false;
  earlyExit: ExitReason | undefined;
  private handle: WorkerHandle | undefined;
  notifyEarly: (() => void) | undefined;
  /** The stop under way, if any (a second stop with brutal_kill abandons it: `abandonStop`). */
  private stopInFlight: Promise<void> | undefined;
  private abandonStop: (() => void) | undefined;
  handler: MessageHandler | undefined;
  takeState: (() => JsonValue | Promise<JsonValue>) | undefined;
  /** Handler runs (calls and casts) that have not settled yet; `quiet` is told when the last one does. */
  private handlersRunning = 0;
  /** Of those, the casts' (already acknowledged to their callers: see the header, "a cast outlives the handover"). */
  private castsRunning = 0;
  private quiet: (() => void) | undefined;
  /** The state was taken for a handover: a handler that settles from now on was not in it (see the header). */
  private stateTaken = false;

  constructor(
    private readonly worker: string,
    readonly ctx: InstanceContext,
  ) {}

  /** Calls and casts go to the instance itself. */
  get channel(): ChildChannel {
    return this;
  }

  /** The worker's scope: a fault raised in its async context is an abnormal exit (workers.ts). */
  fault(err: unknown): void {
    this.finish({ kind: 'error', message: faultMessage(err) });
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.controller?.abort(STOPPING);
  }

  /**
   * An AbortController is a few µs and an allocation-heavy EventTarget: most workers never read
   * `ctx.signal`, and a burst starts thousands; one read after the stop began gets it already aborted.
   */
  signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(STOPPING);
    }
    return this.controller.signal;
  }

  finish(reason: ExitReason): void {
    if (this.ended) return;
    if (!this.started) {
      this.earlyExit ??= reason;
      this.notifyEarly?.();
      return;
    }
    this.ended = true;
    this.abort();
    this.ctx.onExit(reason);
  }

  exitedWhileStarting(exit: ExitReason, produced: WorkerHandle | Promise<WorkerHandle>): StartError {
    this.abort();
    this.ended = true;
    stopLate(produced, this);
    return new StartError(`worker ${this.worker} exited while starting: ${exit.kind === 'error' ? exit.message : exit.kind}`);
  }

  finishStart(result: { ok: true; h: WorkerHandle } | { ok: false; err: unknown }): RunningChild {
    if (!result.ok) {
      this.abort();
      this.ended = true;
      throw new StartError(`worker ${this.worker} failed to start: ${faultMessage(result.err)}`);
    }
    if (!result.h || typeof result.h.stop !== 'function') {
      this.abort();
      this.ended = true;
      throw new StartError(`worker ${this.worker}: the factory must return (or resolve to) an object with stop(reason)`);
    }
    this.handle = result.h;
    this.started = true;
    if (this.earlyExit) {
      const reason = this.earlyExit;
      queueMicrotask(() => this.finish(reason));
    }
    return this;
  }

  /**
   * Runs the handler in the worker's scope (a synchronous throw becomes a
   * rejection) and counts it running until it settles. `late`: it settled
   * after the state was taken — read in the same callback that counts it
   * done, so a run the handover waited for is never late.
   */
  private runHandler(h: MessageHandler, body: JsonValue): Promise<{ ok: true; reply: JsonValue | void; late: boolean } | { ok: false; err: unknown }> {
    let running: Promise<JsonValue | void>;
    try {
      running = Promise.resolve(workerScope.run(this, () => h(body)));
    } catch (err) {
      running = Promise.reject(err);
    }
    this.handlersRunning++;
    const settled = (): void => {
      if (--this.handlersRunning === 0) this.quiet?.();
    };
    return running.then(
      (reply) => {
        const late = this.stateTaken;
        settled();
        return { ok: true as const, reply, late };
      },
      (err: unknown) => {
        settled();
        return { ok: false as const, err };
      },
    );
  }

  private afterHandover(): string {
    return (
      `${this.ctx.id}'s instance ${this.ctx.pid} handed its state over to its next instance before its handler answered; ` +
      'the message may or may not have been handled (delivery is at most once: it is not sent again)'
    );
  }

  private noHandler(): MessageError {
    const ctx = this.ctx;
    return new MessageError(
      'no-handler',
      this.ended ? `${ctx.id}'s instance ${ctx.pid} has stopped` : `${ctx.id} registered no message handler (ctx.onMessage)`,
    );
  }

  call(body: JsonValue, timeoutMs: number): Promise<JsonValue> {
    const h = this.handler;
    if (this.ended || h === undefined) return Promise.reject(this.noHandler());
    const ctx = this.ctx;
    // Race "a caller woken from a freeze" (distributed/call-table.ts): a late timer lets the poll phase run first, so a
    // handler whose I/O completed in time answers.
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setDeadline(ctx.clock, ctx.clock.now() + timeoutMs, () =>
        reject(new MessageError('timeout', `${ctx.id}'s handler did not answer within ${timeoutMs} ms`)),
      );
    });
    const answered = this.runHandler(h, body).then((run): JsonValue => {
      if (!run.ok) throw new MessageError('handler-error', faultMessage(run.err).slice(0, 1000));
      if (run.late) throw new MessageError('timeout', this.afterHandover());
      const value = run.reply === undefined ? null : run.reply;
      if (!isJsonValue(value)) throw new MessageError('handler-error', `${ctx.id}'s handler answered with something that is not plain JSON`);
      return value;
    });
    return Promise.race([answered, timedOut]).finally(() => ctx.clock.clearTimeout(timer));
  }

  cast(body: JsonValue): void {
    const h = this.handler;
    if (this.ended || h === undefined) throw this.noHandler();
    this.castsRunning++;
    void this.runHandler(h, body).then((run) => {
      this.castsRunning--;
      if (!run.ok) this.ctx.log.warn({ err: faultMessage(run.err) }, 'message handler threw on a cast (the worker keeps running)');
      else if (run.late) this.ctx.log.warn({}, "a cast's handler finished after the state was handed over; its effect did not go to the next instance");
    });
  }

  async takeHandover(timeoutMs: number): Promise<JsonValue | undefined> {
    const take = this.takeState;
    if (take === undefined) return undefined;
    const ctx = this.ctx;
    // Race "a handler outlives the handover" (see the header): let the runs under way settle first, within the bound.
    if (this.handlersRunning > 0) {
      const bound = delay(ctx.clock, timeoutMs);
      const drained = new Promise<'drained'>((resolve) => (this.quiet = () => resolve('drained')));
      const waited = await Promise.race([drained, bound.promise.then(() => 'bound' as const)]);
      bound.cancel();
      this.quiet = undefined;
      if (waited === 'bound') {
        const calls = this.handlersRunning - this.castsRunning;
        const losses = ctx.handoverLosses;
        if (losses !== undefined) {
          losses.calls += calls;
          losses.casts += this.castsRunning;
        }
        ctx.log.warn(
          { handlers: this.handlersRunning, calls, casts: this.castsRunning, handoverTimeoutMs: timeoutMs },
          `message handlers still running after ${timeoutMs} ms; the state is handed over without them: ` +
            `${calls} call(s), whose callers are told the outcome is unknown, and ${this.castsRunning} cast(s), ` +
            'acknowledged when the instance took them, whose effects do not go to the next instance',
        );
      }
      // It crashed or was stopped meanwhile: as a crashed instance, it hands over nothing.
      if (this.ended) throw new Error('onHandover not called: the instance ended while its messages were finishing');
    }
    this.stateTaken = true;
    const timer = delay(ctx.clock, timeoutMs);
    let taking: Promise<JsonValue>;
    try {
      taking = Promise.resolve(workerScope.run(this, take));
    } catch (err) {
      taking = Promise.reject(err);
    }
    try {
      const state = await Promise.race([taking, timer.promise.then(() => Promise.reject(new Error(`onHandover did not answer within ${timeoutMs} ms`)))]);
      if (state === undefined) return undefined;
      if (!isJsonValue(state)) throw new Error('onHandover returned something that is not plain JSON');
      return state;
    } catch (err) {
      throw new Error(err instanceof Error && err.message.startsWith('onHandover') ? err.message : `onHandover failed: ${faultMessage(err)}`, { cause: err });
    } finally {
      timer.cancel();
    }
  }

  stop(shutdown: Shutdown): Promise<void> {
    if (this.ended) return Promise.resolve();
    // A second stop while the first waits (a deadline that came closer): brutal_kill abandons it now.
    if (this.stopInFlight) {
      if (shutdown === 'brutal_kill') {
        this.ctx.log.warn({}, 'worker still stopping past its deadline; abandoned (honour ctx.signal to stop promptly)');
        this.finish({ kind: 'shutdown' });
        this.abandonStop?.();
      }
      return this.stopInFlight;
    }
    this.stopInFlight = this.stopOnce(shutdown);
    return this.stopInFlight;
  }

  private async stopOnce(shutdown: Shutdown): Promise<void> {
    const abandoned = new Promise<'abandoned'>((resolve) => (this.abandonStop = () => resolve('abandoned')));
    this.abort();
    const ctx = this.ctx;
    const handle = this.handle!;
    let stopping: Promise<unknown>;
    try {
      stopping = Promise.resolve(workerScope.run(this, () => handle.stop('shutdown')));
    } catch (err) {
      ctx.log.warn({ err: faultMessage(err) }, 'worker stop() threw');
      stopping = Promise.resolve();
    }
    stopping = stopping.catch((err: unknown) => ctx.log.warn({ err: faultMessage(err) }, 'worker stop() rejected'));
    if (shutdown === 'brutal_kill') {
      void stopping;
    } else if (shutdown === 'infinity') {
      await Promise.race([stopping, abandoned]);
    } else {
      const timer = delay(ctx.clock, shutdown);
      const result = await Promise.race([stopping.then(() => 'stopped' as const), timer.promise.then(() => 'timeout' as const), abandoned]);
      timer.cancel();
      if (result === 'timeout')
        ctx.log.warn({ shutdownMs: shutdown }, `worker did not stop within ${shutdown} ms; abandoned (honour ctx.signal to stop promptly)`);
    }
    this.finish({ kind: 'shutdown' });
  }
}
