/**
 * The distributed supervisor's events (distributed/events.ts) without a
 * network: the pure diff of two views of a child, and the reason a move
 * reports for every cause (join, leave, failure, pin, unpin, drain,
 * undrain, resume, heal).
 */
import { describe, expect, it } from 'vitest';
import {
  NO_FLAGS,
  type DistEvent,
  NO_GAINS,
  causeOf,
  diffChild,
  flagEvents,
  gainOf,
  nextGains,
  returning,
  type CauseContext,
  type Flags,
  type GainInputs,
  type Gains,
} from '../src/distributed/events.js';
import type { ChildRegister, SpecEntry } from '../src/distributed/registers.js';
import type { ChildView, Runner } from '../src/distributed/view.js';
import { parseChildSpec } from '../src/supervisor/child-spec.js';

const REV = '0000000001.000001.n1';
const entry: SpecEntry = { rev: REV, spec: parseChildSpec({ id: 'c', start: { worker: 'w' } }) };
const register: ChildRegister = { specs: [entry] };
const run = (node: string, n = 0): Runner => ({ node, pid: `${node}/0123456789abcdef/c${n}`, value: { rev: REV, restarts: 0 } });
const view = (over: Partial<ChildView> = {}): ChildView => ({
  id: 'c',
  register,
  live: entry,
  runners: [],
  claims: [],
  failures: new Map(),
  owner: 'n1',
  by: 'hash',
  cause: 'join',
  ...over,
});

const inputs = (eligible: string[], drains: string[] = [], paused = false): GainInputs => ({ eligible: new Set(eligible), drains: new Set(drains), paused });
const context = (over: Partial<CauseContext> & { gains?: Gains } = {}): CauseContext => ({
  maxStartFailures: 3,
  draining: () => false,
  stateOf: () => 'up',
  gain: (node) => gainOf(over.gains ?? NO_GAINS, node),
  returning: (node) => returning(over.gains ?? NO_GAINS, node),
  ...over,
});

