/**
 * UI slice: which view is open, what is selected (a child or a node, shown
 * in the detail panel), the board's search filter and status filter (a
 * child status picked from the board's counts), the theme, and the board
 * columns the user dismissed.
 *
 * Dismissed columns: a member that is down (or left) can be dismissed from
 * the board, here, in this window. It is hidden, not forgotten: the cluster
 * keeps it in its member table until it reaps it (`downReapAfterMs`, 15
 * minutes by default) and `forget` is another thing (tombstones stop
 * waiting for it; node detail offers it). A dismissal holds for that
 * incarnation while it stays gone: the member back up, or a new
 * incarnation of it, shows its column again.
 */
import type { StateCreator } from 'zustand';
import type { MemberView } from 'pogo-core/observer-state';
import type { AppStore } from './index';

export const VIEWS = ['board', 'groups', 'timeline', 'charts', 'audit'] as const;
export type View = (typeof VIEWS)[number];
export type Selection = { kind: 'child'; id: string } | { kind: 'node'; name: string } | null;
export type Theme = 'dark' | 'light';

export interface UiSlice {
  view: View;
  selection: Selection;
  filter: string;
  /** Show only children with this status on the board; null shows all. */
  statusFilter: string | null;
  theme: Theme;
  /** The start-child form is open. */
  starting: boolean;
  /** node name → the incarnation whose column was dismissed. */
  dismissed: Record<string, string>;
  setView: (view: View) => void;
  select: (selection: Selection) => void;
  setFilter: (filter: string) => void;
  /** Filter the board to a status; the same status again clears the filter. */
  toggleStatusFilter: (status: string | null) => void;
  setTheme: (theme: Theme) => void;
  setStarting: (open: boolean) => void;
  dismissNode: (member: MemberView) => void;
  /** Shows every dismissed column again. */
  restoreNodes: () => void;
}

/** True when the board hides this member's column: dismissed in this incarnation, and still gone. */
export function isDismissed(member: MemberView, dismissed: Record<string, string>): boolean {
  return dismissed[member.name] === member.incarnation && (member.status === 'down' || member.status === 'left');
}

export const createUiSlice: StateCreator<AppStore, [], [], UiSlice> = (set) => ({
  view: 'board',
  selection: null,
  filter: '',
  statusFilter: null,
  theme: 'dark',
  starting: false,
  dismissed: {},
  setView: (view) => set({ view }),
  select: (selection) => set({ selection }),
  setFilter: (filter) => set({ filter }),
  toggleStatusFilter: (status) => set((s) => ({ statusFilter: status === s.statusFilter ? null : status })),
  setTheme: (theme) => set({ theme }),
  setStarting: (starting) => set({ starting }),
  dismissNode: (member) => set((s) => ({ dismissed: { ...s.dismissed, [member.name]: member.incarnation } })),
  restoreNodes: () => set({ dismissed: {} }),
});
