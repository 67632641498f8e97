import { beforeEach, describe, expect, it } from 'vitest';
import { diffState } from 'pogo-core/observer-state';
import { child, clusterOf, failing, member } from '../test-cluster';
import {
  attentionItems,
  attentionKind,
  clusterNetsplit,
  clusterWarnings,
  cutOffMembers,
  nextDeadline,
  NOT_READY_GRACE_MS,
  notReadyWarnings,
  silentMembers,
  silentText,
  SLOW_MS,
  sinceFromPatch,
  sinceFromSnapshot,
  waitWords,
} from './attention';
import { resetStore, useStore } from './index';

const nodes = [member('a'), member('b')];
const moving = (id: string) => child(id, { status: 'moving', node: 'a', owner: 'b' });
const pending = (id: string) => child(id, { status: 'pending', node: null, pid: null, instances: [], owner: 'b' });
const duplicate = (id: string, handoff: 'stop-first' | 'start-first' = 'stop-first') =>
  child(id, {
    status: 'duplicate',
    handoff,
    instances: [
      { node: 'a', pid: 'a/x/1' },
      { node: 'b', pid: 'b/x/1' },
    ],
  });
const unplaceable = (id: string) => child(id, { status: 'unplaceable', node: null, pid: null, instances: [], owner: null });

describe('attention: since when a child is in its status', () => {
  it('a snapshot keeps the time of a status that did not change and starts a changed or new one now; running children are not kept', () => {
    const first = sinceFromSnapshot({}, clusterOf(nodes, [moving('m'), failing('f'), child('r')]), 1_000);
    expect(first).toEqual({ m: { status: 'moving', at: 1_000 }, f: { status: 'failing', at: 1_000 } });
    const again = sinceFromSnapshot(first, clusterOf(nodes, [moving('m'), pending('f'), unplaceable('u')]), 5_000);
    expect(again).toEqual({ m: { status: 'moving', at: 1_000 }, f: { status: 'pending', at: 5_000 }, u: { status: 'unplaceable', at: 5_000 } });
  });

  it('a patch looks only at its own children, and returns the same map when nothing changed', () => {
    const before = clusterOf(nodes, [moving('m'), child('r'), failing('f')]);
    const since = sinceFromSnapshot({}, before, 1_000);
    const after = clusterOf(nodes, [child('m', { node: 'b', owner: 'b' }), moving('r')]);
    expect(sinceFromPatch(since, diffState(before, after)!, 2_000)).toEqual({ r: { status: 'moving', at: 2_000 } });
    const restartOnly = diffState(before, clusterOf(nodes, [moving('m'), child('r', { restarts: 1 }), failing('f')]))!;
    expect(sinceFromPatch(since, restartOnly, 2_000)).toBe(since);
    // The same status set again (another field changed) keeps its time.
    const sameStatus = diffState(before, clusterOf(nodes, [{ ...moving('m'), restarts: 2 }, child('r'), failing('f')]))!;
    expect(sinceFromPatch(since, sameStatus, 9_000).m).toEqual({ status: 'moving', at: 1_000 });
  });
});

