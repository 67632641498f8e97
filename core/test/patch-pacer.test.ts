import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { nextFlushAt, PatchPacer } from '../src/observer/patches.js';

const O = { settleMs: 15, maxMs: 100, minGapMs: 50 };

describe('nextFlushAt', () => {
  it('sends once changes have been quiet for settleMs', () => {
    expect(nextFlushAt(1000, 1000, 0, O)).toBe(1015);
    expect(nextFlushAt(1000, 1040, 0, O)).toBe(1055);
  });
  it('never later than maxMs after the first unsent change, however long the stream', () => {
    expect(nextFlushAt(1000, 1095, 0, O)).toBe(1100);
    expect(nextFlushAt(1000, 5000, 0, O)).toBe(1100);
  });
  it('never sooner than minGapMs after the previous patch', () => {
    expect(nextFlushAt(1000, 1000, 990, O)).toBe(1040);
  });
});

describe('PatchPacer', () => {
  function setup() {
    const clock = new ManualClock(1000);
    const flushes: number[] = [];
    const pacer = new PatchPacer(clock, O, () => flushes.push(clock.now()));
    return { clock, flushes, pacer };
  }

  it('one change goes out after settleMs, not at the next tick', () => {
    const { clock, flushes, pacer } = setup();
    pacer.changed();
    clock.advance(14);
    expect(flushes).toEqual([]);
    clock.advance(1);
    expect(flushes).toEqual([1015]);
    clock.advance(500);
    expect(flushes).toEqual([1015]);
  });

  it('a register and its join a few ms later go out together', () => {
    const { clock, flushes, pacer } = setup();
    pacer.changed();
    clock.advance(8);
    pacer.changed();
    clock.advance(100);
    expect(flushes).toEqual([1023]);
  });

  it('a steady stream of changes is sent at most every maxMs', () => {
    const { clock, flushes, pacer } = setup();
    for (let i = 0; i < 100; i++) {
      pacer.changed();
      clock.advance(5);
    }
    clock.advance(200);
    expect(flushes.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < flushes.length; i++) expect(flushes[i]! - flushes[i - 1]!).toBeGreaterThanOrEqual(O.minGapMs);
    expect(flushes[0]).toBe(1100);
  });

  it('a patch sent by the tick cancels the pending one, and the gap counts from it', () => {
    const { clock, flushes, pacer } = setup();
    pacer.changed();
    clock.advance(5);
    pacer.flushed();
    clock.advance(100);
    expect(flushes).toEqual([]);
    pacer.changed();
    clock.advance(15);
    expect(flushes).toEqual([1120]);
    pacer.changed();
    clock.advance(100);
    expect(flushes).toEqual([1120, 1170]);
  });

  it('stop cancels what is pending', () => {
    const { clock, flushes, pacer } = setup();
    pacer.changed();
    pacer.stop();
    clock.advance(1000);
    expect(flushes).toEqual([]);
  });
});
