import { describe, expect, it } from 'vitest';
import type { EventView } from 'pogo-core/observer-state';
import { burstOf } from '../../test-cluster';
import {
  concerns,
  entriesAbout,
  groupEntries,
  headWords,
  KINDS,
  matchesEntry,
  mergeEntries,
  redistributionSummary,
  type Entry,
  type RedistributionHead,
} from './timeline-entries';

const up = (seq: number, node: string, role: 'member' | 'observer' = 'member'): EventView => ({ seq, at: seq, type: 'node-up', node, role });
const down = (seq: number, node: string): EventView => ({ seq, at: seq, type: 'node-down', node, role: 'member', reason: 'member-down' });
const converged = (seq: number): EventView => ({ seq, at: seq, type: 'converged', after: 5, cause: 'node-down', node: 'demo-2', children: 3 });
const started = (seq: number, ids: string[], node = 'demo-1') =>
  burstOf(
    seq,
    ids.map((id) => ({ at: seq, type: 'started' as const, id, node, pid: `p-${id}` })),
  );
const all = { kinds: new Set(KINDS), text: '' };

describe('timeline entries', () => {
  it('merges notable events and bursts by seq', () => {
    const entries = mergeEntries([up(1, 'a'), down(4, 'b'), converged(6)], [started(2, ['x']), started(3, ['y', 'z']), started(5, ['w'])]);
    expect(entries.map((e) => [e.kind, e.seq])).toEqual([
      ['event', 1],
      ['activity', 2],
      ['activity', 3],
      ['event', 4],
      ['activity', 5],
      ['event', 6],
    ]);
    expect(mergeEntries([], [])).toEqual([]);
  });

  it("a burst concerns the children it holds, the nodes where its events happened and a move's source", () => {
    const moved: Entry = {
      kind: 'activity',
      seq: 1,
      at: 0,
      activity: burstOf(1, [
        { at: 0, type: 'moved', id: 'x', from: 's4', to: 'n1', reason: 'drain' },
        { at: 1, type: 'moved', id: 'y', from: 's4', to: 'n2', reason: 'drain' },
      ]),
    };
    for (const about of [
      { kind: 'child', id: 'x' },
      { kind: 'child', id: 'y' },
      { kind: 'node', name: 's4' },
      { kind: 'node', name: 'n2' },
    ] as const)
      expect(concerns(moved, about)).toBe(true);
    for (const about of [
      { kind: 'child', id: 'z' },
      { kind: 'node', name: 'n3' },
    ] as const)
      expect(concerns(moved, about)).toBe(false);
    // A text filter reads the same: ids (as substrings), nodes, the type.
    expect(matchesEntry(moved, { ...all, text: 's4 moved' })).toBe(true);
    expect(matchesEntry(moved, { ...all, text: 'y' })).toBe(true);
    expect(matchesEntry(moved, { ...all, text: 'n3' })).toBe(false);
    expect(matchesEntry(moved, { kinds: new Set(['lifecycle']), text: '' })).toBe(false);
  });

  it("a child's or a node's history: the entries about it, newest first, bounded", () => {
    const events = [up(1, 'demo-1'), down(4, 'demo-2'), converged(6)];
    const activity = [started(2, ['x']), started(3, ['x', 'y'], 'demo-2'), started(5, ['y'])];
    expect(entriesAbout(events, activity, { kind: 'child', id: 'x' }, 10).map((e) => e.seq)).toEqual([3, 2]);
    expect(entriesAbout(events, activity, { kind: 'node', name: 'demo-2' }, 10).map((e) => e.seq)).toEqual([6, 4, 3]);
    expect(entriesAbout(events, activity, { kind: 'node', name: 'demo-1' }, 2).map((e) => e.seq)).toEqual([5, 2]);
  });

  it("an observer coming or going starts no redistribution: the event's own role decides", () => {
    const items = groupEntries(mergeEntries([up(1, 'obs', 'observer'), up(3, 'demo-4')], [started(2, ['x']), started(4, ['y'], 'demo-4')]));
    expect(items.map((i) => i.kind)).toEqual(['entry', 'entry', 'redistribution']);
    expect(items[2]).toMatchObject({ kind: 'redistribution', converged: null, members: [{ kind: 'activity', seq: 4 }] });
  });

  it('a second topology change inside a redistribution belongs to it (the gateway measures one convergence)', () => {
    const items = groupEntries(mergeEntries([down(1, 'demo-2'), down(2, 'demo-3'), converged(3)], [started(4, ['x'])]));
    expect(items.map((i) => i.kind)).toEqual(['redistribution', 'entry']);
    expect(items[0]).toMatchObject({ members: [{ seq: 2 }, { seq: 3 }], converged: { seq: 3 } });
  });

  it("a drain, an undrain or a resume heads its moves until the gateway's converged; pausing heads nothing", () => {
    const drain = (seq: number, draining: boolean): EventView => ({ seq, at: seq, type: 'drain', node: 'demo-2', draining, by: 'demo-1' });
    const rebalancing = (seq: number, paused: boolean): EventView => ({ seq, at: seq, type: 'rebalancing', paused, by: 'demo-1' });
    const drained: EventView = { seq: 4, at: 4, type: 'converged', after: 3, cause: 'drain', node: 'demo-2', children: 3 };
    const undrained: EventView = { seq: 8, at: 8, type: 'converged', after: 1, cause: 'undrain', node: 'demo-2', children: 3 };
    const items = groupEntries(
      mergeEntries(
        [drain(1, true), drained, drain(5, false), rebalancing(7, true), undrained, rebalancing(9, false)],
        [started(2, ['x'], 'demo-3'), started(6, ['y'], 'demo-2'), started(10, ['z'], 'demo-2')],
      ),
    );
    expect(items.map((i) => i.kind)).toEqual(['redistribution', 'redistribution', 'redistribution']);
    expect(items[0]).toMatchObject({ head: { seq: 1 }, members: [{ seq: 2 }, { seq: 4 }], converged: { seq: 4 } });
    expect(items[1]).toMatchObject({ head: { seq: 5 }, members: [{ seq: 6 }, { seq: 7 }, { seq: 8 }], converged: { seq: 8 } });
    expect(items[2]).toMatchObject({ head: { seq: 9 }, members: [{ seq: 10 }], converged: null });
    expect(items.map((i) => (i.kind === 'redistribution' ? headWords(i.head) : undefined))).toEqual([
      { node: 'demo-2', happened: 'was drained', label: 'drained' },
      { node: 'demo-2', happened: 'was undrained', label: 'undrained' },
      { node: undefined, happened: 'rebalancing resumed', label: 'rebalancing resumed' },
    ]);
    expect(headWords(down(1, 'demo-2') as RedistributionHead)).toEqual({ node: 'demo-2', happened: 'went down', label: 'down' });
    expect(headWords(up(1, 'demo-2') as RedistributionHead)).toEqual({ node: 'demo-2', happened: 'came up', label: 'up' });
  });

  it('sums up a redistribution by how many events of each kind, bursts counted whole', () => {
    const moved = burstOf(
      2,
      Array.from({ length: 983 }, (_, i) => ({ at: i, type: 'moved' as const, id: `c${i}`, from: 's4', to: 'n1', reason: 'failure' as const })),
    );
    const entries = mergeEntries(
      [up(5, 'demo-4'), converged(6)],
      [
        moved,
        started(
          3,
          Array.from({ length: 1_000 }, (_, i) => `c${i}`),
        ),
        burstOf(4, [{ at: 4, type: 'failed', id: 'c', node: 'n1', failures: 1, error: 'x' }]),
      ],
    );
    expect(redistributionSummary(entries)).toBe('983 children moved · 1,000 started · 1 failed · 1 more node change');
    expect(redistributionSummary(mergeEntries([converged(1)], []))).toBe('no child moved');
    // Instances lost from sight with a silent member are not counted as stopped.
    const lost = burstOf(
      5,
      Array.from({ length: 6 }, (_, i) => ({ at: i, type: 'stopped' as const, id: `c${i}`, node: 'n3', pid: `p${i}`, unseen: true as const })),
    );
    const stops = burstOf(6, [{ at: 9, type: 'stopped' as const, id: 'x', node: 'n1', pid: 'q' }]);
    expect(redistributionSummary(mergeEntries([], [moved, lost, stops]))).toBe('983 children moved · 1 stopped · 6 lost from sight');
  });
});
