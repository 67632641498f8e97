import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';

describe('ManualClock', () => {
  it('fires timers in due order, then creation order, including ones scheduled while advancing', () => {
    const clock = new ManualClock(100);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    clock.setTimeout(() => fired.push(`b2@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 1);
    clock.clearTimeout(cancelled);
    clock.advance(30);
    expect(fired).toEqual(['a@110', 'c@115', 'b@120', 'b2@120']);
    expect(clock.now()).toBe(130);
    expect(clock.pending()).toBe(0);
  });

  it('runUntil stops as soon as the predicate holds, or reports failure at the bound', () => {
    const clock = new ManualClock();
    let done = false;
    clock.setTimeout(() => (done = true), 42);
    expect(clock.runUntil(() => done, 1000, 1)).toBe(true);
    expect(clock.now()).toBeLessThanOrEqual(43);
    expect(clock.runUntil(() => false, 100)).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(142);
  });
});
