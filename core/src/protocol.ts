/**
 * The wire protocol: every message that crosses a link between two nodes.
 *
 * One place holds it all: the protocol version, one tagged union (`t` is the
 * tag), and a runtime schema (zod) for every message. Types are not
 * validation: `decodeMessage` checks every value that arrives from a peer and
 * rejects anything invalid with a human-readable reason; callers log the
 * reason and drop the message, never crash.
 *
 * Versioning: `PROTOCOL_VERSION.major` changes only for incompatible changes;
 * nodes with different majors refuse to link. Message tags are append-only
 * ("numbers are protocol"): never reuse or change the meaning of a tag.
 * A minor version may add message types and optional fields, nothing else
 * (a new enum value or a new required field needs a new major). So that a
 * node one minor version newer can join during a rolling upgrade, frames
 * from a peer with a newer minor are decoded `tolerant`ly: fields we do not
 * know are dropped, and a message type we do not know is reported as
 * `unknownType` so the caller can ignore it quietly. Frames from peers of
 * our own or an older minor are decoded strictly: any unknown field is an
 * error.
 *
 * Limits: besides the per-field limits below, a frame may nest at most
 * `MAX_NESTING` levels deep (deeper values would exhaust the validator's
 * stack), and `decodeMessage` never throws, whatever it is given.
 *
 * Message families:
 * - handshake (on a connection that is not yet a link): hello → challenge →
 *   auth → welcome, or reject. See link.ts for the exchange.
 * - link: ping/pong heartbeats, leave (graceful departure).
 * - membership: gossip (member table entries); reach (whom the sender cannot hear, since 2.0).
 * - resources (since 2.2): res, a member's CPU, memory and event-loop lag, to observers only.
 * - groups: pg.sync (snapshot that replaces what the receiver held of the
 *   sender's scope), pg.join / pg.leave (deltas).
 * - store (since 2.0): `rs.*`, the replicated store of a scope's desired
 *   state (store/replication.ts).
 * - batch: `{t: 'batch', frames}` carries several link frames, in order, in
 *   one transport frame; each inner frame is validated on its own exactly
 *   as if it had come alone, and a batch never holds a batch (see
 *   `decodeBatch`).
 * - pg.sync `more`: a large sync goes in parts, `more: true` on all but the
 *   last.
 * - ping `echo`: a ping carries the `seq` and `sentAt` of the last ping
 *   received from the peer and how long it was held (`heldMs`), which gives
 *   the round trip and tells the peer we heard it (and everything it sent
 *   before that ping); both sides ping on their own timer, so there are no
 *   pongs (`pong` stays in the union, unused). A ping with `reply` is a
 *   probe: the peer answers at once with a ping that echoes it.
 *
 * Version 2.0 replaced the first version's pg copies of the desired state
 * with the replicated store; nodes of 1.x are refused with
 * `version-mismatch`, and batches, parts and echoes are spoken by every
 * 2.x peer.
 *
 * Version 2.1 added `heartbeat` to hello and challenge: the sender's
 * failure-detection settings, from which both ends derive the same ping
 * interval and timeouts for their link (link.ts, "Failure detection"). It is
 * optional: a 2.0 peer sends none (it is taken to share ours), and drops it
 * from ours as a field of a newer minor version.
 *
 * Version 2.2 added `res`: a member's resource figures (CPU, memory,
 * event-loop lag; resources.ts), sent every few seconds to the observers
 * linked to it, and to no one else. A 2.1 observer ignores it as a type of
 * a newer minor version; a member sends none to an observer older than 2.2.
 *
 * Version 2.2 also added client links (`hello.client`, link.ts: a `pogo ctl`
 * session linked to one member for commands only, never a member of the
 * cluster), the command ops `restart` (restart a child in place),
 * `status` and `explain` (reads, like `view`), `submit` (start children and
 * report what became of each: observer/ui-protocol.ts), `audit-all` (every
 * member's audit log, merged by the member asked), and
 * `cmd.forwarded`: a member that receives a command about a child running
 * on another node (restart, logs) forwards it to that node over their link,
 * marked `forwarded`, and the receiver executes it itself, never forwarding
 * it again. A command op a peer's version does not know would be dropped
 * there as an invalid frame, so a sender checks `COMMAND_OP_SINCE` against
 * the peer's version first and fails at once with a clear error.
 *
 * Version 2.3 added messages to children (issue 16, distributed/calls.ts):
 * the frames `call`, `call.reply` and `handover` (see CallSchema()), and the
 * command ops `call` (an operator's message to a child, audited) and
 * `whereis` (an open read, like `view`). A 2.2 peer would ignore the new
 * frames as types of a newer minor, so a node sends none to it: a call to a
 * child on a 2.2 node fails at once with `no-handler` naming the version,
 * and a handover to one is skipped (logged; the child starts fresh). For
 * the command ops, senders check `COMMAND_OP_SINCE` first, as for 2.2's.
 *
 * Version 2.4 added `startable` to a member's gossiped metadata: whether its
 * start gate is open (ready, its readiness heard by every peer linked when
 * it announced it, and in majority mode caught up with every present
 * member). A node that runs a stop-first child whose owner is ready but not
 * yet startable keeps it running until the owner can start it, instead of
 * stopping it into a gap (distributed/decide.ts). A 2.3 peer drops the field
 * as one of a newer minor and sends none; a member without it is never
 * waited for, as before.
 *
 * Version 2.5 added `netsplit` to a member's gossiped metadata: its netsplit
 * mode and, in majority mode, its expected members. Members whose settings
 * differ still link; each node warns of a peer whose settings differ from
 * its own, and `pogo ctl status` lists them (distributed/netsplit-settings.ts).
 * A 2.4 peer drops the field as one of a newer minor and sends none; nothing
 * is said about a member that announces nothing.
 *
 * Version 2.6 added `saveFailing` to a member's gossiped metadata, present
 * while saving its desired state to its data dir fails (since when, and
 * why): so `pogo ctl status` asked of any member, and the desktop app, say
 * which member's disk is failing, not only that member's own status and
 * metrics. A 2.5 peer drops the field as one of a newer minor and sends
 * none; nothing is said about a member that announces nothing.
 *
 * Version 2.7 added `waitsFor` to a member's gossiped metadata, present
 * while it is not ready: what its readiness still lacks, by name
 * (distributed/readiness.ts `readinessGaps`), and when it takes children
 * without them. An outsider's tour had two members wait for a third that
 * was blackholed, every child pending behind them, while the desktop app
 * said "Nothing needs attention": only the member's own `explain` named
 * the member waited for. A 2.6 peer drops the field as one of a newer
 * minor and sends none; nothing is said about a member that announces
 * nothing.
 *
 * Version 2.8 shortened the two things sent per child started: a child
 * register's specs travel without the fields at their defaults
 * (supervisor/child-spec.ts `SPEC_DEFAULTS` and empty labels, which the
 * protocol now fixes; `wireSpec`), and a `run:` member's value leaves out
 * `restarts` while it is 0. About 110 of the 357 bytes per child on each
 * link. A 2.7 peer reads both as it always could: its schema fills in the
 * defaults (on its slower path), and `restarts` was optional.
 *
 * This module is pure (zod only), so the renderer may import it.
 */
