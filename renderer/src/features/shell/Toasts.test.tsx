/**
 * Toasts on screen: one for a node going down and one for children turning
 * failing, a burst grouped into one toast, none for an observer; clicking
 * leads to the node, the child or the failing children; × dismisses; a
 * toast closes by itself TOAST_MS after it last grew.
 */
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { diffState, type ClusterState } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { BURST_MS, TOAST_MS } from '../../store/toasts';
import { child, clusterOf, failing, member } from '../../test-cluster';
import { mountPerTest } from '../../test-support';
import { Toasts } from './Toasts';

const nodes = (down: string[] = []) => ['a', 'b', 'c'].map((n) => member(n, { status: down.includes(n) ? 'down' : 'up' }));

describe('<Toasts/>', () => {
  const view = mountPerTest();
  let clock = 0;
  let shown: ClusterState;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 1_000;
    useStore.setState({ now: () => clock });
  });
  afterEach(() => vi.useRealTimers());

  const start = (s: ClusterState): void => {
    shown = s;
    act(() => useStore.getState().applySnapshot(s));
    view.render(<Toasts />);
  };
  const change = (s: ClusterState): void => {
    act(() => useStore.getState().applyPatch(diffState(shown, s)!));
    shown = s;
  };
  const toasts = () => [...view.container.querySelectorAll('[data-testid="toast"]')].map((t) => t.querySelector('.toast-body')!.textContent);

  it('says a node went down, once, and leads to it; nothing for an observer (a pogo ctl session) leaving', () => {
    start(clusterOf([...nodes(), member('ctl-1', { role: 'observer' })], [child('x')]));
    change(clusterOf([...nodes(), member('ctl-1', { role: 'observer', status: 'down' })], [child('x')]));
    expect(toasts()).toEqual([]);
    change(clusterOf(nodes(['b']), [child('x')]));
    expect(toasts()).toEqual(['Node b is down']);
    act(() => view.container.querySelector<HTMLButtonElement>('.toast-body')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'b' });
  });

  it('a node back up turns its toast into "went down and is back up", drawn as resolved', () => {
    start(clusterOf(nodes(), []));
    change(clusterOf(nodes(['c']), []));
    expect(toasts()).toEqual(['Node c is down']);
    change(clusterOf(nodes(), []));
    expect(toasts()).toEqual(['Node c went down and is back up']);
    expect(view.container.querySelector('[data-testid="toast"]')?.classList.contains('recovered')).toBe(true);
  });

  it('groups a burst of failing children into one toast that filters the board to them; a single one shows its error and opens it', () => {
    start(clusterOf(nodes(), [child('w1'), child('w2'), child('w3'), child('w4'), child('solo')]));
    change(clusterOf(nodes(), [failing('w1'), failing('w2'), child('w3'), child('w4'), child('solo')]));
    clock += BURST_MS - 1;
    change(clusterOf(nodes(), [failing('w1'), failing('w2'), failing('w3'), failing('w4'), child('solo')]));
    expect(toasts()).toEqual(['4 children are failing: w1, w2, w3 and 1 more']);
    act(() => view.container.querySelector<HTMLButtonElement>('.toast-body')!.click());
    expect(useStore.getState().statusFilter).toBe('failing');
    expect(useStore.getState().view).toBe('board');

    clock += BURST_MS;
    change(clusterOf(nodes(), [failing('w1'), failing('w2'), failing('w3'), failing('w4'), failing('solo', 'a', 'Error: no such file')]));
    expect(toasts()).toEqual(['4 children are failing: w1, w2, w3 and 1 more', 'solo is failingError: no such file']);
    act(() => view.container.querySelectorAll<HTMLButtonElement>('.toast-body')[1]!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'solo' });
  });

  it('× dismisses; a toast closes by itself TOAST_MS after it last grew', () => {
    start(clusterOf(nodes(), [child('x'), child('y')]));
    change(clusterOf(nodes(['a']), [child('x'), child('y')]));
    clock += BURST_MS;
    change(clusterOf(nodes(['a']), [failing('x'), child('y')]));
    expect(toasts()).toHaveLength(2);
    act(() => view.container.querySelector<HTMLButtonElement>('[aria-label="Dismiss"]')!.click());
    expect(toasts()).toEqual(['x is failingboom']);
    clock += TOAST_MS - 1;
    act(() => void vi.advanceTimersByTime(TOAST_MS - 1));
    expect(toasts()).toHaveLength(1);
    clock += 1;
    act(() => void vi.advanceTimersByTime(1));
    expect(toasts()).toEqual([]);
  });
});
