/**
 * Connection slice: the state of the renderer's link to an observer gateway.
 *
 *   disconnected  no gateway chosen yet, or the user disconnected
 *   connecting    first attempt to reach the gateway is in flight
 *   connected     snapshot received, patches flowing
 *   reconnecting  the link dropped; retrying automatically
 *   lost          retries exhausted or the session was refused; user action needed
 *
 * `refusal` keeps the gateway's reason when it refused the session (a wrong
 * gateway token or credential), so the UI can say why. `droppedAt` is when
 * the state stopped being live (the status left `connected`): while it is
 * set, the cluster state on screen is the last one received, and is drawn
 * as such.
 *
 * `unlock` is a credential being tried beside the working session (the
 * client keeps the session until the gateway accepts the new one): pending
 * while the gateway checks it, then cleared on success or holding why it
 * was not accepted. It never changes `status`: a refused credential leaves
 * the session as it was. An unlock of a locked session (the gateway checks
 * its credential again) reports the same way.
 *
 * `user` is the name the live session declared for the audit log ('' when
 * it declared none: the gateway's applies, e.g. the desktop user's).
 */
import type { StateCreator } from 'zustand';
import { clockTime } from '../shared/format';
import type { AppStore } from './index';

export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'lost';

export interface UnlockState {
  pending: boolean;
  /** Why the last credential was not accepted (the gateway's reason, without its code). */
  error: string | null;
}

export interface ConnectionSlice {
  status: ConnectionStatus;
  refusal: string | null;
  droppedAt: number | null;
  unlock: UnlockState;
  user: string;
  setStatus: (status: ConnectionStatus, refusal?: string) => void;
  setUnlock: (unlock: UnlockState) => void;
  setUser: (user: string) => void;
}

export const createConnectionSlice: StateCreator<AppStore, [], [], ConnectionSlice> = (set) => ({
  status: 'disconnected',
  refusal: null,
  droppedAt: null,
  unlock: { pending: false, error: null },
  user: '',
  setStatus: (status, refusal) => set((s) => ({ status, refusal: refusal ?? null, droppedAt: status === 'connected' ? null : (s.droppedAt ?? s.now()) })),
  setUnlock: (unlock) => set({ unlock }),
  setUser: (user) => set({ user }),
});

export const selectConnectionStatus = (s: AppStore): ConnectionStatus => s.status;

/** True when the cluster on screen is no longer live: the link dropped, was refused or closed, and what is shown is the last state received. */
export const selectStale = (s: AppStore): boolean => s.cluster !== null && s.status !== 'connected';

/**
 * Since when the gateway has been linked to no cluster member (ClusterState
 * `noMemberSince`), while the link to the gateway itself is live; null
 * otherwise. Then the gateway is there but the cluster is not: what is on
 * screen is the last state the gateway knew, and no command can reach a
 * member.
 */
export const selectNoMemberSince = (s: AppStore): number | null => (s.status === 'connected' ? (s.cluster?.noMemberSince ?? null) : null);

/** Why commands cannot be sent now (no member reachable), or null when they can: what a disabled command button says. */
export const selectCommandBlock = (s: AppStore): string | null => {
  const since = selectNoMemberSince(s);
  return since === null ? null : `No cluster member is reachable from the gateway (since ${clockTime(since)}): a command would reach no one.`;
};

/** True when the board is not live: the gateway link dropped (selectStale), or the gateway reaches no member. */
export const selectBoardStale = (s: AppStore): boolean => selectStale(s) || selectNoMemberSince(s) !== null;
