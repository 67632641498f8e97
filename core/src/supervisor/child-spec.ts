/**
 * Child specs: the serialisable description of a child, validated at run
 * time (a spec crosses process boundaries: from the CLI, from peers, from
 * the UI). `parseChildSpec` fills in the OTP defaults and rejects an invalid
 * spec with a `SpecError` naming the field and the reason.
 *
 *   id           non-empty, at most 256 characters; unique per supervisor. A new spec's id
 *                (`parseChildSpec`) holds no control character: ids are printed on operators'
 *                terminals, where a newline or an escape would forge output. Specs already held
 *                (a peer's register, a data dir) are read without that rule, so an upgrade drops none.
 *   start        { worker, args } — a worker type registered with defineWorker
 *                { command, args, env, cwd, ipc } — an OS process (only if the node allows the command);
 *                ipc 'json-lines' or 'node' lets it take calls and casts (ipc-channel.ts); absent: none
 *   restart      permanent (always) | transient (only after an abnormal exit) | temporary (never)
 *   shutdown     ms to wait after asking the child to stop before killing it,
 *                'brutal_kill' (kill at once) or 'infinity' (wait as long as it takes)
 *   maxRestarts  restarts allowed within maxSeconds before the child is marked failing
 *   maxSeconds
 *   labels       placement constraints: a node must carry every label
 *   handoff      'stop-first' (default: no overlap when moved) | 'start-first'
 *
 * Pure (zod, protocol.ts and util/printable.ts, no Node builtins): the renderer imports it as
 * `pogo-core/child-spec` to check a spec before it sends one.
 */
import { z } from 'zod';
import { JsonSchema, isJsonValue } from '../protocol.js';
import { hasControlCharacter } from '../util/printable.js';
import { TextBuilder, writeSpecText } from './spec-text.js';

/**
 * How an OS child takes calls and casts (ipc-channel.ts): 'json-lines', one
 * JSON message per line on the file descriptor named by POGO_IPC_FD; 'node',
 * Node.js's own IPC channel (`process.on('message')` / `process.send`).
 */
export const IPC_MODES = ['json-lines', 'node'] as const;
export type IpcMode = (typeof IPC_MODES)[number];

export const WorkerStartSchema = z
  .object({
    worker: z.string().min(1, 'must name a worker type').max(128),
    args: JsonSchema.optional(),
  })
  .strict();

export const CommandStartSchema = z
  .object({
    command: z.string().min(1, 'must name a command').max(4096),
    args: z.array(z.string().max(65_536)).max(1024).default([]),
    env: z.record(z.string().min(1).max(1024), z.string().max(65_536)).default({}),
    cwd: z.string().min(1).max(4096).optional(),
    ipc: z.enum(IPC_MODES, { error: "must be 'json-lines' (a line protocol on a file descriptor) or 'node' (Node.js's IPC channel)" }).optional(),
  })
  .strict();

/** The schema of a child's restart type: `permanent` (always restarted), `transient` (restarted after an abnormal exit) or `temporary` (never restarted). */
export const RestartSchema = z.enum(['permanent', 'transient', 'temporary']);
/** How a moved child hands over: 'stop-first' (no overlap) or 'start-first'. */
export const HandoffSchema = z.enum(['stop-first', 'start-first']);
/**
 * The schema of a child's shutdown setting: milliseconds to wait after asking it to stop before killing it,
 * `brutal_kill` (kill at once) or `infinity` (wait for it).
 */
export const ShutdownSchema = z
  .union([z.number(), z.literal('brutal_kill'), z.literal('infinity')], { error: "must be a number of milliseconds > 0, 'brutal_kill' or 'infinity'" })
  .superRefine((value, ctx) => {
    // Checked here rather than on the number branch, so the reason is specific (zod would report the union's).
    if (typeof value !== 'number') return;
    if (!Number.isInteger(value)) ctx.addIssue({ code: 'custom', message: 'must be a whole number of milliseconds' });
    else if (value <= 0) ctx.addIssue({ code: 'custom', message: 'must be more than 0 ms' });
    else if (value > 24 * 3600 * 1000) ctx.addIssue({ code: 'custom', message: 'must be at most 24 hours' });
  });

/**
 * The defaults of a spec's scalar fields (labels default to none). Part of
 * the protocol since 2.8, not only of the API: a spec travels without the
 * fields at these values (`wireSpec`) and its readers fill them back in, so
 * they can only change with the protocol's major version (a 2.7 node fills
 * them in through this schema's defaults).
 */
