/**
 * PogoNode: one node of a cluster in one process — transport, links,
 * membership and process groups wired together.
 *
 *   transport ──conn──▶ links ──link up/down, messages──▶ membership (gossip, dialling)
 *                                                     └─▶ groups (pg scopes)
 *
 * The node owns no policy of its own: it routes link events to the layers
 * above in a fixed order (membership first, so a member is `up` before its
 * groups arrive) and offers a small API: members, groups, pids, status,
 * graceful `stop()` and abrupt `kill()` (for simulated crashes).
 *
 * With `dataDir` (members only) the node locks the directory, reads the
 * desired state saved there before anything else starts, and hands it and
 * the file to the distributed supervisor (distributed/state-file.ts).
 *
 * Routing: `pg.*` frames go to the groups, `rs.*` frames (the replicated
 * store of the supervisor's desired state) and `call`, `call.reply`,
 * `handover` (messages to children: distributed/calls.ts) to the
 * supervisor; on link up
 * the groups send their snapshot first, then the store its digest.
 *
 * Seeds: `host:port` seeds go to membership as they are; DNS seeds
 * (`dns:<name>:<port>`, `dns-srv:<name>`) to the seed discovery
 * (discovery/seed-discovery.ts), which looks them up periodically and hands
 * membership the addresses found.
 *
 * Resources: a member samples its own CPU, memory and event-loop lag while
 * observers are linked to it and sends them the figures (resources.ts); an
 * observer emits each member's as a `resources` event.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SystemClock, type Clock, type TimerHandle } from './clock.js';
import type { NodeConfig } from './config.js';
import { ConfigError, loadConfig, readTls, type NodeConfigInput } from './config.js';
import { configSections } from './config-sections.js';
import { parseChildSpec, type ChildSpec } from './supervisor/child-spec.js';
import { ProcessGroups } from './groups.js';
import { LinkLayer, type Link, type LinkStats } from './link.js';
import { silentLogger, type Logger } from './logger.js';
import { isLinked, Membership, type Member, type MemberEvent } from './membership.js';
import {
  PROTOCOL_VERSION,
  SAVE_ERROR_MAX,
  formatPid,
  peerKnowsOp,
  type CommandOp,
  type LinkMessage,
  type Pid,
  type Role,
  type StoreMessage,
  type WaitsFor,
} from './protocol.js';
import { CryptoRandom, type Random } from './random.js';
import { createDnsQueries, type DnsQueries } from './discovery/dns-lookup.js';
import { SeedDiscovery, type DiscoveryStatus } from './discovery/seed-discovery.js';
import { splitSeeds } from './discovery/seed-spec.js';
import { DistributedSupervisor } from './distributed/distributed-supervisor.js';
import { STATE_VERSION, StateFile, type SavedState } from './distributed/state-file.js';
import type { StateSavingHealth } from './distributed/persistence.js';
import { announcedNetsplit, netsplitDifference, netsplitText, sameNetsplit } from './distributed/netsplit-settings.js';
import { CommandClient, CommandExecutor } from './commands.js';
import type { CommandArgsInput, CommandOutcome } from './observer/ui-protocol.js';
import { createMetrics, type NodeMetrics } from './metrics.js';
import { ResourceReporter, ResourceSampler, systemProbe, type ProcessProbe, type ResourceFigures } from './resources.js';
import { LocalSupervisor } from './supervisor/local-supervisor.js';
import { WorkerRegistry, defaultWorkers, type ChildMessaging } from './supervisor/workers.js';
import { SocketIoTransport } from './transport/socketio.js';
import { formatAddress, parseAddress } from './util/address.js';
import type { Transport } from './transport/transport.js';

/** The pg scope and store scope of the distributed supervisor. */
export const SUPERVISOR_SCOPE = 'pogo';

/** How long a member waits to be ready before it announces what it waits for, and how often at most it announces a change of it, ms. */
const WAITS_FOR_ANNOUNCE_MS = 1_000;

/** What a node takes injected: clock, random, transport, logger, probes (defaults for production). */
export interface NodeDeps {
  /** Time and timers (default SystemClock). */
  clock?: Clock;
  /** Randomness for incarnations, pids and jitter (default CryptoRandom). */
  random?: Random;
  /** Where the node logs (default: pino on stdout at the config's log level). */
  log?: Logger;
  /** Defaults to a Socket.IO transport on `config.host:config.port`. */
  transport?: Transport;
  /** Worker types this node can run (advertised to peers). Defaults to the `defineWorker` registry. */
  workers?: WorkerRegistry;
  /** The process whose resources a member reports to observers (resources.ts). Defaults to this process. */
  resourceProbe?: ProcessProbe;
  /** DNS queries for `dns:` and `dns-srv:` seeds. Defaults to a resolver asking `config.dnsServer` (or the system's servers). */
  dnsQueries?: DnsQueries;
}

/** The state of the link to one peer node, in a node's status. */
export interface LinkStatus {
  /** The peer node's name. */
  peer: string;
  /** The peer's incarnation (random per process start). */
  incarnation: string;
  /** Who dialled: `out` when this node did, `in` when the peer did. */
  direction: 'in' | 'out';
  /** When the handshake completed (ms, this node's clock). */
  establishedAt: number;
  /** Milliseconds since anything was last heard from the peer. */
  lastHeardMsAgo: number;
  /** Whether the peer has been silent past the link's suspect threshold. */
  suspect: boolean;
  /** The last measured round-trip time in ms; `undefined` before the first ping echo. */
  rttMs: number | undefined;
  /** This link's ping interval and silence thresholds, from both ends' settings (link.ts, "Mixed settings"). */
  heartbeat: { intervalMs: number; suspectAfterMs: number; timeoutMs: number };
}

