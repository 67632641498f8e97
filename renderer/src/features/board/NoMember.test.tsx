/**
 * The gateway is up but reaches no cluster member (ClusterState
 * `noMemberSince`): the header says so instead of a green "connected", the
 * attention lane lists it first, every command is disabled with the
 * reason, and the board shows the last known state, marked unverified and
 * with grey health dots, never as a live board.
 */
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useStore } from '../../store/index';
import { child, clusterOf, member } from '../../test-cluster';
import { mountPerTest } from '../../test-support';
import { ConnectionBadge } from '../shell/ConnectionBadge';
import { PauseControl } from '../shell/PauseControl';
import { Board } from './Board';

vi.mock('../../gateway/client', () => ({ runCommand: vi.fn(), sendCommand: vi.fn(), requestMove: vi.fn() }));

describe('no cluster member reachable', () => {
  const view = mountPerTest();
  // Columns are virtualised by their client size, which happy-dom does not lay out.
  const spies: Array<{ mockRestore(): void }> = [];
  beforeEach(() => {
    spies.push(vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600));
    spies.push(vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(300));
  });
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });
  const since = new Date(2026, 0, 2, 9, 27, 20).getTime();
  const q = (sel: string) => view.container.querySelector(sel);
  const all = (sel: string) => [...view.container.querySelectorAll(sel)];

  function show(noMemberSince: number | null): void {
    const members = [member('a', { status: noMemberSince === null ? 'up' : 'unreachable', reachable: noMemberSince === null })];
    const children = [child('c1', { unverified: noMemberSince !== null }), child('c2', { unverified: noMemberSince !== null })];
    act(() => {
      useStore.getState().applySnapshot(clusterOf(members, children, { readOnly: false, access: 'operator', noMemberSince }));
      useStore.getState().setStatus('connected');
    });
  }

  it('header, attention lane, commands and board all say it; back to live once a member is linked again', () => {
    view.render(
      <>
        <ConnectionBadge />
        <PauseControl />
        <Board />
      </>,
    );
    show(since);
    const badge = q('[data-testid="connection-badge"]')!;
    expect(badge.textContent).toBe('connected to the gateway — no cluster member reachable since 09:27:20');
    expect(badge.getAttribute('data-status')).toBe('no-member');
    // First in the lane, never "Nothing needs attention".
    const first = all('[data-testid="attention-item"]')[0]!;
    expect(first.getAttribute('data-kind')).toBe('no-member');
    expect(first.textContent).toContain('since 09:27:20');
    expect(q('[data-testid="attention-lane"]')!.textContent).not.toContain('Nothing needs attention');
    // Commands are there but disabled, saying why.
    const pause = all('button').find((b) => b.textContent === 'Pause rebalancing') as HTMLButtonElement;
    const start = all('button').find((b) => b.textContent === 'Start child') as HTMLButtonElement;
    for (const b of [pause, start]) {
      expect(b.disabled).toBe(true);
      expect(b.title).toMatch(/^No cluster member is reachable from the gateway \(since 09:27:20\)/);
    }
    expect(q('[data-testid="child-card"]')!.getAttribute('draggable')).toBe('false');
    // The last known children, unverified, where they last ran; the health dots grey.
    expect(all('[data-testid="child-card"]').map((c) => c.getAttribute('data-child'))).toEqual(['c1', 'c2']);
    expect(all('[data-testid="unverified-tag"]').length).toBe(2);
    // The counts say so too: "2 running" is as last seen (the outsider: "9 running" with no member reachable).
    expect(q('[data-testid="unverified-count"]')!.textContent).toBe('all unverified');
    expect(all('[data-testid="node-health"]').map((h) => h.getAttribute('data-health'))).toEqual(['stale']);

    show(null);
    expect(badge.textContent).toBe('connected');
    expect(q('[data-testid="attention-lane"]')!.textContent).toContain('Nothing needs attention');
    expect((all('button').find((b) => b.textContent === 'Start child') as HTMLButtonElement).disabled).toBe(false);
    expect(all('[data-testid="unverified-tag"]').length).toBe(0);
    expect(q('[data-testid="unverified-count"]')).toBeNull();
  });
});