describe('attention: which children need it', () => {
  it('failing and unplaceable at once; stop-first duplicates at once, start-first ones after SLOW_MS; moving and pending after SLOW_MS', () => {
    expect(attentionKind(failing('f'), 0, 0)).toBe('failing');
    expect(attentionKind(unplaceable('u'), 0, 0)).toBe('unplaceable');
    expect(attentionKind(duplicate('d'), 0, 0)).toBe('duplicate');
    expect(attentionKind(duplicate('d', 'start-first'), 0, SLOW_MS)).toBeNull();
    expect(attentionKind(duplicate('d', 'start-first'), 0, SLOW_MS + 1)).toBe('duplicate');
    expect(attentionKind(moving('m'), 0, SLOW_MS)).toBeNull();
    expect(attentionKind(moving('m'), 0, SLOW_MS + 1)).toBe('slow');
    expect(attentionKind(pending('p'), 0, SLOW_MS + 1)).toBe('slow');
    expect(attentionKind(child('r'), 0, 10 * SLOW_MS)).toBeNull();
  });

  it('lists failing first, then duplicate, unplaceable, slow, the longest-standing first within a kind; and knows when to look again', () => {
    const cluster = clusterOf(nodes, [unplaceable('u'), moving('m1'), moving('m2'), failing('f2'), failing('f1'), duplicate('d'), child('r')]);
    const since = { ...sinceFromSnapshot({}, cluster, 0), m2: { status: 'moving', at: 5_000 }, f2: { status: 'failing', at: 100 } };
    const at = (now: number) => attentionItems(cluster.children, since, now).map((i) => `${i.kind}:${i.child.id}`);
    expect(at(1_000)).toEqual(['failing:f1', 'failing:f2', 'duplicate:d', 'unplaceable:u']);
    expect(nextDeadline(cluster.children, since, 1_000)).toBe(SLOW_MS + 1);
    expect(at(SLOW_MS + 1)).toEqual(['failing:f1', 'failing:f2', 'duplicate:d', 'unplaceable:u', 'slow:m1']);
    expect(nextDeadline(cluster.children, since, SLOW_MS + 1)).toBe(5_000 + SLOW_MS + 1);
    expect(at(5_000 + SLOW_MS + 1)).toContain('slow:m2');
    expect(nextDeadline(cluster.children, since, 5_000 + SLOW_MS + 1)).toBeNull();
  });

  it('ignores a time kept for a status the child no longer has (the patch that changed it not yet tracked)', () => {
    const cluster = clusterOf(nodes, [child('m')]);
    expect(attentionItems(cluster.children, { m: { status: 'moving', at: 0 } }, SLOW_MS * 2)).toEqual([]);
    expect(attentionItems(null, {}, 0)).toEqual([]);
  });
});

describe('attention: members that may still run', () => {
  it('a member down after it went silent, by name; not one that died, left, is up, or an observer', () => {
    const members = clusterOf(
      [
        member('z', { status: 'down', silent: true }),
        member('b', { status: 'down', silent: true }),
        member('c', { status: 'down', silent: false }),
        member('d', { status: 'left' }),
        member('e', { status: 'unreachable' }),
        member('o', { role: 'observer', status: 'down', silent: true }),
      ],
      [],
    ).members;
    expect(silentMembers(members).map((m) => m.name)).toEqual(['b', 'z']);
    expect(silentMembers(undefined)).toEqual([]);
  });
});

describe('attention: members this observer cannot reach', () => {
  it('says so, and when it reaches no more members than it lost, that they may be the other side of a split', () => {
    const [w] = clusterWarnings({ n1: member('n1', { status: 'unreachable' }), n2: member('n2', { status: 'unreachable' }), n3: member('n3') }, null);
    expect(w).toMatchObject({ kind: 'partial-view', tag: '2 nodes not reachable from here' });
    expect(w!.text).toMatch(/^This observer cannot reach n1, n2, and the members have not declared them down/);
    expect(w!.text).toContain('the members it reaches may be the minority side of a split while the others run on; moves are not offered meanwhile.');
    const [one] = clusterWarnings({ n1: member('n1', { status: 'unreachable' }), n2: member('n2'), n3: member('n3') }, null);
    expect(one!.text).toContain('The members it reaches still hear them, or cannot say.');
  });

  it('a child unverified (as last seen, where the observer cannot see) is not "moving too long"', () => {
    const now = 100_000;
    expect(attentionKind(child('c', { status: 'pending', node: null, unverified: true }), 0, now)).toBeNull();
    expect(attentionKind(child('c', { status: 'pending', node: null }), 0, now)).toBe('slow');
  });
});

