/**
 * The gateway's history (observer/timeline.ts): notable events in a ring of
 * their own, per-child events collapsed into bursts, rates counted from
 * events.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVITY_LIMIT, MAX_BURST_IDS, NOTABLE_LIMIT, Timeline, instancesPerNode, type TimelineEvent } from '../src/observer/timeline.js';

const levels = () => ({ members: 3, perNode: { n1: 1 } });

describe('Timeline', () => {
  it('a node-down that moves 5,000 children stays on the timeline, and the moves are one burst per source and reason', () => {
    const t = new Timeline<TimelineEvent>();
    t.add({ type: 'node-down', node: 's4', at: 1_000 });
    for (let i = 0; i < 5_000; i++) {
      t.add({ type: 'stopped', id: `c${i}`, node: 's4', at: 1_001 });
      t.add({ type: 'started', id: `c${i}`, node: `n${i % 4}`, at: 1_002 + i / 10 });
      t.add({ type: 'moved', id: `c${i}`, from: 's4', to: `n${i % 4}`, reason: 'failure', at: 1_002 + i / 10 });
    }
    t.add({ type: 'converged', at: 1_600 });
    expect(t.notable.map((n) => n.event.type)).toEqual(['node-down', 'converged']);
    expect(t.activity.map((b) => [b.type, b.count])).toEqual([
      ['stopped', 5_000],
      ['started', 5_000],
      ['moved', 5_000],
    ]);
    const moved = t.activity[2]!;
    expect(moved).toMatchObject({ from: 's4', reason: 'failure', nodes: { n0: 1_250, n1: 1_250, n2: 1_250, n3: 1_250 } });
    expect(moved.ids.length).toBe(MAX_BURST_IDS);
    expect(moved.rev).toBe(4_999);
    // Sequence numbers follow creation: the burst entries come between the node-down and the converged.
    expect(t.notable[0]!.seq).toBeLessThan(moved.seq);
    expect(t.notable[1]!.seq).toBeGreaterThan(moved.seq);
  });

  it('counts a burst per node for nodes named like Object’s own properties (constructor, toString)', () => {
    const t = new Timeline<TimelineEvent>();
    for (let i = 0; i < 3; i++) t.add({ type: 'started', id: `c${i}`, node: i === 2 ? 'toString' : 'constructor', at: 1_000 + i });
    expect(t.activity[0]!.nodes).toEqual({ constructor: 2, toString: 1 });
  });

  it('a pause longer than the gap starts a new burst; another reason or source is another burst', () => {
    const t = new Timeline<TimelineEvent>(2_000);
    t.add({ type: 'moved', id: 'a', from: 'n1', to: 'n2', reason: 'drain', at: 0 });
    t.add({ type: 'moved', id: 'b', from: 'n1', to: 'n3', reason: 'drain', at: 1_500 });
    t.add({ type: 'moved', id: 'c', from: 'n1', to: 'n3', reason: 'pin', at: 1_600 });
    t.add({ type: 'moved', id: 'd', from: 'n2', to: 'n3', reason: 'drain', at: 1_700 });
    t.add({ type: 'moved', id: 'e', from: 'n1', to: 'n2', reason: 'drain', at: 5_000 });
    expect(t.activity.map((b) => [b.from, b.reason, b.count, b.ids])).toEqual([
      ['n1', 'drain', 2, ['a', 'b']],
      ['n1', 'pin', 1, ['c']],
      ['n2', 'drain', 1, ['d']],
      ['n1', 'drain', 1, ['e']],
    ]);
    expect(t.activity[1]!.first).toMatchObject({ id: 'c', reason: 'pin' });
  });

  it('a notable event closes the open bursts: the starts and moves after a node-up are entries after it, not growth of a burst before it', () => {
    const t = new Timeline<TimelineEvent>(2_000);
    t.add({ type: 'started', id: 'a', node: 'n1', at: 0 });
    t.add({ type: 'node-up', node: 'n4', at: 500 });
    t.add({ type: 'started', id: 'b', node: 'n4', at: 600 });
    t.add({ type: 'moved', id: 'b', from: 'n1', to: 'n4', reason: 'join', at: 600 });
    const up = t.notable[0]!;
    expect(t.activity.map((b) => [b.type, b.count, b.seq > up.seq])).toEqual([
      ['started', 1, false],
      ['started', 1, true],
      ['moved', 1, true],
    ]);
  });

  it('duplicates resolved are counted where the copies were stopped, one burst per node whose instances were kept', () => {
    const t = new Timeline<TimelineEvent>();
    for (const id of ['w6', 'w7']) t.add({ type: 'duplicate-resolved', id, survivor: { node: 'n1' }, stopped: [{ node: 'n2' }], at: 10 });
    t.add({ type: 'duplicate-resolved', id: 'w8', survivor: { node: 'n3' }, stopped: [{ node: 'n2' }], at: 11 });
    expect(t.activity.map((b) => [b.kept, b.count, b.nodes])).toEqual([
      ['n1', 2, { n2: 2 }],
      ['n3', 1, { n2: 1 }],
    ]);
  });

  it('stops for good are a burst of their own, per who asked, beside the plain stops', () => {
    const t = new Timeline<TimelineEvent>();
    t.add({ type: 'stopped', id: 'a', node: 'n1', at: 1 });
    t.add({ type: 'stopped', id: 'b', node: 'n1', terminated: true, by: 'alice', at: 2 });
    t.add({ type: 'stopped', id: 'c', node: 'n1', terminated: true, by: 'alice', at: 3 });
    expect(t.activity.map((b) => [b.type, b.count, b.ids])).toEqual([
      ['stopped', 1, ['a']],
      ['stopped', 2, ['b', 'c']],
    ]);
  });

  it("a sample's children per node have no prototype, whatever record the levels give: a node named constructor is a count, toString is absent", () => {
    const t = new Timeline<TimelineEvent>();
    const plain = (): { members: number; perNode: Record<string, number> } => ({ members: 2, perNode: { constructor: 2, n1: 1 } });
    t.tick(10_000, plain);
    t.tick(12_000, plain); // 10 s and, not ticked, 11 s
    expect(t.samples).toHaveLength(2);
    for (const x of t.samples) {
      expect(Object.getPrototypeOf(x.perNode)).toBeNull();
      expect(x.perNode['constructor']).toBe(2);
      expect(x.perNode['toString']).toBeUndefined();
    }
  });

  it('both rings are bounded', () => {
    const t = new Timeline<TimelineEvent>(0);
    for (let i = 0; i < NOTABLE_LIMIT + 10; i++) t.add({ type: 'node-up', node: 'n', at: i });
    for (let i = 0; i < ACTIVITY_LIMIT + 10; i++) t.add({ type: 'started', id: `c${i}`, node: 'n', at: i * 10 });
    expect(t.notable.length).toBe(NOTABLE_LIMIT);
    expect(t.activity.length).toBe(ACTIVITY_LIMIT);
    expect(t.notable[0]!.event.at).toBe(10);
  });

  it('rates are counted from events, per second: a thousand starts in half a second count as a thousand', () => {
    const t = new Timeline<TimelineEvent>();
    t.tick(10_000, levels);
    for (let i = 0; i < 1_000; i++) t.add({ type: 'started', id: `c${i}`, node: 'n1', at: 10_000 + i / 2 });
    t.add({ type: 'failed', id: 'x', node: 'n1', at: 10_600 });
    t.tick(10_900, levels);
    expect(t.samples).toEqual([]);
    t.tick(11_000, levels);
    expect(t.samples).toEqual([{ at: 10_000, starts: 1_000, stops: 0, restarts: 0, moves: 0, failures: 1, members: 3, perNode: { n1: 1 } }]);
    // A start of the same child on the same node again is a restart in place; on another node it is not.
    t.add({ type: 'stopped', id: 'c1', node: 'n1', at: 11_100 });
    t.add({ type: 'started', id: 'c1', node: 'n1', at: 11_200 });
    t.add({ type: 'started', id: 'c2', node: 'n2', at: 11_300 });
    // Instances lost from sight with a silent member are no stops: they may run on (StopNote `unseen`).
    t.add({ type: 'stopped', id: 'c3', node: 'n3', at: 11_400, unseen: true });
    t.tick(12_500, levels);
    expect(t.samples[1]).toMatchObject({ at: 11_000, starts: 2, stops: 1, restarts: 1 });
    // Seconds without a tick are there, counting nothing.
    t.tick(15_100, levels);
    expect(t.samples.slice(2).map((s) => [s.at, s.starts])).toEqual([
      [12_000, 0],
      [13_000, 0],
      [14_000, 0],
    ]);
  });
});

describe("instancesPerNode (the charts' children per node)", () => {
  it('counts a child on every node that runs an instance of it: a cut-off member running copies is not charted at 0', () => {
    const at = (...nodes: string[]) => ({ instances: nodes.map((node) => ({ node })) });
    // Available mode, n3 cut off: it runs a copy of each of n1's and n2's children, they run n3's; each child is duplicate.
    expect(instancesPerNode([at('n1', 'n3'), at('n1', 'n3'), at('n2', 'n3'), at('n3', 'n2'), at(), at('n1', 'n1')])).toEqual({ n1: 3, n2: 2, n3: 4 });
  });
});
