/**
 * UI slice: which view is open, what is selected (a child or a node, shown
 * in the detail panel), the board's search filter, and the theme.
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
  theme: Theme;
  /** The start-child form is open. */
  starting: boolean;
  setView: (view: View) => void;
  select: (selection: Selection) => void;
  setFilter: (filter: string) => void;
  setTheme: (theme: Theme) => void;
  setStarting: (open: boolean) => void;
}

export const createUiSlice: StateCreator<AppStore, [], [], UiSlice> = (set) => ({
  view: 'board',
  selection: null,
  filter: '',
  theme: 'dark',
  starting: false,
  setView: (view) => set({ view }),
  select: (selection) => set({ selection }),
  setFilter: (filter) => set({ filter }),
  setTheme: (theme) => set({ theme }),
  setStarting: (starting) => set({ starting }),
});
