import { act } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChildView, ClusterState, MemberView, ResourcePoint } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import { NodeDetail } from './NodeDetail';
import { mountPerTest } from '../../test-support';
import { burstOf } from '../../test-cluster';

const gateway = vi.hoisted(() => ({ sendCommand: vi.fn(), runCommand: vi.fn() }));
vi.mock('../../gateway/client', () => gateway);

const member = (name: string, extra: Partial<MemberView> = {}): MemberView => ({
  name,
  status: 'up',
  role: 'member',
  address: `127.0.0.1:700${name.length}`,
  incarnation: 'abcdef0123456789',
  labels: {},
  workers: ['ticker', 'counter'],
  ready: true,
  draining: false,
  reachable: true,
  silent: false,
  ...extra,
});
const child = (id: string, node: string | null, extra: Partial<ChildView> = {}): ChildView => ({
  id,
  status: node ? 'running' : 'pending',
  node,
  pid: null,
  owner: node,
  pin: null,
  instances: node ? [{ node, pid: `${node}/x/${id}` }] : [],
  restarts: 0,
  worker: 'ticker',
  command: null,
  restart: 'permanent',
  handoff: 'stop-first',
  lastError: null,
  failures: [],
  unverified: false,
  ...extra,
});

function state(readOnly = false): ClusterState {
  return {
    observer: 'obs',
    cluster: 'test',
    paused: false,
    readOnly,
    access: readOnly ? 'none' : 'operator',
    members: { a: member('a', { labels: { region: 'eu' } }), b: member('b', { draining: true, ready: false }) },
    children: {
      'ticker-2': child('ticker-2', 'a'),
      'ticker-1': child('ticker-1', 'a', { pin: 'a' }),
      'other-1': child('other-1', 'b'),
      'waiting-1': child('waiting-1', null, { pin: 'a' }),
    },
    groups: {},
    events: [
      { seq: 1, at: 1_000, type: 'node-up', node: 'a', role: 'member' },
      { seq: 2, at: 2_000, type: 'node-down', node: 'b', role: 'member', reason: 'link closed' },
      { seq: 5, at: 5_000, type: 'converged', after: 84, cause: 'node-down', node: 'b', children: 4 },
    ],
    activity: [
      // Moves off b to a: about b (their source) and a (where they went).
      burstOf(3, [
        { at: 2_100, type: 'moved', id: 'other-2', from: 'b', to: 'a', reason: 'failure' },
        { at: 2_200, type: 'moved', id: 'other-3', from: 'b', to: 'a', reason: 'failure' },
      ]),
      burstOf(4, [{ at: 2_300, type: 'started', id: 'other-1', node: 'b', pid: 'b/x/1' }]),
    ],
    samples: [],
    resources: {},
    sessions: 0,
    noMemberSince: null,
  };
}

const MiB = 2 ** 20;
const point = (at: number, extra: Partial<ResourcePoint> = {}): ResourcePoint => ({
  at,
  cpu: 3.4,
  rss: 84.2 * MiB,
  heapUsed: 21 * MiB,
  heapTotal: 32 * MiB,
  lagMean: 0.42,
  lagP99: 3.1,
  lagMax: 12.6,
  ...extra,
});
/** The gateway's newest per-second sample at `at` (its clock, by which staleness is judged). */
const sampleAt = (at: number) => ({ at, starts: 0, stops: 0, restarts: 0, moves: 0, failures: 0, members: 2, perNode: {} });

function buttonNamed(root: ParentNode, name: string): HTMLButtonElement | undefined {
  return [...root.querySelectorAll('button')].find((b) => b.textContent?.trim() === name || b.getAttribute('aria-label') === name);
}

