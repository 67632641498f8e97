/**
 * The observer gateway: serves the cluster state to UIs (the desktop app's
 * renderer, or a browser) over HTTP + Socket.IO, on loopback by default.
 *
 * - Auth: every Socket.IO client must present the per-session `token`
 *   (random unless given) in its handshake; a wrong token is refused. A
 *   client that also presents an operator `credential` may send commands,
 *   which the gateway forwards to a member (the member checks it); without
 *   one the client is read-only, and the snapshot says so.
 * - Protocol: `snapshot` (the full ClusterState) on connect, then `patch`
 *   messages (state.ts) at most every `intervalMs`, each acknowledged by the
 *   client. A client that has not acknowledged its last patch gets nothing
 *   until it does; the next patch then covers everything since (coalesced),
 *   so a slow client costs one retained state, not a queue.
 * - Work: the state is rebuilt only when something changed (supervisor,
 *   membership or group events), never per child while idle.
 * - Commands: `command` {op, args} with an ack carrying { ok, result } or
 *   { ok: false, error: { code, message } }; `explain` is answered locally.
 * - Static files: with `staticDir`, serves the built renderer (no directory
 *   listing, no path outside the directory).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { Server as IoServer } from 'socket.io';
import type { TimerHandle } from '../clock.js';
import type { MemberViewReply } from '../commands.js';
import type { GlobalChild } from '../distributed/distributed-supervisor.js';
import type { JsonValue } from '../groups.js';
import type { PogoNode } from '../node.js';
import { COMMAND_OPS, type CommandOp } from '../protocol.js';
import { isCommandStart } from '../supervisor/child-spec.js';
import { formatAddress } from '../transport/socketio.js';
import { MAX_EVENTS, diffState, type ChildView, type ClusterState, type EventView } from './state.js';

export interface GatewayOptions {
  host?: string;
  port?: number;
  /** Per-session token; random when not given. */
  token?: string;
  /** Directory with the built renderer to serve, if any. */
  staticDir?: string;
  /** Longest wait between patches, ms (default 100: at most 10 per second). */
  intervalMs?: number;
  /** Most clients at once (default 32). */
  maxClients?: number;
}

export interface Gateway {
  readonly url: string;
  readonly token: string;
  /** Number of connected clients. */
  clients(): number;
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

function childView(c: GlobalChild): ChildView {
  return {
    id: c.id,
    status: c.status,
    node: c.node ?? null,
    pid: c.pid ?? null,
    owner: c.owner ?? null,
    pin: c.pin ?? null,
    instances: c.instances,
    worker: isCommandStart(c.spec.start) ? null : c.spec.start.worker,
    command: isCommandStart(c.spec.start) ? c.spec.start.command : null,
    restart: c.spec.restart,
    handoff: c.spec.handoff,
    lastError: c.lastError ?? null,
    failures: c.failures,
  };
}

/**
 * The state a UI sees. `remote` is the view of a member the observer can
 * reach, used when some members are beyond the observer's own links
 * (firewalls): then the children and those members' status are shown as
 * that member sees them, and `reachable: false` marks the members the
 * observer cannot reach itself.
 */
export function buildState(node: PogoNode, events: EventView[], readOnly: boolean, remote?: MemberViewReply): ClusterState {
  const draining = new Set(node.supervisor.draining());
  const members: ClusterState['members'] = {};
  const remoteStatus = new Map((remote?.members ?? []).map((m) => [m.name, m.status]));
  for (const m of node.members()) {
    if (m.status === 'left') continue;
    const reachable = m.name === node.name || m.status === 'up' || m.status === 'suspect';
    members[m.name] = {
      name: m.name,
      status: !reachable && remoteStatus.has(m.name) ? remoteStatus.get(m.name)! : m.status,
      role: m.role,
      address: m.address,
      incarnation: m.incarnation,
      labels: m.labels,
      workers: m.workers,
      ready: m.name === node.name ? node.supervisor.isReady : m.ready === true,
      draining: draining.has(m.name),
      reachable,
    };
  }
  const children: ClusterState['children'] = {};
  for (const c of remote?.children ?? node.supervisor.whichChildren('global')) children[c.id] = childView(c);
  const groups: ClusterState['groups'] = {};
  const snapshot = node.groups.snapshot();
  for (const [scope, gs] of Object.entries(snapshot)) {
    if (scope === 'pogo') continue; // the supervisor's own state is shown as children
    groups[scope] = {};
    for (const [group, list] of Object.entries(gs)) groups[scope][group] = list.length;
  }
  return { observer: node.name, cluster: node.cluster, paused: node.supervisor.rebalancingPaused, readOnly, members, children, groups, events };
}

export async function startGateway(node: PogoNode, options: GatewayOptions = {}): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(18).toString('base64url');
  const intervalMs = options.intervalMs ?? 100;
  const maxClients = options.maxClients ?? 32;
  const staticRoot = options.staticDir ? resolve(options.staticDir) : undefined;

