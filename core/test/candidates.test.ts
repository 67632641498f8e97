/**
 * The members as placement sees them (distributed/candidates.ts), as pure
 * functions: who is up (race "link up before its groups"), who will be
 * ready soon (race "a start during a whole-cluster restart"), who is
 * joining and until when, and whose start gate is closed.
 */
import { describe, expect, it } from 'vitest';
import {
  NO_TRACK,
  awayButCounted,
  candidatesOf,
  causeStateOf,
  cutOffMembers,
  cutOffWhy,
  fencedMembers,
  gatedMembers,
  joiningMembers,
  linkedNames,
  onceReadyCandidates,
  trackNotReady,
  type CandidateInput,
} from '../src/distributed/candidates.js';
import type { Member } from '../src/membership.js';
import { memberEntry } from './support/members.js';

const member = (name: string, status: Member['status'] = 'up', over: Partial<Member> = {}): Member =>
  memberEntry(name, status, { workers: ['w'], ready: true, ...over });

const input = (members: Member[], over: Partial<CandidateInput> = {}): CandidateInput => ({
  self: 'n1',
  linked: linkedNames(members),
  announced: () => true,
  wasUp: new Set(),
  presence: new Map(),
  selfReady: true,
  drains: new Set(),
  ...over,
});
const byName = (members: Member[]) => new Map(members.map((m) => [m.name, m]));
const upOf = (members: Member[], over: Partial<CandidateInput> = {}) =>
  Object.fromEntries(candidatesOf(members, input(members, over)).candidates.map((c) => [c.name, c.up]));

describe('candidates: who is up', () => {
  it('leaves out members that left; keeps labels, workers, commands, capacity and drains', () => {
    const members = [member('n1'), member('n2', 'up', { capacity: 2, labels: { zone: 'a' }, commands: ['/bin/x'] }), member('n3', 'left')];
    const { candidates, up } = candidatesOf(members, input(members, { drains: new Set(['n2']) }));
    expect(candidates.map((c) => c.name)).toEqual(['n1', 'n2']);
    expect(candidates[1]).toEqual({
      name: 'n2',
      role: 'member',
      up: true,
      ready: true,
      draining: true,
      labels: { zone: 'a' },
      workers: ['w'],
      commands: ['/bin/x'],
      capacity: 2,
    });
    expect(up).toEqual(new Set(['n1/i1', 'n2/i1']));
  });

  it('race "link up before its groups": a linked peer is up only once its snapshot arrived, or if it counted up before', () => {
    const members = [member('n1'), member('n2'), member('n3')];
    expect(upOf(members, { announced: (p) => p !== 'n3' })).toEqual({ n1: true, n2: true, n3: false });
    expect(upOf(members, { announced: (p) => p !== 'n3', wasUp: new Set(['n3/i1']) })).toEqual({ n1: true, n2: true, n3: true });
    // A new incarnation does not inherit the old one's standing.
    expect(upOf([member('n1'), member('n3', 'up', { incarnation: 'i2' })], { announced: () => false, wasUp: new Set(['n3/i1']) })).toEqual({
      n1: true,
      n3: false,
    });
  });

  it('a member not linked is up while the netsplit policy counts it present; an observer only while linked; this node always', () => {
    const members = [member('n1', 'down'), member('n2', 'down'), member('n3', 'down'), member('obs', 'down', { role: 'observer' })];
    expect(upOf(members, { presence: new Map([['n2', true]]) })).toEqual({ n1: true, n2: true, n3: false, obs: false });
  });

  it('this node is ready as it says; the others as their metadata says', () => {
    const members = [member('n1'), member('n2', 'up', { ready: false })];
    const { candidates } = candidatesOf(members, input(members, { selfReady: false }));
    expect(candidates.map((c) => c.ready)).toEqual([false, false]);
  });
});

