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
 */
import type { JsonValue } from '../groups.js';
import type { Shutdown } from './child-spec.js';
import type { ExitReason } from './restart-policy.js';
import { StartError, delay, type InstanceContext, type RunningChild } from './running-child.js';
import { workerScope, type WorkerExit, type WorkerFactory, type WorkerHandle } from './workers.js';

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

export async function startWorkerChild(worker: string, factory: WorkerFactory, args: JsonValue | undefined, ctx: InstanceContext, startTimeoutMs: number): Promise<RunningChild> {
  const controller = new AbortController();
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
    controller.abort(STOPPING);
    ctx.onExit(reason);
  };
  const scope = { fault: (err: unknown) => finish({ kind: 'error', message: faultMessage(err) }) };
  /** The stop under way, if any (a second stop with brutal_kill abandons it: `abandonStop`). */
  let stopInFlight: Promise<void> | undefined;
  let abandonStop: (() => void) | undefined;
  const workerCtx = {
    id: ctx.id,
    pid: ctx.pid,
    node: ctx.node,
    signal: controller.signal,
    get log() {
      return ctx.log;
    },
    groups: ctx.groups,
    exit: (reason?: WorkerExit) => finish(toExitReason(reason)),
  };

  let produced: WorkerHandle | Promise<WorkerHandle>;
  try {
    produced = workerScope.run(scope, () => factory(args, workerCtx));
  } catch (err) {
    controller.abort(STOPPING);
    throw new StartError(`worker ${worker} threw while starting: ${faultMessage(err)}`);
  }

  const stopLate = (): void => {
    void Promise.resolve(produced)
      .then((h) => workerScope.run(scope, () => h?.stop?.('start failed')))
      .catch(() => undefined);
  };
  const exitedWhileStarting = (exit: ExitReason): StartError => {
    controller.abort(STOPPING);
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
    controller.abort(STOPPING);
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
      controller.abort(STOPPING);
      ended = true;
      throw new StartError(`worker ${worker} failed to start: ${faultMessage(result.err)}`);
    }
    if (!result.h || typeof result.h.stop !== 'function') {
      controller.abort(STOPPING);
      ended = true;
      throw new StartError(`worker ${worker}: the factory must return (or resolve to) an object with stop(reason)`);
    }
    handle = result.h;
    started = true;
    if (earlyExit) {
      const reason = earlyExit;
      queueMicrotask(() => finish(reason));
    }
    return { osPid: undefined, stop: (shutdown) => stop(shutdown) };
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
    controller.abort(STOPPING);
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
      if (result === 'timeout') ctx.log.warn({ shutdownMs: shutdown }, `worker did not stop within ${shutdown} ms; abandoned (honour ctx.signal to stop promptly)`);
    }
    finish({ kind: 'shutdown' });
  }
}
