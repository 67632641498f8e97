/**
 * The desired state's joins (distributed/registers.ts) and the replica that
 * holds them (store/replica.ts), as properties: the lattice laws, and that
 * replicas fed the same writes in any order, duplicated, partly lost and then
 * repaired, end equal — with equal digests exactly when equal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../src/util/deep-freeze.js';
import { canonicalJson } from '../src/protocol.js';
import { hash53 } from '../src/hash.js';
import {
  ChildRegisterSchema,
  MAX_FUTURE_MS,
  childKind,
  childText,
  decodeChild,
  decodeFlag,
  desiredStateKinds,
  fastChildRegister,
  highestRev,
  isCollected,
  joinChild,
  joinFlag,
  liveSpec,
  mergeChild,
  type ChildRegister,
  type FlagRegister,
} from '../src/distributed/registers.js';
import { Replica, leafOf, leafRange, levelFor } from '../src/store/replica.js';
import { isRunValue, RunValueSchema, shareRevision } from '../src/distributed/live-state.js';
import type { JsonValue } from '../src/protocol.js';
import {
  ChildSpecSchema,
  NO_LABELS,
  SPEC_DEFAULTS,
  decodeNormalSpec,
  decodeWireSpec,
  parseChildSpec,
  parseWorkerSpecFast,
  specText,
  wireSpec,
  type ChildSpec,
} from '../src/supervisor/child-spec.js';

const NOW = 1_764_000_000_000;
const ver = (t: number, seq: number, node: string) => `${t.toString(36).padStart(10, '0')}.${seq.toString(36).padStart(6, '0')}.${node}`;
const specFor = (id: string, variant: number) => deepFreeze(parseChildSpec({ id, start: { worker: 'w', args: { variant } } }));

const node = fc.constantFrom('n1', 'n2', 'n3');
const verArb = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 3 }), node).map(([t, s, n]) => ver(NOW + t, s, n));
const pinArb = fc.option(fc.record({ node: fc.option(node, { nil: null }), ver: verArb }), { nil: undefined });
const entryArb = fc
  .tuple(verArb, fc.integer({ min: 0, max: 2 }), pinArb)
  .map(([rev, variant, pin]) => ({ rev, spec: specFor('k', variant), ...(pin ? { pin } : {}) }));
/** Child registers as any node could write them (normalised, as decode leaves them). */
const childArb: fc.Arbitrary<ChildRegister> = fc
  .record({
    floor: fc.option(verArb, { nil: undefined }),
    floorAt: fc.option(
      fc.integer({ min: 0, max: 100 }).map((d) => NOW + d),
      { nil: undefined },
    ),
    collected: fc.option(verArb, { nil: undefined }),
    specs: fc.array(entryArb, { maxLength: 4 }),
  })
  .map((r) => {
    // Entries of one rev are one start: the same spec (pins may differ).
    const specs = r.specs.map((s) => ({ ...s, spec: specFor('k', s.rev.charCodeAt(9) % 3) }));
    return deepFreeze(
      mergeChild([
        { ...(r.floor ? { floor: r.floor, ...(r.floorAt ? { floorAt: r.floorAt } : {}) } : {}), ...(r.collected ? { collected: r.collected } : {}), specs },
      ]),
    );
  });
const flagArb: fc.Arbitrary<FlagRegister<boolean>> = fc.record({ value: fc.boolean(), ver: verArb });
const eq = (a: ChildRegister, b: ChildRegister) => childText(a) === childText(b);

/** A spec as a writer's zod leaves it: every field present (child-spec.ts `decodeNormalSpec`). */
function normalSpec(id: string, start: Record<string, unknown>, labels: Record<string, string>) {
  return { id, start, restart: 'permanent', shutdown: 5000, maxRestarts: 3, maxSeconds: 5, labels, handoff: 'stop-first' };
}

