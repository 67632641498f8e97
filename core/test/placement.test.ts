/**
 * Placement (distributed/placement.ts) as a pure function: rendezvous
 * hashing spreads children evenly and in proportion to capacity, moves only
 * about 1/N when a node joins or leaves, breaks ties by name, honours pins
 * while the pinned node is eligible, and filters by role, readiness, drains,
 * worker types, commands, labels and failed starts; `owner` (the hot path)
 * always agrees with `place`; the pause rule keeps a running child where it
 * is unless a pin or drain says otherwise.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Hash53, hash53 } from '../src/hash.js';
import {
  anyEligible,
  exclusions,
  gainMayMove,
  hrwPrefix,
  hrwScore,
  hrwScoreFrom,
  isExcluded,
  joiningOwner,
  owner,
  place,
  placeChild,
  type Candidate,
  type PlacementInput,
} from '../src/distributed/placement.js';
import { parseChildSpec, type ChildSpec } from '../src/supervisor/child-spec.js';
import { candidate } from './support/members.js';

const node = candidate;
const spec = (id: string, over: Record<string, unknown> = {}): ChildSpec => parseChildSpec({ id, start: { worker: 'w' }, ...over });
const input = (id: string, candidates: Candidate[], over: Partial<PlacementInput> = {}): PlacementInput => ({
  id,
  spec: spec(id),
  candidates,
  pin: undefined,
  failures: new Map(),
  maxStartFailures: 3,
  ...over,
});
const ids = (n: number) => Array.from({ length: n }, (_, i) => `child-${i}`);

describe('placement: rendezvous hashing', () => {
  it('spreads children evenly over equal nodes (each within 10% of its share)', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'].map((n) => node(n));
    const counts = new Map<string, number>();
    for (const id of ids(20_000)) {
      const o = owner(input(id, nodes))!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    for (const n of nodes) expect(Math.abs(counts.get(n.name)! - 4_000)).toBeLessThan(400);
  });

  it('in proportion to capacity (weighted HRW)', () => {
    const nodes = [node('small', { capacity: 1 }), node('big', { capacity: 3 })];
    let big = 0;
    for (const id of ids(20_000)) if (owner(input(id, nodes)) === 'big') big++;
    expect(big / 20_000).toBeGreaterThan(0.72);
    expect(big / 20_000).toBeLessThan(0.78);
  });

  it('a node joining takes about 1/N and moves nothing between the others; a node leaving gives up only its own', () => {
    const four = ['a', 'b', 'c', 'd'].map((n) => node(n));
    const five = [...four, node('e')];
    let moved = 0;
    for (const id of ids(10_000)) {
      const before = owner(input(id, four));
      const after = owner(input(id, five));
      if (before !== after) {
        moved++;
        expect(after).toBe('e');
      }
    }
    expect(moved / 10_000).toBeGreaterThan(0.18);
    expect(moved / 10_000).toBeLessThan(0.22);
    for (const id of ids(2_000)) {
      const before = owner(input(id, five));
      const after = owner(input(id, four));
      if (before !== 'e') expect(after).toBe(before);
    }
  });

  it('is a pure function of its inputs: every node computes the same owner, whatever the order of candidates', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e', 'f'], { minLength: 1 }), (id, names) => {
        const nodes = names.map((n) => node(n));
        const reversed = [...nodes].reverse();
        expect(owner(input(id, nodes))).toBe(owner(input(id, reversed)));
        expect(place(input(id, nodes)).owner).toBe(owner(input(id, nodes)));
      }),
      { numRuns: 500, seed: 1401 },
    );
  });

  it('lists eligible candidates by score, then the excluded ones by name (explain shows this order)', () => {
    const p = place(input('x', [node('z', { up: false }), node('b'), node('y', { up: false }), node('a')]));
    expect(p.verdicts.slice(2).map((v) => v.node)).toEqual(['y', 'z']);
    expect(p.verdicts[0]!.score!).toBeGreaterThan(p.verdicts[1]!.score!);
    expect(p.owner).toBe(p.verdicts[0]!.node);
  });
});

describe('placement: filters, pins, failures', () => {
  it('excludes observers, nodes that are down, not ready or draining, and says why', () => {
    const candidates = [
      node('obs', { role: 'observer' }),
      node('down', { up: false }),
      node('new', { ready: false }),
      node('leaving', { draining: true }),
      node('ok'),
    ];
    const p = place(input('x', candidates));
    expect(p.owner).toBe('ok');
    const why = Object.fromEntries(p.verdicts.map((v) => [v.node, v.excludedBy]));
    expect(why).toEqual({ ok: [], obs: ['observer'], down: ['not up'], new: ['not ready'], leaving: ['draining'] });
    expect(place(input('x', candidates.slice(0, 4)))).toMatchObject({ owner: undefined, by: 'none' });
  });

  it('a worker type, an allowed command and every label the spec asks for', () => {
    const cmd = parseChildSpec({ id: 'c', start: { command: '/bin/job' }, labels: { region: 'eu', disk: 'ssd' } });
    const candidates = [
      node('no-cmd', { labels: { region: 'eu', disk: 'ssd' } }),
      node('no-label', { commands: ['/bin/job'], labels: { region: 'eu' } }),
      node('fit', { commands: ['/bin/job'], labels: { region: 'eu', disk: 'ssd', extra: 'x' } }),
    ];
    expect(place({ ...input('c', candidates), spec: cmd }).owner).toBe('fit');
    expect(exclusions(candidates[0]!, cmd, 0, 3)).toEqual(['command /bin/job not allowed']);
    expect(exclusions(candidates[1]!, cmd, 0, 3)).toEqual(['label disk=ssd missing']);
    expect(exclusions(node('x', { workers: [] }), spec('s'), 0, 3)).toEqual(['no worker type w']);
  });

  it('a node where the child failed to start maxStartFailures times is skipped: the next in HRW order takes over', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    const first = owner(input('x', nodes))!;
    const second = place(input('x', nodes)).verdicts[1]!.node;
    expect(owner(input('x', nodes, { failures: new Map([[first, 2]]) }))).toBe(first);
    expect(owner(input('x', nodes, { failures: new Map([[first, 3]]) }))).toBe(second);
  });

  it('a pin wins while the pinned node is eligible; otherwise hashing decides', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    const hashed = owner(input('x', nodes))!;
    const other = nodes.find((n) => n.name !== hashed)!.name;
    expect(place(input('x', nodes, { pin: other }))).toMatchObject({ owner: other, by: 'pin' });
    expect(owner(input('x', nodes, { pin: other }))).toBe(other);
    const drained = nodes.map((n) => (n.name === other ? { ...n, draining: true } : n));
    expect(place(input('x', drained, { pin: other }))).toMatchObject({ owner: hashed, by: 'hash' });
    expect(owner(input('x', drained, { pin: other }))).toBe(hashed);
    expect(place(input('x', nodes, { pin: 'gone' }))).toMatchObject({ owner: hashed, by: 'hash' });
  });

  // Candidates and specs that differ in everything placement reads: role, state, labels (some named like
  // Object.prototype's keys), worker types, commands, capacity; weighted so that most candidates are
  // eligible and pins and hashing decide often, not only the exclusions.
  const often = <T>(usual: T, rare: T) => fc.constantFrom(usual, usual, usual, rare);
  const labelsArb = fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('zone', 'disk', 'constructor', 'toString'), fc.constantFrom('a', 'b'), { maxKeys: 2 }) },
  );
  const names = ['a', 'b', 'n10', 'node-é'];
  const candidatesArb = fc.uniqueArray(
    fc.record({
      name: fc.constantFrom(...names),
      role: often<'member' | 'observer'>('member', 'observer'),
      up: often(true, false),
      ready: often(true, false),
      draining: often(false, true),
      labels: labelsArb,
      workers: often(['w', 'v'], ['v']),
      commands: often(['/bin/true'], []),
      capacity: fc.constantFrom(1, 2, 5),
    }),
    { selector: (c) => c.name, maxLength: 4 },
  );
  const specArb = fc.record({
    id: fc.string({ minLength: 1, maxLength: 12 }),
    start: fc.oneof(
      { weight: 3, arbitrary: fc.record({ worker: fc.constantFrom('w', 'v') }) },
      { weight: 1, arbitrary: fc.record({ command: fc.constantFrom('/bin/true', 'sleep'), args: fc.constant([]) }) },
    ),
    labels: labelsArb,
  });

  it('owner (the hot path) always agrees with place', () => {
    fc.assert(
      fc.property(candidatesArb, specArb, fc.option(fc.constantFrom(...names), { nil: undefined }), fc.nat(4), fc.nat(4), (cs, raw, pin, fails, max) => {
        const s = parseChildSpec(raw);
        const i = input(
          s.id,
          cs.map((c) => node(c.name, c)),
          { spec: s, pin, failures: new Map([['a', fails]]), maxStartFailures: max },
        );
        const p = place(i);
        expect(owner(i)).toBe(p.owner);
        if (p.by === 'pin') expect(p.owner).toBe(pin);
      }),
      { numRuns: 1000, seed: 1402 },
    );
  });

  it("the hot path's shortcuts give the same answers: isExcluded is exclusions without the reasons, anyEligible is place's owner or none, an id hashed once scores as hrwScore", () => {
    fc.assert(
      fc.property(candidatesArb, specArb, fc.nat(4), fc.nat(4), (cs, raw, fails, max) => {
        const s = parseChildSpec(raw);
        const candidates = cs.map((c) => node(c.name, c));
        for (const c of candidates) expect(isExcluded(c, s, fails, max)).toBe(exclusions(c, s, fails, max).length > 0);
        // startChild's check: any eligible node at all (no failures counted) is place's answer without the verdicts.
        expect(anyEligible(s, candidates, max)).toBe(
          place({ id: s.id, spec: s, candidates, pin: undefined, failures: new Map(), maxStartFailures: max }).owner !== undefined,
        );
        const prefix = hrwPrefix(s.id);
        for (const c of candidates) expect(hrwScoreFrom(prefix, c.name, c.capacity)).toBe(hrwScore(s.id, c.name, c.capacity));
      }),
      { numRuns: 1000, seed: 2026 },
    );
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40 }), { maxLength: 4 }), fc.string({ maxLength: 12 }), (parts, b) => {
        const h = new Hash53();
        for (const p of parts) h.add(p);
        expect(h.finish(b)).toBe(hash53(parts.join('') + b));
        expect(h.finish()).toBe(hash53(parts.join('')));
      }),
      { numRuns: 2000, seed: 53 },
    );
  });
});

describe('placement: the pause rule', () => {
  it('paused, a child running once on a node that could run it stays there; a pin or a drain still moves it', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    const hashed = owner(input('x', nodes))!;
    const elsewhere = nodes.find((n) => n.name !== hashed)!.name;
    const runners = [{ node: elsewhere }];
    expect(placeChild(input('x', nodes), runners, false).owner).toBe(hashed);
    expect(placeChild(input('x', nodes), runners, true)).toEqual({ owner: elsewhere, by: 'hash', resumeTo: hashed });
    expect(placeChild(input('x', nodes, { pin: hashed }), runners, true)).toEqual({ owner: hashed, by: 'pin', resumeTo: hashed });
    const drained = nodes.map((n) => (n.name === elsewhere ? { ...n, draining: true } : n));
    expect(placeChild(input('x', drained), runners, true).owner).toBe(hashed);
    // Two instances (a heal): the pause keeps nothing, placement decides.
    expect(placeChild(input('x', nodes), [{ node: elsewhere }, { node: hashed }], true).owner).toBe(hashed);
  });

  it('resumeTo: while paused, where the child goes once rebalancing resumes — the unpaused placement; nothing when not paused or nowhere to go', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.subarray(['a', 'b', 'c'], { maxLength: 2 }),
        fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
        (id, running, pin) => {
          const runners = running.map((n) => ({ node: n }));
          const paused = placeChild(input(id, nodes, { pin }), runners, true);
          expect(paused.resumeTo).toBe(placeChild(input(id, nodes, { pin }), runners, false).owner);
          expect(placeChild(input(id, nodes, { pin }), runners, false).resumeTo).toBeUndefined();
          // It differs from the owner only when the pause rule kept the child where it runs.
          if (paused.resumeTo !== paused.owner) expect(runners.map((r) => r.node)).toEqual([paused.owner]);
        },
      ),
      { seed: 77, numRuns: 300 },
    );
    const nowhere = nodes.map((n) => ({ ...n, draining: true }));
    expect(placeChild(input('x', nowhere), [{ node: 'a' }], true)).toEqual({ owner: undefined, by: 'none' });
  });
});

describe('placement: the owner a joining member would be (joiningOwner)', () => {
  const ready = ['a', 'b'].map((n) => node(n));
  const joiningC = node('c', { ready: false });
  const asReady = node('c');
  it('names the joining member exactly for the ids it would own once ready, and nothing for the others', () => {
    let named = 0;
    for (const id of ids(3000)) {
      const once = owner(input(id, [...ready, asReady]));
      const found = joiningOwner(input(id, [...ready, joiningC]), [asReady]);
      expect(found).toBe(once === 'c' ? 'c' : undefined);
      if (found) named++;
    }
    expect(named / 3000).toBeGreaterThan(0.25);
    expect(named / 3000).toBeLessThan(0.42);
  });

  it('a member not yet among the candidates counts too; none joining, none named', () => {
    for (const id of ids(300)) expect(joiningOwner(input(id, ready), [asReady])).toBe(owner(input(id, [...ready, asReady])) === 'c' ? 'c' : undefined);
    expect(joiningOwner(input('x', [...ready, joiningC]), [])).toBeUndefined();
  });

  it('pins, labels, workers and start failures count as for any owner', () => {
    const id = ids(100).find((i) => owner(input(i, [...ready, asReady])) !== 'c')!;
    expect(joiningOwner(input(id, [...ready, joiningC], { pin: 'c' }), [asReady])).toBe('c');
    const mine = ids(100).find((i) => owner(input(i, [...ready, asReady])) === 'c')!;
    expect(joiningOwner(input(mine, [...ready, joiningC], { pin: 'a' }), [asReady])).toBeUndefined();
    expect(joiningOwner({ ...input(mine, [...ready, joiningC]), spec: spec(mine, { labels: { zone: 'east' } }) }, [asReady])).toBeUndefined();
    expect(joiningOwner(input(mine, [...ready, joiningC]), [node('c', { workers: [] })])).toBeUndefined();
    expect(joiningOwner(input(mine, [...ready, joiningC], { failures: new Map([['c', 3]]) }), [asReady])).toBeUndefined();
  });
});

describe('placement: what a newcomer can take (gainMayMove)', () => {
  const before = ['a', 'b', 'c'].map((n) => node(n));
  it('a newcomer takes about 1/N of the ids, and gainMayMove names each of them and few others', () => {
    const d = node('d');
    let moved = 0;
    let named = 0;
    for (const id of ids(4000)) {
      const was = owner(input(id, before))!;
      const now = owner(input(id, [...before, d]));
      const may = gainMayMove({ id, spec: spec(id), pin: undefined, current: before.find((c) => c.name === was) }, [d]);
      if (now !== was) {
        moved++;
        expect(may).toBe(true);
      }
      if (may) named++;
    }
    expect(moved / 4000).toBeGreaterThan(0.2);
    expect(moved / 4000).toBeLessThan(0.3);
    expect(named).toBe(moved); // without start failures or pins, exact
  });

  it('a pin to the newcomer, no owner before, a newcomer that cannot run it, a pin that holds', () => {
    const d = node('d');
    const was = before.find((c) => c.name === owner(input('x', before)))!;
    expect(gainMayMove({ id: 'x', spec: spec('x'), pin: 'd', current: was }, [d])).toBe(true);
    expect(gainMayMove({ id: 'x', spec: spec('x'), pin: undefined, current: undefined }, [d])).toBe(true);
    expect(gainMayMove({ id: 'x', spec: spec('x'), pin: 'd', current: was }, [node('d', { workers: [] })])).toBe(false);
    const labelled = spec('x', { labels: { zone: 'east' } });
    expect(gainMayMove({ id: 'x', spec: labelled, pin: undefined, current: undefined }, [d])).toBe(false);
    for (const id of ids(200)) expect(gainMayMove({ id, spec: spec(id), pin: 'a', current: before[0] }, [d])).toBe(false);
  });

  it('when it says no, placement with the newcomers gives the same owner (property)', () => {
    const candidateArb = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      draining: fc.boolean(),
      capacity: fc.constantFrom(1, 2, 5),
      zone: fc.constantFrom('east', 'west'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(candidateArb, { selector: (c) => c.name, maxLength: 5 }),
        fc.nat(5),
        fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: undefined }),
        fc.option(fc.constantFrom('east', 'west'), { nil: undefined }),
        fc.record({ node: fc.constantFrom('a', 'b', 'c', 'd', 'e'), count: fc.nat(4) }),
        fc.string({ minLength: 1, maxLength: 10 }),
        (cs, split, pin, zone, fail, id) => {
          const all = cs.map((c) => node(c.name, { draining: c.draining, capacity: c.capacity, labels: { zone: c.zone } }));
          const old = all.slice(0, split);
          const gained = all.slice(split).filter((c) => !c.draining);
          const s = spec(id, zone ? { labels: { zone } } : {});
          const failures = new Map([[fail.node, fail.count]]);
          const was = owner({ ...input(id, old, { pin, failures }), spec: s });
          const now = owner({ ...input(id, [...old, ...gained], { pin, failures }), spec: s });
          const may = gainMayMove({ id, spec: s, pin, current: old.find((c) => c.name === was) }, gained);
          if (!may) expect(now).toBe(was);
        },
      ),
      { numRuns: 3000, seed: 1403 },
    );
  });
});
