import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { emptyState, type ClusterState } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { Groups } from './Groups';
import { mountPerTest, typeInto } from '../../test-support';

function state(groups: ClusterState['groups']): ClusterState {
  return { ...emptyState(), cluster: 'test', observer: 'obs', groups };
}

describe('<Groups/>', () => {
  const view = mountPerTest();

  const rows = () =>
    [...view.container.querySelectorAll('section[aria-label^="Scope "]')].map((s) => [
      s.getAttribute('aria-label'),
      [...s.querySelectorAll('tbody tr')].map((tr) => `${tr.querySelector('code')?.textContent}=${tr.querySelector('.num')?.textContent}`),
    ]);

  it('lists every scope and its groups with member counts, and filters them', () => {
    act(() => useStore.getState().applySnapshot(state({ chat: { 'room:lobby': { n1: 2, n2: 1 }, 'room:ops': { n2: 1 } }, app: { workers: { n1: 5 } } })));
    view.render(<Groups />);
    expect(view.container.querySelector('section[aria-label="Groups"]')).not.toBeNull();
    expect(rows()).toEqual([
      ['Scope app', ['workers=5']],
      ['Scope chat', ['room:lobby=3', 'room:ops=1']],
    ]);
    expect(view.container.querySelector('[data-testid="groups-count"]')?.textContent).toBe('3 groups in 2 scopes');
    expect(view.container.querySelector('section[aria-label="Scope chat"] header')?.textContent).toContain('4 members');

    const filter = view.container.querySelector<HTMLInputElement>('input[aria-label="Filter groups"]')!;
    act(() => typeInto(filter, 'ops'));
    expect(rows()).toEqual([['Scope chat', ['room:ops=1']]]);
    expect(view.container.querySelector('[data-testid="groups-count"]')?.textContent).toBe('1 of 3 groups in 2 scopes');
    act(() => typeInto(filter, 'chat lobby'));
    expect(rows()).toEqual([['Scope chat', ['room:lobby=3']]]);
    act(() => typeInto(filter, 'nothing-like-this'));
    expect(rows()).toEqual([]);
    expect(view.container.textContent).toContain('No group matches');
  });

  it('explains process groups when there are none', () => {
    act(() => useStore.getState().applySnapshot(state({})));
    view.render(<Groups />);
    const text = view.container.querySelector('section[aria-label="Groups"]')?.textContent ?? '';
    expect(text).toContain('No process groups');
    expect(text).toContain('join(scope, group, pid)');
    expect(text).toContain('shown as the children on the board');
  });

  it('follows the cluster as groups appear', () => {
    act(() => useStore.getState().applySnapshot(state({})));
    view.render(<Groups />);
    act(() => useStore.getState().applyPatch({ groups: { set: [{ scope: 'chat', group: 'room:new', members: { n1: 1, n3: 1 } }] } }));
    expect(rows()).toEqual([['Scope chat', ['room:new=2']]]);
    expect([...view.container.querySelectorAll('.node-chip')].map((b) => b.textContent)).toEqual(['n1 ×1', 'n3 ×1']);
    act(() => (view.container.querySelector('.node-chip') as HTMLButtonElement).click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'n1' });
  });
});
