/**
 * The observer gateway: serves the cluster state to UIs (the desktop app's
 * renderer, or a browser) over HTTP + Socket.IO, on loopback by default,
 * and passes their commands on to the cluster. This file wires the parts;
 * each job is a module of its own:
 *
 *   server.ts          HTTP server, static files (the built renderer), Socket.IO endpoint
 *   auth.ts            gateway token, client limit, credential → operator / viewer / none
 *   command-router.ts  validates each command (ui-protocol.ts) and sends it where it goes
 *   patches.ts         snapshot on connect, then acknowledged, coalesced patches
 *   snapshot.ts        the ClusterState per access level, rebuilt only after a change
 *   history.ts         the numbered, bounded event list
 *   convergence.ts     the `converged` event after a topology change
 *   remote-view.ts     a member's view of the members the observer cannot reach
 *
 * The UI protocol itself (events in both directions, command schemas,
 * results, error codes) is ui-protocol.ts; the state and its patches are
 * state.ts.
 *
 * Work: the state is rebuilt only when something changed (supervisor,
 * membership or group events), never per child while idle; patches go out
 * at most every `intervalMs`, after a convergence check. Timers go through
 * the node's clock.
 */
import { randomBytes } from 'node:crypto';
import type { TimerHandle } from '../clock.js';
import type { DistEvent } from '../distributed/events.js';
import type { PogoNode } from '../node.js';
import { installAuth } from './auth.js';
import { CommandRouter } from './command-router.js';
import { ConvergenceTracker } from './convergence.js';
import { EventHistory } from './history.js';
import { PatchFeed } from './patches.js';
import { RemoteView } from './remote-view.js';
import { startServer } from './server.js';
import { Snapshots } from './snapshot.js';
import type { CommandAck } from './ui-protocol.js';

export { buildState } from './snapshot.js';

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

const MEMBER_KINDS = ['member-up', 'member-down', 'member-left', 'member-suspect', 'member-updated'] as const;

export async function startGateway(node: PogoNode, options: GatewayOptions = {}): Promise<Gateway> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const intervalMs = options.intervalMs ?? 100;

  // ---- what the UIs see
  const history = new EventHistory();
  const convergence = new ConvergenceTracker(node.supervisor.whichChildren('global'));
  // The borrowed view is read only when a state is built (after start-up), so `remote` is set by then.
  const snapshots = new Snapshots(node, () => history.events, () => remote.current);
  const markDirty = (): void => snapshots.markDirty();
  const remote = new RemoteView(node, markDirty);
  const onDistEvent = (e: DistEvent): void => {
    convergence.observe(e);
    history.push(e);
    markDirty();
  };
  node.supervisor.on('event', onDistEvent);
  for (const kind of MEMBER_KINDS) node.on(kind, markDirty);
  // Any change of the supervisor's desired state (its store) or live state (its pg groups).
  node.supervisor.on('change', markDirty);
  remote.start();
  const detach = (): void => {
    remote.stop();
    node.supervisor.off('event', onDistEvent);
    for (const kind of MEMBER_KINDS) node.off(kind, markDirty);
    node.supervisor.off('change', markDirty);
  };

  // ---- the server, its sessions and their commands
  let server;
  try {
    server = await startServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, ...(options.staticDir !== undefined ? { staticDir: options.staticDir } : {}) });
  } catch (err) {
    detach();
    throw err;
  }
  const { io } = server;
  installAuth(io, node, { token, maxClients: options.maxClients ?? 32, ...(options.credential !== undefined ? { credential: options.credential } : {}) });
  const router = new CommandRouter(node);
  const feed = new PatchFeed(io, (access) => snapshots.get(access));
  io.on('connection', (socket) => {
    feed.add(socket);
    socket.on('command', (raw: unknown, ack: unknown) => {
      // Types are not validation: a client may send anything, or no ack at all.
      if (typeof ack !== 'function') return;
      void router.route(socket.data, raw).then((reply: CommandAck) => (ack as (reply: CommandAck) => void)(reply));
    });
  });

  // ---- the patch loop
  let closed = false;
  let patchTimer: TimerHandle | undefined;
  const tick = (): void => {
    const converged = convergence.check(() => node.supervisor.whichChildren('global'), node.clock.now());
    if (converged) {
      history.push(converged);
      markDirty();
    }
    feed.flush();
  };
  const patchLoop = (): void => {
    patchTimer = node.clock.setTimeout(() => {
      tick();
      if (!closed) patchLoop();
    }, intervalMs);
  };
  patchLoop();

  return {
    url: server.url,
    token,
    clients: () => feed.size,
    close: async () => {
      closed = true;
      node.clock.clearTimeout(patchTimer);
      detach();
      await server.close();
    },
  };
}
