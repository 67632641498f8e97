/**
 * Cluster store: the state served by the observer gateway, kept by applying
 * its snapshot and patches (the same pure functions the gateway uses), plus
 * what the user has asked for and not yet seen confirmed (moves in flight).
 *
 * The gateway client is its only writer for cluster data; components read
 * it through named selectors.
 */
import { create } from 'zustand';
import { applyPatch, type ChildView, type ClusterState, type MemberView, type StatePatch } from 'pogo-core/observer-state';

export interface ClusterStore {
  cluster: ClusterState | null;
  /** child id → node it is being moved to (cleared when the cluster reports it there). */
  moving: Record<string, string>;
  lastError: string | null;
  applySnapshot: (state: ClusterState) => void;
  applyPatch: (patch: StatePatch) => void;
  startMove: (id: string, to: string) => void;
  failMove: (id: string, message: string) => void;
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

export const useClusterStore = create<ClusterStore>()((set) => ({
  cluster: null,
  moving: {},
  lastError: null,
  applySnapshot: (cluster) => set((s) => ({ cluster, moving: settleMoves(cluster, s.moving) })),
  applyPatch: (patch) =>
    set((s) => {
      if (!s.cluster) return {};
      const cluster = applyPatch(s.cluster, patch);
      return { cluster, moving: settleMoves(cluster, s.moving) };
    }),
  startMove: (id, to) => set((s) => ({ moving: { ...s.moving, [id]: to }, lastError: null })),
  failMove: (id, message) =>
    set((s) => {
      const moving = { ...s.moving };
      delete moving[id];
      return { moving, lastError: message };
    }),
  clearError: () => set({ lastError: null }),
}));

/** Member nodes (not observers), sorted by name. */
export function selectMemberNodes(s: ClusterStore): MemberView[] {
  return s.cluster ? Object.values(s.cluster.members).filter((m) => m.role === 'member').sort((a, b) => (a.name < b.name ? -1 : 1)) : [];
}

/** Children grouped by the node they run on ('' for not running anywhere). */
export function childrenByNode(cluster: ClusterState | null): Record<string, ChildView[]> {
  const out: Record<string, ChildView[]> = {};
  if (!cluster) return out;
  for (const c of Object.values(cluster.children).sort((a, b) => (a.id < b.id ? -1 : 1))) (out[c.node ?? ''] ??= []).push(c);
  return out;
}

export function resetClusterStore(): void {
  useClusterStore.setState({ cluster: null, moving: {}, lastError: null });
}
