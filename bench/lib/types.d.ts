/**
 * Types shared by the benchmark and reliability scripts (plain ES modules
 * checked from their JSDoc, tsconfig.scripts.json): the control channel of
 * a benchmark node (fixtures/control-hook.mjs, spoken by BenchNode.request in
 * cluster.mjs) and the result a scenario hands to the runner (context.mjs).
 * Declarations only: nothing here exists at run time.
 */
import type { CallAnswer, ChildCounts, ChildCountsGlobal, ChildSpecInput, JsonValue, PogoNode } from '../../core/dist/index.js';

/** One up or down of a local child instance: [child id, kind, epoch ms with µs resolution]. */
export type ChildLogEntry = [id: string, kind: 'up' | 'down', time: number];

/** Latency percentiles of the `calls` op, in ms (null when no call answered). */
export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface StartManyArgs {
  prefix?: string;
  from?: number;
  count: number;
  worker?: string;
  args?: JsonValue;
  /** A whole start object (e.g. an OS command); replaces { worker, args }. */
  start?: ChildSpecInput['start'];
  shutdown?: ChildSpecInput['shutdown'];
  concurrency?: number;
}

export interface StartManyReply {
  elapsedMs: number;
  count: number;
  failed: number;
  firstError: string | undefined;
}

export interface CallsArgs {
  ids: string[];
  message: JsonValue;
  mode?: 'paced' | 'inflight';
  count?: number;
  inflight?: number;
  rate?: number;
  durationMs?: number;
  timeoutMs?: number;
}

export interface CallsReply {
  count: number;
  /** Calls answered (named so that it does not replace the reply's `ok` flag). */
  answered: number;
  failed: number;
  errors: Record<string, number>;
  firstError: string | undefined;
  elapsedMs: number;
  perChild: Record<string, number>;
  perNode: Record<string, number>;
  latencyMs: LatencySummary;
  fromDueMs: LatencySummary;
}

export interface StatsReply {
  link: ReturnType<PogoNode['linkStats']>;
  cpu: NodeJS.CpuUsage;
  memory: NodeJS.MemoryUsage;
  maxStallMs: number;
  maxReconcileMs: number;
  memberDowns: number;
  /** Garbage collections since the process started (perf_hooks 'gc' entries): counts and main-thread ms. */
  gc: GcTotals;
  /** Each V8 heap space (v8.getHeapSpaceStatistics): its name (`new_space`, `old_space`, `large_object_space`...), size reserved and bytes in use. */
  spaces: Array<{ name: string; size: number; used: number }>;
  /** The reconciler's counters since the node started (reconciles, urgent, dirty, swept, slices...), for diagnosis (bench/tools/reconcile-count.mjs). */
  reconciler: Record<string, number>;
}

export interface GcTotals {
  major: number;
  majorMs: number;
  minor: number;
  minorMs: number;
}

export interface CountsReply {
  cluster: ChildCountsGlobal;
  local: ChildCounts;
  ready: boolean;
  up: string[];
}

/** Every control op: what it is sent (besides `id` and `op`) and what it replies (besides `id` and `ok`). */
export interface ControlOps {
  ping: { args: Record<string, never>; reply: Record<string, never> };
  clock: { args: Record<string, never>; reply: { t: number } };
  profile: { args: { action: 'start' | 'stop'; file?: string; intervalUs?: number }; reply: { file?: string } };
  heap: { args: { file: string }; reply: { file: string; memory: NodeJS.MemoryUsage } };
  childLog: { args: { clear?: boolean }; reply: { log: ChildLogEntry[] } };
  startMany: { args: StartManyArgs; reply: StartManyReply };
  calls: { args: CallsArgs; reply: CallsReply };
  /** `child`, not `id`: `id` is the control request's own. */
  call: { args: { child: string; message: JsonValue; timeoutMs?: number }; reply: CallAnswer };
  whereis: { args: { ids: string[] }; reply: { where: Record<string, string | null> } };
  counts: { args: Record<string, never>; reply: CountsReply };
  stats: { args: Record<string, never>; reply: StatsReply };
  probe: { args: { on: boolean }; reply: Record<string, never> };
}

export type ControlOp = keyof ControlOps;
export type ControlArgs<K extends ControlOp> = ControlOps[K]['args'];
/** A reply as BenchNode.request resolves it: the op's reply spread over `{ id, ok: true }` (no op's reply has its own `id` or `ok`). */
export type ControlReply<K extends ControlOp> = ControlOps[K]['reply'] & { id: number; ok: true };

/** A line the control hook writes to fd 3. */
export type ControlMessage =
  | { event: 'started'; name: string; address: string; incarnation: string; pid: number }
  | { event: 'exit'; childLog: ChildLogEntry[] }
  | ({ event?: undefined; id: number; ok: true } & Record<string, unknown>)
  | { event?: undefined; id?: number; ok: false; error: string };

/** One figure of a scenario over its repeats, as written to the JSON (context.mjs `metric`). */
export interface Metric {
  name: string;
  unit: string;
  values: Array<number | null | undefined>;
  n: number;
  median: number | undefined;
  min: number | undefined;
  max: number | undefined;
  note?: string;
  /** e.g. '< 100' */
  target?: string;
  met?: boolean;
}

/** What a scenario module exports (bench/scenarios/*.mjs). */
export interface ScenarioModule {
  title?: string;
  description?: string;
  run(ctx: import('./context.mjs').ScenarioContext): Promise<void>;
  /** Why the scenario cannot run here (it is skipped), or undefined. */
  skipReason?(opts: import('./context.mjs').RunOptions): string | undefined | Promise<string | undefined>;
}

/** A scenario the runner skipped (its file is missing, or its skipReason() objected). */
export interface SkippedResult {
  scenario: string;
  title?: string | undefined;
  status: 'skipped';
  reason: string;
  metrics?: never;
}

/** A scenario that ran (ScenarioContext.execute); failedStep and error when it failed. */
export interface RunResult {
  scenario: string;
  title: string | undefined;
  description: string | undefined;
  status: 'ok' | 'failed';
  failedStep?: string;
  error?: string | undefined;
  durationMs: number;
  params: Record<string, unknown>;
  metrics: Metric[];
  details: Record<string, unknown>;
  /** The reference workload's best time just before the scenario ran, ms (lib/host-speed.mjs: lower, a faster host). */
  hostMs?: number;
}

/** One scenario's outcome, as written to its JSON file and SUMMARY.md. */
export type ScenarioResult = SkippedResult | RunResult;
