/**
 * The observer's event intake (observer/event-intake.ts): a member the
 * observer loses is unreachable from here until the other members say it is
 * down; what its loss caused is published then, or dropped if it comes back.
 */
import { describe, expect, it } from 'vitest';
import type { DistEvent } from '../src/distributed/events.js';
import { ConvergenceTracker } from '../src/observer/convergence.js';
import {
  EventIntake,
  LEAVING_REASON,
  STOP_HOLD_MS,
  VERDICT_LAG_MS,
  LEASE_HOLD_MS,
  announcedLeave,
  learnedPlacement,
  resolvedAtStop,
  trailsItsStart,
  leaseLapsing,
  drainReason,
  memberVerdict,
  verdictDown,
  wentSilent,
  quietLink,
  stillHeard,
  type MemberFacts,
} from '../src/observer/event-intake.js';

const pid = (node: string, n: number) => `${node}/0123456789abcdef/c${n}`;

function setup(members: MemberFacts[]) {
  const published: DistEvent[] = [];
  const table = new Map(members.map((m) => [m.name, m]));
  let changes = 0;
  const intake = new EventIntake({ publish: (e) => published.push(e), member: (n) => table.get(n), changed: () => changes++ });
  const set = (name: string, over: Partial<MemberFacts>) => table.set(name, { ...table.get(name)!, ...over });
  return { intake, published, set, table, changes: () => changes };
}

const member = (name: string, over: Partial<MemberFacts> = {}): MemberFacts => ({ name, incarnation: `${name}-1`, role: 'member', status: 'up', ...over });
const down = (node: string, at = 10): DistEvent => ({ type: 'node-down', node, role: 'member', reason: 'link lost', at });
const up = (node: string, at = 20): DistEvent => ({ type: 'node-up', node, role: 'member', at });
const started = (id: string, node: string, n: number, at = 1): DistEvent => ({ type: 'started', id, node, pid: pid(node, n), at });
const stopped = (id: string, node: string, n: number, at = 11): DistEvent => ({ type: 'stopped', id, node, pid: pid(node, n), at });
const placed = (id: string, node: string, at = 11): DistEvent => ({ type: 'placed', id, node, by: 'hash', at });
/** A copy's stop and the supervisor's move for it, in the order given (it reports either). */
const stopAndMove = (intake: EventIntake, stopFirst: boolean, stop: DistEvent, move: DistEvent): void => {
  for (const e of stopFirst ? [stop, move] : [move, stop]) intake.onDistEvent(e);
};

describe('memberVerdict', () => {
  it('reachable while linked; down when more than half of the other linked members cannot hear it; else unreachable', () => {
    expect(memberVerdict(member('x'), ['a', 'b'])).toBe('reachable');
    expect(memberVerdict(member('x', { status: 'suspect' }), ['a'])).toBe('reachable');
    expect(memberVerdict(member('x', { status: 'left' }), [])).toBe('down');
    expect(memberVerdict(member('x', { status: 'down' }), [])).toBe('unreachable');
    expect(memberVerdict(member('x', { status: 'down' }), ['a', 'b'])).toBe('unreachable');
    expect(memberVerdict(member('x', { status: 'down', unheardBy: [{ reporter: 'a' }] }), ['a', 'b'])).toBe('unreachable');
    expect(memberVerdict(member('x', { status: 'down', unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] }), ['a', 'b'])).toBe('down');
    expect(memberVerdict(member('x', { status: 'down', unheardBy: [{ reporter: 'a' }] }), ['a'])).toBe('down');
    // A report from a member the observer no longer hears does not count.
    expect(memberVerdict(member('x', { status: 'down', unheardBy: [{ reporter: 'z' }] }), ['a'])).toBe('unreachable');
  });

  it('race "an observer that reaches only the minority": more than half of the members the cluster counts, not of those the observer reaches', () => {
    // Linked to c alone, c cut off from a and b: c's word is one of two.
    const x = member('x', { status: 'down', unheardBy: [{ reporter: 'c' }] });
    expect(memberVerdict(x, ['c'], ['c', 'y', 'x'])).toBe('unreachable');
    // The two others both say so: down, whether the observer reaches one of them or both.
    const both = member('x', { status: 'down', unheardBy: [{ reporter: 'c' }, { reporter: 'y' }] });
    expect(memberVerdict(both, ['c', 'y'], ['c', 'y', 'x'])).toBe('down');
    // A member the observer judged down already does not count (the judge leaves it out of `counted`).
    expect(memberVerdict(x, ['c'], ['c', 'x'])).toBe('down');
  });
});

describe('trailsItsStart', () => {
  const startedAt = new Map([
    ['p1', 5],
    ['p2', 9],
  ]);
  const at = (pid: string) => startedAt.get(pid);
  it('a placement on the node of an instance whose start was published after the last placement trails it; before it, or elsewhere, it does not', () => {
    expect(trailsItsStart(new Map([['p1', 'n2']]), at, 3, 'n2')).toBe(true);
    expect(trailsItsStart(new Map([['p1', 'n2']]), at, undefined, 'n2')).toBe(true);
    expect(trailsItsStart(new Map([['p1', 'n2']]), at, 7, 'n2')).toBe(false);
    expect(trailsItsStart(new Map([['p1', 'n2']]), at, 3, 'n1')).toBe(false);
    // A copy beside an instance on a cut-off member (available mode).
    expect(
      trailsItsStart(
        new Map([
          ['p0', 'n3'],
          ['p2', 'n2'],
        ]),
        at,
        7,
        'n2',
      ),
    ).toBe(true);
    // Seeded or taken in: older than any placement.
    expect(trailsItsStart(new Map([['px', 'n2']]), at, 3, 'n2')).toBe(false);
    expect(trailsItsStart(undefined, at, 3, 'n2')).toBe(false);
    expect(trailsItsStart(new Map([['p1', 'n2']]), at, 3, undefined)).toBe(false);
  });
  it('in the intake: a move seen before its placement is followed by no placement; a placement before the start, a move called off, a pin are told', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' }]);
    t.intake.onDistEvent(stopped('c1', 'x', 1, 10));
    t.intake.onDistEvent(started('c1', 'a', 2, 11));
    t.intake.onDistEvent(placed('c1', 'a', 12));
    expect(t.published.map((e) => e.type)).toEqual(['stopped', 'started']);
    // Placed on x before it starts there: news; called off, back to a where it runs: news too.
    t.intake.onDistEvent(placed('c1', 'x', 20));
    t.intake.onDistEvent(placed('c1', 'a', 21));
    t.intake.onDistEvent({ type: 'placed', id: 'c1', node: 'a', by: 'pin', at: 22 });
    expect(t.published.map((e) => (e.type === 'placed' ? `${e.node}|${e.by}` : e.type))).toEqual(['stopped', 'started', 'x|hash', 'a|hash', 'a|pin']);
  });
});