import { z } from 'zod';

/**
 * A schema built the first time it is asked for, then kept. The message
 * schemas are built this way: a `pogo ctl` call, which starts a process per
 * call, meets a handful of message types and should not pay for building
 * the other twenty (zod builds a schema in microseconds, but a protocol's
 * worth of them was about a fifth of a `ctl ls`'s start-up). A node meets
 * them all within its first seconds; each is built once, on its first frame.
 */
function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

export const PROTOCOL_VERSION = { major: 2, minor: 8 } as const;
/** Most frames one `batch` may carry. */
export const MAX_BATCH_FRAMES = 1024;

/** Names of nodes: stable and unique in a cluster. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const NodeNameSchema = z
  .string()
  .regex(NODE_NAME_PATTERN, 'must be 1-128 characters of letters, digits, ".", "_", "@", "-", starting with a letter or digit');
export const ClusterNameSchema = z
  .string()
  .regex(CLUSTER_NAME_PATTERN, 'must be 1-64 characters of letters, digits, ".", "_", "-", starting with a letter or digit');
const INCARNATION_PATTERN = /^[0-9a-f]{8,64}$/;
export const IncarnationSchema = z.string().regex(INCARNATION_PATTERN, 'must be 8-64 lowercase hex digits');
/** `host:port`, host may be a bracketed IPv6 literal. */
const ADDRESS_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/;
export const AddressSchema = z.string().max(300).regex(ADDRESS_PATTERN, 'must be host:port');
/** The schema of a node's role: `member` (runs children) or `observer`. */
export const RoleSchema = z.enum(['member', 'observer']);
/** A member's role: member (runs children) or observer. */
export type Role = z.infer<typeof RoleSchema>;

/** A pid: `node/incarnation/localId`. It lives on one node and dies with that node's incarnation. */
const PID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}\/[0-9a-f]{8,64}\/[A-Za-z0-9._-]{1,64}$/;
const PID_MAX_LENGTH = 300;
export const PidSchema = z.string().max(PID_MAX_LENGTH).regex(PID_PATTERN, 'must be node/incarnation/localId');
/** A process id, `node/incarnation/localId`: it lives on one node and dies with that node's incarnation. */
export type Pid = string;

export const LabelsSchema = z.record(z.string().min(1).max(128), z.string().max(256)).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');
export const ProtocolVersionSchema = z.object({ major: z.number().int().min(0), minor: z.number().int().min(0) });
const NonceSchema = z.string().regex(/^[0-9a-f]{32,128}$/, 'must be 32-128 hex digits');
const ProofSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-digit hex HMAC-SHA256');

/** A duration a node may configure for its failure detection (its config's bounds: 10 ms to a day). */
const TimingMsSchema = z.number().int().min(10).max(86_400_000);

/**
 * Since 2.1: a node's failure-detection settings, as it announces them in
 * the handshake (its `heartbeatIntervalMs`, `suspectAfterMs` and
 * `heartbeatTimeoutMs`). Their order is not checked here: what a link
 * derives from them keeps the receiver's own order whatever they are
 * (link.ts, `linkHeartbeat`).
 */
export const HeartbeatSettingsSchema = z.object({ intervalMs: TimingMsSchema, suspectAfterMs: TimingMsSchema, timeoutMs: TimingMsSchema }).strict();
export type HeartbeatSettings = z.infer<typeof HeartbeatSettingsSchema>;

/** Identity a node presents in the handshake. */
const IdentityFields = {
  cluster: ClusterNameSchema,
  protocol: ProtocolVersionSchema,
  name: NodeNameSchema,
  incarnation: IncarnationSchema,
  startedAt: z.number().int().nonnegative(),
  address: AddressSchema,
  role: RoleSchema,
  nonce: NonceSchema,
  /** Since 2.1; absent from a 2.0 peer. */
  heartbeat: HeartbeatSettingsSchema.optional(),
};

export const HelloSchema = once(() =>
  z
    .object({
      t: z.literal('hello'),
      ...IdentityFields,
      /** Since 2.2: the dialer is a client (pogo ctl) and wants a link for commands only (link.ts, "Client links"). */
      client: z.literal(true).optional(),
    })
    .strict(),
);
export const ChallengeSchema = once(() => z.object({ t: z.literal('challenge'), ...IdentityFields, proof: ProofSchema }).strict());
export const AuthSchema = once(() => z.object({ t: z.literal('auth'), proof: ProofSchema }).strict());
export const WelcomeSchema = once(() => z.object({ t: z.literal('welcome') }).strict());

export const REJECT_CODES = [
  'malformed',
  'cluster-mismatch',
  'version-mismatch',
  'auth-failed',
  'self',
  'duplicate-name',
  'simultaneous-dial',
  'handshake-timeout',
  'too-many-handshakes',
  'shutting-down',
] as const;
export const RejectCodeSchema = z.enum(REJECT_CODES);
export type RejectCode = z.infer<typeof RejectCodeSchema>;
export const RejectSchema = once(() => z.object({ t: z.literal('reject'), code: RejectCodeSchema, message: z.string().max(1000) }).strict());

export const PingSchema = once(() =>
  z
    .object({
      t: z.literal('ping'),
      seq: z.number().int().nonnegative(),
      sentAt: z.number(),
      /** The peer's last ping to us (its `seq` and `sentAt`) and how long we held it before this ping. */
      echo: z.object({ seq: z.number().int().nonnegative(), sentAt: z.number(), heldMs: z.number().nonnegative() }).strict().optional(),
      /** A probe: answer with a ping of your own at once (it echoes this one), not at your next heartbeat. */
      reply: z.literal(true).optional(),
    })
    .strict(),
);
export const PongSchema = once(() => z.object({ t: z.literal('pong'), seq: z.number().int().nonnegative(), sentAt: z.number() }).strict());
export const LeaveSchema = once(() => z.object({ t: z.literal('leave'), reason: z.string().max(200) }).strict());

/** The schema of a member's status in the member table: `up`, `suspect`, `down` or `left`. */
export const MemberStatusSchema = z.enum(['up', 'suspect', 'down', 'left']);
/** A member's status: up, suspect, down or left. */
export type MemberStatus = z.infer<typeof MemberStatusSchema>;

/** A member's netsplit settings as it announces them: the mode, and in majority mode its expected members (distributed/netsplit-settings.ts). */
export const NetsplitSettingsSchema = z.object({
  mode: z.enum(['available', 'majority']),
  expectedMembers: z.number().int().min(1).max(10_000).optional(),
});

/** Longest `saveFailing.error` a member announces (longer reasons are cut). */
export const SAVE_ERROR_MAX = 300;

/**
 * A member's failing save as it announces it (since 2.6): since when (ms
 * since the epoch, its clock) saving its desired state to its data dir has
 * failed, and the last error.
 */
export const SaveFailingSchema = z.object({
  since: z.number().int().nonnegative(),
  error: z.string().max(SAVE_ERROR_MAX),
});
/** A member's failing save, as announced (protocol 2.6): since when, and why. */
export interface SaveFailing {
  /** Since when saving its desired state to its data dir has failed (ms since the epoch, its clock). */
  since: number;
  /** The last error (e.g. `ENOSPC: no space left on device, write`), at most 300 characters. */
  error: string;
}