describe('<NodeDetail/>', () => {
  const view = mountPerTest();

  beforeEach(() => {
    gateway.runCommand.mockReset().mockResolvedValue({ ok: true });
  });

  function open(name: string, s = state()): HTMLElement {
    act(() => useStore.getState().applySnapshot(s));
    view.render(<NodeDetail name={name} />);
    return view.container.querySelector<HTMLElement>(`aside[aria-label="Node ${name}"]`)!;
  }

  it('shows the member and lists its children, each opening the child', () => {
    const aside = open('a');
    const fields = Object.fromEntries([...aside.querySelectorAll('.fields dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
    expect(fields).toMatchObject({
      Status: 'up',
      Role: 'member',
      Address: '127.0.0.1:7001',
      Incarnation: 'abcdef0123456789',
      Labels: 'region=eu',
      'Worker types': 'tickercounter',
      Draining: 'no',
    });
    expect(fields['Ready']).toMatch(/^yes/);
    expect(fields['Reachable']).toMatch(/^yes/);
    const children = aside.querySelector('[aria-label="Children"]')!;
    const ids = [...children.querySelectorAll('.child-link-id')].map((e) => e.textContent);
    expect(ids).toEqual(['ticker-1', 'ticker-2', 'waiting-1']); // running here (sorted), then pinned here and not running
    expect(children.textContent).toContain('Pinned here, not running here (1)');
    act(() => (children.querySelector('.child-link') as HTMLButtonElement).click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'ticker-1' });
    const history = [...aside.querySelectorAll('[aria-label="History"] li')].map((li) => [
      li.getAttribute('data-type'),
      li.querySelector('.history-text')?.textContent,
    ]);
    expect(history).toEqual([
      ['moved', '2 moved from b to a (node down or failing)'],
      ['node-up', 'node a up'],
    ]);
  });

  it("a node's history: its membership and convergence events, and the bursts from it or on it, newest first", () => {
    const aside = open('b');
    const history = [...aside.querySelectorAll('[aria-label="History"] li')].map((li) => [
      li.getAttribute('data-type'),
      li.getAttribute('data-count'),
      li.querySelector('.history-text')?.textContent,
    ]);
    expect(history).toEqual([
      ['converged', '1', 'converged 84 ms after b down: 4 children running once'],
      ['started', '1', 'other-1 started on b'],
      ['moved', '2', '2 moved from b to a (node down or failing)'],
      ['node-down', '1', 'node b down (link closed)'],
    ]);
  });

  it('draws a member unreachable from this observer apart from one that is down', () => {
    const s = state();
    let aside = open('a', { ...s, members: { ...s.members, a: member('a', { status: 'unreachable', reachable: false }) } });
    const status = aside.querySelector('[data-testid="node-status"]')!;
    expect(status.textContent).toBe('unreachable');
    expect(status.className).toContain('state-unreachable');
    expect(status.className).not.toContain('state-down');
    expect(status.getAttribute('title')).toContain('unreachable from this observer; the other members still hear it');
    expect(aside.querySelector('.health')?.className).toContain('health-unreachable');
    const fields = Object.fromEntries([...aside.querySelectorAll('.fields dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
    expect(fields['Status']).toBe('unreachable from this observer; the other members still hear it');
    expect(fields['Reachable']).toContain('not down');

    expect(fields['Ready']).toBe('unknown: this observer cannot reach it (it last said yes)');

    aside = open('a', { ...s, members: { ...s.members, a: member('a', { status: 'down', reachable: false }) } });
    expect(aside.querySelector('[data-testid="node-status"]')?.className).toContain('state-down');
    expect(aside.querySelector('.health')?.className).toContain('health-down');
  });

  it('a node that is down does not say "Ready: yes" (its last word): readiness does not apply', () => {
    const s = state();
    // The member table keeps the last `ready` a member announced: true for one that died while ready.
    const aside = open('a', { ...s, members: { ...s.members, a: member('a', { status: 'down', reachable: false, ready: true }) } });
    const ready = aside.querySelector('[data-testid="node-ready"]')!;
    expect(ready.textContent).toBe('does not apply: it is down, so it takes no children');
    expect(ready.className).toContain('warn-text');
  });

  it('drains after confirming, and offers Undrain on a draining node', async () => {
    let aside = open('a');
    act(() => buttonNamed(aside, 'Drain')!.click());
    const dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('Drain a?');
    await act(async () => buttonNamed(dialog, 'Drain')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('drain', { node: 'a' });

    aside = open('b');
    expect(aside.textContent).toContain('draining');
    expect(aside.querySelector('.fields')?.textContent).toContain('no: not taking children (still joining, or leaving)');
    act(() => buttonNamed(aside, 'Undrain')!.click());
    await act(async () => buttonNamed(view.container.querySelector('[role="dialog"]')!, 'Undrain')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('undrain', { node: 'b' });
  });

  it('a down node is offered no Drain (Undrain while it drains), and Forget after a confirmation that says what it does and does not do', async () => {
    const s = state();
    let aside = open('a', { ...s, members: { ...s.members, a: member('a', { status: 'down', reachable: false }) } });
    expect(buttonNamed(aside, 'Drain')).toBeUndefined();
    act(() => buttonNamed(aside, 'Forget')!.click());
    const dialog = view.container.querySelector('[role="dialog"]')!;
    expect(dialog.textContent).toContain('Forget a?');
    expect(dialog.textContent).toContain('Dismiss on its column hides it from this board');
    await act(async () => buttonNamed(dialog, 'Forget')!.click());
    expect(gateway.runCommand).toHaveBeenCalledWith('forget', { node: 'a' });

    aside = open('b', { ...s, members: { ...s.members, b: member('b', { status: 'down', reachable: false, draining: true }) } });
    expect(buttonNamed(aside, 'Undrain')).toBeDefined();
    // An up member is not offered Forget.
    expect(buttonNamed(open('a'), 'Forget')).toBeUndefined();
  });

  it('read-only sessions get no Drain, and a node that left says so', () => {
    const aside = open('a', state(true));
    expect(buttonNamed(aside, 'Drain')).toBeUndefined();
    expect(open('gone').textContent).toContain('no longer a member');
  });

  describe('resources', () => {
    const tiles = (aside: HTMLElement) =>
      Object.fromEntries(
        [...aside.querySelectorAll('.resource-tile')].map((t) => [
          t.querySelector('.resource-label')!.textContent,
          `${t.querySelector('.resource-value')!.textContent} (${t.querySelector('.resource-detail')!.textContent})`,
        ]),
      );

    it('shows the node’s CPU, memory and event-loop lag now, and charts of them', () => {
      const aside = open('a', {
        ...state(),
        samples: [sampleAt(9_000)],
        resources: { a: { intervalMs: 2_000, points: [point(6_000, { cpu: 1 }), point(8_000)] } },
      });
      expect(tiles(aside)).toEqual({
        CPU: '3.4 % (of one core)',
        Memory: '84.2 MiB (resident · heap 21.0 MiB of 32.0 MiB)',
        'Event-loop lag': '0.42 ms (mean · p99 3.1 ms · max 13 ms)',
      });
      expect(aside.querySelector('[data-testid="resource-cpu"]')?.getAttribute('data-value')).toBe('3.4');
      expect(aside.querySelector('[data-testid="resources-stale"]')).toBeNull();
      expect([...aside.querySelectorAll('.resource-chart figcaption')].map((f) => f.textContent)).toEqual([
        'CPU, % of one core',
        'Memory, MiB (resident, heap in use)',
        'Event-loop lag, ms (mean, max)',
      ]);
    });

    it('a down node keeps its last figures, marked stale with the reason', () => {
      const aside = open('b', {
        ...state(),
        samples: [sampleAt(9_000)],
        members: { ...state().members, b: member('b', { status: 'down', reachable: false }) },
        resources: { b: { intervalMs: 2_000, points: [point(8_000)] } },
      });
      expect(aside.querySelector('[data-testid="resources-stale"]')?.textContent).toBe('stale');
      expect(aside.querySelector('[aria-label="Resources"]')?.classList.contains('stale')).toBe(true);
      expect(aside.querySelector('.resource-stale-why')?.textContent).toMatch(/^Stale: b is down: these are its last figures \(from \d\d:\d\d:\d\d\)\.$/);
      expect(tiles(aside)['CPU']).toBe('3.4 % (of one core)');
    });

    it('a node that stopped reporting is stale too, judged on the gateway’s clock', () => {
      const aside = open('a', { ...state(), samples: [sampleAt(29_000)], resources: { a: { intervalMs: 2_000, points: [point(8_000)] } } });
      expect(aside.querySelector('.resource-stale-why')?.textContent).toContain('no figures for 22 s');
    });

    it('says why there are none from a node that never reported', () => {
      const aside = open('a');
      expect(aside.querySelector('[data-testid="resources-none"]')?.textContent).toContain('No CPU, memory or event-loop figures from a yet');
      expect(aside.querySelector('.resource-tile')).toBeNull();
    });
  });
});