describe('child registers: a join-semilattice', () => {
  it('join is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(childArb, childArb, childArb, (a, b, c) => {
        expect(eq(joinChild(a, b), joinChild(b, a))).toBe(true);
        expect(eq(joinChild(joinChild(a, b), c), joinChild(a, joinChild(b, c)))).toBe(true);
        expect(eq(joinChild(a, a), a)).toBe(true);
        // An upper bound: joining either operand in again changes nothing.
        const ab = joinChild(a, b);
        expect(eq(joinChild(ab, a), ab)).toBe(true);
      }),
      { numRuns: 500, seed: 1301 },
    );
  });

  it('first start wins, terminate raises the floor over every pending start, the newest pin wins', () => {
    const s1 = { rev: ver(NOW + 1, 1, 'n1'), spec: specFor('k', 0) };
    const s2 = { rev: ver(NOW + 2, 1, 'n2'), spec: specFor('k', 1) };
    const both = mergeChild([{ specs: [s2] }, { specs: [s1] }]);
    expect(liveSpec(both)?.rev).toBe(s1.rev); // the earlier request is the live one, in any order
    const floor = highestRev(both)!;
    const terminated = joinChild(both, { floor, floorAt: NOW, specs: [] });
    expect(terminated.specs).toEqual([]);
    const later = { rev: ver(NOW + 3, 1, 'n3'), spec: specFor('k', 2) };
    expect(liveSpec(joinChild(terminated, { specs: [later] }))?.rev).toBe(later.rev); // a start after the terminate lives
    const pinA = { ...s1, pin: { node: 'n2', ver: ver(NOW + 5, 1, 'n1') } };
    const pinB = { ...s1, pin: { node: null, ver: ver(NOW + 6, 1, 'n3') } };
    expect(liveSpec(mergeChild([{ specs: [pinB] }, { specs: [pinA] }]))?.pin).toEqual(pinB.pin);
  });

  it('a collected tombstone is recognised; a start above its floor is not collected', () => {
    const floor = ver(NOW + 1, 1, 'n1');
    expect(isCollected({ floor, collected: floor, specs: [] })).toBe(true);
    expect(isCollected({ floor, specs: [] })).toBe(false);
    expect(isCollected({ floor, collected: floor, specs: [{ rev: ver(NOW + 2, 1, 'n1'), spec: specFor('k', 0) }] })).toBe(false);
    expect(childKind.ignoreWhenAbsent!({ floor, collected: floor, specs: [] })).toBe(true);
    expect(childKind.ignoreWhenAbsent!({ specs: [] })).toBe(true); // the bottom: the same as no register
    expect(childKind.ignoreWhenAbsent!({ floor, specs: [] })).toBe(false);
  });

  it('flags: last writer wins, commutative, associative, idempotent', () => {
    fc.assert(
      fc.property(flagArb, flagArb, flagArb, (a, b, c) => {
        expect(joinFlag(a, b)).toEqual(joinFlag(b, a).ver === joinFlag(a, b).ver ? joinFlag(a, b) : joinFlag(b, a));
        expect(joinFlag(joinFlag(a, b), c)).toEqual(joinFlag(a, joinFlag(b, c)));
        expect(joinFlag(a, a)).toBe(a);
      }),
      { numRuns: 300, seed: 1302 },
    );
  });
});