/** Most names a `waitsFor` list carries (a longer one is cut: the words name the first ones). */
export const WAITS_FOR_NAMES_MAX = 64;

/**
 * What a member that is not ready waits for, as it announces it (since
 * 2.7; distributed/readiness.ts `readinessGaps`): the members it has no
 * link to (its saved roster's included), those of its saved roster no one
 * has heard of, those linked but not synced, whether it has linked to any
 * seed, whether majority mode's lease lets it run, and when it takes
 * children without them (`until`, ms since the epoch, its clock; absent
 * when it never does by itself).
 */
export const WaitsForSchema = once(() =>
  z
    .object({
      notLinked: z.array(NodeNameSchema).max(WAITS_FOR_NAMES_MAX),
      roster: z.array(NodeNameSchema).max(WAITS_FOR_NAMES_MAX),
      notSynced: z.array(NodeNameSchema).max(WAITS_FOR_NAMES_MAX),
      joined: z.boolean(),
      leased: z.boolean(),
      until: z.number().int().nonnegative().optional(),
    })
    .strict(),
);
/** What a member that is not ready waits for, as announced (protocol 2.7). */
export interface WaitsFor {
  /** The members it has no link to, its saved roster's included (sorted; at most 64). */
  notLinked: string[];
  /** Members of its saved roster that no one it knows has heard of (restored from its data dir). */
  roster: string[];
  /** Members linked to it whose groups or desired state have not arrived yet. */
  notSynced: string[];
  /** False while it has linked to none of its seeds. */
  joined: boolean;
  /** False while majority mode's lease does not let it run children (no majority of the expected members). */
  leased: boolean;
  /** When it takes children without what it lacks (--ready-timeout-ms), ms since the epoch, its clock; absent: it never does by itself. */
  until?: number;
}

/** One member table entry as gossiped. `version` is bumped by the member itself when its own metadata changes. */
export const MemberInfoSchema = once(() =>
  z
    .object({
      name: NodeNameSchema,
      incarnation: IncarnationSchema,
      startedAt: z.number().int().nonnegative(),
      address: AddressSchema,
      role: RoleSchema,
      labels: LabelsSchema,
      workers: z.array(z.string().min(1).max(128)).max(256),
      version: z.number().int().nonnegative(),
      status: MemberStatusSchema,
      /** Placement weight (HRW), default 1. Added in 1.0; optional for older peers. */
      capacity: z.number().positive().max(1_000_000).optional(),
      /** Commands OS-process children may run on this node. */
      commands: z.array(z.string().min(1).max(4096)).max(1000).optional(),
      /** True once the node has linked to the cluster it knows and synced its groups: only ready members take children. */
      ready: z.boolean().optional(),
      /** True while the node may start children (its start gate is open); false while it is not, ready or not. Since 2.4. */
      startable: z.boolean().optional(),
      /** Netsplit majority mode: how long it runs children after its last confirmation by a majority, and then gives them to stop (ms). */
      lease: z
        .object({ ms: z.number().int().min(1).max(86_400_000), stopMs: z.number().int().min(0).max(86_400_000) })
        .strict()
        .optional(),
      /** Its netsplit mode, and in majority mode its expected members (distributed/netsplit-settings.ts). Since 2.5. */
      netsplit: NetsplitSettingsSchema.strict().optional(),
      /** Present while saving its desired state to its data dir fails: since when, and why. Since 2.6. */
      saveFailing: SaveFailingSchema.strict().optional(),
      /** Present while it is not ready: what it waits for (WaitsForSchema). Since 2.7. */
      waitsFor: WaitsForSchema().optional(),
    })
    .strict(),
);
/** A member's identity as gossiped: name, address, role, incarnation. */
export type MemberInfo = z.infer<ReturnType<typeof MemberInfoSchema>>;

export const GossipSchema = once(() => z.object({ t: z.literal('gossip'), members: z.array(MemberInfoSchema()).max(10_000) }).strict());

/**
 * Since 2.0: the members the sender cannot hear now (its whole list, sent on
 * every change and on link up), each with how long it has not heard that
 * incarnation. Netsplit majority mode counts these reports before it takes
 * over a member's children (distributed/policies/netsplit-majority.ts).
 */
export const ReachSchema = once(() =>
  z
    .object({
      t: z.literal('reach'),
      unheard: z
        .array(z.object({ name: NodeNameSchema, incarnation: IncarnationSchema, silentMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict())
        .max(10_000),
    })
    .strict(),
);

/** A duration in ms as a resource figure: finite, 0 to an hour. */
const FigureMsSchema = z.number().min(0).max(3_600_000);
const ByteCountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Since 2.2: a member's resource figures over its last sampling interval
 * (resources.ts, which says how each is measured), sent to the observers
 * linked to it. The receiver stamps it with its own clock: the member's
 * clock is not sent, so clock skew between machines cannot bend a chart.
 */
export const ResourcesSchema = once(() =>
  z
    .object({
      t: z.literal('res'),
      /** The interval the figures cover, ms. */
      intervalMs: z.number().int().min(1).max(3_600_000),
      /** CPU time of the process (user + system) over the interval, % of one core (above 100 with busy worker threads). */
      cpu: z.number().min(0).max(100_000),
      /** Resident set size, bytes. */
      rss: ByteCountSchema,
      /** V8 heap in use and reserved, bytes. */
      heapUsed: ByteCountSchema,
      heapTotal: ByteCountSchema,
      /** Event-loop lag over the interval, ms; absent when the probe has no measurement in it. */
      lag: z.object({ mean: FigureMsSchema, p99: FigureMsSchema, max: FigureMsSchema }).strict().optional(),
    })
    .strict(),
);
/** A node's resource figures as gossiped (CPU, memory, event-loop lag). */
export type Resources = z.infer<ReturnType<typeof ResourcesSchema>>;

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Most values (scalars, arrays, objects) `isJsonValue` walks before it gives up. */
const JSON_WALK_BUDGET = 1_000_000;

/**
 * True for plain JSON: strings, finite numbers, booleans, null, arrays and
 * plain objects, at most MAX_NESTING levels deep. Iterative and allocation-
 * light: a node checks every group value a peer sends, and zod's recursive
 * `z.json()` cost a tenth of a busy node's CPU. Cycles fail on depth.
 */
export function isJsonValue(value: unknown, maxNesting = MAX_NESTING): value is JsonValue {
  // Scalars (most group values' fields) are checked where they are met; only arrays and objects wait
  // on the stack, as a value and its depth in two arrays rather than a pair each.
  const scalar = isJsonScalar(value);
  if (scalar !== undefined) return scalar;
  const flat = isFlatJsonObject(value as object, maxNesting);
  if (flat !== undefined) return flat;
  const values: unknown[] = [value];
  const depths: number[] = [1];
  let budget = JSON_WALK_BUDGET - 1;
  while (values.length > 0) {
    const v = values.pop() as object;
    const depth = depths.pop()!;
    if (depth > maxNesting) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v) || budget-- <= 0) return false;
        const item = v[i] as unknown;
        const ok = isJsonScalar(item);
        if (ok === false) return false;
        if (ok === undefined) {
          values.push(item);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      if (budget-- <= 0) return false;
      const item = (v as Record<string, unknown>)[key];
      const ok = isJsonScalar(item);
      if (ok === false) return false;
      if (ok === undefined) {
        values.push(item);
        depths.push(depth + 1);
      }
    }
  }
  return true;
}

