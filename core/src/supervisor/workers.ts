/**
 * Worker types: Node.js code that runs as a child inside the node's process.
 *
 *   defineWorker('ticker', (args, ctx) => {
 *     const timer = setInterval(() => ctx.log.info({}, 'tick'), 1000);
 *     return { stop: () => clearInterval(timer) };
 *   });
 *
 * The factory gets the spec's `args` and a context, and returns (or resolves
 * to) a handle whose `stop(reason)` ends the worker; it may return a promise
 * that settles when the worker has stopped. The context offers:
 * - `signal`: aborted when the supervisor stops the child (or its start timed out);
 * - `exit(reason)`: the worker ends itself — `'normal'`, `'shutdown'`, or
 *   an Error / message for an abnormal exit;
 * - `log`: a logger bound to the child; `pid`: the child's pid;
 * - `groups`: the node's process groups (join with `ctx.pid`; the
 *   memberships are dropped when the child exits).
 * - `onMessage(handler)`: calls and casts to this child (from any node:
 *   `supervisor.call(id, message)`, `pogo ctl call`, another child's
 *   `ctx.call`) go to `handler(message)`. For a call, its return value (or
 *   resolved promise) is the reply — undefined is sent as null — and a throw
 *   or rejection is a `handler-error` for the caller, with the error's
 *   message; the worker keeps running. For a cast the return value is
 *   dropped and a throw is logged. Messages and replies are plain JSON, at
 *   most the node's `callMaxBytes` each (1 MiB by default). A handler that
 *   answers nothing within the caller's timeout leaves the caller with
 *   `timeout`; its late reply is dropped. One handler per instance (a second
 *   call replaces it); without one, callers get `no-handler`.
 * - `call(id, message, { timeoutMs })` / `cast(id, message)`: this child
 *   calls or casts to another child, as `supervisor.call` / `cast` do.
 * - `onHandover(() => state)`: on a planned move (pin, drain, rebalance on
 *   join, graceful leave, undrain, resume) the node calls it just before it
 *   stops this instance, and the JSON state it returns (or resolves to) is
 *   given to the new instance on the other node as `ctx.handover`, before
 *   it takes any message. Not called when the instance crashed, its node
 *   died, or it stops for good; a handover that fails (throws, is not JSON,
 *   is too large, takes longer than the node's `handoverTimeoutMs`, or the
 *   new instance starts elsewhere than planned) is logged and the new
 *   instance starts with `ctx.handover` undefined. Once the move begins
 *   the instance takes no new message (calls wait for the new instance);
 *   handlers already running (async ones) finish first, within
 *   `handoverTimeoutMs`, and only then is `onHandover` called, so the state
 *   holds every reply given. A handler still running then answers its
 *   caller `timeout` (it may or may not have been handled), never its
 *   reply, whose effect did not go to the new instance. Children with
 *   `handoff: 'start-first'` get no handover: their new instance runs before
 *   the old one stops.
 * - `handover`: the state the previous instance handed over, or undefined.
 *
 * Faults: a factory that throws or rejects fails the start; a throw or
 * rejection later inside the worker's own callbacks is attributed to the
 * worker through AsyncLocalStorage (see `installWorkerFaultHandlers`) and
 * becomes an abnormal exit of that child, not a crash of the node.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { JsonValue } from '../groups.js';

/** How a worker's run ended. */
export type WorkerExit = 'normal' | 'shutdown' | Error | string;

/** A call's or cast's message to a worker; for a call, the reply (undefined: null). */
export type MessageHandler = (message: JsonValue) => JsonValue | void | Promise<JsonValue | void>;

/** Calls and casts to children anywhere in the cluster (distributed/calls.ts). */
export interface ChildMessaging {
  /** Resolves with the child's reply; rejects with a MessageError (supervisor/child-channel.ts). */
  call(id: string, message: JsonValue, options?: { timeoutMs?: number }): Promise<JsonValue>;
  /**
   * Delivers without a reply, at most once; resolves once sent, rejects with a MessageError when it cannot be
   * (not-found, not-running, no-handler, too-large).
   */
  cast(id: string, message: JsonValue): Promise<void>;
}

