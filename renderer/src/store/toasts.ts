/**
 * Toasts slice: short notices for the two changes a person watching the
 * cluster must not miss, and nothing else:
 *
 *   node-down      a member node (not an observer, not a `pogo ctl`
 *                  session, which join as observers) turned `down`
 *   child-failing  a child turned `failing`
 *
 * They come from the transitions in each patch (`noticesOf`: the patch's
 * members and children compared with the state before it; a snapshot after
 * a reconnect is compared with the state the window had). The first
 * snapshot is the baseline: what was already down or failing when the
 * window connected is in the attention lane, not in a toast.
 *
 * Bursts are grouped (`mergeNotices`): a notice of a kind joins the newest
 * open toast of that kind if that toast last grew less than BURST_MS ago,
 * so a node failure that fails 200 children gives one toast, not 200. A
 * toast closes when dismissed or TOAST_MS after it last grew; at most
 * TOAST_LIMIT are kept (the oldest goes first).
 */
import type { StateCreator } from 'zustand';
import { diffState, type ClusterState, type StatePatch } from 'pogo-core/observer-state';
import type { AppStore } from './index';

export const BURST_MS = 3_000;
export const TOAST_MS = 20_000;
export const TOAST_LIMIT = 4;

export type NoticeKind = 'node-down' | 'child-failing';

export interface Notice {
  kind: NoticeKind;
  /** The node's name or the child's id. */
  subject: string;
  /** For a failing child: its last error. */
  detail?: string;
}

export interface Toast {
  id: number;
  kind: NoticeKind;
  /** Nodes or children, in the order they turned; no repeats. */
  subjects: string[];
  /** The last error of the first child (child-failing only). */
  detail: string | null;
  at: number;
  /** When it last took in a notice; it closes TOAST_MS after this. */
  grew: number;
}

export interface ToastsSlice {
  toasts: Toast[];
  toastSeq: number;
  noticeChanges: (before: ClusterState, patch: StatePatch, now: number) => void;
  /** A snapshot replacing `before` (a reconnect): its changes, if it is the same cluster; nothing for the first one. */
  noticeSnapshot: (before: ClusterState | null, snapshot: ClusterState, now: number) => void;
  dismissToast: (id: number) => void;
  expireToasts: (now: number) => void;
}

/** The notices a patch gives, applied to `before`. */
export function noticesOf(before: ClusterState, patch: StatePatch): Notice[] {
  const out: Notice[] = [];
  for (const m of patch.members?.set ?? []) {
    if (m.role !== 'member' || m.status !== 'down') continue;
    const was = before.members[m.name];
    if (was && was.status !== 'down') out.push({ kind: 'node-down', subject: m.name });
  }
  for (const c of patch.children?.set ?? []) {
    if (c.status !== 'failing' || before.children[c.id]?.status === 'failing') continue;
    out.push({ kind: 'child-failing', subject: c.id, ...(c.lastError ? { detail: c.lastError } : {}) });
  }
  return out;
}

/** Toasts after taking in `notices` at `now` (bursts grouped, at most TOAST_LIMIT). */
export function mergeNotices(toasts: Toast[], notices: Notice[], now: number, seq: number): { toasts: Toast[]; seq: number } {
  if (notices.length === 0) return { toasts, seq };
  let next = [...toasts];
  for (const n of notices) {
    const open = next.findLast((t) => t.kind === n.kind);
    if (open && now - open.grew < BURST_MS) {
      const merged = { ...open, grew: now, subjects: open.subjects.includes(n.subject) ? open.subjects : [...open.subjects, n.subject] };
      next = next.map((t) => (t === open ? merged : t));
    } else next.push({ id: ++seq, kind: n.kind, subjects: [n.subject], detail: n.detail ?? null, at: now, grew: now });
  }
  return { toasts: next.slice(-TOAST_LIMIT), seq };
}

/** The toasts still open at `now`. */
export function openToasts(toasts: Toast[], now: number): Toast[] {
  return toasts.filter((t) => now - t.grew < TOAST_MS);
}

export const createToastsSlice: StateCreator<AppStore, [], [], ToastsSlice> = (set, get) => ({
  toasts: [],
  toastSeq: 0,
  noticeChanges: (before, patch, now) =>
    set((s) => {
      const notices = noticesOf(before, patch);
      if (notices.length === 0) return {};
      const { toasts, seq } = mergeNotices(openToasts(s.toasts, now), notices, now, s.toastSeq);
      return { toasts, toastSeq: seq };
    }),
  noticeSnapshot: (before, snapshot, now) => {
    const patch = before && before.cluster === snapshot.cluster ? diffState(before, snapshot) : undefined;
    if (patch) get().noticeChanges(before!, patch, now);
  },
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  expireToasts: (now) =>
    set((s) => {
      const toasts = openToasts(s.toasts, now);
      return toasts.length === s.toasts.length ? {} : { toasts };
    }),
});