/** Everything a node reports about itself: members, links, children, groups, resources. */
export interface NodeStatus {
  /** This node's name. */
  name: string;
  /** The cluster's name. */
  cluster: string;
  /** This node's incarnation (random hex, new at each start). */
  incarnation: string;
  /** Whether this node is a member or an observer. */
  role: Role;
  /** The address (`host:port`) peers reach this node at. */
  address: string;
  /** When this node started (ms since the epoch, its clock). */
  startedAt: number;
  /** When this status was taken (ms since the epoch, its clock). */
  now: number;
  /** The link protocol version this node speaks. */
  protocol: { major: number; minor: number };
  /** Every known member, this node included, sorted by name. */
  members: Member[];
  /** The links to peer nodes that are up. */
  links: LinkStatus[];
  /** Addresses being dialled (seeds or members not linked): attempts so far and the last error; `undefined` before the first failure. */
  dialing: Array<{ address: string; attempts: number; lastError: string | undefined }>;
  /** Each DNS seed: the addresses it gives now, and why none when it gives none. */
  discovery: DiscoveryStatus[];
  /** Every process group of every scope, with its members. */
  groups: ReturnType<ProcessGroups['snapshot']>;
  /** Link counters since the node started; bytes when the transport counts them (Socket.IO does). */
  stats: LinkStats & { bytesIn?: number; bytesOut?: number };
  /** The distributed supervisor's state as this node sees it. */
  supervisor: {
    /** Whether this node is ready to take children. */
    ready: boolean;
    /** Whether rebalancing is paused cluster-wide. */
    paused: boolean;
    /** Members being drained, sorted. */
    draining: string[];
    /** Children of the whole cluster, as this node sees them. */
    cluster: ReturnType<DistributedSupervisor['countChildren']>;
    /** Children running on this node. */
    local: ReturnType<LocalSupervisor['countChildren']>;
    /** The desired-state store this node holds, by kind of register. */
    store: ReturnType<DistributedSupervisor['store']>;
  };
  /** Saving the desired state to the data dir (`PogoNode.stateSaving`); absent without a data dir. */
  stateSaving?: StateSavingHealth;
}

/** A member's resource figures, as an observer received them over its link. */
export interface ResourceReport {
  /** The member that reported. */
  node: string;
  /** Its incarnation when it reported. */
  incarnation: string;
  /** Its CPU, memory and event-loop figures. */
  figures: ResourceFigures;
}

/** The events a PogoNode emits, with their arguments. */
export type NodeEventMap = {
  [K in MemberEvent['kind']]: [Extract<MemberEvent, { kind: K }>];
} & {
  /** An observer received a member's resource figures. */
  resources: [ResourceReport];
};

/** A cluster member: joins through seeds, links to every member, keeps process groups and runs the distributed supervisor. */
export class PogoNode extends EventEmitter<NodeEventMap> {
  /** This node's name (unique in the cluster). */
  readonly name: string;
  /** The cluster this node belongs to. */
  readonly cluster: string;
  /** Whether this node is a member or an observer. */
  readonly role: Role;
  /** This node's incarnation: random hex, new at each start, so a restarted node is told apart from its earlier life. */
  readonly incarnation: string;
  /** When this node started (ms since the epoch, its clock). */
  readonly startedAt: number;
  /** This node's Erlang pg-style process groups. */
  readonly groups: ProcessGroups;
  /** The distributed supervisor: start a child anywhere, it runs exactly once in the cluster. */
  readonly supervisor: DistributedSupervisor;
  /** This node's local supervisor: the children running here. */
  readonly local: LocalSupervisor;
  /** Prometheus metrics of this node (served by the status server at /metrics). */
  readonly metrics: NodeMetrics;
  /** The clock this node runs on. */
  readonly clock: Clock;
  /** This node's logger. */
  readonly log: Logger;
  private readonly links: LinkLayer;
  private readonly membership: Membership;
  private readonly discovery: SeedDiscovery | undefined;
  private readonly transport: Transport;
  private readonly commands: CommandExecutor;
  private readonly commandClient: CommandClient;
  private readonly resources: ResourceReporter;
  private nextLocalId = 1;
  /** What the children of this node call other children with (workers' ctx.call / ctx.cast). */
  private childMessaging: ChildMessaging | undefined;
  private readonly store: StateFile | undefined;
  /**
   * What this node found at start that an operator must hear of, in words
   * (`pogo ctl status` shows them as warnings): a desired state file moved
   * aside (corrupt, or from a newer release). Its log said so once; a
   * cluster restarted from such files came back empty, healthy-looking, with
   * no warning anywhere (an outsider's tour: a downgrade after an upgrade).
   */
  get notices(): readonly string[] {
    const saving = this.saving;
    if (saving.failingSince === undefined) return this.startNotices;
    return [
      ...this.startNotices,
      `saving its desired state to the data dir has failed since ${new Date(saving.failingSince).toISOString()} (${saving.lastError ?? 'unknown error'}): ` +
        'its commands still work and the cluster still holds the state, but a restart of every member now would lose the changes made since — ' +
        'free space or fix the data dir (it retries every second)',
    ];
  }
  private readonly startNotices: string[] = [];

