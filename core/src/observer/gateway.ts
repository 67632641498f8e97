/**
 * The observer gateway: serves the cluster state to UIs (the desktop app's
 * renderer, or a browser) over HTTP + Socket.IO, on loopback by default.
 *
 * - Auth: every Socket.IO client must present the per-session `token`
 *   (random unless given) in its handshake; a wrong token is refused. A
 *   client may also present a `credential` (operator or viewer token); the
 *   gateway asks a member which role it has (`whoami`) before accepting the
 *   session, and refuses one the cluster does not know. Operator sessions
 *   may send commands, which the gateway forwards to a member (which checks
 *   the credential again); viewer and credential-less sessions are
 *   read-only, and the snapshot says so (`access`). The desktop app's main
 *   process passes the saved operator token as `credential` in the options,
 *   so it never reaches the renderer.
 * - Protocol: `snapshot` (the full ClusterState) on connect, then `patch`
 *   messages (state.ts) at most every `intervalMs`, each acknowledged by the
 *   client. A client that has not acknowledged its last patch gets nothing
 *   until it does; the next patch then covers everything since (coalesced),
 *   so a slow client costs one retained state, not a queue.
 * - Work: the state is rebuilt only when something changed (supervisor,
 *   membership or group events), never per child while idle.
 * - Commands: `command` {op, args} with an ack carrying { ok, result } or
 *   { ok: false, error: { code, message } }; `explain` is answered locally,
 *   `audit` merges every member's log, `logs` asks the child's node.
 * - Convergence: after a topology change (a node up or down), the gateway
 *   emits a `converged` event once every child runs exactly once again,
 *   with the time it took (measured between cluster events, not ticks).
 *   The listing reads live state afresh, so it can show an instance before
 *   the reconciler has emitted its `started` (and `moved`) event: the
 *   gateway waits until each running instance's start was reported, so the
 *   converged event follows the events that led to it and its time covers
 *   them.
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
import { MAX_EVENTS, diffState, type Access, type ChildView, type ClusterState, type EventView } from './state.js';

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
  /** Credential for sessions that present none (the desktop app's saved operator token). */
  credential?: string;
}

export interface Gateway {
  readonly url: string;
  readonly token: string;
  /** Number of connected clients. */
  clients(): number;
  close(): Promise<void>;
}

interface CommandAck {
  ok: boolean;
  result?: JsonValue;
  error?: { code: string; message: string };
  /** Members that did not answer (audit). */
  partial?: string[];
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
    restarts: c.restarts,
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
export function buildState(node: PogoNode, events: EventView[], access: Access, remote?: MemberViewReply): ClusterState {
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
    for (const [group, list] of Object.entries(gs)) {
      const perNode: Record<string, number> = {};
      for (const m of list) perNode[m.node] = (perNode[m.node] ?? 0) + 1;
      groups[scope][group] = perNode;
    }
  }
  return { observer: node.name, cluster: node.cluster, paused: node.supervisor.rebalancingPaused, readOnly: access !== 'operator', access, members, children, groups, events };
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
  const pushEvent = (e: Record<string, unknown> & { type: string; at: number }): void => {
    events = [...events, { ...e, seq: ++seq } as EventView].slice(-MAX_EVENTS);
    dirty = true;
  };
  // Convergence: from a topology change until every child runs exactly once.
  let converging: { since: number; cause: string; node: string } | undefined;
  let lastChangeAt = 0;
  // The instances whose start the events reported (or that ran when the gateway started), per child id.
  const reported = new Map<string, Set<string>>();
  for (const c of node.supervisor.whichChildren('global')) reported.set(c.id, new Set(c.instances.map((i) => i.pid)));
  const onDistEvent = (e: { type: string; at?: number; node?: unknown; id?: unknown; pid?: unknown }): void => {
    const at = e.at ?? node.clock.now();
    lastChangeAt = at;
    if (typeof e.id === 'string' && typeof e.pid === 'string') {
      if (e.type === 'started') (reported.get(e.id) ?? reported.set(e.id, new Set()).get(e.id)!).add(e.pid);
      else if (e.type === 'stopped') {
        const pids = reported.get(e.id);
        if (pids?.delete(e.pid) && pids.size === 0) reported.delete(e.id);
      }
    }
    pushEvent({ ...(e as Record<string, unknown>), type: e.type, at });
    // Observers (a UI, `pogo ctl`) coming and going move nothing: only members start a convergence.
    if ((e.type === 'node-up' || e.type === 'node-down') && typeof e.node === 'string' && (e as { role?: unknown }).role === 'member') converging ??= { since: at, cause: e.type, node: e.node };
  };
  const checkConverged = (): void => {
    if (!converging) return;
    const children = node.supervisor.whichChildren('global');
    if (!children.every((c) => c.status === 'running' && c.instances.length === 1)) return;
    // Not before the events say so: else the time would stop short of the starts, and they would follow it.
    if (!children.every((c) => reported.get(c.id)?.has(c.instances[0]!.pid) === true)) return;
    const ids = new Set(children.map((c) => c.id));
    for (const id of reported.keys()) if (!ids.has(id)) reported.delete(id);
    pushEvent({ type: 'converged', at: node.clock.now(), after: Math.max(0, lastChangeAt - converging.since), cause: converging.cause, node: converging.node, children: children.length });
    converging = undefined;
  };
  const markDirty = (): void => {
    dirty = true;
  };
  node.supervisor.on('event', onDistEvent);
  const memberKinds = ['member-up', 'member-down', 'member-left', 'member-suspect', 'member-updated'] as const;
  for (const kind of memberKinds) node.on(kind, markDirty);
  // Any change of the supervisor's desired state (its store) or live state (its pg groups).
  node.supervisor.on('change', markDirty);

