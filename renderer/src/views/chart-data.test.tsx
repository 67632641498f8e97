import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Sample } from '../store/history';
import { useStore } from '../store/index';
import { Charts } from './Charts';
import { mountPerTest } from '../test-support';
import { changeText, clockTime, countTicks, niceCeil, clockTimeMs, convergenceBars, formatDuration, membersSeries, nodeColour, NODE_PALETTE, perNodeSeries, rateSeries, timeDomain, timeTicks } from './chart-data';

const sample = (at: number, fields: Partial<Sample> = {}): Sample => ({ at, until: at, members: 3, perNode: {}, starts: 0, stops: 0, failures: 0, restarts: 0, ...fields });

describe('rateSeries', () => {
  it('skips the first sample (the snapshot backlog) and divides by the span each sample covers, at least a second', () => {
    const samples = [
      sample(0, { starts: 40, until: 900 }), // backlog from the snapshot
      sample(1_000, { until: 1_900, starts: 6, stops: 3 }), // covers 900..1900: 1 s
      sample(2_000, { until: 2_900, starts: 3, restarts: 3 }), // covers 1900..2900: 1 s
      sample(3_000, { until: 3_000, stops: 1 }), // one update only: divided by a full second
    ];
    expect(rateSeries(samples, 3_500)).toEqual([
      { at: 1_000, starts: 6, stops: 3, restarts: 0, failures: 0 },
      { at: 2_000, starts: 3, stops: 0, restarts: 3, failures: 0 },
      { at: 3_000, starts: 0, stops: 1, restarts: 0, failures: 0 },
    ]);
  });

  it('a sample that took updates for longer than a second is divided by that span', () => {
    // Previous sample's last update at 1_000; this one started at 1_500 and took updates until 3_000: 2 s.
    const samples = [sample(0, { until: 1_000 }), sample(1_500, { until: 3_000, starts: 8, failures: 1 })];
    expect(rateSeries(samples, 3_000)[0]).toEqual({ at: 1_500, starts: 4, stops: 0, restarts: 0, failures: 0.5 });
  });

  it('after a quiet gap, counts only the second before the sample, and drops to zero a period after it', () => {
    const samples = [sample(0), sample(60_000, { until: 60_400, starts: 12, stops: 12 }), sample(120_000, { starts: 1 })];
    expect(rateSeries(samples, 200_000)).toEqual([
      // covers 59_000..60_400 = 1.4 s
      { at: 60_000, starts: 8.57, stops: 8.57, restarts: 0, failures: 0 },
      { at: 61_000, starts: 0, stops: 0, restarts: 0, failures: 0 },
      { at: 120_000, starts: 1, stops: 0, restarts: 0, failures: 0 },
      { at: 121_000, starts: 0, stops: 0, restarts: 0, failures: 0 },
    ]);
    // The newest sample is still taking updates: no zero after it yet.
    expect(rateSeries(samples, 120_500).at(-1)!.at).toBe(120_000);
  });

  it('needs two samples', () => {
    expect(rateSeries([], 0)).toEqual([]);
    expect(rateSeries([sample(0, { starts: 3 })], 5_000)).toEqual([]);
  });
});

describe('perNodeSeries', () => {
  it('has a value for every node ever seen at every point (0 before it joined and after it left), held until now', () => {
    const samples = [sample(0, { perNode: { 'demo-2': 2, 'demo-1': 2 } }), sample(1_000, { perNode: { 'demo-1': 2, 'demo-2': 1, 'demo-3': 1 } }), sample(2_000, { perNode: { 'demo-1': 2, 'demo-3': 2 } })];
    const { nodes, points } = perNodeSeries(samples, 9_000);
    expect(nodes).toEqual(['demo-1', 'demo-2', 'demo-3']);
    expect(points).toEqual([
      { at: 0, values: { 'demo-1': 2, 'demo-2': 2, 'demo-3': 0 } },
      { at: 1_000, values: { 'demo-1': 2, 'demo-2': 1, 'demo-3': 1 } },
      { at: 2_000, values: { 'demo-1': 2, 'demo-2': 0, 'demo-3': 2 } },
      { at: 9_000, values: { 'demo-1': 2, 'demo-2': 0, 'demo-3': 2 } },
    ]);
  });

  it('is empty without samples, and not extended to a now that is not later', () => {
    expect(perNodeSeries([], 5)).toEqual({ nodes: [], points: [] });
    expect(perNodeSeries([sample(10, { perNode: { a: 1 } })], 10).points).toHaveLength(1);
  });
});

