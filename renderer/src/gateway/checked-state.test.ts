/**
 * The state's members checked at the renderer's edge (checked-state.ts): a
 * member the UI protocol's schema refuses is left out, with its reason,
 * and the rest of the state or patch is as it came.
 */
import { describe, expect, it } from 'vitest';
import type { MemberView } from 'pogo-core/observer-state';
import { clusterOf, member } from '../test-cluster';
import { checkedPatch, checkedSnapshot } from './checked-state';

describe('checked state', () => {
  it('a snapshot keeps the members it can read; one without `silent` (a gateway of another release) is left out, with the reason', () => {
    const old = { ...member('b', { status: 'down' }) } as Partial<MemberView>;
    delete old.silent;
    const state = clusterOf([member('a'), old as MemberView], []);
    const reasons: string[][] = [];
    const checked = checkedSnapshot(state, (r) => reasons.push(r));
    expect(Object.keys(checked.members)).toEqual(Object.keys(state.members).filter((n) => n !== 'b'));
    expect(checked.members['a']).toEqual(state.members['a']);
    expect(reasons).toEqual([[expect.stringMatching(/^member b: silent: /)]]);
    expect(checked.children).toBe(state.children);
    // Nothing refused: the very same object.
    const fine = clusterOf([member('a')], []);
    expect(checkedSnapshot(fine, () => reasons.push(['unexpected']))).toBe(fine);
  });

  it('a patch keeps the member upserts it can read and its removals', () => {
    const reasons: string[] = [];
    const patch = checkedPatch(
      { members: { set: [member('a'), { ...member('b'), status: 'gone' } as unknown as MemberView], remove: ['c'] }, scalars: { paused: true } },
      (r) => reasons.push(...r),
    );
    expect(patch.members?.set?.map((m) => m.name)).toEqual(['a']);
    expect(patch.members?.remove).toEqual(['c']);
    expect(patch.scalars).toEqual({ paused: true });
    expect(reasons).toEqual([expect.stringMatching(/^member b: status: /)]);
  });

  it('noMemberSince is checked too: a time or null passes; anything else is refused with the reason, the snapshot then saying none and a patch leaving it out', () => {
    const reasons: string[] = [];
    const since = clusterOf([member('a')], [], { noMemberSince: 1_000 });
    expect(checkedSnapshot(since, (r) => reasons.push(...r))).toBe(since);
    const bad = clusterOf([member('a')], [], { noMemberSince: 'soon' as unknown as number });
    expect(checkedSnapshot(bad, (r) => reasons.push(...r)).noMemberSince).toBeNull();
    expect(reasons).toEqual([expect.stringMatching(/^noMemberSince: /)]);
    reasons.length = 0;
    expect(checkedPatch({ scalars: { noMemberSince: null, paused: true } }, (r) => reasons.push(...r)).scalars).toEqual({ noMemberSince: null, paused: true });
    expect(checkedPatch({ scalars: { noMemberSince: -5, paused: true } }, (r) => reasons.push(...r)).scalars).toEqual({ paused: true });
    expect(reasons).toEqual([expect.stringMatching(/^noMemberSince: /)]);
  });
});
