/**
 * The "needs attention" lane: where it sits on the board, what it lists and
 * in which order, that an entry opens the child's detail, that a child
 * moving for too long appears when its time is up without any new patch,
 * and the quiet line when nothing needs attention.
 */
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { diffState } from 'pogo-core/observer-state';
import { NOT_READY_GRACE_MS, SLOW_MS } from '../../store/attention';
import { useStore } from '../../store/index';
import { child, clusterOf, failing, member } from '../../test-cluster';
import { mountPerTest } from '../../test-support';
import { AttentionLane, LANE_LIMIT } from './AttentionLane';
import { Board } from './Board';

vi.mock('../../gateway/client', () => ({ runCommand: vi.fn(), sendCommand: vi.fn() }));

const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => member(n));

describe('<AttentionLane/>', () => {
  const view = mountPerTest();
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 1_000;
    useStore.setState({ now: () => clock });
  });
  afterEach(() => vi.useRealTimers());

  const items = () =>
    [...view.container.querySelectorAll('[data-testid="attention-item"]')].map((e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-child')}`);

  it('sits at the top of the board, before the toolbar and the node columns, even at six nodes', () => {
    act(() => useStore.getState().applySnapshot(clusterOf(nodes, [child('ok'), failing('bad')])));
    view.render(<Board />);
    const board = view.container.querySelector('.board-view')!;
    expect(board.firstElementChild?.getAttribute('data-testid')).toBe('attention-lane');
    expect(items()).toEqual(['failing:bad']);
    // The children running nowhere come first among the columns, not after six of them.
    expect(view.container.querySelector('[data-testid="node-column"]')?.textContent).toContain('Not running');
  });

  it('lists failing, duplicate and unplaceable children with why, failing first; an entry opens the child', () => {
    const dup = child('twice', {
      status: 'duplicate',
      instances: [
        { node: 'a', pid: 'a/x/1' },
        { node: 'b', pid: 'b/x/2' },
      ],
    });
    const nowhere = child('nowhere', { status: 'unplaceable', node: null, pid: null, instances: [], owner: null, pin: 'f' });
    act(() => useStore.getState().applySnapshot(clusterOf(nodes, [nowhere, dup, failing('web-1', 'c', 'Error: listen EADDRINUSE'), child('fine')])));
    view.render(<AttentionLane />);
    expect(items()).toEqual(['failing:web-1', 'duplicate:twice', 'unplaceable:nowhere']);
    const lane = view.container.querySelector('[data-testid="attention-lane"]')!;
    expect(lane.querySelector('[data-testid="attention-summary"]')?.textContent).toBe('1 failing · 1 duplicate · 1 unplaceable');
    expect(lane.querySelector('[data-child="web-1"]')?.textContent).toContain('Error: listen EADDRINUSE (on c)');
    expect(lane.querySelector('[data-child="twice"]')?.textContent).toContain('running on a, b');
    expect(lane.querySelector('[data-child="nowhere"]')?.textContent).toContain('pinned to f');
    act(() => lane.querySelector<HTMLButtonElement>('[data-child="web-1"]')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'web-1' });
  });

  it('a child moving for longer than SLOW_MS appears when its time is up, with no new patch; the tooltip says how long that is', () => {
    const first = clusterOf(nodes, [child('m')]);
    act(() => useStore.getState().applySnapshot(first));
    view.render(<AttentionLane />);
    expect(view.container.textContent).toBe('✓Nothing needs attention');
    clock = 2_000;
    act(() => useStore.getState().applyPatch(diffState(first, clusterOf(nodes, [child('m', { status: 'moving', node: 'a', owner: 'b' })]))!));
    expect(items()).toEqual([]);
    clock = 2_000 + SLOW_MS;
    act(() => void vi.advanceTimersByTime(SLOW_MS));
    expect(items()).toEqual([]);
    clock = 2_000 + SLOW_MS + 1;
    act(() => void vi.advanceTimersByTime(1));
    expect(items()).toEqual(['slow:m']);
    const entry = view.container.querySelector('[data-child="m"]')!;
    expect(entry.textContent).toContain('moving from a to b since');
    expect(entry.getAttribute('title')).toContain(`for more than ${SLOW_MS / 1000} s`);
    expect(view.container.querySelector('h2')?.getAttribute('title')).toContain(
      `moving to another node, or waiting to start, for more than ${SLOW_MS / 1000} s`,
    );
  });

  it('members not ready with every child pending behind them are named after the grace, with whom they wait for, not "Nothing needs attention"', () => {
    // The outsider's tour: n1 and n2 restarted from their data dirs (majority mode) wait for n3, blackholed.
    const waitsFor = { notLinked: ['n3'], roster: ['n3'], notSynced: [], joined: true, leased: true };
    const pending = (id: string) => child(id, { status: 'pending', node: null, pid: null, instances: [], owner: null });
    const state = clusterOf(
      [member('n1', { ready: false, waitsFor }), member('n2', { ready: false, waitsFor })],
      ['w1', 'w2', 'w3'].map((id) => pending(id)),
    );
    act(() => useStore.getState().applySnapshot(state));
    view.render(<AttentionLane />);
    expect(view.container.textContent).toBe('✓Nothing needs attention');
    clock = 1_000 + NOT_READY_GRACE_MS;
    act(() => void vi.advanceTimersByTime(NOT_READY_GRACE_MS));
    expect(items()).toEqual(['not-ready:null']);
    const lane = view.container.querySelector('[data-testid="attention-lane"]')!;
    expect(lane.querySelector('[data-testid="attention-summary"]')?.textContent).toBe('n1, n2 not ready');
    expect(lane.querySelector('[data-kind="not-ready"]')?.textContent).toContain(
      'n1, n2 take no children: each waits for n3 (in its saved roster, not heard of since it restarted). 3 children are pending behind them',
    );
  });

  it('a node down after it went silent (frozen, cut off) comes first: its children may be running twice; one that died, or left, is no such risk', () => {
    const members = [
      member('a'),
      member('b', { status: 'down', reachable: false, silent: true }),
      member('c', { status: 'down', reachable: false, silent: false }),
      member('d', { status: 'left', reachable: false }),
    ];
    act(() => useStore.getState().applySnapshot(clusterOf(members, [child('ok'), failing('bad')])));
    view.render(<AttentionLane />);
    const lane = view.container.querySelector('[data-testid="attention-lane"]')!;
    const entries = [...lane.querySelectorAll('[data-testid="attention-item"]')].map(
      (e) => `${e.getAttribute('data-kind')}:${e.getAttribute('data-node') ?? e.getAttribute('data-child')}`,
    );
    expect(entries).toEqual(['silent-node:b', 'failing:bad']);
    expect(lane.querySelector('[data-testid="attention-summary"]')?.textContent).toBe('1 node silent, may still run · 1 failing');
    const entry = lane.querySelector<HTMLButtonElement>('[data-node="b"]')!;
    expect(entry.textContent).toContain('its children may be running twice (there and where they were restarted) until it is back or gone');
    expect(entry.getAttribute('title')).toContain('frozen (SIGSTOP, a long pause)');
    act(() => entry.click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'b' });
  });

  it('a silent node alone is enough: the lane does not say "Nothing needs attention"; back up, it does', () => {
    const first = clusterOf([member('a'), member('b', { status: 'down', reachable: false, silent: true })], [child('ok')]);
    act(() => useStore.getState().applySnapshot(first));
    view.render(<AttentionLane />);
    expect(view.container.textContent).not.toContain('Nothing needs attention');
    expect(view.container.querySelector('h2')?.textContent).toBe('Needs attention 1');
    act(() => useStore.getState().applyPatch(diffState(first, clusterOf([member('a'), member('b')], [child('ok')]))!));
    expect(view.container.textContent).toBe('✓Nothing needs attention');
  });

  it(`shows ${LANE_LIMIT} entries, and the rest behind "Show N more"`, () => {
    const many = Array.from({ length: LANE_LIMIT + 3 }, (_, i) => failing(`f${String(i).padStart(2, '0')}`));
    act(() => useStore.getState().applySnapshot(clusterOf(nodes, many)));
    view.render(<AttentionLane />);
    expect(items()).toHaveLength(LANE_LIMIT);
    const more = [...view.container.querySelectorAll('button')].find((b) => b.textContent === 'Show 3 more')!;
    act(() => more.click());
    expect(items()).toHaveLength(LANE_LIMIT + 3);
    expect(more.getAttribute('aria-expanded')).toBe('true');
  });
});