/**
 * `isJsonValue` of a plain object whose fields are all scalars (most group
 * values: `{ rev }`), without the walk's two stacks: true or false, or
 * undefined when `v` is an array or holds one or an object (then walk it).
 */
function isFlatJsonObject(v: object, maxNesting: number): boolean | undefined {
  if (Array.isArray(v)) return undefined;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  let n = 0;
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue;
    // The walk's budget, counted alike.
    if (++n >= JSON_WALK_BUDGET) return false;
    const ok = isJsonScalar((v as Record<string, unknown>)[key]);
    if (ok === undefined) return undefined;
    if (!ok) return false;
  }
  return maxNesting >= 1;
}

/** Whether `v` is a JSON scalar (true), not JSON at all (false), or an array or object to walk (undefined). */
function isJsonScalar(v: unknown): boolean | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      return v === null ? true : undefined;
    default:
      return false;
  }
}

/** JSON with object keys sorted (and `undefined` fields left out), so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `canonicalJson`, computed once per frozen object: the values held in
 * process groups (and the registers read from them) are deep-frozen and
 * never change, and comparing them was the largest single cost of a
 * reconcile pass (profiled: 110 of 208 ms of a 1,000-child failover).
 */
const canonicalCache = new WeakMap<object, string>();

export function canonicalOf(value: unknown): string {
  if (value === null || typeof value !== 'object' || !Object.isFrozen(value)) return canonicalJson(value);
  let text = canonicalCache.get(value);
  if (text === undefined) {
    text = canonicalJson(value);
    canonicalCache.set(value, text);
  }
  return text;
}

export const JsonSchema = z.custom<JsonValue>((v) => isJsonValue(v), {
  // A function: MAX_NESTING is declared below, and is read only when a value fails.
  error: () => `must be plain JSON (strings, finite numbers, booleans, null, arrays, plain objects), nested at most ${MAX_NESTING} levels`,
});

export const MAX_SCOPE_NAME = 256;
export const MAX_GROUP_NAME = 1024;
export const ScopeNameSchema = z.string().min(1).max(MAX_SCOPE_NAME);
export const GroupNameSchema = z.string().min(1).max(MAX_GROUP_NAME);
export const PgEntrySchema = z.object({ pid: PidSchema, value: JsonSchema.optional() }).strict();
export type PgEntry = z.infer<typeof PgEntrySchema>;

/** The schema of `pg.sync`: the sender's memberships of one scope, sent on link up (a large one in parts). */
export const PgSyncSchema = once(() =>
  z
    .object({
      t: z.literal('pg.sync'),
      scope: ScopeNameSchema,
      groups: z.array(z.object({ group: GroupNameSchema, entries: z.array(PgEntrySchema).min(1) }).strict()),
      /** More parts of this sync follow (a large sync is sent in parts; see groups.ts). */
      more: z.literal(true).optional(),
    })
    .strict(),
);
/** The schema of `pg.join`: pids of the sender's node joined a group (with their values). */
export const PgJoinSchema = once(() =>
  z.object({ t: z.literal('pg.join'), scope: ScopeNameSchema, group: GroupNameSchema, entries: z.array(PgEntrySchema).min(1) }).strict(),
);
/** The schema of `pg.leave`: pids of the sender's node left a group. */
export const PgLeaveSchema = once(() =>
  z.object({ t: z.literal('pg.leave'), scope: ScopeNameSchema, group: GroupNameSchema, pids: z.array(PidSchema).min(1) }).strict(),
);

/**
 * The replicated store (store/replication.ts), since 2.0: the desired state of
 * a scope, one merged copy per node. Keys are short strings whose prefix says
 * what kind of register they hold; register values are plain JSON here and
 * validated by the store against their kind (a register that fails is
 * dropped with a logged reason, the rest of the message still applies).
 * Messages that carry state (`rs.delta`, `rs.digest`, `rs.regs`) are numbered
 * per link (`seq`, from 1) so that the receiver can acknowledge them.
 */
export const StoreKeySchema = z.string().min(1).max(1100);
/** A 53-bit fingerprint (store/replica.ts): exact in a JSON number. */
export const StoreHashSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const StoreSeqSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** Most registers one `rs.delta` or `rs.regs` may carry (larger sends go in parts). */
export const MAX_STORE_ENTRIES = 1000;
/** Finest digest: 2^12 = 4,096 buckets. */
export const MAX_DIGEST_LEVEL = 12;
/** Most (key, fingerprint) pairs one `rs.pull` may list. */
export const MAX_PULL_HAVE = 20_000;
const StoreEntrySchema = z.tuple([StoreKeySchema, z.unknown()]);
export const StoreDeltaSchema = once(() =>
  z
    .object({ t: z.literal('rs.delta'), scope: ScopeNameSchema, seq: StoreSeqSchema, entries: z.array(StoreEntrySchema).min(1).max(MAX_STORE_ENTRIES) })
    .strict(),
);
export const StoreDigestSchema = once(() =>
  z
    .object({
      t: z.literal('rs.digest'),
      scope: ScopeNameSchema,
      seq: StoreSeqSchema,
      /** Registers the sender holds. */
      count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      /** 2^level buckets of key space; each bucket's fingerprint is the XOR of its registers' fingerprints (0: empty). */
      level: z.number().int().min(0).max(MAX_DIGEST_LEVEL),
      buckets: z
        .array(StoreHashSchema)
        .min(1)
        .max(2 ** MAX_DIGEST_LEVEL),
    })
    .strict()
    .refine((m) => m.buckets.length === 2 ** m.level, { message: 'buckets: must hold exactly 2^level fingerprints', path: ['buckets'] }),
);
export const StoreDigestRequestSchema = once(() =>
  z.object({ t: z.literal('rs.digest-req'), scope: ScopeNameSchema, level: z.number().int().min(0).max(MAX_DIGEST_LEVEL) }).strict(),
);
export const StorePullSchema = once(() =>
  z
    .object({
      t: z.literal('rs.pull'),
      scope: ScopeNameSchema,
      /** Names the answer (`rs.regs` carries it back). */
      pull: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      level: z.number().int().min(0).max(MAX_DIGEST_LEVEL),
      buckets: z
        .array(
          z
            .number()
            .int()
            .min(0)
            .max(2 ** MAX_DIGEST_LEVEL - 1),
        )
        .min(1)
        .max(2 ** MAX_DIGEST_LEVEL),
      /** What the puller holds in those buckets: the answer leaves out the registers it already has. */
      have: z.array(z.tuple([StoreKeySchema, StoreHashSchema])).max(MAX_PULL_HAVE),
    })
    .strict(),
);
export const StoreRegsSchema = once(() =>
  z
    .object({
      t: z.literal('rs.regs'),
      scope: ScopeNameSchema,
      seq: StoreSeqSchema,
      pull: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      entries: z.array(StoreEntrySchema).max(MAX_STORE_ENTRIES),
      /** More parts of this answer follow. */
      more: z.literal(true).optional(),
    })
    .strict(),
);
/** Everything up to `seq` from the receiver has been applied, and acted on (store/replication.ts: acknowledgements). */
export const StoreAckSchema = once(() => z.object({ t: z.literal('rs.ack'), scope: ScopeNameSchema, seq: StoreSeqSchema }).strict());
/** The sender now holds at least the receiver's state as of the receiver's digest `seq` (and has it on disk, if it keeps one). */
export const StoreSyncedSchema = once(() => z.object({ t: z.literal('rs.synced'), scope: ScopeNameSchema, seq: StoreSeqSchema }).strict());

