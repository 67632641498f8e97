/**
 * Readiness (distributed/readiness.ts) as a pure function: ready once every
 * member this node knows of (membership and the roster) is linked and
 * synced, or by the timeout; each race its header names, without a
 * network.
 */
import { describe, expect, it } from 'vitest';
import { notReadyWords, readiness, readinessGaps, waitsFor, type ReadinessInput } from '../src/distributed/readiness.js';
import type { Member } from '../src/membership.js';
import { memberEntry } from './support/members.js';

const member = (name: string, status: Member['status'] = 'up', over: Partial<Member> = {}): Member =>
  memberEntry(name, status, { incarnation: 'aaaaaaaa', ...over });

/** n1's view: itself, n2 and n3 linked and synced, in the roster, seeds given, available mode. */
const input = (over: Partial<ReadinessInput> = {}): ReadinessInput => ({
  self: 'n1',
  members: [member('n1'), member('n2'), member('n3')],
  roster: new Map([
    ['n1', true],
    ['n2', true],
    ['n3', true],
  ]),
  isMember: true,
  observer: false,
  hasSeeds: true,
  dialFailed: () => false,
  synced: () => true,
  restoredState: false,
  leased: true,
  timedOut: false,
  refusals: () => [],
  unresolvedSeeds: () => [],
  ...over,
});

describe('readiness', () => {
  it('is ready when every member it knows of is linked and synced (a suspect one still counts as linked)', () => {
    expect(readiness(input())).toEqual({ verdict: 'ready' });
    expect(readiness(input({ members: [member('n1'), member('n2', 'suspect'), member('n3')] }))).toEqual({ verdict: 'ready' });
  });

  it('waits for a member not linked, or linked and not synced yet', () => {
    expect(readiness(input({ members: [member('n1'), member('n2'), member('n3', 'down')] }))).toEqual({ verdict: 'waiting' });
    expect(readiness(input({ synced: (peer) => peer !== 'n2' }))).toEqual({ verdict: 'waiting' });
  });

  it('does not wait for a member that left, nor for observers', () => {
    const members = [member('n1'), member('n2'), member('n3', 'left'), member('obs', 'down', { role: 'observer' })];
    expect(readiness(input({ members, roster: new Map([['n2', true]]) }))).toEqual({ verdict: 'ready' });
  });

  it('race "seeds not reached yet": with seeds and no link, nothing is complete; without seeds a lone node is ready', () => {
    const alone = { members: [member('n1')], roster: new Map<string, boolean>() };
    expect(readiness(input({ ...alone }))).toEqual({ verdict: 'waiting' });
    expect(readiness(input({ ...alone, hasSeeds: false }))).toEqual({ verdict: 'ready' });
  });

  it('race "a dead member gossiped to an observer": an observer passes over a member it failed to dial; a member waits for it', () => {
    const members = [member('n1', 'up', { role: 'observer' }), member('n2'), member('n3', 'down')];
    const dialFailed = (address: string) => address.startsWith('n3.');
    expect(readiness(input({ self: 'n1', members, isMember: false, observer: true, dialFailed }))).toEqual({ verdict: 'ready' });
    // One it has not tried yet holds it back, as it does a member.
    expect(readiness(input({ self: 'n1', members, isMember: false, observer: true }))).toEqual({ verdict: 'waiting' });
    expect(readiness(input({ members: [member('n1'), member('n2'), member('n3', 'down')], dialFailed }))).toEqual({ verdict: 'waiting' });
  });

  it('race "two nodes restarted together, each linked only to a third": a roster member membership does not know is waited for', () => {
    const members = [member('n1'), member('n2')];
    expect(readiness(input({ members }))).toEqual({ verdict: 'waiting' });
    // Forgotten (false in the roster): no longer waited for.
    expect(
      readiness(
        input({
          members,
          roster: new Map([
            ['n2', true],
            ['n3', false],
          ]),
        }),
      ),
    ).toEqual({ verdict: 'ready' });
    // An observer holds no roster of its own to wait for.
    expect(readiness(input({ members, isMember: false, observer: true }))).toEqual({ verdict: 'ready' });
  });

  it('race "a left member\'s word from a third party": with restored state, a roster member known only as left is waited for', () => {
    const members = [member('n1'), member('n2'), member('n3', 'left')];
    expect(readiness(input({ members }))).toEqual({ verdict: 'ready' });
    expect(readiness(input({ members, restoredState: true }))).toEqual({ verdict: 'waiting' });
  });

  it('race "majority mode, ready before its lease": a member waits for its lease; an observer has none to wait for', () => {
    expect(readiness(input({ leased: false }))).toEqual({ verdict: 'waiting' });
    expect(readiness(input({ leased: false, isMember: false, observer: true }))).toEqual({ verdict: 'ready' });
  });

  it('is ready by the timeout, naming the members it has not linked and the roster members it does not know', () => {
    const members = [member('n1'), member('n2', 'down'), member('n4')];
    expect(readiness(input({ members, timedOut: true }))).toEqual({ verdict: 'ready-by-timeout', notLinked: ['n2', 'n3'], notSynced: [], roster: ['n3'] });
  });

  it('by the timeout, roster members known to no one are not linked either: notLinked names them (it said [] after a lone restart)', () => {
    // A whole-cluster restart: n1 came back alone, its roster from disk, its peers unreachable and never gossiped.
    const lone = input({ members: [member('n1')], hasSeeds: false, restoredState: true, timedOut: true });
    expect(readiness(lone)).toEqual({ verdict: 'ready-by-timeout', notLinked: ['n2', 'n3'], notSynced: [], roster: ['n2', 'n3'] });
    // Linked but not synced is said too.
    const unsynced = input({ members: [member('n1'), member('n2'), member('n3', 'down')], synced: (p) => p !== 'n2', timedOut: true });
    expect(readiness(unsynced)).toEqual({ verdict: 'ready-by-timeout', notLinked: ['n3'], notSynced: ['n2'], roster: [] });
  });

  it('race "a cluster answers and refuses us": by the timeout, with no seed linked and a refusal, it is refused and says why', () => {
    const refusals = [{ address: 'seed:4370', code: 'auth-failed', message: 'wrong secret' }];
    const alone = { members: [member('n1')], roster: new Map<string, boolean>(), timedOut: true, refusals: () => refusals };
    expect(readiness(input(alone))).toEqual({ verdict: 'refused', why: 'seed:4370 refuses this node (auth-failed: wrong secret)', refusals });
    // Linked to anyone, a refusal elsewhere does not hold it back; no refusal, the timeout makes it ready.
    expect(readiness(input({ ...alone, members: [member('n1'), member('n2')], roster: new Map([['n3', true]]) })).verdict).toBe('ready-by-timeout');
    expect(readiness(input({ ...alone, refusals: () => [] })).verdict).toBe('ready-by-timeout');
  });

  it('asks for the refusals only when they matter (the timeout ran out, no seed linked)', () => {
    let asked = 0;
    const refusals = () => {
      asked++;
      return [];
    };
    readiness(input({ members: [member('n1')], refusals }));
    readiness(input({ timedOut: true, members: [member('n1'), member('n2'), member('n3', 'down')], refusals }));
    expect(asked).toBe(0);
    readiness(input({ timedOut: true, members: [member('n1')], refusals }));
    expect(asked).toBe(1);
  });

  it('race "DNS down when the node starts": by the timeout, linked to no one, a DNS seed never answered keeps a member waiting, saying why', () => {
    const seeds = [{ seed: 'dns:pogo.test:4370', problem: 'ECONNREFUSED: queryA ECONNREFUSED pogo.test' }];
    const alone = { members: [member('n1')], roster: new Map<string, boolean>(), timedOut: true, unresolvedSeeds: () => seeds };
    expect(readiness(input(alone))).toEqual({
      verdict: 'unresolved',
      why: 'dns:pogo.test:4370 has not been resolved (ECONNREFUSED: queryA ECONNREFUSED pogo.test)',
      seeds,
    });
    // Linked to anyone, it knows the cluster; answered (even "nothing there": the first pod), the timeout makes it ready.
    expect(readiness(input({ ...alone, members: [member('n1'), member('n2')], roster: new Map() })).verdict).toBe('ready');
    expect(readiness(input({ ...alone, unresolvedSeeds: () => [] })).verdict).toBe('ready-by-timeout');
    // An observer runs no children: it is not held back.
    expect(readiness(input({ ...alone, isMember: false, observer: true })).verdict).not.toBe('unresolved');
  });
});