export const SPEC_DEFAULTS = Object.freeze({
  restart: 'permanent',
  shutdown: 5000,
  maxRestarts: 3,
  maxSeconds: 5,
  handoff: 'stop-first',
} as const);

/** The zod schema of a child spec (parseChildSpec wraps it with a clear error). */
export const ChildSpecSchema = z
  .object({
    id: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') })
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters'),
    start: z.union([WorkerStartSchema, CommandStartSchema], {
      error: (issue) =>
        issue.input === undefined ? 'required: { worker, args } or { command, args, env, cwd }' : 'must be { worker, args } or { command, args, env, cwd }',
    }),
    restart: RestartSchema.default(SPEC_DEFAULTS.restart),
    shutdown: ShutdownSchema.default(SPEC_DEFAULTS.shutdown),
    maxRestarts: z.number().int().min(0).max(10_000).default(SPEC_DEFAULTS.maxRestarts),
    maxSeconds: z
      .number()
      .positive()
      .max(24 * 3600)
      .default(SPEC_DEFAULTS.maxSeconds),
    labels: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
    handoff: HandoffSchema.default(SPEC_DEFAULTS.handoff),
  })
  .strict();

/** A validated child spec: id, worker, args, restart type, shutdown, restart intensity. */
export type ChildSpec = z.output<typeof ChildSpecSchema>;
/** A child spec as given, before parseChildSpec fills its defaults. */
export type ChildSpecInput = z.input<typeof ChildSpecSchema>;
export type WorkerStart = z.output<typeof WorkerStartSchema>;
export type CommandStart = z.output<typeof CommandStartSchema>;
/** When a child is restarted: permanent (always), transient (after an abnormal exit), temporary (never). */
export type RestartType = z.output<typeof RestartSchema>;
/** How a child is stopped: milliseconds of grace before it is killed, brutal_kill, or infinity. */
export type Shutdown = z.output<typeof ShutdownSchema>;

/** A child spec that does not validate: the message names each bad field. */
export class SpecError extends Error {
  constructor(
    /** The path of the bad field in the spec (e.g. `start.worker`). */
    readonly field: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`invalid child spec: ${field}: ${reason}`);
    this.name = 'SpecError';
  }
}

/**
 * Specs known to be valid and unchangeable: deep-frozen after validation (the
 * distributed supervisor validates every register it reads and freezes it).
 * Starting one skips the second validation, which was a tenth of a failover's
 * CPU (profiled: 500 starts on a survivor).
 */
const trusted = new WeakSet<object>();

/** Marks a deep-frozen spec that passed `ChildSpecSchema` as valid; ignored for anything not frozen. */
export function trustSpec(spec: ChildSpec): void {
  if (Object.isFrozen(spec) && Object.isFrozen(spec.start)) trusted.add(spec);
}

/** Validates and fills defaults (empty labels are the shared, frozen `NO_LABELS`). Throws SpecError naming the first bad field. */
export function parseChildSpec(input: unknown): ChildSpec {
  if (typeof input === 'object' && input !== null && trusted.has(input)) return input as ChildSpec;
  // A new spec only (see the header): what a store already holds is decoded without this rule.
  const id = isPlainObject(input) ? input['id'] : undefined;
  if (typeof id === 'string' && hasControlCharacter(id)) throw new SpecError('id', 'must not contain control characters (newlines, tabs, terminal escapes)');
  const fast = parseWorkerSpecFast(input);
  if (fast !== undefined) return fast;
  const result = ChildSpecSchema.safeParse(input);
  if (result.success) {
    shareCommonParts(result.data);
    return result.data;
  }
  const issue = result.error.issues[0]!;
  let field = issue.path.length > 0 ? issue.path.join('.') : '(spec)';
  let reason = issue.message;
  if (issue.code === 'unrecognized_keys') {
    field = [...issue.path, ...issue.keys].join('.');
    reason = 'unknown field';
  }
  // A union failure: report the branch the input was evidently aiming at.
  if (issue.code === 'invalid_union' && issue.path[0] === 'start' && input !== null && typeof input === 'object') {
    const start = (input as { start?: unknown }).start;
    if (start !== null && typeof start === 'object' && 'worker' in start && 'command' in start)
      throw new SpecError('start', 'give worker (a registered worker type) or command (an OS process), not both');
    if (start !== null && typeof start === 'object') {
      const branch = 'worker' in start ? WorkerStartSchema : 'command' in start ? CommandStartSchema : undefined;
      const inner = branch?.safeParse(start);
      if (inner && !inner.success) {
        const sub = inner.error.issues[0]!;
        const keys = sub.code === 'unrecognized_keys' ? sub.keys : [];
        field = ['start', ...sub.path, ...keys].join('.');
        reason = sub.code === 'unrecognized_keys' ? 'unknown field' : sub.message;
      }
    }
  }
  throw new SpecError(field, reason);
}

