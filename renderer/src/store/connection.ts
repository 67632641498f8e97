/**
 * Connection store: the state of the renderer's link to an observer gateway.
 *
 * One small zustand store. The gateway client (a later issue) will be its
 * only writer, through `setStatus`, which is callable outside React;
 * components read it through the named selector. Tests call
 * `resetConnectionStore()` between cases.
 *
 *   disconnected  no gateway chosen yet, or the user disconnected
 *   connecting    first attempt to reach the gateway is in flight
 *   connected     snapshot received, patches flowing
 *   reconnecting  the link dropped; retrying automatically
 *   lost          retries exhausted or the session was refused; user action needed
 */
import { create } from 'zustand';

export type ConnectionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'lost';

export interface ConnectionState {
  status: ConnectionStatus;
  setStatus: (status: ConnectionStatus) => void;
}

const initialState: Pick<ConnectionState, 'status'> = { status: 'disconnected' };

export const useConnectionStore = create<ConnectionState>()((set) => ({
  ...initialState,
  setStatus: (status) => set({ status }),
}));

export const selectConnectionStatus = (state: ConnectionState): ConnectionStatus => state.status;

/** Back to the initial state (tests; and on "disconnect" once there is a gateway). */
export function resetConnectionStore(): void {
  useConnectionStore.setState(initialState);
}