  /**
   * Saving the desired state to the data dir (a member with `dataDir`;
   * undefined otherwise): when it last worked, and since when and why it has
   * been failing. A failing save is not fatal (commands go on, the cluster
   * holds the state); this is how an operator hears of it besides one log
   * line: `pogo ctl status` warns and `/metrics` has `pogo_state_save_failing`
   * (an outsider's tour: with the data dir's disk full, /healthz, /metrics
   * and `pogo ctl status` all looked healthy while nothing was saved).
   */
  get stateSaving(): StateSavingHealth | undefined {
    return this.store === undefined ? undefined : { ...this.saving };
  }
  private readonly saving: StateSavingHealth = { failures: 0 };
  /** Peers warned of for netsplit settings that differ from ours: name → the incarnation warned of. */
  private readonly netsplitWarned = new Map<string, string>();
  private state: 'running' | 'stopping' | 'stopped' = 'running';
  /** This node's readiness announcement: the first ping seq sent after it, and the peers linked then. */
  private readyAnnounce: { seq: number; peers: Array<{ name: string; incarnation: string }> } | undefined;
  /** What this member waits for, as last handed over by readiness (announceWaitsFor), and the timer that announces it. */
  private waitsForNext: WaitsFor | undefined;
  private waitsForTimer: TimerHandle | undefined;
  private _address: string;