/** Operator commands, sent by an observer (or `pogo ctl`) to a member, which checks the credential. */
export const COMMAND_OPS = [
  'start',
  'stop',
  'move',
  'unpin',
  'drain',
  'undrain',
  'pause',
  'resume',
  'audit',
  'view',
  'whoami',
  'logs',
  'forget',
  'restart',
  'explain',
  'status',
  'submit',
  'audit-all',
  'call',
  'whereis',
] as const;
/** The schema of an operator command's op. */
export const CommandOpSchema = z.enum(COMMAND_OPS);
/** An operator command's op (start, stop, move, ...), as sent from an observer or `pogo ctl` to a member. */
export type CommandOp = z.infer<typeof CommandOpSchema>;
/** The minor version (of major 2) that added each op after 2.0; a peer of an older minor would drop the frame as invalid. */
export const COMMAND_OP_SINCE: Partial<Record<CommandOp, number>> = { restart: 2, explain: 2, status: 2, submit: 2, 'audit-all': 2, call: 3, whereis: 3 };

/** Whether a peer speaking `version` knows `op`. */
export function peerKnowsOp(version: { major: number; minor: number }, op: CommandOp): boolean {
  return version.major > PROTOCOL_VERSION.major || (version.major === PROTOCOL_VERSION.major && version.minor >= (COMMAND_OP_SINCE[op] ?? 0));
}
export const CommandSchema = z
  .object({
    t: z.literal('cmd'),
    id: z.string().min(1).max(64),
    op: CommandOpSchema,
    args: z.array(JsonSchema).max(8),
    credential: z.string().max(1024),
    /** Who is asking, for the audit log (a user name, free text). */
    by: z.string().max(128),
    /** Since 2.2: a member forwarded this command to the node it concerns; execute it here, never forward it again. */
    forwarded: z.literal(true).optional(),
  })
  .strict();
export const CommandReplySchema = once(() =>
  z
    .object({
      t: z.literal('cmd.reply'),
      id: z.string().min(1).max(64),
      ok: z.boolean(),
      result: JsonSchema.optional(),
      error: z
        .object({ code: z.string().max(64), message: z.string().max(2000) })
        .strict()
        .optional(),
    })
    .strict(),
);
export type Command = z.infer<typeof CommandSchema>;
export type CommandReply = z.infer<ReturnType<typeof CommandReplySchema>>;

/**
 * Since 2.3: messages to children (distributed/calls.ts). `call` carries a
 * message to instance `pid` of child `id` on the receiving node (`cast`: no
 * reply from the handler is wanted, only whether the instance took it);
 * `timeoutMs` is what is left of the caller's deadline. `call.reply`
 * answers it on the same link: `ok` with the handler's reply (`body`), or
 * an error — one of the typed codes (supervisor/child-channel.ts), or
 * `moved`: the instance does not take messages any more (stopping,
 * handing over, gone), nothing was delivered, and the caller may send it
 * to the child's next instance. `handover` gives the state of an instance
 * stopped for a planned move to the node that will start the next one
 * (revision `rev`). Bodies are bounded by the receiver's `callMaxBytes`,
 * checked where they arrive.
 */
const CallIdSchema = z.string().min(1).max(64);
const ChildIdSchema = z.string().min(1).max(256);
/** The schema of `call`: a message or call (`cast`: no reply wanted) to the instance `pid` of child `id`, timing out after `timeoutMs`. */
export const CallSchema = once(() =>
  z
    .object({
      t: z.literal('call'),
      cid: CallIdSchema,
      id: ChildIdSchema,
      pid: PidSchema,
      body: JsonSchema,
      timeoutMs: z.number().int().min(1).max(86_400_000),
      cast: z.literal(true).optional(),
    })
    .strict(),
);
/** The schema of `call.reply`: the reply to call `cid`, its body or an error code and message. */
export const CallReplySchema = once(() =>
  z
    .object({
      t: z.literal('call.reply'),
      cid: CallIdSchema,
      ok: z.boolean(),
      body: JsonSchema.optional(),
      error: z
        .object({ code: z.string().max(64), message: z.string().max(2000) })
        .strict()
        .optional(),
    })
    .strict(),
);
/** The schema of `handover`: the state a moving child's instance hands to the node that runs its revision `rev` next. */
export const HandoverSchema = once(() => z.object({ t: z.literal('handover'), id: ChildIdSchema, rev: z.string().min(1).max(64), state: JsonSchema }).strict());
/** A `call` frame (see CallSchema). */
export type CallFrame = z.infer<ReturnType<typeof CallSchema>>;
/** A `call.reply` frame (see CallReplySchema). */
export type CallReplyFrame = z.infer<ReturnType<typeof CallReplySchema>>;
/** A `handover` frame (see HandoverSchema). */
export type HandoverFrame = z.infer<ReturnType<typeof HandoverSchema>>;

export const HandshakeMessageSchema = once(() => z.discriminatedUnion('t', [HelloSchema(), ChallengeSchema(), AuthSchema(), WelcomeSchema(), RejectSchema()]));
/** The schema of the replicated store's messages (`rs.*`: deltas, digests, pulls, register sets, acknowledgements). */
export const StoreMessageSchema = once(() =>
  z.discriminatedUnion('t', [
    StoreDeltaSchema(),
    StoreDigestSchema(),
    StoreDigestRequestSchema(),
    StorePullSchema(),
    StoreRegsSchema(),
    StoreAckSchema(),
    StoreSyncedSchema(),
  ]),
);
export const LinkMessageSchema = once(() =>
  z.discriminatedUnion('t', [
    PingSchema(),
    PongSchema(),
    LeaveSchema(),
    GossipSchema(),
    ReachSchema(),
    PgSyncSchema(),
    PgJoinSchema(),
    PgLeaveSchema(),
    CommandSchema,
    CommandReplySchema(),
    ...StoreMessageSchema().options,
    ResourcesSchema(),
    CallSchema(),
    CallReplySchema(),
    HandoverSchema(),
  ]),
);
/** Every message a peer may send: the handshake's, then the link's (one list each, above). */
export const PeerMessageSchema = once(() => z.discriminatedUnion('t', [...HandshakeMessageSchema().options, ...LinkMessageSchema().options]));