describe("candidates: cut off (an observer's view)", () => {
  const unheard = (...reporters: string[]) => reporters.map((reporter) => ({ reporter, since: 0 }));

  it('a member this node reaches that more than half of the other members it reaches cannot hear', () => {
    const members = [member('n1', 'up'), member('n2', 'up'), member('n3', 'up', { unheardBy: unheard('n1', 'n2') }), member('obs', 'up', { role: 'observer' })];
    expect(cutOffMembers(members)).toEqual(new Set(['n3']));
    // One of two: a partial partition, not cut off (the members' majority still hears it).
    expect(cutOffMembers([member('n1'), member('n2'), member('n3', 'up', { unheardBy: unheard('n1') })])).toEqual(new Set());
    // Reports of members this node does not reach, or of itself, do not count.
    expect(cutOffMembers([member('n1'), member('n2', 'down'), member('n3', 'up', { unheardBy: unheard('n2', 'n3') })])).toEqual(new Set());
    // A member this node does not reach is not "cut off" here: the netsplit policy says whether it is present.
    expect(cutOffMembers([member('n1'), member('n2'), member('n3', 'down', { unheardBy: unheard('n1', 'n2') })])).toEqual(new Set());
  });

  it('race "an observer that lost one of the majority fences the other": a member away from here that the others still hear counts', () => {
    // The observer lost n1 (n2 still hears it); n3 is cut off from n1 and n2.
    const members = [
      member('n1', 'down', { unheardBy: unheard('n3') }),
      member('n2', 'up', { unheardBy: unheard('n3') }),
      member('n3', 'up', { unheardBy: unheard('n2') }),
      member('obs', 'up', { role: 'observer' }),
    ];
    expect(awayButCounted(members)).toEqual(new Set(['n1']));
    // Of the two it reaches, each says it cannot hear the other; with n1 counted, n2's word on n3 is one of two, but n3
    // also says it cannot hear n1: n3 is cut off, n2 is not (race "two rules for one cut-off": the board used to count
    // the reports against n3 alone and had it up, while the timeline had "n3 down (cut off)").
    expect(cutOffMembers(members)).toEqual(new Set(['n2', 'n3']));
    expect(cutOffMembers(members, awayButCounted(members))).toEqual(new Set(['n3']));
    // A member the members reached report lost too (more than half of them) is down for the cluster: not counted; one
    // that left never is.
    expect(awayButCounted([member('n1', 'down', { unheardBy: unheard('n2', 'n3') }), member('n2'), member('n3')])).toEqual(new Set());
    expect(awayButCounted([member('n1', 'left'), member('n2'), member('n3')])).toEqual(new Set());
  });

  it('race "an observer that reaches only the minority": of the members the cluster counts, when given, not only of those reached', () => {
    // Linked to n3, and to n1 a moment longer than to n2; n3 cut off from both says it cannot hear n1.
    const members = [member('n1', 'up', { unheardBy: unheard('n3') }), member('n2', 'down'), member('n3', 'up', { unheardBy: unheard('n1') })];
    // Of those reached, n3's word is one of one (and n1's of n3 one of one).
    expect(cutOffMembers(members)).toEqual(new Set(['n1', 'n3']));
    // n2 unreachable from here, not judged down, still counts: one of two, neither is cut off.
    expect(cutOffMembers(members, new Set(['n2']))).toEqual(new Set());
    // The observer reaching all three, n3 cut off: the same either way.
    const all = [
      member('n1', 'up', { unheardBy: unheard('n3') }),
      member('n2', 'up', { unheardBy: unheard('n3') }),
      member('n3', 'up', { unheardBy: unheard('n1', 'n2') }),
    ];
    expect(cutOffMembers(all, new Set())).toEqual(new Set(['n3']));
    expect(cutOffMembers(all, new Set(['n1', 'n2', 'n3']))).toEqual(new Set(['n3']));
  });

  it('of the cut-off members, those in majority mode are fenced: their instances are not counted (in available mode they really run)', () => {
    const members = [
      member('n1', 'suspect', { netsplit: { mode: 'majority', expectedMembers: 3 } }),
      member('n2', 'up', { netsplit: { mode: 'available' } }),
      member('n3', 'up', { netsplit: { mode: 'majority', expectedMembers: 3 } }),
      member('n4', 'up'),
    ];
    expect(fencedMembers(members, new Set(['n1', 'n2', 'n4']))).toEqual(new Set(['n1']));
  });

  it('a cut-off member is not up for placement, though linked', () => {
    const members = [member('n1'), member('n2'), member('n3')];
    expect(upOf(members, { self: 'obs', cutOff: new Set(['n3']) })).toEqual({ n1: true, n2: true, n3: false });
  });

  it('says why a member is not up as what this node knows, never "down" for a member it only cannot reach', () => {
    // Race "an unreachable member read as dead" (candidates.ts): n2 unlinked, n3 cut off, n4 linked before its groups.
    const members = [member('n1'), member('n2', 'down'), member('n3'), member('n4'), member('n5', 'down')];
    const { candidates } = candidatesOf(members, input(members, { cutOff: new Set(['n3']), announced: (p) => p !== 'n4', presence: new Map([['n5', true]]) }));
    const words = Object.fromEntries(candidates.map((c) => [c.name, c.up ? 'up' : c.notUp]));
    expect(words).toEqual({
      n1: 'up',
      n2: 'no link from n1 (down, or cut off from n1)',
      n3: 'cut off: the other members cannot hear it',
      n4: 'linked, its groups not arrived yet',
      n5: 'up', // unlinked, but the netsplit policy still counts it present
    });
    // An observer says so of itself, not by its generated name (the re-check: "no link from observer-vm-22852").
    const seen = [...members, member('obs-7', 'up', { role: 'observer' })];
    const fromObserver = candidatesOf(seen, input(seen, { self: 'obs-7' })).candidates.find((c) => c.name === 'n2');
    expect(fromObserver?.notUp).toBe('no link from this observer (down, or cut off from it)');
  });
});