describe('decoding registers from peers and files', () => {
  it('accepts what a node writes and refuses the rest with a reason', () => {
    const good = { specs: [{ rev: ver(NOW, 1, 'n1'), spec: { id: 'k', start: { worker: 'w' } } }] };
    const ok = decodeChild('k', good, NOW);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(Object.isFrozen(ok.value.specs[0]!.spec)).toBe(true);
    const bad: Array<[unknown, RegExp]> = [
      [{ specs: [{ rev: 'nonsense', spec: { id: 'k', start: { worker: 'w' } } }] }, /version/],
      [{ specs: [{ rev: ver(NOW, 1, 'n1'), spec: { id: 'other', start: { worker: 'w' } } }] }, /not "k"/],
      [{ specs: [], extra: 1 }, /Unrecognized|unrecognized/],
      [{ specs: [{ rev: ver(NOW + MAX_FUTURE_MS + 60_000, 1, 'n1'), spec: { id: 'k', start: { worker: 'w' } } }] }, /future/],
      [{ floor: ver(NOW + 10 * MAX_FUTURE_MS, 1, 'n1'), specs: [] }, /future/],
      ['a string', /.+/],
      [null, /.+/],
    ];
    for (const [value, reason] of bad) {
      const out = decodeChild('k', value, NOW);
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.reason).toMatch(reason);
    }
    expect(decodeFlag({ value: true, ver: ver(NOW, 1, 'n1') }, NOW).ok).toBe(true);
    expect(decodeFlag({ value: 'yes', ver: ver(NOW, 1, 'n1') }, NOW).ok).toBe(false);
  });

  it('specs without labels share one frozen empty labels object; specs with labels keep their own', () => {
    const normal = (id: string, labels: Record<string, string>) => normalSpec(id, { worker: 'w' }, labels);
    const decoded = ['a', 'b'].map((id) => decodeChild(id, { specs: [{ rev: ver(NOW, 1, 'n1'), spec: normal(id, {}) }] }, NOW));
    const [a, b] = decoded.map((d) => (d.ok ? d.value.specs[0]!.spec : undefined));
    expect(a?.labels).toBe(NO_LABELS);
    expect(b?.labels).toBe(NO_LABELS);
    expect(Object.isFrozen(NO_LABELS)).toBe(true);
    expect(Object.keys(NO_LABELS)).toEqual([]);
    expect(parseChildSpec({ id: 'c', start: { worker: 'w' } }).labels).toBe(NO_LABELS);
    expect(parseChildSpec({ id: 'c', start: { worker: 'w' }, labels: {} }).labels).toBe(NO_LABELS);
    // An OS command start takes zod's path, not the fast one: the same object.
    expect(parseChildSpec({ id: 'c', start: { command: 'true', args: [], env: {} } }).labels).toBe(NO_LABELS);
    const labelled = decodeChild('d', { specs: [{ rev: ver(NOW, 1, 'n1'), spec: normal('d', { zone: 'x' }) }] }, NOW);
    expect(labelled.ok && labelled.value.specs[0]!.spec.labels).toEqual({ zone: 'x' });
    // The text is the one an empty object of its own gives: the fingerprint a peer computes is unchanged.
    expect(a && specText(a)).toBe(specText({ ...normal('a', {}) } as ChildSpec));
  });

  it('worker starts without args are shared per worker name (frozen); starts with args, and OS commands, keep their own', () => {
    const normal = (id: string, start: Record<string, unknown>) => normalSpec(id, start, {});
    const decode = (id: string, start: Record<string, unknown>) => {
      const d = decodeChild(id, { specs: [{ rev: ver(NOW, 1, 'n1'), spec: normal(id, start) }] }, NOW);
      return d.ok ? d.value.specs[0]!.spec : undefined;
    };
    const a = decode('a', { worker: 'w' });
    const b = decode('b', { worker: 'w' });
    expect(a?.start).toBe(b?.start);
    expect(Object.isFrozen(a?.start)).toBe(true);
    expect(parseChildSpec({ id: 'c', start: { worker: 'w' } }).start).toBe(a?.start); // the API's fast path too
    expect(decode('c', { worker: 'v' })?.start).not.toBe(a?.start);
    expect(decode('d', { worker: 'w', args: 1 })?.start).toEqual({ worker: 'w', args: 1 });
    expect(decode('e', { worker: 'w', args: 1 })?.start).not.toBe(decode('f', { worker: 'w', args: 1 })?.start);
    const os = { command: 'true', args: [], env: {} };
    expect(parseChildSpec({ id: 'g', start: os }).start).not.toBe(parseChildSpec({ id: 'h', start: os }).start);
    // The text is unchanged: the fingerprint a peer computes is the same.
    expect(a && specText(a)).toBe(specText({ ...normal('a', { worker: 'w' }), labels: NO_LABELS } as ChildSpec));
  });

  it("shareRevision gives a child's run:, fail: and claim: values its register's revision string, and leaves the rest alone", () => {
    const rev = ver(NOW, 1, 'n1');
    const other = ver(NOW, 2, 'n1');
    const registers = new Map([['c1', { specs: [{ rev, spec: parseChildSpec({ id: 'c1', start: { worker: 'w' } }) }] }]]);
    const register = (id: string) => registers.get(id) ?? { specs: [] };
    // Strings have no identity a test can see: a proxy records the assignment.
    const shared = (group: string, value: Record<string, JsonValue>): string[] => {
      const sets: string[] = [];
      const proxy = new Proxy(value, {
        set: (target, key, v: JsonValue) => {
          sets.push(`${String(key)}=${String(v)}`);
          target[String(key)] = v;
          return true;
        },
      });
      shareRevision(register, group, proxy);
      return sets;
    };
    expect(shared('run:c1', { rev: `${rev}`, restarts: 0 })).toEqual([`rev=${rev}`]);
    expect(shared('fail:c1', { rev: `${rev}`, failures: 1 })).toEqual([`rev=${rev}`]);
    expect(shared('claim:c1', { rev: `${rev}` })).toEqual([`rev=${rev}`]);
    expect(shared('run:c1', { rev: other })).toEqual([]); // a revision the register does not hold
    expect(shared('run:c2', { rev })).toEqual([]); // no register
    expect(shared('other', { rev })).toEqual([]); // not a child's group
    expect(shared('run:c1', { rev: 5 })).toEqual([]);
    expect(() => shareRevision(register, 'run:c1', [rev])).not.toThrow();
    expect(() => shareRevision(register, 'run:c1', null)).not.toThrow();
  });

  it('a key of no kind has no register kind', () => {
    expect(desiredStateKinds('x:1')).toBeUndefined();
    expect(desiredStateKinds('c:')).toBeUndefined();
    expect(desiredStateKinds('c:a')).toBeDefined();
    expect(desiredStateKinds('f:pause')).toBeDefined();
    expect(desiredStateKinds('m:n1')).toBeDefined();
  });
});

