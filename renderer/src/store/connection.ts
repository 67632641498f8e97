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
 * gateway token or credential), so the UI can say why.
 */
import type { StateCreator } from 'zustand';
import type { AppStore } from './index';

export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'lost';

export interface ConnectionSlice {
  status: ConnectionStatus;
  refusal: string | null;
  setStatus: (status: ConnectionStatus, refusal?: string) => void;
}

export const createConnectionSlice: StateCreator<AppStore, [], [], ConnectionSlice> = (set) => ({
  status: 'disconnected',
  refusal: null,
  setStatus: (status, refusal) => set({ status, refusal: refusal ?? null }),
});

export const selectConnectionStatus = (s: AppStore): ConnectionStatus => s.status;