describe('attention: a member cut off from the others', () => {
  it('a member the observer reaches that the others cannot hear is said, as cut off or partly; a member down or unreachable is not', () => {
    const members = { a: member('a'), b: member('b'), c: member('c', { unheardBy: ['a', 'b'] }) };
    const [w] = clusterWarnings(members, null);
    expect(w).toMatchObject({ kind: 'cut-off', tag: 'c cut off' });
    expect(w!.text).toMatch(/^a, b cannot hear c, though this observer still does: the other members count it down and run its children elsewhere/);
    expect(clusterWarnings({ ...members, c: member('c', { unheardBy: ['a'] }) }, null).map((x) => x.tag)).toEqual(['c partly cut off']);
    expect(clusterWarnings({ ...members, c: member('c', { status: 'unreachable', unheardBy: ['a', 'b'] }) }, null).map((x) => x.kind)).toEqual([
      'partial-view',
    ]);
    expect(cutOffMembers(members).map((m) => m.name)).toEqual(['c']);
  });

  it('a member this observer has not heard lately either is not said to be heard here (a frozen one, before this observer times it out)', () => {
    const members = { a: member('a'), b: member('b'), c: member('c', { status: 'suspect', unheardBy: ['a', 'b'] }) };
    const [w] = clusterWarnings(members, null);
    expect(w!.text).toMatch(/^a, b cannot hear c, and this observer has not heard it lately either \(frozen, overloaded or cut off\): /);
    expect(w!.text).not.toContain('still does');
    // Up still (not suspect yet), its link quiet: the same.
    const [q] = clusterWarnings({ ...members, c: member('c', { quiet: true, unheardBy: ['a', 'b'] }) }, null);
    expect(q!.text).toContain('and this observer has not heard it lately either');
  });
});

describe('attention: a member that cannot save its desired state', () => {
  it('each member up or unreachable that announces a failing save is said, with since when and why; one down or left is not', () => {
    const saveFailing = { since: new Date(2026, 11, 6, 4, 5, 6).getTime(), error: 'ENOSPC: no space left on device, write' };
    const members = {
      a: member('a', { saveFailing }),
      b: member('b'),
      c: member('c', { status: 'unreachable', saveFailing }),
      d: member('d', { status: 'down', saveFailing }),
    };
    const failing = clusterWarnings(members, null).filter((w) => w.kind === 'save-failing');
    expect(failing.map((w) => w.tag)).toEqual(['a cannot save', 'c cannot save']);
    expect(failing[0]!.text).toBe(
      'a cannot save its desired state to its data dir since 04:05:06 (ENOSPC: no space left on device, write). Its commands still work and ' +
        'the other members hold the state, but a restart of every member now would lose what changed since: free space on its disk or fix ' +
        'its data dir (it retries every second).',
    );
    expect(clusterWarnings({ a: member('a'), b: member('b') }, null)).toEqual([]);
  });
});

describe('attention: what a silent or cut-off member means, by netsplit mode', () => {
  const majority = { mode: 'majority' as const, expectedMembers: 3 };
  const available = { mode: 'available' as const };
  it('the mode is the one every member announces; none (older members) or two different ones give none', () => {
    expect(clusterNetsplit({ a: member('a', { netsplit: majority }), b: member('b', { netsplit: majority }), c: member('c') })).toBe('majority');
    expect(clusterNetsplit({ a: member('a', { netsplit: available }), b: member('b', { netsplit: available }) })).toBe('available');
    expect(clusterNetsplit({ a: member('a', { netsplit: majority }), b: member('b', { netsplit: available }) })).toBeUndefined();
    expect(clusterNetsplit({ a: member('a'), b: member('b') })).toBeUndefined();
  });

  it('a silent member in majority mode stopped its children by its lease if cut off; in the other modes they may run twice', () => {
    expect(silentText('majority')).toMatch(/cut off rather than dead, it stopped its children by its own lease before the others started them again/);
    expect(silentText('majority')).not.toMatch(/may be running twice/);
    expect(silentText('available')).toMatch(/its children may be running twice/);
    expect(silentText(undefined)).toBe(silentText('available'));
  });

  it('a member cut off: majority mode says the others wait for its lease, available mode that both sides run its children', () => {
    const cut = (netsplit: typeof majority | typeof available) => ({
      a: member('a', { netsplit }),
      b: member('b', { netsplit }),
      c: member('c', { netsplit, unheardBy: ['a', 'b'] }),
    });
    expect(clusterWarnings(cut(majority), null)[0]!.text).toMatch(/elsewhere once its lease has run out, after it has stopped them \(majority mode\)/);
    expect(clusterWarnings(cut(available), null)[0]!.text).toMatch(/elsewhere while it runs them too: each runs twice until they hear it again/);
  });
});

