/**
 * Process groups' public types: members, events, monitors, the peer channel
 * and the caller error. The model they describe (scopes, pids, joins that
 * stack, groups that vanish with their last member) is in
 * process-groups.ts's header.
 */
import type { Logger } from '../logger.js';
import type { JsonValue, PgJoin, PgLeave, PgSync } from '../protocol.js';

/** A member of a process group: its pid, node and value. */
export interface PgMember {
  /** The member's pid (`<node>/<incarnation>/<local id>`). */
  readonly pid: string;
  /** The node the pid lives on (the only node that may change its memberships). */
  readonly node: string;
  /** The small JSON value given at join, if any. */
  readonly value?: JsonValue;
}

/** A process group change: members joined or left a group. */
export interface PgEvent {
  /** Whether the members joined or left. */
  readonly kind: 'join' | 'leave';
  /** The scope of the group. */
  readonly scope: string;
  /** The group's name. */
  readonly group: string;
  /** The members that joined or left (one per join), never empty. */
  readonly members: readonly PgMember[];
}

/** A callback for process group events. */
export type PgListener = (event: PgEvent) => void;

/**
 * Given a member value of `group` before it is frozen (a fresh copy: decoded
 * from a peer's frame, or copied from a local caller), may replace any part
 * of it with an *equal* value the caller already holds, so that the two share
 * memory (`ProcessGroups.shareValues`). It must not change what the value
 * says, and must not keep the value.
 */
export type PgValueSharer = (group: string, value: JsonValue) => void;

/** A monitor on a group or on all groups: the snapshot now, and a stop function. */
export interface PgMonitor<Snapshot> {
  /** The state at subscription time; events start after it. */
  readonly snapshot: Snapshot;
  /** Stops events; idempotent. */
  unsubscribe(): void;
}

/** A process-group message between nodes: the sender's local memberships of one scope (`pg.sync`, on link up), or one join or leave. */
export type PgMessage = PgSync | PgJoin | PgLeave;

/** How the groups module reaches peers; per-pair FIFO, typically the link layer. */
export interface PeerChannel {
  /** Sends `message` to `peer`; messages to one peer must arrive in the order they were sent. */
  send(peer: string, message: PgMessage): void;
}

/** Options of ProcessGroups: this node's name and incarnation, the peer channel, the logger. */
export interface ProcessGroupsOptions {
  /** This node's name. */
  node: string;
  /** This node's incarnation; pids of earlier incarnations may not join. */
  incarnation: string;
  /** How messages reach peers. */
  channel: PeerChannel;
  /** Where ProcessGroups logs dropped or invalid peer messages. */
  log: Logger;
}

/** JSON view of every scope for status endpoints: `{ [scope]: { [group]: members } }`. */
export type PgSnapshot = Record<string, Record<string, PgMember[]>>;

/** A caller error (invalid pid, name or value); the message says what to fix. */
export class PgError extends Error {
  /** Always `PgError`. */
  override readonly name = 'PgError';
}