  const states: Partial<Record<Access, ClusterState>> = {};
  const current = (access: Access): ClusterState => {
    if (dirty) {
      for (const key of Object.keys(states) as Access[]) delete states[key];
      dirty = false;
    }
    return (states[access] ??= buildState(node, events, access, remote));
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
  const upMembers = (): ReturnType<PogoNode['members']> => node.members().filter((m) => m.role === 'member' && m.status === 'up');
  const target = (): string | undefined => (upMembers().find((m) => m.ready) ?? upMembers()[0])?.name;
  const fail = (code: string, message: string): CommandAck => ({ ok: false, error: { code, message } });

  /** The role a credential has, as a member says; undefined when the cluster refuses it. */
  const roleOf = async (credential: string): Promise<{ access: Access } | { refused: string }> => {
    if (credential === '') return { access: 'none' };
    const via = target();
    if (!via) return { refused: 'unreachable: no member is reachable to check the credential' };
    const reply = await node.command(via, 'whoami', [], credential, 'gateway', 5_000);
    // Only the member saying no is a refusal; a timeout or a lost link says nothing about the credential.
    if (!reply.ok) return { refused: reply.error?.code === 'unauthorized' ? `unauthorized: ${reply.error.message}` : `unreachable: the credential could not be checked (${reply.error?.code}: ${reply.error?.message})` };
    return { access: (reply.result as { role?: string } | null)?.role === 'operator' ? 'operator' : 'viewer' };
  };

  interface Client {
    access: Access;
    credential: string;
    user: string;
    sent: ClusterState;
    awaiting: boolean;
  }
  const clients = new Map<string, Client>();

  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown; credential?: unknown };
    if (auth?.token !== token) return next(new Error('unauthorized: wrong or missing gateway token'));
    if (io.engine.clientsCount > maxClients) return next(new Error(`too many clients (at most ${maxClients})`));
    const credential = typeof auth.credential === 'string' && auth.credential !== '' ? auth.credential.slice(0, 1024) : (options.credential ?? '');
    void roleOf(credential).then((role) => {
      if ('refused' in role) return next(new Error(role.refused));
      (socket.data as { access?: Access; credential?: string }).access = role.access;
      (socket.data as { access?: Access; credential?: string }).credential = credential;
      next();
    }, (err: unknown) => next(new Error(`unreachable: the credential could not be checked (${(err as Error)?.message ?? String(err)})`)));
  });

  const audit = async (client: Client): Promise<CommandAck> => {
    const members = upMembers();
    if (members.length === 0) return fail('unreachable', 'no member is reachable');
    const replies = await Promise.all(members.map(async (m) => ({ m: m.name, r: await node.command(m.name, 'audit', [], client.credential, client.user, 5_000) })));
    const refused = replies.find((x) => !x.r.ok && (x.r.error?.code === 'unauthorized' || x.r.error?.code === 'forbidden'));
    if (refused) return fail(refused.r.error!.code, refused.r.error!.message);
    const entries = replies.flatMap((x) => (x.r.ok && Array.isArray(x.r.result) ? (x.r.result as Array<{ at: number }>) : []));
    entries.sort((a, b) => a.at - b.at);
    return { ok: true, result: entries as unknown as JsonValue, ...(replies.some((x) => !x.r.ok) ? { partial: replies.filter((x) => !x.r.ok).map((x) => x.m) } : {}) };
  };

  const logs = async (client: Client, args: JsonValue[]): Promise<CommandAck> => {
    if (typeof args[0] !== 'string' || args[0] === '') return fail('bad-request', 'logs: argument 1 (child id) must be a non-empty string');
    const id = args[0];
    const child = node.supervisor.whichChildren('global').find((c) => c.id === id);
    if (!child) return fail('not-found', `no child ${JSON.stringify(id)}`);
    if (!child.node) return fail('not-running', `${id} is not running on any node`);
    const reply = await node.command(child.node, 'logs', [id, typeof args[1] === 'number' ? args[1] : 0], client.credential, client.user, 5_000);
    return reply.ok ? { ok: true, result: { node: child.node, lines: reply.result ?? [] } } : fail(reply.error?.code ?? 'failed', reply.error?.message ?? 'failed');
  };

  const execute = async (client: Client, raw: unknown): Promise<CommandAck> => {
    const req = raw as { op?: unknown; args?: unknown } | null;
    const op = req?.op;
    const args = Array.isArray(req?.args) ? (req.args as JsonValue[]) : [];
    if (op === 'explain') {
      try {
        if (typeof args[0] !== 'string') return fail('bad-request', 'explain: argument 1 (child id) must be a string');
        return { ok: true, result: node.supervisor.explain(args[0]) as unknown as JsonValue };
      } catch (err) {
        return fail((err as { code?: string }).code ?? 'failed', (err as Error).message);
      }
    }
    if (typeof op !== 'string' || !(COMMAND_OPS as readonly string[]).includes(op) || op === 'view' || op === 'whoami' || args.length > 8) return fail('bad-request', `unknown command ${JSON.stringify(op)}`);
    if (op === 'audit' || op === 'logs') {
      if (client.access === 'none') return fail('read-only', `${op} needs a viewer or operator credential`);
      return op === 'audit' ? audit(client) : logs(client, args);
    }
    if (client.access !== 'operator') return fail('read-only', client.access === 'viewer' ? 'this session uses a viewer credential: it can watch the cluster but not change it' : 'this session is read-only: connect with an operator credential to change the cluster');
    const to = target();
    if (!to) return fail('unreachable', 'no member is reachable');
    const result = await node.command(to, op as CommandOp, args, client.credential, client.user);
    return result.ok ? { ok: true, result: result.result ?? null } : fail(result.error?.code ?? 'failed', result.error?.message ?? 'failed');
  };

  io.on('connection', (socket) => {
    const auth = socket.handshake.auth as { user?: unknown };
    const data = socket.data as { access: Access; credential: string };
    const client: Client = { access: data.access, credential: data.credential, user: typeof auth.user === 'string' ? auth.user.slice(0, 64) : 'ui', sent: current(data.access), awaiting: false };
    clients.set(socket.id, client);
    socket.emit('snapshot', client.sent);
    socket.on('disconnect', () => clients.delete(socket.id));
    socket.on('command', async (raw: unknown, ack: unknown) => {
      if (typeof ack !== 'function') return;
      let reply: CommandAck;
      try {
        reply = await execute(client, raw);
      } catch (err) {
        // Bad input is never fatal: whatever a client sends, it gets a typed error.
        reply = fail('bad-request', `the command could not be handled: ${(err as Error)?.message ?? String(err)}`.slice(0, 500));
      }
      (ack as (v: unknown) => void)(reply);
    });
  });

  const sendPatches = (): void => {
    checkConverged();
    if (clients.size === 0) return;
    for (const [id, client] of clients) {
      if (client.awaiting) continue; // coalesce: the next patch covers everything since the last ack
      const next = current(client.access);
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
      node.supervisor.off('change', markDirty);
      http.closeAllConnections();
      await new Promise<void>((r) => io.close(() => r()));
    },
  };
}
