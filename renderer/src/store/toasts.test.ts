import { beforeEach, describe, expect, it } from 'vitest';
import { diffState } from 'pogo-core/observer-state';
import { child, clusterOf, failing, member } from '../test-cluster';
import { resetStore, useStore } from './index';
import { BURST_MS, mergeNotices, noticesOf, openToasts, RESOLVED_MS, START_WINDOW_MS, TOAST_LIMIT, TOAST_MS } from './toasts';

const nodes = (down: string[] = []) => ['a', 'b', 'c'].map((n) => member(n, { status: down.includes(n) ? 'down' : 'up' }));

describe('toasts: what is worth one', () => {
  it('a member node turning down and a child turning failing; nothing else', () => {
    const before = clusterOf(nodes(), [child('x'), child('y'), failing('z')]);
    const after = clusterOf(nodes(['b']), [failing('x', 'a', 'crashed'), child('y', { status: 'moving', owner: 'b' }), failing('z', 'a', 'again')]);
    expect(noticesOf(before, diffState(before, after)!)).toEqual([
      { kind: 'node-down', subject: 'b' },
      { kind: 'child-failing', subject: 'x', detail: 'crashed' },
    ]);
  });

  it('not for observers (the gateway, pogo ctl sessions), nor for a node that was already down or suspect→up', () => {
    const before = clusterOf([...nodes(['c']), member('ctl-1', { role: 'observer' }), member('d', { status: 'suspect' })], []);
    const after = clusterOf([...nodes(['c']), member('ctl-1', { role: 'observer', status: 'down' }), member('d')], []);
    after.members['obs'] = { ...after.members['obs']!, status: 'down' };
    expect(noticesOf(before, diffState(before, after)!)).toEqual([]);
  });
});

describe('toasts: unreachable is not down', () => {
  it('a member unreachable from this observer gives no toast, nor does its return; if the others confirm it down, that is the toast', () => {
    const live = clusterOf(nodes(), []);
    const unreachable = clusterOf([member('a'), member('b', { status: 'unreachable', reachable: false }), member('c')], []);
    expect(noticesOf(live, diffState(live, unreachable)!)).toEqual([]);
    expect(noticesOf(unreachable, diffState(unreachable, live)!)).toEqual([]);
    const confirmed = clusterOf(nodes(['b']), []);
    expect(noticesOf(unreachable, diffState(unreachable, confirmed)!)).toEqual([{ kind: 'node-down', subject: 'b' }]);
  });

  it('in the store: a snapshot after a reconnect with a member unreachable opens no toast', () => {
    resetStore();
    useStore.getState().applySnapshot(clusterOf(nodes(), []));
    useStore
      .getState()
      .applyPatch(diffState(clusterOf(nodes(), []), clusterOf([member('a'), member('b', { status: 'unreachable', reachable: false }), member('c')], []))!);
    useStore.getState().applySnapshot(clusterOf([member('a', { status: 'unreachable', reachable: false }), member('b'), member('c')], []));
    expect(useStore.getState().toasts).toEqual([]);
  });
});

describe('toasts: the way back', () => {
  it('a node up again or a child running again marks the toast that named it, and opens none; turning again un-marks it', () => {
    const down = clusterOf(nodes(['b']), [failing('x')]);
    const back = clusterOf(nodes(), [child('x')]);
    const notices = noticesOf(down, diffState(down, back)!);
    expect(notices).toEqual([
      { kind: 'node-down', subject: 'b', recovered: true },
      { kind: 'child-failing', subject: 'x', recovered: true },
    ]);
    let { toasts } = mergeNotices(
      [],
      [
        { kind: 'node-down', subject: 'b' },
        { kind: 'node-down', subject: 'c' },
      ],
      0,
      0,
    );
    ({ toasts } = mergeNotices(toasts, notices, BURST_MS * 2, 1));
    expect(toasts.map((t) => [t.kind, t.subjects, t.recovered, t.resolved])).toEqual([['node-down', ['b', 'c'], ['b'], null]]);
    // All back: it closes RESOLVED_MS later (before TOAST_MS).
    const allBack = BURST_MS * 2 + 1_000;
    const resolved = mergeNotices(toasts, [{ kind: 'node-down', subject: 'c', recovered: true }], allBack, 1).toasts;
    expect(resolved[0]!.resolved).toBe(allBack);
    expect(allBack + RESOLVED_MS).toBeLessThan(TOAST_MS);
    expect(openToasts(resolved, allBack + RESOLVED_MS - 1)).toHaveLength(1);
    expect(openToasts(resolved, allBack + RESOLVED_MS)).toHaveLength(0);
    ({ toasts } = mergeNotices(toasts, [{ kind: 'node-down', subject: 'b' }], BURST_MS * 2, 1));
    expect(toasts).toHaveLength(2);
    expect(toasts[0]!.recovered).toEqual(['b']);
    expect(toasts[1]).toMatchObject({ subjects: ['b'], recovered: [] });
  });
});

