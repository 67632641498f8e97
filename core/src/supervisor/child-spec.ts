/**
 * Child specs: the serialisable description of a child, validated at run
 * time (a spec crosses process boundaries: from the CLI, from peers, from
 * the UI). `parseChildSpec` fills in the OTP defaults and rejects an invalid
 * spec with a `SpecError` naming the field and the reason.
 *
 *   id           non-empty, at most 256 characters; unique per supervisor
 *   start        { worker, args } — a worker type registered with defineWorker
 *                { command, args, env, cwd } — an OS process (only if the node allows the command)
 *   restart      permanent (always) | transient (only after an abnormal exit) | temporary (never)
 *   shutdown     ms to wait after asking the child to stop before killing it,
 *                'brutal_kill' (kill at once) or 'infinity' (wait as long as it takes)
 *   maxRestarts  restarts allowed within maxSeconds before the child is marked failing
 *   maxSeconds
 *   labels       placement constraints: a node must carry every label
 *   handoff      'stop-first' (default: no overlap when moved) | 'start-first'
 */
import { z } from 'zod';
import { JsonSchema, canonicalOf } from '../protocol.js';

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
  })
  .strict();

export const RestartSchema = z.enum(['permanent', 'transient', 'temporary']);
export const ShutdownSchema = z
  .union([z.number(), z.literal('brutal_kill'), z.literal('infinity')], { error: "must be a number of milliseconds > 0, 'brutal_kill' or 'infinity'" })
  .superRefine((value, ctx) => {
    // Checked here rather than on the number branch, so the reason is specific (zod would report the union's).
    if (typeof value !== 'number') return;
    if (!Number.isInteger(value)) ctx.addIssue({ code: 'custom', message: 'must be a whole number of milliseconds' });
    else if (value <= 0) ctx.addIssue({ code: 'custom', message: 'must be more than 0 ms' });
    else if (value > 24 * 3600 * 1000) ctx.addIssue({ code: 'custom', message: 'must be at most 24 hours' });
  });

export const ChildSpecSchema = z
  .object({
    id: z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'must be a string') }).min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    start: z.union([WorkerStartSchema, CommandStartSchema], { error: (issue) => (issue.input === undefined ? 'required: { worker, args } or { command, args, env, cwd }' : 'must be { worker, args } or { command, args, env, cwd }') }),
    restart: RestartSchema.default('permanent'),
    shutdown: ShutdownSchema.default(5000),
    maxRestarts: z.number().int().min(0).max(10_000).default(3),
    maxSeconds: z.number().positive().max(24 * 3600).default(5),
    labels: z.record(z.string().min(1).max(128), z.string().max(256)).default({}),
    handoff: z.enum(['stop-first', 'start-first']).default('stop-first'),
  })
  .strict();

export type ChildSpec = z.output<typeof ChildSpecSchema>;
export type ChildSpecInput = z.input<typeof ChildSpecSchema>;
export type WorkerStart = z.output<typeof WorkerStartSchema>;
export type CommandStart = z.output<typeof CommandStartSchema>;
export type RestartType = z.output<typeof RestartSchema>;
export type Shutdown = z.output<typeof ShutdownSchema>;

export class SpecError extends Error {
  constructor(
    readonly field: string,
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

/** Validates and fills defaults. Throws SpecError naming the first bad field. */
export function parseChildSpec(input: unknown): ChildSpec {
  if (typeof input === 'object' && input !== null && trusted.has(input)) return input as ChildSpec;
  const result = ChildSpecSchema.safeParse(input);
  if (result.success) return result.data;
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

/** Structural equality of two parsed specs (key order does not matter). */
export function sameSpec(a: ChildSpec, b: ChildSpec): boolean {
  return canonicalOf(a) === canonicalOf(b);
}
