/**
 * The renderer's one subscription to the observer gateway (DESIGN §3.6):
 * the same code path in the desktop app and in a browser. It feeds the
 * store (snapshot, acknowledged patches, connection status) and sends
 * commands with acks.
 *
 * Both directions are typed by the UI protocol (pogo-core/ui-protocol):
 * `sendCommand('move', { id, node })` takes the op's named fields and
 * resolves with that op's result or a typed error. The gateway validates
 * every command again; its refusal names the field.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, CommandAck, CommandArgsInput, ServerToClientEvents, UiOp } from 'pogo-core/ui-protocol';
import { useStore } from '../store/index';

let socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;

export function connectGateway(options: { url: string; token: string; credential?: string }): void {
  socket?.close();
  const setStatus = useStore.getState().setStatus;
  setStatus('connecting');
  const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(options.url, { path: '/gateway', auth: { token: options.token, ...(options.credential ? { credential: options.credential } : {}) }, transports: ['websocket'], reconnectionAttempts: 20 });
  socket = s;
  s.on('snapshot', (state) => {
    useStore.getState().applySnapshot(state);
    setStatus('connected');
  });
  s.on('patch', (patch, ack) => {
    useStore.getState().applyPatch(patch);
    ack();
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

/** The arguments after `op`: its fields, which may be left out for ops that have none. */
type ArgsOf<Op extends UiOp> = Record<string, never> extends CommandArgsInput<Op> ? [args?: CommandArgsInput<Op>] : [args: CommandArgsInput<Op>];

/** Sends one command; resolves with the op's result or a typed error (never rejects). */
export async function sendCommand<Op extends UiOp>(op: Op, ...[args]: ArgsOf<Op>): Promise<CommandAck<Op>> {
  if (!socket) return { ok: false, error: { code: 'not-connected', message: 'not connected to a gateway' } };
  try {
    const reply = await socket.timeout(30_000).emitWithAck('command', { op, args: args ?? {} } as Parameters<ClientToServerEvents['command']>[0]);
    // The gateway answers each command with the ack of that command's op (command-router.ts).
    return reply as CommandAck<Op>;
  } catch {
    return { ok: false, error: { code: 'timeout', message: 'the gateway did not answer in time' } };
  }
}

/** Sends a command; a refusal is shown in the app's error banner. */
export async function runCommand<Op extends UiOp>(op: Op, ...args: ArgsOf<Op>): Promise<CommandAck<Op>> {
  const reply = await sendCommand(op, ...args);
  if (!reply.ok) useStore.getState().showError(`${reply.error.code}: ${reply.error.message}`);
  return reply;
}
