/**
 * OTP restart decisions, as pure functions.
 *
 * Exit kinds: `normal` (the child finished), `shutdown` (the supervisor
 * stopped it), `error` (it failed: a throw, a rejected promise, a non-zero
 * exit code) and `killed` (a signal ended it).
 *
 *              normal  shutdown  error  killed
 *   permanent  restart restart*  restart restart
 *   transient  -       -         restart restart
 *   temporary  -       -         -      -        (and its spec is removed)
 *
 *   * a shutdown the supervisor asked for never restarts; only an unasked
 *     `shutdown` (a worker calling ctx.exit('shutdown')) reaches this table.
 *
 * Intensity: a child may be restarted at most `maxRestarts` times within
 * `maxSeconds`. One more crash inside that window marks it `failing`: OTP
 * would stop the supervisor; here one bad child must never take its
 * siblings or the node down, so it is retried with exponential backoff.
 */
import type { RestartType } from './child-spec.js';

/** Why a child exited: normally, on shutdown, with an error, or killed by a signal. */
export type ExitReason = { kind: 'normal' } | { kind: 'shutdown' } | { kind: 'error'; message: string } | { kind: 'killed'; signal: string };

export function shouldRestart(restart: RestartType, exit: ExitReason): boolean {
  switch (restart) {
    case 'permanent':
      return true;
    case 'transient':
      return exit.kind === 'error' || exit.kind === 'killed';
    case 'temporary':
      return false;
  }
}

/** Drops restart times outside the window; true when one more restart is still allowed. */
export function withinIntensity(restartTimes: number[], now: number, maxRestarts: number, maxSeconds: number): boolean {
  const windowStart = now - maxSeconds * 1000;
  while (restartTimes.length > 0 && restartTimes[0]! <= windowStart) restartTimes.shift();
  return restartTimes.length < maxRestarts;
}

/** Delay before retry number `attempt` (1-based) of a failing child: doubling, capped, with ±25% jitter. */
export function failingBackoff(attempt: number, baseMs: number, maxMs: number, random01: number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(1, Math.round(raw * (0.75 + 0.5 * random01)));
}

export function describeExit(exit: ExitReason): string {
  switch (exit.kind) {
    case 'normal':
      return 'exited normally';
    case 'shutdown':
      return 'shut down';
    case 'error':
      return `failed: ${exit.message}`;
    case 'killed':
      return `killed by ${exit.signal}`;
  }
}