  private constructor(
    /** The node's configuration, with defaults filled in. */
    readonly config: NodeConfig,
    deps: Required<Omit<NodeDeps, 'dnsQueries'>> & Pick<NodeDeps, 'dnsQueries'>,
    address: string,
    durable?: DurableStart,
  ) {
    super();
    this.store = durable?.store;
    // Nothing is saved until the state changes: the file read at start is the last save.
    if (durable?.savedAt !== undefined) this.saving.lastSavedAt = durable.savedAt;
    if (durable?.notice !== undefined) this.startNotices.push(durable.notice);
    this.name = config.name;
    this.cluster = config.cluster;
    this.role = config.role;
    this.clock = deps.clock;
    this.log = deps.log;
    this.transport = deps.transport;
    this.incarnation = deps.random.hex(8);
    this.startedAt = deps.clock.now();
    this._address = address;
    const sections = configSections(config);
    const seeds = splitSeeds(sections.discovery.seeds);
    const identity = { cluster: this.cluster, name: this.name, incarnation: this.incarnation, startedAt: this.startedAt, address, role: this.role };
    this.links = new LinkLayer({
      identity,
      config: sections.link,
      transport: deps.transport,
      clock: deps.clock,
      random: deps.random,
      log: deps.log,
      events: {
        linkUp: (link) => this.onLinkUp(link),
        linkDown: (link, reason, byPeer) => this.onLinkDown(link, reason, byPeer),
        message: (link, message) => {
          if (message.t === 'gossip' || message.t === 'reach') this.membership.onMessage(link, message);
          else if (message.t === 'leave') {
            this.membership.onMessage(link, message);
            // It answered every message it delivered before leaving: what is outstanding there was not delivered.
            this.supervisor.peerLeaving(link.peer.name);
            // Closing the link acknowledges the leave: the leaving node waits for it.
            this.links.disconnect(link.peer.name, `peer left: ${message.reason}`);
          } else if (message.t === 'pg.sync' || message.t === 'pg.join' || message.t === 'pg.leave') this.groups.handleMessage(link.peer.name, message);
          else if (message.t.startsWith('rs.')) {
            const store = message as StoreMessage;
            if (store.scope === SUPERVISOR_SCOPE) this.supervisor.handleStore(link.peer.name, store);
            else
              this.log.warn(
                { peer: link.peer.name, t: store.t, scope: store.scope.slice(0, 100) },
                'store message for a scope this node does not keep; ignored',
              );
          } else if (message.t === 'cmd') {
            const peer = link.peer.name;
            if (this.role !== 'member') {
              this.links.send(peer, {
                t: 'cmd.reply',
                id: message.id,
                ok: false,
                error: { code: 'not-a-member', message: `${this.name} is an observer; send commands to a member` },
              });
            } else {
              void this.commands.execute(peer, message).then((reply) => this.links.send(peer, reply));
            }
          } else if (message.t === 'cmd.reply') this.commandClient.settle(message);
          else if (message.t === 'call' || message.t === 'call.reply' || message.t === 'handover') this.supervisor.handleCall(link.peer.name, message);
          else if (message.t === 'res') {
            if (this.role === 'observer')
              this.emitResources({ node: link.peer.name, incarnation: link.peer.incarnation, figures: (({ t: _t, ...figures }) => figures)(message) });
          }
        },
        suspect: (link) => this.membership.onSuspect(link),
        dialFailed: (addr, failure) => this.membership.onDialFailed(addr, failure),
        confirmed: () => this.supervisor.linkConfirmed(),
        client: {
          up: () => undefined,
          down: () => undefined,
          message: (link, message) => this.onClientMessage(link, message),
        },
      },
    });
    this.membership = new Membership({
      self: {
        name: this.name,
        incarnation: this.incarnation,
        startedAt: this.startedAt,
        address,
        role: this.role,
        labels: config.labels,
        workers: deps.workers.names(),
        commands: config.allowCommands,
        capacity: config.capacity,
        ready: false,
        ...(this.role === 'member' ? { startable: false } : {}),
        ...(this.role === 'member' ? { lease: { ms: sections.distributed.leaseMs, stopMs: sections.distributed.leaseMs } } : {}),
        ...(this.role === 'member' ? { netsplit: announcedNetsplit(config.netsplit, config.expectedMembers) } : {}),
        version: 1,
        status: 'up',
      },
      seeds: seeds.addresses,
      links: this.links,
      clock: deps.clock,
      random: deps.random,
      log: deps.log,
      timing: sections.membership,
      onEvent: (event) => this.emitMemberEvent(event),
      onReach: () => this.supervisor?.reachChanged(),
    });
    this.discovery =
      seeds.dns.length === 0
        ? undefined
        : new SeedDiscovery({
            seeds: seeds.dns,
            // Two tries per query within one interval, the longest a lookup may take.
            queries: deps.dnsQueries ?? createDnsQueries(sections.discovery.dnsServer, Math.min(2000, sections.discovery.dnsIntervalMs / 3)),
            self: address,
            intervalMs: sections.discovery.dnsIntervalMs,
            clock: deps.clock,
            random: deps.random,
            log: deps.log.child({ layer: 'discovery' }),
            onAddresses: (addresses) => this.membership.setDiscoveredSeeds(addresses),
          });
    this.groups = new ProcessGroups({
      node: this.name,
      incarnation: this.incarnation,
      log: deps.log.child({ layer: 'groups' }),
      channel: { send: (peer, message) => void this.links.send(peer, message) },
    });
    this.local = new LocalSupervisor({
      node: this.name,
      clock: deps.clock,
      random: deps.random,
      log: deps.log.child({ layer: 'supervisor' }),
      groups: this.groups,
      workers: deps.workers,
      ...sections.supervisor,
      newPid: () => this.newPid('c'),
      // Workers' ctx.call / ctx.cast: the distributed supervisor, made just below.
      messaging: () => this.childMessaging,
    });
    this.supervisor = new DistributedSupervisor({
      node: this.name,
      isMember: this.role === 'member',
      clock: deps.clock,
      random: deps.random,
      log: deps.log.child({ layer: 'distributed' }),
      groups: this.groups,
      local: this.local,
      members: () => this.membersWithLinks(),
      pid: this.newPid('sup'),
      scope: SUPERVISOR_SCOPE,
      send: (peer, message) => void this.links.send(peer, message),
      links: {
        nextPingSeq: () => this.links.nextPingSeq,
        probe: (peer) => this.links.probe(peer),
        heard: (peer, incarnation, seq) => {
          const link = this.links.get(peer);
          if (!link) return false;
          return link.peer.incarnation !== incarnation || link.confirmedSeq >= seq;
        },
      },
      config: sections.distributed,
      startedAt: this.startedAt,
      relink: (reason) => {
        for (const link of this.links.all()) this.links.disconnect(link.peer.name, reason);
      },
      setReady: (ready) => this.announceReady(ready),
      setWaitsFor: (waitsFor) => this.announceWaitsFor(waitsFor),
      setStartable: (startable) => this.membership.updateSelf({ startable }),
      readyConfirmed: () => this.readyConfirmed(),
      ownStallMs: () => this.links.ownStallMs(),
      hasSeeds: seeds.dns.length > 0 || seeds.addresses.some((seed) => seed !== address),
      observer: config.role === 'observer',
      dialFailed: (addr) => this.membership.dialStatus().some((d) => d.address === addr && d.lastError !== undefined),
      refusals: () => this.membership.refusals(),
      unresolvedSeeds: () => this.discovery?.unresolved() ?? [],
      unheardBy: (name, incarnation) => this.membership.unheardBy(name, incarnation),
      sendCall: (peer, frame) => this.links.send(peer, frame),
      takesCalls: (peer) => {
        const version = this.links.get(peer)?.protocol;
        return version === undefined || version.major > 2 || (version.major === 2 && version.minor >= 3);
      },
      ...(durable ? { persistence: { restored: durable.restored, save: (state: SavedState) => this.saveState(durable.store, state) } } : {}),
    });
    const supervisor = this.supervisor;
    this.childMessaging = {
      call: (id, message, options) => supervisor.call(id, message, options),
      cast: (id, message) => supervisor.cast(id, message),
    };
    this.metrics = createMetrics(this);
    this.commands = new CommandExecutor({
      node: this.name,
      incarnation: this.incarnation,
      supervisor: this.supervisor,
      members: () => this.membership.members(),
      notices: () => this.notices,
      clock: deps.clock,
      log: deps.log.child({ layer: 'commands' }),
      ...sections.commands,
      output: (id, after, limit) => this.local.output(id, after, limit),
      forward: (peer, op, args, credential, by) => this.sendCommand(peer, op, args, credential, by, config.requestTimeoutMs, true),
    });
    this.commandClient = new CommandClient((peer, cmd) => this.links.send(peer, cmd), deps.clock);
    const sampler = new ResourceSampler({
      clock: deps.clock,
      probe: deps.resourceProbe,
      log: deps.log,
      // Figures nothing waits on: they ride with each observer link's next frame (its heartbeat at the latest).
      onSample: (figures) => {
        for (const peer of this.resources.recipients()) this.links.sendWithNextFrame(peer, { t: 'res', ...figures });
      },
    });
    this.resources = new ResourceReporter(sampler, this.role === 'member');
  }

  /**
   * Sends an operator command to member `peer`, which checks `credential`
   * (an operator or viewer token) and executes it. `args` are the op's named
   * fields (observer/ui-protocol.ts: `move` takes `{ id, node }`). Never
   * rejects: failures come back as an outcome with a typed error, and the
   * result is checked against the op's result schema.
   */
  command<Op extends CommandOp>(
    peer: string,
    op: Op,
    args: CommandArgsInput<Op>,
    credential: string,
    by = 'api',
    timeoutMs = 30_000,
  ): Promise<CommandOutcome<Op>> {
    return this.sendCommand(peer, op, args, credential, by, timeoutMs, false);
  }

