/**
 * The renderer's one subscription to the observer gateway (DESIGN §3.6):
 * the same code path in the desktop app and in a browser. It feeds the
 * store (snapshot, acknowledged patches, connection status) and sends
 * commands with acks.
 *
 * Sessions. There is one live session, `socket`: it feeds the store.
 * Connecting while there is none, or while it has not had a snapshot yet
 * (nothing on screen to keep), makes the new socket the live session at
 * once; the gateway refusing it (a wrong gateway token or credential) ends
 * it, with the reason.
 * Connecting while a session is live — typing a credential to unlock more
 * access — opens a second socket (`trial`) beside it; only the gateway's
 * snapshot on the trial (it accepted the credential) makes it the live
 * session and closes the old one. A refused or failed trial is closed and
 * its reason kept in `unlock.error`: the live session, and the board it
 * feeds, go on as they were. Each socket has its own connection
 * (`forceNew`), so closing one never touches the other.
 *
 * Races handled: a newer connect abandons an unfinished trial (its late
 * snapshot or error is ignored, checked by socket identity); events of a
 * socket that is no longer the live one (closed, with frames in flight) are
 * ignored the same way.
 *
 * Retries. Socket.IO retries a link that failed or dropped (up to
 * `reconnectionAttempts`, then `reconnect_failed`: lost, with Reconnect).
 * It does not retry a handshake the gateway's middleware turned down: an
 * `unauthorized:` refusal ends the session, but one turned down for now
 * (`unreachable:`, no member could check the credential, as after the
 * gateway was frozen and lost its links; too many clients) is asked again
 * here with a back-off, up to a bound, then lost with the reason.
 *
 * Who and how locked: a session declares the user's name (`user`, for the
 * audit log; `renameSession` opens a trial with the same credential and
 * the new name). A session the user locked (`lockSession`: the gateway
 * drops its operator rights on the same connection) says so again in the
 * handshake of every reconnect (Socket.IO asks `auth` anew each time), so a
 * dropped link never unlocks it; `unlockSession` asks the gateway, which
 * checks the credential again. A refused unlock leaves the session locked
 * and working, its reason in `unlock.error`, as a refused credential does.
 *
 * Size: a command the gateway could not receive (a frame above
 * GATEWAY_MAX_FRAME_BYTES) is refused here with `too-large` and not sent;
 * anything smaller is sent, and a member refuses (and audits) arguments
 * over the 1 MiB limit.
 *
 * The members of every snapshot and patch are checked with the UI
 * protocol's schema (checked-state.ts); one that fails is left out and
 * logged.
 *
 * Both directions are typed by the UI protocol (pogo-core/ui-protocol):
 * `sendCommand('move', { id, node })` takes the op's named fields and
 * resolves with that op's result or a typed error. The gateway validates
 * every command again; its refusal names the field.
 *
 * Live output: `watchOutput(id, onEvent)` follows a child's output until
 * the returned function is called. The watches live here, not on a socket:
 * each snapshot (the first of a connection, a reconnect, or a trial that
 * became the session) sends them again to the socket that got it, since a
 * gateway forgets a connection's watches when it goes; the gateway then
 * starts each afresh (a `watch` chunk the panel takes as its new start).
 */
import { io, type Socket } from 'socket.io-client';
import { oversizedRequest } from 'pogo-core/command-size';
import type {
  ClientToServerEvents,
  CommandAck,
  CommandArgsInput,
  HandshakeAuth,
  OutputEvent,
  ServerToClientEvents,
  UiOp,
  WatchAck,
} from 'pogo-core/ui-protocol';
import { useStore } from '../store/index';
import { checkedPatch, checkedSnapshot } from './checked-state';

/** Members of a snapshot or patch the UI protocol's schema refused: left out, said in the console. */
function logRefused(reasons: string[]): void {
  console.error(`gateway state: ${reasons.length} member(s) left out: ${reasons.join('; ')}`);
}

/** How a connect ended: the gateway accepted the session, refused it, or a newer connect (or disconnect) took its place. */
export type ConnectOutcome = 'accepted' | 'refused' | 'abandoned';

type ConnectOptions = { url: string; token: string; credential?: string; user?: string; locked?: boolean };

type UiSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let socket: UiSocket | null = null;
/** The options of the session the gateway last accepted (to reconnect with the same access). */
let accepted: ConnectOptions | null = null;
let trial: { socket: UiSocket; settle: (o: ConnectOutcome) => void } | null = null;
/** The output watches the panels hold: a key each, the child id and where its events go. */
const watches = new Map<number, { id: string; onEvent: (event: OutputEvent) => void }>();
let nextWatch = 1;

