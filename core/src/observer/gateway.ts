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
 *   event-intake.ts    the observer's own events → what really happened (a member
 *                      it alone lost is unreachable from here, not down)
 *   history.ts         notable events, bursts of per-child events, per-second rates
 *                      (timeline.ts), kept here so a reload or a second window
 *                      sees the same past
 *   convergence.ts     the `converged` event after a topology change
 *   remote-view.ts     a member's view of the members the observer cannot reach
 *   resource-history.ts  each node's CPU, memory and event-loop lag (the members
 *                      send theirs; the gateway samples its own process), a
 *                      bounded series per node
 *   output-follow.ts   live output of the OS children sessions watch
 *
 * The UI protocol itself (events in both directions, command schemas,
 * results, error codes) is ui-protocol.ts; the state and its patches are
 * state.ts.
 *
 * Work: the state is rebuilt only when something changed (supervisor,
 * membership or group events), never per child while idle. A change goes
 * out as soon as it has settled (patches.ts PatchPacer: 15 ms of quiet, at
 * most `intervalMs` after it, at least 50 ms after the previous patch); the
 * regular tick every `intervalMs` judges convergence, keeps the history and
 * sends what they added. Timers go through the node's clock.
 */
import { randomBytes } from 'node:crypto';
import type { TimerHandle } from '../clock.js';
import type { DistEvent } from '../distributed/events.js';
import { group } from '../distributed/tags.js';
import { SUPERVISOR_SCOPE, type PogoNode, type ResourceReport } from '../node.js';
import { ResourceSampler, systemProbe, type ProcessProbe } from '../resources.js';
import { installAuth } from './auth.js';
import { CommandRouter } from './command-router.js';
import { ConvergenceTracker } from './convergence.js';
import { EventIntake, wentSilent, withLinkFacts } from './event-intake.js';
import { EventHistory } from './history.js';
import { PatchFeed, PatchPacer } from './patches.js';
import { RemoteView } from './remote-view.js';
import { OutputFollowers } from './output-follow.js';
import { ResourceHistory } from './resource-history.js';
import { startServer } from './server.js';
import { Snapshots } from './snapshot.js';
import { instancesPerNode } from './timeline.js';
import type { CommandAck, WatchAck } from './ui-protocol.js';
import { isLinked, type Member } from '../membership.js';

export { buildState } from './snapshot.js';

/** Options of the UI gateway: host, port, session token, the renderer to serve, patch pacing. */
export interface GatewayOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 picks a free one (default 0). */
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
  /** The process whose resources the gateway reports as the observer's own (default: this process). */
  resourceProbe?: ProcessProbe;
  /** Who sessions that declare no user are, in the audit log (the desktop app passes the OS user name). */
  user?: string;
}

/** A running UI gateway: its URL and session token, its clients, and close(). */
export interface Gateway {
  /** The gateway's base URL (`http://host:port`). */
  readonly url: string;
  /** The session token clients must present. */
  readonly token: string;
  /** Number of connected clients. */
  clients(): number;
  /** Patches held back so far because a client had not acknowledged its last one (PatchFeed.held). */
  patchesHeld(): number;
  /** Stops the patch feed and output followers, detaches from the node and closes the HTTP server (the node keeps running). */
  close(): Promise<void>;
}

const MEMBER_KINDS = ['member-up', 'member-down', 'member-left', 'member-suspect', 'member-updated'] as const;
/** How long the gateway waits for a member's `logs` answer when it follows an output. */
const OUTPUT_READ_TIMEOUT_MS = 5_000;
/** How long after a session asked to stop a child its stop is said to be that session's (a stop takes the child's shutdown time, 5 s by default). */
const STOP_NOTE_MS = 60_000;

/** How many members (not observers) the observer is linked to now. */
function linkedMembers(node: PogoNode): number {
  let n = 0;
  for (const m of node.members()) if (m.role === 'member' && m.name !== node.name && isLinked(m.status)) n++;
  return n;
}

/**
 * Whether the observer has caught up with the cluster (event-intake.ts):
 * its supervisor is ready (linked to and synced with every member it
 * knows of, or its ready timeout passed), every member it is linked to
 * has sent its live state, and its supervisor has acted on all of it. Race
 * "synced, not yet reconciled" (a flake on a loaded host): the children's
 * specs and instances had all arrived, but the reconcile slices that turn
 * them into events ran after the catch-up ended, and the timeline showed
 * six children "placed by hash" and "started" that had run for seconds.
 */
function caughtUp(node: PogoNode): boolean {
  if (!node.supervisor.isReady || !node.supervisor.settled || linkedMembers(node) === 0) return false;
  return node
    .members()
    .every(
      (m) => m.role !== 'member' || m.name === node.name || (m.status !== 'up' && m.status !== 'suspect') || node.groups.announced(SUPERVISOR_SCOPE, m.name),
    );
}

