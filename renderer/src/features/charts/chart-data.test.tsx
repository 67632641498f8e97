import { act } from 'react';
import { describe, expect, it } from 'vitest';
import type { ClusterState, EventView, SampleView } from 'pogo-core/observer-state';
import { resetStore, useStore } from '../../store/index';
import { Charts } from './Charts';
import { mountPerTest } from '../../test-support';
import { clusterOf, member } from '../../test-cluster';
import {
  changeText,
  chartData,
  convergenceBars,
  convergenceOf,
  countTicks,
  membersSeries,
  niceCeil,
  nodeColour,
  NODE_PALETTE,
  perNodeSeries,
  rateSeries,
  startsPeak,
  timeDomain,
  timeTicks,
} from './chart-data';

const sample = (at: number, fields: Partial<SampleView> = {}): SampleView => ({
  at,
  starts: 0,
  stops: 0,
  restarts: 0,
  moves: 0,
  failures: 0,
  members: 3,
  perNode: {},
  ...fields,
});
const converged = (seq: number, at: number, after: number, node = 'demo-3', cause: 'node-down' | 'node-up' = 'node-down'): EventView => ({
  seq,
  at,
  type: 'converged',
  after,
  cause,
  node,
  children: 12,
});

describe("series from the gateway's samples", () => {
  it("rates are each second's counts as the gateway counted them from events, the last second held to its end", () => {
    // 983 children restarted within half a second: one sample says 983, whatever the window saw.
    const samples = [sample(0), sample(1_000, { starts: 983, stops: 983, moves: 983 }), sample(2_000, { starts: 2, restarts: 2, failures: 1 })];
    expect(rateSeries(samples)).toEqual([
      { at: 0, starts: 0, stops: 0, restarts: 0, moves: 0, failures: 0 },
      { at: 1_000, starts: 983, stops: 983, restarts: 0, moves: 983, failures: 0 },
      { at: 2_000, starts: 2, stops: 0, restarts: 2, moves: 0, failures: 1 },
      { at: 3_000, starts: 2, stops: 0, restarts: 2, moves: 0, failures: 1 },
    ]);
    expect(startsPeak(samples)).toEqual({ at: 1_000, starts: 983 });
    expect(startsPeak([sample(0)])).toBeNull();
    expect(rateSeries([])).toEqual([]);
  });

  it('children per node: a value for every node ever seen at every point (0 before it joined and after it left), held to the end', () => {
    const samples = [
      sample(0, { perNode: { 'demo-2': 2, 'demo-1': 2 } }),
      sample(1_000, { perNode: { 'demo-1': 2, 'demo-2': 1, 'demo-3': 1 } }),
      sample(2_000, { perNode: { 'demo-1': 2, 'demo-3': 2 } }),
    ];
    const { nodes, points } = perNodeSeries(samples);
    expect(nodes).toEqual(['demo-1', 'demo-2', 'demo-3']);
    expect(points).toEqual([
      { at: 0, values: { 'demo-1': 2, 'demo-2': 2, 'demo-3': 0 } },
      { at: 1_000, values: { 'demo-1': 2, 'demo-2': 1, 'demo-3': 1 } },
      { at: 2_000, values: { 'demo-1': 2, 'demo-2': 0, 'demo-3': 2 } },
      { at: 3_000, values: { 'demo-1': 2, 'demo-2': 0, 'demo-3': 2 } },
    ]);
    expect(perNodeSeries([])).toEqual({ nodes: [], points: [] });
  });

  it("children per node with nodes named like Object's own functions (constructor, toString, hasOwnProperty): 0 where absent, not the function", () => {
    // As the gateway sends them: JSON, parsed into ordinary objects (node names match [A-Za-z0-9][A-Za-z0-9._@-]*).
    const samples = JSON.parse(
      JSON.stringify([
        sample(0, { perNode: { 'demo-1': 2 } }),
        sample(1_000, { perNode: { 'demo-1': 1, constructor: 1, toString: 3 } }),
        sample(2_000, { perNode: { hasOwnProperty: 2, constructor: 1 } }),
      ]),
    ) as SampleView[];
    const { nodes, points } = perNodeSeries(samples);
    expect(nodes).toEqual(['constructor', 'demo-1', 'hasOwnProperty', 'toString']);
    expect(points.map((p) => p.values)).toEqual([
      { constructor: 0, 'demo-1': 2, hasOwnProperty: 0, toString: 0 },
      { constructor: 1, 'demo-1': 1, hasOwnProperty: 0, toString: 3 },
      { constructor: 1, 'demo-1': 0, hasOwnProperty: 2, toString: 0 },
      { constructor: 1, 'demo-1': 0, hasOwnProperty: 2, toString: 0 },
    ]);
    for (const p of points) for (const n of nodes) expect(typeof p.values[n]).toBe('number');
  });

  it("members are held to the end; the shared domain runs from the first sample to the end of the last (the gateway's clock)", () => {
    const samples = [sample(1_000, { members: 3 }), sample(2_000, { members: 2 })];
    expect(membersSeries(samples)).toEqual([
      { at: 1_000, members: 3 },
      { at: 2_000, members: 2 },
      { at: 3_000, members: 2 },
    ]);
    expect(timeDomain(samples)).toEqual([1_000, 3_000]);
    expect(timeDomain([sample(1_000)])).toEqual([1_000, 2_000]);
    expect(timeDomain([])).toBeNull();
  });

  it('convergence comes from the notable `converged` events, a bar each', () => {
    const events: EventView[] = [
      { seq: 1, at: 50, type: 'node-down', node: 'demo-3', role: 'member', reason: 'member-down' },
      converged(2, 100, 84),
      { seq: 3, at: 150, type: 'node-up', node: 'demo-4', role: 'member' },
      converged(4, 200, 1_300, 'demo-4', 'node-up'),
    ];
    const convergence = convergenceOf(events);
    expect(convergence).toEqual([
      { seq: 2, at: 100, after: 84, cause: 'node-down', node: 'demo-3', children: 12 },
      { seq: 4, at: 200, after: 1_300, cause: 'node-up', node: 'demo-4', children: 12 },
    ]);
    expect(convergenceBars(convergence, (at) => `t${at}`).map((b) => [b.key, b.label, b.change, b.after])).toEqual([
      ['2', 't100', 'demo-3 down', 84],
      ['4', 't200', 'demo-4 up', 1_300],
    ]);
    expect(changeText('node-down', '')).toBe('down');
    expect(changeText('drain', 'demo-2')).toBe('demo-2 drained');
    expect(changeText('undrain', 'demo-2')).toBe('demo-2 undrained');
    expect(changeText('resume', 'demo-1')).toBe('rebalancing resumed');
  });
});