describe('attention: the whole cluster', () => {
  it('every node draining is said (no child has an eligible node); a node not draining, or one down, changes that; no member reachable comes first', () => {
    const all = { a: member('a', { draining: true }), b: member('b', { draining: true }), c: member('c', { status: 'down', draining: false }) };
    expect(clusterWarnings(all, null).map((w) => w.kind)).toEqual(['all-draining']);
    expect(clusterWarnings(all, null)[0]!.text).toMatch(/^Every node is draining \(a, b\): no child has an eligible node\./);
    expect(clusterWarnings({ ...all, d: member('d') }, null)).toEqual([]);
    expect(clusterWarnings({}, null)).toEqual([]);
    const since = new Date(2026, 0, 2, 9, 27, 20).getTime();
    expect(clusterWarnings({ a: member('a', { status: 'unreachable' }) }, since).map((w) => w.kind)).toEqual(['no-member']);
    expect(clusterWarnings({}, since)[0]!.text).toContain('since 09:27:20');
  });
});

describe('attention slice, fed by the cluster slice', () => {
  let clock = 1_000;
  beforeEach(() => {
    resetStore();
    clock = 1_000;
    useStore.setState({ now: () => clock });
  });

  it('tracks statuses from the snapshot and from each patch', () => {
    const first = clusterOf(nodes, [child('x'), child('y')]);
    useStore.getState().applySnapshot(first);
    expect(useStore.getState().since).toEqual({});
    clock = 4_000;
    const second = clusterOf(nodes, [moving('x'), child('y')]);
    useStore.getState().applyPatch(diffState(first, second)!);
    expect(useStore.getState().since).toEqual({ x: { status: 'moving', at: 4_000 } });
    clock = 4_000 + SLOW_MS + 1;
    expect(attentionItems(useStore.getState().cluster?.children, useStore.getState().since, clock).map((i) => i.child.id)).toEqual(['x']);
  });
});

