/**
 * pogo-core: the public API.
 *
 * A node joins a cluster through seeds, links to every member (Socket.IO,
 * authenticated by a shared secret), gossips membership and keeps Erlang
 * pg-style process groups. See docs/internals.md ("Using it from code") for examples.
 */
export { PogoNode, createNodeConfig } from './node.js';
export type { NodeDeps, NodeStatus, LinkStatus, NodeEventMap, ResourceReport } from './node.js';
export { ResourceSampler, cpuPercent, lagFigures, systemProbe } from './resources.js';
export type { ResourceFigures, ProcessProbe, CpuTime, LagStats } from './resources.js';
export { loadConfig, ConfigError, CONFIG_FIELDS, TIMING_FIELDS, TIMING_PRESETS, NodeConfigSchema } from './config.js';
export type { NodeConfig, NodeConfigInput, TimingConfig } from './config.js';
export { ProcessGroups, PgError } from './groups.js';
export type { PgMember, PgEvent, PgListener, PgSnapshot, JsonValue } from './groups.js';
export type { Member, MemberEvent } from './membership.js';
export { SystemClock, ManualClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { CryptoRandom, SeededRandom } from './random.js';
export type { Random } from './random.js';
export { createLogger, MemoryLogger, silentLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
export { MemoryNetwork, MemoryTransport } from './transport/memory.js';
export { SocketIoTransport } from './transport/socketio.js';
export type { Transport, Conn, ConnHandlers } from './transport/transport.js';
export { startStatusServer } from './status-server.js';
export { LocalSupervisor, SupervisorError } from './supervisor/local-supervisor.js';
export type { ChildInfo, ChildEvent, ChildStatus, ChildCounts, LocalSupervisorOptions, SupervisorErrorCode } from './supervisor/local-supervisor.js';
export { parseChildSpec, SpecError, ChildSpecSchema } from './supervisor/child-spec.js';
export type { ChildSpec, ChildSpecInput, RestartType, Shutdown } from './supervisor/child-spec.js';
export { shouldRestart } from './supervisor/restart-policy.js';
export type { ExitReason } from './supervisor/restart-policy.js';
export { defineWorker, defaultWorkers, WorkerRegistry, installWorkerFaultHandlers } from './supervisor/workers.js';
export type { WorkerContext, WorkerFactory, WorkerHandle, WorkerExit, MessageHandler, ChildMessaging } from './supervisor/workers.js';
export { MessageError, MESSAGE_ERROR_CODES, DEFAULT_CALL_TIMEOUT_MS } from './supervisor/child-channel.js';
export type { ChildChannel, MessageErrorCode } from './supervisor/child-channel.js';
export { loadWorkerModules } from './supervisor/load-workers.js';
export type { OutputLine } from './supervisor/log-ring.js';
export type { StatusServer } from './status-server.js';
export * from './protocol.js';
export { DistributedSupervisor } from './distributed/distributed-supervisor.js';
export type { DistEvent, GlobalChild, LocalChild, GlobalStatus, ChildCountsGlobal, Explanation, MoveReason, CallAnswer, CallOptions } from './distributed/distributed-supervisor.js';
export { DistError } from './distributed/errors.js';
export type { DistErrorCode } from './distributed/errors.js';
export { place, hrwScore } from './distributed/placement.js';
export type { Candidate, CandidateVerdict, Placement } from './distributed/placement.js';
export { createMetrics } from './metrics.js';
export type { NodeMetrics } from './metrics.js';
export { CommandExecutor, CommandClient, CommandError, MUTATING_OPS } from './commands.js';
export { clientToken, parseTokens, TokenSet, TOKEN_NAME_PATTERN } from './credentials.js';
export type { NamedToken } from './credentials.js';
export { startGateway, buildState } from './observer/gateway.js';
export type { Gateway, GatewayOptions } from './observer/gateway.js';
export { diffState, applyPatch, emptyState, MAX_EVENTS } from './observer/state.js';
export type { ClusterState, StatePatch, MemberView, MemberViewStatus, ActivityView, SampleView, ChildView, EventView, ClusterEvent, ConvergedEvent, GatewayEvent, EventType, Access } from './observer/state.js';
// The UI protocol's schemas and parsers are in 'pogo-core/ui-protocol'; its types are here too.
export type { AuditEntry, MemberViewReply, CommandAck, CommandArgs, CommandArgsInput, CommandErrorCode, CommandFailure, CommandOutcome, MemberResults, UiResults, UiOp, UiCommand, UiCommandRequest, ServerToClientEvents, ClientToServerEvents } from './observer/ui-protocol.js';
// The demo cluster (`pogo demo`) is not library API: the desktop app and tests import it from 'pogo-core/demo'.
export { startObserver, waitForMembers } from './cli/observe.js';
export type { StartObserverOptions, ObserverTlsOptions, ObserverTiming, RunningObserver } from './cli/observe.js';
