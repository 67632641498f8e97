import { describe, expect, it } from 'vitest';
import type { ClusterEvent } from 'pogo-core/observer-state';
import { burstOf, type ChildEvent } from '../../test-cluster';
import { activitySubjects, activityText, describeActivity, describeEvent, eventText, subjectsOf } from './event-text';

const times = <E extends ChildEvent>(n: number, make: (i: number) => E): E[] => Array.from({ length: n }, (_, i) => make(i));

describe('the event formatter', () => {
  it('describes each event type in words', () => {
    const text = (e: ClusterEvent) => eventText(e);
    expect(text({ type: 'moved', id: 'ticker-1', from: 'demo-1', to: 'demo-2', reason: 'leave', at: 0 })).toBe('ticker-1 moved demo-1 → demo-2 (node left)');
    expect(text({ type: 'moved', id: 'ticker-1', from: 'demo-1', to: 'demo-2', reason: 'drain', at: 0 })).toBe(
      'ticker-1 moved demo-1 → demo-2 (node draining)',
    );
    expect(text({ type: 'node-down', node: 'demo-3', role: 'member', reason: 'member-down', at: 0 })).toBe('node demo-3 down (member-down)');
    expect(text({ type: 'converged', after: 84, cause: 'node-down', node: 'demo-3', children: 12, at: 0 })).toBe(
      'converged 84 ms after demo-3 down: 12 children running once',
    );
    expect(text({ type: 'converged', after: 1_250, cause: 'node-up', node: 'demo-4', children: 1, at: 0 })).toBe(
      'converged 1.25 s after demo-4 up: 1 child running once',
    );
    expect(text({ type: 'converged', after: 640, cause: 'drain', node: 'demo-2', children: 9, at: 0 })).toBe(
      'converged 640 ms after demo-2 drained: 9 children running once',
    );
    expect(text({ type: 'converged', after: 12, cause: 'undrain', node: 'demo-2', children: 9, at: 0 })).toBe(
      'converged 12 ms after demo-2 undrained: 9 children running once',
    );
    expect(text({ type: 'converged', after: 2_000, cause: 'resume', node: 'demo-1', children: 9, at: 0 })).toBe(
      'converged 2 s after rebalancing resumed (command on demo-1): 9 children running once',
    );
    expect(text({ type: 'node-up', node: 'demo-4', role: 'member', at: 0 })).toBe('node demo-4 up');
    expect(text({ type: 'node-up', node: 'ui-1', role: 'observer', at: 0 })).toBe('observer ui-1 up');
    expect(text({ type: 'placed', id: 'a', node: 'demo-1', by: 'pin', at: 0 })).toBe('placed a on demo-1 (pinned there)');
    expect(text({ type: 'placed', id: 'a', node: 'demo-1', by: 'hash', at: 0 })).toBe('placed a on demo-1 (by placement)');
    expect(text({ type: 'placed', id: 'a', node: undefined, by: 'none', at: 0 })).toBe('a has no node to run on');
    expect(text({ type: 'started', id: 'a', node: 'demo-1', pid: 'p', at: 0 })).toBe('a started on demo-1');
    expect(text({ type: 'stopped', id: 'a', node: 'demo-1', pid: 'p', at: 0 })).toBe('a stopped on demo-1');
    // An operator's stop reads as one, naming who asked through this gateway; a termination it did not see, as what it may be.
    expect(text({ type: 'stopped', id: 'w8', node: 'n1', pid: 'p', at: 0, terminated: true, by: 'alice' })).toBe(
      'w8 stopped for good by alice (stop command) on n1',
    );
    expect(text({ type: 'stopped', id: 'w8', node: 'n1', pid: 'p', at: 0, terminated: true })).toBe(
      'w8 stopped for good (stopped by a command, or ended and not restarted) on n1',
    );
    expect(
      activityText(
        burstOf(
          1,
          [0, 1].map((i) => ({ type: 'stopped' as const, id: `w${i}`, node: 'n1', pid: 'p', at: i, terminated: true as const, by: 'alice' })),
        ),
      ),
    ).toBe('2 stopped for good by alice (stop command) on n1');
    expect(text({ type: 'failed', id: 'a', node: 'demo-1', failures: 3, error: 'exit 2', at: 0 })).toBe('a failed on demo-1 (3 failures in a row): exit 2');
    expect(text({ type: 'drain', node: 'demo-3', draining: true, by: 'demo-1', at: 0 })).toBe(
      'node demo-3 draining: its children move away and nothing new starts there (command on demo-1)',
    );
    expect(text({ type: 'drain', node: 'demo-3', draining: false, by: 'demo-1', at: 0 })).toBe(
      'node demo-3 undrained: it takes children again (command on demo-1)',
    );
    expect(text({ type: 'rebalancing', paused: true, by: 'demo-2', at: 0 })).toBe('rebalancing paused: children stay where they run (command on demo-2)');
    expect(subjectsOf({ type: 'drain', node: 'demo-3', draining: true, by: 'demo-1', at: 0 })).toEqual({ child: null, nodes: ['demo-3', 'demo-1'] });
    expect(
      text({
        type: 'duplicate-resolved',
        id: 'a',
        survivor: { node: 'demo-1', pid: 'p' },
        stopped: [
          { node: 'demo-2', pid: 'q' },
          { node: 'demo-3', pid: 'r' },
        ],
        at: 0,
      }),
    ).toBe('duplicate a stopped on demo-2, demo-3 (demo-1’s kept)');
    expect(text({ type: 'duplicate-resolved', id: 'a', survivor: { node: 'demo-1', pid: 'p' }, stopped: [], at: 0 })).toBe(
      'duplicate a resolved: kept on demo-1',
    );
  });

  it('marks the child and nodes a sentence names, as parts a view can link', () => {
    expect(describeEvent({ type: 'moved', id: 'ticker-1', from: 'demo-1', to: 'demo-2', reason: 'pin', at: 0 })).toEqual([
      { child: 'ticker-1' },
      ' moved ',
      { node: 'demo-1' },
      ' → ',
      { node: 'demo-2' },
      ' (pinned)',
    ]);
  });

  it('names what an event is about, for filters and selection', () => {
    expect(subjectsOf({ type: 'moved', id: 'x', from: 'a', to: 'b', reason: 'join', at: 0 })).toEqual({ child: 'x', nodes: ['a', 'b'] });
    expect(
      subjectsOf({
        type: 'duplicate-resolved',
        id: 'x',
        survivor: { node: 'a', pid: 'p' },
        stopped: [
          { node: 'b', pid: 'q' },
          { node: 'a', pid: 'r' },
        ],
        at: 0,
      }),
    ).toEqual({ child: 'x', nodes: ['a', 'b'] });
    expect(subjectsOf({ type: 'converged', after: 1, cause: 'node-up', node: 'a', children: 1, at: 0 })).toEqual({ child: null, nodes: ['a'] });
    expect(subjectsOf({ type: 'placed', id: 'x', node: undefined, by: 'none', at: 0 })).toEqual({ child: 'x', nodes: [] });
  });

  it('describes a burst: its event when it holds one, else how many, of what, where', () => {
    const moves = times(983, (i) => ({ at: i, type: 'moved' as const, id: `c${i}`, from: 's4', to: `n${i % 4}`, reason: 'failure' as const }));
    expect(activityText(burstOf(1, moves))).toBe('983 moved from s4 to 4 nodes (node down or failing)');
    expect(activityText(burstOf(1, moves.slice(0, 1)))).toBe('c0 moved s4 → n0 (node down or failing)');
    expect(
      activityText(
        burstOf(
          1,
          times(12, (i) => ({ at: i, type: 'moved' as const, id: `c${i}`, from: 'n1', to: 'n3', reason: 'undrain' as const })),
        ),
      ),
    ).toBe('12 moved from n1 to n3 (node undrained)');
    expect(
      activityText(
        burstOf(
          1,
          times(7, (i) => ({ at: i, type: 'moved' as const, id: `c${i}`, from: 'n1', to: `n${i % 2}`, reason: 'resume' as const })),
        ),
      ),
    ).toBe('7 moved from n1 to 2 nodes (rebalancing resumed)');
    expect(
      activityText(
        burstOf(
          1,
          times(1_000, (i) => ({ at: i, type: 'started' as const, id: `c${i}`, node: `n${i % 3}`, pid: 'p' })),
        ),
      ),
    ).toBe('1,000 started on 3 nodes');
    expect(
      activityText(
        burstOf(
          1,
          times(40, (i) => ({ at: i, type: 'stopped' as const, id: `c${i}`, node: 'n2', pid: 'p' })),
        ),
      ),
    ).toBe('40 stopped on n2');
    // Instances lost from sight with a member gone silent are not said to have stopped (StopNote `unseen`).
    expect(
      activityText(
        burstOf(
          1,
          times(6, (i) => ({ at: i, type: 'stopped' as const, id: `c${i}`, node: 'demo-3', pid: 'p', unseen: true as const })),
        ),
      ),
    ).toBe('6 lost from sight on demo-3 (its node went silent: stopped if it died, still running if it is frozen or cut off)');
    expect(eventText({ type: 'stopped', id: 'a', node: 'demo-3', pid: 'p', at: 0, unseen: true })).toBe(
      'a lost from sight on demo-3 (its node went silent: stopped if it died, still running if it is frozen or cut off)',
    );
    expect(
      activityText(
        burstOf(
          1,
          times(12, (i) => ({ at: i, type: 'failed' as const, id: `c${i}`, node: 'n2', failures: 1, error: 'x' })),
        ),
      ),
    ).toBe('12 failed on n2');
    expect(
      activityText(
        burstOf(
          1,
          times(5, (i) => ({ at: i, type: 'placed' as const, id: `c${i}`, node: i < 3 ? 'n1' : undefined, by: i < 3 ? ('hash' as const) : ('none' as const) })),
        ),
      ),
    ).toBe('5 placed on n1, 2 with no node to run on');
    expect(
      activityText(
        burstOf(
          1,
          times(2, (i) => ({ at: i, type: 'placed' as const, id: `c${i}`, node: undefined, by: 'none' as const })),
        ),
      ),
    ).toBe('2 have no node to run on');
    expect(
      activityText(
        burstOf(
          1,
          times(3, (i) => ({
            at: i,
            type: 'duplicate-resolved' as const,
            id: `c${i}`,
            survivor: { node: 'n1', pid: 'p' },
            stopped: [{ node: 'n2', pid: 'q' }],
          })),
        ),
      ),
    ).toBe('3 duplicates stopped on n2 (n1’s kept)');
    // The nodes are links, as in an event's sentence.
    expect(describeActivity(burstOf(1, moves))).toEqual(['983 moved ', 'from ', { node: 's4' }, ' ', 'to ', '4 nodes', ' (node down or failing)']);
    expect(activitySubjects(burstOf(1, moves))).toEqual(['n0', 'n1', 'n2', 'n3', 's4']);
  });
});
