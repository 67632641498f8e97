/**
 * One cluster harness: real `pogo node` OS processes on one machine, for the
 * demo (`pogo demo`, the desktop app's "Start a demo"), `npm run cluster`,
 * the integration tests, the benchmarks, the reliability scripts and the e2e
 * helpers. Exported from `pogo-core/testing`; the demo imports it directly.
 * Three files: launch.ts (the pure decisions), pogo-process.ts (one
 * process), this one (a cluster of them).
 *
 * What it does:
 *   - spawn: `<execPath> [nodeOptions…] core/bin/pogo.js node --name …`, or
 *     any other `pogo` subcommand (`spawnPogo`), optionally behind a command
 *     prefix (`wrap`, e.g. `ip netns exec <ns>`: the prefix execs, so the pid
 *     stays the node's), with extra stdio for a control hook (`control`: a
 *     stdin pipe and fd 3, as bench/fixtures/control-hook.mjs serves them).
 *   - find its ports: from the node's own JSON log lines, "node started"
 *     (`address`, `incarnation`) and "status endpoint listening" (`url`).
 *     Output goes either through a pipe (parsed line by line; the last
 *     `keepLines` are kept for assertions and failure messages) or straight
 *     into a log file (`logFile`: the node never blocks on a slow reader, as
 *     a benchmark needs; the file is read from where it was last read, each
 *     `scanEveryMs`, until the ports are known). A control layer that hears
 *     the start first may say so (`noteStarted`).
 *   - drive and stop by pid: `signal` (SIGSTOP, SIGCONT, SIGUSR2 …), `kill`
 *     (SIGCONT, then SIGKILL: a frozen process dies too), `stop` (SIGTERM,
 *     SIGKILL after a grace time). Every live process is also in a
 *     module-wide registry, so `killAllNow()` (for `process.on('exit')`) can
 *     SIGKILL whatever a crashing runner leaves behind.
 *   - clusters: `ProcessCluster` owns a private temporary directory with the
 *     secret (and any token or JSON file written through it), starts members
 *     with common flags and options, remembers how each name was started so
 *     `restart(name)` starts it again the same way (same data dir, same
 *     port if it had a fixed one), and `close()` kills every process it ever
 *     started and removes the directory unless asked to keep it (the logs of
 *     a failed run).
 *
 * Races handled here:
 *   - a process that exits before it logs its address: `started()` rejects
 *     with its exit and the tail of its output, instead of waiting out the
 *     bound;
 *   - spawn failures (ENOENT of the executable) arrive as an 'error' event,
 *     which is always listened to (an unheard one would crash the runner);
 *   - `exitCode` is known at 'exit', but a pipe (fd 3, stdout) may still
 *     hold data: `closed` resolves at 'close', when every pipe is read out;
 *   - a signal sent to a pid that has just exited (ESRCH) is ignored, and
 *     nothing is signalled once the exit was seen (the pid may be reused);
 *   - a log file read while the node writes it may end in half a line: it
 *     is read up to its last newline, the rest read again next time.
 *
 * The decisions are pure functions (`nodeCommandLine`, `spawnCommand`,
 * `childEnvironment`, `readLogLine`, `startInfo`), unit-tested in
 * core/test/harness-launch.test.ts; the harness itself on real processes
 * (log-file ports, restart with the same data dir, start-up failures,
 * SIGSTOP and kill) in core/test/harness.process.test.ts, and in use by
 * every other `*.process.test.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCommandLine, type LaunchOptions, type NodeSpec } from './launch.js';
import { spawnPogo, until, type PogoProcess } from './pogo-process.js';

/** Options of a ProcessCluster. */
export interface ProcessClusterOptions extends Omit<LaunchOptions, 'logFile'> {
  /** Prefix of the temporary directory's name (default: `pogo-cluster-`). */
  prefix?: string;
  /** The cluster secret (default: random). */
  secret?: string;
  /** `pogo node` flags of every member. */
  flags?: readonly string[];
  /** Serve each member's status endpoint on a free port, and wait for it at start. */
  status?: boolean;
  /** Each member's listening interface (default: the CLI's). */
  host?: (name: string) => string | undefined;
  /** Output of each member into `<dir>/<name>-<n>.log` instead of a pipe. */
  logFiles?: boolean;
  /** Longest wait for a member to listen, ms (default: 10000). */
  startTimeoutMs?: number;
}

/** Per-start options of ProcessCluster.start, over the cluster's. */
export interface StartOptions extends Omit<LaunchOptions, 'logFile'> {
  /** A fixed port (kept across restarts). */
  port?: number;
  /** A fixed status endpoint port (with the cluster's `status`; default: a free one). */
  statusPort?: number;
  /** Longest wait for it to listen, ms. */
  timeoutMs?: number;
  /** Return at once, without waiting for it to listen. */
  noWait?: boolean;
}

interface Started {
  seeds: string[];
  flags: string[];
  options: StartOptions;
}

