/**
 * The board's status counts are its status filter (press "1 failing" to
 * see only the failing children, press it again or × to see all, the
 * filter shown while on), and a board whose link is down is drawn stale:
 * no green health dots on a frozen board. A member unreachable from this
 * observer is drawn apart from one that is down.
 */
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { useStore } from '../store/index';
import { child, clusterOf, failing, member } from '../test-cluster';
import { mountPerTest } from '../test-support';
import { Board } from './Board';

vi.mock('../gateway/client', () => ({ runCommand: vi.fn(), sendCommand: vi.fn() }));

const nodes = ['a', 'b'].map((n) => member(n));
const state = () => clusterOf(nodes, [child('r1'), child('r2', { node: 'b', owner: 'b' }), child('m1', { status: 'moving', node: 'a', owner: 'b' }), failing('f1')]);

describe('<Board/> status filter', () => {
  const view = mountPerTest();

  const count = (status: string) => view.container.querySelector<HTMLButtonElement>(`.status-count[data-status="${status}"]`);
  const shown = () =>
    [...view.container.querySelectorAll('[data-testid="node-column"]')]
      .map((col) => `${col.getAttribute('data-node') ?? '-'}:${col.querySelector('[data-testid="child-count"]')?.textContent}`)
      .join(' ');

  it('lists a count per status, problems first; each is a toggle that filters the board and shows the filter', () => {
    act(() => useStore.getState().applySnapshot(state()));
    view.render(<Board />);
    const counts = view.container.querySelector('[data-testid="board-counts"]')!;
    expect([...counts.querySelectorAll('button')].map((b) => b.textContent)).toEqual(['1 failing', '1 moving', '2 running']);
    expect(counts.textContent).toMatch(/^4 children/);
    expect(shown()).toBe('-:1 child a:2 children b:1 child');

    act(() => count('failing')!.click());
    expect(useStore.getState().statusFilter).toBe('failing');
    expect(count('failing')!.getAttribute('aria-pressed')).toBe('true');
    expect(shown()).toBe('-:1 child a:0 children b:0 children');
    expect(counts.textContent).toMatch(/^1 of 4 children/);
    expect(view.container.querySelector('[data-testid="status-filter"]')?.textContent).toContain('showing failing only');

    // Another status replaces the filter; the same one again clears it.
    act(() => count('running')!.click());
    expect(shown()).toBe('a:1 child b:1 child');
    act(() => count('running')!.click());
    expect(useStore.getState().statusFilter).toBeNull();
    expect(view.container.querySelector('[data-testid="status-filter"]')).toBeNull();
    expect(shown()).toBe('-:1 child a:2 children b:1 child');
  });

  it('× clears the filter; a filter whose status has no children left stays visible, so it can be cleared', () => {
    act(() => useStore.getState().applySnapshot(state()));
    act(() => useStore.getState().toggleStatusFilter('duplicate'));
    view.render(<Board />);
    expect(count('duplicate')?.textContent).toBe('0 duplicate');
    act(() => view.container.querySelector<HTMLButtonElement>('[aria-label="Clear the status filter"]')!.click());
    expect(useStore.getState().statusFilter).toBeNull();
    expect(count('duplicate')).toBeNull();
  });
});

describe('<Board/> when the link is down', () => {
  const view = mountPerTest();
  const dots = () => [...view.container.querySelectorAll('[data-node] [data-testid="node-health"]')].map((d) => d.className);

  it('draws the node health as unknown, not as the last colour seen, and back when live again', () => {
    act(() => useStore.getState().applySnapshot(state()));
    act(() => useStore.getState().setStatus('connected'));
    view.render(<Board />);
    expect(dots()).toEqual(['health health-up', 'health health-up']);
    act(() => useStore.getState().setStatus('reconnecting'));
    expect(dots()).toEqual(['health health-stale', 'health health-stale']);
    expect(view.container.querySelector('[data-node="a"] [data-testid="node-health"]')?.getAttribute('title')).toBe('up when the connection was lost; not known now');
    act(() => useStore.getState().setStatus('connected'));
    expect(dots()).toEqual(['health health-up', 'health health-up']);
  });
});

describe('<Board/> member status', () => {
  const view = mountPerTest();

  it("draws a member unreachable from this observer apart from a member that is down: a dashed amber marker that says it is not down", () => {
    act(() => useStore.getState().applySnapshot(clusterOf([member('a'), member('b', { status: 'unreachable', reachable: false }), member('c', { status: 'down', reachable: false })], [child('r1'), child('r2', { node: 'b', owner: 'b' })])));
    act(() => useStore.getState().setStatus('connected'));
    view.render(<Board />);
    const column = (n: string) => view.container.querySelector<HTMLElement>(`[data-testid="node-column"][data-node="${n}"]`)!;

    const b = column('b');
    expect(b.className).toContain('node-unreachable');
    expect(b.className).not.toContain('node-down');
    expect(b.querySelector('[data-testid="node-health"]')?.className).toBe('health health-unreachable');
    expect(b.querySelector('[data-testid="node-health"]')?.getAttribute('title')).toContain('unreachable from this observer; the other members still hear it');
    const tag = b.querySelector('[data-testid="node-status"]')!;
    expect([tag.textContent, tag.className]).toEqual(['unreachable', 'tag state-unreachable']);
    expect(tag.getAttribute('title')).toContain('so it is not down');
    // Its children are still drawn where they run.
    expect(b.querySelector('[data-testid="child-count"]')?.textContent).toBe('1 child');

    const c = column('c');
    expect(c.className).toContain('node-down');
    expect(c.querySelector('[data-testid="node-health"]')?.className).toBe('health health-down');
    expect(c.querySelector('[data-testid="node-status"]')?.className).toBe('tag state-down');
    expect(column('a').querySelector('[data-testid="node-status"]')).toBeNull();
  });
});