describe('resolvedAtStop', () => {
  it('one instance left, the older one on another node unseen from here and not judged down', () => {
    const none = new Set<string>();
    expect(resolvedAtStop('n3', 1, 'n1', none, new Set(['n1']))).toBe(true);
    // The copy's node may still be held cut off: its stop at the heal comes before the reports that it is heard again.
    expect(resolvedAtStop('n3', 1, 'n1', new Set(['n3']), new Set(['n1']))).toBe(true);
    // A survivor seen here: the supervisor's stream tells it as it is.
    expect(resolvedAtStop('n3', 1, 'n1', none, none)).toBe(false);
    expect(resolvedAtStop('n3', 1, 'n1', new Set(['n1']), new Set(['n1']))).toBe(false);
    expect(resolvedAtStop('n3', 2, 'n1', none, new Set(['n1']))).toBe(false);
    expect(resolvedAtStop('n1', 1, 'n1', none, new Set(['n1']))).toBe(false);
    expect(resolvedAtStop('n3', 1, undefined, none, new Set(['n1']))).toBe(false);
  });

  it('race "a duplicate resolved long after its stop": the copy stopped at the heal is told resolved then; the move back when the observer sees n1 again adds nothing', () => {
    const t = setup([member('n1'), member('n2'), member('n3')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('n1', 1), node: 'n1' }], owner: 'n1' }]);
    t.intake.observeMembers([...t.table.values()], 0);
    // The observer loses n1 (its stop held); n3, cut off, starts a copy; the supervisor, seeing the copy alone, says moved.
    t.set('n1', { status: 'down' });
    t.intake.onDistEvent(down('n1', 10));
    t.intake.onDistEvent(stopped('c1', 'n1', 1, 10));
    t.intake.onDistEvent(started('c1', 'n3', 2, 20));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'n1', to: 'n3', reason: 'failure', at: 20 });
    // The heal: n3 stops its copy (n1's kept) before the observer links n1 again.
    t.intake.onDistEvent(stopped('c1', 'n3', 2, 100));
    expect(t.published.map((e) => e.type)).toEqual(['started', 'stopped', 'duplicate-resolved']);
    expect(t.published.at(-1)).toEqual({
      type: 'duplicate-resolved',
      id: 'c1',
      survivor: { node: 'n1', pid: pid('n1', 1) },
      stopped: [{ node: 'n3', pid: pid('n3', 2) }],
      at: 100,
    });
    // n1 relinked: its instance seen again, the supervisor reports a move back to it.
    t.set('n1', { status: 'up' });
    t.intake.onDistEvent(up('n1', 400));
    t.intake.onDistEvent(started('c1', 'n1', 1, 410));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'n3', to: 'n1', reason: 'failure', at: 410 });
    t.intake.settle('n1', () => true, 420);
    expect(t.published.map((e) => e.type)).toEqual(['started', 'stopped', 'duplicate-resolved']);
  });
});

describe('wentSilent', () => {
  it('down after a silence of at least the suspect time (frozen, cut off) — not when its connection closed at once (it died), nor when it is up or left', () => {
    // SIGSTOP: last heard at 1,000, dropped at the 3 s heartbeat timeout.
    expect(wentSilent({ status: 'down', lastHeardAt: 1_000, since: 4_000 }, 2_000)).toBe(true);
    // SIGKILL: its socket closed within a ping interval of its last frame.
    expect(wentSilent({ status: 'down', lastHeardAt: 1_000, since: 1_400 }, 2_000)).toBe(false);
    expect(wentSilent({ status: 'left', lastHeardAt: 1_000, since: 9_000 }, 2_000)).toBe(false);
    expect(wentSilent({ status: 'up', lastHeardAt: 1_000, since: 9_000 }, 2_000)).toBe(false);
    // Learned down from gossip, never heard here: nothing says it went silent.
    expect(wentSilent({ status: 'down', since: 9_000 }, 2_000)).toBe(false);
  });
});