describe('causeOf: the reason of each owner change', () => {
  const one = { failures: new Map(), runners: [run('n1')] };
  it('pin and unpin', () => {
    expect(causeOf(one, 'n1', 'n2', null, 'n2', context())).toBe('pin');
    expect(causeOf(one, 'n2', 'n1', 'n2', null, context())).toBe('unpin');
    expect(causeOf(one, 'n2', 'n3', 'n2', 'n3', context())).toBe('pin');
  });
  it('drain, leave, failure of the previous owner', () => {
    expect(causeOf(one, 'n1', 'n2', null, null, context({ draining: (n) => n === 'n1' }))).toBe('drain');
    expect(causeOf(one, 'n1', 'n2', null, null, context({ stateOf: () => 'left' }))).toBe('leave');
    expect(causeOf(one, 'n1', 'n2', null, null, context({ stateOf: () => 'leaving' }))).toBe('leave');
    expect(causeOf(one, 'n1', 'n2', null, null, context({ stateOf: () => 'down' }))).toBe('failure');
    const failing = { failures: new Map([['n1', { failures: 3, lastError: 'boom' }]]), runners: [] };
    expect(causeOf(failing, 'n1', 'n2', null, null, context())).toBe('failure');
  });
  it('heal: several instances met, and the new owner is a member coming back', () => {
    const two = { failures: new Map(), runners: [run('n1'), run('n2')] };
    let g = nextGains(NO_GAINS, inputs([]), inputs(['n1', 'n2']));
    // n2 is new: a second instance seen is the old one not yet reported stopped (the observer's race), not a heal.
    expect(causeOf(two, 'n1', 'n2', null, null, context({ gains: g }))).toBe('join');
    // n2 was cut off and comes back: two instances are the two sides of the partition.
    g = nextGains(g, inputs(['n1', 'n2']), inputs(['n1']));
    g = nextGains(g, inputs(['n1']), inputs(['n1', 'n2']));
    expect(causeOf(two, 'n1', 'n2', null, null, context({ gains: g }))).toBe('heal');
    // An undrain is an undrain, whatever the observer saw in between.
    g = nextGains(g, inputs(['n1', 'n2']), inputs(['n1'], ['n2']));
    g = nextGains(g, inputs(['n1'], ['n2']), inputs(['n1', 'n2']));
    expect(causeOf(two, 'n1', 'n2', null, null, context({ gains: g }))).toBe('undrain');
  });
  it('join, undrain and resume: why the new owner gained it', () => {
    let g = nextGains(NO_GAINS, inputs(['n1', 'n2']), inputs(['n1', 'n2', 'n3']));
    expect(causeOf(one, 'n1', 'n3', null, null, context({ gains: g }))).toBe('join');
    // n2 drained, then undrained: moves back to n2 are undrain, not join.
    g = nextGains(g, inputs(['n1', 'n2', 'n3']), inputs(['n1', 'n3'], ['n2']));
    g = nextGains(g, inputs(['n1', 'n3'], ['n2']), inputs(['n1', 'n2', 'n3']));
    expect(causeOf(one, 'n1', 'n2', null, null, context({ gains: g }))).toBe('undrain');
    expect(causeOf(one, 'n1', 'n3', null, null, context({ gains: g }))).toBe('join');
    // Paused, n4 joins (nothing moves), then resume: the moves to n4 and to n2 happen because of the resume.
    g = nextGains(g, inputs(['n1', 'n2', 'n3']), inputs(['n1', 'n2', 'n3'], [], true));
    g = nextGains(g, inputs(['n1', 'n2', 'n3'], [], true), inputs(['n1', 'n2', 'n3', 'n4'], [], true));
    g = nextGains(g, inputs(['n1', 'n2', 'n3', 'n4'], [], true), inputs(['n1', 'n2', 'n3', 'n4']));
    expect(causeOf(one, 'n1', 'n4', null, null, context({ gains: g }))).toBe('resume');
    expect(causeOf(one, 'n1', 'n2', null, null, context({ gains: g }))).toBe('resume');
    // A node that joins after the resume: join again.
    g = nextGains(g, inputs(['n1', 'n2', 'n3', 'n4']), inputs(['n1', 'n2', 'n3', 'n4', 'n5']));
    expect(causeOf(one, 'n1', 'n5', null, null, context({ gains: g }))).toBe('join');
    expect(causeOf(one, 'n1', 'n4', null, null, context({ gains: g }))).toBe('resume');
  });
  it('nextGains returns the same object when nothing was gained', () => {
    const g = nextGains(NO_GAINS, inputs(['n1']), inputs(['n1', 'n2']));
    expect(nextGains(g, inputs(['n1', 'n2']), inputs(['n1']))).toBe(g);
    expect(nextGains(g, inputs(['n1', 'n2'], [], false), inputs(['n1', 'n2'], [], true))).toBe(g);
  });
});

