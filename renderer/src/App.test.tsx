import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
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
});
