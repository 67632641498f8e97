/**
 * One running instance of a child, whatever its kind. The supervisor starts
 * an instance, learns of its end through `onExit` (called exactly once), and
 * may ask it to stop according to the spec's shutdown policy.
 */
import type { Clock } from '../clock.js';
import type { JsonValue, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { ChildChannel } from './child-channel.js';
import type { Shutdown } from './child-spec.js';
import type { ExitReason } from './restart-policy.js';
import type { ChildMessaging } from './workers.js';

export interface RunningChild {
  /** The OS process id, for OS-process children. */
  readonly osPid: number | undefined;
  /** Where calls and casts to this instance go (child-channel.ts); undefined when its kind takes none. */
  readonly channel?: ChildChannel;
  /**
   * The instance's state for its successor on a planned move (workers'
   * `ctx.onHandover`): undefined when it registered none; rejects with the
   * reason when the handover failed (threw, not JSON, took longer than
   * `timeoutMs`). Called at most once, just before `stop`, with the
   * instance already closed to new messages: it waits (at most `timeoutMs`)
   * for the messages it took to be answered before it takes the state, and
   * a reply settled after that is not given as a success.
   */
  takeHandover?(timeoutMs: number): Promise<JsonValue | undefined>;
  /** Stops the child per `shutdown`; resolves once it has exited (after `onExit`). */
  stop(shutdown: Shutdown): Promise<void>;
}

export interface InstanceContext {
  readonly id: string;
  readonly pid: string;
  readonly node: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly groups: ProcessGroups;
  /** The state the previous instance handed over on a planned move (workers' `ctx.handover`), or undefined. */
  readonly handover: JsonValue | undefined;
  /** Calls and casts to other children (workers' `ctx.call` / `ctx.cast`); undefined: none can be made from here. */
  readonly messaging: ChildMessaging | undefined;
  /** Called exactly once, when the instance has ended (after start succeeded). */
  onExit(reason: ExitReason): void;
  /**
   * Counts the messages a handover went without (still being handled at its
   * bound: worker-child.ts, "a cast outlives the handover"); the local
   * supervisor's totals, read by the metrics. Optional: a bare context counts nothing.
   */
  readonly handoverLosses?: HandoverLosses;
}

/** Messages still being handled when an instance's state was taken without them, since start. */
export interface HandoverLosses {
  /** Calls: their callers are told the outcome is unknown (`timeout`). */
  calls: number;
  /** Casts: acknowledged when taken, their effects did not reach the next instance. */
  casts: number;
}

/**
 * The InstanceContext the local supervisor gives each start: a class with
 * fixed fields, not an object literal. The literal (two conditional spreads
 * and a getter) lived in dictionary mode, a hash table of its properties
 * beside it: about 480 bytes per running child (heap probe, bench/README.md),
 * kept as long as the instance runs. The logger is still made on first use
 * (a pino child per start was a tenth of a failover's CPU, and most children
 * never log).
 */
export class LaunchContext implements InstanceContext {
  private logger: Logger | undefined = undefined;

  constructor(
    readonly id: string,
    readonly pid: string,
    readonly node: string,
    readonly clock: Clock,
    private readonly parentLog: Logger,
    readonly groups: ProcessGroups,
    readonly handover: JsonValue | undefined,
    readonly messaging: ChildMessaging | undefined,
    /** The supervisor's end-of-instance handler (bound to this start's record and generation). */
    readonly onExit: (reason: ExitReason) => void,
    /** The supervisor's totals (shared by every instance it starts). */
    readonly handoverLosses?: HandoverLosses,
  ) {}

  get log(): Logger {
    return (this.logger ??= this.parentLog.child({ child: this.id, pid: this.pid }));
  }
}

/** A start that failed: the child never ran. `message` says what to fix. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

/** Resolves after `ms` on the injected clock; `cancel` clears the timer. */
export function delay(clock: Clock, ms: number): { promise: Promise<void>; cancel(): void } {
  let handle: ReturnType<Clock['setTimeout']> | undefined;
  const promise = new Promise<void>((resolve) => {
    handle = clock.setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clock.clearTimeout(handle) };
}
