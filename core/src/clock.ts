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

export interface TimerHandle {
  readonly id: number;
}

/** Time and timers, injected into every layer (SystemClock in production, ManualClock in tests). */
export interface Clock {
  /** Milliseconds since the Unix epoch (SystemClock) or since the start of the simulation. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

interface SystemTimer extends TimerHandle {
  readonly timer: NodeJS.Timeout;
}

/** Real time. Timers are `unref`ed so a node's timers never keep a process alive on their own. */
export class SystemClock implements Clock {
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    const handle: SystemTimer = { id: this.nextId++, timer };
    return handle;
  }

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

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: ManualTimer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn };
    this.timers.set(handle.id, handle);
    return handle;
  }

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
