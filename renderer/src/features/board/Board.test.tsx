/**
 * The board's status counts are its status filter (press "1 failing" to
 * see only the failing children, press it again or × to see all, the
 * filter shown while on), and a board whose link is down is drawn stale:
 * no green health dots on a frozen board. A member unreachable from this
 * observer is drawn apart from one that is down, is offered no Drain, and
 * once gone its empty column can be dismissed. With a filter on, an
 * operator stops or moves exactly the children shown, after one
 * confirmation that names the count, and sees what came of each.
 */
import { act } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useStore } from '../../store/index';
import { child, clusterOf, failing, member } from '../../test-cluster';
import { mountPerTest } from '../../test-support';
import { Board } from './Board';

const gateway = vi.hoisted(() => ({ runCommand: vi.fn(), sendCommand: vi.fn() }));
vi.mock('../../gateway/client', () => gateway);

const nodes = ['a', 'b'].map((n) => member(n));
const state = () =>
  clusterOf(nodes, [child('r1'), child('r2', { node: 'b', owner: 'b' }), child('m1', { status: 'moving', node: 'a', owner: 'b' }), failing('f1')]);

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
    // A column says how many it shows of how many it holds, never "0 children" of a node that runs some.
    expect(shown()).toBe('-:1 child a:0 of 2 children shown b:0 of 1 child shown');
    expect(counts.textContent).toMatch(/^1 of 4 children/);
    expect(view.container.querySelector('[data-testid="status-filter"]')?.textContent).toContain('showing failing only');

    // Another status replaces the filter; the same one again clears it.
    act(() => count('running')!.click());
    expect(shown()).toBe('a:1 of 2 children shown b:1 child');
    act(() => count('running')!.click());
    expect(useStore.getState().statusFilter).toBeNull();
    expect(view.container.querySelector('[data-testid="status-filter"]')).toBeNull();
    expect(shown()).toBe('-:1 child a:2 children b:1 child');
    // The search the same way.
    act(() => useStore.getState().setFilter('zzz-no-such-child'));
    expect(shown()).toBe('a:0 of 2 children shown b:0 of 1 child shown');
    act(() => useStore.getState().setFilter(''));
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
    expect(view.container.querySelector('[data-node="a"] [data-testid="node-health"]')?.getAttribute('title')).toBe(
      'up when the connection was lost; not known now',
    );
    act(() => useStore.getState().setStatus('connected'));
    expect(dots()).toEqual(['health health-up', 'health health-up']);
  });
});

