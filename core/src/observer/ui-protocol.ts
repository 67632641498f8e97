/**
 * The UI protocol: everything that crosses the seam between the observer
 * gateway and its clients (the renderer, in the desktop app or a browser),
 * and the operator commands that the gateway and `pogo ctl` pass on to a
 * member. One module for both directions and every end, so the gateway,
 * `pogo ctl`, the members and the renderer cannot drift apart. The UI seam
 * is between a gateway and a renderer of the same release; its shape may
 * change between releases.
 *
 * Socket.IO events, named by direction (as socket.io's own typings do):
 *
 *   handshake        auth { token, credential?, user?, locked? } parseHandshakeAuth
 *   server → client  snapshot(ClusterState)                     once per connection
 *                    patch(StatePatch, ack)                     state.ts; at most one unacknowledged
 *                                                               (members checked: checkMemberViews)
 *   client → server  command({ op, args }, ack(CommandAck))     parseUiCommand
 *                    watchOutput({ id }, ack(WatchAck))         parseWatchOutput; output-follow.ts
 *                    unwatchOutput({ id })
 *   server → client  output(OutputEvent)                        while a watch lasts
 *
 * Commands. Every op has one zod schema with named fields (`move: { id,
 * node }`): COMMAND_ARG_SCHEMAS. A command is checked with it once at each
 * process boundary it crosses, and a refusal names the field
 * (`move: node: required`):
 *
 *   UI session → gateway         parseUiCommand (the ops a UI may send: UI_OPS)
 *   command line → `pogo ctl`    parseCommandArgs
 *   link → member                decodeWireCommand (commands.ts)
 *
 * The member protocol (protocol.ts `cmd`) carries the arguments as a
 * positional array and does not change with this module: WIRE_FIELDS gives
 * each op's field order, and `encodeWireArgs` / `decodeWireCommand` map
 * between the named and the positional form (the decode validates with the
 * op's schema, so a member's refusal names the field as well).
 *
 * Results: `MemberResults` is what a member answers per op, checked where
 * the answer arrives (MEMBER_RESULT_SCHEMAS, in CommandClient; fields a
 * newer member adds are dropped, not refused); `UiResults` is what the
 * gateway acknowledges to a UI (the audit merged from every member, output
 * lines with the node they came from, `explain` answered by the gateway).
 * Errors carry a code from COMMAND_ERROR_CODES; a code this release does
 * not know (from a newer member) becomes `failed`, with the code kept in
 * the message (`commandFailure`).
 *
 * Pure (zod, protocol.ts, child-spec.ts and types): the renderer may import it.
 */
import { z } from 'zod';
import type { DistErrorCode } from '../distributed/errors.js';
import type { ChildCountsGlobal, Explanation, GlobalChild, GlobalStatus } from '../distributed/view.js';
import {
  JsonSchema,
  MemberStatusSchema,
  NODE_NAME_PATTERN,
  NetsplitSettingsSchema,
  SaveFailingSchema,
  WaitsForSchema,
  isJsonValue,
  MAX_NESTING,
  type CommandOp,
  type JsonValue,
} from '../protocol.js';
import { parseChildSpec, RestartSchema, SpecError, type ChildSpec, type ChildSpecInput } from '../supervisor/child-spec.js';
import type { MessageErrorCode } from '../supervisor/child-channel.js';
import type { SupervisorErrorCode } from '../supervisor/local-supervisor.js';
import type { OutputLine } from '../supervisor/log-ring.js';
import type { Access, ClusterState, MemberView, StatePatch } from './state.js';

/** Compile-time equality of two types (used to tie the schemas below to core's types). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// ---------------------------------------------------------------------------
// Command arguments

/**
 * The ops a UI session may send: the member ops that change or read the
 * cluster, and the ones the gateway answers itself: `explain`, and `lock` /
 * `unlock` (the session drops its operator rights, or takes them back).
 */
export const UI_OPS = [
  'start',
  'stop',
  'restart',
  'move',
  'unpin',
  'drain',
  'undrain',
  'pause',
  'resume',
  'forget',
  'audit',
  'logs',
  'explain',
  'lock',
  'unlock',
  'call',
  'whereis',
] as const;
/** The name of a UI command. */
export type UiOp = (typeof UI_OPS)[number];
/** Every op with arguments: what members execute, and `explain`. */
export type AnyOp = CommandOp | UiOp;

const fieldError = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? 'required' : `must be ${what}`) });
const ChildIdArg = z.string(fieldError('a string')).min(1, 'must not be empty').max(256, 'must be at most 256 characters');
const NodeArg = z
  .string(fieldError('a node name'))
  .regex(NODE_NAME_PATTERN, 'must be a node name: 1-128 characters of letters, digits, ".", "_", "@", "-", starting with a letter or digit');
/**
 * A child spec, checked by the same function every member runs on it
 * (parseChildSpec: defaults filled, the first bad field named), so the
 * gateway's refusal says what a member's would. A caller may give a typed
 * spec or plain JSON (a spec a user typed, not checked yet).
 */
