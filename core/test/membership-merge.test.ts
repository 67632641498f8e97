import { describe, expect, it } from 'vitest';
import { mergeMember, type Member } from '../src/membership.js';
import type { MemberInfo } from '../src/protocol.js';

const base: MemberInfo = {
  name: 'n2',
  incarnation: 'aaaaaaaaaaaaaaaa',
  startedAt: 1000,
  address: '10.0.0.2:4370',
  role: 'member',
  labels: {},
  workers: [],
  version: 1,
  status: 'up',
};
const local = (over: Partial<Member> = {}): Member => ({ ...base, since: 0, reason: 'test', ...over });
const ctx = { selfName: 'n1', linkedIncarnation: undefined, now: 50 };

describe('mergeMember (member table merge rules)', () => {
  it('ignores entries about this node itself', () => {
    expect(mergeMember(undefined, { ...base, name: 'n1' }, ctx)).toEqual({ action: 'ignore' });
  });

  it('adds an unknown member as down, to be dialled', () => {
    const out = mergeMember(undefined, base, ctx);
    expect(out).toMatchObject({ action: 'add', member: { name: 'n2', status: 'down', since: 50 } });
  });

  it('adds an unknown member that left as a left tombstone', () => {
    expect(mergeMember(undefined, { ...base, status: 'left' }, ctx)).toMatchObject({ action: 'add', member: { status: 'left' } });
  });

  it('takes metadata only from a higher version of the same incarnation', () => {
    const held = local({ labels: { a: '1' }, version: 2, status: 'up' });
    expect(mergeMember(held, { ...base, labels: { a: '0' }, version: 1 }, ctx)).toEqual({ action: 'ignore' });
    expect(mergeMember(held, { ...base, labels: { a: '0' }, version: 2 }, ctx)).toEqual({ action: 'ignore' });
    const out = mergeMember(held, { ...base, labels: { a: '3' }, version: 3 }, ctx);
    expect(out).toMatchObject({ action: 'update', member: { labels: { a: '3' }, version: 3, status: 'up' } });
  });

  it('never lets gossip change the status of a linked member, except by our own link', () => {
    const held = local({ status: 'up' });
    expect(mergeMember(held, { ...base, status: 'down' }, ctx)).toEqual({ action: 'ignore' });
    expect(mergeMember(held, { ...base, status: 'left' }, { ...ctx, linkedIncarnation: base.incarnation })).toEqual({ action: 'ignore' });
  });

  it('takes a gossiped leave when not linked to that incarnation', () => {
    expect(mergeMember(local({ status: 'down' }), { ...base, status: 'left' }, ctx)).toMatchObject({ action: 'update', member: { status: 'left' } });
  });

  it('replaces an older incarnation with a newer one', () => {
    const out = mergeMember(local({ status: 'down' }), { ...base, incarnation: 'bbbbbbbbbbbbbbbb', startedAt: 2000 }, ctx);
    expect(out).toMatchObject({ action: 'replace', member: { incarnation: 'bbbbbbbbbbbbbbbb', status: 'down' } });
  });

  it('ignores an older incarnation', () => {
    expect(mergeMember(local({ startedAt: 2000 }), { ...base, incarnation: 'bbbbbbbbbbbbbbbb', startedAt: 1500 }, ctx)).toEqual({ action: 'ignore' });
  });

  it('breaks equal start times by incarnation, deterministically', () => {
    const a = local({ incarnation: 'aaaaaaaaaaaaaaaa' });
    const b: MemberInfo = { ...base, incarnation: 'bbbbbbbbbbbbbbbb' };
    expect(mergeMember(a, b, ctx).action).toBe('replace');
    expect(mergeMember(local({ incarnation: 'bbbbbbbbbbbbbbbb' }), { ...base, incarnation: 'aaaaaaaaaaaaaaaa' }, ctx).action).toBe('ignore');
  });

  it('keeps a linked incarnation even when gossip names a newer one', () => {
    const out = mergeMember(
      local({ status: 'up' }),
      { ...base, incarnation: 'bbbbbbbbbbbbbbbb', startedAt: 9000 },
      { ...ctx, linkedIncarnation: base.incarnation },
    );
    expect(out).toEqual({ action: 'ignore' });
  });
});