  /** `command`, refusing at once an op the peer's protocol version does not know (it would drop the frame as invalid). */
  private sendCommand<Op extends CommandOp>(
    peer: string,
    op: Op,
    args: CommandArgsInput<Op>,
    credential: string,
    by: string,
    timeoutMs: number,
    forwarded: boolean,
  ): Promise<CommandOutcome<Op>> {
    const version = this.links.get(peer)?.protocol;
    if (version && !peerKnowsOp(version, op)) {
      return Promise.resolve({
        ok: false,
        error: { code: 'failed', message: `${peer} speaks protocol ${version.major}.${version.minor}, which has no ${op} command; upgrade it` },
      });
    }
    return this.commandClient.request(peer, op, args, credential, by, timeoutMs, { forwarded });
  }

  /** Starts a node: listens, then dials its seeds. */
  static async start(config: NodeConfig, deps: NodeDeps = {}): Promise<PogoNode> {
    const initialChildren = config.children !== undefined ? readChildrenFile(config.children) : undefined;
    const clock = deps.clock ?? new SystemClock();
    const random = deps.random ?? new CryptoRandom();
    const baseLog = deps.log ?? silentLogger;
    const durable = openDataDir(config, clock, baseLog.child({ node: config.name }));
    const sections = configSections(config);
    const transport = deps.transport ?? new SocketIoTransport({ ...sections.transport, tls: readTls(sections.tls) });
    let accept: (conn: Parameters<LinkLayer['accept']>[0]) => void = (conn) => conn.close('node starting');
    let bound: string;
    try {
      bound = await transport.listen((conn) => accept(conn));
    } catch (err) {
      durable?.store.close();
      throw err;
    }
    const address = advertisedAddress(config, bound);
    const node = new PogoNode(
      config,
      {
        clock,
        random,
        log: baseLog.child({ node: config.name }),
        transport,
        workers: deps.workers ?? defaultWorkers,
        resourceProbe: deps.resourceProbe ?? systemProbe(),
        dnsQueries: deps.dnsQueries,
      },
      address,
      durable,
    );
    accept = (conn) => node.links.accept(conn);
    node.links.start();
    node.membership.start();
    node.discovery?.start();
    node.supervisor.start();
    if (initialChildren) node.supervisor.setInitialChildren(initialChildren);
    node.log.info(
      {
        address,
        listen: bound,
        cluster: config.cluster,
        role: config.role,
        incarnation: node.incarnation,
        seeds: config.seeds,
        protocol: `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`,
      },
      'node started',
    );
    // The tour: `--expected-members 3` without `--netsplit majority` ran in available mode with no word: the operator
    // meant majority mode (each side of a split runs what it cannot see otherwise), or the setting is dead weight.
    if (config.role === 'member' && config.netsplit === 'available' && config.expectedMembers !== undefined)
      node.log.warn(
        { expectedMembers: config.expectedMembers, netsplit: config.netsplit },
        'expectedMembers is set but netsplit is available: it counts only in majority mode (give --netsplit majority, or drop --expected-members)',
      );
    return node;
  }

  /** The address peers use to reach this node. */
  get address(): string {
    return this._address;
  }

  /** True until stop() begins. */
  get running(): boolean {
    return this.state === 'running';
  }

  /** Every known member including this node, sorted by name. */
  members(): Member[] {
    return this.membership.members();
  }

  /** Names of the members currently up (linked), this node included. */
  upMembers(): string[] {
    return this.members()
      .filter((m) => isLinked(m.status))
      .map((m) => m.name);
  }

  /** The member named `name` as this node knows it; `undefined` when unknown. */
  member(name: string): Member | undefined {
    return this.membership.get(name);
  }

  /**
   * This node's open link to `name`, if any: the peer incarnation it links, when it last heard it
   * (this node's clock) and how often the link pings (the shorter of both
   * ends' intervals, ms), so a live peer is heard about that often. An
   * observer tells a quiet link from a live one by them
   * (observer/event-intake.ts `quietLink`).
   */
  linkHeard(name: string): { incarnation: string; lastHeardAt: number; pingIntervalMs: number } | undefined {
    const link = this.links.get(name);
    return link === undefined
      ? undefined
      : { incarnation: link.peer.incarnation, lastHeardAt: link.lastHeardAt, pingIntervalMs: link.timing.heartbeatIntervalMs };
  }

  /**
   * The members linked to this node that report they cannot hear this
   * incarnation of `name`, and since when (this node's clock): their `reach`
   * reports (membership.ts). An observer judges a member it lost by them.
   */
  unheardBy(name: string, incarnation: string): Array<{ reporter: string; since: number }> {
    return this.membership.unheardBy(name, incarnation);
  }

  /** A new pid for something that lives on this node. */
  newPid(label = 'p'): Pid {
    return formatPid(this.name, this.incarnation, `${label}${this.nextLocalId++}`);
  }

  /** Changes this node's labels at run time; peers learn them by gossip. */
  setLabels(labels: Record<string, string>): void {
    this.membership.updateSelf({ labels });
  }

  /** Closes the link to a peer (it will be redialled). For operators and tests. */
  disconnect(peer: string, reason = 'disconnected by operator'): void {
    this.links.disconnect(peer, reason);
  }

  /** Link counters without building the whole status (cheap: for metrics). */
  linkStats(): NodeStatus['stats'] & { links: number } {
    return {
      ...this.links.stats,
      links: this.links.all().length,
      ...(this.transport.bytes ? { bytesIn: this.transport.bytes.in, bytesOut: this.transport.bytes.out } : {}),
    };
  }

