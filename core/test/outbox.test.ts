/**
 * The outbox's size estimate (link/outbox.ts `jsonBytes`): a bounded walk
 * that decides which frames wait in a batch. It counts what JSON.stringify
 * would write closely enough for that, and gives up past its budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonBytes } from '../src/link/outbox.js';

describe('outbox: jsonBytes', () => {
  it('counts keys, strings and brackets exactly as a walk over Object.entries would, and stops past its budget', () => {
    /** The estimate's definition, written plainly. */
    const reference = (v: unknown): number => {
      if (typeof v === 'string') return v.length + 2;
      if (v === null || typeof v !== 'object') return 8;
      if (Array.isArray(v)) return 2 + v.length + v.reduce((n: number, x) => n + reference(x), 0);
      return 2 + Object.entries(v).reduce((n, [k, x]) => n + k.length + 4 + reference(x), 0);
    };
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        expect(jsonBytes(v, Infinity)).toBe(reference(v));
        const budget = Math.floor(reference(v) / 2);
        if (reference(v) > budget) expect(jsonBytes(v, budget)).toBeGreaterThan(budget);
      }),
      { numRuns: 2000, seed: 133 },
    );
    // Only own keys count, as in JSON.stringify.
    const inherited = Object.assign(Object.create({ hidden: 'x'.repeat(100) }) as object, { a: 1 });
    expect(jsonBytes(inherited, Infinity)).toBe(2 + 1 + 4 + 8);
  });
});