describe('members, domain, convergence and formats', () => {
  it('members are held until now; the shared domain runs from the first sample to now', () => {
    const samples = [sample(1_000, { members: 3 }), sample(5_000, { members: 2, until: 5_600 })];
    expect(membersSeries(samples, 8_000)).toEqual([
      { at: 1_000, members: 3 },
      { at: 5_000, members: 2 },
      { at: 8_000, members: 2 },
    ]);
    expect(timeDomain(samples, 8_000)).toEqual([1_000, 8_000]);
    expect(timeDomain(samples, 5_000)).toEqual([1_000, 5_600]);
    expect(timeDomain([sample(1_000)], 1_000)).toEqual([1_000, 2_000]);
    expect(timeDomain([], 8_000)).toBeNull();
  });

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

  it('a bar per convergence, each with a unique key, its time and its change in words', () => {
    const bars = convergenceBars(
      [
        { seq: 7, at: 100, after: 84, cause: 'node-down', node: 'demo-3', children: 12 },
        { seq: 7, at: 200, after: 1_300, cause: 'node-up', node: 'demo-4', children: 12 },
      ],
      (at) => `t${at}`,
    );
    expect(bars.map((b) => [b.key, b.label, b.change, b.after])).toEqual([
      ['0-7', 't100', 'demo-3 down', 84],
      ['1-7', 't200', 'demo-4 up', 1_300],
    ]);
    expect(changeText('node-down', '')).toBe('down');
  });

  it('formats durations and clock times', () => {
    expect(formatDuration(84.4)).toBe('84 ms');
    expect(formatDuration(1_000)).toBe('1 s');
    expect(formatDuration(1_250)).toBe('1.25 s');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    const at = new Date(2025, 0, 2, 9, 5, 7, 3).getTime();
    expect(clockTime(at)).toBe('09:05:07');
    expect(clockTimeMs(at)).toBe('09:05:07.003');
  });

  it('gives nodes palette colours in turn', () => {
    expect(nodeColour(0)).toBe(NODE_PALETTE[0]);
    expect(nodeColour(NODE_PALETTE.length + 1)).toBe(NODE_PALETTE[1]);
  });
});

describe('<Charts/>', () => {
  const view = mountPerTest({ after: () => vi.useRealTimers() });

  it('shows the four charts, each with an explanation, and empty states until there is data', () => {
    vi.useFakeTimers();
    const { container } = view;
    view.render(<Charts />);
    expect(container.querySelector('[aria-label="Charts"]')).not.toBeNull();
    const charts = [...container.querySelectorAll('[data-testid="chart"]')];
    expect(charts.map((c) => c.querySelector('h2')?.textContent)).toEqual(['Children per node', 'Starts, stops and restarts per second', 'Members', 'Convergence after topology changes']);
    expect(charts.every((c) => c.querySelector('.chart-explain')?.textContent)).toBe(true);
    expect(charts[0]!.textContent).toContain('Samples appear as the cluster changes; one per second at most.');
    expect(charts[3]!.textContent).toContain('No topology change yet');

    act(() => useStore.setState({ samples: [sample(0, { perNode: { a: 1 } }), sample(1_000, { perNode: { a: 1 }, starts: 2 })], convergence: [{ seq: 1, at: 500, after: 84, cause: 'node-down', node: 'b', children: 1 }] }));
    // Redrawn at most once a second.
    expect(container.querySelectorAll('.chart-empty')).toHaveLength(4);
    act(() => vi.advanceTimersByTime(1_000));
    expect(container.querySelectorAll('.chart-empty')).toHaveLength(0);
    expect(charts[3]!.querySelector('.chart-stat')?.textContent).toBe('last 84 ms');
  });
});