/**
 * A write as a node makes it: a key and a register for it. Not a collected
 * tombstone: one exists only once every member holds the tombstone, so no
 * member can send the spec it covers afterwards (tombstones.ts), which is
 * what makes refusing it for an absent key safe; its own test is above.
 */
const writeArb = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
      childArb.filter((r) => !isCollected(r)),
    )
    .map(
      ([id, r]) => [`c:${id}`, deepFreeze({ ...r, specs: r.specs.map((s) => ({ ...s, spec: specFor(id, s.rev.charCodeAt(9) % 3) })) })] as [string, unknown],
    ),
  fc.tuple(fc.constantFrom('f:pause', 'f:drain:n1', 'm:n2'), flagArb).map(([k, f]) => [k, deepFreeze(f)] as [string, unknown]),
);

function replicaOf(writes: ReadonlyArray<[string, unknown]>): Replica {
  const r = new Replica(desiredStateKinds);
  for (const [k, v] of writes) r.merge(k, v);
  return r;
}

/** What a replica holds that means anything: a collected tombstone is the same as no register (refused where absent). */
function contents(r: Replica): string {
  return JSON.stringify(
    [...r.all()]
      .filter(([k, v]) => !(k.startsWith('c:') && isCollected(v as ChildRegister)))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [k, desiredStateKinds(k)!.text(v)]),
  );
}

