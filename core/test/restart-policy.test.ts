/**
 * Tests for the OTP restart decisions (supervisor/restart-policy.ts): the
 * restart table, restart intensity, the backoff of a failing child and the
 * text that describes an exit.
 */
import { describe, expect, it } from 'vitest';
import type { RestartType } from '../src/supervisor/child-spec.js';
import { describeExit, failingBackoff, shouldRestart, withinIntensity, type ExitReason } from '../src/supervisor/restart-policy.js';

const exits: Record<ExitReason['kind'], ExitReason> = {
  normal: { kind: 'normal' },
  shutdown: { kind: 'shutdown' },
  error: { kind: 'error', message: 'boom' },
  killed: { kind: 'killed', signal: 'SIGKILL' },
};

describe('shouldRestart: the OTP table', () => {
  const table: Array<[RestartType, ExitReason['kind'], boolean]> = [
    ['permanent', 'normal', true],
    ['permanent', 'shutdown', true],
    ['permanent', 'error', true],
    ['permanent', 'killed', true],
    ['transient', 'normal', false],
    ['transient', 'shutdown', false],
    ['transient', 'error', true],
    ['transient', 'killed', true],
    ['temporary', 'normal', false],
    ['temporary', 'shutdown', false],
    ['temporary', 'error', false],
    ['temporary', 'killed', false],
  ];

  it.each(table)('%s child, %s exit → restart %s', (restart, kind, expected) => {
    expect(shouldRestart(restart, exits[kind])).toBe(expected);
  });

  it('covers every restart type × exit kind', () => {
    expect(new Set(table.map(([r, k]) => `${r}/${k}`)).size).toBe(3 * Object.keys(exits).length);
  });
});

describe('withinIntensity', () => {
  const now = 1_000_000;

  it('allows exactly maxRestarts restarts inside the window', () => {
    for (const maxRestarts of [0, 1, 3, 10]) {
      const times: number[] = [];
      let allowed = 0;
      // Crash every 100 ms, all well inside a 5 s window.
      for (let i = 0; i < maxRestarts + 5; i++) {
        const t = now + i * 100;
        if (!withinIntensity(times, t, maxRestarts, 5)) break;
        times.push(t);
        allowed++;
      }
      expect(allowed).toBe(maxRestarts);
    }
  });

  it('refuses one more once maxRestarts lie inside the window, allows it when one is not', () => {
    expect(withinIntensity([now - 4000, now - 3000, now - 2000], now, 3, 5)).toBe(false);
    expect(withinIntensity([now - 3000, now - 2000], now, 3, 5)).toBe(true);
    expect(withinIntensity([now - 6000, now - 3000, now - 2000], now, 3, 5)).toBe(true);
  });

  it('drops entries older than maxSeconds from the array it is given', () => {
    const times = [now - 20_000, now - 6000, now - 5001, now - 4000, now - 10];
    expect(withinIntensity(times, now, 3, 5)).toBe(true);
    expect(times).toEqual([now - 4000, now - 10]);
  });

  it('treats an entry exactly maxSeconds old as outside the window', () => {
    const times = [now - 5000];
    expect(withinIntensity(times, now, 1, 5)).toBe(true);
    expect(times).toEqual([]);
  });

  it('keeps an entry just inside the window', () => {
    const times = [now - 4999];
    expect(withinIntensity(times, now, 1, 5)).toBe(false);
    expect(times).toEqual([now - 4999]);
  });

  it('honours a fractional maxSeconds', () => {
    const times = [now - 600, now - 400];
    expect(withinIntensity(times, now, 1, 0.5)).toBe(false);
    expect(times).toEqual([now - 400]);
  });

  it('lets restarts resume once the window slides past old ones', () => {
    const times: number[] = [];
    for (const t of [0, 1000, 2000]) {
      expect(withinIntensity(times, now + t, 3, 5)).toBe(true);
      times.push(now + t);
    }
    expect(withinIntensity(times, now + 4999, 3, 5)).toBe(false);
    expect(withinIntensity(times, now + 5000, 3, 5)).toBe(true);
    expect(times).toEqual([now + 1000, now + 2000]);
  });
});

describe('failingBackoff', () => {
  const base = 100;
  const max = 10_000;

  it('doubles per attempt without jitter (random 0.5)', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => failingBackoff(attempt, base, max, 0.5))).toEqual([100, 200, 400, 800, 1600, 3200]);
  });

  it('is capped at max', () => {
    expect(failingBackoff(7, base, max, 0.5)).toBe(6400);
    expect(failingBackoff(8, base, max, 0.5)).toBe(max);
    expect(failingBackoff(50, base, max, 0.5)).toBe(max);
    expect(failingBackoff(10_000, base, max, 0.5)).toBe(max);
    expect(Number.isFinite(failingBackoff(Number.MAX_SAFE_INTEGER, base, max, 0.5))).toBe(true);
  });

  it('keeps the jitter within ±25%', () => {
    for (const attempt of [1, 3, 8, 20]) {
      const raw = Math.min(max, base * 2 ** (attempt - 1));
      for (let i = 0; i <= 100; i++) {
        const delay = failingBackoff(attempt, base, max, i / 100);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(raw * 0.75));
        expect(delay).toBeLessThanOrEqual(Math.ceil(raw * 1.25));
      }
      expect(failingBackoff(attempt, base, max, 0)).toBe(Math.round(raw * 0.75));
      expect(failingBackoff(attempt, base, max, 1)).toBe(Math.round(raw * 1.25));
    }
  });

  it('grows with random01 (the jitter is monotonic)', () => {
    const delays = [0, 0.25, 0.5, 0.75, 0.999].map((r) => failingBackoff(3, base, max, r));
    expect([...delays].sort((a, b) => a - b)).toEqual(delays);
    expect(new Set(delays).size).toBe(delays.length);
  });

  it('is never below 1 ms', () => {
    expect(failingBackoff(1, 0, max, 0)).toBe(1);
    expect(failingBackoff(1, 1, max, 0)).toBe(1);
    expect(failingBackoff(1, 0.1, max, 0.5)).toBe(1);
    expect(failingBackoff(5, 1, 0, 0)).toBe(1);
  });

  it('gives about base for attempt 0 and attempt 1', () => {
    for (const attempt of [0, 1, -3]) {
      expect(failingBackoff(attempt, base, max, 0.5)).toBe(base);
      const jittered = failingBackoff(attempt, base, max, 0.9);
      expect(jittered).toBeGreaterThanOrEqual(base * 0.75);
      expect(jittered).toBeLessThanOrEqual(base * 1.25);
    }
  });

  it('returns whole milliseconds', () => {
    for (let i = 0; i < 20; i++) expect(Number.isInteger(failingBackoff(i, 33, 5000, (i * 0.37) % 1))).toBe(true);
  });
});

describe('describeExit', () => {
  it.each<[ExitReason, string]>([
    [{ kind: 'normal' }, 'exited normally'],
    [{ kind: 'shutdown' }, 'shut down'],
    [{ kind: 'error', message: 'ENOENT: no such file' }, 'failed: ENOENT: no such file'],
    [{ kind: 'killed', signal: 'SIGTERM' }, 'killed by SIGTERM'],
  ])('%j → %j', (exit, text) => {
    expect(describeExit(exit)).toBe(text);
  });
});