  /** Writes the desired state to the data dir (persistence.ts calls it, and handles a throw), keeping `stateSaving` up to date. */
  private saveState(store: StateFile, state: SavedState): void {
    try {
      store.save(state);
    } catch (err) {
      this.saving.failures++;
      const first = this.saving.failingSince === undefined;
      this.saving.failingSince ??= this.clock.now();
      this.saving.lastError = (err as Error).message;
      // The members hear of it too (protocol 2.6: ctl status asked of any member, the desktop app), once per run of failures.
      if (first) this.membership.updateSelf({ saveFailing: { since: this.saving.failingSince, error: this.saving.lastError.slice(0, SAVE_ERROR_MAX) } });
      throw err;
    }
    this.saving.lastSavedAt = this.clock.now();
    if (this.saving.failingSince !== undefined) this.membership.updateSelf({ saveFailing: undefined });
    delete this.saving.failingSince;
    delete this.saving.lastError;
  }

  /** A snapshot of everything this node reports about itself (what GET /status serves). */
  status(): NodeStatus {
    const now = this.clock.now();
    return {
      name: this.name,
      cluster: this.cluster,
      incarnation: this.incarnation,
      role: this.role,
      address: this.address,
      startedAt: this.startedAt,
      now,
      protocol: { ...PROTOCOL_VERSION },
      members: this.members(),
      links: this.links.all().map((l) => ({
        peer: l.peer.name,
        incarnation: l.peer.incarnation,
        direction: l.direction,
        establishedAt: l.establishedAt,
        lastHeardMsAgo: now - l.lastHeardAt,
        suspect: l.suspect,
        rttMs: l.rttMs,
        heartbeat: { intervalMs: l.timing.heartbeatIntervalMs, suspectAfterMs: l.timing.suspectAfterMs, timeoutMs: l.timing.heartbeatTimeoutMs },
      })),
      dialing: this.membership.dialStatus(),
      discovery: this.discovery?.status() ?? [],
      groups: this.groups.snapshot(),
      stats: (({ links: _links, ...stats }) => stats)(this.linkStats()),
      supervisor: {
        ready: this.supervisor.isReady,
        paused: this.supervisor.rebalancingPaused,
        draining: this.supervisor.draining(),
        cluster: this.supervisor.countChildren(),
        local: this.local.countChildren(),
        store: this.supervisor.store(),
      },
      ...(this.store !== undefined ? { stateSaving: { ...this.saving } } : {}),
    };
  }

