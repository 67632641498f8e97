/**
 * The renderer's one zustand store, built from slices (DESIGN §4):
 *
 *   cluster     the observer gateway's state (snapshot + patches) and the
 *               user's moves in flight
 *   connection  the link to the gateway (connected, reconnecting, lost)
 *   ui          which view is open, what is selected, filter, theme
 *   attention   since when each child is in its (not running) status, for
 *               the "needs attention" lane
 *   toasts      notices of nodes going down and children turning failing
 *
 * The gateway client (gateway/client.ts) is the only writer of cluster and
 * connection data; components read through named selectors. `now` is the
 * store's clock (injected in tests).
 *
 * The past (timeline, charts) is not kept here: it is the gateway's, in the
 * cluster state (`events`, `activity`, `samples`), so a reload loses none
 * of it.
 */
import { create } from 'zustand';
import { createClusterSlice, type ClusterSlice } from './cluster';
import { createConnectionSlice, type ConnectionSlice } from './connection';
import { createAttentionSlice, type AttentionSlice } from './attention';
import { createToastsSlice, type ToastsSlice } from './toasts';
import { createUiSlice, type UiSlice } from './ui';

export type AppStore = ClusterSlice & ConnectionSlice & UiSlice & AttentionSlice & ToastsSlice & { now: () => number };

export const useStore = create<AppStore>()((...a) => ({
  ...createClusterSlice(...a),
  ...createConnectionSlice(...a),
  ...createUiSlice(...a),
  ...createAttentionSlice(...a),
  ...createToastsSlice(...a),
  now: () => Date.now(),
}));

const initial = useStore.getState();

/** Back to the initial state (tests; and when the user disconnects). */
export function resetStore(): void {
  useStore.setState(initial, true);
}
