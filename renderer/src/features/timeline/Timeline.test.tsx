import { act } from 'react';
import { describe, expect, it } from 'vitest';
import type { ActivityView, ClusterState, EventView } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { PAGE, Timeline } from './Timeline';
import { mountPerTest, typeInto } from '../../test-support';
import { burstOf, clusterOf, member, type ChildEvent } from '../../test-cluster';

const T0 = new Date(2025, 0, 2, 10, 20, 30, 45).getTime();

function cluster(events: EventView[], activity: ActivityView[] = []): ClusterState {
  return clusterOf([member('demo-1'), member('demo-2'), member('demo-3')], [], { events, activity });
}

const nodeDown = (seq: number, node = 'demo-3'): EventView => ({ seq, at: T0 + seq * 10, type: 'node-down', node, role: 'member', reason: 'member-down' });
const converged = (seq: number, after = 84): EventView => ({
  seq,
  at: T0 + seq * 10,
  type: 'converged',
  after,
  cause: 'node-down',
  node: 'demo-3',
  children: 3,
});
/** `n` events of one kind from `at`, 1 ms apart. */
function many(n: number, at: number, make: (i: number, at: number) => ChildEvent): ChildEvent[] {
  return Array.from({ length: n }, (_, i) => make(i, at + i));
}

/** A start, then demo-3 down: two children stop there, start elsewhere and move; converged; then a failure. */
function redistribution(): ClusterState {
  const at = (seq: number): number => T0 + seq * 10;
  return cluster(
    [nodeDown(3), converged(7)],
    [
      burstOf(1, [{ at: at(1), type: 'placed', id: 'ticker-1', node: 'demo-1', by: 'hash' }]),
      burstOf(2, [{ at: at(2), type: 'started', id: 'ticker-1', node: 'demo-1', pid: 'p1' }]),
      burstOf(4, [
        { at: at(4), type: 'stopped', id: 'ticker-2', node: 'demo-3', pid: 'p2' },
        { at: at(4) + 1, type: 'stopped', id: 'ticker-3', node: 'demo-3', pid: 'p4' },
      ]),
      burstOf(5, [
        { at: at(5), type: 'started', id: 'ticker-2', node: 'demo-2', pid: 'p3' },
        { at: at(5) + 1, type: 'started', id: 'ticker-3', node: 'demo-1', pid: 'p5' },
      ]),
      burstOf(6, [
        { at: at(6), type: 'moved', id: 'ticker-2', from: 'demo-3', to: 'demo-2', reason: 'failure' },
        { at: at(6) + 1, type: 'moved', id: 'ticker-3', from: 'demo-3', to: 'demo-1', reason: 'failure' },
      ]),
      burstOf(8, [{ at: at(8), type: 'failed', id: 'ticker-4', node: 'demo-2', failures: 2, error: 'exit 1' }]),
    ],
  );
}

/** 983 children moved off s4 to four nodes within 1.2 s, after s4 went down. */
function bigMove(): ClusterState {
  const moves = many(983, T0 + 1_000, (i, at) => ({
    at: i === 982 ? T0 + 2_200 : at,
    type: 'moved',
    id: `c-${i}`,
    from: 's4',
    to: `n${(i % 4) + 1}`,
    reason: 'failure',
  }));
  const starts = many(1_000, T0 + 1_000, (i, at) => ({ at, type: 'started', id: `c-${i}`, node: `n${(i % 3) + 1}`, pid: `p${i}` }));
  return clusterOf(
    ['n1', 'n2', 'n3', 'n4'].map((n) => member(n)),
    [],
    {
      events: [nodeDown(1, 's4'), { seq: 5, at: T0 + 3_000, type: 'converged', after: 2_000, cause: 'node-down', node: 's4', children: 1_000 }],
      activity: [
        burstOf(2, moves),
        burstOf(3, starts),
        burstOf(
          4,
          many(12, T0 + 1_500, (i, at) => ({ at, type: 'failed', id: `f-${i}`, node: 'n2', failures: 1, error: 'boom' })),
        ),
      ],
    },
  );
}

