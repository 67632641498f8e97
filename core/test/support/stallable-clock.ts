/**
 * A clock for simulated nodes that can stall (a test's stand-in for a busy
 * event loop or a paused VM).
 */
import type { Clock, TimerHandle } from '../../src/clock.js';

/**
 * The shared simulated clock, seen by nodes that can stall: while `held`,
 * timers that fall due wait, and `release()` runs them late, in order — what
 * a busy event loop (or a paused VM) does to a real node's timers.
 */
export class StallableClock implements Clock {
  held = false;
  private readonly late: Array<{ handle: TimerHandle; fn: () => void }> = [];
  constructor(private readonly inner: Clock) {}
  now(): number {
    return this.inner.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = this.inner.setTimeout(() => (this.held ? this.late.push({ handle, fn }) : fn()), ms);
    return handle;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.inner.clearTimeout(handle);
    const i = this.late.findIndex((t) => t.handle === handle);
    if (i >= 0) this.late.splice(i, 1);
  }
  release(): void {
    this.held = false;
    for (let t = this.late.shift(); t !== undefined; t = this.late.shift()) t.fn();
  }
}
