/**
 * The sweep plan (distributed/sweep-plan.ts) as pure functions: which
 * changes of placement's inputs may move only some ids, and which ids those
 * are. The property that makes a targeted sweep safe: every id whose owner
 * (placement.ts `owner`) differs after the change is among the ids swept.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { owner, type Candidate } from '../src/distributed/placement.js';
import type { SpecEntry } from '../src/distributed/registers.js';
import { changeOf, memberKeys, membersChanged, targetedIds, type MemberChange, type SweptFor, type TargetInput } from '../src/distributed/sweep-plan.js';
import { parseChildSpec } from '../src/supervisor/child-spec.js';
import { candidate } from './support/members.js';

const node = candidate;
const entry = (id: string, pin?: string, labels?: Record<string, string>): SpecEntry => ({
  rev: { c: 1, n: 'n1' } as unknown as SpecEntry['rev'],
  spec: parseChildSpec({ id, start: { worker: 'w' }, ...(labels ? { labels } : {}) }),
  ...(pin === undefined ? {} : { pin: { node: pin } as unknown as NonNullable<SpecEntry['pin']> }),
});
const swept = (members: Candidate[], over: Partial<SweptFor> = {}): SweptFor => ({
  members: memberKeys(members),
  mayRun: true,
  mayStart: true,
  paused: false,
  ...over,
});
const ownerOf = (e: SpecEntry, candidates: readonly Candidate[]) =>
  owner({ id: e.spec.id, spec: e.spec, candidates, pin: e.pin?.node, failures: new Map(), maxStartFailures: 3 });

/** The target input for `entries` placed under `before`, this node `self`, holding `instances`. */
function targets(entries: SpecEntry[], before: Candidate[], after: Candidate[], self = 'a', instances: string[] = [], unviewed: string[] = []): TargetInput {
  const known = new Map(entries.map((e) => [e.spec.id, { view: { owner: ownerOf(e, before), live: e } }] as const));
  return {
    self,
    candidates: after,
    known,
    unviewed: () => unviewed,
    instances,
    ownerOf: (id) => known.get(id)?.view.owner,
  };
}

describe('sweep plan: memberKeys', () => {
  it('keys only the members that can be placed on: up, ready, not draining, not observers', () => {
    const keys = memberKeys([
      node('a'),
      node('b', { up: false }),
      node('c', { ready: false }),
      node('d', { draining: true }),
      node('e', { role: 'observer' }),
      node('f', { capacity: 2 }),
    ]);
    expect([...keys.keys()]).toEqual(['a', 'f']);
    expect(keys.get('f')).not.toBe(memberKeys([node('f')]).get('f'));
  });
});

describe('sweep plan: membersChanged and changeOf', () => {
  const abc = [node('a'), node('b'), node('c')];

  it('says who was lost and gained when every member in both is unchanged', () => {
    expect(membersChanged(memberKeys(abc), memberKeys(abc))).toEqual({ lost: new Set(), gained: new Set() });
    expect(membersChanged(memberKeys(abc), memberKeys([node('a'), node('b'), node('d')]))).toEqual({
      lost: new Set(['c']),
      gained: new Set(['d']),
    });
  });

  it('gives up (any id may move) when a member in both changed what placement reads of it', () => {
    expect(membersChanged(memberKeys(abc), memberKeys([node('a'), node('b', { labels: { zone: 'x' } }), node('c')]))).toBeUndefined();
    expect(membersChanged(memberKeys(abc), memberKeys([node('a', { capacity: 3 }), node('b'), node('c')]))).toBeUndefined();
  });

  it('asks for a full sweep when asked to, with no previous sweep, or when the lease or the pause flag turned', () => {
    const before = swept(abc);
    expect(changeOf(undefined, before, false)).toBeUndefined();
    expect(changeOf(before, swept(abc), true)).toBeUndefined();
    expect(changeOf(before, swept(abc, { mayRun: false }), false)).toBeUndefined();
    expect(changeOf(before, swept(abc, { paused: true }), false)).toBeUndefined();
    expect(changeOf(before, swept(abc), false)).toEqual({ lost: new Set(), gained: new Set(), gate: false });
  });

  it('race "paused, a member joins or goes": every id is looked at (where children would resume changed)', () => {
    const paused = swept(abc, { paused: true });
    expect(changeOf(paused, swept([node('a'), node('b')], { paused: true }), false)).toBeUndefined();
    expect(changeOf(paused, swept([...abc, node('d')], { paused: true }), false)).toBeUndefined();
    expect(changeOf(paused, swept(abc, { paused: true }), false)).toEqual({ lost: new Set(), gained: new Set(), gate: false });
  });

  it("notes this node's start gate turning as a change of its own", () => {
    expect(changeOf(swept(abc, { mayStart: false }), swept(abc), false)).toEqual({ lost: new Set(), gained: new Set(), gate: true });
  });
});