describe('cutOffWhy: the one rule of who is cut off (the board, placement and the timeline read it)', () => {
  const u = (...reporters: string[]) => reporters.map((reporter) => ({ reporter, since: 0 }));
  it('race "one report of two": the observer lost n1; n2 cannot hear n3 and n3 cannot hear n1: n3 is cut off, naming whom it cannot hear', () => {
    const members = [member('n1', 'down', { unheardBy: u('n3') }), member('n2', 'up', { unheardBy: u('n3') }), member('n3', 'up', { unheardBy: u('n2') })];
    expect(cutOffWhy(members, new Set(['n1']))).toEqual(new Map([['n3', { hearsNot: ['n1'] }]]));
  });
  it("a member's own word alone is no verdict (an observer that reaches only the minority); one report of two is none either", () => {
    // Linked to n3 alone: it cannot hear n1 and n2.
    const alone = [member('n1', 'down', { unheardBy: u('n3') }), member('n2', 'down', { unheardBy: u('n3') }), member('n3')];
    expect(cutOffWhy(alone, new Set(['n1', 'n2']))).toEqual(new Map());
    // n2 cannot hear n3; n1 (lost here) says nothing, and n3 does not say it cannot hear n1.
    const one = [member('n1', 'down'), member('n2', 'up', { unheardBy: u('n3') }), member('n3', 'up', { unheardBy: u('n2') })];
    expect(cutOffWhy(one, new Set(['n1']))).toEqual(new Map());
  });
  it('race "the copies before the cut-off": reaching all three, n3 says it cannot hear n1 and n2 before their reports come: cut off', () => {
    const members = [member('n1', 'up', { unheardBy: u('n3') }), member('n2', 'up', { unheardBy: u('n3') }), member('n3')];
    expect(cutOffWhy(members, new Set())).toEqual(new Map([['n3', { hearsNot: ['n1', 'n2'] }]]));
    // Only one of them named: one of two.
    expect(cutOffWhy([member('n1', 'up', { unheardBy: u('n3') }), member('n2'), member('n3')], new Set())).toEqual(new Map());
  });
  it('a partial partition (n1 and n2 cannot hear each other, n3 hears both): neither is cut off', () => {
    const members = [member('n1', 'up', { unheardBy: u('n2') }), member('n2', 'up', { unheardBy: u('n1') }), member('n3')];
    expect(cutOffWhy(members, new Set())).toEqual(new Map());
  });
  it('the majority is not cut off by the side it lost', () => {
    const members = [member('n1', 'down', { unheardBy: u('n3') }), member('n2', 'up', { unheardBy: u('n3') }), member('n3', 'up', { unheardBy: u('n2') })];
    expect(cutOffWhy(members, new Set(['n1'])).has('n2')).toBe(false);
  });
});

