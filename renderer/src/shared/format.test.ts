import { describe, expect, it } from 'vitest';
import { clockTime, clockTimeMs, formatCount, formatDuration, listWords } from './format';

describe('formatters', () => {
  it('formats durations and clock times', () => {
    expect(formatDuration(84.4)).toBe('84 ms');
    expect(formatDuration(1_000)).toBe('1 s');
    expect(formatDuration(1_250)).toBe('1.25 s');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    const at = new Date(2025, 0, 2, 9, 5, 7, 3).getTime();
    expect(clockTime(at)).toBe('09:05:07');
    expect(clockTimeMs(at)).toBe('09:05:07.003');
  });

  it('writes counts with thousands separators', () => {
    expect(formatCount(983)).toBe('983');
    expect(formatCount(1_000)).toBe('1,000');
  });

  it('lists names in words', () => {
    expect([[], ['a'], ['a', 'b'], ['a', 'b', 'c']].map(listWords)).toEqual(['', 'a', 'a and b', 'a, b and c']);
  });
});