export function isCommandStart(start: ChildSpec['start']): start is CommandStart {
  return 'command' in start;
}

/**
 * The labels of every spec that has none: one frozen empty object shared by
 * all of them instead of an empty object each (56 bytes per child on every
 * node; nearly every spec has no labels).
 */
export const NO_LABELS: Record<string, string> = Object.freeze({});

function hasNoKeys(record: Record<string, string>): boolean {
  for (const k in record) if (Object.hasOwn(record, k)) return false;
  return true;
}

/** At most this many worker names have a shared start (`shareCommonParts`); past them a start stays the spec's own. */
const SHARED_STARTS_MAX = 1024;
const sharedStarts = new Map<string, WorkerStart>();

/**
 * Gives a decoded spec that is not frozen yet the parts many specs hold
 * alike, shared and frozen (same text, same meaning): the empty labels
 * (`NO_LABELS`), and a worker start without args — one `{ worker }` per
 * worker name, for the first SHARED_STARTS_MAX names. Every node holds
 * every child's spec, and thousands of children of one worker were
 * thousands of equal start objects: 32 bytes a child (640 KB of each node's
 * heap at 20,000 children, bench/tools/heap-probe.mjs).
 */
export function shareCommonParts(spec: ChildSpec): void {
  if (Object.isFrozen(spec)) return;
  if (spec.labels !== NO_LABELS && hasNoKeys(spec.labels)) spec.labels = NO_LABELS;
  const start = spec.start;
  if (!('worker' in start) || Object.hasOwn(start, 'args')) return;
  let shared = sharedStarts.get(start.worker);
  if (shared === undefined) {
    if (sharedStarts.size >= SHARED_STARTS_MAX) return;
    shared = Object.freeze({ worker: start.worker });
    sharedStarts.set(start.worker, shared);
  }
  spec.start = shared;
}

/**
 * The canonical text of a parsed spec: equal specs, equal text. Not
 * cached: a cache held one 160-byte string per spec for the spec's life
 * (3.3 MB of every node's heap at 20,000 children, its WeakMap table
 * beside it). The store does not even build it to fingerprint a register:
 * it feeds the pieces (spec-text.ts `writeSpecText`) to the hash.
 */
export function specText(spec: ChildSpec): string {
  return writeSpecText(spec, new TextBuilder()).text;
}

/** Structural equality of two parsed specs (key order does not matter). */
export function sameSpec(a: ChildSpec, b: ChildSpec): boolean {
  return a === b || specText(a) === specText(b);
}

// ---- fast paths (measured: the distributed supervisor decodes and fingerprints every spec a peer sends) --------
//
// A spec that crosses a link was parsed by zod on its writer, so it arrives
// normalised: every field present. `decodeNormalSpec` accepts exactly such a
// spec, and nothing `ChildSpecSchema` would refuse (registers.test.ts checks
// the two agree on thousands of valid and broken specs); anything else goes
// through zod, which also says what is wrong. `specText` (written by spec-text.ts) is `canonicalJson`
// for a spec without its generic sorting (same test). Measured with a
// micro-benchmark of 20,000 specs on this machine, loaded: the canonical
// text 17–27 µs → 2–3 µs, a register's decode 19 µs → 13 µs.

const SPEC_KEYS = ['id', 'start', 'restart', 'shutdown', 'maxRestarts', 'maxSeconds', 'labels', 'handoff'];
const RESTARTS: ReadonlySet<unknown> = new Set(['permanent', 'transient', 'temporary']);
const HANDOFFS: ReadonlySet<unknown> = new Set(['stop-first', 'start-first']);
const IPCS: ReadonlySet<unknown> = new Set(IPC_MODES);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Own enumerable keys exactly `allowed` (all present) plus any of `optional`. */
function hasKeys(v: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (!required.includes(k) && !optional.includes(k)) return false;
    n++;
  }
  // Indexed loops, no callback: every spec a peer sends comes here twice (its fields, its start).
  let present = 0;
  for (let i = 0; i < required.length; i++) {
    const k = required[i]!;
    if (!Object.hasOwn(v, k) || v[k] === undefined) return false;
    present++;
  }
  for (let i = 0; i < optional.length; i++) if (Object.hasOwn(v, optional[i]!)) present++;
  return present === n;
}

