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
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Server as IoServer } from 'socket.io';
import { formatAddress } from '../util/address.js';
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

/** Listens on `host:port` (0: any free port); rejects when it cannot. */
export async function startServer(o: { host: string; port: number; staticDir?: string }): Promise<RunningServer> {
  const root = o.staticDir ? resolve(o.staticDir) : undefined;
  const http = createServer((req, res) => serveStatic(root, req, res));
  const io: UiServer = new IoServer(http, { path: '/gateway', serveClient: false, maxHttpBufferSize: GATEWAY_MAX_FRAME_BYTES, cors: { origin: false } });
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
    close: async () => {
      http.closeAllConnections();
      // io.close() settles before the HTTP server has closed; its callback waits for that.
      await new Promise<void>((resolve, reject) => {
        io.close(() => resolve()).catch(reject);
      });
    },
  };
}
