import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import { emptyState } from 'pogo-core/observer-state';
import { resetStore, useStore } from './store/index';

// Tell React this environment supports act() (no "not configured" warning).
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

describe('<App/>', () => {
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

  const badge = () => container.querySelector('[data-testid="connection-badge"]');

  it('shows the header and a "not connected" badge initially', () => {
    act(() => root.render(<App />));

    expect(container.querySelector('h1')?.textContent).toBe('Pogo');
    expect(badge()?.textContent).toBe('not connected');
    expect(badge()?.getAttribute('data-status')).toBe('disconnected');
    expect(container.textContent).toContain('npx pogo demo --ui');
  });

  it('updates the badge when the connection store changes', () => {
    act(() => root.render(<App />));

    act(() => useStore.getState().setStatus('connecting'));
    expect(badge()?.textContent).toBe('connecting…');

    act(() => useStore.getState().setStatus('connected'));
    expect(badge()?.textContent).toBe('connected');
    expect(badge()?.getAttribute('data-status')).toBe('connected');

    act(() => useStore.getState().setStatus('lost'));
    expect(badge()?.textContent).toBe('connection lost');
  });

  it('describes the host as a browser when there is no preload bridge', () => {
    act(() => root.render(<App />));
    expect(container.querySelector('.app-footer')?.textContent).toBe('running in a browser');
  });

  it('switches views with 1-5, opens the start form with n (operators only), and Escape closes the detail panel', () => {
    const cluster = { ...emptyState(), cluster: 'kb', observer: 'obs', readOnly: false, access: 'operator' as const };
    act(() => useStore.getState().applySnapshot(cluster));
    act(() => root.render(<App />));
    const press = (key: string) => act(() => void window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true })));
    press('3');
    expect(useStore.getState().view).toBe('timeline');
    expect(container.querySelector('[aria-current="page"]')?.textContent).toBe('Timeline');
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
    expect(container.querySelector('[data-testid="access"]')?.textContent).toBe('viewer · read-only');
  });
});
