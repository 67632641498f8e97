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
    private readonly instance: InstanceContext,
    private readonly signalOf: () => AbortSignal,
    own: Pick<WorkerContext, 'exit' | 'onMessage' | 'onHandover'>,
  ) {
    this.id = instance.id;
    this.pid = instance.pid;
    this.node = instance.node;
    this.groups = instance.groups;
    this.handover = instance.handover;
    this.exit = own.exit;
    this.onMessage = own.onMessage;
    this.onHandover = own.onHandover;
    const messaging = instance.messaging ?? NO_MESSAGING;
    this.call = (id, message, options) => messaging.call(id, message, options);
    this.cast = (id, message) => messaging.cast(id, message);
  }

  get signal(): AbortSignal {
    return this.signalOf();
  }

  get log(): Logger {
    return this.instance.log;
  }
}

export async function startWorkerChild(
  worker: string,
  factory: WorkerFactory,
  args: JsonValue | undefined,
  ctx: InstanceContext,
  startTimeoutMs: number,
): Promise<RunningChild> {
  // The signal is made when the worker first reads `ctx.signal` (an AbortController is a few µs and an
  // allocation-heavy EventTarget: most workers never read it, and a burst starts thousands); one read
  // after the stop began gets it already aborted.
  let controller: AbortController | undefined;
  let aborted = false;
  const abort = (): void => {
    if (aborted) return;
    aborted = true;
    controller?.abort(STOPPING);
  };
  const signal = (): AbortSignal => {
    if (controller === undefined) {
      controller = new AbortController();
      if (aborted) controller.abort(STOPPING);
    }
    return controller.signal;
  };
  let started = false;
  let ended = false;
  let earlyExit: ExitReason | undefined;
  let handle: WorkerHandle | undefined;
  let notifyEarly: (() => void) | undefined;

  const finish = (reason: ExitReason): void => {
    if (ended) return;
    if (!started) {
      earlyExit ??= reason;
      notifyEarly?.();
      return;
    }
    ended = true;
    abort();
    ctx.onExit(reason);
  };
  const scope = { fault: (err: unknown) => finish({ kind: 'error', message: faultMessage(err) }) };
  /** The stop under way, if any (a second stop with brutal_kill abandons it: `abandonStop`). */
  let stopInFlight: Promise<void> | undefined;
  let abandonStop: (() => void) | undefined;
  let handler: MessageHandler | undefined;
  let takeState: (() => JsonValue | Promise<JsonValue>) | undefined;
  /** Handler runs (calls and casts) that have not settled yet; `quiet` is told when the last one does. */
  let handlersRunning = 0;
  /** Of those, the casts' (already acknowledged to their callers: see the header, "a cast outlives the handover"). */
  let castsRunning = 0;
  let quiet: (() => void) | undefined;
  /** The state was taken for a handover: a handler that settles from now on was not in it (see the header). */
  let stateTaken = false;
  const workerCtx = new InstanceWorkerContext(ctx, signal, {
    exit: (reason?: WorkerExit) => finish(toExitReason(reason)),
    onMessage: (h: MessageHandler) => {
      if (typeof h !== 'function') throw new TypeError('ctx.onMessage: the handler must be a function');
      handler = h;
    },
    onHandover: (take: () => JsonValue | Promise<JsonValue>) => {
      if (typeof take !== 'function') throw new TypeError('ctx.onHandover: the argument must be a function');
      takeState = take;
    },
  });

  /**
   * Runs the handler in the worker's scope (a synchronous throw becomes a
   * rejection) and counts it running until it settles. `late`: it settled
   * after the state was taken — read in the same callback that counts it
   * done, so a run the handover waited for is never late.
   */
  const runHandler = (h: MessageHandler, body: JsonValue): Promise<{ ok: true; reply: JsonValue | void; late: boolean } | { ok: false; err: unknown }> => {
    let running: Promise<JsonValue | void>;
    try {
      running = Promise.resolve(workerScope.run(scope, () => h(body)));
    } catch (err) {
      running = Promise.reject(err);
    }
    handlersRunning++;
    const settled = (): void => {
      if (--handlersRunning === 0) quiet?.();
    };
    return running.then(
      (reply) => {
        const late = stateTaken;
        settled();
        return { ok: true as const, reply, late };
      },
      (err: unknown) => {
        settled();
        return { ok: false as const, err };
      },
    );
  };
  const afterHandover = (): string =>
    `${ctx.id}'s instance ${ctx.pid} handed its state over to its next instance before its handler answered; ` +
    'the message may or may not have been handled (delivery is at most once: it is not sent again)';
  const channel: ChildChannel = {
    call: (body, timeoutMs) => {
      const h = handler;
      if (ended || h === undefined)
        return Promise.reject(
          new MessageError('no-handler', ended ? `${ctx.id}'s instance ${ctx.pid} has stopped` : `${ctx.id} registered no message handler (ctx.onMessage)`),
        );
      // Race "a caller woken from a freeze" (distributed/call-table.ts): a late timer lets the poll phase run first, so a
      // handler whose I/O completed in time answers.
      let timer: TimerHandle | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setDeadline(ctx.clock, ctx.clock.now() + timeoutMs, () =>
          reject(new MessageError('timeout', `${ctx.id}'s handler did not answer within ${timeoutMs} ms`)),
        );
      });
      const answered = runHandler(h, body).then((run): JsonValue => {
        if (!run.ok) throw new MessageError('handler-error', faultMessage(run.err).slice(0, 1000));
        if (run.late) throw new MessageError('timeout', afterHandover());
        const value = run.reply === undefined ? null : run.reply;
        if (!isJsonValue(value)) throw new MessageError('handler-error', `${ctx.id}'s handler answered with something that is not plain JSON`);
        return value;
      });
      return Promise.race([answered, timedOut]).finally(() => ctx.clock.clearTimeout(timer));
    },
    cast: (body) => {
      const h = handler;
      if (ended || h === undefined)
        throw new MessageError('no-handler', ended ? `${ctx.id}'s instance ${ctx.pid} has stopped` : `${ctx.id} registered no message handler (ctx.onMessage)`);
      castsRunning++;
      void runHandler(h, body).then((run) => {
        castsRunning--;
        if (!run.ok) ctx.log.warn({ err: faultMessage(run.err) }, 'message handler threw on a cast (the worker keeps running)');
        else if (run.late) ctx.log.warn({}, "a cast's handler finished after the state was handed over; its effect did not go to the next instance");
      });
    },
  };
  const takeHandover = async (timeoutMs: number): Promise<JsonValue | undefined> => {
    const take = takeState;
    if (take === undefined) return undefined;
    // Race "a handler outlives the handover" (see the header): let the runs under way settle first, within the bound.
    if (handlersRunning > 0) {
      const bound = delay(ctx.clock, timeoutMs);
      const drained = new Promise<'drained'>((resolve) => (quiet = () => resolve('drained')));
      const waited = await Promise.race([drained, bound.promise.then(() => 'bound' as const)]);
      bound.cancel();
      quiet = undefined;
      if (waited === 'bound') {
        const calls = handlersRunning - castsRunning;
        ctx.log.warn(
          { handlers: handlersRunning, calls, casts: castsRunning, handoverTimeoutMs: timeoutMs },
          `message handlers still running after ${timeoutMs} ms; the state is handed over without them: ` +
            `${calls} call(s), whose callers are told the outcome is unknown, and ${castsRunning} cast(s), ` +
            'acknowledged when the instance took them, whose effects do not go to the next instance',
        );
      }
      // It crashed or was stopped meanwhile: as a crashed instance, it hands over nothing.
      if (ended) throw new Error('onHandover not called: the instance ended while its messages were finishing');
    }
    stateTaken = true;
    const timer = delay(ctx.clock, timeoutMs);
    let taking: Promise<JsonValue>;
    try {
      taking = Promise.resolve(workerScope.run(scope, take));
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
  };

  let produced: WorkerHandle | Promise<WorkerHandle>;
  try {
    produced = workerScope.run(scope, () => factory(args, workerCtx));
  } catch (err) {
    abort();
    throw new StartError(`worker ${worker} threw while starting: ${faultMessage(err)}`);
  }

  const stopLate = (): void => {
    void Promise.resolve(produced)
      .then((h) => workerScope.run(scope, () => h?.stop?.('start failed')))
      .catch(() => undefined);
  };
  const exitedWhileStarting = (exit: ExitReason): StartError => {
    abort();
    ended = true;
    stopLate();
    return new StartError(`worker ${worker} exited while starting: ${exit.kind === 'error' ? exit.message : exit.kind}`);
  };

  // A factory that returned its handle (the common case) has started: no race against the
  // start timeout (a timer and three promises per start were a tenth of a failover's CPU).
  if (!isThenable(produced)) {
    if (earlyExit && earlyExit.kind !== 'normal') throw exitedWhileStarting(earlyExit);
    return finishStart({ ok: true, h: produced });
  }

  const timeout = delay(ctx.clock, startTimeoutMs);
  const early = new Promise<'early'>((resolve) => (notifyEarly = () => resolve('early')));
  if (earlyExit) notifyEarly?.();
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
    abort();
    ended = true;
    stopLate();
    throw new StartError(`worker ${worker} did not finish starting within ${startTimeoutMs} ms`);
  }
  if (outcome === 'early') {
    if (earlyExit && earlyExit.kind !== 'normal') throw exitedWhileStarting(earlyExit);
    // A normal exit during start: wait for the handle, then report the exit.
    const settled = await Promise.resolve(produced).then(
      (h) => ({ ok: true as const, h }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    return finishStart(settled);
  }
  return finishStart(outcome);

  function finishStart(result: { ok: true; h: WorkerHandle } | { ok: false; err: unknown }): RunningChild {
    if (!result.ok) {
      abort();
      ended = true;
      throw new StartError(`worker ${worker} failed to start: ${faultMessage(result.err)}`);
    }
    if (!result.h || typeof result.h.stop !== 'function') {
      abort();
      ended = true;
      throw new StartError(`worker ${worker}: the factory must return (or resolve to) an object with stop(reason)`);
    }
    handle = result.h;
    started = true;
    if (earlyExit) {
      const reason = earlyExit;
      queueMicrotask(() => finish(reason));
    }
    return { osPid: undefined, channel, takeHandover, stop: (shutdown) => stop(shutdown) };
  }

  async function stop(shutdown: Shutdown): Promise<void> {
    if (ended) return;
    // A second stop while the first waits (a deadline that came closer): brutal_kill abandons it now.
    if (stopInFlight) {
      if (shutdown === 'brutal_kill') {
        ctx.log.warn({}, 'worker still stopping past its deadline; abandoned (honour ctx.signal to stop promptly)');
        finish({ kind: 'shutdown' });
        abandonStop?.();
      }
      return stopInFlight;
    }
    stopInFlight = stopOnce(shutdown);
    return stopInFlight;
  }

  async function stopOnce(shutdown: Shutdown): Promise<void> {
    const abandoned = new Promise<'abandoned'>((resolve) => (abandonStop = () => resolve('abandoned')));
    abort();
    let stopping: Promise<unknown>;
    try {
      stopping = Promise.resolve(workerScope.run(scope, () => handle!.stop('shutdown')));
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
    finish({ kind: 'shutdown' });
  }
}