function isStringRecord(v: unknown, keyMax: number, valueMax: number, maxKeys: number): v is Record<string, string> {
  if (!isPlainObject(v)) return false;
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (++n > maxKeys || k.length < 1 || k.length > keyMax) return false;
    const value = v[k];
    if (typeof value !== 'string' || value.length > valueMax) return false;
  }
  return true;
}

const SPEC_KEY_SET: ReadonlySet<string> = new Set(SPEC_KEYS);

/** How many of a spec's keys `v` has as its own, or undefined when it has any other. */
function specKeyCount(v: Record<string, unknown>): number | undefined {
  let n = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (!SPEC_KEY_SET.has(k)) return undefined;
    n++;
  }
  return n;
}

/**
 * `parseChildSpec`'s fast path for what API callers pass most — a worker
 * start without args or with a scalar one, fields left out for their
 * defaults — which zod parsed at ~10–20 µs a spec, part of the ~5 % of the
 * caller's CPU that `requestStart` took in a start burst. A new object with the schema's
 * defaults filled in, checked by `decodeNormalSpec`; undefined for anything
 * else (then zod decides, and says what is wrong). Never keeps or freezes
 * the caller's objects. registers.test.ts checks it against the schema.
 */
export function parseWorkerSpecFast(input: unknown): ChildSpec | undefined {
  try {
    if (!isPlainObject(input)) return undefined;
    if (specKeyCount(input) === undefined) return undefined;
    const start = input['start'];
    if (!isPlainObject(start) || !hasKeys(start, ['worker'], ['args'])) return undefined;
    const hasArgs = Object.hasOwn(start, 'args');
    const args = start['args'];
    if (hasArgs && (args === undefined || (args !== null && typeof args === 'object') || !isJsonValue(args))) return undefined;
    const labels = input['labels'];
    if (labels !== undefined && (!isStringRecord(labels, 128, 256, Number.MAX_SAFE_INTEGER) || Object.hasOwn(labels, '__proto__'))) return undefined;
    const spec = fieldsValid(
      withDefaults(
        input,
        hasArgs ? { worker: start['worker'], args } : { worker: start['worker'] },
        labels === undefined || hasNoKeys(labels) ? NO_LABELS : { ...labels },
      ),
    );
    if (spec !== undefined) shareCommonParts(spec);
    return spec;
  } catch {
    return undefined;
  }
}

/**
 * A spec as a writer's zod left it — every field present and valid — or
 * undefined (then parse it with `parseChildSpec`, which also says what is
 * wrong). Never throws; takes no copy: the caller freezes what it keeps.
 */
