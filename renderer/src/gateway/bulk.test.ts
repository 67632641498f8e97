/**
 * Bulk commands (bulk.ts): each child gets exactly one command, never more
 * than the limit in flight, and the outcome says which were done and why
 * the others failed.
 */
import { describe, expect, it } from 'vitest';
import { failureCounts, runBulk } from './bulk';

describe('runBulk', () => {
  it('sends one command per child with at most `limit` in flight, and reports each outcome in order', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `c${i}`);
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const progress: number[] = [];
    const outcome = await runBulk(
      ids,
      async (id) => {
        seen.push(id);
        inFlight++;
        most = Math.max(most, inFlight);
        // Settle in a scrambled order, each after a few turns of the event loop.
        for (let i = 0; i < (Number(id.slice(1)) * 7) % 5; i++) await Promise.resolve();
        inFlight--;
        if (id === 'c3') throw new Error('the link broke');
        return id.endsWith('7') ? { ok: false, error: { code: 'not-found', message: `no child ${id}` } } : { ok: true };
      },
      { limit: 4, onProgress: (n) => progress.push(n) },
    );
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(most).toBe(4);
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(outcome.failed.map((f) => f.id)).toEqual(['c3', 'c7', 'c17', 'c27']);
    expect(outcome.failed[0]!.error).toEqual({ code: 'failed', message: 'the link broke' });
    expect(outcome.done).toEqual(ids.filter((id) => !['c3', 'c7', 'c17', 'c27'].includes(id)));
    expect(failureCounts(outcome)).toEqual([
      { code: 'not-found', count: 3 },
      { code: 'failed', count: 1 },
    ]);
  });

  it('an empty set sends nothing', async () => {
    expect(await runBulk([], async () => ({ ok: true }))).toEqual({ done: [], failed: [] });
  });
});