  // ---- events and change tracking
  let seq = 0;
  let events: EventView[] = [];
  let dirty = true;
  const onDistEvent = (e: { type: string }): void => {
    events = [...events, { ...(e as Record<string, unknown>), seq: ++seq, at: (e as { at?: number }).at ?? node.clock.now(), type: e.type } as EventView].slice(-MAX_EVENTS);
    dirty = true;
  };
  const markDirty = (): void => {
    dirty = true;
  };
  node.supervisor.on('event', onDistEvent);
  const memberKinds = ['member-up', 'member-down', 'member-left', 'member-suspect', 'member-updated'] as const;
  for (const kind of memberKinds) node.on(kind, markDirty);
  const scopeMonitor = node.groups.monitor('pogo', undefined, markDirty);

  const states = { readOnly: undefined as ClusterState | undefined, operator: undefined as ClusterState | undefined };
  const current = (readOnly: boolean): ClusterState => {
    if (dirty) {
      states.readOnly = undefined;
      states.operator = undefined;
      dirty = false;
    }
    const key = readOnly ? 'readOnly' : 'operator';
    return (states[key] ??= buildState(node, events, readOnly, remote));
  };

  // ---- members beyond our own links: borrow the view of a member we reach
  let remote: MemberViewReply | undefined;
  let asking = false;
  const borrowView = async (): Promise<void> => {
    const members = node.members().filter((m) => m.role === 'member' && m.status !== 'left');
    const unreachable = members.filter((m) => m.status !== 'up' && m.status !== 'suspect');
    if (unreachable.length === 0) {
      if (remote) {
        remote = undefined;
        dirty = true;
      }
      return;
    }
    const via = members.find((m) => (m.status === 'up' || m.status === 'suspect') && m.ready);
    if (!via || asking) return;
    asking = true;
    try {
      const reply = await node.command(via.name, 'view', [], '', 'gateway', 2_000);
      if (reply.ok) {
        remote = reply.result as unknown as MemberViewReply;
        dirty = true;
      }
    } finally {
      asking = false;
    }
  };
  // Timers go through the node's clock, like every timer in core.
  let closed = false;
  let viewTimer: TimerHandle | undefined;
  const viewLoop = (): void => {
    viewTimer = node.clock.setTimeout(() => {
      void borrowView();
      if (!closed) viewLoop();
    }, 1_000);
  };
  viewLoop();

