/**
 * Data for the Charts view, computed from the history slice's samples and
 * convergence list. Pure functions (tested without rendering any SVG).
 *
 * Samples exist only when the cluster state changed (at most one a second),
 * so a quiet cluster leaves gaps: state series (children per node, members)
 * hold their last value until the next sample and up to `now`; rate series
 * fall back to zero one sample period after the last activity.
 */
import { SAMPLE_MS, type Convergence, type Sample } from '../store/history';

/** Node colours: mid-tone hues that read on both the dark and the light theme. Assigned in node-name order. */
export const NODE_PALETTE = ['#5b8def', '#f08c3a', '#2fb37e', '#e0555c', '#a474d8', '#1fa7b8', '#c9a227', '#e07bb5', '#8d9a3b', '#8a7b6e'] as const;

export function nodeColour(index: number): string {
  return NODE_PALETTE[index % NODE_PALETTE.length]!;
}

/** The time span the charts share: first sample to now (or the last sample, if later). */
export function timeDomain(samples: Sample[], now: number): [number, number] | null {
  const first = samples[0];
  if (!first) return null;
  return [first.at, Math.max(now, samples.at(-1)!.until, first.at + SAMPLE_MS)];
}

const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600].map((s) => s * 1_000);

/** Round-time ticks (every 1 s, 2 s, 5 s … 1 h) inside the domain, at most about `count` of them. */
export function timeTicks(domain: [number, number], count = 6): number[] {
  const [from, to] = domain;
  const span = Math.max(1, to - from);
  const step = TICK_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / 3_600_000) * 3_600_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

/** The smallest 1, 2, 2.5 or 5 × 10ⁿ at least `max` (a y axis top that gives round ticks); 1 for nothing. */
export function niceCeil(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= max - 1e-9)!;
}

/** Whole-number ticks from 0 to at least `max` + 1 (1, 2, 5, 10, 20 … apart), at most about seven. */
export function countTicks(max: number): number[] {
  const top = Math.max(1, Math.ceil(max) + 1);
  let step = 1;
  while (top / step > 6) step *= String(step).startsWith('2') ? 2.5 : 2;
  const ticks: number[] = [];
  for (let t = 0; ; t += step) {
    ticks.push(t);
    if (t >= top) break;
  }
  return ticks;
}

export interface NodePoint {
  at: number;
  /** node → children running there (0 when the node was not there). */
  values: Record<string, number>;
}

/**
 * Children per node over time: every node seen in any sample (sorted), a
 * point per sample with each of them (0 where a node had no children or was
 * not a member yet / any more), and the last point repeated at `now`.
 */
export function perNodeSeries(samples: Sample[], now: number): { nodes: string[]; points: NodePoint[] } {
  const names = new Set<string>();
  for (const s of samples) for (const n of Object.keys(s.perNode)) names.add(n);
  const nodes = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const points = samples.map((s) => ({ at: s.at, values: Object.fromEntries(nodes.map((n) => [n, s.perNode[n] ?? 0])) }));
  const last = points.at(-1);
  if (last && now > last.at) points.push({ at: now, values: last.values });
  return { nodes, points };
}

export interface CountPoint {
  at: number;
  members: number;
}

/** Member nodes (up) over time, the last value held until `now`. */
export function membersSeries(samples: Sample[], now: number): CountPoint[] {
  const points = samples.map((s) => ({ at: s.at, members: s.members }));
  const last = points.at(-1);
  if (last && now > last.at) points.push({ at: now, members: last.members });
  return points;
}

export interface RatePoint {
  at: number;
  starts: number;
  stops: number;
  restarts: number;
  failures: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Starts, stops, restarts and failures per second. Sample i's counts are what
 * arrived after sample i-1's last update and until its own last update; they
 * are divided by that span (at least one sample period, and at most the
 * period before `at` plus the sample's own, as events arrive within a patch
 * interval of happening). The first sample is skipped: it holds whatever
 * the snapshot carried, from an unknown span. A zero point is added one
 * period after a sample when the next one (or `now`) comes later than that.
 */
export function rateSeries(samples: Sample[], now: number, periodMs = SAMPLE_MS): RatePoint[] {
  const out: RatePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const s = samples[i]!;
    const prev = samples[i - 1]!;
    const from = Math.max(prev.until, s.at - periodMs);
    const seconds = Math.max(periodMs, s.until - from) / 1_000;
    out.push({ at: s.at, starts: round2(s.starts / seconds), stops: round2(s.stops / seconds), restarts: round2(s.restarts / seconds), failures: round2(s.failures / seconds) });
    const next = samples[i + 1]?.at ?? now;
    const quietFrom = Math.max(s.at + periodMs, s.until);
    if (next > quietFrom) out.push({ at: quietFrom, starts: 0, stops: 0, restarts: 0, failures: 0 });
  }
  return out;
}

export interface ConvergenceBar extends Convergence {
  /** Unique key for the bar (seq can start over when the gateway restarts). */
  key: string;
  label: string;
  /** "after demo-3 down" */
  change: string;
}

/** What a topology change was, in words: "demo-3 down", "demo-4 up". */
export function changeText(cause: string, node: string): string {
  const what = cause === 'node-down' ? 'down' : cause === 'node-up' ? 'up' : cause;
  return node ? `${node} ${what}` : what;
}

/** A bar per convergence, oldest first, labelled with its time. */
export function convergenceBars(convergence: Convergence[], clock: (at: number) => string): ConvergenceBar[] {
  return convergence.map((c, i) => ({ ...c, key: `${i}-${c.seq}`, label: clock(c.at), change: changeText(c.cause, c.node) }));
}

/** "84 ms", "1.2 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')} s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local wall-clock time, HH:MM:SS. */
export function clockTime(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local wall-clock time with milliseconds, HH:MM:SS.mmm. */
export function clockTimeMs(at: number): string {
  return `${clockTime(at)}.${pad(new Date(at).getMilliseconds(), 3)}`;
}
