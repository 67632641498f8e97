/**
 * pogo-core: the public API, curated.
 *
 * A node joins a cluster through seeds, links to every member (Socket.IO,
 * authenticated by a shared secret), gossips membership, keeps Erlang
 * pg-style process groups and runs a distributed supervisor over them. This
 * file lists what a program embedding a node needs, and nothing else:
 *
 *   - the node and its configuration, the distributed supervisor with its
 *     calls and errors, the per-node supervisor, workers and child specs,
 *     process groups, the logger, clock/random interfaces with their
 *     production implementations, the status server, the observer (what
 *     the desktop app runs) and the UI gateway;
 *   - not here: the test doubles ('pogo-core/testing'), the wire protocol
 *     ('pogo-core/protocol'), the observer's state and UI protocol schemas
 *     ('pogo-core/observer-state', 'pogo-core/ui-protocol'), the demo
 *     cluster ('pogo-core/demo'), and internals (placement, the command
 *     executor, state diffing, resource sampling).
 *
 * The API report core/api/pogo-core.api.md is generated from this entry
 * point (`npm run docs`); `npm run api:check -w pogo-core` (part of the root typecheck)
 * fails when the two differ. The reference documentation shows the TSDoc
 * comment on each declaration.
 *
 * @packageDocumentation
 */

// --- The node and its configuration -----------------------------------------
/** A cluster member (PogoNode) and the function that fills a config's defaults. */
export { PogoNode, createNodeConfig } from './node.js';
/** A node's injectable dependencies, its status report and its events. */
export type { NodeDeps, NodeStatus, LinkStatus, NodeEventMap, ResourceReport } from './node.js';
/** How saving the desired state to a member's data dir goes (`PogoNode.stateSaving`). */
export type { StateSavingHealth } from './distributed/persistence.js';
/** CPU, memory and event-loop figures a node reports about itself. */
export type { ResourceFigures, LagStats } from './resources.js';
/** Reading a config file and environment, its error, and the timing presets. */
export { loadConfig, ConfigError, TIMING_PRESETS } from './config.js';
/** The node's configuration, as given (input) and as filled in. */
export type { NodeConfig, NodeConfigInput, TimingConfig } from './config.js';
/** Where loadConfig read each setting from. */
export type { ConfigSources } from './config.js';
/** What seed discovery (static seeds, DNS) last found, in a node's status. */
export type { DiscoveryStatus } from './discovery/seed-discovery.js';
/** Schemas of a seed as written (`host:port`, `dns:<name>:<port>`, `dns-srv:<name>`) and of a DNS server (`ip[:port]`), for tools that take them from users. */
export { SeedTextSchema, DnsServerSchema } from './discovery/seed-spec.js';
/** Sampling a process's CPU and memory (injectable in NodeDeps). */
export type { ProcessProbe } from './resources.js';
/** The wire-level member, role, status and resource types a node's status carries (schemas in 'pogo-core/protocol'). */
export type { Pid, Role, MemberInfo, MemberStatus, Resources } from './protocol.js';

// --- Distributed supervisor ---------------------------------------------------
/** The cluster-wide supervisor a node runs (`node.supervisor`). */
export { DistributedSupervisor } from './distributed/distributed-supervisor.js';
/** Its children, events, status, placement explanations and call options/answers. */
export type {
  DistEvent,
  GlobalChild,
  LocalChild,
  GlobalStatus,
  ChildCountsGlobal,
  Explanation,
  MoveReason,
  CallAnswer,
  CallFigures,
  CallOptions,
} from './distributed/distributed-supervisor.js';
/** The error the distributed supervisor throws, with a machine-readable code. */
export { DistError } from './distributed/errors.js';
/** The codes a DistError carries. */
export type { DistErrorCode } from './distributed/errors.js';
/** The distributed supervisor's options (built from the node's config). */
export type { DistributedConfig, DistributedOptions } from './distributed/distributed-supervisor.js';
/** How a child's node was chosen (pin, hash), as shown in its status. */
export type { PlacedBy } from './distributed/view.js';
/** A summary of the replicated desired-state store, in the status. */
export type { StoreSummary } from './distributed/desired-state.js';
/** A member's netsplit settings as it announces them (mode, expected members), shown to UIs. */
export type { NetsplitSettings } from './distributed/netsplit-settings.js';
/** A member's failing save as it announces it (since when, why), shown by ctl status and to UIs. */
export type { SaveFailing } from './protocol.js';
/** What a member that is not ready waits for, as it announces it (links, roster, sync, seed, lease; until when), shown to UIs. */
export type { WaitsFor } from './protocol.js';
/** How placement judged each candidate node (part of an Explanation). */
export type { Candidate, CandidateVerdict, Placement } from './distributed/placement.js';