export type Hello = z.infer<ReturnType<typeof HelloSchema>>;
export type Challenge = z.infer<ReturnType<typeof ChallengeSchema>>;
export type Auth = z.infer<ReturnType<typeof AuthSchema>>;
export type Reject = z.infer<ReturnType<typeof RejectSchema>>;
export type HandshakeMessage = z.infer<ReturnType<typeof HandshakeMessageSchema>>;
export type LinkMessage = z.infer<ReturnType<typeof LinkMessageSchema>>;
export type PeerMessage = z.infer<ReturnType<typeof PeerMessageSchema>>;
/** A `pg.sync` message (see PgSyncSchema). */
export type PgSync = z.infer<ReturnType<typeof PgSyncSchema>>;
/** A `pg.join` message (see PgJoinSchema). */
export type PgJoin = z.infer<ReturnType<typeof PgJoinSchema>>;
/** A `pg.leave` message (see PgLeaveSchema). */
export type PgLeave = z.infer<ReturnType<typeof PgLeaveSchema>>;
/** A message of the replicated desired-state store, between nodes (see StoreMessageSchema). */
export type StoreMessage = z.infer<ReturnType<typeof StoreMessageSchema>>;
export type StoreDelta = z.infer<ReturnType<typeof StoreDeltaSchema>>;
export type StoreDigest = z.infer<ReturnType<typeof StoreDigestSchema>>;
export type StoreDigestRequest = z.infer<ReturnType<typeof StoreDigestRequestSchema>>;
export type StorePull = z.infer<ReturnType<typeof StorePullSchema>>;
export type StoreRegs = z.infer<ReturnType<typeof StoreRegsSchema>>;
export type StoreAck = z.infer<ReturnType<typeof StoreAckSchema>>;
export type StoreSynced = z.infer<ReturnType<typeof StoreSyncedSchema>>;

/**
 * `unknownType` is set when the frame is an object whose tag `t` names no
 * message we know (possibly one added by a newer minor version).
 */
export type DecodeResult<T> = { ok: true; message: T } | { ok: false; reason: string; unknownType?: string };

/** Deepest nesting of arrays and objects a frame may have (the message envelope takes about 8 of them; the validator is safe far deeper). */
export const MAX_NESTING = 128;

/**
 * Each message type's schema by its tag: `decodeMessage` validates a frame
 * against its own type's schema (built on the first such frame), which is
 * what the discriminated union does with it too — the same checks, issues
 * and reasons. A frame without a known tag goes to the whole union, whose
 * reason says what is wrong with it. protocol.test.ts checks that this
 * table and the union hold the same schemas.
 */
export const MESSAGE_SCHEMAS: { readonly [T in PeerMessage['t']]: () => z.ZodType<Extract<PeerMessage, { t: T }>> } = {
  hello: HelloSchema,
  challenge: ChallengeSchema,
  auth: AuthSchema,
  welcome: WelcomeSchema,
  reject: RejectSchema,
  ping: PingSchema,
  pong: PongSchema,
  leave: LeaveSchema,
  gossip: GossipSchema,
  reach: ReachSchema,
  'pg.sync': PgSyncSchema,
  'pg.join': PgJoinSchema,
  'pg.leave': PgLeaveSchema,
  cmd: () => CommandSchema,
  'cmd.reply': CommandReplySchema,
  'rs.delta': StoreDeltaSchema,
  'rs.digest': StoreDigestSchema,
  'rs.digest-req': StoreDigestRequestSchema,
  'rs.pull': StorePullSchema,
  'rs.regs': StoreRegsSchema,
  'rs.ack': StoreAckSchema,
  'rs.synced': StoreSyncedSchema,
  res: ResourcesSchema,
  call: CallSchema,
  'call.reply': CallReplySchema,
  handover: HandoverSchema,
};

const MESSAGE_TAGS: ReadonlySet<string> = new Set(Object.keys(MESSAGE_SCHEMAS));

export interface DecodeOptions {
  /** Drop fields this version does not know instead of rejecting the frame (for peers with a newer minor version). */
  tolerant?: boolean;
}

/**
 * Recognises a `batch` frame and hands back its inner frames, still
 * unvalidated (each goes through `decodeMessage` as a frame of its own, so
 * a batch inside a batch is an invalid frame there). Returns undefined when
 * `raw` is not a batch at all, and a reason when it is a malformed one.
 * Checks only the envelope, never walks the frames. Never throws.
 */
export function decodeBatch(raw: unknown): { ok: true; frames: readonly unknown[] } | { ok: false; reason: string } | undefined {
  try {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || (raw as { t?: unknown }).t !== 'batch') return undefined;
    const keys = Object.keys(raw);
    const frames = (raw as { frames?: unknown }).frames;
    if (keys.length !== 2 || !Array.isArray(frames)) return { ok: false, reason: '[batch] must be exactly {t, frames: [...]}' };
    if (frames.length === 0 || frames.length > MAX_BATCH_FRAMES) return { ok: false, reason: `[batch] frames: must hold 1 to ${MAX_BATCH_FRAMES} frames` };
    return { ok: true, frames };
  } catch {
    return { ok: false, reason: '[batch] cannot be read' };
  }
}

/** Validates an untrusted value received from a peer. Never throws. */
export function decodeMessage(raw: unknown, options: DecodeOptions = {}): DecodeResult<PeerMessage> {
  if (!options.tolerant) {
    const fast = decodeFrequent(raw);
    if (fast !== undefined) return { ok: true, message: fast };
  }
  const tag = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? safeGet(raw, 't') : undefined;
  const known = typeof tag === 'string' && MESSAGE_TAGS.has(tag);
  const result = decodeWith<PeerMessage>(known ? MESSAGE_SCHEMAS[tag as PeerMessage['t']]() : PeerMessageSchema(), raw, options);
  if (result.ok) return result;
  if (typeof tag === 'string' && !known) return { ...result, unknownType: tag.slice(0, 64) };
  return result;
}

// ---- fast paths for the messages a busy link carries most ---------------------------------
//
// `pg.join`, `pg.leave`, `rs.delta` and `rs.regs` carry one child each (or a
// turn's worth of registers): a cluster starting 10,000 children decodes tens
// of thousands of them. `ping` and `gossip` are what an idle link carries:
// each peer's ping and whole member table every second, whose validation was
// 28 of the 31 ms an idle node spent a minute on handling frames (the zod
// parse 20, the nesting walk 5; about a tenth of its idle CPU), and at 20
// members a table of 20 entries from each of 19 peers a second. Checked by
// hand, they cost a fraction of the discriminated union's generic path
// (measured: `pg.join` 16 µs → 2 µs, a delta's envelope 7 µs → 0.5 µs per
// register). They accept exactly what the schemas accept (protocol.test.ts
// checks the two agree on random and broken frames); anything else —
// including every invalid frame, so that the reason comes from zod — takes
// the generic path. A store message's register values are decoded by their
// kinds (store/replica.ts), whose validation is bounded in depth, so the
// frame-wide nesting walk is not needed for them.
//
// `cmd.reply` is rare but can be large: a member's whole view (`pogo ctl ls`,
// an observer's borrowed view) of thousands of children. The generic path
// walked it three times (the nesting check, zod's copy, the JSON check); by
// hand it is walked once, by `isJsonValue` with the depth the frame leaves
// its result (measured: 1,000 children, about 50 of a `ctl ls`'s 570 ms of
// CPU on the loaded test machine).

