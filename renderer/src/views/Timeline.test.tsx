import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { emptyState, type ClusterEvent, type ClusterState, type EventType, type EventView, type MemberView } from 'pogo-core/observer-state';
import { useStore } from '../store/index';
import { eventText } from './event-text';
import { burstSummary, groupEvents, Timeline } from './Timeline';
import { mountPerTest, typeInto } from '../test-support';

const member = (name: string, role: MemberView['role'] = 'member'): MemberView => ({ name, status: 'up', role, address: `${name}:1`, incarnation: 'abcdef0123456789', labels: {}, workers: ['w'], ready: true, draining: false, reachable: true });

const T0 = new Date(2025, 0, 2, 10, 20, 30, 45).getTime();
let seq = 0;
type Fields<T extends EventType> = Omit<Extract<ClusterEvent, { type: T }>, 'type' | 'at'>;
function ev<T extends EventType>(type: T, fields: Fields<T>): EventView {
  seq++;
  // The fields of that type's event, with its type and time: TypeScript cannot see through the spread.
  return { ...fields, type, seq, at: T0 + seq * 10 } as unknown as EventView;
}
const moved = (id: string): EventView => ev('moved', { id, from: 'demo-3', to: 'demo-1', reason: 'failure' });

function cluster(events: EventView[]): ClusterState {
  const s = emptyState();
  s.cluster = 'test';
  for (const n of ['demo-1', 'demo-2', 'demo-3']) s.members[n] = member(n);
  s.members['obs'] = member('obs', 'observer');
  s.events = events;
  return s;
}

/** A cluster with a child started, then demo-3 going down and two children moving off it, then another start. */
function redistribution(): EventView[] {
  seq = 0;
  return [
    ev('placed', { id: 'ticker-1', node: 'demo-1', by: 'hash' }),
    ev('started', { id: 'ticker-1', node: 'demo-1', pid: 'p1' }),
    ev('node-down', { node: 'demo-3', role: 'member', reason: 'member-down' }),
    ev('stopped', { id: 'ticker-2', node: 'demo-3', pid: 'p2' }),
    ev('started', { id: 'ticker-2', node: 'demo-2', pid: 'p3' }),
    ev('moved', { id: 'ticker-2', from: 'demo-3', to: 'demo-2', reason: 'failure' }),
    ev('stopped', { id: 'ticker-3', node: 'demo-3', pid: 'p4' }),
    ev('started', { id: 'ticker-3', node: 'demo-1', pid: 'p5' }),
    ev('moved', { id: 'ticker-3', from: 'demo-3', to: 'demo-1', reason: 'failure' }),
    ev('converged', { after: 84, cause: 'node-down', node: 'demo-3', children: 3 }),
    ev('failed', { id: 'ticker-4', node: 'demo-2', failures: 2, error: 'exit 1' }),
  ];
}