describe('<Timeline/>', () => {
  const view = mountPerTest();

  const show = (state: ClusterState): void => {
    act(() => useStore.getState().applySnapshot(state));
    view.render(<Timeline />);
  };
  const rows = () => [...view.container.querySelectorAll<HTMLElement>('[data-testid="timeline-event"], [data-testid="timeline-burst"]')];
  const seqs = () => rows().map((r) => Number(r.dataset['seq']));
  const burst = (seq: number) => view.container.querySelector<HTMLElement>(`[data-testid="timeline-burst"][data-seq="${seq}"]`)!;
  const chip = (label: string) => [...view.container.querySelectorAll<HTMLButtonElement>('.tl-chip')].find((b) => b.textContent?.startsWith(label))!;
  const count = () => view.container.querySelector('[data-testid="timeline-count"]')?.textContent;
  const search = () => view.container.querySelector<HTMLInputElement>('input[type="search"]')!;

  it('lists notable events and bursts by seq, newest first; a burst of one is its event, with local time, a badge and a sentence', () => {
    show(
      cluster(
        [],
        [
          burstOf(1, [{ at: T0 + 10, type: 'placed', id: 'ticker-1', node: 'demo-1', by: 'hash' }]),
          burstOf(2, [{ at: T0 + 20, type: 'started', id: 'ticker-1', node: 'demo-1', pid: 'p' }]),
          burstOf(3, [{ at: T0 + 30, type: 'stopped', id: 'ticker-1', node: 'demo-1', pid: 'p' }]),
        ],
      ),
    );
    expect(view.container.querySelector('[aria-label="Timeline"]')).not.toBeNull();
    expect(rows().map((r) => r.dataset['type'])).toEqual(['stopped', 'started', 'placed']);
    expect(view.container.querySelectorAll('[data-testid="timeline-burst"]')).toHaveLength(0);
    const last = rows()[2]!;
    expect(last.querySelector('time')?.textContent).toBe('10:20:30.055');
    expect(last.querySelector('.tl-badge')?.textContent).toBe('placed');
    expect(last.querySelector('.tl-text')?.textContent).toBe('placed ticker-1 on demo-1 (by placement)');
    expect(count()).toBe('3 events');
  });

  it('groups a redistribution under the node-down that caused it, newest first, until converged', () => {
    show(redistribution());
    const redist = view.container.querySelector<HTMLElement>('.tl-redist')!;
    expect(redist.getAttribute('aria-label')).toBe('Redistribution after node demo-3 down');
    const inside = [...redist.querySelectorAll<HTMLElement>('[data-seq]')].map((r) => Number(r.dataset['seq']));
    expect(inside).toEqual([3, 7, 6, 5, 4]);
    expect(seqs()).toEqual([8, 3, 7, 6, 5, 4, 2, 1]);
    expect(redist.querySelector('.tl-summary')?.textContent).toContain('2 children moved · 2 started · 2 stopped');
    expect(redist.querySelector('.tl-summary')?.textContent).toContain('converged in 84 ms');
    expect(redist.querySelector('[data-type="node-down"] .tl-text')?.textContent).toBe('node demo-3 down (member-down)');
    expect(redist.querySelector('[data-type="converged"] .tl-text')?.textContent).toBe('converged 84 ms after demo-3 down: 3 children running once');
    expect(burst(6).querySelector('.tl-text')?.textContent).toBe('2 moved from demo-3 to 2 nodes (node down or failing) · within 1 ms');
    expect(count()).toBe('11 events');

    // Collapsing hides what followed, not its head.
    act(() => redist.querySelector<HTMLButtonElement>('.tl-toggle')!.click());
    expect(seqs()).toEqual([8, 3, 2, 1]);
  });

  it("groups a drain's moves under the drain, until converged (a filtered-out head says what happened)", () => {
    const at = (seq: number): number => T0 + seq * 10;
    show(
      cluster(
        [
          { seq: 1, at: at(1), type: 'drain', node: 'demo-2', draining: true, by: 'demo-1' },
          { seq: 4, at: at(4), type: 'converged', after: 25, cause: 'drain', node: 'demo-2', children: 3 },
        ],
        [
          burstOf(2, [{ at: at(2), type: 'stopped', id: 'ticker-2', node: 'demo-2', pid: 'p2' }]),
          burstOf(3, [{ at: at(3), type: 'moved', id: 'ticker-2', from: 'demo-2', to: 'demo-3', reason: 'drain' }]),
        ],
      ),
    );
    const redist = view.container.querySelector<HTMLElement>('.tl-redist')!;
    expect(redist.getAttribute('aria-label')).toBe('Redistribution after node demo-2 drained');
    expect(redist.classList.contains('tl-redist-op')).toBe(true);
    expect([...redist.querySelectorAll<HTMLElement>('[data-seq]')].map((r) => Number(r.dataset['seq']))).toEqual([1, 4, 3, 2]);
    expect(redist.querySelector('.tl-summary')?.textContent).toContain('1 child moved · 1 stopped');
    expect(redist.querySelector('.tl-summary')?.textContent).toContain('converged in 25 ms');
    expect(redist.querySelector('[data-type="converged"] .tl-text')?.textContent).toBe('converged 25 ms after demo-2 drained: 3 children running once');
    typeInto(search(), 'ticker-2');
    expect(view.container.querySelector('.tl-redist .tl-context-note')?.textContent).toBe('during the redistribution after node demo-2 was drained');
  });

  it('a larger burst is one line with its span, expandable to how many per node and its children, each opening the child', () => {
    show(bigMove());
    const line = burst(2);
    expect(line.dataset['count']).toBe('983');
    expect(line.querySelector('.tl-badge')?.textContent).toBe('moved');
    expect(line.querySelector('.tl-text')?.textContent).toBe('983 moved from s4 to 4 nodes (node down or failing) · within 1.2 s');
    expect(burst(3).querySelector('.tl-text')?.textContent).toBe('1,000 started on 3 nodes · within 999 ms');
    expect(burst(4).querySelector('.tl-text')?.textContent).toBe('12 failed on n2 · within 11 ms');
    expect(line.querySelector('.tl-expansion')).toBeNull();

    const toggle = line.querySelector<HTMLButtonElement>('.tl-toggle')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.textContent).toBe('▸ 983');
    act(() => toggle.click());
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const expansion = line.querySelector('.tl-expansion')!;
    expect(expansion.querySelector('.tl-per-node')?.textContent).toBe('to: n1 246 · n2 246 · n3 246 · n4 245');
    const ids = [...expansion.querySelectorAll('.tl-ids .tl-child')].map((b) => b.textContent);
    expect(ids).toHaveLength(500);
    expect(ids.slice(0, 3)).toEqual(['c-0', 'c-1', 'c-2']);
    expect(expansion.querySelector('.tl-more')?.textContent).toBe('and 483 more (the gateway keeps the first 500 children of a burst)');

    act(() => [...expansion.querySelectorAll<HTMLButtonElement>('.tl-child')].find((b) => b.textContent === 'c-7')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'c-7' });
    // The selected child marks the bursts that hold it.
    expect(line.querySelector('.tl-row')?.classList.contains('selected')).toBe(true);
    expect(burst(3).querySelector('.tl-row')?.classList.contains('selected')).toBe(true);
    expect(burst(4).querySelector('.tl-row')?.classList.contains('selected')).toBe(false);

    act(() => toggle.click());
    expect(line.querySelector('.tl-expansion')).toBeNull();
  });

  it("filters bursts by kind, by the nodes they concern (where they happened, or a move's source) and by the ids they hold", () => {
    show(bigMove());
    expect(count()).toBe('1,997 events');
    expect(chip('Moves').textContent).toContain('983');

    act(() => chip('Moves').click());
    expect(view.container.querySelector('[data-testid="timeline-burst"][data-type="moved"]')).toBeNull();
    expect(count()).toBe('1,014 of 1,997 events');
    act(() => chip('Moves').click());

    // A node: the moves left s4 (their source) and went to n4 (in `nodes`); the starts were on n1..n3 only.
    act(() => typeInto(search(), 's4'));
    expect(seqs()).toEqual([1, 5, 2]);
    act(() => typeInto(search(), 'n4'));
    expect(seqs()).toEqual([2]);
    expect(view.container.querySelector('.tl-redist .tl-context')?.textContent).toContain('during the redistribution after node s4 went down');
    act(() => typeInto(search(), 'n2'));
    expect(seqs()).toEqual([4, 3, 2]);

    // A child: found in the bursts that hold its id, and named in their line.
    act(() => typeInto(search(), 'f-3'));
    expect(seqs()).toEqual([4]);
    expect(burst(4).querySelector('.tl-matching')?.textContent).toBe(' · incl. f-3');
    act(() => typeInto(search(), 'c-42 moved'));
    expect(seqs()).toEqual([2]);
    expect(count()).toBe('983 of 1,997 events');
    // Past the first 500 ids a burst keeps, a child is not found in it.
    act(() => typeInto(search(), 'c-600 moved'));
    expect(rows()).toHaveLength(0);
    expect(view.container.textContent).toContain('No event matches the filters.');

    act(() => [...view.container.querySelectorAll('button')].find((b) => b.textContent === 'Clear filters')!.click());
    expect(seqs()).toEqual([1, 5, 4, 3, 2]);
  });

  it('a selected node marks the bursts that concern it', () => {
    show(bigMove());
    act(() => useStore.getState().select({ kind: 'node', name: 's4' }));
    const selected = () =>
      [...view.container.querySelectorAll<HTMLElement>('.tl-row.selected')].map((r) => Number(r.closest<HTMLElement>('[data-seq]')!.dataset['seq']));
    expect(selected()).toEqual([1, 5, 2]);
    act(() => useStore.getState().select({ kind: 'node', name: 'n3' }));
    expect(selected()).toEqual([3, 2]);
  });

  it('a burst that grows replaces its line; a still open redistribution shows converging until converged arrives', () => {
    const first: ChildEvent = { at: T0 + 40, type: 'moved', id: 'a', from: 'demo-3', to: 'demo-1', reason: 'failure' };
    show(cluster([nodeDown(3)], [burstOf(4, [first])]));
    expect(view.container.querySelector('.tl-outcome')?.textContent).toBe('converging…');
    expect(view.container.querySelector('[data-seq="4"]')?.getAttribute('data-testid')).toBe('timeline-event');
    act(() => useStore.getState().applyPatch({ activity: [burstOf(4, [first, { ...first, id: 'b' }, { ...first, id: 'c', to: 'demo-2' }])] }));
    expect(burst(4).querySelector('.tl-text')?.textContent).toBe('3 moved from demo-3 to 2 nodes (node down or failing)');
    act(() => useStore.getState().applyPatch({ events: [converged(5, 1_250)] }));
    expect(view.container.querySelector('.tl-outcome')?.textContent).toBe('converged in 1.25 s');
    expect(seqs()).toEqual([3, 5, 4]);
  });

  it('clicking a child id or a node of an event selects it', () => {
    show(redistribution());
    const failed = view.container.querySelector('[data-seq="8"]')!;
    act(() => failed.querySelector<HTMLButtonElement>('.tl-child')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'ticker-4' });
    expect(view.container.querySelector('[data-seq="8"]')?.classList.contains('selected')).toBe(true);
    act(() => failed.querySelector<HTMLButtonElement>('.tl-node')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'demo-2' });
  });

  it('says so when there are no events', () => {
    show(cluster([]));
    expect(rows()).toHaveLength(0);
    expect(view.container.textContent).toContain('No cluster events yet');
  });

  it('draws the newest page of a full history, and older ones on request', () => {
    const events: EventView[] = [];
    const activity: ActivityView[] = [];
    for (let i = 0; i < 1_000; i++) {
      events.push({ seq: 2 * i + 1, at: T0 + i, type: 'node-up', node: `obs-like-${i}`, role: 'observer' });
      activity.push(
        burstOf(
          2 * i + 2,
          many(3, T0 + i, (k, at) => ({ at, type: 'started', id: `c-${i}-${k}`, node: 'demo-1', pid: 'p' })),
        ),
      );
    }
    show(cluster(events, activity));
    expect(rows()).toHaveLength(PAGE);
    expect(seqs()[0]).toBe(2_000);
    expect(count()).toBe('4,000 events');
    const older = [...view.container.querySelectorAll('button')].find((b) => b.textContent?.startsWith('Show older'))!;
    expect(older.textContent).toBe(`Show older (${(2_000 - PAGE).toLocaleString('en-US')} more)`);
    act(() => older.click());
    expect(rows()).toHaveLength(2 * PAGE);
  });
});
