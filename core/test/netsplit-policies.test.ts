/**
 * The netsplit policies (distributed/policies/) as pure functions of a
 * snapshot, without a network: majority mode's lease (1), its takeover
 * rule (2a-c) and its words; available mode's grace for a member that
 * closed the link itself; and the snapshot builder `netsplitInputs`
 * (race "its metadata has not reached us yet"). The simulation
 * (majority.test.ts) checks the same rules end to end, by each instance's
 * own record.
 */
import { describe, expect, it } from 'vitest';
import type { Member } from '../src/membership.js';
import { memberEntry } from './support/members.js';
import { available } from '../src/distributed/policies/netsplit-available.js';
import { leaseMargin, majority } from '../src/distributed/policies/netsplit-majority.js';
import { netsplitInputs, type MemberReach, type NetsplitInputs } from '../src/distributed/policies/netsplit.js';

const LEASE = 3_000;
const reach = (name: string, over: Partial<MemberReach> = {}): MemberReach => ({
  name,
  incarnation: 'i1',
  state: 'linked',
  lastHeardAt: undefined,
  confirmedAt: undefined,
  leaseMs: LEASE,
  stopMs: LEASE,
  unheardBy: [],
  ...over,
});
const inputs = (now: number, members: MemberReach[]): NetsplitInputs => ({ now, self: { name: 'n1', startedAt: 0, leaseMs: LEASE }, members });

describe('majority: the lease (rule 1)', () => {
  const three = majority(3, 200);

  it('holds while a quorum less this node has confirmed hearing it within the lease', () => {
    const members = [reach('n2', { confirmedAt: 10_000 }), reach('n3', { confirmedAt: 9_000 })];
    expect(three.leaseUntil(inputs(11_000, members))).toBe(13_000);
    expect(three.mayRun(inputs(12_999, members))).toBe(true);
    expect(three.mayRun(inputs(13_000, members))).toBe(false);
  });

  it('with five expected members it rests on the second newest confirmation', () => {
    const five = majority(5, 200);
    const members = [reach('n2', { confirmedAt: 10_000 }), reach('n3', { confirmedAt: 8_000 }), reach('n4', { confirmedAt: 5_000 })];
    expect(five.leaseUntil(inputs(9_000, members))).toBe(11_000);
    expect(five.leaseUntil(inputs(9_000, members.slice(0, 1)))).toBe(-Infinity);
  });

  it('one-way loss: a peer this node hears but that does not hear it confirms nothing', () => {
    const members = [reach('n2', { lastHeardAt: 10_000, confirmedAt: undefined }), reach('n3', { state: 'down' })];
    expect(three.mayRun(inputs(10_000, members))).toBe(false);
    expect(three.describeSelf(inputs(10_000, members))).toContain('no majority of the 3 expected members has confirmed hearing this node');
  });

  it('one expected member needs no one', () => {
    expect(majority(1, 200).leaseUntil(inputs(0, []))).toBe(Infinity);
    expect(majority(1, 200).describeSelf(inputs(0, []))).toContain('always holds the lease');
  });
});

describe('majority: taking over a member it cannot hear (rule 2)', () => {
  const three = majority(3, 200);
  const until = (h: number) => h + LEASE + LEASE + leaseMargin(LEASE, LEASE);

  it('a linked member is present; one that left is absent', () => {
    expect(three.presence(inputs(0, [reach('n2')]), reach('n2')).present).toBe(true);
    expect(three.presence(inputs(0, []), reach('n2', { state: 'left' }))).toEqual({ present: false, why: 'left' });
  });

  it('race "the cut-off node still sees one peer": unheard by this node alone, it stays present, its children stay put', () => {
    const n3 = reach('n3', { state: 'down', lastHeardAt: 1_000 });
    const p = three.presence(inputs(60_000, [reach('n2', { confirmedAt: 59_000 }), n3]), n3);
    expect(p.present).toBe(true);
    expect(p.why).toContain('only 1 of the 2 members needed say so');
    expect(three.fencedAt(inputs(60_000, [n3]), n3)).toBeUndefined();
  });

  it('(2b) waits for every reporter to have echoed a ping sent after the member could last have renewed its lease', () => {
    const n3 = reach('n3', { state: 'down', lastHeardAt: 1_000, unheardBy: [{ reporter: 'n2', since: 1_200 }] });
    const stale = three.presence(inputs(60_000, [reach('n2', { confirmedAt: 4_000 }), n3]), n3);
    expect(stale.present).toBe(true);
    expect(stale.why).toContain('waiting for their latest word');
    // Its report is current once n2 echoed a ping sent at or after h + lease (1,200 + 3,000).
    expect(three.presence(inputs(60_000, [reach('n2', { confirmedAt: 4_200 }), n3]), n3).present).toBe(false);
  });

  it('(2c) absent only once its lease, its stop time and the margin have run from the newest moment any of us heard it', () => {
    const n3 = reach('n3', { state: 'down', lastHeardAt: 1_000, unheardBy: [{ reporter: 'n2', since: 1_500 }] });
    const members = [reach('n2', { confirmedAt: 5_000 }), n3];
    expect(three.fencedAt(inputs(0, members), n3)).toBe(until(1_500));
    const before = three.presence(inputs(until(1_500) - 1, members), n3);
    expect(before.present).toBe(true);
    expect(before.why).toContain('its lease runs out and its children must have stopped by');
    const after = three.presence(inputs(until(1_500), members), n3);
    expect(after.present).toBe(false);
    expect(after.why).toContain('its lease ran out');
  });

  it("mixed timing: the member's own announced lease and stop time count, not this node's", () => {
    const n3 = reach('n3', { state: 'down', lastHeardAt: 1_000, leaseMs: 10_000, stopMs: 6_000, unheardBy: [{ reporter: 'n2', since: 1_000 }] });
    const members = [reach('n2', { confirmedAt: 20_000 }), n3];
    expect(three.fencedAt(inputs(0, members), n3)).toBe(1_000 + 10_000 + 6_000 + leaseMargin(10_000, 6_000));
  });

  it('says when to look again: its own lease running out, an unheard member fenced, or at the poll rhythm while it waits on words', () => {
    const n3 = reach('n3', { state: 'down', lastHeardAt: 1_000, unheardBy: [{ reporter: 'n2', since: 1_000 }] });
    expect(three.nextChangeAt(inputs(5_000, [reach('n2', { confirmedAt: 4_500 }), n3]))).toBe(Math.min(7_500, until(1_000)));
    // n3 fenced already (7,700) and n2's word is fresh: only this node's own lease is left to run out.
    expect(three.nextChangeAt(inputs(9_000, [reach('n2', { confirmedAt: 8_500 }), n3]))).toBe(11_500);
    // No lease: confirmations come with the peers' pings.
    expect(three.nextChangeAt(inputs(9_000, [reach('n2'), reach('n3', { state: 'down' })]))).toBe(9_200);
    // Fenced by time, but a reporter's word is stale: poll.
    expect(three.nextChangeAt(inputs(until(1_000) + 5, [reach('n2', { confirmedAt: 2_000 }), n3]))).toBe(until(1_000) + 5 + 200);
  });
});

