/**
 * The app shell around a session: a refused credential is said once and
 * leaves the board (and its access) in place; the Unlock button waits while
 * the gateway checks; a lost link shows the last state as stale, with a way
 * to reconnect; Lock and Unlock drop and take back an operator session's
 * rights; the user's name is kept in the browser and sent when connecting.
 * The gateway client is replaced by spies.
 */
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { useStore } from './store/index';
import { child, clusterOf, member } from './test-cluster';
import { mountPerTest, typeInto } from './test-support';

const client = vi.hoisted(() => ({
  connectGateway: vi.fn(async () => 'refused'),
  reconnectGateway: vi.fn(() => true),
  runCommand: vi.fn(),
  sendCommand: vi.fn(),
  lockSession: vi.fn(async () => ({ ok: true, result: { access: 'locked' } })),
  unlockSession: vi.fn(async () => ({ ok: true, result: { access: 'operator' } })),
  renameSession: vi.fn(async () => 'accepted'),
}));
vi.mock('./gateway/client', () => client);

describe('<App/> session', () => {
  const view = mountPerTest();
  beforeEach(() => {
    window.history.replaceState(null, '', '/?token=gw-token');
    client.connectGateway.mockClear();
  });
  afterEach(() => {
    window.history.replaceState(null, '', '/');
    window.localStorage.clear();
  });

  const viewer = () => {
    act(() => {
      useStore.getState().applySnapshot(clusterOf([member('a')], [child('x')], { access: 'viewer', readOnly: true }));
      useStore.getState().setStatus('connected');
    });
  };
  const alerts = () => [...view.container.querySelectorAll('[role="alert"]')].map((a) => a.textContent);

  it('a refused credential: one message, the viewer session and its board stay', async () => {
    view.render(<App />);
    expect(client.connectGateway).toHaveBeenCalledWith({ url: window.location.origin, token: 'gw-token' });
    viewer();
    const input = view.container.querySelector<HTMLInputElement>('input[aria-label="Credential"]')!;
    const unlock = [...view.container.querySelectorAll('button')].find((b) => b.textContent === 'Unlock')!;
    expect(unlock.disabled).toBe(true);
    act(() => typeInto(input, 'wrong'));
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(client.connectGateway).toHaveBeenLastCalledWith({ url: window.location.origin, token: 'gw-token', credential: 'wrong' });

    act(() => useStore.getState().setUnlock({ pending: true, error: null }));
    expect(unlock.textContent).toBe('Checking…');
    expect(unlock.disabled).toBe(true);
    act(() => useStore.getState().setUnlock({ pending: false, error: 'the credential is not valid for this cluster' }));
    expect(alerts()).toEqual(['Not unlocked: the credential is not valid for this cluster. This window keeps its viewer session.']);
    expect(view.container.querySelector('[data-testid="connection-badge"]')?.textContent).toBe('connected');
    expect(view.container.querySelector('[data-testid="stale-banner"]')).toBeNull();
    expect(view.container.querySelector('[data-testid="access"]')?.textContent).toBe('viewer · read-only');
    expect(view.container.querySelectorAll('[data-testid="node-column"]')).toHaveLength(1);
    // The typed credential stays, to be corrected; the message goes when clicked.
    expect(input.value).toBe('wrong');
    act(() => view.container.querySelector<HTMLElement>('[data-testid="unlock-error"]')!.click());
    expect(alerts()).toEqual([]);
  });

  const as = (access: 'operator' | 'locked') =>
    act(() => {
      useStore.getState().applySnapshot(clusterOf([member('a')], [child('x')], { access, readOnly: access !== 'operator' }));
      useStore.getState().setStatus('connected');
    });
  const button = (text: string) => [...view.container.querySelectorAll('button')].find((b) => b.textContent === text);

  it('Lock sits next to Unlock in an operator session; locked, Unlock takes the rights back without a credential', async () => {
    view.render(<App />);
    as('operator');
    expect(button('Lock')).toBeDefined();
    expect(button('Unlock')!.disabled).toBe(true);
    // A credential left in the field would be what Unlock tries next: Lock clears it.
    act(() => typeInto(view.container.querySelector<HTMLInputElement>('input[aria-label="Credential"]')!, 'refused-before'));
    await act(async () => button('Lock')!.click());
    expect(view.container.querySelector<HTMLInputElement>('input[aria-label="Credential"]')!.value).toBe('');
    expect(client.lockSession).toHaveBeenCalledTimes(1);
    as('locked');
    expect(view.container.querySelector('[data-testid="access"]')?.textContent).toBe('locked · read-only');
    expect(button('Lock')).toBeUndefined();
    expect(button('Unlock')!.disabled).toBe(false);
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(client.unlockSession).toHaveBeenCalledTimes(1);
    expect(client.connectGateway).toHaveBeenCalledTimes(1); // the first connect only: unlocking opens no new session
    // A refused unlock is said once; the locked session stays.
    act(() => useStore.getState().setUnlock({ pending: false, error: 'the credential is not valid for this cluster' }));
    expect(alerts()).toEqual(['Not unlocked: the credential is not valid for this cluster. This window keeps its locked session.']);
  });

  it('the name the user gives is kept in this browser, sent with the next connect, and re-opens the session under it', async () => {
    window.localStorage.setItem('pogo.user', 'alice');
    view.render(<App />);
    expect(client.connectGateway).toHaveBeenCalledWith({ url: window.location.origin, token: 'gw-token', user: 'alice' });
    as('operator');
    act(() => useStore.getState().setUser('alice'));
    const name = view.container.querySelector<HTMLInputElement>('input[aria-label="Your name"]')!;
    expect(name.value).toBe('alice');
    act(() => typeInto(name, 'bob'));
    await act(async () => name.dispatchEvent(new FocusEvent('focusout', { bubbles: true })));
    expect(client.renameSession).toHaveBeenCalledWith('bob');
    expect(window.localStorage.getItem('pogo.user')).toBe('bob');
    // A credential typed now goes with the name.
    act(() => typeInto(view.container.querySelector<HTMLInputElement>('input[aria-label="Credential"]')!, 'viewer-token'));
    await act(async () => view.container.querySelector('form')!.requestSubmit());
    expect(client.connectGateway).toHaveBeenLastCalledWith({ url: window.location.origin, token: 'gw-token', credential: 'viewer-token', user: 'bob' });
  });

  it('a lost link: the last state stays, marked stale since when, with Reconnect', () => {
    let clock = Date.parse('2025-01-01T12:00:00Z');
    useStore.setState({ now: () => clock });
    view.render(<App />);
    viewer();
    clock += 5_000;
    act(() => useStore.getState().setStatus('reconnecting'));
    const banner = () => view.container.querySelector('[data-testid="stale-banner"]');
    expect(banner()?.textContent).toContain('Connection lost at ');
    expect(banner()?.textContent).toContain('reconnecting…');
    expect(banner()?.querySelector('button')).toBeNull();
    expect(view.container.querySelector('.workspace')?.classList.contains('stale')).toBe(true);
    act(() => useStore.getState().setStatus('lost', 'the gateway stopped answering'));
    expect(banner()?.textContent).toContain(': the gateway stopped answering.');
    act(() => banner()!.querySelector('button')!.click());
    expect(client.reconnectGateway).toHaveBeenCalledTimes(1);
    act(() => useStore.getState().setStatus('connected'));
    expect(banner()).toBeNull();
    expect(view.container.querySelector('.workspace')?.classList.contains('stale')).toBe(false);
  });
});
