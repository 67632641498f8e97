/**
 * Data for the Charts view, computed from the cluster state alone: the
 * gateway's per-second samples (state.ts SampleView: starts, stops,
 * restarts in place, moves and failures counted from the events of that
 * second; members and children per node when it closed) and the `converged`
 * events among its notable events. Nothing is kept by the window, so a
 * reload or a second window draws the same past (`chartData` is a pure
 * function of the state). Pure functions, tested without rendering any SVG.
 *
 * A sample covers the second from its `at`; the gateway fills seconds in
 * which nothing happened, so the series have no gaps. Each series ends one
 * period after the last sample, so its last second is drawn too. Times are
 * the gateway's clock, not this window's.
 */
import type { ConvergedEvent, EventView, SampleView } from 'pogo-core/observer-state';
import { changeNamesNode, changeWord } from '../../shared/change-words';
import { clockTime } from '../../shared/format';

/** The gateway's sample period (core observer/timeline.ts SAMPLE_MS). */
export const SAMPLE_MS = 1_000;

/** Node colours: mid-tone hues that read on both the dark and the light theme. Assigned in node-name order. */
export const NODE_PALETTE = ['#5b8def', '#f08c3a', '#2fb37e', '#e0555c', '#a474d8', '#1fa7b8', '#c9a227', '#e07bb5', '#8d9a3b', '#8a7b6e'] as const;

export function nodeColour(index: number): string {
  return NODE_PALETTE[index % NODE_PALETTE.length]!;
}

/** The end of the time the samples cover: one period after the last one. */
function endOf(samples: readonly SampleView[]): number {
  return samples.at(-1)!.at + SAMPLE_MS;
}

/** The time span the charts share: the first sample to the end of the last. */
export function timeDomain(samples: readonly SampleView[]): [number, number] | null {
  const first = samples[0];
  if (!first) return null;
  return [first.at, endOf(samples)];
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
 * not a member yet / any more), and the last point held to the end.
 */
export function perNodeSeries(samples: readonly SampleView[]): { nodes: string[]; points: NodePoint[] } {
  const names = new Set<string>();
  for (const s of samples) for (const n of Object.keys(s.perNode)) names.add(n);
  const nodes = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Own entries only: a node named `constructor` or `toString` absent from a second read Object's function there.
  const points = samples.map((s) => ({ at: s.at, values: Object.fromEntries(nodes.map((n) => [n, Object.hasOwn(s.perNode, n) ? s.perNode[n]! : 0])) }));
  const last = points.at(-1);
  if (last) points.push({ at: endOf(samples), values: last.values });
  return { nodes, points };
}

export interface CountPoint {
  at: number;
  members: number;
}

/** Member nodes (up) over time, the last value held to the end. */
export function membersSeries(samples: readonly SampleView[]): CountPoint[] {
  const points = samples.map((s) => ({ at: s.at, members: s.members }));
  const last = points.at(-1);
  if (last) points.push({ at: endOf(samples), members: last.members });
  return points;
}

/** One second's counts, as the gateway's sample has them. */
export type RatePoint = Pick<SampleView, 'at' | 'starts' | 'stops' | 'restarts' | 'moves' | 'failures'>;

/** Starts, stops, restarts in place, moves and failures per second: each sample's counts (a sample is one second), the last held to the end. */
export function rateSeries(samples: readonly SampleView[]): RatePoint[] {
  const points = samples.map((s) => ({ at: s.at, starts: s.starts, stops: s.stops, restarts: s.restarts, moves: s.moves, failures: s.failures }));
  const last = points.at(-1);
  if (last) points.push({ ...last, at: endOf(samples) });
  return points;
}

/** The busiest second for starts, if any child started: how many and when. */
export function startsPeak(samples: readonly SampleView[]): { at: number; starts: number } | null {
  let peak: { at: number; starts: number } | null = null;
  for (const s of samples) if (s.starts > 0 && (peak === null || s.starts > peak.starts)) peak = { at: s.at, starts: s.starts };
  return peak;
}

/** One `converged` event: `after` ms from the topology change (`cause` of `node`) to every child running once. */
export interface Convergence {
  seq: number;
  at: number;
  after: number;
  cause: ConvergedEvent['cause'];
  node: string;
  /** Children running once when it converged. */
  children: number;
}

/** The `converged` events among the notable events, oldest first. */
export function convergenceOf(events: readonly EventView[]): Convergence[] {
  const out: Convergence[] = [];
  for (const e of events) if (e.type === 'converged') out.push({ seq: e.seq, at: e.at, after: e.after, cause: e.cause, node: e.node, children: e.children });
  return out;
}

export interface ConvergenceBar extends Convergence {
  /** Unique key for the bar. */
  key: string;
  label: string;
  /** "after demo-3 down" */
  change: string;
}

/** What a change that moved children was, in words: "demo-3 down", "demo-4 up", "demo-2 drained", "rebalancing resumed". */
export function changeText(cause: string, node: string): string {
  const what = changeWord(cause);
  return node && changeNamesNode(cause) ? `${node} ${what}` : what;
}

/** A bar per convergence, oldest first, labelled with its time. */
export function convergenceBars(convergence: readonly Convergence[], clock: (at: number) => string): ConvergenceBar[] {
  return convergence.map((c) => ({ ...c, key: String(c.seq), label: clock(c.at), change: changeText(c.cause, c.node) }));
}

export interface ChartData {
  domain: [number, number] | null;
  perNode: { nodes: string[]; points: NodePoint[] };
  members: CountPoint[];
  memberTicks: number[];
  rates: RatePoint[];
  peak: { at: number; starts: number } | null;
  convergence: Convergence[];
  bars: ConvergenceBar[];
}

/** Everything the Charts view draws, from the state's samples and notable events only. */
export function chartData(samples: readonly SampleView[], events: readonly EventView[]): ChartData {
  const convergence = convergenceOf(events);
  return {
    domain: timeDomain(samples),
    perNode: perNodeSeries(samples),
    members: membersSeries(samples),
    memberTicks: countTicks(Math.max(0, ...samples.map((s) => s.members))),
    rates: rateSeries(samples),
    peak: startsPeak(samples),
    convergence,
    bars: convergenceBars(convergence, clockTime),
  };
}