describe('<Timeline/>', () => {
  const view = mountPerTest();

  const show = (events: EventView[]): void => {
    act(() => useStore.getState().applySnapshot(cluster(events)));
    view.render(<Timeline />);
  };
  const rows = () => [...view.container.querySelectorAll<HTMLElement>('[data-testid="timeline-event"]')];
  const types = () => rows().map((r) => r.dataset['type']);
  const seqs = () => rows().map((r) => Number(r.dataset['seq']));
  const chip = (label: string) => [...view.container.querySelectorAll<HTMLButtonElement>('.tl-chip')].find((b) => b.textContent?.startsWith(label))!;

  it('lists events newest first, with local time, a badge and a sentence', () => {
    seq = 0;
    show([ev('placed', { id: 'ticker-1', node: 'demo-1', by: 'hash' }), ev('started', { id: 'ticker-1', node: 'demo-1', pid: 'p' }), ev('stopped', { id: 'ticker-1', node: 'demo-1', pid: 'p' })]);
    expect(view.container.querySelector('[aria-label="Timeline"]')).not.toBeNull();
    expect(types()).toEqual(['stopped', 'started', 'placed']);
    const last = rows()[2]!;
    expect(last.querySelector('time')?.textContent).toBe('10:20:30.055');
    expect(last.querySelector('.tl-badge')?.textContent).toBe('placed');
    expect(last.querySelector('.tl-text')?.textContent).toBe('placed ticker-1 on demo-1 (by placement)');
    expect(view.container.querySelector('[data-testid="timeline-count"]')?.textContent).toBe('3 events');
  });

  it('groups a redistribution under the node-down that caused it, newest first, until converged', () => {
    show(redistribution());
    // Top level, newest first: the later failure, the burst (headed by its node-down), the earlier start and placement.
    const burst = view.container.querySelector<HTMLElement>('.tl-burst')!;
    expect(burst.getAttribute('aria-label')).toBe('Redistribution after node demo-3 down');
    const inBurst = [...burst.querySelectorAll<HTMLElement>('[data-testid="timeline-event"]')].map((r) => Number(r.dataset['seq']));
    expect(inBurst).toEqual([3, 10, 9, 8, 7, 6, 5, 4]);
    expect(seqs()).toEqual([11, 3, 10, 9, 8, 7, 6, 5, 4, 2, 1]);
    expect([...burst.querySelectorAll('.tl-members [data-testid="timeline-event"]')]).toHaveLength(7);
    expect(burst.querySelector('.tl-summary')?.textContent).toContain('2 children moved · 2 started · 2 stopped');
    expect(burst.querySelector('.tl-summary')?.textContent).toContain('converged in 84 ms');
    expect(burst.querySelector('[data-type="node-down"] .tl-text')?.textContent).toBe('node demo-3 down (member-down)');
    expect(burst.querySelector('[data-type="converged"] .tl-text')?.textContent).toBe('converged 84 ms after demo-3 down: 3 children running once');
    expect(burst.querySelector('[data-seq="6"] .tl-text')?.textContent).toBe('ticker-2 moved demo-3 → demo-2 (node down or failing)');

    // Collapsing hides its events, not its head.
    act(() => burst.querySelector<HTMLButtonElement>('.tl-toggle')!.click());
    expect(seqs()).toEqual([11, 3, 2, 1]);
    expect(burst.querySelector('.tl-toggle')?.getAttribute('aria-expanded')).toBe('false');
  });

  it('shows a burst still open as converging, and new events join it', () => {
    const events = redistribution().slice(0, 6);
    show(events);
    expect(view.container.querySelector('.tl-outcome')?.textContent).toBe('converging…');
    act(() => useStore.getState().applyPatch({ events: [ev('converged', { after: 1_250, cause: 'node-down', node: 'demo-3', children: 3 })] }));
    expect(view.container.querySelector('.tl-outcome')?.textContent).toBe('converged in 1.25 s');
    expect(view.container.querySelectorAll('.tl-burst [data-testid="timeline-event"]')).toHaveLength(5); // head, 3 events, converged
  });

  it('filters by kind and by child id or node', () => {
    show(redistribution());
    act(() => chip('Starts / stops').click());
    expect(chip('Starts / stops').getAttribute('aria-pressed')).toBe('false');
    expect(types()).not.toContain('started');
    expect(types()).not.toContain('stopped');
    expect(types()).toContain('moved');
    act(() => chip('Membership').click());
    // The burst stays, its head shown as a caption for context.
    expect(types()).not.toContain('node-down');
    expect(view.container.querySelector('.tl-burst .tl-context')?.textContent).toContain('during the redistribution after node demo-3 went down');
    expect(view.container.querySelector('[data-testid="timeline-count"]')?.textContent).toBe('5 of 11 events');

    act(() => [...view.container.querySelectorAll('button')].find((b) => b.textContent === 'Clear filters')!.click());
    expect(rows()).toHaveLength(11);

    const search = view.container.querySelector<HTMLInputElement>('input[type="search"]')!;
    act(() => typeInto(search, 'ticker-3'));
    expect(seqs()).toEqual([9, 8, 7]);
    act(() => typeInto(search, 'demo-2'));
    expect(seqs()).toEqual([11, 6, 5]);
    act(() => typeInto(search, 'demo-3 ticker-2'));
    expect(seqs()).toEqual([6, 4]);
    act(() => typeInto(search, 'nothing-like-this'));
    expect(rows()).toHaveLength(0);
    expect(view.container.textContent).toContain('No event matches the filters.');
  });

  it('clicking a child id or a node selects it', () => {
    show(redistribution());
    const moved = view.container.querySelector('[data-seq="6"]')!;
    act(() => moved.querySelector<HTMLButtonElement>('.tl-child')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'child', id: 'ticker-2' });
    expect(view.container.querySelector('[data-seq="6"]')?.classList.contains('selected')).toBe(true);
    act(() => [...moved.querySelectorAll<HTMLButtonElement>('.tl-node')].find((b) => b.textContent === 'demo-2')!.click());
    expect(useStore.getState().selection).toEqual({ kind: 'node', name: 'demo-2' });
  });

  it('says so when there are no events', () => {
    show([]);
    expect(rows()).toHaveLength(0);
    expect(view.container.textContent).toContain('No cluster events yet');
  });

  it('renders the 500 events the observer keeps', () => {
    seq = 0;
    const events: EventView[] = [];
    for (let i = 0; i < 125; i++) {
      const id = `child-${i % 40}`;
      events.push(ev('placed', { id, node: 'demo-2', by: 'pin' }), ev('started', { id, node: 'demo-2', pid: 'p' }), ev('moved', { id, from: 'demo-1', to: 'demo-2', reason: 'pin' }), ev('stopped', { id, node: 'demo-1', pid: 'q' }));
    }
    show(events);
    expect(rows()).toHaveLength(500);
    expect(seqs()[0]).toBe(500);
  });
});