describe('toasts: bursts', () => {
  it('a notice joins the open toast of its kind that grew less than BURST_MS ago, once per subject; else it opens a new one', () => {
    let { toasts, seq } = mergeNotices([], [{ kind: 'child-failing', subject: 'x', detail: 'boom' }], 1_000, 0);
    ({ toasts, seq } = mergeNotices(
      toasts,
      [
        { kind: 'child-failing', subject: 'y' },
        { kind: 'child-failing', subject: 'x' },
        { kind: 'node-down', subject: 'b' },
      ],
      1_000 + BURST_MS - 1,
      seq,
    ));
    expect(toasts.map((t) => [t.kind, t.subjects])).toEqual([
      ['child-failing', ['x', 'y']],
      ['node-down', ['b']],
    ]);
    expect(toasts[0]).toMatchObject({ detail: 'boom', at: 1_000, grew: 1_000 + BURST_MS - 1 });
    // The burst is over: a new toast.
    ({ toasts } = mergeNotices(toasts, [{ kind: 'child-failing', subject: 'z' }], 1_000 + 2 * BURST_MS, seq));
    expect(toasts.map((t) => t.subjects)).toEqual([['x', 'y'], ['b'], ['z']]);
    expect(new Set(toasts.map((t) => t.id)).size).toBe(3);
  });

  it('keeps at most TOAST_LIMIT, and a toast closes TOAST_MS after it last grew', () => {
    let toasts = mergeNotices([], [{ kind: 'node-down', subject: 'a' }], 0, 0).toasts;
    for (let i = 1; i <= TOAST_LIMIT; i++) toasts = mergeNotices(toasts, [{ kind: 'node-down', subject: `n${i}` }], i * BURST_MS, i).toasts;
    expect(toasts).toHaveLength(TOAST_LIMIT);
    expect(toasts[0]!.subjects).toEqual(['n1']);
    expect(openToasts(toasts, BURST_MS + TOAST_MS - 1)).toHaveLength(TOAST_LIMIT);
    expect(openToasts(toasts, BURST_MS + TOAST_MS)).toHaveLength(TOAST_LIMIT - 1);
  });
});

describe('toasts slice, fed by the cluster slice', () => {
  let clock = 1_000;
  beforeEach(() => {
    resetStore();
    clock = 1_000;
    useStore.setState({ now: () => clock });
  });

  it('the first snapshot is the baseline; patches and a reconnect snapshot of the same cluster give toasts', () => {
    const first = clusterOf(nodes(['c']), [failing('x')]);
    useStore.getState().applySnapshot(first);
    expect(useStore.getState().toasts).toEqual([]);
    const second = clusterOf(nodes(['b', 'c']), [failing('x')]);
    useStore.getState().applyPatch(diffState(first, second)!);
    expect(useStore.getState().toasts.map((t) => t.subjects)).toEqual([['b']]);
    clock += TOAST_MS;
    const third = clusterOf(nodes(['b', 'c']), [failing('x'), failing('y')]);
    useStore.getState().applySnapshot(third);
    expect(useStore.getState().toasts.map((t) => [t.kind, t.subjects])).toEqual([['child-failing', ['y']]]);
    // Another cluster's snapshot is a new baseline.
    useStore.getState().applySnapshot({ ...clusterOf(nodes(['a']), [failing('q')]), cluster: 'other' });
    expect(useStore.getState().toasts).toHaveLength(1);
    useStore.getState().dismissToast(useStore.getState().toasts[0]!.id);
    expect(useStore.getState().toasts).toEqual([]);
  });
});

describe('toasts: a start that fails at once is no recovery', () => {
  it('a child running a few ms between failed starts stays "is failing", once; running through its start window, it is back', () => {
    resetStore();
    let clock = 1_000;
    useStore.setState({ now: () => clock });
    const at = (status: 'running' | 'failing') => clusterOf(nodes(), [status === 'failing' ? failing('bad-os2', 'a', 'exit code 3') : child('bad-os2')]);
    useStore.getState().applySnapshot(at('running'));
    const step = (status: 'running' | 'failing', ms: number) => {
      clock += ms;
      useStore.getState().applyPatch(diffState(useStore.getState().cluster!, at(status))!);
    };
    step('failing', 10);
    // `sh -c "exit 3"` retried: running for 5 ms each time, failing again.
    step('running', 1_000);
    step('failing', 5);
    step('running', 1_000);
    step('failing', 5);
    const toasts = () => useStore.getState().toasts.map((t) => ({ subjects: t.subjects, recovered: t.recovered }));
    expect(toasts()).toEqual([{ subjects: ['bad-os2'], recovered: [] }]);
    // It runs again, and keeps running past the start window: back then, not before.
    step('running', 1_000);
    clock += START_WINDOW_MS - 1;
    useStore.getState().expireToasts(clock);
    expect(toasts()).toEqual([{ subjects: ['bad-os2'], recovered: [] }]);
    clock += 1;
    useStore.getState().expireToasts(clock);
    expect(toasts()).toEqual([{ subjects: ['bad-os2'], recovered: ['bad-os2'] }]);
  });
});
