import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyState, type ClusterState } from 'pogo-core/observer-state';
import { resetStore, useStore } from '../store/index';
import { Groups } from './Groups';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function state(groups: ClusterState['groups']): ClusterState {
  return { ...emptyState(), cluster: 'test', observer: 'obs', groups };
}

function typeInto(el: HTMLInputElement, value: string): void {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('<Groups/>', () => {
  let container: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root.unmount());
    container.remove();
    resetStore();
  });

  const rows = () => [...container.querySelectorAll('section[aria-label^="Scope "]')].map((s) => [s.getAttribute('aria-label'), [...s.querySelectorAll('tbody tr')].map((tr) => `${tr.querySelector('code')?.textContent}=${tr.querySelector('.num')?.textContent}`)]);

  it('lists every scope and its groups with member counts, and filters them', () => {
    act(() => useStore.getState().applySnapshot(state({ chat: { 'room:lobby': { n1: 2, n2: 1 }, 'room:ops': { n2: 1 } }, app: { workers: { n1: 5 } } })));
    act(() => root.render(<Groups />));
    expect(container.querySelector('section[aria-label="Groups"]')).not.toBeNull();
    expect(rows()).toEqual([
      ['Scope app', ['workers=5']],
      ['Scope chat', ['room:lobby=3', 'room:ops=1']],
    ]);
    expect(container.querySelector('[data-testid="groups-count"]')?.textContent).toBe('3 groups in 2 scopes');
    expect(container.querySelector('section[aria-label="Scope chat"] header')?.textContent).toContain('4 members');

    const filter = container.querySelector<HTMLInputElement>('input[aria-label="Filter groups"]')!;
    act(() => typeInto(filter, 'ops'));
    expect(rows()).toEqual([['Scope chat', ['room:ops=1']]]);
    expect(container.querySelector('[data-testid="groups-count"]')?.textContent).toBe('1 of 3 groups in 2 scopes');
    act(() => typeInto(filter, 'chat lobby'));
    expect(rows()).toEqual([['Scope chat', ['room:lobby=3']]]);
    act(() => typeInto(filter, 'nothing-like-this'));
    expect(rows()).toEqual([]);
    expect(container.textContent).toContain('No group matches');
  });

  it('explains process groups when there are none', () => {
    act(() => useStore.getState().applySnapshot(state({})));
    act(() => root.render(<Groups />));
    const text = container.querySelector('section[aria-label="Groups"]')?.textContent ?? '';
    expect(text).toContain('No process groups');
    expect(text).toContain('join(scope, group, pid)');
    expect(text).toContain('shown as the children on the board');
  });

  it('follows the cluster as groups appear', () => {
    act(() => useStore.getState().applySnapshot(state({})));
    act(() => root.render(<Groups />));
    act(() => useStore.getState().applyPatch({ groups: { set: [{ scope: 'chat', group: 'room:new', members: { n1: 1, n3: 1 } }] } }));
    expect(rows()).toEqual([['Scope chat', ['room:new=2']]]);
    expect([...container.querySelectorAll('.node-chip')].map((b) => b.textContent)).toEqual(['n1 ×1', 'n3 ×1']);
    act(() => (container.querySelector('.node-chip') as HTMLButtonElement).click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'n1' });
  });
});