describe("causeStateOf: a member's state for the reason of a move off it", () => {
  const unheard = (...reporters: string[]) => reporters.map((reporter) => ({ reporter, since: 0 }));
  /** As an observer's reconciler reads it: the one cut-off rule, of the members the cluster counts. */
  const observed = (members: Member[], name: string) => {
    const away = awayButCounted(members);
    return causeStateOf(
      members.find((m) => m.name === name),
      'obs',
      { cutOff: cutOffMembers(members, away), away },
    );
  };

  it('race "a heal told as a failure": at the heal, one stale report from the member coming back does not make a member down', () => {
    // The observer reaches all; n1 and n2 hear n3 again, n3 still says it cannot hear n1 for a moment.
    const members = [member('n1', 'up', { unheardBy: unheard('n3') }), member('n2'), member('n3'), member('obs', 'up', { role: 'observer' })];
    expect(observed(members, 'n1')).toBe('up');
    expect(observed(members, 'n3')).toBe('up');
  });

  it('a member only this observer lost (the others still hear it) is not down; one the members lost too is', () => {
    const lostHere = [member('n1', 'down'), member('n2'), member('n3'), member('obs', 'up', { role: 'observer' })];
    expect(observed(lostHere, 'n1')).toBe('up');
    const lostByAll = [member('n1', 'down', { unheardBy: unheard('n2', 'n3') }), member('n2'), member('n3')];
    expect(observed(lostByAll, 'n1')).toBe('down');
  });

  it('race "a takeover told as a join": n3 cut off while the observer had lost n1 (one report of two, and its own word) is down', () => {
    const members = [
      member('n1', 'down', { unheardBy: unheard('n3') }),
      member('n2', 'up', { unheardBy: unheard('n3') }),
      member('n3', 'up', { unheardBy: unheard('n2') }),
      member('obs', 'up', { role: 'observer' }),
    ];
    expect(observed(members, 'n3')).toBe('down');
    expect(observed(members, 'n2')).toBe('up');
    // n1, lost here, is counted by the cluster (n2 still hears it): not down.
    expect(observed(members, 'n1')).toBe('up');
  });

  it('race "a crash told as a join": a member unreachable from here that the member taking its child cannot hear either is down', () => {
    // n3 killed: n1 says so first, n2 a moment later; one report of two, but n1 is the one taking the child.
    const members = [member('n1'), member('n2'), member('n3', 'down', { unheardBy: unheard('n1') }), member('obs', 'up', { role: 'observer' })];
    const away = awayButCounted(members);
    const view = (to: string) => ({ cutOff: cutOffMembers(members, away), away, to });
    expect(causeStateOf(members[2], 'obs', view('n1'))).toBe('down');
    expect(causeStateOf(members[2], 'obs', view('n2'))).toBe('up');
    // At a heal, the member taking the child back still saying it cannot hear a member this observer hears: no word.
    const healing = [member('n1', 'up', { unheardBy: unheard('n3') }), member('n2'), member('n3')];
    const none = new Set<string>();
    expect(causeStateOf(healing[0], 'obs', { cutOff: none, away: none, to: 'n3' })).toBe('up');
  });

  it("a member's own table decides for a member; left, gone and leaving are what they are", () => {
    expect(causeStateOf(member('n2', 'down'), 'n1')).toBe('down');
    expect(causeStateOf(member('n2', 'up', { unheardBy: unheard('n3') }), 'n1')).toBe('up');
    expect(causeStateOf(undefined, 'n1')).toBe('left');
    expect(causeStateOf(member('n2', 'left'), 'n1', { cutOff: new Set(), away: new Set(['n2']) })).toBe('left');
    expect(causeStateOf(member('n2', 'up', { ready: false }), 'n1')).toBe('leaving');
    expect(causeStateOf(member('n1', 'up', { ready: false }), 'n1')).toBe('up');
  });
});

describe('candidates: gated members', () => {
  it('lists the ready members other than this node that announced a closed start gate; silence is never waited for', () => {
    const members = [
      member('n1', 'up', { startable: false }),
      member('n2', 'up', { startable: false }),
      member('n3', 'up', { startable: true }),
      member('n4'),
      member('n5', 'up', { startable: false, ready: false }),
      member('obs', 'up', { role: 'observer', startable: false }),
    ];
    expect(gatedMembers(members, 'n1')).toEqual(new Set(['n2']));
  });
});