describe('replicas converge whatever the delivery', () => {
  it('any order, duplicates and losses repaired later: equal registers, equal digests; unequal registers, unequal digests', () => {
    fc.assert(
      fc.property(fc.array(writeArb, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), (writes, noise) => {
        const reference = replicaOf(writes);
        // Another replica: shuffled, some duplicated, some lost (then repaired from the reference's registers, as a pull does).
        const shuffled = writes
          .map((w, i) => ({ w, key: noise[i % noise.length]! }))
          .sort((a, b) => a.key - b.key)
          .map((x) => x.w);
        const other = new Replica(desiredStateKinds);
        shuffled.forEach(([k, v], i) => {
          const roll = noise[(i * 7) % noise.length]! % 10;
          if (roll === 0) return; // lost
          other.merge(k, v);
          if (roll === 1) other.merge(k, v); // duplicated
        });
        for (const [k, v] of reference.all()) other.merge(k, v); // anti-entropy
        expect(contents(other)).toBe(contents(reference));
        const collectedHeld = [...reference.all()].some(([k, v]) => k.startsWith('c:') && isCollected(v as ChildRegister));
        if (!collectedHeld) for (const level of [0, 3, 12]) expect(other.digest(level)).toEqual(reference.digest(level));
        // And a replica missing one register has a different digest in exactly that register's bucket.
        const keys = [...reference.keys()];
        if (keys.length > 1) {
          const missing = replicaOf(writes);
          missing.delete(keys[0]!);
          const level = 12;
          const a = reference.digest(level);
          const b = missing.digest(level);
          const differing = a.map((h, i) => (h !== b[i] ? i : -1)).filter((i) => i >= 0);
          expect(differing).toEqual([leafOf(keys[0]!)]);
        }
      }),
      { numRuns: 300, seed: 1303 },
    );
  });

  it("a child register's fingerprint, hashed from its text's pieces, is hash53(key NUL childText), taken or joined (property)", () => {
    fc.assert(
      fc.property(childArb, childArb, (a, b) => {
        const r = new Replica(desiredStateKinds);
        r.merge('c:k', a);
        if (r.has('c:k')) expect(r.hashOf('c:k')).toBe(hash53(`c:k\u0000${childText(a)}`));
        r.merge('c:k', b);
        const held = r.get('c:k') as ChildRegister | undefined;
        if (held) expect(r.hashOf('c:k')).toBe(hash53(`c:k\u0000${childText(held)}`));
      }),
      { numRuns: 500, seed: 2612 },
    );
  });

  it('a merge that adds nothing changes nothing (no tick); delete and ignoreWhenAbsent keep the index right', () => {
    const r = new Replica(desiredStateKinds);
    const reg = deepFreeze({ specs: [{ rev: ver(NOW, 1, 'n1'), spec: specFor('x', 0) }] });
    expect(r.merge('c:x', reg)).toBe(true);
    const tick = r.tick;
    expect(r.merge('c:x', reg)).toBe(false);
    expect(r.merge('c:x', deepFreeze(JSON.parse(JSON.stringify(reg)) as object))).toBe(false);
    expect(r.tick).toBe(tick);
    const collected = deepFreeze({ floor: ver(NOW, 2, 'n1'), collected: ver(NOW, 2, 'n1'), specs: [] });
    expect(r.merge('c:gone', collected)).toBe(false);
    expect(r.has('c:gone')).toBe(false);
    expect(r.merge('c:x', collected)).toBe(true); // held: the collected tombstone still wins over the spec
    expect(r.delete('c:x')).toBe(true);
    expect(r.size).toBe(0);
    expect(r.digest(12).every((h) => h === 0)).toBe(true);
    expect([...r.keysInBuckets(0, [0])]).toEqual([]);
  });

  it('levels and bucket ranges', () => {
    expect(levelFor(0)).toBe(0);
    expect(levelFor(8)).toBe(0);
    expect(levelFor(9)).toBe(1);
    expect(levelFor(20_000)).toBe(12);
    expect(levelFor(10_000_000)).toBe(12);
    expect(leafRange(0, 0)).toEqual([0, 4096]);
    expect(leafRange(12, 7)).toEqual([7, 8]);
    expect(leafRange(2, 3)).toEqual([3072, 4096]);
  });
});