describe('<Board/> member status', () => {
  const view = mountPerTest();

  it('draws a member unreachable from this observer apart from a member that is down: a dashed amber marker that says it is not down', () => {
    act(() =>
      useStore
        .getState()
        .applySnapshot(
          clusterOf(
            [member('a'), member('b', { status: 'unreachable', reachable: false }), member('c', { status: 'down', reachable: false })],
            [child('r1'), child('r2', { node: 'b', owner: 'b' })],
          ),
        ),
    );
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

describe('<Board/> gone and down members', () => {
  const view = mountPerTest();
  const column = (n: string) => view.container.querySelector<HTMLElement>(`[data-testid="node-column"][data-node="${n}"]`);
  const buttons = (n: string) => [...column(n)!.querySelectorAll('.node-header button.node-action')].map((b) => b.textContent);

  it('offers Drain only on a member that runs; Undrain stays while a down member drains; an empty column of a gone member can be dismissed, and comes back', () => {
    const members = [
      member('a'),
      member('b', { status: 'down', reachable: false }),
      member('c', { status: 'down', reachable: false, draining: true }),
      member('d', { status: 'unreachable', reachable: false }),
    ];
    const operator = { access: 'operator' as const, readOnly: false };
    act(() => useStore.getState().applySnapshot(clusterOf(members, [child('r1')], operator)));
    view.render(<Board />);
    expect(buttons('a')).toEqual(['Drain']);
    expect(buttons('b')).toEqual(['Dismiss']);
    expect(buttons('c')).toEqual(['Undrain', 'Dismiss']);
    expect(buttons('d')).toEqual(['Drain']);

    act(() => [...column('b')!.querySelectorAll('button')].find((b) => b.textContent === 'Dismiss')!.click());
    expect(column('b')).toBeNull();
    expect(view.container.querySelector('[data-testid="dismissed-nodes"]')?.textContent).toContain('1 gone node dismissed');
    act(() => view.container.querySelector<HTMLButtonElement>('[data-testid="dismissed-nodes"] button')!.click());
    expect(column('b')).not.toBeNull();

    // Dismissed, then back up: its column shows again by itself; a new incarnation too.
    act(() => [...column('b')!.querySelectorAll('button')].find((b) => b.textContent === 'Dismiss')!.click());
    act(() => useStore.getState().applySnapshot(clusterOf([member('a'), member('b', { status: 'up' })], [child('r1')], operator)));
    expect(column('b')).not.toBeNull();
    act(() =>
      useStore.getState().applySnapshot(clusterOf([member('a'), member('b', { status: 'down', incarnation: 'fedcba9876543210' })], [child('r1')], operator)),
    );
    expect(column('b')).not.toBeNull();
    // Read-only sessions may dismiss too (it changes this window only), but get no Drain.
    act(() => useStore.getState().applySnapshot(clusterOf(members, [child('r1')], { access: 'viewer', readOnly: true })));
    expect(buttons('a')).toEqual([]);
    expect(buttons('c')).toEqual(['Dismiss']);
    // b is this incarnation again, still down: the dismissal holds.
    expect(column('b')).toBeNull();
  });
});

/** Columns are virtualised (by their client size): happy-dom lays nothing out, so give every element a size and the cards are drawn. */
function withLayout(): void {
  const spies: Array<{ mockRestore(): void }> = [];
  beforeEach(() => {
    spies.push(vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600));
    spies.push(vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(300));
  });
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });
}

describe('<Board/> a child stopped for good that still runs', () => {
  const view = mountPerTest();
  withLayout();

  it('keeps its card where the copy runs, tagged stopped, still running', () => {
    const copy = { node: 'b', pid: 'b/abcdef0123456789/s1' };
    act(() =>
      useStore
        .getState()
        .applySnapshot(clusterOf(nodes, [child('r1'), child('s1', { node: 'b', pid: copy.pid, owner: null, instances: [copy], terminated: true })])),
    );
    view.render(<Board />);
    const card = view.container.querySelector('[data-node="b"] [data-testid="child-card"][data-child="s1"]');
    expect(card?.querySelector('[data-testid="terminated-tag"]')?.textContent).toBe('stopped, still running');
    expect(card?.getAttribute('aria-label')).toBe('s1, running (stopped for good, still running)');
    expect(view.container.querySelector('[data-child="r1"] [data-testid="terminated-tag"]')).toBeNull();
  });
});

describe('<Board/> dragging a card', () => {
  const view = mountPerTest();
  withLayout();
  beforeEach(() => {
    gateway.sendCommand.mockReset();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => vi.useRealTimers());
  const column = (n: string) => view.container.querySelector<HTMLElement>(`[data-testid="node-column"][data-node="${n}"]`)!;
  const card = (id: string) => view.container.querySelector<HTMLElement>(`[data-testid="child-card"][data-child="${id}"]`)!;
  /**
   * Fires a drag event as the browser does; returns whether a handler called preventDefault (the browser then allows the drop).
   * The board takes a drag up just after its dragstart (Board.tsx: a page changed during it loses the drag), so the timers run then.
   */
  const fire = (el: HTMLElement, type: string): boolean => {
    let prevented = false;
    act(() => {
      const e = new Event(type, { bubbles: true, cancelable: true });
      el.dispatchEvent(e);
      prevented = e.defaultPrevented;
    });
    if (type === 'dragstart')
      act(() => {
        vi.runOnlyPendingTimers();
      });
    return prevented;
  };
  const members = () => [
    member('a'),
    member('b'),
    member('c', { status: 'down', reachable: false, ready: true }),
    member('d', { draining: true }),
    member('e', { status: 'unreachable', reachable: false }),
  ];

  it('a node that is down (or draining, or the one it runs on) is no drop target: it says why, takes no drop, and nothing is asked or sent', () => {
    act(() => useStore.getState().applySnapshot(clusterOf(members(), [child('r1')], { access: 'operator', readOnly: false })));
    view.render(<Board />);
    expect(column('c').getAttribute('data-drop')).toBeNull();
    fire(card('r1'), 'dragstart');
    expect(['a', 'b', 'c', 'd', 'e'].map((n) => column(n).getAttribute('data-drop'))).toEqual(['refused', 'allowed', 'refused', 'refused', 'allowed']);
    expect(column('c').querySelector('[data-testid="drop-refusal"]')?.textContent).toBe('Not a drop target: c is down');
    expect(column('c').getAttribute('title')).toBe('Cannot move r1 here: c is down');
    expect(column('d').querySelector('[data-testid="drop-refusal"]')?.textContent).toBe('Not a drop target: d is draining: it takes no children');

    // Over the down node: not highlighted, and the browser is not told the drop is allowed.
    expect(fire(column('c'), 'dragover')).toBe(false);
    expect(column('c').className).not.toContain('drop-target');
    fire(column('c'), 'drop');
    expect(view.container.querySelector('[role="dialog"]')).toBeNull();
    expect(gateway.sendCommand).not.toHaveBeenCalled();
    // The drag ended: no column says anything any more.
    expect(view.container.querySelectorAll('[data-testid="drop-refusal"]')).toHaveLength(0);

    // An eligible node: highlighted, the drop allowed, and the move asked for.
    fire(card('r1'), 'dragstart');
    expect(fire(column('b'), 'dragover')).toBe(true);
    expect(column('b').className).toContain('drop-target');
    fire(column('b'), 'drop');
    expect(view.container.querySelector('[role="dialog"] h2')?.textContent).toBe('Move r1?');
  });

  it('the page does not change during the dragstart (Chromium ends such a drag), and a drag ended before the board took it up leaves nothing', () => {
    act(() => useStore.getState().applySnapshot(clusterOf(members(), [child('r1')], { access: 'operator', readOnly: false })));
    view.render(<Board />);
    act(() => void card('r1').dispatchEvent(new Event('dragstart', { bubbles: true, cancelable: true })));
    // Nothing re-rendered in the dragstart itself.
    expect(['a', 'b', 'c'].map((n) => column(n).getAttribute('data-drop'))).toEqual([null, null, null]);
    // The drag ends at once (the browser cancelled it): the board never shows it.
    act(() => void card('r1').dispatchEvent(new Event('dragend', { bubbles: true })));
    act(() => {
      vi.runOnlyPendingTimers();
    });
    expect(['a', 'b', 'c'].map((n) => column(n).getAttribute('data-drop'))).toEqual([null, null, null]);
    expect(view.container.querySelectorAll('[data-testid="drop-refusal"]')).toHaveLength(0);
  });

  it('a drop onto a suspect node (perhaps frozen) says the child may run nowhere until it answers', () => {
    const withSuspect = [member('a'), member('b'), member('s', { status: 'suspect' })];
    act(() => useStore.getState().applySnapshot(clusterOf(withSuspect, [child('r1')], { access: 'operator', readOnly: false })));
    view.render(<Board />);
    fire(card('r1'), 'dragstart');
    fire(column('s'), 'drop');
    expect(view.container.querySelector('[role="dialog"] [data-testid="move-suspect"]')?.textContent).toBe(
      ' s is suspect (not heard from lately): if it is frozen, r1 stops first and runs nowhere until s answers again or is declared down.',
    );
    const cancel = [...view.container.querySelectorAll<HTMLButtonElement>('[role="dialog"] button')].find((b) => b.textContent === 'Cancel');
    expect(cancel).toBeDefined();
    act(() => cancel!.click());
    expect(gateway.sendCommand).not.toHaveBeenCalled();
    // An up node: no such warning.
    fire(card('r1'), 'dragstart');
    fire(column('b'), 'drop');
    expect(view.container.querySelector('[data-testid="move-suspect"]')).toBeNull();
  });

  it('a read-only session drags nothing and is offered no target', () => {
    act(() => useStore.getState().applySnapshot(clusterOf(members(), [child('r1')])));
    view.render(<Board />);
    expect(card('r1').getAttribute('draggable')).toBe('false');
    expect(fire(column('b'), 'dragover')).toBe(false);
  });
});

describe('<Board/> pinned cards', () => {
  const view = mountPerTest();
  withLayout();

  it('a card pinned to a node that is down says so, and where the child runs meanwhile; one whose pin holds says "pinned"', () => {
    const members = [member('a'), member('b'), member('c', { status: 'down', reachable: false })];
    const children = [
      child('held', { node: 'a', pin: 'a' }),
      child('elsewhere', { node: 'b', owner: 'b', pin: 'c' }),
      child('nowhere', { status: 'unplaceable', node: null, pid: null, instances: [], owner: null, pin: 'c' }),
    ];
    act(() => useStore.getState().applySnapshot(clusterOf(members, children)));
    view.render(<Board />);
    const tag = (id: string) => view.container.querySelector<HTMLElement>(`[data-child="${id}"] [data-testid="pin-tag"]`)!;
    expect(tag('held').textContent).toBe('pinned');
    expect(tag('held').className).toBe('tag pin');
    expect(tag('elsewhere').textContent).toBe('pinned to c (down), runs on b');
    expect(tag('elsewhere').className).toBe('tag pin pin-broken');
    expect(tag('elsewhere').getAttribute('title')).toContain('the pin is not honoured');
    expect(tag('nowhere').textContent).toBe('pinned to c (down), runs nowhere');
  });
});

describe('<Board/> bulk actions on the filtered set', () => {
  const view = mountPerTest();
  beforeEach(() => {
    gateway.sendCommand.mockReset();
  });
  const state = () =>
    clusterOf([member('a'), member('b')], [failing('f1'), failing('f2'), failing('f3', 'b'), child('r1'), child('r2', { node: 'b', owner: 'b' })], {
      access: 'operator',
      readOnly: false,
    });
  const bulk = () => view.container.querySelector<HTMLElement>('[data-testid="bulk-actions"]');
  const button = (root: ParentNode, text: string) => [...root.querySelectorAll('button')].find((b) => b.textContent === text);

  it('appear only with a filter on, for operators', () => {
    act(() => useStore.getState().applySnapshot(state()));
    view.render(<Board />);
    expect(bulk()).toBeNull();
    act(() => useStore.getState().setFilter('r'));
    expect(bulk()).not.toBeNull();
    act(() => useStore.getState().applySnapshot({ ...state(), access: 'viewer', readOnly: true }));
    expect(bulk()).toBeNull();
  });

  it('Stop N stops exactly the children shown, after one confirmation naming the count, and sums up what came of each', async () => {
    gateway.sendCommand.mockImplementation(async (_op: string, args: { id: string }) =>
      args.id === 'f2' ? { ok: false, error: { code: 'not-found', message: 'no child f2' } } : { ok: true, result: null },
    );
    act(() => useStore.getState().applySnapshot(state()));
    act(() => useStore.getState().toggleStatusFilter('failing'));
    view.render(<Board />);
    expect(bulk()!.textContent).toContain('The 3 children shown (status failing):');
    act(() => button(bulk()!, 'Stop 3')!.click());
    const dialog = view.container.querySelector<HTMLElement>('[role="dialog"]')!;
    expect(dialog.querySelector('h2')?.textContent).toBe('Stop 3 children?');
    expect(dialog.textContent).toContain('f1, f2, f3');
    expect(gateway.sendCommand).not.toHaveBeenCalled();
    await act(async () => button(dialog, 'Stop 3')!.click());
    expect(view.container.querySelectorAll('[role="dialog"]')).toHaveLength(0);
    expect(gateway.sendCommand.mock.calls.map((c) => [c[0], (c[1] as { id: string }).id]).sort()).toEqual([
      ['stop', 'f1'],
      ['stop', 'f2'],
      ['stop', 'f3'],
    ]);
    const result = view.container.querySelector<HTMLElement>('[data-testid="bulk-result"]')!;
    expect(result.querySelector('strong')?.textContent).toBe('Stopped 2 of 3');
    expect(result.textContent).toContain('1 failed (1 not-found)');
    expect([...result.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['f2: not-found: no child f2']);
  });

  it('a member up but not ready (joining or leaving) carries a "not ready" tag; a ready one, a down one and an observer do not', () => {
    const members = [member('a'), member('b', { ready: false }), member('c', { status: 'down', reachable: false, ready: false })];
    act(() => useStore.getState().applySnapshot(clusterOf(members, [child('r1')])));
    view.render(<Board />);
    const tags = Object.fromEntries(
      ['a', 'b', 'c'].map((n) => [
        n,
        view.container.querySelector(`[data-testid="node-column"][data-node="${n}"] [data-testid="node-not-ready"]`)?.textContent ?? null,
      ]),
    );
    expect(tags).toEqual({ a: null, b: 'not ready', c: null });
  });

  it('Move N to… offers only nodes that take children: not one down, draining, or not ready (joining or leaving)', () => {
    const members = [member('a'), member('b', { ready: false }), member('c', { draining: true }), member('d', { status: 'down', reachable: false })];
    act(() => useStore.getState().applySnapshot(clusterOf(members, [child('r1')], { access: 'operator', readOnly: false })));
    act(() => useStore.getState().setFilter('r1'));
    view.render(<Board />);
    expect([...bulk()!.querySelectorAll('select option')].map((o) => (o as HTMLOptionElement).value)).toEqual(['a']);
  });

  it('Move N to… pins each child shown to the chosen node, marks it moving, and a search narrows the set', async () => {
    gateway.sendCommand.mockImplementation(async (_op: string, args: { id: string; node: string }) => ({
      ok: true,
      result: { id: args.id, node: args.node, pid: `${args.node}/x/1` },
    }));
    act(() => useStore.getState().applySnapshot(state()));
    act(() => useStore.getState().setFilter('r1'));
    view.render(<Board />);
    const select = bulk()!.querySelector<HTMLSelectElement>('select')!;
    expect([...select.options].map((o) => o.value)).toEqual(['a', 'b']);
    act(() => {
      select.value = 'b';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    act(() => button(bulk()!, 'Move 1 to')!.click());
    const dialog = view.container.querySelector<HTMLElement>('[role="dialog"]')!;
    expect(dialog.querySelector('h2')?.textContent).toBe('Move 1 child to b?');
    await act(async () => button(dialog, 'Move 1')!.click());
    expect(gateway.sendCommand.mock.calls).toEqual([['move', { id: 'r1', node: 'b' }]]);
    expect(useStore.getState().moving).toEqual({ r1: 'b' });
    expect(view.container.querySelector('[data-testid="bulk-result"] strong')?.textContent).toBe('Moved to b: 1 of 1');
  });
});

describe('<Board/> a member that runs copies', () => {
  const view = mountPerTest();

  it('counts the copies a cut-off member runs of children whose cards are in other columns, never "0 children"', () => {
    // Available mode, c cut off from a and b (this observer still reaches it): each side runs the other's children, so
    // every child runs twice and its card is in its first instance's column (a or b); c runs a copy of each.
    const dup = (id: string, home: string) =>
      child(id, {
        status: 'duplicate',
        node: home,
        owner: home,
        instances: [
          { node: home, pid: `${home}/abcdef0123456789/${id}` },
          { node: 'c', pid: `c/abcdef0123456789/${id}` },
        ],
      });
    act(() =>
      useStore
        .getState()
        .applySnapshot(
          clusterOf(
            [member('a'), member('b'), member('c', { unheardBy: ['a', 'b'] })],
            [dup('d1', 'a'), dup('d2', 'a'), dup('d3', 'b'), child('r1', { node: 'c' })],
          ),
        ),
    );
    view.render(<Board />);
    const count = (n: string) => view.container.querySelector(`[data-testid="node-column"][data-node="${n}"] [data-testid="child-count"]`)?.textContent;
    expect(count('a')).toBe('2 children');
    expect(count('c')).toBe('4 running: 1 child + 3 duplicates of children shown on a (2), b (1)');
    // With a filter on, the cards are counted as shown of all; the copies are still said.
    act(() => useStore.getState().setFilter('zzz-no-such-child'));
    expect(count('c')).toBe('4 running: 0 of 1 child shown + 3 duplicates of children shown on a (2), b (1)');
    act(() => useStore.getState().setFilter(''));
  });
});

describe('<Board/> a member not ready', () => {
  const view = mountPerTest();

  it('says on its tag whom it waits for, as it announces it', () => {
    const waitsFor = { notLinked: ['n3'], roster: ['n3'], notSynced: [], joined: true, leased: true };
    act(() => useStore.getState().applySnapshot(clusterOf([member('n1', { ready: false, waitsFor }), member('n2', { ready: false })], [])));
    view.render(<Board />);
    const tag = (n: string) => view.container.querySelector(`[data-node="${n}"] [data-testid="node-not-ready"]`)?.getAttribute('title');
    expect(tag('n1')).toBe('n1 takes no children now: it waits for n3 (in its saved roster, not heard of since it restarted)');
    expect(tag('n2')).toBe('n2 takes no children now: still joining (until it has synced with the others), or leaving');
  });
});

describe('<Board/> with nodes named like Object’s own properties', () => {
  const view = mountPerTest();

  it('draws a column for a node named constructor or toString (the name pattern allows them)', () => {
    const named = ['constructor', 'toString'].map((n) => member(n));
    act(() =>
      useStore
        .getState()
        .applySnapshot(clusterOf(named, [child('r1', { node: 'constructor', owner: 'constructor' }), child('r2', { node: 'toString', owner: 'toString' })])),
    );
    view.render(<Board />);
    const columns = [...view.container.querySelectorAll('[data-testid="node-column"]')].map(
      (col) => `${col.getAttribute('data-node') ?? '-'}:${col.querySelector('[data-testid="child-count"]')?.textContent}`,
    );
    expect(columns).toEqual(['constructor:1 child', 'toString:1 child']);
  });
});
