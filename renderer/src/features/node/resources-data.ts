/**
 * Data for a node's resource figures in the node detail (NodeResources.tsx),
 * from the cluster state alone: the gateway's series per node
 * (pogo-core/observer-state NodeResourcesView: CPU, memory, event-loop lag,
 * stamped with the gateway's clock). Pure functions, tested without
 * rendering.
 *
 * Stale figures: a node that is down, left, or out of the observer's reach
 * sends none, and one that stopped reporting has not sent any for a while;
 * its last figures are shown, marked stale, with the reason. "A while" is
 * judged on the gateway's clock — its newest per-second sample — so a
 * window on another machine with another clock judges the same.
 */
import type { MemberView, NodeResourcesView, ResourcePoint, SampleView } from 'pogo-core/observer-state';

/** Figures older than this many of the node's intervals (plus a second for the sample's own lag) are stale. */
const STALE_INTERVALS = 3;

export interface CurrentFigures {
  point: ResourcePoint;
  /** Why the figures are not current, or null when they are. */
  stale: string | null;
}

/** The gateway's clock now, as far as the state tells: the end of its newest sample. */
export function gatewayNow(samples: readonly SampleView[]): number | undefined {
  const last = samples.at(-1);
  return last === undefined ? undefined : last.at + 1_000;
}

/** A node's newest figures and whether they are stale (see the header); null when it never reported. */
export function currentFigures(
  view: NodeResourcesView | undefined,
  member: Pick<MemberView, 'name' | 'status' | 'reachable'>,
  now: number | undefined,
): CurrentFigures | null {
  const point = view?.points.at(-1);
  if (!view || !point) return null;
  if (member.status === 'down' || member.status === 'left') return { point, stale: `${member.name} is ${member.status}: these are its last figures` };
  if (member.status === 'unreachable' || !member.reachable) return { point, stale: 'this observer has no link to it: these are the last figures it got' };
  const age = now === undefined ? 0 : now - point.at;
  if (age > STALE_INTERVALS * view.intervalMs + 1_000) return { point, stale: `no figures for ${formatAge(age)}` };
  return { point, stale: null };
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1_000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

export const MIB = 2 ** 20;

/** Bytes as MiB (or GiB from 10 GiB), rounded for reading: "84.2 MiB", "312 MiB", "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const mib = bytes / MIB;
  if (mib >= 1_024) return `${(mib / 1_024).toFixed(1)} GiB`;
  return mib >= 100 ? `${Math.round(mib)} MiB` : `${mib.toFixed(1)} MiB`;
}

/** CPU % of one core: one decimal below 10, whole above. */
export function formatCpu(percent: number): string {
  return percent < 10 ? `${percent.toFixed(1)} %` : `${Math.round(percent)} %`;
}

/** A lag in ms: "0.12 ms", "4.5 ms", "38 ms", "1.2 s"; "—" for none measured. */
export function formatLag(ms: number | null): string {
  if (ms === null) return '—';
  if (ms >= 1_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return ms >= 1 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
}

/** One point of the node's charts: CPU %, memory in MiB, lag in ms. */
export interface ResourceChartPoint {
  at: number;
  cpu: number;
  rss: number;
  heapUsed: number;
  lagMean: number | null;
  lagMax: number | null;
}

/** The node's series for its charts, oldest first, and the time span they cover (null for fewer than two points: nothing to draw yet). */
export function resourceChart(view: NodeResourcesView | undefined): { points: ResourceChartPoint[]; domain: [number, number] | null } {
  const points = (view?.points ?? []).map((p) => ({
    at: p.at,
    cpu: p.cpu,
    rss: p.rss / MIB,
    heapUsed: p.heapUsed / MIB,
    lagMean: p.lagMean,
    lagMax: p.lagMax,
  }));
  const domain: [number, number] | null = points.length >= 2 ? [points[0]!.at, points.at(-1)!.at] : null;
  return { points, domain };
}