function plain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Own keys are exactly `required` (each defined) plus any of `optional` (each defined). */
function keysAre(v: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (v[k] === undefined || (!required.includes(k) && !optional.includes(k))) return false;
    n++;
  }
  let expected = 0;
  for (const k of required) {
    if (!Object.hasOwn(v, k)) return false;
    expected++;
  }
  for (const k of optional) if (Object.hasOwn(v, k)) expected++;
  return n === expected;
}

const boundedString = (v: unknown, min: number, max: number): v is string => typeof v === 'string' && v.length >= min && v.length <= max;
const seqOk = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const pidOk = (v: unknown): v is string => typeof v === 'string' && v.length <= PID_MAX_LENGTH && PID_PATTERN.test(v);

function storeEntriesOk(entries: unknown, min: number): boolean {
  if (!Array.isArray(entries) || entries.length < min || entries.length > MAX_STORE_ENTRIES) return false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as unknown;
    if (!Array.isArray(e) || e.length !== 2 || !(0 in e) || !(1 in e) || !boundedString(e[0], 1, 1100)) return false;
  }
  return true;
}

const natOk = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const finiteOk = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const MEMBER_STATUSES: ReadonlySet<unknown> = new Set(MemberStatusSchema.options);
const ROLES: ReadonlySet<unknown> = new Set(RoleSchema.options);

function stringsOk(v: unknown, most: number, min: number, max: number): boolean {
  if (!Array.isArray(v) || v.length > most) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v) || !boundedString(v[i], min, max)) return false;
  return true;
}

/** `ping`'s schema by hand: `seq`, `sentAt`, an optional `echo` of the peer's last ping, an optional `reply`. */
function pingOk(raw: Record<string, unknown>): boolean {
  if (!keysAre(raw, ['t', 'seq', 'sentAt'], ['echo', 'reply']) || !natOk(raw['seq']) || !finiteOk(raw['sentAt'])) return false;
  if (Object.hasOwn(raw, 'reply') && raw['reply'] !== true) return false;
  if (!Object.hasOwn(raw, 'echo')) return true;
  const e = raw['echo'];
  return plain(e) && keysAre(e, ['seq', 'sentAt', 'heldMs']) && natOk(e['seq']) && finiteOk(e['sentAt']) && finiteOk(e['heldMs']) && e['heldMs'] >= 0;
}

/** A `waitsFor` list of node names. */
function namesOk(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > WAITS_FOR_NAMES_MAX) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v) || typeof v[i] !== 'string' || !NODE_NAME_PATTERN.test(v[i] as string)) return false;
  return true;
}

/** One entry of `gossip` (`MemberInfoSchema`) by hand; labels with a key JSON would not round-trip as a plain key go to zod. */
function memberInfoOk(m: unknown): boolean {
  if (
    !plain(m) ||
    !keysAre(
      m,
      ['name', 'incarnation', 'startedAt', 'address', 'role', 'labels', 'workers', 'version', 'status'],
      ['capacity', 'commands', 'ready', 'startable', 'lease', 'netsplit', 'saveFailing', 'waitsFor'],
    )
  )
    return false;
  if (typeof m['name'] !== 'string' || !NODE_NAME_PATTERN.test(m['name'])) return false;
  if (typeof m['incarnation'] !== 'string' || !INCARNATION_PATTERN.test(m['incarnation'])) return false;
  if (!natOk(m['startedAt']) || !natOk(m['version'])) return false;
  if (!boundedString(m['address'], 0, 300) || !ADDRESS_PATTERN.test(m['address'])) return false;
  if (!ROLES.has(m['role'])) return false;
  if (!MEMBER_STATUSES.has(m['status'])) return false;
  const labels = m['labels'];
  if (!plain(labels)) return false;
  let n = 0;
  for (const k in labels) {
    if (!Object.hasOwn(labels, k) || k === '__proto__' || k.length < 1 || k.length > 128 || !boundedString(labels[k], 0, 256)) return false;
    if (++n > 64) return false;
  }
  if (!stringsOk(m['workers'], 256, 1, 128)) return false;
  if (Object.hasOwn(m, 'capacity')) {
    const c = m['capacity'];
    if (!finiteOk(c) || c <= 0 || c > 1_000_000) return false;
  }
  if (Object.hasOwn(m, 'commands') && !stringsOk(m['commands'], 1000, 1, 4096)) return false;
  if (Object.hasOwn(m, 'ready') && typeof m['ready'] !== 'boolean') return false;
  if (Object.hasOwn(m, 'startable') && typeof m['startable'] !== 'boolean') return false;
  if (Object.hasOwn(m, 'lease')) {
    const l = m['lease'];
    if (!plain(l) || !keysAre(l, ['ms', 'stopMs'])) return false;
    if (!natOk(l['ms']) || l['ms'] < 1 || l['ms'] > 86_400_000 || !natOk(l['stopMs']) || l['stopMs'] > 86_400_000) return false;
  }
  if (Object.hasOwn(m, 'netsplit')) {
    const s = m['netsplit'];
    if (!plain(s) || !keysAre(s, ['mode'], ['expectedMembers']) || (s['mode'] !== 'available' && s['mode'] !== 'majority')) return false;
    if (Object.hasOwn(s, 'expectedMembers') && (!natOk(s['expectedMembers']) || s['expectedMembers'] < 1 || s['expectedMembers'] > 10_000)) return false;
  }
  if (Object.hasOwn(m, 'saveFailing')) {
    const f = m['saveFailing'];
    if (!plain(f) || !keysAre(f, ['since', 'error']) || !natOk(f['since']) || !boundedString(f['error'], 0, SAVE_ERROR_MAX)) return false;
  }
  if (Object.hasOwn(m, 'waitsFor')) {
    const w = m['waitsFor'];
    if (!plain(w) || !keysAre(w, ['notLinked', 'roster', 'notSynced', 'joined', 'leased'], ['until'])) return false;
    for (const k of ['notLinked', 'roster', 'notSynced']) if (!namesOk(w[k])) return false;
    if (typeof w['joined'] !== 'boolean' || typeof w['leased'] !== 'boolean') return false;
    if (Object.hasOwn(w, 'until') && !natOk(w['until'])) return false;
  }
  return true;
}

