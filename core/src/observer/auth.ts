/**
 * Who may open a UI session, and what it may do (the Socket.IO middleware,
 * run before a connection is accepted):
 *
 * 1. The gateway token: every client presents the per-gateway `token`
 *    (random unless given) in its handshake; a wrong one is refused.
 * 2. The client limit: beyond `maxClients` sessions (accepted, or being
 *    checked here), refused. Sessions, not connections: bare Engine.IO
 *    connections that never ask for a session need no token, and counting
 *    them let 40 of those keep every UI out (an outsider's tour).
 * 3. The credential: an operator or viewer token the client presents, or,
 *    when it presents none, the gateway's own (`credential`: the desktop
 *    app's main process passes the saved operator token there, so it never
 *    reaches the renderer). The cluster decides which role it has: the
 *    gateway asks a member (`whoami`, chosen by memberToAsk) before it
 *    accepts the session, and refuses a credential the cluster does not
 *    know. No credential at all is a read-only session (`none`), accepted
 *    without asking.
 * 4. Who: the user name the client declares (`user`, free text, for the
 *    audit log beside the name of the token the member verifies), or the
 *    gateway's `user` (the desktop app's main process passes the OS user
 *    name), else `ui`. A client that locked its session presents `locked`
 *    when it reconnects, and the new session starts locked.
 *
 * Refusals are Socket.IO connect errors whose message starts with
 * `unauthorized:` (the client should not retry) or `unreachable:` (no
 * member could check the credential; retrying may help).
 */
import type { PogoNode } from '../node.js';
import { memberToAsk } from './member-to-ask.js';
import type { SessionData, UiServer } from './server.js';
import { parseHandshakeAuth } from './ui-protocol.js';

const WHOAMI_TIMEOUT_MS = 5_000;

/** The role a credential has, as a member says, or why it cannot have one. `by`: who is asking (a refusal is audited under that name). */
export async function credentialRole(node: PogoNode, credential: string, by: string): Promise<{ access: SessionData['access'] } | { refused: string }> {
  if (credential === '') return { access: 'none' };
  const via = memberToAsk(node);
  if (!via) return { refused: 'unreachable: no member is reachable to check the credential' };
  const reply = await node.command(via, 'whoami', {}, credential, by, WHOAMI_TIMEOUT_MS);
  // Only the member saying no is a refusal, said once; a timeout or a lost link says nothing about the credential.
  if (!reply.ok)
    return {
      refused:
        reply.error.code === 'unauthorized'
          ? `unauthorized: ${reply.error.message}`
          : `unreachable: the credential could not be checked (${reply.error.code}: ${reply.error.message})`,
    };
  return { access: reply.result.role };
}

export interface AuthOptions {
  token: string;
  maxClients: number;
  /** Credential for sessions that present none. */
  credential?: string;
  /** Who sessions that declare no user are (the desktop user's name). */
  user?: string;
}

/** Installs the middleware on `io`: accepted sockets carry their SessionData. */
export function installAuth(io: UiServer, node: PogoNode, o: AuthOptions): void {
  /** Sessions past the token check whose credential is being checked: they count towards the limit. */
  let admitting = 0;
  io.use((socket, next) => {
    const auth = parseHandshakeAuth(socket.handshake.auth);
    if (auth.token === '' || auth.token !== o.token) return next(new Error('unauthorized: wrong or missing gateway token'));
    if (io.of('/').sockets.size + admitting >= o.maxClients) return next(new Error(`too many clients (at most ${o.maxClients})`));
    const credential = auth.credential !== '' ? auth.credential : (o.credential ?? '');
    const user = auth.user || o.user || 'ui';
    admitting++;
    credentialRole(node, credential, user)
      .finally(() => admitting--)
      .then(
        (role) => {
          if ('refused' in role) return next(new Error(role.refused));
          socket.data = { access: role.access, credential, user, locked: auth.locked && role.access === 'operator' };
          next();
        },
        (err: unknown) => next(new Error(`unreachable: the credential could not be checked (${err instanceof Error ? err.message : String(err)})`)),
      );
  });
}