describe('diffChild: events between two views', () => {
  const causeNow = () => 'failure' as const;
  it('a first start is placed + started; a move seen in one diff is stopped + started + moved with the owner’s cause: the history ends on the move', () => {
    const first = diffChild(undefined, view({ runners: [run('n1')] }), 1, causeNow);
    expect(first.events.map((e) => e.type)).toEqual(['placed', 'started']);
    const moved = diffChild(first.history, view({ owner: 'n2', cause: 'undrain', runners: [run('n2', 1)] }), 2, () => 'join');
    expect(moved.events.map((e) => `${e.type} ${'node' in e ? e.node : ''}`)).toEqual(['placed n2', 'stopped n1', 'started n2', 'moved ']);
    expect(moved.events.find((e) => e.type === 'moved')).toMatchObject({ from: 'n1', to: 'n2', reason: 'undrain' });
    // Race "a crash told as a join": a gain judged before the loss of n1 was known gives way to the loss known when the move is seen.
    const lost = diffChild(first.history, view({ owner: 'n2', cause: 'join', runners: [run('n2', 1)] }), 2, causeNow);
    expect(lost.events.find((e) => e.type === 'moved')).toMatchObject({ from: 'n1', to: 'n2', reason: 'failure' });
    // A loss, a drain or a leave told already stays what it is.
    const drained = diffChild(first.history, view({ owner: 'n2', cause: 'drain', runners: [run('n2', 1)] }), 2, () => 'leave');
    expect(drained.events.find((e) => e.type === 'moved')).toMatchObject({ reason: 'drain' });
  });
  it('an instance seen on a node other than the owner takes its reason from causeNow', () => {
    const first = diffChild(undefined, view({ runners: [run('n1')] }), 1, causeNow);
    const gap = diffChild(first.history, view({ runners: [] }), 2, causeNow);
    expect(gap.events.map((e) => e.type)).toEqual(['stopped']);
    const back = diffChild(gap.history, view({ owner: 'n1', runners: [run('n3', 2)] }), 3, causeNow);
    expect(back.events.find((e) => e.type === 'moved')).toMatchObject({ from: 'n1', to: 'n3', reason: 'failure' });
  });
  it('an instance replaced on its own node (a restart in place) is stopped, then started: the history ends running', () => {
    const first = diffChild(undefined, view({ runners: [run('n1')] }), 1, causeNow);
    const again = diffChild(first.history, view({ runners: [run('n1', 1)] }), 2, causeNow);
    expect(again.events.map((e) => `${e.type} ${'pid' in e ? e.pid.slice(-2) : ''}`)).toEqual(['stopped c0', 'started c1']);
    // Beside a duplicate elsewhere ending in the same diff: that stop keeps its place after the starts.
    const dup = diffChild(again.history, view({ runners: [run('n1', 1), run('n2', 2)] }), 3, causeNow);
    const both = diffChild(dup.history, view({ runners: [run('n1', 3)] }), 4, causeNow);
    expect(both.events.map((e) => `${e.type} ${'pid' in e ? e.pid.slice(-2) : ''}`)).toEqual(['stopped c1', 'started c3', 'stopped c2']);
  });
  it('a same pid in both views is no event at all', () => {
    const first = diffChild(undefined, view({ runners: [run('n1')] }), 1, causeNow);
    expect(diffChild(first.history, view({ runners: [run('n1')] }), 2, causeNow).events).toEqual([]);
  });

  describe('race "a held move told by the heal": a move reports why its owner left where it ran', () => {
    const reasons = (d: { events: readonly DistEvent[] }) => d.events.flatMap((e) => (e.type === 'moved' ? [`${e.from}->${e.to} ${e.reason}`] : []));
    const onN3 = () => diffChild(undefined, view({ owner: 'n3', runners: [run('n3')] }), 1, causeNow).history;

    it('n3 cut off: owner n2 (failure), then n1 (join) before n1 is seen running it: the move n3 -> n1 is the failure', () => {
      // An observer that had lost n1: n3's instance stopped (its lease), owners n2 then n1, n1's instance seen only then.
      const gone = diffChild(onN3(), view({ owner: 'n2', cause: 'failure', runners: [] }), 2, causeNow);
      const relinked = diffChild(gone.history, view({ owner: 'n1', cause: 'join', runners: [] }), 3, causeNow);
      const seen = diffChild(relinked.history, view({ owner: 'n1', cause: 'join', runners: [run('n1', 1)] }), 4, causeNow);
      // Before the fix: "n3->n1 join", the cause of the last owner change, where every member recorded "failure".
      expect(reasons(seen)).toEqual(['n3->n1 failure']);
      // Once it ran alone on n1, that is forgotten: the next move reports its own reason.
      expect(seen.history.leftBecause).toBeUndefined();
      const back = diffChild(seen.history, view({ owner: 'n3', cause: 'join', runners: [run('n3', 2)] }), 5, () => 'join');
      expect(reasons(back)).toEqual(['n1->n3 join']);
    });

    it('an owner back where it runs calls the move off; a pin since names where it went', () => {
      const away = diffChild(onN3(), view({ owner: 'n2', cause: 'failure', runners: [run('n3')] }), 2, causeNow);
      expect(away.history.leftBecause).toEqual({ from: 'n3', cause: 'failure' });
      const home = diffChild(away.history, view({ owner: 'n3', cause: 'join', runners: [run('n3')] }), 3, causeNow);
      expect(home.history.leftBecause).toBeUndefined();
      const pinned = diffChild(away.history, view({ owner: 'n1', by: 'pin', cause: 'pin', runners: [] }), 3, causeNow);
      const onN1 = diffChild(pinned.history, view({ owner: 'n1', by: 'pin', cause: 'pin', runners: [run('n1', 1)] }), 4, causeNow);
      expect(reasons(onN1)).toEqual(['n3->n1 pin']);
    });

    it('the owner back on n3 while no instance runs there, then n1 seen running it: still the failure (and elsewhere, a drain is a drain)', () => {
      const gone = diffChild(onN3(), view({ owner: 'n2', cause: 'failure', runners: [] }), 2, causeNow);
      const healed = diffChild(gone.history, view({ owner: 'n3', cause: 'join', runners: [] }), 3, causeNow);
      expect(healed.history.leftBecause).toEqual({ from: 'n3', cause: 'failure' });
      // Before the fix: causeNow, read at the heal ("n3->n1 join", n3 up again by then).
      const seen = diffChild(healed.history, view({ owner: 'n3', cause: 'join', runners: [run('n1', 1)] }), 4, () => 'join');
      expect(reasons(seen)).toEqual(['n3->n1 failure']);
      const drained = diffChild(onN3(), view({ owner: 'n2', cause: 'drain', runners: [] }), 2, causeNow);
      const elsewhere = diffChild(drained.history, view({ owner: 'n2', cause: 'drain', runners: [run('n1', 1)] }), 3, causeNow);
      expect(reasons(elsewhere)).toEqual(['n3->n1 drain']);
    });
  });

  describe('a duplicate is no move: a move is the child running once again, elsewhere', () => {
    const types = (d: { events: readonly DistEvent[] }) => d.events.map((e) => (e.type === 'moved' ? `moved ${e.from}->${e.to} ${e.reason}` : `${e.type}`));
    const onN1 = () => diffChild(undefined, view({ runners: [run('n1')] }), 1, causeNow).history;

    it('a second instance appearing is a start only; the history keeps where the child ran alone', () => {
      // n3 was frozen past the timeout and wakes with its own instance: two run.
      const dup = diffChild(onN1(), view({ runners: [run('n1'), run('n3', 2)] }), 2, causeNow);
      expect(types(dup)).toEqual(['started']);
      expect(dup.history.lastRunner).toBe('n1');
    });

    it('the new instance stopped: the child stayed where it ran, no move', () => {
      const dup = diffChild(onN1(), view({ runners: [run('n1'), run('n3', 2)] }), 2, causeNow);
      const resolved = diffChild(dup.history, view({ runners: [run('n1')] }), 3, causeNow);
      expect(types(resolved)).toEqual(['stopped']);
      expect(resolved.history.lastRunner).toBe('n1');
    });

    it('the old instance stopped: a move from where it ran to the survivor, after the stop, with the owner’s cause', () => {
      const dup = diffChild(onN1(), view({ owner: 'n3', cause: 'heal', runners: [run('n1'), run('n3', 2)] }), 2, causeNow);
      expect(types(dup)).toEqual(['placed', 'started']);
      const resolved = diffChild(dup.history, view({ owner: 'n3', cause: 'heal', runners: [run('n3', 2)] }), 3, causeNow);
      expect(types(resolved)).toEqual(['stopped', 'moved n1->n3 heal']);
      expect(resolved.events[1]).toMatchObject({ type: 'moved', id: 'c', at: 3 });
      expect(resolved.history.lastRunner).toBe('n3');
    });

    it('a survivor that is not the owner takes its reason from causeNow, given the view that still held both instances', () => {
      const seenBy: number[] = [];
      const cause = (v: ChildView) => (seenBy.push(v.runners.length), 'heal' as const);
      const dup = diffChild(onN1(), view({ owner: 'n2', runners: [run('n1'), run('n3', 2)] }), 2, cause);
      const resolved = diffChild(dup.history, view({ owner: 'n2', runners: [run('n3', 2)] }), 3, cause);
      expect(types(resolved)).toEqual(['stopped', 'moved n1->n3 heal']);
      expect(seenBy).toEqual([2]);
    });

    it('a start-first handoff (the owner starts, the old instance stops after) is one move, when the old instance stops', () => {
      const overlap = diffChild(onN1(), view({ owner: 'n2', cause: 'drain', runners: [run('n1'), run('n2', 2)] }), 2, causeNow);
      expect(types(overlap)).toEqual(['placed', 'started']);
      const done = diffChild(overlap.history, view({ owner: 'n2', cause: 'drain', runners: [run('n2', 2)] }), 3, causeNow);
      expect(types(done)).toEqual(['stopped', 'moved n1->n2 drain']);
    });

    it('three instances down to two is no move yet; down to one elsewhere is one move', () => {
      const three = diffChild(onN1(), view({ owner: 'n2', runners: [run('n1'), run('n2', 2), run('n3', 3)] }), 2, causeNow);
      const two = diffChild(three.history, view({ owner: 'n2', runners: [run('n2', 2), run('n3', 3)] }), 3, causeNow);
      expect(types(two)).toEqual(['stopped']);
      expect(two.history.lastRunner).toBe('n1');
      const one = diffChild(two.history, view({ owner: 'n2', runners: [run('n2', 2)] }), 4, causeNow);
      expect(types(one)).toEqual(['stopped', 'moved n1->n2 join']);
    });

    it('every instance of a duplicate gone, then a start elsewhere: a move from where it ran before the duplicate', () => {
      const dup = diffChild(onN1(), view({ runners: [run('n1'), run('n3', 2)] }), 2, causeNow);
      const none = diffChild(dup.history, view({ runners: [] }), 3, causeNow);
      expect(types(none)).toEqual(['stopped', 'stopped']);
      const back = diffChild(none.history, view({ owner: 'n2', cause: 'leave', runners: [run('n2', 4)] }), 4, causeNow);
      expect(types(back)).toEqual(['placed', 'started', 'moved n1->n2 leave']);
    });

    it('a child first seen with two instances: no move when one is left, wherever (it never ran alone here)', () => {
      const first = diffChild(undefined, view({ runners: [run('n1'), run('n3', 2)] }), 1, causeNow);
      expect(first.history.lastRunner).toBeUndefined();
      const resolved = diffChild(first.history, view({ runners: [run('n3', 2)] }), 2, causeNow);
      expect(types(resolved)).toEqual(['stopped']);
      expect(resolved.history.lastRunner).toBe('n3');
    });

    it('the old instance and the duplicate gone in one diff, the survivor elsewhere: one move', () => {
      // A node that hears of both stops at once (one frame, or a reconcile that waited).
      const dup = diffChild(onN1(), view({ owner: 'n3', cause: 'heal', runners: [run('n1'), run('n2', 2), run('n3', 3)] }), 2, causeNow);
      const resolved = diffChild(dup.history, view({ owner: 'n3', cause: 'heal', runners: [run('n3', 3)] }), 3, causeNow);
      expect(types(resolved)).toEqual(['stopped', 'stopped', 'moved n1->n3 heal']);
    });
  });
});