describe('readiness: what a waiting member says it waits for (explain)', () => {
  it('names the members not linked, those not heard of (the saved roster), those linked and not synced, and when it goes on without them', () => {
    // Race "a wait that names no one": n3 blackholed, n4 only in the roster, n2 linked but its state not in yet.
    const gaps = readinessGaps(
      input({
        members: [member('n1'), member('n2'), member('n3', 'down')],
        roster: new Map([
          ['n1', true],
          ['n2', true],
          ['n3', true],
          ['n4', true],
        ]),
        synced: (p) => p !== 'n2',
      }),
    );
    expect(gaps).toEqual({ joined: true, notLinked: ['n3', 'n4'], notSynced: ['n2'], roster: ['n4'], leased: true });
    expect(notReadyWords(gaps, Date.UTC(2026, 11, 6, 12, 0, 0))).toBe(
      'this node is not ready yet: it waits for a link to n3; n4 (in its saved roster, not heard of since it restarted); ' +
        'the state of n2 (linked, not synced yet); at 2026-12-06T12:00:00.000Z (--ready-timeout-ms) it takes children without them',
    );
    expect(notReadyWords(readinessGaps(input({ members: [member('n1')], hasSeeds: true, roster: new Map(), leased: false })), Infinity)).toBe(
      'this node is not ready yet: it waits for a first link to any of its seeds; a majority of the expected members (majority mode)',
    );
    expect(notReadyWords(undefined, Infinity)).toBe('this node is not ready yet: linking to and syncing with every member it knows of');
  });
});

describe('readiness: what a waiting member announces (protocol 2.7 waitsFor)', () => {
  it('its gaps, each list cut to 64 names, and its deadline as until when it has one', () => {
    const gaps = { joined: true, notLinked: ['n3', 'n4'], notSynced: ['n2'], roster: ['n4'], leased: false };
    expect(waitsFor(gaps, 1_700_000_005_000.4)).toEqual({
      notLinked: ['n3', 'n4'],
      roster: ['n4'],
      notSynced: ['n2'],
      joined: true,
      leased: false,
      until: 1_700_000_005_000,
    });
    expect(waitsFor(gaps, Infinity)).not.toHaveProperty('until');
    const many = Array.from({ length: 100 }, (_, i) => `m${i}`);
    expect(waitsFor({ ...gaps, notLinked: many }, Infinity).notLinked).toEqual(many.slice(0, 64));
  });
});