/** A valid frame of a frequent type, or undefined (then the generic path decides). Never throws. Exported for its test. */
export function decodeFrequent(raw: unknown): PeerMessage | undefined {
  try {
    if (!plain(raw)) return undefined;
    switch (raw['t']) {
      case 'ping':
        return pingOk(raw) ? (raw as unknown as PeerMessage) : undefined;
      case 'gossip': {
        if (!keysAre(raw, ['t', 'members'])) return undefined;
        const members = raw['members'];
        if (!Array.isArray(members) || members.length > 10_000) return undefined;
        for (let i = 0; i < members.length; i++) if (!(i in members) || !memberInfoOk(members[i])) return undefined;
        return raw as unknown as PeerMessage;
      }
      case 'pg.join': {
        if (!keysAre(raw, ['t', 'scope', 'group', 'entries']) || !boundedString(raw['scope'], 1, 256) || !boundedString(raw['group'], 1, 1024))
          return undefined;
        const entries = raw['entries'];
        if (!Array.isArray(entries) || entries.length < 1) return undefined;
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i] as unknown;
          if (!(i in entries) || !plain(e) || !keysAre(e, ['pid'], ['value']) || !pidOk(e['pid']) || (Object.hasOwn(e, 'value') && !isJsonValue(e['value'])))
            return undefined;
        }
        return raw as unknown as PeerMessage;
      }
      case 'pg.leave': {
        if (!keysAre(raw, ['t', 'scope', 'group', 'pids']) || !boundedString(raw['scope'], 1, 256) || !boundedString(raw['group'], 1, 1024)) return undefined;
        const pids = raw['pids'];
        if (!Array.isArray(pids) || pids.length < 1) return undefined;
        for (let i = 0; i < pids.length; i++) if (!(i in pids) || !pidOk(pids[i])) return undefined;
        return raw as unknown as PeerMessage;
      }
      case 'rs.delta':
        if (!keysAre(raw, ['t', 'scope', 'seq', 'entries']) || !boundedString(raw['scope'], 1, 256) || !seqOk(raw['seq']) || !storeEntriesOk(raw['entries'], 1))
          return undefined;
        return raw as unknown as PeerMessage;
      case 'rs.regs':
        if (
          !keysAre(raw, ['t', 'scope', 'seq', 'pull', 'entries'], ['more']) ||
          !boundedString(raw['scope'], 1, 256) ||
          !seqOk(raw['seq']) ||
          !seqOk(raw['pull']) ||
          !storeEntriesOk(raw['entries'], 0)
        )
          return undefined;
        if (Object.hasOwn(raw, 'more') && raw['more'] !== true) return undefined;
        return raw as unknown as PeerMessage;
      case 'cmd.reply': {
        if (!keysAre(raw, ['t', 'id', 'ok'], ['result', 'error']) || !boundedString(raw['id'], 1, 64) || typeof raw['ok'] !== 'boolean') return undefined;
        // The result sits one level below the frame, which may nest MAX_NESTING levels in all.
        if (Object.hasOwn(raw, 'result') && !isJsonValue(raw['result'], MAX_NESTING - 1)) return undefined;
        if (Object.hasOwn(raw, 'error')) {
          const e = raw['error'];
          if (!plain(e) || !keysAre(e, ['code', 'message']) || !boundedString(e['code'], 0, 64) || !boundedString(e['message'], 0, 2000)) return undefined;
        }
        return raw as unknown as PeerMessage;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Validates `raw` against `schema`. Never throws: a value too deep, or one whose validation throws, is rejected with a reason. */
export function decodeWith<T>(schema: z.ZodType<T>, raw: unknown, options: DecodeOptions = {}): DecodeResult<T> {
  try {
    if (nestingExceeds(raw, MAX_NESTING)) return { ok: false, reason: `(message): nested deeper than ${MAX_NESTING} levels` };
    let parsed = schema.safeParse(raw);
    // Tolerant: strip the unknown fields zod reports and validate again. Each
    // pass removes every unknown field it could see; nested objects are only
    // seen once their parent validates, hence a few passes.
    for (let pass = 0; options.tolerant && !parsed.success && pass < 4; pass++) {
      const issues = parsed.error.issues;
      if (!issues.every((i) => i.code === 'unrecognized_keys')) break;
      const copy = jsonCopy(raw);
      if (copy === undefined) break;
      for (const issue of issues) dropKeys(copy, issue.path, (issue as { keys: string[] }).keys);
      raw = copy;
      parsed = schema.safeParse(raw);
    }
    if (parsed.success) return { ok: true, message: parsed.data };
    return { ok: false, reason: describeIssues(parsed.error, raw) };
  } catch (err) {
    return { ok: false, reason: `(message): cannot be validated (${err instanceof Error ? err.name : 'error'})` };
  }
}

/** True when `raw` nests arrays or objects more than `limit` levels deep. Iterative, so it cannot overflow the stack itself. */
function nestingExceeds(raw: unknown, limit: number): boolean {
  if (raw === null || typeof raw !== 'object') return false;
  const seen = new Set<object>();
  const stack: Array<[unknown, number]> = [[raw, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    if (depth > limit) return true;
    seen.add(value);
    const children = Array.isArray(value) ? value : Object.values(value);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function safeGet(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** A deep copy through JSON (what the wire carries anyway); undefined when the value cannot be copied. */
function jsonCopy(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return undefined;
  }
}

function dropKeys(root: unknown, path: readonly PropertyKey[], keys: readonly string[]): void {
  let target = root;
  for (const step of path) {
    if (target === null || typeof target !== 'object') return;
    target = (target as Record<PropertyKey, unknown>)[step];
  }
  if (target === null || typeof target !== 'object' || Array.isArray(target)) return;
  for (const key of keys) if (Object.hasOwn(target, key)) delete (target as Record<string, unknown>)[key];
}

/** `field: problem; field: problem` from a zod error, at most three issues of at most 200 characters each, never echoing large values. */
export function describeIssues(error: z.ZodError, raw?: unknown): string {
  const t = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? safeGet(raw, 't') : undefined;
  const tag = typeof t === 'string' ? t.slice(0, 40) : undefined;
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map((step) => String(step).slice(0, 40)).join('.') : '(message)';
    return `${path}: ${issue.message}`.slice(0, 200);
  });
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return `${tag !== undefined ? `[${tag}] ` : ''}${parts.join('; ')}${more}`;
}

/** Same major version: the two nodes can link (minor versions only add). */
export function isCompatibleVersion(remote: { major: number; minor: number }): boolean {
  return remote.major === PROTOCOL_VERSION.major;
}

/** Same major, newer minor: the peer may send message types and fields this node does not know. */
export function isNewerMinor(remote: { major: number; minor: number }): boolean {
  return remote.major === PROTOCOL_VERSION.major && remote.minor > PROTOCOL_VERSION.minor;
}

/** Splits a pid into its parts; undefined when malformed. */
export function parsePid(pid: string): { node: string; incarnation: string; localId: string } | undefined {
  // The schema's own test, without zod's per-call cost (every entry of every pg frame comes here).
  if (typeof pid !== 'string' || pid.length > PID_MAX_LENGTH || !PID_PATTERN.test(pid)) return undefined;
  // The pattern admits exactly two slashes; slices, not split's array (every pg entry a peer sends comes here).
  const a = pid.indexOf('/');
  const b = pid.indexOf('/', a + 1);
  return { node: pid.slice(0, a), incarnation: pid.slice(a + 1, b), localId: pid.slice(b + 1) };
}

/** Whether `pid` is a well-formed pid of `node`: `parsePid(pid)?.node === node`, without its parts cut out (every pg entry a peer sends comes here). */
export function isPidOf(pid: string, node: string): boolean {
  // The pattern admits no slash in the node part, so the first one ends it.
  return pid.length > node.length && pid.charCodeAt(node.length) === 47 && pid.startsWith(node) && pid.length <= PID_MAX_LENGTH && PID_PATTERN.test(pid);
}

export function formatPid(node: string, incarnation: string, localId: string): Pid {
  return `${node}/${incarnation}/${localId}`;
}