describe('axes and formats', () => {
  it('puts time ticks on round times, about six of them', () => {
    expect(timeTicks([1_200, 12_000])).toEqual([2_000, 4_000, 6_000, 8_000, 10_000, 12_000]);
    expect(timeTicks([0, 600_000])).toEqual([0, 120_000, 240_000, 360_000, 480_000, 600_000]);
    expect(timeTicks([500, 1_500])).toEqual([1_000]);
    expect(timeTicks([0, 48 * 3_600_000])).toHaveLength(7);
  });

  it('picks round y axis tops and whole-number ticks', () => {
    expect([0, 0.3, 1, 3.57, 7, 12, 240].map(niceCeil)).toEqual([1, 0.5, 1, 5, 10, 20, 250]);
    expect(countTicks(4)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(countTicks(0)).toEqual([0, 1]);
    expect(countTicks(12)).toEqual([0, 5, 10, 15]);
    expect(countTicks(60)).toEqual([0, 20, 40, 60, 80]);
  });

  it('gives nodes palette colours in turn', () => {
    expect(nodeColour(0)).toBe(NODE_PALETTE[0]);
    expect(nodeColour(NODE_PALETTE.length + 1)).toBe(NODE_PALETTE[1]);
  });
});

describe('<Charts/>', () => {
  const view = mountPerTest();

  /** A cluster whose gateway has counted a minute: a node down at second 20, 983 children back within that second, converged. */
  function history(): ClusterState {
    const T = new Date(2025, 0, 2, 10, 0, 0).getTime();
    const samples = Array.from({ length: 60 }, (_, i) =>
      sample(T + i * 1_000, {
        members: i < 20 ? 4 : 3,
        perNode: i < 20 ? { 'demo-1': 500, 'demo-2': 500, 'demo-3': 500, 'demo-4': 500 } : { 'demo-1': 667, 'demo-2': 667, 'demo-3': 666 },
        ...(i === 21 ? { starts: 983, stops: 983, moves: 983 } : {}),
      }),
    );
    return clusterOf([member('demo-1'), member('demo-2'), member('demo-3')], [], {
      samples,
      events: [{ seq: 1, at: T + 20_000, type: 'node-down', node: 'demo-4', role: 'member', reason: 'member-down' }, converged(2, T + 21_500, 1_480, 'demo-4')],
    });
  }

  const panels = () => [...view.container.querySelectorAll<HTMLElement>('[data-testid="chart"]')];
  const page = () => ({
    since: view.container.querySelector('[data-testid="charts-since"]')?.textContent,
    stats: panels().map((p) => p.querySelector('.chart-stat')?.textContent ?? null),
    empty: panels().map((p) => p.querySelector('.chart-empty') !== null),
  });

  it('shows the four charts, each with an explanation, and empty states until the gateway has samples', () => {
    act(() => useStore.getState().applySnapshot(clusterOf([member('a')], [])));
    view.render(<Charts />);
    expect(view.container.querySelector('[aria-label="Charts"]')).not.toBeNull();
    expect(panels().map((c) => c.querySelector('h2')?.textContent)).toEqual([
      'Children per node',
      'Starts, stops, moves and restarts per second',
      'Members',
      'Convergence after topology changes',
    ]);
    expect(panels().every((c) => c.querySelector('.chart-explain')?.textContent)).toBe(true);
    expect(panels()[0]!.textContent).toContain('The gateway adds a sample every second');
    expect(panels()[3]!.textContent).toContain('No topology change yet');

    // Drawn from the state as it arrives: the window samples nothing itself.
    act(() => useStore.getState().applyPatch({ samples: history().samples, events: history().events }));
    expect(page()).toEqual({
      since: expect.stringContaining('since 10:00:00 (the last 1 min)'),
      stats: [null, 'peak 983 starts/s at 10:00:21', null, 'last 1.48 s'],
      empty: [false, false, false, false],
    });
  });

  it('a reload (a fresh store, the same state from the gateway) draws the same past', () => {
    const state = history();
    act(() => useStore.getState().applySnapshot(state));
    view.render(<Charts />);
    const before = { data: chartData(useStore.getState().cluster!.samples, useStore.getState().cluster!.events), page: page() };

    view.remount();
    resetStore();
    act(() => useStore.getState().applySnapshot(structuredClone(state)));
    view.render(<Charts />);
    const after = { data: chartData(useStore.getState().cluster!.samples, useStore.getState().cluster!.events), page: page() };
    expect(after).toEqual(before);
    expect(after.data.rates.find((r) => r.starts > 0)).toEqual({ at: state.samples[21]!.at, starts: 983, stops: 983, restarts: 0, moves: 983, failures: 0 });
    expect(after.data.bars.map((b) => b.after)).toEqual([1_480]);
  });
});