describe('available', () => {
  it('a member without a link is absent at once, and runs are allowed always', () => {
    expect(available.mayRun(inputs(0, []))).toBe(true);
    expect(available.presence(inputs(0, []), reach('n2', { state: 'down' }))).toEqual({ present: false, why: 'not linked' });
    expect(available.presence(inputs(0, []), reach('n2', { state: 'left' }))).toEqual({ present: false, why: 'left' });
  });

  it('race "a node wakes from a pause": a member that closed the link itself stays present for its lease while the two relink', () => {
    const n2 = reach('n2', { state: 'down', closedByPeerAt: 10_000 });
    const p = available.presence(inputs(12_000, [n2]), n2);
    expect(p.present).toBe(true);
    expect(p.why).toContain('closed the link itself');
    expect(available.nextChangeAt(inputs(12_000, [n2]))).toBe(13_000);
    expect(available.presence(inputs(13_000, [n2]), n2).present).toBe(false);
    expect(available.nextChangeAt(inputs(13_000, [n2]))).toBeUndefined();
  });
});

describe('netsplitInputs: the snapshot', () => {
  const member = (name: string, status: Member['status'], over: Partial<Member> = {}): Member => memberEntry(name, status, { since: 500, ...over });

  it('lists every other member with how it is reached; observers and this node are not listed', () => {
    const snap = netsplitInputs(
      [
        member('n1', 'up'),
        member('n2', 'suspect', { lastHeardAt: 900, confirmedAt: 800, lease: { ms: 1_000, stopMs: 1_000 } }),
        member('n3', 'down', { closedByPeer: true }),
        member('n4', 'left'),
        member('obs', 'up', { role: 'observer' }),
      ],
      { name: 'n1', startedAt: 0, leaseMs: LEASE },
      1_000,
    );
    expect(snap.now).toBe(1_000);
    expect(snap.members.map((m) => [m.name, m.state, m.lastHeardAt, m.closedByPeerAt])).toEqual([
      ['n2', 'linked', 900, undefined],
      ['n3', 'down', 500, 500],
      ['n4', 'left', undefined, undefined],
    ]);
  });

  it('race "its metadata has not reached us yet": an unknown lease is the longest any member announces, this node\'s included', () => {
    const snap = netsplitInputs(
      [member('n2', 'up', { lease: { ms: 10_000, stopMs: 7_000 } }), member('n3', 'up'), member('n4', 'up', { lease: { ms: 1_000, stopMs: 1_000 } })],
      { name: 'n1', startedAt: 0, leaseMs: LEASE },
      0,
    );
    expect(snap.members.map((m) => [m.name, m.leaseMs, m.stopMs])).toEqual([
      ['n2', 10_000, 7_000],
      ['n3', 10_000, 7_000],
      ['n4', 1_000, 1_000],
    ]);
    const alone = netsplitInputs([member('n3', 'up')], { name: 'n1', startedAt: 0, leaseMs: LEASE }, 0);
    expect(alone.members[0]).toMatchObject({ leaseMs: LEASE, stopMs: LEASE });
  });
});
