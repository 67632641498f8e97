/**
 * History slice: what the charts plot, sampled from the cluster state as it
 * arrives (at most one sample per second, the newest SAMPLE_LIMIT kept).
 *
 * Each sample holds children per node, member count, and the number of
 * starts, stops, failures and restarts seen since the previous sample:
 *
 *   starts, stops, failures  `started`, `stopped`, `failed` events, each
 *                            event (by seq) counted once
 *   restarts                 increases of the children's `restarts` (restarts
 *                            in place of the current instance): the same
 *                            child on the same node with a higher count adds
 *                            the difference; a child that changed node adds
 *                            its new instance's count. The first sample is the
 *                            baseline: restarts from before it are not counted.
 *
 * A sample starts at `at` and takes in later updates until SAMPLE_MS has
 * passed; `until` is the time of the last update it took in, so a rate can
 * be divided by the time the sample really covers (chart-data.ts).
 *
 * The cluster's `converged` events (the gateway's measure of how long the
 * cluster took to run every child once again after a node came or went) are
 * kept in `convergence`, each once, the newest CONVERGENCE_LIMIT.
 */
import type { StateCreator } from 'zustand';
import type { ClusterState, ConvergedEvent, EventView } from 'pogo-core/observer-state';
import type { AppStore } from './index';

export const SAMPLE_MS = 1_000;
export const SAMPLE_LIMIT = 600;
export const CONVERGENCE_LIMIT = 200;

export interface Sample {
  at: number;
  /** Time of the last update this sample took in (≥ at). */
  until: number;
  members: number;
  /** node → children running there. */
  perNode: Record<string, number>;
  starts: number;
  stops: number;
  failures: number;
  restarts: number;
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

export interface HistorySlice {
  samples: Sample[];
  /** Highest event seq already counted. */
  countedSeq: number;
  /** child id → its node and restart count when last sampled (null until the first sample). */
  restartsSeen: Record<string, { node: string | null; restarts: number }> | null;
  convergence: Convergence[];
  recordSample: (cluster: ClusterState, at: number) => void;
}

/** The convergence record of a `converged` event, or null when it is not one. */
export function convergenceOf(e: EventView): Convergence | null {
  if (e.type !== 'converged') return null;
  return { seq: e.seq, at: e.at, after: e.after, cause: e.cause, node: e.node, children: e.children };
}

export const createHistorySlice: StateCreator<AppStore, [], [], HistorySlice> = (set) => ({
  samples: [],
  countedSeq: 0,
  restartsSeen: null,
  convergence: [],
  recordSample: (cluster, at) =>
    set((s) => {
      const perNode: Record<string, number> = {};
      for (const m of Object.values(cluster.members)) if (m.role === 'member' && m.status !== 'down') perNode[m.name] = 0;
      const restartsSeen: NonNullable<HistorySlice['restartsSeen']> = {};
      let restarts = 0;
      for (const c of Object.values(cluster.children)) {
        if (c.node && c.status !== 'pending') perNode[c.node] = (perNode[c.node] ?? 0) + 1;
        restartsSeen[c.id] = { node: c.node, restarts: c.restarts };
        if (!s.restartsSeen) continue;
        const before = s.restartsSeen[c.id];
        restarts += before && before.node === c.node ? Math.max(0, c.restarts - before.restarts) : c.restarts;
      }
      // A gateway that restarted numbers its events from 1 again: count from there.
      const newest = cluster.events.at(-1)?.seq ?? 0;
      const from = newest < s.countedSeq ? 0 : s.countedSeq;
      let starts = 0;
      let stops = 0;
      let failures = 0;
      const converged: Convergence[] = [];
      for (const e of cluster.events) {
        if (e.seq <= from) continue;
        if (e.type === 'started') starts++;
        else if (e.type === 'stopped') stops++;
        else if (e.type === 'failed') failures++;
        else if (e.type === 'converged') {
          const c = convergenceOf(e);
          if (c) converged.push(c);
        }
      }
      const members = Object.values(cluster.members).filter((m) => m.role === 'member' && m.status === 'up').length;
      const countedSeq = newest > 0 ? newest : from;
      const convergence = converged.length > 0 ? [...s.convergence, ...converged].slice(-CONVERGENCE_LIMIT) : s.convergence;
      const last = s.samples.at(-1);
      if (last && at - last.at < SAMPLE_MS) {
        const merged: Sample = {
          at: last.at,
          until: Math.max(last.until, at),
          members,
          perNode,
          starts: last.starts + starts,
          stops: last.stops + stops,
          failures: last.failures + failures,
          restarts: last.restarts + restarts,
        };
        return { samples: [...s.samples.slice(0, -1), merged], countedSeq, restartsSeen, convergence };
      }
      const sample: Sample = { at, until: at, members, perNode, starts, stops, failures, restarts };
      return { samples: [...s.samples, sample].slice(-SAMPLE_LIMIT), countedSeq, restartsSeen, convergence };
    }),
});