describe('attention: members not ready while children wait behind them', () => {
  // The outsider's tour: n1 and n2 restarted from their data dirs (majority mode) wait for n3, blackholed and known
  // only to their saved rosters; every child is pending.
  const waits = { notLinked: ['n3'], roster: ['n3'], notSynced: [], joined: true, leased: true, until: new Date(2026, 11, 6, 17, 5, 0).getTime() };
  const members = [member('n1', { ready: false, waitsFor: waits }), member('n2', { ready: false, waitsFor: waits })];
  const wait = (id: string) => child(id, { status: 'pending', node: null, pid: null, instances: [], owner: null });
  const children = Object.fromEntries(['w1', 'w2', 'w3'].map((id) => [id, wait(id)]));
  const since: Record<string, { status: string; at: number }> = Object.fromEntries(['w1', 'w2', 'w3'].map((id) => [id, { status: 'pending', at: 1_000 }]));
  const state = clusterOf(members, Object.values(children));

  it('names the members, what they wait for, how many children are pending behind them, and what to do about a member no one reaches', () => {
    expect(notReadyWarnings(state.members, children, since, 1_000 + NOT_READY_GRACE_MS)).toEqual([
      {
        kind: 'not-ready',
        tag: 'n1, n2 not ready',
        text:
          'n1, n2 take no children: each waits for n3 (in its saved roster, not heard of since it restarted). 3 children are pending behind them ' +
          '(not started anywhere). At 17:05:00 (--ready-timeout-ms, their clock) they take children without it. n3 is reached by no member here: ' +
          'if it is gone for good, pogo ctl forget n3 ends the wait; otherwise look at the network to it.',
      },
    ]);
    // The lane says it first, before the children that wait too long.
    expect(clusterWarnings(state.members, null)).toEqual([]);
  });

  it('says nothing within the grace (a normal start), nor when no child waits behind them, nor for children placed on a ready member', () => {
    expect(notReadyWarnings(state.members, children, since, 1_000 + NOT_READY_GRACE_MS - 1)).toEqual([]);
    expect(notReadyWarnings(state.members, {}, since, 60_000)).toEqual([]);
    const joiner = clusterOf([member('n1'), member('n2', { ready: false, waitsFor: { ...waits, notLinked: [], roster: [], notSynced: ['n1'] } })], []);
    expect(notReadyWarnings(joiner.members, { w1: { ...wait('w1'), owner: 'n1' } }, since, 60_000)).toEqual([]);
    const [w] = notReadyWarnings(joiner.members, { w1: { ...wait('w1'), owner: 'n2' } }, since, 60_000);
    expect(w?.text).toBe(
      'n2 takes no children: it waits for the state of n1 (linked, not synced yet). 1 child is pending behind it (not started anywhere). ' +
        'At 17:05:00 (--ready-timeout-ms, its clock) it takes children without it.',
    );
  });

  it('a member that announces nothing (before protocol 2.7) is still named, and says so; majority and seeds in words', () => {
    const old = clusterOf([member('n1', { ready: false })], []);
    expect(notReadyWarnings(old.members, children, since, 60_000)[0]?.text).toBe(
      'n1 takes no children: not ready, and it does not say what for (members before protocol 2.7 announce none; pogo ctl explain on it says). ' +
        '3 children are pending behind it (not started anywhere).',
    );
    expect(waitWords({ notLinked: [], roster: [], notSynced: [], joined: false, leased: false })).toBe(
      'a first link to any of its seeds; a majority of the expected members (majority mode)',
    );
  });
});

describe('attention: members not ready, grouped', () => {
  it('members restarted together (deadlines ms apart, the same second) are one entry; different waits are two, each naming all behind whom children wait', () => {
    const at = new Date(2026, 11, 6, 17, 5, 0).getTime();
    const w = { notLinked: ['n3'], roster: [], notSynced: [], joined: true, leased: true };
    const pendingChild = child('p', { status: 'pending', node: null, pid: null, instances: [], owner: null });
    const since = { p: { status: 'pending', at: 0 } };
    const together = clusterOf(
      [member('n1', { ready: false, waitsFor: { ...w, until: at + 3 } }), member('n2', { ready: false, waitsFor: { ...w, until: at + 9 } })],
      [],
    );
    expect(notReadyWarnings(together.members, { p: pendingChild }, since, 60_000).map((x) => x.tag)).toEqual(['n1, n2 not ready']);
    // Restarted across a second's boundary (the namespace run): still one entry, going on by the later deadline.
    const straddle = clusterOf(
      [member('n1', { ready: false, waitsFor: { ...w, until: at - 2 } }), member('n2', { ready: false, waitsFor: { ...w, until: at + 5 } })],
      [],
    );
    const [one, ...more] = notReadyWarnings(straddle.members, { p: pendingChild }, since, 60_000);
    expect(more).toEqual([]);
    expect(one?.tag).toBe('n1, n2 not ready');
    expect(one?.text).toContain('By 17:05:00 (--ready-timeout-ms, their clock) they take children without it.');
    const apart = clusterOf(
      [member('n1', { ready: false, waitsFor: { ...w, until: at } }), member('n2', { ready: false, waitsFor: { ...w, notLinked: ['n4'], until: at } })],
      [],
    );
    const warnings = notReadyWarnings(apart.members, { p: pendingChild }, since, 60_000);
    expect(warnings.map((x) => x.tag)).toEqual(['n1 not ready', 'n2 not ready']);
    expect(warnings[0]?.text).toContain('1 child is pending behind n1, n2 (not started anywhere)');
  });
});