  /**
   * Graceful stop: stops every child in parallel (each within its shutdown
   * time), announces the leave to every peer and waits (at most `graceMs`)
   * until each has acknowledged it by closing its link; then stops listening.
   */
  async stop(reason = 'shutdown', graceMs = 2000): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.clock.clearTimeout(this.waitsForTimer);
    this.supervisor.prepareStop();
    // Planned moves: each instance's state goes to its next node before the instance stops (calls.ts).
    await this.supervisor.handOverForLeave();
    const children = this.local.countChildren().active;
    if (children > 0) this.log.info({ children }, 'stopping children');
    await this.local.stopAll();
    // Every message delivered to a child here is answered before the leave goes out (calls.ts: a leave is not a lost link).
    await this.supervisor.callsDelivered(graceMs);
    this.log.info({ reason }, 'node leaving the cluster');
    this.resources.stop();
    this.discovery?.stop();
    this.membership.stop();
    await new Promise<void>((resolve) => this.links.leave(reason, graceMs, resolve));
    await this.transport.close();
    this.store?.close();
    this.state = 'stopped';
    this.log.info({}, 'node stopped');
  }

  /**
   * Abrupt stop, as if the process died: no leave, no further messages or
   * timers. Used by simulations together with the network's `crash()`.
   */
  kill(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.clock.clearTimeout(this.waitsForTimer);
    this.supervisor.stop();
    this.resources.stop();
    this.store?.abandon();
    this.local.abandon();
    this.discovery?.stop();
    this.membership.stop();
    // As a process that dies: its peers see the connections drop, not closes made on purpose.
    this.links.shutdown(true);
  }

  private onLinkUp(link: Link): void {
    this.membership.onLinkUp(link);
    this.groups.peerUp(link.peer.name);
    this.supervisor.peerUp(link.peer.name, link.peer.role);
    this.resources.peerUp(link.peer, link.protocol);
    // A first round trip now, not at the next heartbeat (majority mode's lease rests on it).
    this.links.probe(link.peer.name);
  }

  /**
   * A frame from a client link (link.ts, "Client links"): commands, executed
   * and answered on that link as any peer's are; a leave closes the link;
   * anything else is not a client's business and is dropped. The client is
   * no member: it never reaches membership, groups or the store.
   */
  private onClientMessage(link: Link, message: LinkMessage): void {
    if (message.t === 'cmd') {
      if (this.role !== 'member') {
        this.links.sendOn(link, {
          t: 'cmd.reply',
          id: message.id,
          ok: false,
          error: { code: 'not-a-member', message: `${this.name} is an observer; send commands to a member` },
        });
        return;
      }
      void this.commands.execute(link.peer.name, message).then((reply) => this.links.sendOn(link, reply));
      return;
    }
    if (message.t === 'leave') {
      this.links.closeOn(link, `client left: ${message.reason}`);
      return;
    }
    this.log.warn({ client: link.peer.name, t: message.t }, 'a client sent a frame only nodes send; dropped');
  }

  /**
   * Publishes what this member waits for while it is not ready (protocol
   * 2.7). Readiness is looked at every few ms while a node waits, and its
   * gaps change with every link and sync of a start, so the wait is
   * announced once it has lasted WAITS_FOR_ANNOUNCE_MS and then at most
   * that often, and only when it changed: a node that readies within a
   * second gossips nothing (50 members starting together would otherwise
   * each announce a shrinking list to every peer, O(N³) entries). Ready, a
   * wait it announced is withdrawn at once.
   */
  private announceWaitsFor(waitsFor: WaitsFor | undefined): void {
    if (this.role !== 'member') return;
    this.waitsForNext = waitsFor;
    if (waitsFor === undefined) {
      this.clock.clearTimeout(this.waitsForTimer);
      this.waitsForTimer = undefined;
      this.publishWaitsFor();
      return;
    }
    this.waitsForTimer ??= this.clock.setTimeout(() => {
      this.waitsForTimer = undefined;
      if (this.state === 'running') this.publishWaitsFor();
    }, WAITS_FOR_ANNOUNCE_MS);
  }

  private publishWaitsFor(): void {
    const before = this.membership.get(this.name)?.waitsFor;
    const next = this.waitsForNext;
    if (before === undefined && next === undefined) return;
    if (before !== undefined && next !== undefined && JSON.stringify(before) === JSON.stringify(next)) return;
    this.membership.updateSelf({ waitsFor: next });
  }

  /**
   * Publishes this node's readiness. When it becomes ready, it also notes
   * which peers must hear of it before it starts anything (`readyConfirmed`)
   * and probes them, so that takes a round trip.
   */
  private announceReady(ready: boolean): void {
    // Never startable on the announcement itself: its peers must hear of it first (`readyConfirmed`).
    this.membership.updateSelf({ ready, ...(this.role === 'member' ? { startable: false } : {}) });
    if (!ready) {
      this.readyAnnounce = undefined;
      return;
    }
    const links = this.links.all();
    this.readyAnnounce = { seq: this.links.nextPingSeq, peers: links.map((l) => ({ name: l.peer.name, incarnation: l.peer.incarnation })) };
    for (const l of links) this.links.probe(l.peer.name);
  }

  /**
   * Race "two nodes become ready at once, each before it knows of the
   * other": each would own, and start, children the other ranks above it
   * for. A node that has announced its readiness starts nothing until every
   * peer that was linked then has echoed a ping sent after the announcement
   * (links are FIFO: it has processed the announcement, and the other side
   * sees any instance that peer had started before). Peers linked later got
   * the announcement in the member table sent on link up, before anything
   * else.
   */
  private readyConfirmed(): boolean {
    const announce = this.readyAnnounce;
    if (!announce) return false;
    for (const peer of announce.peers) {
      const link = this.links.get(peer.name);
      if (!link || link.peer.incarnation !== peer.incarnation) continue;
      if (link.confirmedSeq < announce.seq) return false;
    }
    return true;
  }

  private onLinkDown(link: Link, reason: string, byPeer: boolean): void {
    this.commandClient.peerDown(link.peer.name);
    this.resources.peerDown(link.peer.name);
    this.groups.peerDown(link.peer.name);
    this.supervisor.peerDown(link.peer.name);
    this.membership.onLinkDown(link, reason, byPeer);
  }

  /**
   * The member table with what the links know now: when each linked member
   * was last heard and last confirmed hearing us (the netsplit policy's
   * inputs; down members keep what their link knew when it went).
   */
  private membersWithLinks(): Member[] {
    const members = this.membership.members();
    // Majority mode's policy reads them; so do an observer's candidates (candidates.ts: cut off).
    if (this.config.netsplit !== 'majority' && this.role === 'member') return members;
    return members.map((m) => {
      const link = this.links.get(m.name);
      const facts: Partial<Member> = { unheardBy: this.membership.unheardBy(m.name, m.incarnation) };
      if (link && link.peer.incarnation === m.incarnation) {
        facts.lastHeardAt = link.lastHeardAt;
        if (link.confirmedAt !== undefined) facts.confirmedAt = link.confirmedAt;
      }
      return { ...m, ...facts };
    });
  }

  /**
   * Warns, once per peer incarnation, of a member whose netsplit settings
   * differ from this node's (distributed/netsplit-settings.ts): they link,
   * but majority mode's promise holds only if every member keeps it. A peer
   * that announces nothing (an earlier release) is not warned of.
   */
  private checkNetsplit(peer: Member): void {
    const own = this.membership.get(this.name)?.netsplit;
    const theirs = peer.netsplit;
    if (own === undefined || theirs === undefined || peer.role !== 'member' || sameNetsplit(own, theirs)) return;
    if (this.netsplitWarned.get(peer.name) === peer.incarnation) return;
    this.netsplitWarned.set(peer.name, peer.incarnation);
    this.log.warn(
      { peer: peer.name, incarnation: peer.incarnation, peerNetsplit: netsplitText(theirs), netsplit: netsplitText(own) },
      `netsplit settings differ: ${netsplitDifference({ names: [peer.name], settings: theirs }, { names: [`this node (${this.name})`], settings: own })}`,
    );
  }

  private emitResources(report: ResourceReport): void {
    try {
      this.emit('resources', report);
    } catch (err) {
      this.log.error({ err, peer: report.node }, 'resources listener threw');
    }
  }

  private emitMemberEvent(event: MemberEvent): void {
    // The supervisor exists once the constructor has run; membership events come later.
    this.supervisor?.onMembership(event);
    if (event.kind === 'member-up' || event.kind === 'member-updated') this.checkNetsplit(event.member);
    try {
      (this.emit as (name: string, event: MemberEvent) => boolean)(event.kind, event);
    } catch (err) {
      this.log.error({ err, event: event.kind }, 'member event listener threw');
    }
  }
}