// --- Local supervisor, child specs, messages -------------------------------------
/** The per-node supervisor (Erlang's one_for_one) and its error. */
export { LocalSupervisor, SupervisorError } from './supervisor/local-supervisor.js';
/** A local child's info, events, status and counts; the supervisor's options. */
export type { ChildInfo, ChildEvent, ChildStatus, ChildCounts, LocalSupervisorOptions, SupervisorErrorCode } from './supervisor/local-supervisor.js';
/** Why a child has no message channel (it moved, or is gone). */
export type { NoChannel } from './supervisor/local-supervisor.js';
/** What a move's handovers went without (LocalSupervisor.handoverLosses). */
export type { HandoverLosses } from './supervisor/running-child.js';
/** Validating a child spec (the schema and its error). */
export { parseChildSpec, SpecError, ChildSpecSchema } from './supervisor/child-spec.js';
/** A child spec, as given and as validated, and its restart/shutdown settings. */
export type { ChildSpec, ChildSpecInput, RestartType, Shutdown } from './supervisor/child-spec.js';
/** Why a child exited. */
export type { ExitReason } from './supervisor/restart-policy.js';
/** One line of a child's captured output. */
export type { OutputLine } from './supervisor/log-ring.js';
/** The error a message or call to a child fails with, its codes and the default call timeout. */
export { MessageError, MESSAGE_ERROR_CODES, DEFAULT_CALL_TIMEOUT_MS } from './supervisor/child-channel.js';
/** A child's message channel and the MessageError codes. */
export type { ChildChannel, MessageErrorCode } from './supervisor/child-channel.js';

// --- Workers ------------------------------------------------------------------------
/** Defining and registering workers, the built-in ones, and a worker process's fault handlers. */
export { defineWorker, defaultWorkers, WorkerRegistry, installWorkerFaultHandlers } from './supervisor/workers.js';
/** What a worker factory receives and returns. */
export type { WorkerContext, WorkerFactory, WorkerHandle, WorkerExit, MessageHandler, ChildMessaging } from './supervisor/workers.js';
/** Importing worker modules (the CLI's `--workers`). */
export { loadWorkerModules } from './supervisor/load-workers.js';

// --- Process groups and membership ---------------------------------------------------
/** Erlang pg-style process groups and their error. */
export { ProcessGroups, PgError } from './groups.js';
/** Group members, events, listeners, snapshots and the JSON values members carry. */
export type { PgMember, PgEvent, PgListener, PgSnapshot, PgValueSharer, JsonValue } from './groups.js';
/** A ProcessGroups' options and a group monitor. */
export type { ProcessGroupsOptions, PgMonitor } from './groups.js';
/** A cluster member as membership sees it, and membership events. */
export type { Member, MemberEvent } from './membership.js';

// --- Logging, time, randomness, transport -----------------------------------------------
/** A pino logger with secrets redacted. */
export { createLogger } from './logger.js';
/** The logger interface every layer takes, and its levels. */
export type { Logger, LogLevel, LogFields } from './logger.js';
/** Wall/monotonic time and timers from the system (tests use ManualClock from 'pogo-core/testing'). */
export { SystemClock } from './clock.js';
/** The clock interface every layer takes. */
export type { Clock, TimerHandle } from './clock.js';
/** Randomness from node:crypto (tests use SeededRandom from 'pogo-core/testing'). */
export { CryptoRandom } from './random.js';
/** The random-source interface every layer takes. */
export type { Random } from './random.js';
/** The Socket.IO transport a node links through by default. */
export { SocketIoTransport } from './transport/socketio.js';
/** The transport seam (tests use MemoryNetwork from 'pogo-core/testing'). */
export type { Transport, Conn, ConnHandlers, TransportRefusal } from './transport/transport.js';
/** The Socket.IO transport's options (TLS, limits). */
export type { SocketIoTransportOptions } from './transport/socketio.js';

// --- Status, metrics, credentials ---------------------------------------------------------
/** The HTTP status server (/status, /children, /metrics, /healthz). */
export { startStatusServer } from './status-server.js';
/** A running status server. */
export type { StatusServer } from './status-server.js';
/** Where a status server listens (host and port). */
export type { StatusServerConfig } from './status-server.js';
/** A node's Prometheus metrics (`node.metrics`). */
export type { NodeMetrics } from './metrics.js';
/** Reading a client's token from a token file's text. */
export { clientToken } from './credentials.js';