function deliver(event: OutputEvent): void {
  for (const w of [...watches.values()]) if (w.id === event.id) w.onEvent(event);
}

/** Asks `s` to follow `id`; a refusal reaches the panels of that id as a `refused` status. */
function sendWatch(s: UiSocket, id: string): void {
  s.timeout(30_000).emit('watchOutput', { id }, (err: Error | null, reply?: WatchAck) => {
    if (s !== socket) return;
    if (err) deliver({ id, kind: 'status', state: 'refused', message: 'the gateway did not answer the request for live output' });
    else if (reply && !reply.ok) deliver({ id, kind: 'status', state: 'refused', message: `${reply.error.code}: ${reply.error.message}` });
  });
}

/** True when a connect error is the gateway refusing the session: retrying will not help. */
export function isRefusal(message: string): boolean {
  return message.startsWith('unauthorized');
}

/** The gateway's reason without its code: "unauthorized: the credential is not valid" → "the credential is not valid". */
export function reasonOf(message: string): string {
  return message.replace(/^(unauthorized|unreachable): /, '');
}

/** How often a session the gateway turned down for now (not refused) is asked again before it is lost, and how long between. */
const TURNED_DOWN_ATTEMPTS = 20;
const TURNED_DOWN_DELAY_MS = { min: 1_000, max: 5_000 };

/** The wait before asking again after the `attempt`-th turn-down (from 0): doubling from 1 s, at most 5 s, ±50 % so windows do not ask in step. */
function turnedDownDelay(attempt: number): number {
  const base = Math.min(TURNED_DOWN_DELAY_MS.max, TURNED_DOWN_DELAY_MS.min * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random()));
}

function abandonTrial(): void {
  const t = trial;
  trial = null;
  t?.socket.close();
  t?.settle('abandoned');
}

export function connectGateway(options: ConnectOptions): Promise<ConnectOutcome> {
  abandonTrial();
  const store = useStore.getState;
  // A function: Socket.IO calls it on every (re)connect, so a session locked meanwhile reconnects locked.
  const auth = (cb: (auth: Partial<HandshakeAuth>) => void): void => {
    const locked = s === socket && store().cluster?.access === 'locked' ? true : (options.locked ?? false);
    cb({
      token: options.token,
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.user ? { user: options.user } : {}),
      ...(locked ? { locked } : {}),
    });
  };
  const s: UiSocket = io(options.url, { path: '/gateway', auth, transports: ['websocket'], reconnectionAttempts: 20, forceNew: true });
  return new Promise<ConnectOutcome>((resolve) => {
    let settled = false;
    const settle = (o: ConnectOutcome): void => {
      if (!settled) resolve(o);
      settled = true;
    };
    const end = (reason: string, outcome: ConnectOutcome): void => {
      socket = null;
      s.close();
      store().setStatus('lost', reason);
      settle(outcome);
    };
    if (socket === null || store().cluster === null) {
      // Nothing on screen to keep: this is the session.
      const old = socket;
      socket = s;
      old?.close();
      store().setStatus('connecting');
    } else {
      trial = { socket: s, settle };
      store().setUnlock({ pending: true, error: null });
    }

    /** Handshakes the gateway turned down for now in a row (see 'connect_error'). */
    let turnedDown = 0;
    s.on('snapshot', (state) => {
      if (trial?.socket === s) {
        // Accepted: the trial becomes the session.
        trial = null;
        const old = socket;
        socket = s;
        old?.close();
        store().setUnlock({ pending: false, error: null });
      }
      if (s !== socket) return;
      store().applySnapshot(checkedSnapshot(state, logRefused));
      store().setStatus('connected');
      store().setUser(options.user ?? '');
      accepted = options;
      turnedDown = 0;
      // A new connection: the gateway has no watches of it yet.
      for (const id of new Set([...watches.values()].map((w) => w.id))) sendWatch(s, id);
      settle('accepted');
    });
    s.on('output', (event) => {
      if (s === socket) deliver(event);
    });
    s.on('patch', (patch, ack) => {
      if (s !== socket) return;
      store().applyPatch(checkedPatch(patch, logRefused));
      ack?.();
    });
    s.on('disconnect', (reason: string) => {
      if (s !== socket) return;
      // The gateway ended the session itself: Socket.IO does not reconnect after that.
      if (reason === 'io server disconnect') end('the gateway ended this session', 'abandoned');
      else store().setStatus('reconnecting');
    });
    s.on('connect_error', (err: Error) => {
      if (trial?.socket === s) {
        trial = null;
        s.close();
        store().setUnlock({ pending: false, error: reasonOf(err.message) });
        settle('refused');
      } else if (s === socket) {
        // A refused session will not get better by retrying; anything else might.
        if (isRefusal(err.message)) end(reasonOf(err.message), 'refused');
        else if (s.active) store().setStatus('reconnecting');
        else if (turnedDown >= TURNED_DOWN_ATTEMPTS) end(`the gateway could not accept the session: ${reasonOf(err.message)}`, 'refused');
        else {
          // The gateway answered but turned this handshake down for now (`unreachable:`, too many clients).
          // Socket.IO retries only a link that failed: after a refusal by the gateway's middleware the socket is
          // no longer active and would never try again, so the session would say "reconnecting…" for good
          // (a gateway frozen for a minute comes back with its member links down, and its first answers are
          // "no member is reachable to check the credential"). Ask again, with the same auth, after a back-off.
          store().setStatus('reconnecting');
          const delay = turnedDownDelay(turnedDown++);
          setTimeout(() => {
            if (s === socket && !s.active) s.connect();
          }, delay);
        }
      }
    });
    s.io.on('reconnect_failed', () => {
      if (s === socket) end('the gateway stopped answering', 'abandoned');
    });
  });
}

