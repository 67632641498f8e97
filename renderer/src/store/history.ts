/**
 * History slice: what the charts plot, sampled from the cluster state as it
 * arrives (at most one sample per second, the newest SAMPLE_LIMIT kept).
 *
 * Each sample holds children per node, member count, and the number of
 * starts, stops and failures seen in the events since the previous sample.
 */
import type { StateCreator } from 'zustand';
import type { ClusterState } from 'pogo-core/observer-state';
import type { AppStore } from './index';

export const SAMPLE_MS = 1_000;
export const SAMPLE_LIMIT = 600;

export interface Sample {
  at: number;
  members: number;
  /** node → children running there. */
  perNode: Record<string, number>;
  starts: number;
  stops: number;
  failures: number;
}

export interface HistorySlice {
  samples: Sample[];
  /** Highest event seq already counted. */
  countedSeq: number;
  recordSample: (cluster: ClusterState, at: number) => void;
}

export const createHistorySlice: StateCreator<AppStore, [], [], HistorySlice> = (set) => ({
  samples: [],
  countedSeq: 0,
  recordSample: (cluster, at) =>
    set((s) => {
      const perNode: Record<string, number> = {};
      for (const m of Object.values(cluster.members)) if (m.role === 'member' && m.status !== 'down') perNode[m.name] = 0;
      for (const c of Object.values(cluster.children)) if (c.node && c.status !== 'pending') perNode[c.node] = (perNode[c.node] ?? 0) + 1;
      let starts = 0;
      let stops = 0;
      let failures = 0;
      for (const e of cluster.events) {
        if (e.seq <= s.countedSeq) continue;
        if (e.type === 'started') starts++;
        else if (e.type === 'stopped') stops++;
        else if (e.type === 'failed') failures++;
      }
      const members = Object.values(cluster.members).filter((m) => m.role === 'member' && m.status === 'up').length;
      const countedSeq = cluster.events.at(-1)?.seq ?? s.countedSeq;
      const last = s.samples.at(-1);
      if (last && at - last.at < SAMPLE_MS) {
        const merged: Sample = { at: last.at, members, perNode, starts: last.starts + starts, stops: last.stops + stops, failures: last.failures + failures };
        return { samples: [...s.samples.slice(0, -1), merged], countedSeq };
      }
      return { samples: [...s.samples, { at, members, perNode, starts, stops, failures }].slice(-SAMPLE_LIMIT), countedSeq };
    }),
});
