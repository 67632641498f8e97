/**
 * Cluster slice: the state served by the observer gateway, kept by applying
 * its snapshot and patches (the same pure functions the gateway uses), plus
 * what the user has asked for and not yet seen confirmed (moves in flight),
 * and which children just changed node (the board animates them).
 */
import type { StateCreator } from 'zustand';
import { applyPatch, keyedState, type ChildView, type ClusterState, type MemberView, type StatePatch } from 'pogo-core/observer-state';
import { buildIndex } from './board-index';
import type { AppStore } from './index';

/** How long a child that changed node is shown as "arrived", ms. */
export const ARRIVAL_MS = 2_500;

export interface ClusterSlice {
  cluster: ClusterState | null;
  /** child id → node it is being moved to (cleared when the cluster reports it there). */
  moving: Record<string, string>;
  /** child id → { from, at }: it changed node recently. */
  arrived: Record<string, { from: string; at: number }>;
  lastError: string | null;
  applySnapshot: (state: ClusterState) => void;
  applyPatch: (patch: StatePatch) => void;
  startMove: (id: string, to: string) => void;
  /** The move was refused: the mark goes, and `message` (if any) is shown. */
  failMove: (id: string, message?: string) => void;
  showError: (message: string) => void;
  clearError: () => void;
}

function settleMoves(cluster: ClusterState, moving: Record<string, string>): Record<string, string> {
  const next: Record<string, string> = {};
  for (const [id, to] of Object.entries(moving)) {
    const child = cluster.children[id];
    if (child && child.node !== to) next[id] = to;
  }
  return next;
}

function arrivals(before: ClusterState, patch: StatePatch, arrived: ClusterSlice['arrived'], now: number): ClusterSlice['arrived'] {
  const next: ClusterSlice['arrived'] = {};
  for (const [id, a] of Object.entries(arrived)) if (now - a.at < ARRIVAL_MS) next[id] = a;
  for (const c of patch.children?.set ?? []) {
    const from = before.children[c.id]?.node;
    if (from && c.node && from !== c.node) next[c.id] = { from, at: now };
  }
  return next;
}

export const createClusterSlice: StateCreator<AppStore, [], [], ClusterSlice> = (set, get) => ({
  cluster: null,
  moving: {},
  arrived: {},
  lastError: null,
  applySnapshot: (given) => {
    // Keyed by names the cluster chooses: records without a prototype (observer/state.ts `keyed`).
    const cluster = keyedState(given);
    const before = get().cluster;
    set((s) => ({ cluster, moving: settleMoves(cluster, s.moving), arrived: {} }));
    get().trackStatuses(cluster, null, get().now());
    get().noticeSnapshot(before, cluster, get().now());
  },
  applyPatch: (patch) => {
    const s = get();
    if (!s.cluster) return;
    const now = s.now();
    const cluster = applyPatch(s.cluster, patch);
    set({ cluster, moving: settleMoves(cluster, s.moving), arrived: arrivals(s.cluster, patch, s.arrived, now) });
    get().trackStatuses(cluster, patch, now);
    get().noticeChanges(s.cluster, patch, now);
  },
  startMove: (id, to) => set((s) => ({ moving: { ...s.moving, [id]: to }, lastError: null })),
  failMove: (id, message) =>
    set((s) => {
      const moving = { ...s.moving };
      delete moving[id];
      return message === undefined ? { moving } : { moving, lastError: message };
    }),
  showError: (message) => set({ lastError: message }),
  clearError: () => set({ lastError: null }),
});

/** Member nodes (not observers), sorted by name. */
export function selectMemberNodes(s: AppStore): MemberView[] {
  return s.cluster
    ? Object.values(s.cluster.members)
        .filter((m) => m.role === 'member')
        .sort((a, b) => (a.name < b.name ? -1 : 1))
    : [];
}

/** True when a child matches the board's search: every word is found in its id, worker or command, node, status or pin. */
export function matchesFilter(child: ChildView, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const text = [child.id, child.worker ?? '', child.command ?? '', child.node ?? 'unplaced', child.status, child.pin ? `pinned ${child.pin}` : '']
    .join(' ')
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

/** Children grouped by the node they run on ('' for not running anywhere), sorted by id, filtered by the search and, if given, by status. */
export function childrenByNode(cluster: ClusterState | null, filter = '', status: string | null = null): Readonly<Record<string, readonly ChildView[]>> {
  return cluster ? filterColumns(buildIndex(cluster.children).byNode, filter, status) : {};
}

/** The board's columns (board-index.ts) with only the children the search and the status filter show; the same object when neither is set. */
export function filterColumns(
  byNode: Readonly<Record<string, readonly ChildView[]>>,
  filter: string,
  status: string | null,
): Readonly<Record<string, readonly ChildView[]>> {
  if (filter.trim() === '' && status === null) return byNode;
  const out: Record<string, ChildView[]> = {};
  for (const [node, list] of Object.entries(byNode)) {
    const shown = list.filter((c) => (status === null || c.status === status) && matchesFilter(c, filter));
    if (shown.length > 0) out[node] = shown;
  }
  return out;
}
