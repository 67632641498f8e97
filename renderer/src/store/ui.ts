/**
 * UI slice: which view is open, what is selected (a child or a node, shown
 * in the detail panel), the board's search filter and status filter (a
 * child status picked from the board's counts), and the theme.
 */
import type { StateCreator } from 'zustand';
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
  setView: (view: View) => void;
  select: (selection: Selection) => void;
  setFilter: (filter: string) => void;
  /** Filter the board to a status; the same status again clears the filter. */
  toggleStatusFilter: (status: string | null) => void;
  setTheme: (theme: Theme) => void;
  setStarting: (open: boolean) => void;
}

export const createUiSlice: StateCreator<AppStore, [], [], UiSlice> = (set) => ({
  view: 'board',
  selection: null,
  filter: '',
  statusFilter: null,
  theme: 'dark',
  starting: false,
  setView: (view) => set({ view }),
  select: (selection) => set({ selection }),
  setFilter: (filter) => set({ filter }),
  toggleStatusFilter: (status) => set((s) => ({ statusFilter: status === s.statusFilter ? null : status })),
  setTheme: (theme) => set({ theme }),
  setStarting: (starting) => set({ starting }),
});