describe('timeline grouping', () => {
  it("an observer coming or going starts no burst: the event's own role decides", () => {
    seq = 0;
    const items = groupEvents([ev('node-up', { node: 'obs', role: 'observer' }), ev('started', { id: 'x', node: 'demo-1', pid: 'p1' }), ev('node-up', { node: 'demo-4', role: 'member' }), ev('started', { id: 'y', node: 'demo-4', pid: 'p2' })]);
    expect(items.map((i) => i.kind)).toEqual(['event', 'event', 'burst']);
    expect(items[2]).toMatchObject({ kind: 'burst', converged: null, members: [{ type: 'started' }] });
    seq = 0;
    const byRole = groupEvents([ev('node-down', { node: 'ctl-1', role: 'observer', reason: 'left' }), ev('node-down', { node: 'demo-2', role: 'member', reason: 'member-down' }), ev('started', { id: 'x', node: 'demo-1', pid: 'p1' })]);
    expect(byRole.map((i) => i.kind)).toEqual(['event', 'burst']);
    expect(eventText(ev('node-down', { node: 'ctl-1', role: 'observer', reason: 'left' }))).toBe('observer ctl-1 down (left)');
  });

  it('a second topology change inside a burst belongs to it (the gateway measures one convergence)', () => {
    seq = 0;
    const items = groupEvents([ev('node-down', { node: 'demo-2', role: 'member', reason: 'member-down' }), ev('node-down', { node: 'demo-3', role: 'member', reason: 'member-down' }), ev('converged', { after: 5, cause: 'node-down', node: 'demo-2', children: 3 }), ev('started', { id: 'x', node: 'demo-1', pid: 'p1' })]);
    expect(items.map((i) => i.kind)).toEqual(['burst', 'event']);
    expect(items[0]).toMatchObject({ members: [{ type: 'node-down' }, { type: 'converged' }] });
  });

  it('sums up a burst by what happened in it', () => {
    seq = 0;
    const converged = ev('converged', { after: 5, cause: 'node-down', node: 'demo-3', children: 3 });
    expect(burstSummary([moved('a'), moved('b'), ev('started', { id: 'a', node: 'demo-1', pid: 'p1' }), ev('failed', { id: 'c', node: 'demo-1', failures: 1, error: 'x' }), ev('node-up', { node: 'demo-4', role: 'member' }), converged])).toBe('2 children moved · 1 started · 1 failed · 1 more node change');
    expect(burstSummary([converged])).toBe('no child moved');
  });
});