export function decodeNormalSpec(v: unknown): ChildSpec | undefined {
  try {
    return isPlainObject(v) && hasKeys(v, SPEC_KEYS) ? fieldsValid(v) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `decodeNormalSpec` for an object known to be plain with exactly the
 * spec's keys (`withDefaults` made it, or `specKeyCount` counted them all):
 * its fields checked. May throw (a getter in `start`): callers catch.
 */
function fieldsValid(v: Record<string, unknown>): ChildSpec | undefined {
  const { id, start, restart, shutdown, maxRestarts, maxSeconds, labels, handoff } = v;
  if (typeof id !== 'string' || id.length < 1 || id.length > 256) return undefined;
  if (!RESTARTS.has(restart) || !HANDOFFS.has(handoff)) return undefined;
  if (
    shutdown !== 'brutal_kill' &&
    shutdown !== 'infinity' &&
    !(typeof shutdown === 'number' && Number.isInteger(shutdown) && shutdown > 0 && shutdown <= 24 * 3600 * 1000)
  )
    return undefined;
  if (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > 10_000) return undefined;
  if (typeof maxSeconds !== 'number' || !Number.isFinite(maxSeconds) || maxSeconds <= 0 || maxSeconds > 24 * 3600) return undefined;
  if (!isStringRecord(labels, 128, 256, Number.MAX_SAFE_INTEGER)) return undefined;
  if (!isPlainObject(start)) return undefined;
  if (Object.hasOwn(start, 'worker')) {
    if (!hasKeys(start, ['worker'], ['args'])) return undefined;
    const worker = start['worker'];
    if (typeof worker !== 'string' || worker.length < 1 || worker.length > 128) return undefined;
    if (Object.hasOwn(start, 'args') && (start['args'] === undefined || !isJsonValue(start['args']))) return undefined;
  } else {
    if (!hasKeys(start, ['command', 'args', 'env'], ['cwd', 'ipc'])) return undefined;
    const { command, args, env, cwd, ipc } = start;
    if (typeof command !== 'string' || command.length < 1 || command.length > 4096) return undefined;
    if (!Array.isArray(args) || args.length > 1024 || !args.every((a, i) => i in args && typeof a === 'string' && a.length <= 65_536)) return undefined;
    if (!isStringRecord(env, 1024, 65_536, Number.MAX_SAFE_INTEGER)) return undefined;
    if (Object.hasOwn(start, 'cwd') && (typeof cwd !== 'string' || cwd.length < 1 || cwd.length > 4096)) return undefined;
    if (Object.hasOwn(start, 'ipc') && !IPCS.has(ipc)) return undefined;
  }
  return v as unknown as ChildSpec;
}

/** `v`'s fields with the defaults filled in where it has none (undefined counts as none, as for zod), `start` and `labels` as given. */
function withDefaults(v: Record<string, unknown>, start: unknown, labels: unknown): Record<string, unknown> {
  const { restart, shutdown, maxRestarts, maxSeconds, handoff } = v;
  return {
    id: v['id'],
    start,
    restart: restart === undefined ? SPEC_DEFAULTS.restart : restart,
    shutdown: shutdown === undefined ? SPEC_DEFAULTS.shutdown : shutdown,
    maxRestarts: maxRestarts === undefined ? SPEC_DEFAULTS.maxRestarts : maxRestarts,
    maxSeconds: maxSeconds === undefined ? SPEC_DEFAULTS.maxSeconds : maxSeconds,
    labels,
    handoff: handoff === undefined ? SPEC_DEFAULTS.handoff : handoff,
  };
}

/**
 * A spec as it travels (protocol 2.8): the fields at their defaults
 * (`SPEC_DEFAULTS`, and empty labels) are undefined, which JSON leaves out —
 * about 100 of a register's 210 bytes, on every link, for nearly every
 * child. One object, always the same shape; the start (and labels, when
 * there are some) are the spec's own, not copies. `decodeWireSpec` reads it
 * back; a 2.7 node reads it through the schema's defaults.
 */
export function wireSpec(spec: ChildSpec): Record<string, unknown> {
  return {
    id: spec.id,
    start: spec.start,
    restart: spec.restart === SPEC_DEFAULTS.restart ? undefined : spec.restart,
    shutdown: spec.shutdown === SPEC_DEFAULTS.shutdown ? undefined : spec.shutdown,
    maxRestarts: spec.maxRestarts === SPEC_DEFAULTS.maxRestarts ? undefined : spec.maxRestarts,
    maxSeconds: spec.maxSeconds === SPEC_DEFAULTS.maxSeconds ? undefined : spec.maxSeconds,
    labels: spec.labels === NO_LABELS || hasNoKeys(spec.labels) ? undefined : spec.labels,
    handoff: spec.handoff === SPEC_DEFAULTS.handoff ? undefined : spec.handoff,
  };
}

/**
 * A spec as it travels — every field present (a 2.7 writer, a file), or
 * without those at their defaults (`wireSpec`) — checked as
 * `decodeNormalSpec` checks one, or undefined (then zod decides, and says
 * what is wrong). A spec with every field is taken as it is; one without
 * some is a new object with them filled in (always in the schema's order,
 * so every spec a node holds has one shape). Never throws; freezes nothing.
 */
export function decodeWireSpec(v: unknown): ChildSpec | undefined {
  try {
    if (!isPlainObject(v)) return undefined;
    // One pass over its keys says which of the two it can be: fewer than all of them (nearly every spec a
    // peer sends: `wireSpec` leaves out the fields at their defaults) cannot be whole; all of them are
    // exactly the spec's keys, so only the fields are left to check (an undefined one fails there).
    const n = specKeyCount(v);
    if (n === undefined) return undefined;
    if (n === SPEC_KEYS.length) {
      const whole = fieldsValid(v);
      if (whole !== undefined) return whole;
    }
    const labels = v['labels'];
    // The start is taken whole: `wireSpec` never leaves out a command start's own defaults (args, env), and
    // a start without them (not written by a node) goes through zod. The filled-in object has exactly the
    // spec's keys, so only its fields are checked.
    return fieldsValid(withDefaults(v, v['start'], labels === undefined ? NO_LABELS : labels));
  } catch {
    return undefined;
  }
}