describe('flagEvents: drains and the pause as events', () => {
  const T1 = '0000000010.000001.n1';
  const T2 = '0000000020.000002.n2';
  const flags = (drains: Record<string, [boolean, string]>, pause?: [boolean, string]): Flags => ({
    drains: new Map(Object.entries(drains).map(([node, [value, ver]]) => [node, { value, ver }])),
    pause: pause ? { value: pause[0], ver: pause[1] } : undefined,
  });

  it('a drain set, then cleared, with when and where the command ran', () => {
    const drained = flags({ n3: [true, T1] });
    expect(flagEvents(NO_FLAGS, drained)).toEqual([{ type: 'drain', node: 'n3', draining: true, by: 'n1', at: parseInt('0000000010', 36) }]);
    expect(flagEvents(drained, flags({ n3: [false, T2] }))).toEqual([{ type: 'drain', node: 'n3', draining: false, by: 'n2', at: parseInt('0000000020', 36) }]);
  });

  it('a newer version with the same value is no event; an undrain never drained is none either', () => {
    expect(flagEvents(flags({ n3: [true, T1] }), flags({ n3: [true, T2] }))).toEqual([]);
    expect(flagEvents(NO_FLAGS, flags({ n3: [false, T1] }))).toEqual([]);
  });

  it('pause and resume', () => {
    expect(flagEvents(NO_FLAGS, flags({}, [true, T1]))).toEqual([{ type: 'rebalancing', paused: true, by: 'n1', at: parseInt('0000000010', 36) }]);
    expect(flagEvents(flags({}, [true, T1]), flags({}, [false, T2]))).toEqual([
      { type: 'rebalancing', paused: false, by: 'n2', at: parseInt('0000000020', 36) },
    ]);
    expect(flagEvents(flags({}, [false, T1]), flags({}, [false, T2]))).toEqual([]);
  });
});