/** Validated node config from a partial input: defaults and the timing preset fill in the rest. */
export function createNodeConfig(input: Partial<NodeConfigInput> & { name: string; secret: string }): NodeConfig {
  return loadConfig({ flags: input, env: {} });
}

/** Reads and validates a children file: a JSON array of child specs. Throws ConfigError naming the problem. */
export function readChildrenFile(path: string): ChildSpec[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`children (${path}): ${(err as Error).message}`]);
  }
  if (!Array.isArray(raw)) throw new ConfigError([`children (${path}): must hold a JSON array of child specs`]);
  const problems: string[] = [];
  const specs: ChildSpec[] = [];
  const ids = new Set<string>();
  raw.forEach((entry, i) => {
    try {
      const spec = parseChildSpec(entry);
      if (ids.has(spec.id)) problems.push(`children (${path}) [${i}]: duplicate id ${JSON.stringify(spec.id)}`);
      ids.add(spec.id);
      specs.push(spec);
    } catch (err) {
      problems.push(`children (${path}) [${i}]: ${(err as Error).message}`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return specs;
}

/** What openDataDir found: the locked store, the state to restore, when it was saved, and a notice for the operator. */
interface DurableStart {
  store: StateFile;
  restored: SavedState | undefined;
  savedAt?: number;
  notice?: string;
}

/**
 * Locks a member's data dir and reads the desired state saved there. A
 * corrupt file has been moved aside by the store: say so loudly, then start
 * empty — the peers hold the state and the usual merge brings it back.
 */
function openDataDir(config: NodeConfig, clock: Clock, log: Logger): DurableStart | undefined {
  if (config.dataDir === undefined) return undefined;
  if (config.role !== 'member') {
    log.warn({ dataDir: config.dataDir }, 'dataDir ignored: an observer holds no desired state');
    return undefined;
  }
  const store = StateFile.open(config.dataDir, { node: config.name, clock, log });
  const loaded = store.load();
  if (loaded.kind === 'empty') {
    log.info({ dataDir: store.dir }, 'no saved desired state in the data dir yet');
    return { store, restored: undefined };
  }
  if (loaded.kind === 'corrupt') {
    log.error(
      { path: store.file, reason: loaded.reason, movedTo: loaded.movedTo ?? null },
      `corrupt desired state file ${store.file}: ${loaded.reason}; ` +
        `${loaded.movedTo ? `moved it aside to ${loaded.movedTo}` : 'could not move it aside'}; starting empty and recovering the state from the peers`,
    );
    return {
      store,
      restored: undefined,
      notice:
        `its desired state file was corrupt at start (${loaded.reason})${loaded.movedTo ? ` and was moved aside to ${loaded.movedTo}` : ''}: ` +
        'it started empty and took the state from its peers (if every member says this, the cluster lost its children: restore a good file)',
    };
  }
  if (loaded.kind === 'newer') {
    log.error(
      { path: store.file, version: loaded.version, reads: STATE_VERSION, movedTo: loaded.movedTo ?? null },
      `the desired state file ${store.file} was written by a newer release (format ${loaded.version}; this node reads up to ${STATE_VERSION}); ` +
        `${loaded.movedTo ? `moved it aside, untouched, to ${loaded.movedTo}` : 'could not move it aside'}; ` +
        `starting empty and recovering the state from the peers (run the newer release to use that file)`,
    );
    return {
      store,
      restored: undefined,
      notice:
        `its desired state file was written by a newer release (format ${loaded.version}; this one reads up to ${STATE_VERSION})` +
        `${loaded.movedTo ? ` and was moved aside to ${loaded.movedTo}` : ''}: it started empty and took the state from its peers ` +
        '(after a downgrade of every member the cluster has no children: run the newer release, which reads that file)',
    };
  }
  const ageMs = clock.now() - loaded.savedAt;
  log.info(
    {
      path: store.file,
      savedAt: new Date(loaded.savedAt).toISOString(),
      ageMs,
      ...(loaded.convertedFrom !== undefined ? { convertedFrom: loaded.convertedFrom } : {}),
    },
    'read the saved desired state',
  );
  if (loaded.convertedFrom !== undefined)
    log.info(
      { path: store.file, from: loaded.convertedFrom, to: STATE_VERSION },
      `converted the desired state file from format ${loaded.convertedFrom}; it is written as format ${STATE_VERSION} from now on`,
    );
  if (ageMs > config.tombstoneTtlMs)
    // A data dir restored from a backup taken before a stop whose tombstone is gone everywhere would bring the child
    // back (the disk tour). Into a cluster that still runs a member holding newer state, the restored member is told
    // so at its first link (tombstones.ts, 5) and takes the state from the others; restored everywhere at once,
    // nothing newer is left to tell it. Nothing here tells a backup from a member that was only away.
    log.warn(
      { path: store.file, savedAt: new Date(loaded.savedAt).toISOString(), ageMs, tombstoneTtlMs: config.tombstoneTtlMs },
      'the saved desired state is older than the tombstone TTL: if this data dir was restored from a backup, the first member ' +
        'holding newer state that links discards it for the state of the others; if every member was restored from backups, ' +
        'children stopped since them may be running again — check pogo ctl ls and stop them',
    );
  return { store, restored: loaded.state, savedAt: loaded.savedAt };
}

function advertisedAddress(config: NodeConfig, bound: string): string {
  if (config.advertise) return config.advertise;
  const { host, port } = parseAddress(bound);
  if (host === '0.0.0.0' || host === '::') return formatAddress(hostname(), port);
  return bound;
}