describe('candidates: joining members', () => {
  const linked = (members: Member[]) => linkedNames(members);

  it('tracks since when a linked member has never been ready, and forgets incarnations membership no longer lists', () => {
    const a = [member('n1'), member('n2', 'up', { ready: false }), member('n3', 'down', { ready: false })];
    const t1 = trackNotReady(NO_TRACK, a, 'n1', linked(a), 100);
    expect([...t1.notReadySince]).toEqual([['n2/i1', 100]]);
    const t2 = trackNotReady(t1, a, 'n1', linked(a), 250);
    expect(t2.notReadySince.get('n2/i1')).toBe(100);
    const b = [member('n1'), member('n2')];
    const t3 = trackNotReady(t2, b, 'n1', linked(b), 300);
    expect([...t3.everReady]).toEqual(['n2/i1']);
    expect(t3.notReadySince.size).toBe(0);
    // Once ready, never joining again in this incarnation (not ready later means leaving).
    const c = [member('n1'), member('n2', 'up', { ready: false })];
    expect(trackNotReady(t3, c, 'n1', linked(c), 400).notReadySince.size).toBe(0);
    // A restart is a new incarnation: joining again.
    const d = [member('n1'), member('n2', 'up', { ready: false, incarnation: 'i2' })];
    const t4 = trackNotReady(t3, d, 'n1', linked(d), 500);
    expect([...t4.everReady]).toEqual([]);
    expect([...t4.notReadySince]).toEqual([['n2/i2', 500]]);
  });

  it('race "a start during a whole-cluster restart": members coming up count as ready once ready; the same array when none is', () => {
    const members = [member('n1'), member('n2', 'up', { ready: false }), member('n3')];
    const track = trackNotReady(NO_TRACK, members, 'n1', linked(members), 0);
    const { candidates } = candidatesOf(members, input(members, { selfReady: false }));
    const once = onceReadyCandidates(candidates, byName(members), track, 'n1', true);
    expect(once.map((c) => [c.name, c.ready])).toEqual([
      ['n1', true],
      ['n2', true],
      ['n3', true],
    ]);
    expect(onceReadyCandidates(candidates, byName(members), track, 'n1', false).map((c) => c.ready)).toEqual([false, true, true]);
    const ready = [member('n1'), member('n2')];
    const readyCandidates = candidatesOf(ready, input(ready)).candidates;
    expect(onceReadyCandidates(readyCandidates, byName(ready), NO_TRACK, 'n1', false)).toBe(readyCandidates);
  });

  it('within the ready timeout of this node becoming ready, a member linked and never ready joins, each for the timeout from when first seen', () => {
    const members = [member('n1'), member('n2', 'up', { ready: false }), member('n3', 'up', { ready: false })];
    let track = trackNotReady(NO_TRACK, members, 'n1', linked(members), 1_000);
    track = { ...track, notReadySince: new Map([...track.notReadySince, ['n3/i1', 2_000]]) };
    const { candidates } = candidatesOf(members, input(members));
    const at = (now: number, over: Partial<{ readyAt: number; active: boolean }> = {}) =>
      joiningMembers(candidates, byName(members), track, { now, readyAt: 1_500, readyTimeoutMs: 5_000, active: true, ...over });
    const first = at(1_600);
    expect(first.joining.map((c) => [c.name, c.up, c.ready])).toEqual([
      ['n2', true, true],
      ['n3', true, true],
    ]);
    expect(first.next).toBe(6_000); // n2's own bound (1,000 + 5,000) comes before this node's window ends (6,500)
    expect(at(6_100).joining.map((c) => c.name)).toEqual(['n3']);
    expect(at(6_100).next).toBe(6_500); // this node's window ends before n3's bound (7,000)
    expect(at(6_500)).toEqual({ joining: [], next: Infinity });
    expect(at(1_600, { active: false })).toEqual({ joining: [], next: Infinity });
    expect(at(1_600, { readyAt: -Infinity })).toEqual({ joining: [], next: Infinity });
  });

  it('a draining member is never waited for', () => {
    const members = [member('n1'), member('n2', 'up', { ready: false })];
    const track = trackNotReady(NO_TRACK, members, 'n1', linked(members), 0);
    const { candidates } = candidatesOf(members, input(members, { drains: new Set(['n2']) }));
    expect(joiningMembers(candidates, byName(members), track, { now: 10, readyAt: 0, readyTimeoutMs: 5_000, active: true }).joining).toEqual([]);
  });
});