const SpecArg = z
  .custom<ChildSpecInput | { [key: string]: JsonValue }>((v) => v !== undefined, { error: 'required' })
  .transform((input, ctx): ChildSpec => {
    try {
      return parseChildSpec(input);
    } catch (err) {
      // Field '(spec)': the spec as a whole is wrong (not an object at all).
      if (err instanceof SpecError && err.field !== '(spec)') ctx.addIssue({ code: 'custom', message: err.reason, path: err.field.split('.') });
      else ctx.addIssue({ code: 'custom', message: 'must be a child spec: an object { id, start, … }' });
      return z.NEVER;
    }
  });
const NoArgs = z.object({}).strict();
/** A message to a child: any JSON value (null included: see WIRE_NULLABLE). Its size is checked where it is routed (distributed/calls.ts). */
const MessageArg = z.custom<JsonValue>((v) => v !== undefined && isJsonValue(v), {
  error: (issue) => (issue.input === undefined ? 'required' : 'must be plain JSON'),
});
export { DEFAULT_CALL_TIMEOUT_MS } from '../supervisor/child-channel.js';
/** Longest an operator's call may wait for its reply (10 minutes). */
export const MAX_CALL_COMMAND_TIMEOUT_MS = 600_000;

/**
 * Where a reader of the audit log is in each member's log: the newest entry
 * it holds from that member (`seq` in the member's `incarnation`). With it,
 * `audit` answers only newer entries (commands.ts); a member that restarted
 * since (another incarnation) answers all of its own.
 */
const AuditCursorSchema = z
  .object({
    incarnation: z.string(fieldError('a string')).min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
    seq: z.number(fieldError('a number')).int('must be a whole number').min(0, 'must be 0 or more').max(Number.MAX_SAFE_INTEGER, 'is too large'),
  })
  .strict();
/** Members a cursor map may name (a cluster larger than this reads the whole log of the rest). */
export const MAX_AUDIT_CURSORS = 1024;
const AuditCursorsArg = z
  .record(NodeArg, AuditCursorSchema)
  .refine((r) => Object.keys(r).length <= MAX_AUDIT_CURSORS, `must name at most ${MAX_AUDIT_CURSORS} members`);
export type AuditCursors = z.output<typeof AuditCursorsArg>;

/** One schema per op, with named fields. Unknown fields are refused. */
export const COMMAND_ARG_SCHEMAS = {
  start: z.object({ spec: SpecArg }).strict(),
  stop: z.object({ id: ChildIdArg }).strict(),
  move: z.object({ id: ChildIdArg, node: NodeArg }).strict(),
  unpin: z.object({ id: ChildIdArg }).strict(),
  drain: z.object({ node: NodeArg }).strict(),
  undrain: z.object({ node: NodeArg }).strict(),
  forget: z.object({ node: NodeArg }).strict(),
  pause: NoArgs,
  resume: NoArgs,
  /** Entries after `after[member]` only, from each member it names; the whole log from the others. */
  audit: z.object({ after: AuditCursorsArg.optional() }).strict(),
  /** Every up member's audit log merged, oldest first: the member asks the others (since 2.2; for a client, which has one link). */
  'audit-all': NoArgs,
  view: NoArgs,
  whoami: NoArgs,
  /** Output lines of an OS-process child with a sequence number above `after`. */
  logs: z
    .object({
      id: ChildIdArg,
      after: z.number(fieldError('a number')).int('must be a whole number').min(0, 'must be 0 or more').max(Number.MAX_SAFE_INTEGER).default(0),
    })
    .strict(),
  explain: z.object({ id: ChildIdArg }).strict(),
  /** Stop the child's instance and start a new one on the same node (since protocol 2.2). */
  restart: z.object({ id: ChildIdArg }).strict(),
  /** The member's view of members and child counts (since 2.2). */
  status: NoArgs,
  /**
   * Start children and say what became of each (since 2.2): answered once
   * the cluster holds every spec and a first outcome of each is known (an
   * instance runs, a start failed, it ended), or after `waitMs` with the
   * state then. Up to MAX_SUBMIT_SPECS specs, each checked as `start`'s.
   */
  submit: z
    .object({
      specs: z
        .array(SpecArg, fieldError('an array of child specs'))
        .min(1, 'must hold at least one spec')
        .max(1000, 'must hold at most 1000 specs (send more in several commands)'),
      waitMs: z
        .number(fieldError('a number'))
        .int('must be a whole number')
        .min(0, 'must be 0 or more')
        .max(600_000, 'must be at most 600000 (10 minutes)')
        .default(10_000),
    })
    .strict(),
  lock: NoArgs,
  unlock: NoArgs,
  /**
   * Send `message` to child `id` wherever it runs and wait for its reply
   * (since protocol 2.3; distributed/calls.ts): `timeoutMs` bounds the
   * whole call, waiting for a new instance included (default 5 s).
   */
  call: z
    .object({
      id: ChildIdArg,
      message: MessageArg,
      timeoutMs: z
        .number(fieldError('a number'))
        .int('must be a whole number')
        .min(1, 'must be 1 or more')
        .max(MAX_CALL_COMMAND_TIMEOUT_MS, `must be at most ${MAX_CALL_COMMAND_TIMEOUT_MS} (10 minutes)`)
        .optional(),
    })
    .strict(),
  /** Where child `id`'s instance runs now (since protocol 2.3). */
  whereis: z.object({ id: ChildIdArg }).strict(),
} as const satisfies Record<AnyOp, z.ZodType>;