// --- Observer and UI gateway (what the desktop app runs) -------------------------------------
/** Starting an observer node (joins a cluster, serves the UI gateway) and waiting for members. */
export { startObserver, waitForMembers } from './cli/observe.js';
/** An observer's options and the running observer. */
export type { StartObserverOptions, ObserverTlsOptions, ObserverTiming, RunningObserver } from './cli/observe.js';
/** The Socket.IO gateway that serves cluster state and commands to UIs. */
export { startGateway } from './observer/gateway.js';
/** A running gateway and its options. */
export type { Gateway, GatewayOptions } from './observer/gateway.js';
/** The cluster state a gateway serves (schemas and diffing are in 'pogo-core/observer-state'). */
export type {
  ClusterState,
  StatePatch,
  ChildEventType,
  NodeResourcesView,
  ResourcePoint,
  MemberView,
  MemberViewStatus,
  ActivityView,
  SampleView,
  ChildView,
  EventView,
  ClusterEvent,
  ConvergedEvent,
  GatewayEvent,
  StopNote,
  StoppedEvent,
  EventType,
  Access,
} from './observer/state.js';
/** The UI protocol's types (its schemas and parsers are in 'pogo-core/ui-protocol'). */
export type {
  AuditEntry,
  MemberViewReply,
  CommandAck,
  CommandArgs,
  CommandArgsInput,
  CommandErrorCode,
  CommandFailure,
  CommandOutcome,
  MemberResults,
  UiResults,
  UiOp,
  UiCommand,
  UiCommandRequest,
  ServerToClientEvents,
  ClientToServerEvents,
  OutputEvent,
  WatchAck,
} from './observer/ui-protocol.js';

// --- Types the signatures above refer to ---------------------------------------------------
// Exported type-only so the API report and reference can name them (API Extractor fails on a
// public signature that names an unexported type); the schemas' values are in
// 'pogo-core/protocol' and 'pogo-core/ui-protocol'.
/** The wire schemas MemberInfo, MemberStatus, Resources and Role are inferred from. */
export type { MemberInfoSchema, MemberStatusSchema, ResourcesSchema, RoleSchema } from './protocol.js';
/** The operator command names (start, stop, ...) and their schema. */
export type { CommandOp, CommandOpSchema } from './protocol.js';
/** The peer messages the distributed supervisor and process groups exchange over links, and their schemas. */
export type {
  StoreMessage,
  StoreMessageSchema,
  CallFrame,
  CallSchema,
  CallReplyFrame,
  CallReplySchema,
  HandoverFrame,
  HandoverSchema,
  PgSync,
  PgSyncSchema,
  PgJoin,
  PgJoinSchema,
  PgLeave,
  PgLeaveSchema,
} from './protocol.js';
/** The schema NodeConfig is inferred from. */
export type { NodeConfigSchema } from './config.js';
/** The schemas a child spec's restart type and shutdown setting are inferred from. */
export type { RestartSchema, ShutdownSchema } from './supervisor/child-spec.js';
/** The UI protocol's op names, argument/result schemas and output events its types above are built from. */
export type {
  AuditEntrySchema,
  AnyOp,
  COMMAND_ARG_SCHEMAS,
  COMMAND_ERROR_CODES,
  MemberViewReplySchema,
  MEMBER_RESULT_SCHEMAS,
  UI_OPS,
  OutputLinesEvent,
  OutputStatusEvent,
} from './observer/ui-protocol.js';
/** A node's link counters (in its status). */
export type { LinkStats } from './link.js';
/** The distributed supervisor's collaborators: the links a claim is made through, a call frame, a register version, a submitted child, the saved state. */
export type { ClaimLinks } from './distributed/local-instances.js';
export type { CallWire } from './distributed/calls.js';
export type { Ver } from './distributed/registers.js';
export type { Submitted } from './distributed/view.js';
export type { SavedState } from './distributed/state-file.js';
/** The DNS queries seed discovery makes (injectable in NodeDeps) and the SRV record they return. */
export type { DnsQueries, SrvRecord } from './discovery/dns-lookup.js';
/** Process groups' peer messages and the channel they are sent through. */
export type { PgMessage, PeerChannel } from './groups.js';
/** A process's CPU time, as a ProcessProbe reports it. */
export type { CpuTime } from './resources.js';
/** The Socket.IO transport's TLS options. */
export type { TlsOptions } from './transport/socketio.js';
