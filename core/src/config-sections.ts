/**
 * The node's configuration by layer: the flat, validated `NodeConfig`
 * (config.ts: one list of settings, as the flags, the environment and the
 * config file give them) mapped onto one section per layer, each handed
 * whole to the layer that reads it.
 *
 * Why two shapes: the flat list is the user-facing format — a flag, an
 * environment variable and a config-file key per setting, unchanged — and
 * public API (`NodeConfig`, `createNodeConfig`); the sections are what each
 * layer's constructor takes, so node.ts wires layers without copying
 * settings field by field, and a layer's settings are declared by the layer
 * (`LinkConfig` in link/types.ts, `MembershipTiming` in membership.ts,
 * `DistributedConfig` in distributed/distributed-config.ts, `SocketIoConfig`
 * in transport/socketio.ts, `SupervisorConfig` in
 * supervisor/local-supervisor.ts, `CommandsConfig` in commands.ts;
 * `StatusServerConfig` is declared here, as status-server.ts imports the
 * node, which imports this file).
 *
 * `configSections` is pure: the same config always maps to the same
 * sections. Derived values are computed here, once: a member's lease is its
 * heartbeat timeout, and an OS child's IPC line carries a whole call
 * message plus its envelope.
 */
import type { NodeConfig } from './config.js';
import type { CommandsConfig } from './commands.js';
import type { DistributedConfig } from './distributed/distributed-config.js';
import type { LinkConfig } from './link/types.js';
import type { MembershipTiming } from './membership.js';
import type { SupervisorConfig } from './supervisor/local-supervisor.js';
import type { SocketIoConfig } from './transport/socketio.js';

/** The TLS files the node reads when it starts (config.ts `readTls`), for its transport. */
export type TlsFilesConfig = Pick<NodeConfig, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile' | 'tlsRejectUnauthorized'>;

/** Where the status endpoint (status-server.ts) listens: the node config's `status` section, there when a status port is set. */
export interface StatusServerConfig {
  /** Interface to listen on (the config's `statusHost`, loopback by default). */
  host: string;
  /** Port to listen on (the config's `statusPort`); 0 picks a free one. */
  port: number;
}

/** Seeds and their DNS lookups (discovery/). */
export type DiscoveryConfig = Pick<NodeConfig, 'seeds' | 'dnsServer' | 'dnsIntervalMs'>;

/** The node's configuration, one section per layer. */
export interface NodeSections {
  transport: SocketIoConfig;
  tls: TlsFilesConfig;
  link: LinkConfig;
  membership: MembershipTiming;
  discovery: DiscoveryConfig;
  supervisor: SupervisorConfig;
  distributed: DistributedConfig;
  commands: CommandsConfig;
  /** Off (undefined) without a status port. */
  status: StatusServerConfig | undefined;
}

/** Bytes an OS child's IPC line keeps for a call's envelope beyond its message. */
export const IPC_ENVELOPE_BYTES = 1024;

/** Maps the flat config onto its sections (pure). */
export function configSections(c: NodeConfig): NodeSections {
  return {
    transport: { host: c.host, port: c.port, maxMessageBytes: c.maxMessageBytes, connectTimeoutMs: c.connectTimeoutMs },
    tls: { tlsCertFile: c.tlsCertFile, tlsKeyFile: c.tlsKeyFile, tlsCaFile: c.tlsCaFile, tlsRejectUnauthorized: c.tlsRejectUnauthorized },
    link: {
      secret: c.secret,
      timing: {
        heartbeatIntervalMs: c.heartbeatIntervalMs,
        suspectAfterMs: c.suspectAfterMs,
        heartbeatTimeoutMs: c.heartbeatTimeoutMs,
        handshakeTimeoutMs: c.handshakeTimeoutMs,
      },
      maxPendingHandshakes: c.maxPendingHandshakes,
    },
    membership: {
      gossipIntervalMs: c.gossipIntervalMs,
      reconnectBaseMs: c.reconnectBaseMs,
      reconnectMaxMs: c.reconnectMaxMs,
      downReapAfterMs: c.downReapAfterMs,
      leftReapAfterMs: c.leftReapAfterMs,
    },
    discovery: { seeds: c.seeds, dnsServer: c.dnsServer, dnsIntervalMs: c.dnsIntervalMs },
    supervisor: { allowCommands: c.allowCommands, startTimeoutMs: c.childStartTimeoutMs, ipcMaxMessageBytes: c.callMaxBytes + IPC_ENVELOPE_BYTES },
    distributed: {
      netsplit: c.netsplit,
      expectedMembers: c.expectedMembers,
      maxMovesPerSecond: c.maxMovesPerSecond,
      maxStartFailures: c.maxStartFailures,
      startChildTimeoutMs: c.requestTimeoutMs,
      antiEntropyIntervalMs: c.antiEntropyIntervalMs,
      failureResetMs: c.failureResetMs,
      tombstoneTtlMs: c.tombstoneTtlMs,
      forgetAfterMs: c.forgetAfterMs,
      readyTimeoutMs: c.readyTimeoutMs,
      // A member's lease in majority mode is its heartbeat timeout.
      leaseMs: c.heartbeatTimeoutMs,
      heartbeatIntervalMs: c.heartbeatIntervalMs,
      callMaxBytes: c.callMaxBytes,
      maxOutstandingCalls: c.maxOutstandingCalls,
      handoverTimeoutMs: c.handoverTimeoutMs,
    },
    commands: { operatorToken: c.operatorToken, viewerToken: c.viewerToken },
    status: c.statusPort === undefined ? undefined : { host: c.statusHost, port: c.statusPort },
  };
}