/** A set of `pogo node` processes sharing a secret and a temporary directory. */
export class ProcessCluster {
  /** Its private temporary directory (secret, tokens, log files). */
  readonly dir: string;
  /** The cluster secret. */
  readonly secret: string;
  /** The file holding it, in `dir`. */
  readonly secretFile: string;
  /** Every process it started, in order (a restart adds one). */
  readonly procs: PogoProcess[] = [];
  /** The current process of each name. */
  readonly nodes = new Map<string, PogoProcess>();
  private readonly how = new Map<string, Started>();

  constructor(
    /** The defaults of every member it starts. */
    readonly options: ProcessClusterOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), options.prefix ?? 'pogo-cluster-'));
    this.secret = options.secret ?? `cluster-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
    this.secretFile = this.writeSecret('secret.txt', this.secret);
  }

  /** Writes a file readable only by its owner in the cluster's directory (a secret or a token); returns its path. */
  writeSecret(name: string, content: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  }

  /** Writes `value` as JSON into the cluster's directory; returns its path. */
  writeJson(name: string, value: unknown): string {
    const file = join(this.dir, name);
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  /**
   * Starts member `name` joining through `seeds`, with the cluster's flags
   * and then `flags`, and waits until it listens (and serves its status
   * endpoint, if the cluster has them). Rejects if it exits first.
   */
  async start(name: string, seeds: readonly string[] = [], flags: readonly string[] = [], options: StartOptions = {}): Promise<PogoProcess> {
    this.how.set(name, { seeds: [...seeds], flags: [...flags], options });
    const o = this.options;
    const host = o.host?.(name);
    const spec: NodeSpec = {
      name,
      secretFile: this.secretFile,
      ...(host !== undefined ? { host } : {}),
      port: options.port ?? 0,
      ...(o.status ? { statusPort: options.statusPort ?? 0 } : {}),
      seeds,
      flags: [...(o.flags ?? []), ...flags],
    };
    const launch: LaunchOptions = {
      ...pickLaunch(o),
      ...pickLaunch(options),
      nodeOptions: [...(o.nodeOptions ?? []), ...(options.nodeOptions ?? [])],
      env: { ...o.env, ...options.env },
      ...(o.logFiles ? { logFile: join(this.dir, `${name}-${this.procs.length}.log`) } : {}),
      expectStatus: o.status === true,
    };
    const proc = spawnPogo(name, nodeCommandLine(spec), launch);
    this.procs.push(proc);
    this.nodes.set(name, proc);
    if (!options.noWait) await proc.started(options.timeoutMs ?? o.startTimeoutMs ?? 10_000);
    return proc;
  }

  /**
   * Starts `name` again as it was last started (same flags, so the same data dir; `seeds` default to the live
   * members'), after killing its old process if it still runs.
   */
  async restart(name: string, seeds?: readonly string[]): Promise<PogoProcess> {
    const how = this.how.get(name);
    if (!how) throw new Error(`${name} was never started`);
    await this.nodes.get(name)?.kill();
    return this.start(name, seeds ?? this.seeds(name), how.flags, how.options);
  }

  /** Addresses of every live member but `except`. */
  seeds(except?: string): string[] {
    return this.live()
      .filter((p) => p.name !== except && p.address !== '')
      .map((p) => p.address);
  }

  /** The current processes that are alive. */
  live(): PogoProcess[] {
    return [...this.nodes.values()].filter((p) => p.alive);
  }

  /** Polls `predicate` until it holds, every `everyMs`; rejects naming `what` after `timeoutMs`. Resolves with the time it took. */
  async until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
    return until(predicate, timeoutMs, what, everyMs);
  }

  /** Kills every process it started (SIGCONT, SIGKILL), by pid, and waits (bounded) for the exits. */
  async stopAll(boundMs = 5000): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill(boundMs)));
  }

  /** Stops every process gracefully (SIGTERM; SIGKILL after `graceMs`). */
  async stopGracefully(graceMs = 5000): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(graceMs)));
  }

  /** The last lines of every process's output, for failure messages. */
  logTails(lines = 4): string {
    return this.procs
      .map((p) => p.logTail(lines))
      .filter(Boolean)
      .join('\n');
  }

  /** Kills every process (after a graceful stop of `graceMs`, if given) and removes the directory unless `keep`. */
  async close(options: { keep?: boolean; graceMs?: number } = {}): Promise<void> {
    if (options.graceMs !== undefined) await this.stopGracefully(options.graceMs);
    await this.stopAll();
    if (!options.keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

function pickLaunch(o: LaunchOptions): LaunchOptions {
  const out: LaunchOptions = {};
  if (o.execPath !== undefined) out.execPath = o.execPath;
  if (o.wrap !== undefined) out.wrap = o.wrap;
  if (o.dropPogoEnv !== undefined) out.dropPogoEnv = o.dropPogoEnv;
  if (o.keepLines !== undefined) out.keepLines = o.keepLines;
  if (o.inheritStderr !== undefined) out.inheritStderr = o.inheritStderr;
  if (o.control !== undefined) out.control = o.control;
  if (o.cwd !== undefined) out.cwd = o.cwd;
  return out;
}
