/**
 * The distributed supervisor's settings: its section of the node's config
 * (config-sections.ts maps the flat config onto it), handed whole to the
 * distributed supervisor, which hands the reconciler and its local
 * instances each the part they read (a `Pick` of this type).
 *
 * A file of its own so that the supervisor's parts can name it without
 * importing distributed-supervisor.ts, which imports them (no import
 * cycles, type-only ones included).
 */
/** The distributed supervisor's section of the node's config (config-sections.ts maps the flat config onto it). */
export interface DistributedConfig {
  /** What a side of a network split may run: `available` runs what it cannot see; `majority` runs only with more than half of `expectedMembers` behind it. */
  netsplit: 'available' | 'majority';
  /** How many members the cluster should have; required for `majority`, `undefined` otherwise. */
  expectedMembers: number | undefined;
  /** Most rebalancing moves this node starts per second. */
  maxMovesPerSecond: number;
  /** Failed starts of a child on one node after which placement skips that node. */
  maxStartFailures: number;
  /** How long startChild and the other requests wait for the cluster, in ms, before they reject with DistError `timeout` (the request stays in place). */
  startChildTimeoutMs: number;
  /** Interval of the full reconcile pass and store digest exchange that repair anything missed, in ms. */
  antiEntropyIntervalMs: number;
  /** After this long, in ms, a child's failed starts on a node are forgotten. */
  failureResetMs: number;
  /** Least time a terminated child's tombstone is kept, in ms (and until every member holds it). */
  tombstoneTtlMs: number;
  /** A member away this long is forgotten (tombstones.ts). */
  forgetAfterMs: number;
  /** How long, in ms, the node waits for every known member to be linked and synced before it takes children anyway. */
  readyTimeoutMs: number;
  /** This node's lease in majority mode (its heartbeat timeout), in ms. */
  leaseMs: number;
  /** The node's heartbeat interval, in ms (majority mode times its lease checks by it). */
  heartbeatIntervalMs: number;
  /** Largest message, reply or handover state, bytes of JSON (default 1 MiB). */
  callMaxBytes?: number;
  /** Most calls and casts made here outstanding at once; one more is refused `overloaded` (default: no bound). */
  maxOutstandingCalls?: number;
  /** Longest a moving instance's running message handlers may take to finish, and then its `onHandover` (each; default 5 s). */
  handoverTimeoutMs?: number;
}
