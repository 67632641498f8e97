/**
 * Toasts slice: short notices for the two changes a person watching the
 * cluster must not miss, and nothing else:
 *
 *   node-down      a member node (not an observer, not a `pogo ctl`
 *                  session, which join as observers) turned `down`. A
 *                  member `unreachable` from this observer (it lost its own
 *                  link while the other members still hear it) is not down
 *                  and gives no toast; if the others then confirm it down,
 *                  that is the toast.
 *   child-failing  a child turned `failing`
 *
 * They come from the transitions in each patch (`noticesOf`: the patch's
 * members and children compared with the state before it; a snapshot after
 * a reconnect is compared with the state the window had). The way back is
 * noticed too, but opens no toast: a node up again or a child running
 * again is marked `recovered` in the open toast that named it, so a toast
 * never goes on saying "down" about a node that is back. The first
 * snapshot is the baseline: what was already down or failing when the
 * window connected is in the attention lane, not in a toast.
 *
 * A failing child that runs again is back only once it has run for
 * START_WINDOW_MS (`holdRecoveries`): one whose start fails at once
 * (`sh -c "exit 3"`) is `running` for a few milliseconds at each retry, and
 * said "was failing and runs again" twice before "is failing" again. Until
 * then its way back is held, not noticed; failing again within the window
 * is no new notice (its toast still says it is failing); running through
 * the window, it is noticed then (`settleRecoveries`, on the next patch or
 * the toasts' next timer).
 *
 * Bursts are grouped (`mergeNotices`): a notice of a kind joins the newest
 * open toast of that kind if that toast last grew less than BURST_MS ago,
 * so a node failure that fails 200 children gives one toast, not 200. A
 * toast closes when dismissed, TOAST_MS after it last grew, or RESOLVED_MS
 * after all it named are back; at most TOAST_LIMIT are kept (the oldest
 * goes first).
 */
import type { StateCreator } from 'zustand';
import type { ClusterState, StatePatch } from 'pogo-core/observer-state';
import type { AppStore } from './index';

export const BURST_MS = 3_000;
export const TOAST_MS = 20_000;
export const TOAST_LIMIT = 4;
/** A toast whose every subject is back closes this long after the last came back. */
export const RESOLVED_MS = 5_000;
/** How long a failing child must run again before it counts as back (a start that fails within it is no recovery). */
export const START_WINDOW_MS = 5_000;

/** Children seen running again after failing, by id: since when (their way back is noticed once START_WINDOW_MS has passed). */
export type Recovering = Readonly<Record<string, number>>;

/**
 * The notices to merge now, and the recoveries held (pure): a failing
 * child's way back is held from `now`; a failing notice of a child held is
 * dropped (it failed again within its start window).
 */
export function holdRecoveries(notices: Notice[], recovering: Recovering, now: number): { notices: Notice[]; recovering: Recovering } {
  let held: Record<string, number> | null = null;
  const edit = (): Record<string, number> => (held ??= { ...recovering });
  const out: Notice[] = [];
  for (const n of notices) {
    if (n.kind !== 'child-failing') out.push(n);
    else if (n.recovered) edit()[n.subject] = now;
    else if (n.subject in (held ?? recovering)) delete edit()[n.subject];
    else out.push(n);
  }
  return { notices: out, recovering: held ?? recovering };
}

/** The held recoveries whose start window has passed with the child running: noticed now; the others kept, or dropped if the child stopped running. */
export function settleRecoveries(
  recovering: Recovering,
  children: Readonly<Record<string, { status: string }>>,
  now: number,
): { notices: Notice[]; recovering: Recovering } {
  const ids = Object.keys(recovering);
  if (ids.length === 0) return { notices: [], recovering };
  const notices: Notice[] = [];
  const kept: Record<string, number> = {};
  for (const id of ids) {
    const status = children[id]?.status;
    if (status !== 'running') continue;
    if (now - recovering[id]! >= START_WINDOW_MS) notices.push({ kind: 'child-failing', subject: id, recovered: true });
    else kept[id] = recovering[id]!;
  }
  return { notices, recovering: kept };
}

/** When the toasts must be looked at again for a held recovery (its start window ends), or null. */
export function nextRecovery(recovering: Recovering): number | null {
  const at = Object.values(recovering);
  return at.length === 0 ? null : Math.min(...at) + START_WINDOW_MS;
}

export type NoticeKind = 'node-down' | 'child-failing';

export interface Notice {
  kind: NoticeKind;
  /** The node's name or the child's id. */
  subject: string;
  /** For a failing child: its last error. */
  detail?: string;
  /** The way back: the node is up again, the child runs again. */
  recovered?: true;
}

