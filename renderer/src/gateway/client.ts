/**
 * The renderer's one subscription to the observer gateway (DESIGN §3.6):
 * the same code path in the desktop app and in a browser. It feeds the
 * store (snapshot, acknowledged patches, connection status) and sends
 * commands with acks.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClusterState, StatePatch } from 'pogo-core/observer-state';
import { useStore } from '../store/index';

export interface CommandResult {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

let socket: Socket | null = null;

export function connectGateway(options: { url: string; token: string; credential?: string }): void {
  socket?.close();
  const setStatus = useStore.getState().setStatus;
  setStatus('connecting');
  const s = io(options.url, { path: '/gateway', auth: { token: options.token, ...(options.credential ? { credential: options.credential } : {}) }, transports: ['websocket'], reconnectionAttempts: 20 });
  socket = s;
  s.on('snapshot', (state: ClusterState) => {
    useStore.getState().applySnapshot(state);
    setStatus('connected');
  });
  s.on('patch', (patch: StatePatch, ack?: () => void) => {
    useStore.getState().applyPatch(patch);
    ack?.();
  });
  s.on('disconnect', () => setStatus('reconnecting'));
  s.on('connect_error', (err: Error) => {
    // A refused session (wrong token or credential) will not get better by retrying.
    if (/unauthorized/.test(err.message)) {
      s.close();
      setStatus('lost', err.message);
    } else setStatus('reconnecting');
  });
  s.io.on('reconnect_failed', () => setStatus('lost', 'the gateway stopped answering'));
}

export function disconnectGateway(): void {
  socket?.close();
  socket = null;
  useStore.getState().setStatus('disconnected');
}

export async function sendCommand(op: string, ...args: unknown[]): Promise<CommandResult> {
  if (!socket) return { ok: false, error: { code: 'not-connected', message: 'not connected to a gateway' } };
  try {
    return (await socket.timeout(30_000).emitWithAck('command', { op, args })) as CommandResult;
  } catch {
    return { ok: false, error: { code: 'timeout', message: 'the gateway did not answer in time' } };
  }
}

/** Sends a command; a refusal is shown in the app's error banner. Returns the result, or undefined when refused. */
export async function runCommand(op: string, ...args: unknown[]): Promise<CommandResult> {
  const reply = await sendCommand(op, ...args);
  if (!reply.ok) useStore.getState().showError(`${reply.error?.code}: ${reply.error?.message}`);
  return reply;
}