/** Opens a new session with the options of the last accepted one (after the link was lost for good); false when there was none. */
export function reconnectGateway(): boolean {
  if (!accepted) return false;
  void connectGateway({ ...accepted, locked: useStore.getState().cluster?.access === 'locked' });
  return true;
}

/** The same session under another user name: a trial with the same credential, which replaces the session once accepted. */
export function renameSession(user: string): Promise<ConnectOutcome> {
  if (!accepted) return Promise.resolve('abandoned');
  return connectGateway({ ...accepted, user, locked: useStore.getState().cluster?.access === 'locked' });
}

/** Drops this session's operator rights (the gateway refuses its changes) until it unlocks; no reconnect. */
export async function lockSession(): Promise<CommandAck<'lock'>> {
  const reply = await sendCommand('lock');
  if (!reply.ok) useStore.getState().showError(`Not locked: ${reply.error.code}: ${reply.error.message}`);
  return reply;
}

/** Takes the operator rights back (the gateway checks the credential again); refused, the session stays locked and working. */
export async function unlockSession(): Promise<CommandAck<'unlock'>> {
  useStore.getState().setUnlock({ pending: true, error: null });
  const reply = await sendCommand('unlock');
  useStore.getState().setUnlock({ pending: false, error: reply.ok ? null : reply.error.message });
  return reply;
}

export function disconnectGateway(): void {
  abandonTrial();
  const old = socket;
  socket = null;
  old?.close();
  useStore.getState().setStatus('disconnected');
}

/** The arguments after `op`: its fields, which may be left out for ops that have none. */
type ArgsOf<Op extends UiOp> = Record<string, never> extends CommandArgsInput<Op> ? [args?: CommandArgsInput<Op>] : [args: CommandArgsInput<Op>];

/**
 * Follows the output of child `id`: `onEvent` gets its lines and statuses
 * (ui-protocol.ts OutputEvent) until the returned function is called. Kept
 * across reconnects and session changes (see the header).
 */
export function watchOutput(id: string, onEvent: (event: OutputEvent) => void): () => void {
  const key = nextWatch++;
  watches.set(key, { id, onEvent });
  if (socket?.connected && useStore.getState().cluster !== null) {
    // Also for a second panel on the same child: the gateway starts afresh, so it gets the lines held so far.
    sendWatch(socket, id);
  } else if (!socket) {
    onEvent({ id, kind: 'status', state: 'refused', message: 'not connected to a gateway' });
  }
  return () => {
    if (!watches.delete(key)) return;
    if (![...watches.values()].some((w) => w.id === id) && socket?.connected) socket.emit('unwatchOutput', { id });
  };
}

/** Sends one command; resolves with the op's result or a typed error (never rejects). */
export async function sendCommand<Op extends UiOp>(op: Op, ...[args]: ArgsOf<Op>): Promise<CommandAck<Op>> {
  if (!socket) return { ok: false, error: { code: 'not-connected', message: 'not connected to a gateway' } };
  const request = { op, args: args ?? {} };
  const oversized = oversizedRequest(request);
  if (oversized) return { ok: false, error: oversized };
  try {
    const reply = await socket.timeout(30_000).emitWithAck('command', request as Parameters<ClientToServerEvents['command']>[0]);
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