describe('EventIntake', () => {
  it('a link the observer alone lost: nothing is published, and the member is unreachable from here meanwhile', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1) }] }]);
    t.intake.onDistEvent(placed('c1', 'x', 1));
    const before = t.published.length;
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    t.intake.onDistEvent(placed('c1', 'a'));
    t.intake.judge([...t.table.values()]);
    expect(t.intake.unreachable()).toEqual(new Set(['x']));
    expect(t.published.length).toBe(before);
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x'));
    t.intake.onDistEvent(started('c1', 'x', 1, 21));
    t.intake.onDistEvent(placed('c1', 'x', 21));
    t.intake.settle('x', () => true, 22);
    expect(t.intake.unreachable().size).toBe(0);
    expect(t.published.length).toBe(before);
  });

  it('race "an owner never published": seeded with its owners, a link the observer alone lost and regained publishes no placement', () => {
    const t = setup([member('a'), member('x')]);
    // As the gateway seeds it: every child's instances and owner, nothing published before.
    t.intake.seed([
      { id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' },
      { id: 'c2', instances: [{ pid: pid('x', 2), node: 'x' }], owner: 'x', pin: 'x' },
    ]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    t.intake.onDistEvent(placed('c1', 'a'));
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x'));
    t.intake.onDistEvent(started('c1', 'x', 1, 21));
    t.intake.onDistEvent(placed('c1', 'x', 21));
    t.intake.onDistEvent({ type: 'placed', id: 'c2', node: 'x', by: 'pin', at: 21 });
    t.intake.settle('x', () => true, 22);
    expect(t.published).toEqual([]);
    // A real change of owner is still news.
    t.intake.onDistEvent(placed('c1', 'a', 30));
    expect(t.published.map((e) => e.type)).toEqual(['placed']);
  });

  it('learnedPlacement: none when it is the one published; taken in when the child runs there already; else published', () => {
    const running = new Map([[pid('x', 1), 'x']]);
    expect(learnedPlacement({ node: 'x', by: 'hash' }, 'x|hash', running)).toBe('none');
    expect(learnedPlacement({ node: 'x', by: 'hash' }, undefined, running)).toBe('take-in');
    expect(learnedPlacement({ node: 'x', by: 'hash' }, 'a|hash', running)).toBe('take-in');
    expect(learnedPlacement({ node: 'a', by: 'hash' }, 'x|hash', running)).toBe('publish');
    expect(learnedPlacement({ node: 'a', by: 'hash' }, undefined, undefined)).toBe('publish');
    expect(learnedPlacement({ node: undefined, by: 'none' }, 'x|hash', running)).toBe('publish');
    // Placed elsewhere while the observer alone had lost x, and it still runs on x: the observer's own view, no news.
    expect(learnedPlacement({ node: 'a', by: 'hash' }, 'x|hash', running, 'x')).toBe('none');
    // It no longer runs on the member that came back: a real change meanwhile.
    expect(learnedPlacement({ node: 'a', by: 'hash' }, 'x|hash', running, 'b')).toBe('publish');
  });

  it('a placement taken in at a return is the latest: a later placement back to an older instance is news', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.onDistEvent(placed('c1', 'x', 1));
    t.intake.onDistEvent(started('c1', 'x', 1, 2));
    t.set('a', { status: 'down' });
    t.intake.onDistEvent(down('a', 10));
    // A copy on a (a cut off, available mode): its placement held with the loss of a, its start published.
    t.intake.onDistEvent(placed('c1', 'a', 11));
    t.intake.onDistEvent(started('c1', 'a', 2, 12));
    t.set('a', { status: 'up' });
    t.intake.onDistEvent(up('a', 20));
    t.intake.settle('a', () => true, 21);
    // The heal: x owns it again.
    t.intake.onDistEvent(placed('c1', 'x', 30));
    expect(t.published.map((e) => (e.type === 'placed' ? `placed ${e.node}` : e.type))).toEqual(['placed x', 'started', 'started', 'placed x']);
  });

  it('race "a relink told as a placement": a child started while a member was unreachable, placed and running there, has no placement published at its return', () => {
    const t = setup([member('a'), member('x')]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    // Started through a meanwhile (the cluster placed it on x): its placement is held with the loss, its start is news.
    t.intake.onDistEvent(placed('c1', 'x', 12));
    t.intake.onDistEvent(started('c1', 'x', 1, 13));
    // Another child moved for real meanwhile (a drain of a): its move is told, its placement held.
    t.intake.seed([{ id: 'c2', instances: [{ pid: pid('a', 2), node: 'a' }], owner: 'a' }]);
    t.intake.onDistEvent(placed('c2', 'x', 14));
    t.intake.onDistEvent(stopped('c2', 'a', 2, 15));
    t.intake.onDistEvent(started('c2', 'x', 2, 15));
    t.intake.onDistEvent({ type: 'moved', id: 'c2', from: 'a', to: 'x', reason: 'drain', at: 15 });
    // A third is placed on x, not running yet.
    t.intake.onDistEvent(placed('c3', 'x', 16));
    const before = t.published.map((e) => e.type);
    expect(before).toEqual(['started', 'stopped', 'started', 'moved']);
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x', 20));
    // Its groups arrive: the observer's supervisor places c1 again (it had placed it without x).
    t.intake.onDistEvent(placed('c1', 'x', 21));
    expect(t.published.length).toBe(4);
    t.intake.settle('x', () => true, 22);
    expect(t.published.slice(4)).toEqual([placed('c3', 'x', 16)]);
    // A later relink places nothing again either.
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 30));
    t.intake.onDistEvent(placed('c1', 'a', 31));
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x', 40));
    t.intake.onDistEvent(placed('c1', 'x', 41));
    t.intake.settle('x', () => true, 42);
    expect(t.published.length).toBe(5);
  });

  it('race "a member lost while catching up": its stops are held, not taken in; back, its instances are no news', () => {
    const published: DistEvent[] = [];
    const table = new Map([
      ['a', member('a')],
      ['x', member('x')],
    ]);
    const intake = new EventIntake({ publish: (e) => published.push(e), member: (n) => table.get(n), changed: () => {}, catchingUp: true });
    intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' }]);
    // The gateway has not judged itself caught up yet when the observer alone loses x.
    table.set('x', member('x', { status: 'down' }));
    intake.onDistEvent(down('x'));
    intake.onDistEvent(stopped('c1', 'x', 1));
    intake.onDistEvent(placed('c1', 'a'));
    intake.endCatchUp();
    table.set('x', member('x'));
    intake.onDistEvent(up('x'));
    intake.onDistEvent(started('c1', 'x', 1, 21));
    intake.onDistEvent(placed('c1', 'x', 21));
    intake.settle('x', () => true, 22);
    // Before: "started c1 on x" (its pid taken in as stopped) and "placed c1 on x".
    expect(published).toEqual([]);
  });

  it('race "an observer that reaches only the minority": two members unheard by the one it reaches stay unreachable, nothing is published', () => {
    const t = setup([member('a'), member('b'), member('c')]);
    t.intake.onDistEvent(started('c1', 'a', 1));
    t.intake.onDistEvent(started('c2', 'b', 1));
    // The observer lost a and b; c, the only member it still reaches, is cut off from them too.
    t.set('a', { status: 'down', unheardBy: [{ reporter: 'c' }] });
    t.set('b', { status: 'down', unheardBy: [{ reporter: 'c' }] });
    t.intake.onDistEvent(down('a', 10));
    t.intake.onDistEvent(down('b', 10));
    t.intake.onDistEvent(stopped('c1', 'a', 1, 11));
    t.intake.onDistEvent(stopped('c2', 'b', 1, 11));
    t.intake.judge([...t.table.values()], 20);
    expect(t.intake.unreachable()).toEqual(new Set(['a', 'b']));
    expect(t.intake.judgedDown().size).toBe(0);
    expect(t.published.map((e) => e.type)).toEqual(['started', 'started']);
  });

  it('one member judged down first, then another: the second needs the remaining members only', () => {
    const t = setup([member('a'), member('b'), member('c')]);
    t.set('a', { status: 'down', unheardBy: [{ reporter: 'b' }, { reporter: 'c' }] });
    t.intake.onDistEvent(down('a', 10));
    t.intake.judge([...t.table.values()], 20);
    expect(t.intake.judgedDown()).toEqual(new Set(['a']));
    t.set('b', { status: 'down', unheardBy: [{ reporter: 'c' }] });
    t.intake.onDistEvent(down('b', 30));
    t.intake.judge([...t.table.values()], 40);
    expect(t.intake.judgedDown()).toEqual(new Set(['a', 'b']));
  });

  it('a member really down: node-down first (at the time it was lost), then the stops, then the restarts elsewhere', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 10));
    t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => e.type)).toEqual(['started']);
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => [e.type, e.at])).toEqual([
      ['started', 1],
      ['node-down', 10],
      ['stopped', 11],
    ]);
    t.intake.onDistEvent(started('c1', 'a', 2, 12));
    expect(t.published.at(-1)).toMatchObject({ type: 'started', node: 'a' });
  });

  it("mixed timing: the node-down and what it caused are stamped with the members' verdict, saying the observer lost its link earlier; convergence is measured from the verdict", () => {
    const t = setup([member('a'), member('b'), member('x')]);
    const tracker = new ConvergenceTracker([]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    // The observer (heartbeat timeout 1 s) loses the frozen member at 1,000; the members (3 s) declare it down at 3,000.
    t.set('x', { status: 'down' });
    t.intake.onDistEvent({ type: 'node-down', node: 'x', role: 'member', reason: 'heartbeat timeout after 1000 ms', at: 1_000 });
    t.intake.onDistEvent(stopped('c1', 'x', 1, 1_001));
    t.intake.judge([...t.table.values()], 1_500);
    expect(t.published.map((e) => e.type)).toEqual(['started']);
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.judge([...t.table.values()], 3_000);
    const [, verdict, stop] = t.published;
    expect(verdict).toEqual({
      type: 'node-down',
      node: 'x',
      role: 'member',
      at: 3_000,
      reason: 'declared down by the members: a, b cannot hear it; this observer had lost its own link 2000 ms before: heartbeat timeout after 1000 ms',
    });
    expect(stop).toMatchObject({ type: 'stopped', at: 3_000 });
    // The restart 130 ms after the verdict: converged in 130 ms, not 2.13 s.
    for (const e of [...t.published.slice(1), started('c1', 'a', 2, 3_130)]) tracker.observe(e);
    expect(tracker.check(() => [{ id: 'c1', status: 'running', instances: [{ pid: pid('a', 2) }] }], 3_200)).toMatchObject({ after: 130 });
    // The verdict within VERDICT_LAG_MS of the loss (a member that died: its connections closed): as the observer saw it.
    expect(verdictDown(down('y', 10) as Extract<DistEvent, { type: 'node-down' }>, 10 + VERDICT_LAG_MS - 1, 'members')).toEqual(down('y', 10));
  });

  it('race: a held child starts elsewhere before the verdict: the loss is published first', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    t.intake.onDistEvent(started('c1', 'b', 2, 12));
    expect(t.published.map((e) => e.type)).toEqual(['started', 'node-down', 'stopped', 'started']);
    expect(t.intake.unreachable().size).toBe(0);
  });

  it("race: the supervisor reports a held child's start elsewhere before the stop of its instance on the lost member: the loss is published first all the same", () => {
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.seed([{ id: 'c0', instances: [{ pid: pid('x', 0), node: 'x' }] }]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    // One change of each child, as diffChild reports it: placed, started elsewhere, moved, then the stop.
    // (The move is published after the stop: until then the child ran twice as far as events said.)
    for (const [id, n] of [
      ['c1', 1],
      ['c0', 0],
    ] as const) {
      t.intake.onDistEvent(placed(id, 'b', 12));
      t.intake.onDistEvent(started(id, 'b', 10 + n, 12));
      t.intake.onDistEvent({ type: 'moved', id, from: 'x', to: 'b', reason: 'failure', at: 12 });
      t.intake.onDistEvent(stopped(id, 'x', n, 12));
    }
    expect(t.published.map((e) => `${e.type}${'id' in e ? ` ${e.id}` : ''}`)).toEqual([
      'started c1',
      'node-down',
      'placed c1',
      'started c1',
      'stopped c1',
      'moved c1',
      'placed c0',
      'started c0',
      'stopped c0',
      'moved c0',
    ]);
    expect(t.intake.unreachable().size).toBe(0);
  });

  it("race \"a minority's takeover taken for the cluster's\": linked to a cut-off member alone, its copies of the lost members' children are news, not their verdict", () => {
    // Linked to n3 alone, n3 cut off from n1 and n2 (available mode): n3 cannot hear them and starts copies of their children.
    const t = setup([member('n1'), member('n2'), member('n3')]);
    t.intake.onDistEvent(started('c1', 'n1', 1));
    t.intake.onDistEvent(started('c2', 'n2', 2));
    for (const n of ['n1', 'n2']) t.set(n, { status: 'down', unheardBy: [{ reporter: 'n3' }] });
    const table = () => ['n1', 'n2', 'n3'].map((n) => t.table.get(n)!);
    t.intake.observeMembers(table(), 10);
    t.intake.onDistEvent(down('n1'));
    t.intake.onDistEvent(down('n2'));
    t.intake.onDistEvent(stopped('c1', 'n1', 1));
    t.intake.onDistEvent(stopped('c2', 'n2', 2));
    for (const [id, from, n] of [
      ['c1', 'n1', 1],
      ['c2', 'n2', 2],
    ] as const) {
      t.intake.onDistEvent(placed(id, 'n3', 12));
      t.intake.onDistEvent(started(id, 'n3', 10 + n, 12));
      t.intake.onDistEvent({ type: 'moved', id, from, to: 'n3', reason: 'failure', at: 12 });
    }
    t.intake.judge(table(), 13);
    // The copies started; nothing stopped, moved or went down as far as anyone here can tell.
    expect(t.published.map((e) => `${e.type}${'id' in e ? ` ${e.id}` : ''}${'node' in e ? ` ${e.node}` : ''}`)).toEqual([
      'started c1 n1',
      'started c2 n2',
      'started c1 n3',
      'started c2 n3',
    ]);
    expect(t.intake.unreachable()).toEqual(new Set(['n1', 'n2']));
    expect(t.intake.judgedDown().size).toBe(0);
    // The heal: n1 and n2 back, their instances never stopped; the heal stops the copies on n3, a duplicate each.
    t.published.length = 0;
    for (const n of ['n1', 'n2']) {
      t.set(n, { status: 'up', unheardBy: [] });
      t.intake.onDistEvent(up(n, 30));
    }
    t.intake.settle('n1', () => true, 31);
    t.intake.settle('n2', () => true, 31);
    t.intake.onDistEvent(stopped('c1', 'n3', 11, 32));
    expect(t.published.map((e) => `${e.type}${'id' in e ? ` ${e.id}` : ''}${'node' in e ? ` ${e.node}` : ''}`)).toEqual(['stopped c1 n3']);
  });

  it("a start elsewhere with the other members' reports in is the verdict: the loss is published first (three of five)", () => {
    const t = setup(['a', 'b', 'c', 'd', 'x'].map((n) => member(n)));
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down', unheardBy: [{ reporter: 'a' }, { reporter: 'c' }] });
    t.intake.observeMembers(
      ['a', 'b', 'c', 'd', 'x'].map((n) => t.table.get(n)!),
      10,
    );
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    // b's start is the third word of four: down.
    t.intake.onDistEvent(started('c1', 'b', 2, 12));
    expect(t.published.map((e) => e.type)).toEqual(['started', 'node-down', 'stopped', 'started']);
  });

  it('race "a copy\'s stop told as a move": a member back from a freeze the members never judged keeps its instance; the copy\'s stop is a duplicate resolved', () => {
    for (const order of ['stop first', 'move first'] as const) {
      const t = setup([member('a'), member('b'), member('x')]);
      t.intake.observeMembers(
        ['a', 'b', 'x'].map((n) => t.table.get(n)!),
        0,
      );
      t.intake.onDistEvent(started('c1', 'x', 1));
      // The observer (shorter timeout) loses x; a alone cannot hear it: no verdict, but a starts a copy.
      t.set('x', { status: 'down', unheardBy: [{ reporter: 'a' }] });
      t.intake.onDistEvent(down('x'));
      t.intake.onDistEvent(stopped('c1', 'x', 1));
      t.intake.onDistEvent(started('c1', 'a', 2, 12));
      // x wakes: back, its instance never stopped; the heal stops the copy on a.
      t.set('x', { status: 'up', unheardBy: [] });
      t.intake.onDistEvent(up('x', 20));
      t.intake.settle('x', () => true, 21);
      const move: DistEvent = { type: 'moved', id: 'c1', from: 'a', to: 'x', reason: 'join', at: 22 };
      stopAndMove(t.intake, order === 'stop first', stopped('c1', 'a', 2, 22), move);
      expect(
        t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`),
        order,
      ).toEqual(['started x', 'started a', 'stopped a', 'duplicate-resolved']);
      expect(t.published.at(-1)).toMatchObject({ survivor: { node: 'x', pid: pid('x', 1) }, stopped: [{ node: 'a', pid: pid('a', 2) }] });
    }
  });

  it('a child that starts elsewhere while a member is lost, and never ran there, does not release the loss', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.onDistEvent(started('c1', 'a', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(started('c2', 'b', 2, 12));
    t.intake.onDistEvent(started('c1', 'b', 3, 12));
    expect(t.published.map((e) => e.type)).toEqual(['started', 'started', 'started']);
    expect(t.intake.unreachable()).toEqual(new Set(['x']));
  });

  it('back as another incarnation: it was down; the node-up follows the held loss', () => {
    const t = setup([member('a'), member('x')]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.set('x', { status: 'up', incarnation: 'x-2' });
    t.intake.onDistEvent(up('x'));
    expect(t.published.map((e) => e.type)).toEqual(['node-down', 'node-up']);
  });

  it('back, but an instance stopped meanwhile: its stop is published once the live state has arrived', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.seed([
      { id: 'c1', instances: [{ pid: pid('x', 1) }] },
      { id: 'c2', instances: [{ pid: pid('x', 2) }] },
    ]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    t.intake.onDistEvent(stopped('c2', 'x', 2));
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x'));
    t.intake.onDistEvent(started('c1', 'x', 1));
    expect(t.intake.returningNodes()).toEqual(['x']);
    t.intake.settle('x', (id) => id === 'c1', 30);
    expect(t.published).toEqual([{ type: 'stopped', id: 'c2', node: 'x', pid: pid('x', 2), at: 30 }]);
    expect(t.intake.returningNodes()).toEqual([]);
  });

  it('observers and ctl sessions are counted, not published', () => {
    const t = setup([member('a')]);
    t.intake.onDistEvent({ type: 'node-up', node: 'ctl-1', role: 'observer', at: 1 });
    t.intake.onDistEvent({ type: 'node-down', node: 'ctl-1', role: 'observer', reason: 'left', at: 2 });
    expect(t.published).toEqual([]);
    expect(t.intake.sessions).toBe(1);
  });

  it('members up before the observer started are discovered, not joining; a later incarnation joins', () => {
    const published: DistEvent[] = [];
    const table = new Map([
      ['a', member('a', { startedAt: 5 })],
      ['b', member('b', { startedAt: 50 })],
    ]);
    const intake = new EventIntake({ publish: (e) => published.push(e), member: (n) => table.get(n), changed: () => {}, startedAt: 10 });
    intake.onDistEvent(up('a'));
    intake.onDistEvent(up('b'));
    expect(published.map((e) => e.type === 'node-up' && e.node)).toEqual(['b']);
    // a restarts: its new incarnation is news.
    table.set('a', member('a', { startedAt: 5, status: 'down' }));
    intake.onDistEvent(down('a'));
    table.set('a', member('a', { incarnation: 'a-2', startedAt: 60 }));
    intake.onDistEvent(up('a'));
    expect(published.map((e) => `${e.type}:${'node' in e ? e.node : ''}`)).toEqual(['node-up:b', 'node-down:a', 'node-up:a']);
  });

  it('with no other member to ask, a lost member stays unreachable', () => {
    const t = setup([member('x')]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.judge([...t.table.values()]);
    expect(t.published).toEqual([]);
    expect(t.intake.unreachable()).toEqual(new Set(['x']));
  });

  it('a member gone from the table (reaped or left) is down', () => {
    const t = setup([member('a'), member('x')]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.table.delete('x');
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => e.type)).toEqual(['node-down']);
  });
});

describe('a stop command', () => {
  /** An intake whose children `live` have a spec, and `asked`: who asked this gateway to stop which. */
  const stopSetup = (ids: string[], asked: Record<string, string>) => {
    const published: DistEvent[] = [];
    const live = new Set(ids);
    const intake = new EventIntake({
      publish: (e) => published.push(e),
      member: () => undefined,
      changed: () => {},
      isLive: (id) => live.has(id),
      stopAsked: (id) => asked[id],
    });
    return { intake, published, live };
  };

  it('a terminated child is not "placed nowhere": that placement is not published, and its stop says it stopped for good, and who asked', () => {
    const { intake, published, live } = stopSetup(['c1', 'c2'], { c1: 'alice' });
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(started('c2', 'a', 2));
    // c1 stopped by alice's command; c2 has no node to run on any more (every node draining), a real "placed nowhere".
    live.delete('c1');
    intake.onDistEvent({ type: 'placed', id: 'c1', node: undefined, by: 'none', at: 5 });
    intake.onDistEvent(stopped('c1', 'a', 1, 6));
    intake.onDistEvent({ type: 'placed', id: 'c2', node: undefined, by: 'none', at: 7 });
    // Held until the gateway's tick: the supervisor reports it before its own view of the child is updated.
    expect(published.length).toBe(3);
    intake.settleNowhere();
    expect(published.slice(2)).toEqual([
      { ...stopped('c1', 'a', 1, 6), terminated: true, by: 'alice' },
      { type: 'placed', id: 'c2', node: undefined, by: 'none', at: 7 },
    ]);
    // Terminated with no stop asked here (pogo ctl elsewhere, or the child ended): for good, no name.
    live.delete('c2');
    intake.onDistEvent(stopped('c2', 'a', 2, 8));
    expect(published.at(-1)).toEqual({ ...stopped('c2', 'a', 2, 8), terminated: true });
  });

  it('race "a stop during a split told as a move": the instance the stop ends leaves a copy on a cut-off member: no move', () => {
    // Available mode, x cut off and running a copy of c1; an operator stops c1 through a member of the majority. The
    // supervisor's diff saw c1 go from two instances to x's one and reported it "moved a → x (node joined)" (an outsider's tour).
    const { intake, published, live } = stopSetup(['c1'], { c1: 'alice' });
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(started('c1', 'x', 2, 3));
    live.delete('c1');
    intake.onDistEvent(stopped('c1', 'a', 1, 6));
    intake.onDistEvent({ type: 'moved', id: 'c1', from: 'a', to: 'x', reason: 'join', at: 6 });
    intake.settleNowhere();
    expect(published.map((e) => e.type)).toEqual(['started', 'started', 'stopped']);
    expect(published.at(-1)).toEqual({ ...stopped('c1', 'a', 1, 6), terminated: true, by: 'alice' });
  });

  it("race \"the stop heard before the spec's removal\": the owner's leave arriving first is held, then told as the operator's stop", () => {
    const { intake, published, live } = stopSetup(['c1', 'c2', 'c3'], { c1: 'alice', c2: 'bob' });
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(started('c2', 'a', 2));
    intake.onDistEvent(started('c3', 'a', 3));
    published.length = 0;
    // c1's instance gone while its spec is still live here: the removal is on its way from another member.
    intake.onDistEvent(stopped('c1', 'a', 1, 10));
    // c3 stopped with no stop asked here (a crash, a move): told at once, as before.
    intake.onDistEvent(stopped('c3', 'a', 3, 11));
    expect(published).toEqual([stopped('c3', 'a', 3, 11)]);
    intake.settleStops(12);
    expect(published.length).toBe(1);
    // The removal arrives: its no-node placement does not release the stop, the tick does, as the operator's.
    live.delete('c1');
    intake.onDistEvent({ type: 'placed', id: 'c1', node: undefined, by: 'none', at: 13 });
    intake.settleNowhere();
    intake.settleStops(14);
    expect(published.slice(1)).toEqual([{ ...stopped('c1', 'a', 1, 10), terminated: true, by: 'alice' }]);
    // A stop asked that did not remove the spec (it was refused, or restarted elsewhere): a later event of the child tells it first...
    intake.onDistEvent(stopped('c2', 'a', 2, 20));
    intake.onDistEvent(started('c2', 'b', 4, 21));
    expect(published.slice(2)).toEqual([stopped('c2', 'a', 2, 20), started('c2', 'b', 4, 21)]);
    // ...and with none, the hold ends after STOP_HOLD_MS, the stop told as it is.
    intake.onDistEvent(stopped('c2', 'b', 4, 30));
    intake.settleStops(30 + STOP_HOLD_MS - 1);
    expect(published.length).toBe(4);
    intake.settleStops(30 + STOP_HOLD_MS);
    expect(published.at(-1)).toEqual(stopped('c2', 'b', 4, 30));
  });
});

describe('race "a drain heard late told as a node down"', () => {
  const drain = (node: string, at: number): DistEvent => ({ type: 'drain', node, draining: true, by: node, at });
  const moved = (id: string, from: string, to: string, at: number): DistEvent => ({ type: 'moved', id, from, to, reason: 'failure', at });

  it('a member the observer alone lost is drained through another: its moves say drain, however late the flag came; no node-down', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' }]);
    t.intake.observeMembers([...t.table.values()], 0);
    // The observer alone loses x (a and b hear it).
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    // x is drained at 19 through a member the observer does not reach; the observer's supervisor, with x down in its
    // own table and no drain known, reports the move off x as a failure.
    t.intake.onDistEvent(started('c1', 'a', 2, 20));
    t.intake.onDistEvent(moved('c1', 'x', 'a', 20));
    t.intake.judge([...t.table.values()]);
    // The drain flag comes seconds later, then x is linked again: its instance had stopped.
    t.intake.onDistEvent(drain('x', 19));
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x', 30));
    t.intake.settle('x', () => false, 31);
    expect(t.published.map((e) => e.type)).toEqual(['started', 'drain', 'stopped', 'moved']);
    expect(t.published.at(-1)).toMatchObject({ type: 'moved', from: 'x', to: 'a', reason: 'drain' });
  });

  it('drainReason: drain when the node left was draining by the time of the move; a pin stays a pin; a later drain changes nothing', () => {
    const m = { type: 'moved', id: 'c1', from: 'x', to: 'a', reason: 'failure', at: 20 } as const;
    expect(drainReason(m, 19)).toEqual({ ...m, reason: 'drain' });
    expect(drainReason(m, 21)).toBe(m);
    expect(drainReason(m, undefined)).toBe(m);
    expect(drainReason({ ...m, reason: 'pin' }, 19).reason).toBe('pin');
  });

  it('a start elsewhere of a child of a lost member known to be draining is no verdict on it', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' }]);
    t.intake.observeMembers([...t.table.values()], 0);
    t.intake.onDistEvent(drain('x', 5));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    // a alone is left to ask: without the drain, a's start of c1 would be its word that x is down.
    t.intake.onDistEvent(started('c1', 'a', 2, 20));
    expect(t.published.map((e) => e.type)).toEqual(['drain', 'started']);
    expect(t.intake.unreachable()).toEqual(new Set(['x']));
  });
});

describe('catching up: what the observer learns as it links is the past', () => {
  it('the starts and placements of the initial sync are taken in, not published; what follows is told against them', () => {
    const published: DistEvent[] = [];
    const table = new Map([['a', member('a', { startedAt: 5 })]]);
    const intake = new EventIntake({ publish: (e) => published.push(e), member: (n) => table.get(n), changed: () => {}, startedAt: 10, catchingUp: true });
    expect(intake.catchingUp).toBe(true);
    intake.onDistEvent(up('a'));
    // The initial sync: every child's view diffed as the members' state arrives.
    intake.onDistEvent(placed('c1', 'a'));
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(placed('c2', 'a'));
    intake.onDistEvent(started('c2', 'a', 2));
    expect(published).toEqual([]);
    intake.endCatchUp();
    // The same owner again is no news; a start of a pid taken in is none either; the stop of one is.
    intake.onDistEvent(placed('c1', 'a'));
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(stopped('c2', 'a', 2));
    intake.onDistEvent(started('c3', 'a', 3));
    expect(published.map((e) => `${e.type}:${'id' in e ? e.id : ''}`)).toEqual(['stopped:c2', 'started:c3']);
  });

  it('race "an isolated observer\'s owners taken for the past": the placements nowhere of an observer linked to no member are held, not taken in', () => {
    const t = setup([member('a'), member('x')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('x', 1), node: 'x' }], owner: 'x' }]);
    // The observer loses every member: x first, then a; linked to none, it catches up again.
    for (const n of ['x', 'a']) {
      t.set(n, { status: 'down' });
      t.intake.onDistEvent(down(n));
    }
    t.intake.beginCatchUp();
    t.intake.onDistEvent(stopped('c1', 'x', 1));
    // Its supervisor, with no candidate, places the child nowhere; then, a linked again first, on a.
    t.intake.onDistEvent({ type: 'placed', id: 'c1', node: undefined, by: 'none', at: 12 });
    t.set('a', { status: 'up' });
    t.intake.onDistEvent(up('a'));
    t.intake.onDistEvent(placed('c1', 'a', 21));
    t.intake.endCatchUp();
    // x is back: the child is placed on x again, as it was all along; its instance never stopped.
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x'));
    t.intake.onDistEvent(started('c1', 'x', 1, 22));
    t.intake.onDistEvent(placed('c1', 'x', 22));
    t.intake.settle('x', () => true, 23);
    expect(t.published).toEqual([]);
  });

  it('linked to no member again: catching up again until the gateway says it has caught up; membership is judged as always', () => {
    const { intake, published } = setup([member('a'), member('b')]);
    expect(intake.catchingUp).toBe(false);
    intake.beginCatchUp();
    intake.onDistEvent(started('c1', 'a', 1));
    intake.onDistEvent(up('b'));
    expect(published.map((e) => e.type)).toEqual(['node-up']);
    intake.endCatchUp();
    intake.onDistEvent(started('c4', 'b', 4));
    expect(published.map((e) => e.type)).toEqual(['node-up', 'started']);
  });
});

describe('moves and duplicates', () => {
  const moved = (id: string, from: string, to: string, at: number, reason: 'heal' | 'join' = 'heal'): DistEvent => ({
    type: 'moved',
    id,
    from,
    to,
    reason,
    at,
  });

  it("the supervisor's stream of a duplicate passes as it is: starts and stops, and a move only once the child runs alone elsewhere", () => {
    const t = setup([member('n1'), member('n3')]);
    t.intake.seed([
      { id: 'kept', instances: [{ pid: pid('n1', 1), node: 'n1' }] },
      { id: 'taken', instances: [{ pid: pid('n1', 2), node: 'n1' }] },
    ]);
    // n3 wakes from a pause with its own instances of both (distributed/events.ts diffChild: starts, no move).
    const stream = [
      started('kept', 'n3', 3, 100),
      started('taken', 'n3', 4, 100),
      stopped('kept', 'n3', 3, 300),
      stopped('taken', 'n1', 2, 300),
      moved('taken', 'n1', 'n3', 300),
    ];
    for (const e of stream) t.intake.onDistEvent(e);
    expect(t.published).toEqual(stream);
  });

  // The rows below feed a stream as the supervisor reported duplicates before (a move at the second
  // instance's start): the intake's rule still holds for it, and it covers its own late stops the same way.
  it('a duplicate whose new instance is the one stopped after the heal: no move is published (the child stayed where it ran)', () => {
    const t = setup([member('n1'), member('n3')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('n1', 1), node: 'n1' }] }]);
    // n3, frozen past the timeout, wakes up alone and starts c1; the supervisor reports a move n1 → n3.
    t.intake.onDistEvent(started('c1', 'n3', 2, 100));
    t.intake.onDistEvent(moved('c1', 'n1', 'n3', 100));
    // The heal keeps the owner's instance (n1) and stops n3's.
    t.intake.onDistEvent(stopped('c1', 'n3', 2, 300));
    expect(t.published.map((e) => [e.type, 'node' in e ? e.node : ''])).toEqual([
      ['started', 'n3'],
      ['stopped', 'n3'],
    ]);
  });

  it('a duplicate whose old instance is the one stopped: the move is published when it stopped, after the stop', () => {
    const t = setup([member('n1'), member('n3')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('n1', 1), node: 'n1' }] }]);
    t.intake.onDistEvent(started('c1', 'n3', 2, 100));
    t.intake.onDistEvent(moved('c1', 'n1', 'n3', 100));
    expect(t.published.map((e) => e.type)).toEqual(['started']);
    t.intake.onDistEvent(stopped('c1', 'n1', 1, 300));
    expect(t.published.map((e) => [e.type, e.at])).toEqual([
      ['started', 100],
      ['stopped', 300],
      ['moved', 300],
    ]);
    expect(t.published[2]).toMatchObject({ from: 'n1', to: 'n3', reason: 'heal' });
  });

  it('a plain move is published as it comes, whether the old stop was reported before it or in the same diff after it', () => {
    const t = setup([member('n1'), member('n2')]);
    t.intake.seed([
      { id: 'a', instances: [{ pid: pid('n1', 1), node: 'n1' }] },
      { id: 'b', instances: [{ pid: pid('n1', 2), node: 'n1' }] },
    ]);
    t.intake.onDistEvent(stopped('a', 'n1', 1, 10));
    t.intake.onDistEvent(started('a', 'n2', 3, 20));
    t.intake.onDistEvent(moved('a', 'n1', 'n2', 20, 'join'));
    // One diff: started, moved, stopped (distributed/events.ts diffChild's order).
    t.intake.onDistEvent(started('b', 'n2', 4, 30));
    t.intake.onDistEvent(moved('b', 'n1', 'n2', 30, 'join'));
    t.intake.onDistEvent(stopped('b', 'n1', 2, 30));
    expect(t.published.map((e) => `${e.type}:${'id' in e ? e.id : ''}`)).toEqual(['stopped:a', 'started:a', 'moved:a', 'started:b', 'stopped:b', 'moved:b']);
  });

  /** What both "healed duplicate" races publish: x lost and back, b's copy stopped, one duplicate resolved with x's instance kept. */
  const expectHealedDuplicate = (published: ReadonlyArray<{ type: string }>, what?: string): void => {
    expect(
      published.map((e) => `${e.type}${'node' in e ? ` ${String(e.node)}` : ''}`),
      what,
    ).toEqual(['started x', 'node-down x', 'stopped x', 'started b', 'node-up x', 'stopped b', 'duplicate-resolved']);
    expect(published.at(-1)).toEqual({
      type: 'duplicate-resolved',
      id: 'c1',
      survivor: { node: 'x', pid: pid('x', 1) },
      stopped: [{ node: 'b', pid: pid('b', 2) }],
      at: 22,
    });
  };

  it('race "a healed duplicate told as a move": a lost member whose children were restarted elsewhere comes back with them: no move, a duplicate stopped', () => {
    for (const order of ['stop, then move', 'move, then stop'] as const) {
      const t = setup([member('a'), member('b'), member('x')]);
      t.intake.onDistEvent(started('c1', 'x', 1));
      // x is frozen: the observer loses it; b declares it down and starts a copy.
      t.set('x', { status: 'down' });
      t.intake.onDistEvent(down('x', 10));
      t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
      t.intake.onDistEvent(started('c1', 'b', 2, 12));
      // x wakes: the same incarnation, its instance (the same pid) seen again; the copy is stopped.
      t.set('x', { status: 'up' });
      t.intake.onDistEvent(up('x', 20));
      t.intake.onDistEvent(started('c1', 'x', 1, 21));
      const heal: DistEvent = { type: 'moved', id: 'c1', from: 'b', to: 'x', reason: 'heal', at: 22 };
      stopAndMove(t.intake, order === 'stop, then move', stopped('c1', 'b', 2, 22), heal);
      expectHealedDuplicate(t.published, order);
    }
  });

  it('race "a healed duplicate told as a move", the copy stopped before the instance is seen again: still a duplicate resolved, no move', () => {
    // An observer on the minority side of a split (available mode): it lost x with the majority, x's children ran on,
    // and at the heal the copy's stop reached the observer before x's live state did (an outsider's tour:
    // "30 moved from n3 to n1 (node joined)" of instances that had run on n1 all along).
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 10));
    t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
    t.intake.onDistEvent(started('c1', 'b', 2, 12));
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x', 20));
    t.intake.onDistEvent(stopped('c1', 'b', 2, 21));
    t.intake.onDistEvent(started('c1', 'x', 1, 22));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'b', to: 'x', reason: 'join', at: 22 });
    expectHealedDuplicate(t.published);
  });

  it('race "a healed duplicate never converges": the survivor of a duplicate resolved counts as a reported start', () => {
    // The instance seen again is not published as started (it never stopped); the convergence after the heal waited
    // for that start for ever ("converging…" on a cluster that ran every child once, an outsider's tour).
    const t = setup([member('a'), member('b'), member('x')]);
    const tracker = new ConvergenceTracker([]);
    let told = 0;
    const tell = () => {
      for (const e of t.published.slice(told)) tracker.observe(e);
      told = t.published.length;
    };
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 10));
    t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
    t.intake.onDistEvent(started('c1', 'b', 2, 12));
    tell();
    expect(tracker.check(() => [{ id: 'c1', status: 'running', instances: [{ pid: pid('b', 2) }] }], 15)).toMatchObject({ cause: 'node-down' });
    t.set('x', { status: 'up' });
    t.intake.onDistEvent(up('x', 20));
    t.intake.onDistEvent(started('c1', 'x', 1, 21));
    t.intake.onDistEvent(stopped('c1', 'b', 2, 22));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'b', to: 'x', reason: 'heal', at: 22 });
    tell();
    expect(t.published.at(-1)).toMatchObject({ type: 'duplicate-resolved' });
    expect(tracker.check(() => [{ id: 'c1', status: 'running', instances: [{ pid: pid('x', 1) }] }], 30)).toMatchObject({
      type: 'converged',
      cause: 'node-up',
      after: 2,
    });
  });

  it('race "a cut-off member never down on the timeline": down when the others cannot hear it, though this observer does; up when they hear it again', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.intake.observeCutOff([...t.table.values()], 5);
    expect(kinds()).toEqual(['started x']);
    // a and b cannot hear x; this observer still does.
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.observeCutOff([...t.table.values()], 10);
    t.intake.observeCutOff([...t.table.values()], 10);
    expect(t.published.at(-1)).toEqual({
      type: 'node-down',
      node: 'x',
      role: 'member',
      reason: 'cut off: a, b cannot hear it; this observer still does',
      at: 10,
    });
    // The takeover (majority mode: x stops its instance, a starts one).
    t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
    t.intake.onDistEvent(started('c1', 'a', 2, 12));
    // The heal: they hear it again.
    t.set('x', { unheardBy: [] });
    t.intake.observeCutOff([...t.table.values()], 20);
    expect(kinds()).toEqual(['started x', 'node-down x', 'stopped x', 'started a', 'node-up x']);
    expect(t.published.at(-1)).toEqual({ type: 'node-up', node: 'x', role: 'member', at: 20 });
  });

  it('leaseLapsing: a linked majority-mode member, ready, its start gate closed; not in available mode, not one joining, not one lost', () => {
    const m = member('x', { netsplit: { mode: 'majority' }, ready: true, startable: false });
    expect(leaseLapsing(m)).toBe(true);
    expect(leaseLapsing({ ...m, status: 'suspect' })).toBe(true);
    expect(leaseLapsing({ ...m, startable: true })).toBe(false);
    expect(leaseLapsing({ ...m, startable: undefined })).toBe(false);
    expect(leaseLapsing({ ...m, ready: false })).toBe(false);
    expect(leaseLapsing({ ...m, netsplit: { mode: 'available' } })).toBe(false);
    expect(leaseLapsing({ ...m, status: 'down' })).toBe(false);
    expect(leaseLapsing(undefined)).toBe(false);
  });

  it('race "the lease\'s stops before the cut-off": majority mode, the stops of a member whose lease lapsed wait for the verdict on it, which heads them', () => {
    const majority = { netsplit: { mode: 'majority' }, ready: true, startable: true };
    const t = setup([member('a', majority), member('b', majority), member('x', majority)]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.intake.observeMembers([...t.table.values()], 1);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.intake.onDistEvent(started('c2', 'x', 2));
    // x's lease lapses (cut off from a and b): it closes its start gate, then stops its children, before a and b declare it down.
    t.set('x', { startable: false });
    t.intake.onDistEvent(stopped('c1', 'x', 1, 100));
    t.intake.onDistEvent(stopped('c2', 'x', 2, 100));
    t.intake.observeCutOff([...t.table.values()], 150);
    expect(kinds()).toEqual(['started x', 'started x']);
    // Their reports arrive; the observer's supervisor places x's children elsewhere at once, before the gateway's tick.
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.onDistEvent(placed('c1', 'a', 200));
    t.intake.observeCutOff([...t.table.values()], 250);
    expect(kinds()).toEqual(['started x', 'started x', 'node-down x', 'stopped x', 'stopped x', 'placed a']);
    // Stamped no earlier than the verdict that heads them.
    expect(t.published.slice(2, 5).map((e) => e.at)).toEqual([200, 200, 200]);
  });

  it('stops held for a lease that lapsed: published as they are when no verdict comes (the gate opens again, or LEASE_HOLD_MS passes), before a later event of the child', () => {
    const majority = { netsplit: { mode: 'majority' }, ready: true, startable: true };
    const t = setup([member('a', majority), member('b', majority), member('x', majority)]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.intake.observeMembers([...t.table.values()], 1);
    for (const n of [1, 2, 3]) t.intake.onDistEvent(started(`c${n}`, 'x', n));
    t.set('x', { startable: false });
    t.intake.onDistEvent(stopped('c1', 'x', 1, 100));
    t.intake.observeCutOff([...t.table.values()], 100 + LEASE_HOLD_MS - 1);
    expect(kinds()).toEqual(['started x', 'started x', 'started x']);
    t.intake.observeCutOff([...t.table.values()], 100 + LEASE_HOLD_MS);
    expect(t.published.at(-1)).toEqual(stopped('c1', 'x', 1, 100));
    // The gate opens again: published at once.
    t.intake.onDistEvent(stopped('c2', 'x', 2, 10_000));
    t.set('x', { startable: true });
    t.intake.observeCutOff([...t.table.values()], 10_001);
    expect(t.published.at(-1)).toEqual(stopped('c2', 'x', 2, 10_000));
    // A later event of the child publishes its held stop first.
    t.set('x', { startable: false });
    t.intake.onDistEvent(stopped('c3', 'x', 3, 20_000));
    t.intake.onDistEvent(started('c3', 'x', 4, 20_001));
    expect(kinds().slice(-2)).toEqual(['stopped x', 'started x']);
  });

  it('stops held for a lease that lapsed, then this observer loses the member: they are part of its loss, held with it', () => {
    const majority = { netsplit: { mode: 'majority' }, ready: true, startable: true };
    const t = setup([member('a', majority), member('b', majority), member('x', majority)]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.intake.observeMembers([...t.table.values()], 1);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('x', { startable: false });
    t.intake.onDistEvent(stopped('c1', 'x', 1, 100));
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 120));
    expect(t.intake.heldInstances().get('c1')).toEqual([{ node: 'x', pid: pid('x', 1) }]);
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.judge([...t.table.values()], 130);
    expect(kinds()).toEqual(['started x', 'node-down x', 'stopped x']);
  });

  it('race "a cut-off member back because a reporter went quiet": a reporter this observer loses is no word that it is heard again', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.observeCutOff([...t.table.values()], 10);
    expect(kinds()).toEqual(['node-down x']);
    // This observer loses a (b and x still hear it): a's report goes with the link; b still cannot hear x.
    t.set('a', { status: 'down' });
    t.set('x', { unheardBy: [{ reporter: 'b' }] });
    t.intake.onDistEvent(down('a', 15));
    t.intake.observeCutOff([...t.table.values()], 16);
    expect(kinds()).toEqual(['node-down x']);
    // b hears x again: of b and a (not asked), no majority is left against it: up.
    t.set('x', { unheardBy: [] });
    t.intake.observeCutOff([...t.table.values()], 20);
    expect(kinds()).toEqual(['node-down x', 'node-up x']);
  });

  it('a cut-off member this observer loses too: no second node-down; the node-up of its relink once', () => {
    const t = setup([member('a'), member('b'), member('x')]);
    const kinds = () => t.published.map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`);
    t.set('x', { unheardBy: [{ reporter: 'a' }, { reporter: 'b' }] });
    t.intake.observeCutOff([...t.table.values()], 10);
    // Later this observer loses it too: the members' reports make it down at once.
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x', 40));
    t.intake.observeCutOff([...t.table.values()], 41);
    t.intake.judge([...t.table.values()], 41);
    // Back, heard by everyone.
    t.set('x', { status: 'up', unheardBy: [] });
    t.intake.onDistEvent(up('x', 60));
    t.intake.observeCutOff([...t.table.values()], 61);
    expect(kinds()).toEqual(['node-down x', 'node-up x']);
  });

  it('race "a loss judged at once": a member the others declared down first, its stop published straight away, is seen again at the heal: a duplicate resolved', () => {
    // The observer on the minority side (available mode): a (n3) had declared x (n1) down and started a copy before the
    // observer lost x, so the members' verdict was there as the observer lost it, and the stop of x's instance was
    // published as it came, not held (an outsider's tour: "30 started on n1", "30 moved from n3 to n1 (node joined)"
    // at the heal, of instances that had run on n1 all along).
    const t = setup([member('a'), member('b'), member('x')]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.set('b', { status: 'down', unheardBy: [{ reporter: 'a' }, { reporter: 'x' }] });
    t.intake.onDistEvent(down('b', 5));
    t.intake.judge([...t.table.values()], 5);
    t.intake.onDistEvent(started('c1', 'a', 2, 6));
    t.set('x', { status: 'down', unheardBy: [{ reporter: 'a' }] });
    t.intake.onDistEvent(down('x', 10));
    t.intake.judge([...t.table.values()], 10);
    t.intake.onDistEvent(stopped('c1', 'x', 1, 11));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'x', to: 'a', reason: 'failure', at: 11 });
    // The heal: the copy stops, x is back with the instance it never stopped.
    t.intake.onDistEvent(stopped('c1', 'a', 2, 20));
    t.set('x', { status: 'up', unheardBy: [] });
    t.intake.onDistEvent(up('x', 21));
    t.intake.onDistEvent(started('c1', 'x', 1, 22));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'a', to: 'x', reason: 'join', at: 22 });
    expect(t.published.filter((e) => e.type !== 'node-down' && e.type !== 'node-up').map((e) => `${e.type}${'node' in e ? ` ${e.node}` : ''}`)).toEqual([
      'started x',
      'started a',
      'stopped x',
      'moved',
      'stopped a',
      'duplicate-resolved',
    ]);
  });

  it('a duplicate stopped, then the child stopped for good: still no move', () => {
    const t = setup([member('n1'), member('n3')]);
    t.intake.seed([{ id: 'c1', instances: [{ pid: pid('n1', 1), node: 'n1' }] }]);
    t.intake.onDistEvent(started('c1', 'n3', 2, 100));
    t.intake.onDistEvent(moved('c1', 'n1', 'n3', 100));
    t.intake.onDistEvent(stopped('c1', 'n3', 2, 300));
    t.intake.onDistEvent(stopped('c1', 'n1', 1, 400));
    expect(t.published.map((e) => `${e.type}:${'node' in e ? e.node : ''}`)).toEqual(['started:n3', 'stopped:n3', 'stopped:n1']);
  });
});