describe('sweep plan: targetedIds', () => {
  const entries = Array.from({ length: 300 }, (_, i) => entry(`child-${i}`));

  it('race "a member died": exactly the ids the lost member owned', () => {
    const before = [node('a'), node('b'), node('c')];
    const after = [node('a'), node('b')];
    const change: MemberChange = { lost: new Set(['c']), gained: new Set(), gate: false };
    const ids = targetedIds(change, targets(entries, before, after));
    const owned = entries.filter((e) => ownerOf(e, before) === 'c').map((e) => e.spec.id);
    expect(ids.sort()).toEqual(owned.sort());
    expect(owned.length).toBeGreaterThan(50);
  });

  it('race "a node restarted into a loaded cluster": about 1/N of the ids, those it outscores the owner on, and every id with no view yet', () => {
    const before = [node('a'), node('b'), node('c')];
    const after = [...before, node('d')];
    const change: MemberChange = { lost: new Set(), gained: new Set(['d']), gate: false };
    const ids = targetedIds(change, targets(entries, before, after, 'a', [], ['new-1', 'new-2']));
    const moving = entries.filter((e) => ownerOf(e, after) === 'd').map((e) => e.spec.id);
    expect(ids.sort()).toEqual([...moving, 'new-1', 'new-2'].sort());
    expect(moving.length).toBeGreaterThan(40);
    expect(moving.length).toBeLessThan(110);
  });

  it('a child pinned to the gained member is swept; one pinned to its running owner is not, whatever the scores', () => {
    const before = [node('a'), node('b')];
    const after = [...before, node('d')];
    const change: MemberChange = { lost: new Set(), gained: new Set(['d']), gate: false };
    const pinned = [entry('to-d', 'd'), ...entries.slice(0, 100).map((e) => entry(e.spec.id, 'a'))];
    const ids = targetedIds(change, targets(pinned, before, after));
    expect(ids).toEqual(['to-d']);
  });

  it("a gained member a child's labels rule out takes nothing of it", () => {
    const before = [node('a')];
    const after = [node('a'), node('d', { labels: { zone: 'east' } })];
    const west = entries.slice(0, 50).map((e) => entry(e.spec.id, undefined, { zone: 'west' }));
    const change: MemberChange = { lost: new Set(), gained: new Set(['d']), gate: false };
    expect(targetedIds(change, targets(west, before, after))).toEqual([]);
  });

  it("the start gate turning: this node's own ids, and its instances of ids others own", () => {
    const abc = [node('a'), node('b'), node('c')];
    const change: MemberChange = { lost: new Set(), gained: new Set(), gate: true };
    const input = targets(entries, abc, abc, 'a', ['child-held-elsewhere', ...entries.filter((e) => ownerOf(e, abc) === 'a').map((e) => e.spec.id)]);
    const ids = targetedIds(change, input);
    const mine = entries.filter((e) => ownerOf(e, abc) === 'a').map((e) => e.spec.id);
    expect(new Set(ids)).toEqual(new Set([...mine, 'child-held-elsewhere']));
  });

  it('property: every id whose owner differs after a change of members is swept (a targeted sweep misses no move)', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const memberArb = fc.record({
      capacity: fc.constantFrom(1, 2, 3),
      zone: fc.constantFrom(undefined, 'east', 'west'),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...names), memberArb, { minKeys: 1 }),
        fc.subarray(names),
        fc.subarray(names),
        fc.uniqueArray(
          fc.record({ i: fc.nat(10_000), pin: fc.option(fc.constantFrom(...names), { nil: undefined }), zone: fc.constantFrom(undefined, 'east') }),
          { maxLength: 60, selector: (c) => c.i },
        ),
        (settings, drop, add, children) => {
          const build = (name: string) => {
            const s = settings[name] ?? { capacity: 1, zone: undefined };
            return node(name, { capacity: s.capacity, labels: s.zone ? { zone: s.zone } : {} });
          };
          const before = Object.keys(settings).map(build);
          const after = [...before.filter((c) => !drop.includes(c.name)), ...add.filter((n) => !(n in settings)).map(build)];
          const change = changeOf(swept(before), swept(after), false);
          if (change === undefined) return; // a full sweep: nothing to prove
          const es = children.map((c) => entry(`c${c.i}`, c.pin, c.zone ? { zone: c.zone } : undefined));
          const ids = new Set(targetedIds(change, targets(es, before, after)));
          for (const e of es) if (ownerOf(e, before) !== ownerOf(e, after)) expect(ids.has(e.spec.id)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
