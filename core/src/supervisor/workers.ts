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

export type WorkerExit = 'normal' | 'shutdown' | Error | string;

export interface WorkerContext {
  readonly id: string;
  readonly pid: string;
  readonly node: string;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly groups: ProcessGroups;
  exit(reason?: WorkerExit): void;
}

export interface WorkerHandle {
  stop(reason: string): void | Promise<void>;
}

export type WorkerFactory = (args: JsonValue | undefined, ctx: WorkerContext) => WorkerHandle | Promise<WorkerHandle>;

export class WorkerRegistry {
  private readonly factories = new Map<string, WorkerFactory>();

  define(name: string, factory: WorkerFactory): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(name)) throw new Error(`defineWorker: invalid worker name ${JSON.stringify(name)}`);
    if (typeof factory !== 'function') throw new Error(`defineWorker(${name}): the factory must be a function`);
    if (this.factories.has(name) && this.factories.get(name) !== factory) throw new Error(`defineWorker: a worker named ${name} is already defined`);
    this.factories.set(name, factory);
  }

  get(name: string): WorkerFactory | undefined {
    return this.factories.get(name);
  }

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
