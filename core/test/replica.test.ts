/**
 * One replica on its own (store/replica.ts): what a merge counts as a
 * change now that an entry keeps a fingerprint and not the canonical text,
 * and that two replicas holding the same registers have the same digests
 * whatever order they merged them in. A toy kind (a max register whose text
 * leaves out a `note` field) makes "a new value with the same text" easy to
 * write; the desired-state kinds are checked with the replication tests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash53 } from '../src/hash.js';
import { LEAF_LEVEL, Replica, type RegisterKind } from '../src/store/replica.js';

interface Max {
  n: number;
  note: string;
}

/** Joins keep the larger n; on a tie a new object (so only the text can tell the join added nothing). */
const maxKind: RegisterKind<Max> = {
  decode: (_key, value) => ({ ok: true, value: value as Max }),
  join: (a, b) => (a.n > b.n ? a : b.n > a.n ? b : { n: a.n, note: `${a.note}+${b.note}` }),
  text: (v) => `max|${v.n}`,
};
const kinds = (): RegisterKind => maxKind;

describe('replica: changes and fingerprints', () => {
  it('a join that builds a new value with the same text changes nothing: no tick, same fingerprint, same value', () => {
    const r = new Replica(kinds);
    expect(r.merge('k', { n: 3, note: 'a' })).toBe(true);
    const tick = r.tick;
    const hash = r.hashOf('k');
    const held = r.get('k');
    expect(r.merge('k', { n: 3, note: 'b' })).toBe(false);
    expect(r.tick).toBe(tick);
    expect(r.hashOf('k')).toBe(hash);
    expect(r.get('k')).toBe(held);
  });

  it('a join that changes the text is a change: new tick, new fingerprint, and a lower value afterwards is no change', () => {
    const r = new Replica(kinds);
    r.merge('k', { n: 3, note: 'a' });
    const hash = r.hashOf('k');
    expect(r.merge('k', { n: 4, note: 'a' })).toBe(true);
    expect(r.tickOf('k')).toBe(r.tick);
    expect(r.hashOf('k')).not.toBe(hash);
    expect(r.merge('k', { n: 2, note: 'a' })).toBe(false);
    expect((r.get('k') as Max).n).toBe(4);
  });

  it('the fingerprint an entry keeps in two fields is hash53(key NUL text), all 53 bits (property)', () => {
    // An entry splits it so that V8 keeps both parts in the object (one 53-bit field is a heap number
    // per register); the split must give back every bit, the high ones included.
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (key, n) => {
        const r = new Replica(kinds);
        r.merge(key, { n, note: '' });
        expect(r.hashOf(key)).toBe(hash53(`${key}\u0000max|${n}`));
      }),
      { numRuns: 500 },
    );
  });

  it('replicas that merged the same registers in any order have equal digests at every level; a difference shows (property)', () => {
    const write = fc.record({ key: fc.constantFrom(...Array.from({ length: 40 }, (_, i) => `k${i}`)), n: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(write, { maxLength: 120 }), fc.integer(), (writes, seed) => {
        const a = new Replica(kinds);
        const b = new Replica(kinds);
        for (const w of writes) a.merge(w.key, { n: w.n, note: 'a' });
        // b: the same writes in another order (a seeded shuffle), each twice.
        const shuffled = [...writes, ...writes].map((w, i) => ({ w, order: Math.imul(i + 1, seed | 1) >>> 0 })).sort((x, y) => x.order - y.order);
        for (const { w } of shuffled) b.merge(w.key, { n: w.n, note: 'b' });
        for (let level = 0; level <= LEAF_LEVEL; level += 4) expect(b.digest(level)).toEqual(a.digest(level));
        for (const key of a.keys()) expect(b.hashOf(key)).toBe(a.hashOf(key));
        if (writes.length > 0) {
          b.merge(writes[0]!.key, { n: 21, note: 'b' });
          expect(b.digest(0)).not.toEqual(a.digest(0));
        }
      }),
      { seed: 13, numRuns: 200 },
    );
  });
});