describe('a graceful leave', () => {
  it('announcedLeave: the same incarnation, up, ready before and not now; a member still joining is not leaving', () => {
    const ready = member('x', { ready: true });
    expect(announcedLeave(ready, member('x', { ready: false }))).toBe(true);
    expect(announcedLeave(ready, member('x', { ready: false, status: 'suspect' }))).toBe(true);
    expect(announcedLeave(undefined, member('x', { ready: false }))).toBe(false);
    expect(announcedLeave(member('x', { ready: false }), member('x', { ready: false }))).toBe(false);
    expect(announcedLeave(member('x', { ready: false }), member('x', { ready: true }))).toBe(false);
    expect(announcedLeave(ready, member('x', { ready: false, incarnation: 'x-2' }))).toBe(false);
    expect(announcedLeave(ready, member('x', { ready: false, status: 'left' }))).toBe(false);
    expect(announcedLeave(ready, member('x', { ready: false, role: 'observer' }))).toBe(false);
  });

  it('race "the moves of a leave come before its node-down": the node-down is published when the member says it leaves, before the moves; its `leave` adds no second one', () => {
    const t = setup([member('a', { ready: true }), member('b', { ready: true }), member('x', { ready: true })]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.intake.observeMembers([...t.table.values()], 5);
    // x is stopping (SIGTERM): it takes no children any more, and stops its own one by one.
    t.set('x', { ready: false });
    t.intake.observeMembers([...t.table.values()], 10);
    t.intake.onDistEvent(stopped('c1', 'x', 1, 400));
    t.intake.onDistEvent(started('c1', 'a', 2, 410));
    t.intake.onDistEvent({ type: 'moved', id: 'c1', from: 'x', to: 'a', reason: 'leave', at: 410 });
    // Then it sends `leave`: the member table says left, the supervisor reports it down.
    t.set('x', { status: 'left' });
    t.intake.onDistEvent({ type: 'node-down', node: 'x', role: 'member', reason: 'received SIGTERM', at: 900 });
    t.intake.observeMembers([...t.table.values()], 900);
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => [e.type, e.at])).toEqual([
      ['started', 1],
      ['node-down', 10],
      ['stopped', 400],
      ['started', 410],
      ['moved', 410],
    ]);
    expect(t.published[1]).toMatchObject({ node: 'x', role: 'member', reason: LEAVING_REASON });
    expect(t.intake.judgedDown()).toEqual(new Set(['x']));
  });

  it('a child still running on the member when its leave arrives: its stop is published, the second node-down is not', () => {
    const t = setup([member('a', { ready: true }), member('x', { ready: true })]);
    t.intake.onDistEvent(started('c1', 'x', 1));
    t.intake.observeMembers([...t.table.values()], 5);
    t.set('x', { ready: false });
    t.intake.observeMembers([...t.table.values()], 10);
    t.set('x', { status: 'left' });
    t.intake.onDistEvent({ type: 'node-down', node: 'x', role: 'member', reason: 'received SIGTERM', at: 900 });
    t.intake.onDistEvent(stopped('c1', 'x', 1, 900));
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => e.type)).toEqual(['started', 'node-down', 'stopped']);
  });

  it('a new incarnation of a member that left is up again, and its own later leave is published', () => {
    const t = setup([member('a', { ready: true }), member('x', { ready: true })]);
    t.intake.observeMembers([...t.table.values()], 5);
    t.set('x', { ready: false });
    t.intake.observeMembers([...t.table.values()], 10);
    t.set('x', { status: 'left' });
    t.intake.onDistEvent({ type: 'node-down', node: 'x', role: 'member', reason: 'received SIGTERM', at: 20 });
    t.intake.judge([...t.table.values()]);
    t.set('x', { status: 'up', incarnation: 'x-2', ready: false });
    t.intake.onDistEvent(up('x', 30));
    t.intake.observeMembers([...t.table.values()], 30);
    t.set('x', { ready: true });
    t.intake.observeMembers([...t.table.values()], 40);
    t.set('x', { ready: false });
    t.intake.observeMembers([...t.table.values()], 50);
    expect(t.published.map((e) => [e.type, e.at])).toEqual([
      ['node-down', 10],
      ['node-up', 30],
      ['node-down', 50],
    ]);
  });
});

