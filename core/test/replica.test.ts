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
import { LEAF_LEVEL, Replica, leafOf, type RegisterKind } from '../src/store/replica.js';

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

  it('digests and fingerprints read at any moment are those of every register held, however many were merged since the last read (property)', () => {
    // A new register is fingerprinted when first read, not when merged (replica.ts header): whatever
    // the interleaving of merges, changes, deletes and reads, every read must equal the digest computed
    // afresh from each held register's hash53(key NUL text).
    const keyOf = fc.constantFrom(...Array.from({ length: 24 }, (_, i) => `k${i}`));
    const op = fc.oneof(
      fc.record({ t: fc.constant('merge' as const), key: keyOf, n: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ t: fc.constant('delete' as const), key: keyOf }),
      fc.record({ t: fc.constant('hashOf' as const), key: keyOf }),
      fc.record({ t: fc.constant('digest' as const), level: fc.integer({ min: 0, max: LEAF_LEVEL }) }),
      fc.record({ t: fc.constant('bucket' as const), level: fc.integer({ min: 0, max: LEAF_LEVEL }), at: fc.nat() }),
    );
    /** The digest at `level` computed from scratch. */
    const fresh = (r: Replica, level: number): number[] => {
      const hi = new Array<number>(2 ** level).fill(0);
      const lo = new Array<number>(2 ** level).fill(0);
      for (const key of r.keys()) {
        const h = hash53(`${key}\u0000max|${(r.get(key) as Max).n}`);
        const b = Math.floor(leafOf(key) / 2 ** (LEAF_LEVEL - level));
        hi[b] = (hi[b]! ^ Math.floor(h / 2 ** 32)) >>> 0;
        lo[b] = (lo[b]! ^ (h % 2 ** 32)) >>> 0;
      }
      return hi.map((h, b) => h * 2 ** 32 + lo[b]!);
    };
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const r = new Replica(kinds);
        for (const o of ops) {
          if (o.t === 'merge') r.merge(o.key, { n: o.n, note: '' });
          else if (o.t === 'delete') r.delete(o.key);
          else if (o.t === 'hashOf') {
            const held = r.get(o.key) as Max | undefined;
            expect(r.hashOf(o.key)).toBe(held === undefined ? undefined : hash53(`${o.key}\u0000max|${held.n}`));
          } else if (o.t === 'digest') expect(r.digest(o.level)).toEqual(fresh(r, o.level));
          else {
            const bucket = o.at % 2 ** o.level;
            expect(r.bucketHash(o.level, bucket)).toBe(fresh(r, o.level)[bucket]);
          }
        }
        for (let level = 0; level <= LEAF_LEVEL; level += 3) expect(r.digest(level)).toEqual(fresh(r, level));
      }),
      { seed: 29, numRuns: 400 },
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