/** An op's arguments after validation (defaults filled). */
export type CommandArgs<Op extends AnyOp> = z.output<(typeof COMMAND_ARG_SCHEMAS)[Op]>;
/** An op's arguments as a caller writes them (optional fields may be left out). */
export type CommandArgsInput<Op extends AnyOp> = z.input<(typeof COMMAND_ARG_SCHEMAS)[Op]>;

/** A validated command: the op and its arguments, correlated. */
export type MemberCommand = { [Op in CommandOp]: { op: Op; args: CommandArgs<Op> } }[CommandOp];
/** A command a UI sends to the gateway (operator commands are audited). */
export type UiCommand = { [Op in UiOp]: { op: Op; args: CommandArgs<Op> } }[UiOp];
/** What a UI sends: `{ op, args }` (args may be left out for ops without any). */
export type UiCommandRequest = { [Op in UiOp]: { op: Op; args?: CommandArgsInput<Op> } }[UiOp];

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** `field: problem; field: problem` from a zod error (at most three), naming unknown fields one by one. */
function describeArgIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.map((step) => String(step).slice(0, 40)).join('.');
    if (issue.code === 'unrecognized_keys')
      return `${issue.keys
        .slice(0, 3)
        .map((k) => `${path ? `${path}.` : ''}${k.slice(0, 40)}: unknown field`)
        .join('; ')}${issue.keys.length > 3 ? ` (+${issue.keys.length - 3} more)` : ''}`;
    return `${path || 'args'}: ${issue.message}`.slice(0, 200);
  });
  return `${parts.join('; ')}${error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : ''}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Validates one op's arguments; the refusal is `op: field: problem`. Never throws. */
export function parseCommandArgs<Op extends AnyOp>(op: Op, raw: unknown): Checked<CommandArgs<Op>> {
  try {
    if (raw !== undefined && (!isPlainObject(raw) || !isJsonValue(raw)))
      return { ok: false, message: `${op}: args: must be an object of plain JSON fields, nested at most ${MAX_NESTING} levels` };
    const parsed = COMMAND_ARG_SCHEMAS[op].safeParse(raw ?? {});
    // The schema of `op`, so its output is CommandArgs<Op> (TypeScript cannot correlate the indexed schema with Op).
    if (parsed.success) return { ok: true, value: parsed.data as CommandArgs<Op> };
    return { ok: false, message: `${op}: ${describeArgIssues(parsed.error)}` };
  } catch (err) {
    return { ok: false, message: `${op}: the arguments cannot be read (${err instanceof Error ? err.name : 'error'})` };
  }
}

/** A UI session's `command` payload, checked at the gateway: a UI op and its arguments. Never throws. */
export function parseUiCommand(raw: unknown): Checked<UiCommand> {
  try {
    if (!isPlainObject(raw)) return { ok: false, message: 'a command must be { op, args }' };
    const extra = Object.keys(raw).filter((k) => k !== 'op' && k !== 'args');
    if (extra.length > 0)
      return {
        ok: false,
        message: `a command is { op, args }: ${extra
          .slice(0, 3)
          .map((k) => JSON.stringify(k.slice(0, 40)))
          .join(', ')} is not a field of it`,
      };
    const op = raw['op'];
    if (typeof op !== 'string' || !(UI_OPS as readonly string[]).includes(op))
      return {
        ok: false,
        message: `unknown command ${JSON.stringify(typeof op === 'string' ? op.slice(0, 40) : (op ?? null))?.slice(0, 60)}; a UI may send ${UI_OPS.join(', ')}`,
      };
    const args = parseCommandArgs(op as UiOp, raw['args']);
    return args.ok ? { ok: true, value: { op, args: args.value } as UiCommand } : args;
  } catch {
    return { ok: false, message: 'the command cannot be read' };
  }
}

// ---------------------------------------------------------------------------
// The member protocol's positional form

/** The order in which each op's fields travel in `cmd.args` (protocol.ts). Append-only per op: positions are protocol. A null is a field left out. */
export const WIRE_FIELDS = {
  start: ['spec'],
  stop: ['id'],
  move: ['id', 'node'],
  unpin: ['id'],
  drain: ['node'],
  undrain: ['node'],
  forget: ['node'],
  pause: [],
  resume: [],
  audit: ['after'],
  'audit-all': [],
  view: [],
  whoami: [],
  logs: ['id', 'after'],
  restart: ['id'],
  explain: ['id'],
  status: [],
  submit: ['specs', 'waitMs'],
  call: ['id', 'message', 'timeoutMs'],
  whereis: ['id'],
} as const satisfies { [Op in CommandOp]: ReadonlyArray<keyof CommandArgs<Op>> };

/** Fields whose value may be JSON null: on the wire a null there is the value, not a field left out. */
const WIRE_NULLABLE: Partial<Record<CommandOp, ReadonlySet<string>>> = { call: new Set(['message']) };

/** Named arguments as the positional array `cmd.args` carries (trailing fields left out are not sent). */
export function encodeWireArgs<Op extends CommandOp>(op: Op, args: CommandArgsInput<Op>): JsonValue[] {
  const fields: readonly string[] = WIRE_FIELDS[op];
  const named: Record<string, unknown> = args;
  const out = fields.map((f) => named[f]);
  while (out.length > 0 && out.at(-1) === undefined) out.pop();
  // An optional field left out before one that is given travels as null (JSON has no undefined); decodeWireCommand reads null as absent.
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = null;
  // Values the caller gave; CommandClient checks the whole frame (CommandSchema) before it is sent.
  return out as JsonValue[];
}

/** A received `cmd`'s positional arguments, named and validated with the op's schema. Never throws. */
export function decodeWireCommand(op: CommandOp, wire: readonly JsonValue[]): Checked<MemberCommand> {
  const fields: readonly string[] = WIRE_FIELDS[op];
  if (wire.length > fields.length)
    return {
      ok: false,
      message: `${op}: takes ${fields.length === 0 ? 'no arguments' : `${fields.length} argument(s) (${fields.join(', ')})`}, got ${wire.length}`,
    };
  const named: Record<string, JsonValue> = {};
  const nullable = WIRE_NULLABLE[op];
  fields.forEach((f, i) => {
    if (i < wire.length && (wire[i] !== null || nullable?.has(f) === true)) named[f] = wire[i]!;
  });
  const args = parseCommandArgs(op, named);
  return args.ok ? { ok: true, value: { op, args: args.value } as MemberCommand } : args;
}

// ---------------------------------------------------------------------------
// Size: command-size.ts (zod-free, so the renderer can load it), re-exported here.

export { formatBytes, GATEWAY_MAX_FRAME_BYTES, jsonBytes, MAX_COMMAND_ARGS_BYTES, oversizedRequest, tooLargeMessage } from './command-size.js';

// ---------------------------------------------------------------------------
// Errors

/**
 * Every code a failed command can carry: request errors (bad request, access), the member's and the
 * supervisors' errors (DistError, SupervisorError, MessageError codes).
 */
export const COMMAND_ERROR_CODES = [
  // the request
  'bad-request',
  'read-only',
  'unauthorized',
  'forbidden',
  'commands-disabled',
  'not-a-member',
  'too-large',
  // reaching a member
  'unreachable',
  'timeout',
  'not-connected',
  'bad-reply',
  // the cluster (DistErrorCode, SupervisorErrorCode)
  'invalid-spec',
  'conflict',
  'unplaceable',
  'start-failed',
  'terminated',
  'not-found',
  'unknown-node',
  'ineligible-node',
  'no-quorum',
  'not-running',
  'not-ready',
  'shutting-down',
  'already-present',
  'running',
  'not-allowed',
  'unknown-worker',
  // a message to a child (supervisor/child-channel.ts; not-found, not-running, timeout and too-large above)
  'no-handler',
  'handler-error',
  'overloaded',
  // anything else
  'failed',
] as const;
/** Why the gateway refused or failed a command. */
export type CommandErrorCode = (typeof COMMAND_ERROR_CODES)[number];
const _everyDistCode: DistErrorCode extends CommandErrorCode ? true : false = true;
const _everySupervisorCode: SupervisorErrorCode extends CommandErrorCode ? true : false = true;
const _everyMessageCode: MessageErrorCode extends CommandErrorCode ? true : false = true;

/** A failed command: its error code and message. */
export interface CommandFailure {
  /** What went wrong, for programs to test. */
  code: CommandErrorCode;
  /** What went wrong, for people. */
  message: string;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(COMMAND_ERROR_CODES);

/** A failure from any source; a code this release does not know becomes `failed`, the code kept in the message. */
export function commandFailure(code: string, message: string): CommandFailure {
  return KNOWN_CODES.has(code) ? { code: code as CommandErrorCode, message } : { code: 'failed', message: `${code.slice(0, 64)}: ${message}` };
}

// ---------------------------------------------------------------------------
// Results

const GlobalStatusSchema = z.enum(['running', 'pending', 'moving', 'duplicate', 'failing', 'unplaceable']);
const _statuses: Same<z.output<typeof GlobalStatusSchema>, GlobalStatus> = true;

const StartedChildSchema = z.object({ id: z.string(), node: z.string(), pid: z.string() });
/** Ops that answer nothing: no `result` on the wire. */
const NoResult = z.union([z.undefined(), z.null()]).transform(() => null);

/**
 * One entry of a member's audit log. `args` are the positional arguments as
 * they arrived, malformed ones included (shortened when large). Fields an
 * older member does not send are optional: its entries still parse.
 */
export const AuditEntrySchema = z.object({
  at: z.number(),
  node: z.string(),
  /** The peer the command came from, and who it said it was (a user name the client declares: not verified). */
  from: z.string(),
  by: z.string(),
  /** The name of the operator or viewer token the credential matched (credentials.ts): verified by the member. Absent when it matched none. */
  tokenName: z.string().optional(),
  /** The member's incarnation when it executed the command, and the entry's number in that incarnation's log (from 1). */
  incarnation: z.string().optional(),
  seq: z.number().optional(),
  /** A string, not the op enum: a newer member may audit an op this release does not know. */
  op: z.string(),
  args: z.array(JsonSchema),
  ok: z.boolean(),
  result: z.string(),
});
/** One entry of the gateway's audit log: who ran which command, when, with what result. */
export type AuditEntry = z.output<typeof AuditEntrySchema>;

export const OutputLineSchema = z.object({ seq: z.number(), at: z.number(), stream: z.enum(['stdout', 'stderr']), text: z.string() });
const _lines: Same<z.output<typeof OutputLineSchema>, OutputLine> = true;

/** A live instance; `osPid` for an OS-process child (since 2.2). */
const InstanceSchema = z.object({ node: z.string(), pid: z.string(), osPid: z.number().int().positive().optional() });
const ReportedSpecSchema = z.looseObject({
  id: z.string(),
  start: z.union([z.looseObject({ worker: z.string() }), z.looseObject({ command: z.string() })]),
  restart: RestartSchema,
  handoff: z.enum(['stop-first', 'start-first']),
});
/**
 * A child as a member reports it (`view`): GlobalChild as JSON carries it.
 * The spec is checked only for what an observer shows of it (the member
 * validated it in full): a member's view holds every child, and a full
 * parse of each would cost the observer more than the rest of its work.
 */
export const ChildReportSchema = z.object({
  id: z.string(),
  spec: ReportedSpecSchema,
  rev: z.string(),
  status: GlobalStatusSchema,
  node: z.string().optional(),
  pid: z.string().optional(),
  /** The OS process id of the instance at `node`, for an OS-process child (since 2.2). */
  osPid: z.number().int().positive().optional(),
  instances: z.array(InstanceSchema),
  restarts: z.number(),
  owner: z.string().optional(),
  pin: z.string().optional(),
  failures: z.array(z.object({ node: z.string(), failures: z.number(), lastError: z.string() })),
  lastError: z.string().optional(),
  /** While rebalancing is paused: where the child would run once it resumes (since 2.2). */
  resumeTo: z.string().optional(),
});
export type ChildReport = z.output<typeof ChildReportSchema>;
const _report: GlobalChild extends ChildReport ? true : false = true;

/** A member's view of members and children (`view`): what an observer shows of members it cannot reach itself. */
export const MemberViewReplySchema = z.object({
  node: z.string(),
  members: z.array(z.object({ name: z.string(), status: MemberStatusSchema })),
  children: z.array(ChildReportSchema),
});
/** A member's detail view as the gateway returns it. */
export type MemberViewReply = z.output<typeof MemberViewReplySchema>;

/** `status`: the member's view of the members (no clients: they are not members) and of the children. */
export const MemberStatusReplySchema = z.object({
  node: z.string(),
  members: z.array(
    z.object({
      name: z.string(),
      status: MemberStatusSchema,
      role: z.enum(['member', 'observer']),
      address: z.string(),
      ready: z.boolean(),
      draining: z.boolean(),
      /** Its netsplit settings as it announces them (members of protocol 2.5 and later). */
      netsplit: NetsplitSettingsSchema.optional(),
      /** Present while it cannot save its desired state to its data dir (members of protocol 2.6 and later). */
      saveFailing: SaveFailingSchema.optional(),
      /** While it is not ready: what it waits for, as it announces it (members of protocol 2.7 and later). */
      waitsFor: WaitsForSchema().optional(),
      /** When its incarnation started (ms since the epoch, its clock): a member not ready has waited since then. Absent from older members' replies. */
      startedAt: z.number().int().nonnegative().optional(),
    }),
  ),
  children: z.object({
    specs: z.number(),
    running: z.number(),
    pending: z.number(),
    moving: z.number(),
    duplicate: z.number(),
    failing: z.number(),
    unplaceable: z.number(),
    local: z.number(),
  }),
  paused: z.boolean(),
  /** What the answering member found at start that an operator must hear of (a desired state file moved aside); absent when nothing. */
  notices: z.array(z.string()).optional(),
});
export type MemberStatusReply = z.output<typeof MemberStatusReplySchema>;
const _counts: Same<MemberStatusReply['children'], ChildCountsGlobal> = true;

/** `explain`: why a child is where it is (DistributedSupervisor.explain). */
export const ExplanationSchema = z.object({
  id: z.string(),
  spec: ReportedSpecSchema,
  owner: z.string().optional(),
  by: z.enum(['pin', 'hash', 'none']),
  pin: z.string().optional(),
  paused: z.boolean(),
  resumeTo: z.string().optional(),
  instances: z.array(InstanceSchema),
  candidates: z.array(z.object({ node: z.string(), excludedBy: z.array(z.string()), score: z.number().optional() })),
  waiting: z.array(z.string()),
});
const _explanation: Explanation extends z.input<typeof ExplanationSchema> ? true : false = true;
/** `explain` as a client reads it (the spec as reported: `ReportedSpecSchema`). */
export type ExplanationReport = z.output<typeof ExplanationSchema>;

/**
 * `submit`, per spec, in the order sent. Accepted (every up member holds
 * it), with its state when the member answered: `finished` when it has
 * already ended for good (a transient child that exited normally, a
 * temporary one) or was stopped meanwhile; otherwise its status as `ls`
 * shows it, with where it runs or the last error of a failed start. Or
 * refused, with the typed error (`conflict`, `unplaceable`, ...).
 */
export const SubmittedSchema = z.object({
  id: z.string(),
  state: z.enum([...GlobalStatusSchema.options, 'finished']),
  node: z.string().optional(),
  pid: z.string().optional(),
  osPid: z.number().int().positive().optional(),
  lastError: z.string().optional(),
});
export type Submitted = z.output<typeof SubmittedSchema>;
export const SubmitRefusedSchema = z.object({ id: z.string(), refused: z.object({ code: z.string(), message: z.string() }) });
export type SubmitOutcome = Submitted | z.output<typeof SubmitRefusedSchema>;

/** `call`: the child's reply, and the instance that gave it (the node it runs on, its pid). */
export const CallResultSchema = z.object({ reply: JsonSchema, node: z.string(), pid: z.string() });
export type CallResult = z.output<typeof CallResultSchema>;

/** What a member answers, per op. */
export const MEMBER_RESULT_SCHEMAS = {
  start: StartedChildSchema,
  stop: NoResult,
  move: StartedChildSchema,
  unpin: NoResult,
  drain: NoResult,
  undrain: NoResult,
  forget: NoResult,
  pause: NoResult,
  resume: NoResult,
  audit: z.array(AuditEntrySchema),
  /** `unanswered`: the members that did not answer (their entries are missing). */
  'audit-all': z.object({ entries: z.array(AuditEntrySchema), unanswered: z.array(z.string()) }),
  view: MemberViewReplySchema,
  whoami: z.object({ role: z.enum(['operator', 'viewer']) }),
  logs: z.array(OutputLineSchema),
  /** The new instance: on the same node as the one it replaced. */
  restart: StartedChildSchema,
  explain: ExplanationSchema,
  status: MemberStatusReplySchema,
  submit: z.array(z.union([SubmittedSchema, SubmitRefusedSchema])),
  call: CallResultSchema,
  /** null: no instance runs now. */
  whereis: z.union([z.object({ node: z.string(), pid: z.string() }), z.null()]),
} as const satisfies Record<CommandOp, z.ZodType>;
/** Per-member results of a command sent to several members. */
export type MemberResults = { [Op in CommandOp]: z.output<(typeof MEMBER_RESULT_SCHEMAS)[Op]> };

/** A member's answer to one op, as a client sees it (CommandClient). */
export type CommandOutcome<Op extends CommandOp = CommandOp> = { ok: true; result: MemberResults[Op] } | { ok: false; error: CommandFailure };

// ---- a fast path for `view`
//
// A member's view holds every child: at 20,000 children the zod schema
// took 90-200 ms per check (measured on the 2-core test machine), once a
// second while the observer borrows a view. `isPlainViewReply` checks by
// hand exactly what MemberViewReplySchema accepts when no object carries a
// field the schema does not know (then zod's output equals the input); any
// other input, valid or not, takes the schema's path, so refusals still
// come from zod. ui-protocol.test.ts checks the two agree on random and
// broken views.

const STATUSES: ReadonlySet<unknown> = new Set(GlobalStatusSchema.options);
const MEMBER_STATUSES: ReadonlySet<unknown> = new Set(MemberStatusSchema.options);
const RESTARTS: ReadonlySet<unknown> = new Set(RestartSchema.options);
const HANDOFFS: ReadonlySet<unknown> = new Set(['stop-first', 'start-first']);
const CHILD_KEYS: ReadonlySet<string> = new Set(Object.keys(ChildReportSchema.shape));

const str = (v: unknown): v is string => typeof v === 'string';
const optStr = (v: unknown): boolean => v === undefined || typeof v === 'string';
const optOsPid = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0);
const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
/** A plain object whose own keys are all in `keys`. */
function onlyKeys(v: unknown, keys: ReadonlySet<string>): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  for (const k in v) if (!keys.has(k)) return false;
  return true;
}
const INSTANCE_KEYS: ReadonlySet<string> = new Set(Object.keys(InstanceSchema.shape));
const FAILURE_KEYS: ReadonlySet<string> = new Set(['node', 'failures', 'lastError']);
const MEMBER_KEYS: ReadonlySet<string> = new Set(['name', 'status']);
const VIEW_KEYS: ReadonlySet<string> = new Set(['node', 'members', 'children']);

function isPlainChildReport(c: unknown): boolean {
  if (!onlyKeys(c, CHILD_KEYS)) return false;
  if (!str(c['id']) || !str(c['rev']) || !STATUSES.has(c['status']) || !num(c['restarts'])) return false;
  if (
    !optStr(c['node']) ||
    !optStr(c['pid']) ||
    !optStr(c['owner']) ||
    !optStr(c['pin']) ||
    !optStr(c['lastError']) ||
    !optStr(c['resumeTo']) ||
    !optOsPid(c['osPid'])
  )
    return false;
  const spec = c['spec'];
  if (!isPlainObject(spec) || !str(spec['id']) || !RESTARTS.has(spec['restart']) || !HANDOFFS.has(spec['handoff'])) return false;
  const start = spec['start'];
  if (!isPlainObject(start) || !(str(start['worker']) || str(start['command']))) return false;
  const instances = c['instances'];
  if (!Array.isArray(instances) || !instances.every((i) => onlyKeys(i, INSTANCE_KEYS) && str(i['node']) && str(i['pid']) && optOsPid(i['osPid']))) return false;
  const failures = c['failures'];
  return Array.isArray(failures) && failures.every((f) => onlyKeys(f, FAILURE_KEYS) && str(f['node']) && num(f['failures']) && str(f['lastError']));
}

/** True when `raw` is a view MemberViewReplySchema accepts unchanged (see above). */
export function isPlainViewReply(raw: unknown): raw is MemberViewReply {
  if (!onlyKeys(raw, VIEW_KEYS) || !str(raw['node'])) return false;
  const members = raw['members'];
  const children = raw['children'];
  if (!Array.isArray(members) || !members.every((m) => onlyKeys(m, MEMBER_KEYS) && str(m['name']) && MEMBER_STATUSES.has(m['status']))) return false;
  return Array.isArray(children) && children.every(isPlainChildReport);
}

/** Checks a member's `result` for `op`. Never throws. */
export function parseMemberResult<Op extends CommandOp>(op: Op, raw: JsonValue | undefined): Checked<MemberResults[Op]> {
  try {
    // `view` is MemberResults['view'] when op is 'view' (TypeScript cannot correlate them).
    if (op === 'view' && isPlainViewReply(raw)) return { ok: true, value: raw as MemberResults[Op] };
    const parsed = MEMBER_RESULT_SCHEMAS[op].safeParse(raw);
    // The schema of `op` (see parseCommandArgs).
    if (parsed.success) return { ok: true, value: parsed.data as MemberResults[Op] };
    return { ok: false, message: `${op} result: ${describeArgIssues(parsed.error).replace(/^args: /, '')}` };
  } catch (err) {
    return { ok: false, message: `${op} result cannot be read (${err instanceof Error ? err.name : 'error'})` };
  }
}

/** What the gateway acknowledges to a UI, per op. */
export interface UiResults {
  /** The started child: its id, and the node and pid of its instance. */
  start: MemberResults['start'];
  /** Nothing: the child was stopped. */
  stop: null;
  /** The child's new instance, on the node it ran on. */
  restart: MemberResults['restart'];
  /** The moved child: its id, and the node and pid of its new instance. */
  move: MemberResults['move'];
  /** Nothing: the pin was removed. */
  unpin: null;
  /** Nothing: the node is being drained. */
  drain: null;
  /** Nothing: the drain was lifted. */
  undrain: null;
  /** Nothing: the member was forgotten. */
  forget: null;
  /** Nothing: rebalancing is paused. */
  pause: null;
  /** Nothing: rebalancing resumed. */
  resume: null;
  /** Every member's log merged, oldest first; `unanswered` lists the members that did not answer. */
  audit: { entries: AuditEntry[]; unanswered: string[] };
  /** Output lines of an OS-process child, from the node it runs on. */
  logs: { node: string; lines: OutputLine[] };
  /** Why the child runs where it does. */
  explain: Explanation;
  /** What the session may do now. */
  lock: { access: Access };
  /** What the session may do now. */
  unlock: { access: Access };
  /** The child's reply, and the node and pid of the instance that answered. */
  call: MemberResults['call'];
  /** The node and pid of the child's instance; null when none runs now. */
  whereis: MemberResults['whereis'];
}

/** The gateway's answer to a UI command: its outcome or a failure. */
export type CommandAck<Op extends UiOp = UiOp> = { ok: true; result: UiResults[Op] } | { ok: false; error: CommandFailure };

// ---------------------------------------------------------------------------
// Socket.IO

/** What a client presents when it connects. */
export interface HandshakeAuth {
  /** The gateway's per-session token. */
  token: string;
  /** An operator or viewer token; empty when none was given. */
  credential: string;
  /** Who the user says they are, for the audit log; empty when not said (the gateway's default applies). */
  user: string;
  /** The session starts locked (`lock`): a client that locked its session says so again when it reconnects. */
  locked: boolean;
}

/** Reads a handshake's `auth`: never throws; a missing or malformed field is empty (so a bad token is refused as wrong), long ones are cut. */
export function parseHandshakeAuth(raw: unknown): HandshakeAuth {
  const get = (key: string): unknown => (isPlainObject(raw) ? raw[key] : undefined);
  const text = (v: unknown, max: number): string => (typeof v === 'string' ? v.slice(0, max) : '');
  const token = get('token');
  return {
    token: typeof token === 'string' && token.length <= 1024 ? token : '',
    credential: text(get('credential'), 1024),
    user: text(get('user'), 64).trim(),
    locked: get('locked') === true,
  };
}

// ---------------------------------------------------------------------------
// Live output (observer/output-follow.ts)

/**
 * Output lines of a watched child, as the gateway read them from the node
 * it runs on. `change` says what happened before these lines: `watch` (the
 * first chunk of a watch: the lines the node still holds), `moved` (the
 * child runs on another node now: a new process, whose output starts
 * afresh), `replaced` (a new instance on the same node), `restarted` (the
 * same child restarted in place; its captured output goes on), `none`.
 * `skipped`: lines lost before these (the child wrote faster than the
 * gateway read, and the node's bounded ring dropped them).
 */
export interface OutputLinesEvent {
  /** The watched child's id. */
  id: string;
  /** Lines of output. */
  kind: 'lines';
  /** The node the child runs on. */
  node: string;
  /** The pid of the instance that wrote the lines. */
  pid: string;
  /** What happened before these lines (see above). */
  change: 'watch' | 'moved' | 'replaced' | 'restarted' | 'none';
  /** The lines, oldest first. */
  lines: OutputLine[];
  /** Lines lost before these. */
  skipped: number;
}

/**
 * Why no lines come: the child runs nowhere right now (`not-running`), its
 * node did not answer (`unavailable`, with the reason; the gateway keeps
 * trying), it left the cluster (`gone`: the watch ends), or the watch was
 * refused — by the gateway, or by the member, which does not accept the
 * session's credential (`refused`, with the reason: the watch ends).
 */
export interface OutputStatusEvent {
  /** The watched child's id. */
  id: string;
  /** Why no lines come. */
  kind: 'status';
  /** Which of the reasons above. */
  state: 'not-running' | 'unavailable' | 'gone' | 'refused';
  /** The reason, for people. */
  message: string;
}

/** A child output event pushed to a UI watching that child. */
export type OutputEvent = OutputLinesEvent | OutputStatusEvent;

/** The gateway's answer to a watch request: ok, or an error. */
export type WatchAck = { ok: true } | { ok: false; error: CommandFailure };

const WatchOutputSchema = z.object({ id: ChildIdArg }).strict();

/** A `watchOutput` or `unwatchOutput` payload: `{ id }` of a child. Never throws. */
export function parseWatchOutput(raw: unknown): Checked<{ id: string }> {
  try {
    if (!isPlainObject(raw)) return { ok: false, message: 'watchOutput: must be { id }' };
    const parsed = WatchOutputSchema.safeParse(raw);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `watchOutput: ${describeArgIssues(parsed.error)}` };
  } catch {
    return { ok: false, message: 'watchOutput: cannot be read' };
  }
}

// ---------------------------------------------------------------------------
// Members in the state the gateway sends

/**
 * A member as the gateway shows it (state.ts MemberView), checked where it
 * arrives: the renderer reads a member's status, readiness and `silent` to
 * say what is true of it (a node down is no drop target, its readiness is
 * not known, it may still be running), so a member it cannot read is
 * dropped with the reason rather than drawn wrong. Members are a few per
 * cluster, so checking each snapshot's and patch's costs nothing; the
 * children (thousands) are typed, not checked here.
 */
export const MemberViewSchema = z.object({
  name: z.string(),
  status: z.enum([...MemberStatusSchema.options, 'unreachable']),
  role: z.enum(['member', 'observer']),
  address: z.string(),
  incarnation: z.string(),
  labels: z.record(z.string(), z.string()),
  workers: z.array(z.string()),
  ready: z.boolean(),
  draining: z.boolean(),
  reachable: z.boolean(),
  silent: z.boolean(),
  unheardBy: z.array(z.string()).optional(),
  quiet: z.boolean().optional(),
  netsplit: NetsplitSettingsSchema.optional(),
  saveFailing: SaveFailingSchema.optional(),
  waitsFor: WaitsForSchema().optional(),
});
const _memberView: Same<z.output<typeof MemberViewSchema>, MemberView> = true;

/** The members among `raw` the schema accepts, and a reason for each one it refused (`name: field: problem`). Never throws. */
export function checkMemberViews(raw: readonly unknown[]): { members: MemberView[]; refused: string[] } {
  const members: MemberView[] = [];
  const refused: string[] = [];
  for (const m of raw) {
    try {
      const parsed = MemberViewSchema.safeParse(m);
      if (parsed.success) members.push(parsed.data);
      else
        refused.push(
          `member ${isPlainObject(m) && typeof m['name'] === 'string' ? m['name'].slice(0, 128) : '(no name)'}: ${describeArgIssues(parsed.error).replace(/^args: /, '')}`,
        );
    } catch {
      refused.push('member: cannot be read');
    }
  }
  return { members, refused };
}

/**
 * The state's `noMemberSince` (state.ts): a time, or null while the
 * observer is linked to a member. Checked where it arrives as the members
 * are: the renderer draws the whole board as live or not from it, so a
 * value it cannot read is refused with the reason logged (the renderer
 * keeps the value it had; a snapshot's, none), never drawn as a time.
 */
export const NoMemberSinceSchema = z.number().finite().nonnegative().nullable();
const _noMemberSince: Same<z.output<typeof NoMemberSinceSchema>, ClusterState['noMemberSince']> = true;

/** Checks a `noMemberSince` as it arrives. Never throws. */
export function checkNoMemberSince(raw: unknown): Checked<number | null> {
  const parsed = NoMemberSinceSchema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: `noMemberSince: ${describeArgIssues(parsed.error).replace(/^args: /, '')}` };
}

/** The Socket.IO events the gateway sends to a UI, with their payloads. */
export interface ServerToClientEvents {
  /** The whole state, once per connection (and the access it was built for). */
  snapshot: (state: ClusterState) => void;
  /** Changes since the last acknowledged patch; the next comes only after `ack`. */
  patch: (patch: StatePatch, ack: () => void) => void;
  /** A watched child's new output, or why there is none. */
  output: (event: OutputEvent) => void;
}

/** The Socket.IO events a UI sends to the gateway, with their payloads. */
export interface ClientToServerEvents {
  /** Types are not validation: the gateway checks every command with parseUiCommand. */
  command: (request: UiCommandRequest, ack: (reply: CommandAck) => void) => void;
  /** Follow a child's output until unwatched or disconnected (needs a viewer or operator credential); again for the same id starts afresh. */
  watchOutput: (request: { id: string }, ack: (reply: WatchAck) => void) => void;
  /** Stops following a child's output; no reply (unknown ids are ignored). */
  unwatchOutput: (request: { id: string }) => void;
}
