/**
 * Injectable time.
 *
 * Every timer in core goes through a `Clock`, so the same code runs on real
 * time in production (`SystemClock`) and on simulated time in tests
 * (`ManualClock`). With the manual clock a 50-node simulation of minutes of
 * cluster time runs in well under a second, deterministically: timers fire in
 * (due time, creation order) order and nothing depends on the wall clock.
 *
 * Contract: callbacks are never invoked synchronously from `setTimeout`;
 * `clearTimeout` on a fired or cleared handle is a no-op.
 */

/** A timer returned by Clock.setTimeout, to pass to Clock.clearTimeout. */
export interface TimerHandle {
  /** Identifies the timer within the clock that created it (unique per clock, increasing). */
  readonly id: number;
}

/** Time and timers, injected into every layer (SystemClock in production, ManualClock in tests). */
export interface Clock {
  /** Milliseconds since the Unix epoch (SystemClock) or since the start of the simulation. */
  now(): number;
  /** Runs `fn` once, at least `ms` milliseconds from now (a negative `ms` counts as 0); never synchronously within this call. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for `undefined` or a timer that already fired or was cleared. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/**
 * Whether a deadline's timer, running at `now`, should let the deadline
 * expire one I/O turn later (setImmediate: after the poll phase) rather
 * than at once: it runs late, so the event loop did not turn at the
 * deadline (the process was frozen, or the loop blocked) and its sockets
 * may hold an answer that arrived before it. Race "a caller woken from a
 * freeze" (distributed/call-table.ts). Pure; a ManualClock runs timers on
 * time, so simulations see no deferral unless a test stalls the clock.
 */
export function expiresNextTurn(deadline: number, now: number): boolean {
  return now > deadline;
}

/**
 * A timer for `deadline` (clock time) that runs `expire` at it, or — when it
 * runs late (`expiresNextTurn`) — one I/O turn later through `nextTurn`
 * (setImmediate: after the poll phase), so that an answer already waiting in
 * a socket settles first. The one mechanism of the race "a caller woken
 * from a freeze" for every call timer: the call table's, an OS child's ipc
 * call's, a worker's handler's.
 */
export function setDeadline(
  clock: Clock,
  deadline: number,
  expire: () => void,
  nextTurn: (fn: () => void) => void = (fn) => void setImmediate(fn),
): TimerHandle {
  return clock.setTimeout(() => (expiresNextTurn(deadline, clock.now()) ? nextTurn(expire) : expire()), Math.max(0, deadline - clock.now()));
}

interface SystemTimer extends TimerHandle {
  readonly timer: NodeJS.Timeout;
}

/** Real time. Timers are `unref`ed so a node's timers never keep a process alive on their own. */
export class SystemClock implements Clock {
  private nextId = 1;

  /** Milliseconds since the Unix epoch (`Date.now()`). */
  now(): number {
    return Date.now();
  }

  /** Runs `fn` once after `ms` milliseconds (at least 0) on a Node timer that is unref'ed, so it never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    const handle: SystemTimer = { id: this.nextId++, timer };
    return handle;
  }

  /** Cancels a timer made by this clock; a no-op for `undefined`, a fired timer or another clock's handle. */
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle && 'timer' in handle) clearTimeout((handle as SystemTimer).timer);
  }
}

interface ManualTimer extends TimerHandle {
  readonly due: number;
  readonly fn: () => void;
}

/**
 * Simulated time for tests. Time moves only when the test calls `advance`,
 * `runUntil` or `runAll`; due timers run in (due time, creation order).
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start = 0) {
    this.current = start;
  }

  /** The simulated time in milliseconds: the start given to the constructor plus every advance since. */
  now(): number {
    return this.current;
  }

  /** Schedules `fn` at now + `ms` (a negative `ms` counts as 0); it runs only when the test moves time to or past that point. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: ManualTimer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn };
    this.timers.set(handle.id, handle);
    return handle;
  }

  /** Cancels a timer so it never runs; a no-op for `undefined` or a fired or cleared timer. */
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Number of timers not yet fired or cleared. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (including ones they schedule). */
  advance(ms: number): void {
    this.runUntilTime(this.current + ms);
  }

  /** Fires timers until `predicate()` holds or `maxMs` of simulated time has passed. Returns whether it held. */
  runUntil(predicate: () => boolean, maxMs: number, stepMs = 10): boolean {
    const end = this.current + maxMs;
    while (!predicate()) {
      if (this.current >= end) return false;
      this.runUntilTime(Math.min(end, this.current + stepMs));
    }
    return true;
  }

  /**
   * Fires the earliest timer due at or before `target` and returns true, or
   * moves time to `target` and returns false when none is due. Lets an async
   * driver flush promise continuations between timers.
   */
  step(target: number): boolean {
    const next = this.earliest();
    if (!next || next.due > target) {
      this.current = Math.max(this.current, target);
      return false;
    }
    this.timers.delete(next.id);
    this.current = Math.max(this.current, next.due);
    next.fn();
    return true;
  }

  private runUntilTime(target: number): void {
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.timers.delete(next.id);
      this.current = Math.max(this.current, next.due);
      next.fn();
    }
    this.current = Math.max(this.current, target);
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers.values()) {
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
