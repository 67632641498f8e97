import { describe, expect, it } from 'vitest';
import { CryptoRandom, SeededRandom } from '../src/random.js';

describe('random', () => {
  it.each([
    ['crypto', new CryptoRandom()],
    ['seeded', new SeededRandom(42)],
  ])('%s random stays in range', (_name, random) => {
    for (let i = 0; i < 2000; i++) {
      const x = random.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const n = random.int(7);
      expect(Number.isInteger(n) && n >= 0 && n < 7).toBe(true);
    }
    expect(random.hex(16)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('seeded random replays the same sequence for the same seed', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const seq = (r: SeededRandom) => Array.from({ length: 20 }, () => r.int(1000));
    const sa = seq(a);
    expect(seq(b)).toEqual(sa);
    expect(seq(c)).not.toEqual(sa);
  });
});