describe('EventIntake: bounds', () => {
  it('a member unreachable for long holds one placement per child, however often owners flicker', () => {
    const t = setup([member('a'), member('x')]);
    t.set('x', { status: 'down' });
    t.intake.onDistEvent(down('x'));
    for (let i = 0; i < 1_000; i++) t.intake.onDistEvent(placed(`c${i % 10}`, i % 2 === 0 ? 'a' : 'x', 20 + i));
    t.set('x', { unheardBy: [{ reporter: 'a' }] });
    t.intake.judge([...t.table.values()]);
    expect(t.published.map((e) => e.type)).toEqual(['node-down', ...Array.from({ length: 10 }, () => 'placed')]);
  });
});

describe("quietLink and stillHeard: what a cut-off node-down says of this observer's own link", () => {
  const at = 10_000;
  it('a link heard within three pings is not quiet; three pings unheard, or suspect, is', () => {
    expect(quietLink({ status: 'up', lastHeardAt: at - 599, pingIntervalMs: 200 }, at)).toBe(false);
    expect(quietLink({ status: 'up', lastHeardAt: at - 600, pingIntervalMs: 200 }, at)).toBe(true);
    expect(quietLink({ status: 'suspect' }, at)).toBe(true);
    // Not linked: no link to be quiet; nothing known of it: not quiet.
    expect(quietLink({ status: 'down', lastHeardAt: 0, pingIntervalMs: 200 }, at)).toBe(false);
    expect(quietLink({ status: 'up' }, at)).toBe(false);
  });

  it('says the observer still hears it, or for how long it has not', () => {
    expect(stillHeard({ status: 'up', lastHeardAt: at - 100, pingIntervalMs: 200 }, at)).toBe('this observer still does');
    expect(stillHeard({ status: 'up', lastHeardAt: at - 1_000, pingIntervalMs: 200 }, at)).toBe(
      'this observer has not heard it for 1000 ms either, its own link not timed out yet',
    );
    expect(stillHeard({ status: 'suspect' }, at)).toBe('this observer has not heard it lately either, its own link not timed out yet');
    expect(stillHeard(undefined, at)).toBe('this observer still does');
  });
});
