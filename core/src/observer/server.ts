/**
 * The gateway's server: one HTTP server on `host:port` (loopback by
 * default) that carries the Socket.IO endpoint at `/gateway` and, with
 * `staticDir`, serves the built renderer.
 *
 * Static files: GET only; `/` is index.html; a path that normalises to
 * anything outside the directory is refused (403); no directory listing;
 * every file with `no-cache` (a rebuilt UI is picked up on reload) and
 * `nosniff`. Without `staticDir` every request but Socket.IO's gets a 404
 * that says how to get a UI.
 *
 * Socket.IO: typed by the UI protocol's event maps (ui-protocol.ts);
 * `SessionData` is what the auth middleware (auth.ts) stores on each socket.
 * Messages are bounded (GATEWAY_MAX_FRAME_BYTES, 4 MiB: above the 1 MiB a
 * command's arguments may have, so an oversized one still arrives and is
 * refused by a member with a `too-large` error it audits, instead of the
 * connection being dropped) and cross-origin requests refused.
 *
 * Whoever reaches the port (a gateway served beyond loopback, `--host`)
 * decides how many connections are open before authentication: at most
 * GATEWAY_MAX_PENDING of them that are not Socket.IO connections yet, one
 * more closing the oldest, each closed after GATEWAY_PENDING_IDLE_MS
 * without becoming one (util/pending-connections.ts, as on the cluster
 * port); HTTP headers and requests within GATEWAY_PENDING_IDLE_MS. A
 * desktop app already connected is never the oldest pending connection, so
 * a flood cannot close it; sessions themselves are capped by `maxClients`
 * (auth.ts). What it closes is counted and logged, at most one line every
 * 10 s.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Server as IoServer } from 'socket.io';
import type { Logger } from '../logger.js';
import { formatAddress } from '../util/address.js';
import { PendingConnections } from '../util/pending-connections.js';
import type { Access } from './state.js';
import { GATEWAY_MAX_FRAME_BYTES } from './command-size.js';
import type { ClientToServerEvents, ServerToClientEvents } from './ui-protocol.js';

/** What a session may do and who it is, set by the auth middleware before the connection is accepted. */
export interface SessionData {
  /** The role the cluster gives the session's credential. */
  access: Exclude<Access, 'locked'>;
  /** The operator or viewer token commands are sent with ('' for none). */
  credential: string;
  /** Who the user said they are, for the audit log. */
  user: string;
  /** An operator session that dropped its rights (`lock`) until it unlocks. */
  locked: boolean;
}

/** What a session may do now: its credential's role, unless it is an operator session that is locked. */
export function sessionAccess(session: SessionData): Access {
  return session.locked && session.access === 'operator' ? 'locked' : session.access;
}

export type UiServer = IoServer<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SessionData>;

export interface RunningServer {
  readonly io: UiServer;
  readonly url: string;
  /** Connections closed before they became sessions, by reason (tests). */
  readonly refusals: Readonly<Record<'too-many-connections' | 'idle', number>>;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function serveStatic(root: string | undefined, req: IncomingMessage, res: ServerResponse): void {
  if (req.url?.startsWith('/gateway')) return; // Socket.IO answers
  if (req.method !== 'GET' || !root) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('pogo gateway: no UI here (start with --ui after building the renderer)\n');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent((req.url ?? '/').split('?')[0]!.split('#')[0]!);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const file = normalize(join(root, path === '/' ? 'index.html' : path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  readFile(file).then(
    (body) =>
      res
        .writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-cache',
          'x-content-type-options': 'nosniff',
        })
        .end(body),
    () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
  );
}

/** Connections open at once before they become Socket.IO connections; one more closes the oldest. */
export const GATEWAY_MAX_PENDING = 64;
/** How long one may stay so (and HTTP headers and requests may take), ms. */
export const GATEWAY_PENDING_IDLE_MS = 10_000;
const REFUSAL_LOG_EVERY_MS = 10_000;

/** Listens on `host:port` (0: any free port); rejects when it cannot. */
export async function startServer(o: { host: string; port: number; staticDir?: string; log?: Logger }): Promise<RunningServer> {
  const root = o.staticDir ? resolve(o.staticDir) : undefined;
  const limits = { headersTimeout: GATEWAY_PENDING_IDLE_MS, requestTimeout: GATEWAY_PENDING_IDLE_MS, connectionsCheckingInterval: 1_000 };
  const http = createServer(limits, (req, res) => serveStatic(root, req, res));
  const refusals = { 'too-many-connections': 0, idle: 0 };
  let loggedAt = Number.NEGATIVE_INFINITY;
  const pending = new PendingConnections({
    max: GATEWAY_MAX_PENDING,
    idleMs: GATEWAY_PENDING_IDLE_MS,
    refused: (kind, remote) => {
      refusals[kind]++;
      const now = performance.now();
      if (now - loggedAt < REFUSAL_LOG_EVERY_MS) return;
      loggedAt = now;
      o.log?.warn(
        { remote, ...refusals },
        `gateway: closed unauthenticated connections (limit ${GATEWAY_MAX_PENDING} open at once, ${GATEWAY_PENDING_IDLE_MS} ms each); counts since start`,
      );
    },
  });
  pending.watch(http);
  const io: UiServer = new IoServer(http, {
    path: '/gateway',
    serveClient: false,
    maxHttpBufferSize: GATEWAY_MAX_FRAME_BYTES,
    cors: { origin: false },
    connectTimeout: GATEWAY_PENDING_IDLE_MS,
  });
  // A session, past the auth middleware: no longer pending.
  io.on('connection', (socket) => pending.upgraded(socket.request.socket));
  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      http.off('error', reject);
      resolveListen();
    });
  });
  const port = (http.address() as AddressInfo).port;
  return {
    io,
    url: `http://${formatAddress(o.host, port)}`,
    refusals,
    close: async () => {
      pending.closeAll();
      http.closeAllConnections();
      // io.close() settles before the HTTP server has closed; its callback waits for that.
      await new Promise<void>((resolve, reject) => {
        io.close(() => resolve()).catch(reject);
      });
    },
  };
}
