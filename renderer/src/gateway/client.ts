/**
 * The renderer's one subscription to the observer gateway (DESIGN §3.6):
 * the same code path in the desktop app and in a browser. It feeds the
 * stores (snapshot, acknowledged patches, connection status) and sends
 * commands with acks.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClusterState, StatePatch } from 'pogo-core/observer-state';
import { useClusterStore } from '../store/cluster';
import { useConnectionStore } from '../store/connection';

export interface CommandResult {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

let socket: Socket | null = null;

export function connectGateway(options: { url: string; token: string; credential?: string }): void {
  socket?.close();
  const setStatus = useConnectionStore.getState().setStatus;
  setStatus('connecting');
  const s = io(options.url, { path: '/gateway', auth: { token: options.token, ...(options.credential ? { credential: options.credential } : {}) }, transports: ['websocket'], reconnectionAttempts: 20 });
  socket = s;
  s.on('snapshot', (state: ClusterState) => {
    useClusterStore.getState().applySnapshot(state);
    setStatus('connected');
  });
  s.on('patch', (patch: StatePatch, ack?: () => void) => {
    useClusterStore.getState().applyPatch(patch);
    ack?.();
  });
  s.on('disconnect', () => setStatus('reconnecting'));
  s.on('connect_error', (err: Error) => setStatus(/unauthorized/.test(err.message) ? 'lost' : 'reconnecting'));
  s.io.on('reconnect_failed', () => setStatus('lost'));
}

export async function sendCommand(op: string, ...args: unknown[]): Promise<CommandResult> {
  if (!socket) return { ok: false, error: { code: 'not-connected', message: 'not connected to a gateway' } };
  try {
    return (await socket.timeout(30_000).emitWithAck('command', { op, args })) as CommandResult;
  } catch {
    return { ok: false, error: { code: 'timeout', message: 'the gateway did not answer in time' } };
  }
}
