import { describe, expect, it } from 'vitest';
import type { NodeResourcesView, ResourcePoint } from 'pogo-core/observer-state';
import { currentFigures, formatBytes, formatCpu, formatLag, gatewayNow, resourceChart } from './resources-data';

const point = (at: number, extra: Partial<ResourcePoint> = {}): ResourcePoint => ({
  at,
  cpu: 2.5,
  rss: 80 * 2 ** 20,
  heapUsed: 20 * 2 ** 20,
  heapTotal: 30 * 2 ** 20,
  lagMean: 0.4,
  lagP99: 3,
  lagMax: 7,
  ...extra,
});
const view = (...points: ResourcePoint[]): NodeResourcesView => ({ intervalMs: 2_000, points });
const up = { name: 'a', status: 'up' as const, reachable: true };

describe('currentFigures', () => {
  it('is the newest point, current while the node reports', () => {
    expect(currentFigures(view(point(1_000), point(3_000)), up, 4_000)).toEqual({ point: point(3_000), stale: null });
    // Three intervals and a second of slack.
    expect(currentFigures(view(point(3_000)), up, 10_000)?.stale).toBeNull();
  });

  it('is stale when the node stopped reporting, is down, or out of reach, with the reason', () => {
    expect(currentFigures(view(point(3_000)), up, 15_000)?.stale).toBe('no figures for 12 s');
    expect(currentFigures(view(point(3_000)), up, 603_000)?.stale).toBe('no figures for 10 min');
    expect(currentFigures(view(point(3_000)), { ...up, status: 'down' }, 4_000)?.stale).toBe('a is down: these are its last figures');
    expect(currentFigures(view(point(3_000)), { ...up, status: 'unreachable', reachable: false }, 4_000)?.stale).toBe(
      'this observer has no link to it: these are the last figures it got',
    );
  });

  it('is null for a node that never reported', () => {
    expect(currentFigures(undefined, up, 1)).toBeNull();
    expect(currentFigures(view(), up, 1)).toBeNull();
  });
});

describe('gatewayNow', () => {
  it('is the end of the newest sample', () => {
    expect(gatewayNow([])).toBeUndefined();
    expect(gatewayNow([{ at: 5_000, starts: 0, stops: 0, restarts: 0, moves: 0, failures: 0, members: 1, perNode: {} }])).toBe(6_000);
  });
});

describe('formatting', () => {
  it('reads well at every size', () => {
    expect([formatBytes(84.23 * 2 ** 20), formatBytes(312.4 * 2 ** 20), formatBytes(1.5 * 2 ** 30)]).toEqual(['84.2 MiB', '312 MiB', '1.5 GiB']);
    expect([formatCpu(0.04), formatCpu(3.25), formatCpu(143.6)]).toEqual(['0.0 %', '3.3 %', '144 %']);
    expect([formatLag(null), formatLag(0.123), formatLag(4.56), formatLag(38.4), formatLag(1_234)]).toEqual(['—', '0.12 ms', '4.6 ms', '38 ms', '1.2 s']);
  });
});

describe('resourceChart', () => {
  it('gives memory in MiB and the time span, once there are two points', () => {
    expect(resourceChart(view(point(1_000)))).toMatchObject({ domain: null });
    const chart = resourceChart(view(point(1_000), point(3_000, { lagMean: null, lagMax: null })));
    expect(chart.domain).toEqual([1_000, 3_000]);
    expect(chart.points).toEqual([
      { at: 1_000, cpu: 2.5, rss: 80, heapUsed: 20, lagMean: 0.4, lagMax: 7 },
      { at: 3_000, cpu: 2.5, rss: 80, heapUsed: 20, lagMean: null, lagMax: null },
    ]);
  });
});