  // ---- HTTP
  const http: HttpServer = createServer((req, res) => {
    if (req.url?.startsWith('/gateway')) return; // Socket.IO answers
    if (req.method !== 'GET' || !staticRoot) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('pogo gateway: no UI here (start with --ui after building the renderer)\n');
      return;
    }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.split('#')[0]!);
    const file = normalize(join(staticRoot, path === '/' ? 'index.html' : path));
    if (file !== staticRoot && !file.startsWith(staticRoot + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(body),
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
    );
  });
  const io = new IoServer(http, { path: '/gateway', serveClient: false, maxHttpBufferSize: 1024 * 1024, cors: { origin: false } });
  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown };
    if (auth?.token !== token) return next(new Error('unauthorized: wrong or missing gateway token'));
    if (io.engine.clientsCount > maxClients) return next(new Error(`too many clients (at most ${maxClients})`));
    next();
  });

  interface Client {
    readOnly: boolean;
    credential: string;
    sent: ClusterState;
    awaiting: boolean;
  }
  const clients = new Map<string, Client>();

  io.on('connection', (socket) => {
    const auth = socket.handshake.auth as { credential?: unknown; user?: unknown };
    const credential = typeof auth.credential === 'string' ? auth.credential : '';
    const user = typeof auth.user === 'string' ? auth.user.slice(0, 64) : 'ui';
    const client: Client = { readOnly: credential === '', credential, sent: current(credential === ''), awaiting: false };
    clients.set(socket.id, client);
    socket.emit('snapshot', client.sent);
    socket.on('disconnect', () => clients.delete(socket.id));
    socket.on('command', async (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      const reply = (value: unknown): void => (ack as (v: unknown) => void)(value);
      const req = raw as { op?: unknown; args?: unknown } | null;
      const op = req?.op;
      const args = Array.isArray(req?.args) ? (req.args as JsonValue[]) : [];
      if (op === 'explain') {
        try {
          reply({ ok: true, result: node.supervisor.explain(String(args[0])) });
        } catch (err) {
          reply({ ok: false, error: { code: (err as { code?: string }).code ?? 'failed', message: (err as Error).message } });
        }
        return;
      }
      if (typeof op !== 'string' || !(COMMAND_OPS as readonly string[]).includes(op) || args.length > 8) {
        reply({ ok: false, error: { code: 'bad-request', message: `unknown command ${JSON.stringify(op)}` } });
        return;
      }
      if (client.readOnly) {
        reply({ ok: false, error: { code: 'read-only', message: 'this session is read-only: connect with an operator credential to change the cluster' } });
        return;
      }
      const target = node.members().find((m) => m.role === 'member' && m.status === 'up' && m.ready) ?? node.members().find((m) => m.role === 'member' && m.status === 'up');
      if (!target) {
        reply({ ok: false, error: { code: 'unreachable', message: 'no member is reachable' } });
        return;
      }
      const result = await node.command(target.name, op as CommandOp, args, client.credential, user);
      reply(result.ok ? { ok: true, result: result.result ?? null } : { ok: false, error: result.error });
    });
  });

  const sendPatches = (): void => {
    if (clients.size === 0) return;
    for (const [id, client] of clients) {
      if (client.awaiting) continue; // coalesce: the next patch covers everything since the last ack
      const next = current(client.readOnly);
      if (next === client.sent) continue;
      const patch = diffState(client.sent, next);
      if (!patch) {
        client.sent = next;
        continue;
      }
      const socket = io.sockets.sockets.get(id);
      if (!socket) continue;
      client.awaiting = true;
      socket.timeout(30_000).emit('patch', patch, (err: Error | null) => {
        client.awaiting = false;
        if (!err) client.sent = next;
      });
    }
  };
  let patchTimer: TimerHandle | undefined;
  const patchLoop = (): void => {
    patchTimer = node.clock.setTimeout(() => {
      sendPatches();
      if (!closed) patchLoop();
    }, intervalMs);
  };
  patchLoop();

  await new Promise<void>((resolveListen, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolveListen();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const url = `http://${formatAddress(host, port)}`;
  return {
    url,
    token,
    clients: () => clients.size,
    close: async () => {
      closed = true;
      node.clock.clearTimeout(patchTimer);
      node.clock.clearTimeout(viewTimer);
      node.supervisor.off('event', onDistEvent);
      for (const kind of memberKinds) node.off(kind, markDirty);
      scopeMonitor.unsubscribe();
      http.closeAllConnections();
      await new Promise<void>((r) => io.close(() => r()));
    },
  };
}