describe('fast decoding agrees with the schemas', () => {
  // Specs as a node writes them (every field valid), then often one field broken, one added or one left out.
  const str = fc.oneof(fc.string({ maxLength: 6 }), fc.constant(''), fc.constant('x'.repeat(300)), fc.constant('é'));
  const weird = fc.oneof(
    fc.constant(null),
    fc.integer({ min: -3, max: 3 }),
    fc.double(),
    fc.boolean(),
    str,
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.constant({}),
    fc.constant(90_000_000),
    fc.constant(1.5),
    fc.constant(2 ** 53),
  );
  const labels = fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 });
  const workerStart = fc.record(
    { worker: fc.string({ minLength: 1, maxLength: 8 }), args: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) },
    { requiredKeys: ['worker'] },
  );
  const commandStart = fc.record(
    {
      command: fc.string({ minLength: 1, maxLength: 8 }),
      args: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
      env: labels,
      cwd: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }),
      ipc: fc.option(fc.constantFrom('json-lines', 'node'), { nil: undefined }),
    },
    { requiredKeys: ['command', 'args', 'env'] },
  );
  const validSpec = fc.record({
    id: fc.string({ minLength: 1, maxLength: 10 }),
    start: fc.oneof(workerStart, commandStart),
    restart: fc.constantFrom('permanent', 'transient', 'temporary'),
    shutdown: fc.oneof(fc.integer({ min: 1, max: 86_400_000 }), fc.constantFrom('brutal_kill', 'infinity')),
    maxRestarts: fc.integer({ min: 0, max: 10_000 }),
    maxSeconds: fc.oneof(fc.integer({ min: 1, max: 86_400 }), fc.double({ min: 0.001, max: 10, noNaN: true })),
    labels,
    handoff: fc.constantFrom('stop-first', 'start-first'),
  });
  /** One field of `o` (or of `o.start`) replaced, removed, or an unknown one added — or `o` as it is. */
  const mutate = <T extends Record<string, unknown>>(arb: fc.Arbitrary<T>) =>
    fc.tuple(arb, fc.nat(30), fc.nat(10), weird, fc.boolean()).map(([o, which, how, value, inStart]) => {
      if (how > 5) return o;
      const target: Record<string, unknown> =
        inStart && typeof o['start'] === 'object' && o['start'] !== null ? { ...(o['start'] as Record<string, unknown>) } : { ...o };
      const keys = Object.keys(target);
      const key = keys[which % Math.max(1, keys.length)] ?? 'id';
      if (how <= 2) target[key] = value;
      else if (how <= 4) delete target[key];
      else target['unknown'] = value;
      return inStart ? { ...o, start: target } : target;
    });
  const spec = mutate(validSpec);

  it('decodeNormalSpec accepts only what ChildSpecSchema accepts, and returns what it returns', () => {
    let accepted = 0;
    fc.assert(
      fc.property(spec, (raw) => {
        const value = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = decodeNormalSpec(value);
        const slow = ChildSpecSchema.safeParse(value);
        if (fast !== undefined) {
          accepted++;
          expect(slow.success).toBe(true);
          if (slow.success) expect(fast).toEqual(slow.data);
        }
        // What zod accepts and normalises, the fast path takes as it is.
        if (slow.success) expect(decodeNormalSpec(JSON.parse(JSON.stringify(slow.data)))).toEqual(slow.data);
      }),
      { numRuns: 3000, seed: 1307 },
    );
    expect(accepted).toBeGreaterThan(1000); // both sides of the line are exercised
  });

  /** Valid specs whose fields are often at their defaults (validSpec's almost never are), each field independently. */
  const defaultish = fc.tuple(validSpec, fc.array(fc.boolean(), { minLength: 6, maxLength: 6 })).map(([o, use]) => {
    const d: Record<string, unknown> = { ...o };
    (['restart', 'shutdown', 'maxRestarts', 'maxSeconds', 'handoff'] as const).forEach((k, i) => {
      if (use[i]) d[k] = SPEC_DEFAULTS[k];
    });
    if (use[5]) d['labels'] = {};
    return d;
  });

  it('SPEC_DEFAULTS are the schema’s defaults (a protocol constant since 2.8: specs travel without them)', () => {
    const parsed = ChildSpecSchema.parse({ id: 'x', start: { worker: 'w' } });
    expect({ ...parsed, id: undefined, start: undefined, labels: undefined }).toEqual({ ...SPEC_DEFAULTS });
    expect(parsed.labels).toEqual({});
  });

  it('decodeWireSpec (a spec as it travels: fields at their defaults left out, or not) accepts only what ChildSpecSchema accepts, and returns what it returns', () => {
    const input = fc.tuple(mutate(defaultish), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 })).map(([raw, drop]) => {
      const o: Record<string, unknown> = { ...raw };
      ['restart', 'shutdown', 'maxRestarts', 'maxSeconds', 'labels', 'handoff'].forEach((k, i) => {
        if (drop[i]) delete o[k];
      });
      return o;
    });
    let accepted = 0;
    let filled = 0;
    fc.assert(
      fc.property(input, (raw) => {
        const value = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
        const before = JSON.stringify(value);
        const fast = decodeWireSpec(value);
        const slow = ChildSpecSchema.safeParse(value);
        if (fast !== undefined) {
          accepted++;
          if (fast !== value) filled++;
          expect(slow.success).toBe(true);
          if (slow.success) expect(fast).toEqual(slow.data);
        }
        expect(JSON.stringify(value)).toBe(before); // the input is never changed
      }),
      { numRuns: 3000, seed: 1312 },
    );
    expect(accepted).toBeGreaterThan(800);
    expect(filled).toBeGreaterThan(400);
  });

  it('a spec as it travels (wireSpec) is read back as the spec it was, here and by the schema (a 2.7 node), and is never longer', () => {
    let shorter = 0;
    fc.assert(
      fc.property(defaultish, (raw) => {
        const slow = ChildSpecSchema.safeParse(JSON.parse(JSON.stringify(raw)));
        if (!slow.success) return;
        const spec = deepFreeze(slow.data);
        const text = JSON.stringify(wireSpec(spec));
        expect(decodeWireSpec(JSON.parse(text))).toEqual(spec);
        expect(ChildSpecSchema.parse(JSON.parse(text))).toEqual(spec);
        expect(text.length).toBeLessThanOrEqual(JSON.stringify(spec).length);
        if (text.length < JSON.stringify(spec).length) shorter++;
      }),
      { numRuns: 2000, seed: 1313 },
    );
    expect(shorter).toBeGreaterThan(1000);
  });

  it("parseChildSpec's fast path (what API callers pass: fields left out) accepts only what ChildSpecSchema accepts, and returns what it returns", () => {
    const scalarArgs = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const input = fc.tuple(spec, fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), scalarArgs, fc.boolean()).map(([raw, drop, args, setArgs]) => {
      const o: Record<string, unknown> = { ...raw };
      ['restart', 'shutdown', 'maxRestarts', 'maxSeconds', 'labels', 'handoff'].forEach((k, i) => {
        if (drop[i]) delete o[k];
      });
      if (setArgs && typeof o['start'] === 'object' && o['start'] !== null && 'worker' in o['start']) o['start'] = { ...(o['start'] as object), args };
      if (drop[6] && typeof o['start'] === 'object' && o['start'] !== null) o['start'] = { worker: (o['start'] as { worker?: unknown }).worker ?? 'w' };
      return o;
    });
    let accepted = 0;
    fc.assert(
      fc.property(input, (raw) => {
        const before = JSON.stringify(raw);
        const fast = parseWorkerSpecFast(raw);
        const slow = ChildSpecSchema.safeParse(raw);
        if (fast !== undefined) {
          accepted++;
          expect(slow.success).toBe(true);
          if (slow.success) expect(fast).toEqual(slow.data);
          expect(fast).not.toBe(raw);
          expect(Object.isFrozen(raw)).toBe(false);
        }
        expect(JSON.stringify(raw)).toBe(before);
        if (slow.success) expect(parseChildSpec(raw)).toEqual(slow.data);
      }),
      { numRuns: 3000, seed: 1311 },
    );
    expect(accepted).toBeGreaterThan(500); // both sides of the line are exercised
  });

  it("isRunValue (a live instance's run: value, checked without zod) accepts exactly what RunValueSchema accepts", () => {
    const verish = fc.oneof({ weight: 4, arbitrary: verArb }, { weight: 1, arbitrary: str }, { weight: 1, arbitrary: fc.integer() });
    const restarts = fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constant(1.5), fc.constant(2 ** 60), fc.constant('1'), fc.constant(null));
    const value = fc.oneof(
      fc.record({ rev: verish, restarts }, { requiredKeys: [] }),
      fc.record({ rev: verish, restarts, extra: fc.constant(1) }, { requiredKeys: ['extra'] }),
      fc.constantFrom(null, 1, 'x', [], [1]),
    );
    let accepted = 0;
    fc.assert(
      fc.property(value, (raw) => {
        const v = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = isRunValue(v);
        if (fast) accepted++;
        expect(fast).toBe(RunValueSchema.safeParse(v).success);
      }),
      { numRuns: 3000, seed: 1309 },
    );
    expect(accepted).toBeGreaterThan(100); // both sides of the line are exercised
  });

  it('fastChildRegister accepts only what ChildRegisterSchema accepts; decodeChild gives the same register either way', () => {
    const verish = fc.oneof({ weight: 6, arbitrary: verArb }, { weight: 1, arbitrary: str }, { weight: 1, arbitrary: fc.constant('0000000001.000001.-bad') });
    const entry = fc.record(
      {
        rev: verish,
        spec,
        pin: fc.option(fc.record({ node: fc.oneof(fc.constant(null), fc.constantFrom('n1', 'n2'), fc.constant('bad name')), ver: verish }), { nil: undefined }),
      },
      { requiredKeys: ['rev', 'spec'] },
    );
    const register = mutate(
      fc.record(
        {
          floor: fc.option(verish, { nil: undefined }),
          floorAt: fc.option(fc.oneof(fc.integer({ min: -1, max: 10 }), fc.constant(2 ** 53)), { nil: undefined }),
          collected: fc.option(verish, { nil: undefined }),
          specs: fc.array(entry, { maxLength: 3 }),
        },
        { requiredKeys: ['specs'] },
      ),
    );
    let accepted = 0;
    fc.assert(
      fc.property(register, (raw) => {
        const value = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = fastChildRegister(value);
        const slow = ChildRegisterSchema.safeParse(value);
        if (fast !== undefined) {
          accepted++;
          expect(slow.success).toBe(true);
        }
        if (slow.success) {
          const a = decodeChild('k', JSON.parse(JSON.stringify(value)) as unknown, NOW);
          const b = decodeChild('k', slow.data, NOW);
          expect(a).toEqual(b);
        }
      }),
      { numRuns: 3000, seed: 1308 },
    );
    expect(accepted).toBeGreaterThan(150);
  });

  it('a child register as it travels (wireChild) is decoded to the register it was, here and through the schema (a 2.7 node)', () => {
    fc.assert(
      fc.property(childArb, (r) => {
        const text = JSON.stringify(childKind.wire!(r));
        expect(text.length).toBeLessThan(JSON.stringify(r).length + 1);
        expect(decodeChild('k', JSON.parse(text), NOW)).toEqual({ ok: true, value: r });
        const zod = ChildRegisterSchema.safeParse(JSON.parse(text));
        expect(zod.success).toBe(true);
        if (zod.success) expect(childText(zod.data)).toBe(childText(r));
      }),
      { numRuns: 500, seed: 1314 },
    );
  });

  it('specText is canonicalJson for every spec', () => {
    fc.assert(
      fc.property(validSpec, (raw) => {
        const slow = ChildSpecSchema.safeParse(JSON.parse(JSON.stringify(raw)));
        if (!slow.success) return;
        expect(specText(slow.data)).toBe(canonicalJson(slow.data));
        expect(specText(deepFreeze(slow.data))).toBe(canonicalJson(slow.data));
      }),
      { numRuns: 2000, seed: 1309 },
    );
  });
});
