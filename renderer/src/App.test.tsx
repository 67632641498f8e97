import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import { emptyState } from 'pogo-core/observer-state';
import { useStore } from './store/index';
import { mountPerTest } from './test-support';

describe('<App/>', () => {
  const view = mountPerTest();

  const badge = () => view.container.querySelector('[data-testid="connection-badge"]');

  it('shows the header and a "not connected" badge initially', () => {
    view.render(<App />);

    expect(view.container.querySelector('h1')?.textContent).toBe('Pogo');
    expect(badge()?.textContent).toBe('not connected');
    expect(badge()?.getAttribute('data-status')).toBe('disconnected');
    expect(view.container.textContent).toContain('npx pogo demo --ui');
  });

  it('updates the badge when the connection store changes', () => {
    view.render(<App />);

    act(() => useStore.getState().setStatus('connecting'));
    expect(badge()?.textContent).toBe('connecting…');

    act(() => useStore.getState().setStatus('connected'));
    expect(badge()?.textContent).toBe('connected');
    expect(badge()?.getAttribute('data-status')).toBe('connected');

    act(() => useStore.getState().setStatus('lost'));
    expect(badge()?.textContent).toBe('connection lost');
  });

  it('describes the host as a browser when there is no preload bridge', () => {
    view.render(<App />);
    expect(view.container.querySelector('.app-footer')?.textContent).toBe('running in a browser');
  });

  it('switches views with 1-5, opens the start form with n (operators only), and Escape closes the detail panel', () => {
    const cluster = { ...emptyState(), cluster: 'kb', observer: 'obs', readOnly: false, access: 'operator' as const };
    act(() => useStore.getState().applySnapshot(cluster));
    view.render(<App />);
    const press = (key: string) => act(() => void window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true })));
    press('3');
    expect(useStore.getState().view).toBe('timeline');
    expect(view.container.querySelector('[aria-current="page"]')?.textContent).toBe('Timeline');
    press('5');
    expect(useStore.getState().view).toBe('audit');
    press('1');
    expect(useStore.getState().view).toBe('board');
    act(() => useStore.getState().select({ kind: 'node', name: 'n1' }));
    press('Escape');
    expect(useStore.getState().selection).toBeNull();
    press('n');
    expect(useStore.getState().starting).toBe(true);
    act(() => useStore.getState().setStarting(false));
    act(() => useStore.getState().applySnapshot({ ...cluster, readOnly: true, access: 'viewer' }));
    press('n');
    expect(useStore.getState().starting).toBe(false);
    expect(view.container.querySelector('[data-testid="access"]')?.textContent).toBe('viewer · read-only');
  });
});