export interface Toast {
  id: number;
  kind: NoticeKind;
  /** Nodes or children, in the order they turned; no repeats. */
  subjects: string[];
  /** Those of `subjects` that are back since (node up, child running). */
  recovered: string[];
  /** The last error of the first child (child-failing only). */
  detail: string | null;
  at: number;
  /** When it last took in a notice; it closes TOAST_MS after this. */
  grew: number;
  /** When the last of its subjects came back (all are back); it closes RESOLVED_MS after this. */
  resolved: number | null;
}

export interface ToastsSlice {
  toasts: Toast[];
  toastSeq: number;
  recovering: Recovering;
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
    const was = before.members[m.name];
    if (m.role !== 'member' || !was) continue;
    if (m.status === 'down' && was.status !== 'down') out.push({ kind: 'node-down', subject: m.name });
    else if (m.status === 'up' && was.status === 'down') out.push({ kind: 'node-down', subject: m.name, recovered: true });
  }
  for (const c of patch.children?.set ?? []) {
    const was = before.children[c.id]?.status;
    if (c.status === 'failing' && was !== 'failing') out.push({ kind: 'child-failing', subject: c.id, ...(c.lastError ? { detail: c.lastError } : {}) });
    else if (c.status === 'running' && was === 'failing') out.push({ kind: 'child-failing', subject: c.id, recovered: true });
  }
  return out;
}

/** Toasts after taking in `notices` at `now` (bursts grouped, at most TOAST_LIMIT). */
export function mergeNotices(toasts: Toast[], notices: Notice[], now: number, seq: number): { toasts: Toast[]; seq: number } {
  if (notices.length === 0) return { toasts, seq };
  let next = [...toasts];
  for (const n of notices) {
    if (n.recovered) {
      next = next.map((t) => {
        if (t.kind !== n.kind || !t.subjects.includes(n.subject) || t.recovered.includes(n.subject)) return t;
        const recovered = [...t.recovered, n.subject];
        return { ...t, recovered, resolved: recovered.length === t.subjects.length ? now : null };
      });
      continue;
    }
    const open = next.findLast((t) => t.kind === n.kind);
    if (open && now - open.grew < BURST_MS) {
      const merged = {
        ...open,
        grew: now,
        subjects: open.subjects.includes(n.subject) ? open.subjects : [...open.subjects, n.subject],
        recovered: open.recovered.filter((r) => r !== n.subject),
        resolved: null,
      };
      next = next.map((t) => (t === open ? merged : t));
    } else next.push({ id: ++seq, kind: n.kind, subjects: [n.subject], recovered: [], detail: n.detail ?? null, at: now, grew: now, resolved: null });
  }
  return { toasts: next.slice(-TOAST_LIMIT), seq };
}

/** When a toast closes by itself. */
export function closesAt(t: Toast): number {
  return t.resolved === null ? t.grew + TOAST_MS : Math.min(t.grew + TOAST_MS, t.resolved + RESOLVED_MS);
}

/** The toasts still open at `now`. */
export function openToasts(toasts: Toast[], now: number): Toast[] {
  return toasts.filter((t) => now < closesAt(t));
}

export const createToastsSlice: StateCreator<AppStore, [], [], ToastsSlice> = (set, get) => ({
  toasts: [],
  toastSeq: 0,
  recovering: {},
  noticeChanges: (before, patch, now) =>
    set((s) => {
      const held = holdRecoveries(noticesOf(before, patch), s.recovering, now);
      const settled = settleRecoveries(held.recovering, s.cluster?.children ?? {}, now);
      const notices = [...held.notices, ...settled.notices];
      if (notices.length === 0) return settled.recovering === s.recovering ? {} : { recovering: settled.recovering };
      const { toasts, seq } = mergeNotices(openToasts(s.toasts, now), notices, now, s.toastSeq);
      return { toasts, toastSeq: seq, recovering: settled.recovering };
    }),
  noticeSnapshot: (before, snapshot, now) => {
    if (!before || before.cluster !== snapshot.cluster) return;
    // Only statuses matter here: no need for a full diff (it would serialise every child).
    const children = Object.values(snapshot.children).filter((c) => before.children[c.id]?.status !== c.status);
    get().noticeChanges(before, { members: { set: Object.values(snapshot.members) }, children: { set: children } }, now);
  },
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
  expireToasts: (now) =>
    set((s) => {
      const settled = settleRecoveries(s.recovering, s.cluster?.children ?? {}, now);
      const merged = settled.notices.length > 0 ? mergeNotices(openToasts(s.toasts, now), settled.notices, now, s.toastSeq) : null;
      const toasts = openToasts(merged?.toasts ?? s.toasts, now);
      if (merged === null && toasts.length === s.toasts.length && settled.recovering === s.recovering) return {};
      return { toasts, recovering: settled.recovering, ...(merged ? { toastSeq: merged.seq } : {}) };
    }),
});
