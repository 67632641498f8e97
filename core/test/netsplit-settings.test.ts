/**
 * Netsplit settings that differ between members (distributed/netsplit-settings.ts):
 * the pure comparison and the sentences an operator reads, and in
 * simulation the warning a node logs once per peer incarnation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { announcedNetsplit, netsplitWarnings, sameNetsplit, type NetsplitSettings } from '../src/distributed/netsplit-settings.js';
import { SimCluster } from './support/sim.js';

const available: NetsplitSettings = { mode: 'available' };
const majority = (expectedMembers: number): NetsplitSettings => ({ mode: 'majority', expectedMembers });

describe('netsplit settings: the comparison', () => {
  it('the same mode, and in majority mode the same expected members, keep the same promise', () => {
    expect(sameNetsplit(available, available)).toBe(true);
    expect(sameNetsplit(majority(3), majority(3))).toBe(true);
    expect(sameNetsplit(majority(3), majority(5))).toBe(false);
    expect(sameNetsplit(available, majority(3))).toBe(false);
    // Expected members mean nothing in available mode: a node announces none there.
    expect(announcedNetsplit('available', 3)).toEqual(available);
    expect(announcedNetsplit('majority', 3)).toEqual(majority(3));
  });

  it('warns of the members whose settings differ from the most common, in words, and of no member that announces nothing', () => {
    expect(
      netsplitWarnings([
        { name: 'n2', netsplit: majority(3) },
        { name: 'n1', netsplit: majority(3) },
        { name: 'n3', netsplit: available },
        { name: 'old' }, // an earlier release: nothing known, nothing said
      ]),
    ).toEqual([
      'n3 runs --netsplit available while n1, n2 run majority (expected 3): during a split n3 runs children the others cannot see; ' +
        'give every member the same --netsplit and --expected-members',
    ]);
    expect(
      netsplitWarnings([
        { name: 'n1', netsplit: majority(3) },
        { name: 'n2', netsplit: majority(3) },
        { name: 'n3', netsplit: majority(5) },
      ]),
    ).toEqual([
      'n3 runs --netsplit majority --expected-members 5 while n1, n2 run majority (expected 3): they count different quorums, so both sides ' +
        'of a split may think they hold a majority and run the same child; give every member the same --netsplit and --expected-members',
    ]);
    // The tour's cluster: three members, three settings: each differing one is named against the first.
    const three = netsplitWarnings([
      { name: 'n1', netsplit: majority(3) },
      { name: 'n2', netsplit: majority(5) },
      { name: 'n3', netsplit: available },
    ]);
    expect(three).toHaveLength(2);
    expect(three[0]).toMatch(/^n2 runs --netsplit majority --expected-members 5 while n1 runs majority \(expected 3\)/);
    expect(three[1]).toMatch(/^n3 runs --netsplit available while n1 runs majority \(expected 3\)/);
    // One majority member among available ones: the others run what it cannot see.
    expect(
      netsplitWarnings([
        { name: 'a', netsplit: available },
        { name: 'b', netsplit: available },
        { name: 'c', netsplit: majority(3) },
      ])[0],
    ).toMatch(/^c runs --netsplit majority --expected-members 3 while a, b run available: during a split a, b run children c cannot see/);
    expect(netsplitWarnings([{ name: 'n1', netsplit: available }, { name: 'n2', netsplit: available }, { name: 'n3' }])).toEqual([]);
  });
});

describe('netsplit settings: a node warns of a peer whose settings differ (simulation)', () => {
  let sim: SimCluster | undefined;
  afterEach(() => sim?.stopAll());

  it('logs one warning per peer incarnation naming both settings, and none for a peer that agrees', async () => {
    sim = new SimCluster(7);
    const majority3 = { netsplit: 'majority' as const, expectedMembers: 3 };
    await sim.start('n1', [], majority3);
    await sim.start('n2', ['n1'], majority3);
    await sim.start('n3', ['n1'], { netsplit: 'available' });
    await sim.until(() => sim!.fullMesh() && sim!.running().every((n) => n.members().every((m) => m.netsplit !== undefined)), 5_000, 'mesh, settings known');
    await sim.run(2_000); // gossip goes on: still one warning each
    const warnings = sim.log.entries.filter((e) => e.level === 'warn' && e.message.startsWith('netsplit settings differ'));
    const fix = 'give every member the same --netsplit and --expected-members';
    const toMajority = (peer: string, self: string): string =>
      `netsplit settings differ: ${peer} runs --netsplit majority --expected-members 3 while this node (${self}) runs available: ` +
      `during a split this node (${self}) runs children ${peer} cannot see, so majority mode keeps no child from running twice; ${fix}`;
    const toAvailable = (self: string): string =>
      `netsplit settings differ: n3 runs --netsplit available while this node (${self}) runs majority (expected 3): ` +
      `during a split n3 runs children the others cannot see; ${fix}`;
    expect(warnings.map((e) => e.message).sort()).toEqual([toMajority('n1', 'n3'), toMajority('n2', 'n3'), toAvailable('n1'), toAvailable('n2')]);
    expect(warnings.every((e) => typeof e.fields['peerNetsplit'] === 'string' && typeof e.fields['netsplit'] === 'string')).toBe(true);
  });

  it('a member given --expected-members in available mode says it does nothing there', async () => {
    sim = new SimCluster(8);
    await sim.start('n1', [], { expectedMembers: 3 });
    await sim.start('n2', ['n1'], { netsplit: 'majority', expectedMembers: 3 });
    const warned = sim.log.entries.filter((e) => e.level === 'warn' && e.message.startsWith('expectedMembers is set but netsplit is available'));
    expect(warned.map((e) => e.fields['node'])).toEqual(['n1']);
  });
});