/** Start the Socket.IO gateway that serves a node's view of the cluster and commands to UIs. */
export async function startGateway(node: PogoNode, options: GatewayOptions = {}): Promise<Gateway> {
  const token = options.token ?? randomBytes(18).toString('base64url');
  const intervalMs = options.intervalMs ?? 100;

  // ---- what the UIs see
  const history = new EventHistory();
  /** Stops sessions asked for lately, by child id: who asked (the timeline's StopNote). */
  const stopsAsked = new Map<string, { user: string; at: number }>();
  const resources = new ResourceHistory();
  const convergence = new ConvergenceTracker(node.supervisor.whichChildren('global'));
  // With the members' reports of whom they cannot hear (memberVerdict judges a lost member by them).
  const withReach = (m: Member): Member => withLinkFacts({ ...m, unheardBy: node.unheardBy(m.name, m.incarnation) }, node.linkHeard(m.name));
  const memberFacts = () => node.members().map(withReach);
  const intake = new EventIntake({
    publish: (e) => {
      convergence.observe(e);
      history.push(e);
      snapshots.markHistoryDirty();
    },
    member: (name) => {
      const m = node.member(name);
      return m === undefined ? undefined : withReach(m);
    },
    // Read for a `placed` with no node and for a `stopped` only: a child's spec gone is a termination.
    isLive: (id) => node.supervisor.runnersOf(id) !== undefined,
    stopAsked: (id) => {
      const asked = stopsAsked.get(id);
      return asked !== undefined && node.clock.now() - asked.at < STOP_NOTE_MS ? asked.user : undefined;
    },
    startedAt: node.startedAt,
    // A member down after it went silent (frozen, cut off, a host gone without closing its connections): what it ran was
    // lost from sight, not seen to stop (StopNote `unseen`). The snapshot's `silent` reads the same.
    wentSilent: (name) => {
      const m = node.member(name);
      return m !== undefined && wentSilent(m, node.config.suspectAfterMs);
    },
    // Until the observer has synced with the cluster, what it learns is the cluster's past (event-intake.ts).
    catchingUp: !caughtUp(node),
    // No borrowed view at once: a member that really died is judged down within a few ms (the others'
    // reach reports), and a borrow then would pull every child's view for nothing; the regular round
    // (remote-view.ts, once a second) covers one that stays unreachable.
    changed: () => markDirty(),
  });
  intake.seed(node.supervisor.whichChildren('global'));
  // Linked to no member: since when (null while linked to one). Not live then, whatever the listing says.
  let noMemberSince: number | null = linkedMembers(node) === 0 ? node.clock.now() : null;
  const watchLinks = (): void => {
    const none = linkedMembers(node) === 0;
    if (none === (noMemberSince !== null)) return;
    // What the listing holds as the last link goes (a whole-cluster stop: every child waiting for a node) is the last known state.
    if (none) {
      snapshots.freeze();
      intake.beginCatchUp();
    }
    noMemberSince = none ? node.clock.now() : null;
    markDirty();
  };
  // The members as they are now: a leave announced after this is told from a member that was ready.
  intake.observeMembers(memberFacts(), node.clock.now());
  // The borrowed view is read only when a state is built (after start-up), so `remote` is set by then.
  const snapshots = new Snapshots(
    node,
    () => ({
      events: history.events,
      activity: history.activity,
      samples: history.samples,
      unreachable: intake.unreachable(),
      heldInstances: intake.heldInstances(),
      judgedDown: intake.judgedDown(),
      sessions: intake.sessions,
      resources: resources.current,
      noMemberSince,
    }),
    () => remote.current,
  );
  // Sends patches once the server is up (flushFeed is set then); changes before that are in the first snapshot.
  let flushFeed = (): void => {};
  const pacer = new PatchPacer(node.clock, { settleMs: 15, maxMs: intervalMs, minGapMs: Math.min(50, intervalMs) }, () => flushFeed());
  const markDirty = (): void => {
    snapshots.markDirty();
    pacer.changed();
  };
  // A member judged down needs no borrowed view: the observer's own is as good as any for it (and fresher).
  const remote = new RemoteView(node, markDirty, (name) => intake.judgedDown().has(name));
  const onDistEvent = (e: DistEvent): void => intake.onDistEvent(e);
  const onMember = (): void => {
    watchLinks();
    intake.observeMembers(memberFacts(), node.clock.now());
    intake.judge(memberFacts(), node.clock.now());
    markDirty();
  };
  const addResources = (report: Pick<ResourceReport, 'node' | 'figures'>): void => {
    resources.add(report.node, report.figures, node.clock.now());
    snapshots.markResourcesDirty();
  };
  // The observer's own process, sampled as the members sample theirs.
  const ownResources = new ResourceSampler({
    clock: node.clock,
    probe: options.resourceProbe ?? systemProbe(),
    log: node.log,
    onSample: (figures) => addResources({ node: node.name, figures }),
  });
  node.on('resources', addResources);
  ownResources.start();
  node.supervisor.on('event', onDistEvent);
  for (const kind of MEMBER_KINDS) node.on(kind, onMember);
  // Any change of the supervisor's desired state (its store) or live state (its pg groups).
  node.supervisor.on('change', markDirty);
  remote.start();
  const detach = (): void => {
    remote.stop();
    pacer.stop();
    ownResources.stop();
    node.off('resources', addResources);
    node.supervisor.off('event', onDistEvent);
    for (const kind of MEMBER_KINDS) node.off(kind, onMember);
    node.supervisor.off('change', markDirty);
  };

  // ---- the server, its sessions and their commands
  let server;
  try {
    server = await startServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      log: node.log,
      ...(options.staticDir !== undefined ? { staticDir: options.staticDir } : {}),
    });
  } catch (err) {
    detach();
    throw err;
  }
  const { io } = server;
  installAuth(io, node, {
    token,
    maxClients: options.maxClients ?? 32,
    ...(options.credential !== undefined ? { credential: options.credential } : {}),
    ...(options.user !== undefined ? { user: options.user } : {}),
  });
  const router = new CommandRouter(node, (id, user) => {
    for (const [key, asked] of stopsAsked) if (node.clock.now() - asked.at >= STOP_NOTE_MS) stopsAsked.delete(key);
    stopsAsked.set(id, { user, at: node.clock.now() });
  });
  const feed = new PatchFeed(
    io,
    (access) => snapshots.get(access),
    () => pacer.changed(),
  );
  flushFeed = () => feed.flush();
  const followers = new OutputFollowers({
    clock: node.clock,
    child: (id) => snapshots.latest().children[id],
    read: (peer, id, after, session) => node.command(peer, 'logs', { id, after }, session.credential, session.user, OUTPUT_READ_TIMEOUT_MS),
    send: (session, event) => void io.sockets.sockets.get(session)?.emit('output', event),
  });
  io.on('connection', (socket) => {
    feed.add(socket);
    socket.on('command', (raw: unknown, ack: unknown) => {
      // Types are not validation: a client may send anything, or no ack at all.
      if (typeof ack !== 'function') return;
      const session = { data: socket.data, accessChanged: () => feed.resend(socket) };
      void router.route(session, raw).then((reply: CommandAck) => (ack as (reply: CommandAck) => void)(reply));
    });
    socket.on('watchOutput', (raw: unknown, ack: unknown) => {
      const reply = followers.watch(socket.id, socket.data, raw);
      if (typeof ack === 'function') (ack as (reply: WatchAck) => void)(reply);
    });
    socket.on('unwatchOutput', (raw: unknown) => followers.unwatch(socket.id, raw));
    socket.on('disconnect', () => followers.drop(socket.id));
  });

  // ---- the patch loop
  let closed = false;
  let patchTimer: TimerHandle | undefined;
  let seconds = 0;
  const tick = (): void => {
    const now = node.clock.now();
    watchLinks();
    // No-node placements held since the last tick: a terminated child's are dropped (event-intake.ts).
    intake.settleNowhere();
    // Stops heard before their spec's removal, held for it (event-intake.ts).
    intake.settleStops(now);
    // Synced with the cluster: what the observer learned meanwhile was its past; what runs now counts as reported.
    if (intake.catchingUp && caughtUp(node)) {
      intake.endCatchUp();
      convergence.seed(node.supervisor.whichChildren('global'));
    }
    // Reach reports arrive without a membership event: who is cut off, and every lost member, are judged again on every tick.
    intake.observeCutOff(memberFacts(), now);
    if (intake.hasGap) intake.judge(memberFacts(), now);
    // A member back from "unreachable": once its live state has arrived, what stopped meanwhile is reported.
    for (const name of intake.returningNodes()) {
      if (!node.groups.announced(SUPERVISOR_SCOPE, name)) continue;
      intake.settle(name, (id, pid) => node.groups.getMembers(SUPERVISOR_SCOPE, group.run(id)).some((m) => m.pid === pid), now);
    }
    // No convergence is judged while the observer's own view has a gap: it would be the gap's, not the cluster's.
    const converged = intake.hasGap ? undefined : convergence.check(() => node.supervisor.whichChildren('global'), now, memberFacts);
    if (converged) {
      history.push(converged);
      snapshots.markHistoryDirty();
    }
    if (history.tick(now, () => levels())) {
      snapshots.markHistoryDirty();
      // Once a minute, forget what the intake and the history keep per child for children that are gone.
      if (++seconds % 60 === 0) {
        const ids = new Set(Object.keys(snapshots.any().children));
        intake.prune(ids);
        history.prune(ids);
        if (resources.retain(new Set(node.members().map((m) => m.name)))) snapshots.markResourcesDirty();
      }
    }
    feed.flush();
    pacer.flushed();
  };
  const levels = () => {
    let members = 0;
    // A member unreachable from here only is still a member up, as the others see it.
    const unreachable = intake.unreachable();
    for (const m of node.members()) if (m.role === 'member' && (isLinked(m.status) || unreachable.has(m.name))) members++;
    return { members, perNode: instancesPerNode(Object.values(snapshots.any().children)) };
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
    patchesHeld: () => feed.held,
    close: async () => {
      closed = true;
      node.clock.clearTimeout(patchTimer);
      followers.close();
      detach();
      await server.close();
    },
  };
}