/** What a worker gets beside its args: its id, pid, node, logger, groups, abort signal and messaging. */
export interface WorkerContext extends ChildMessaging {
  /** The child's id. */
  readonly id: string;
  /** This instance's pid (join groups with it). */
  readonly pid: string;
  /** The name of the node it runs on. */
  readonly node: string;
  /** Aborted when the supervisor stops the child (or its start timed out). */
  readonly signal: AbortSignal;
  /** A logger bound to the child. */
  readonly log: Logger;
  /** The node's process groups; the child's memberships are dropped when it exits. */
  readonly groups: ProcessGroups;
  /** The state the previous instance handed over on a planned move, or undefined. */
  readonly handover: JsonValue | undefined;
  /** Ends the worker from inside: `normal` (the default) or `shutdown`, or an Error or message for an abnormal exit; the restart type decides what follows. */
  exit(reason?: WorkerExit): void;
  /** Receives calls and casts to this child (see the header). */
  onMessage(handler: MessageHandler): void;
  /** Gives this instance's state to the next one on a planned move (see the header). */
  onHandover(take: () => JsonValue | Promise<JsonValue>): void;
}

/** A started worker: how to stop it. */
export interface WorkerHandle {
  /** Stops the worker; may return a promise that settles when it has stopped. */
  stop(reason: string): void | Promise<void>;
}

/** A function that starts a worker from its args and context. */
export type WorkerFactory = (args: JsonValue | undefined, ctx: WorkerContext) => WorkerHandle | Promise<WorkerHandle>;

/** The worker names a node can start, each with its factory. */
export class WorkerRegistry {
  private readonly factories = new Map<string, WorkerFactory>();

  /**
   * Registers `factory` under `name`. Throws an Error for an invalid name (letters, digits and `._:-`, at
   * most 128), a factory that is not a function, or a name already defined with another factory.
   */
  define(name: string, factory: WorkerFactory): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(name))
      throw new Error(`defineWorker: invalid worker name ${JSON.stringify(name)}`);
    if (typeof factory !== 'function') throw new Error(`defineWorker(${name}): the factory must be a function`);
    if (this.factories.has(name) && this.factories.get(name) !== factory) throw new Error(`defineWorker: a worker named ${name} is already defined`);
    this.factories.set(name, factory);
  }

  /** The factory registered under `name`; `undefined` when there is none. */
  get(name: string): WorkerFactory | undefined {
    return this.factories.get(name);
  }

  /** Every registered worker name, sorted. */
  names(): string[] {
    return [...this.factories.keys()].sort();
  }
}

/** The registry `defineWorker` writes to; a node started by the CLI uses it. */
export const defaultWorkers = new WorkerRegistry();

/** Registers a worker type in the default registry (for modules loaded with `pogo node --workers`). */
export function defineWorker(name: string, factory: WorkerFactory): void {
  defaultWorkers.define(name, factory);
}

/** Which child a piece of async work belongs to. */
export interface WorkerScope {
  fault(error: unknown): void;
}

export const workerScope = new AsyncLocalStorage<WorkerScope>();

let installed = false;

/**
 * Routes uncaught exceptions and unhandled rejections raised inside a
 * worker's async context to that worker (an abnormal exit). Others are
 * logged; an uncaught exception outside any worker still ends the process
 * (`onFatal`), since the node's own state can no longer be trusted.
 */
export function installWorkerFaultHandlers(log: Logger, onFatal: (err: unknown) => void): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', (err) => {
    const scope = workerScope.getStore();
    if (scope) scope.fault(err);
    else onFatal(err);
  });
  process.on('unhandledRejection', (reason) => {
    const scope = workerScope.getStore();
    if (scope) scope.fault(reason);
    else log.error({ err: reason }, 'unhandled promise rejection outside any worker (kept running)');
  });
}
