/**
 * One `pogo` OS process of the cluster harness (see process-cluster.ts for
 * the whole): spawned as launch.ts decides, its output read (pipe) or
 * scanned (log file) for where it listens, its exit recorded, and signals
 * sent by pid only while it has not exited (the pid may be reused after).
 * A module-wide registry of live processes lets `killAllNow()` SIGKILL what
 * a crashing runner leaves behind.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { NodeStatus } from '../node.js';
import { childEnvironment, readLogLine, spawnCommand, startInfo, type LaunchOptions, type LogLine, type StartInfo } from './launch.js';

const registry = new Set<PogoProcess>();

/** SIGKILLs every live process any harness started (synchronously: for `process.on('exit')`). */
export function killAllNow(): void {
  for (const p of registry) p.signal('SIGKILL');
}

/** Kills every live process any harness started (SIGCONT, SIGKILL, by pid) and waits (bounded) for the exits. */
export async function killAll(boundMs = 5000): Promise<void> {
  await Promise.all([...registry].map((p) => p.kill(boundMs)));
}

/** How many processes started by any harness in this process have not exited yet. */
export function liveProcessCount(): number {
  return registry.size;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  /** Its exit code, or null if a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
}

/** Options of `PogoProcess.started`. */
export interface StartedOptions {
  /** Wait for the status endpoint's URL too (default: whether it was launched with `expectStatus`). */
  status?: boolean;
  /** Wait for a gateway URL instead of a cluster address. */
  gateway?: boolean;
}

/** One `pogo` OS process: its output, its ports, its exit, and signals by pid. */
export class PogoProcess {
  /** The last output lines (stdout as log lines), when piped. */
  readonly lines: LogLine[] = [];
  /** The tail of its stderr, when piped (at most 64 KiB). */
  stderr = '';
  /** Its cluster address (host:port), once known. */
  address = '';
  /** Its incarnation, once known. */
  incarnation = '';
  /** Its status endpoint's base URL, once known. */
  statusUrl = '';
  /** Its gateway's URL with the token (`pogo observe`, `pogo demo`), once known. */
  gatewayUrl = '';
  /** Its exit code, once it exited by itself. */
  exitCode: number | null = null;
  /** The signal that ended it, if one did. */
  exitSignal: NodeJS.Signals | null = null;
  /** Why it could not be started (spawn's 'error'), if so. */
  spawnError: Error | undefined;
  /** Resolves once every pipe is read out after the exit. */
  readonly closed: Promise<ProcessExit>;
  private readonly waiters = new Set<() => void>();
  private readonly keepLines: number;
  private scanOffset = 0;
  private scanTimer: NodeJS.Timeout | undefined;

  constructor(
    /** What messages call it. */
    readonly name: string,
    /** The spawned process (see spawnPogo). */
    readonly child: ChildProcess,
    /** Its log file (instead of pipes), how many lines to keep, how often to scan the file, whether it serves a status endpoint. */
    readonly options: { logFile?: string; keepLines?: number; scanEveryMs?: number; expectStatus?: boolean } = {},
  ) {
    this.keepLines = options.keepLines ?? Infinity;
    registry.add(this);
    child.on('error', (err) => {
      this.spawnError = err;
      registry.delete(this);
      this.notify();
    });
    child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      registry.delete(this);
      this.scanFile();
      this.stopScan();
      this.notify();
    });
    this.closed = new Promise((resolve) => child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })));
    if (child.stdout) {
      let buffer = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          this.take(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
        }
        this.notify();
      });
    }
    if (child.stderr) {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        this.stderr = (this.stderr + chunk).slice(-65_536);
        this.notify();
      });
    }
    if (options.logFile !== undefined && child.pid !== undefined) {
      this.scanTimer = setInterval(() => this.scanFile(), options.scanEveryMs ?? 25);
      this.scanTimer.unref();
    }
  }

  /** Its pid (-1 if it could not be spawned). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** It has exited, or never started. */
  get exited(): boolean {
    return this.exitCode !== null || this.exitSignal !== null || this.spawnError !== undefined;
  }

  /** It has neither exited nor failed to start. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Records start information heard elsewhere (a control hook's "started" event). */
  noteStarted(info: StartInfo): void {
    if (info.address !== undefined) this.address = info.address;
    if (info.incarnation !== undefined) this.incarnation = info.incarnation;
    if (info.statusUrl !== undefined) this.statusUrl = info.statusUrl;
    if (info.gatewayUrl !== undefined) this.gatewayUrl = info.gatewayUrl;
    this.notify();
  }

  private take(text: string): void {
    if (text === '') return;
    const line = readLogLine(text);
    const info = startInfo(line);
    if (Object.keys(info).length > 0) this.noteStarted(info);
    this.lines.push(line);
    if (this.lines.length > this.keepLines) this.lines.splice(0, this.lines.length - this.keepLines);
  }

  /** Reads the log file on from where it was last read, until the start information is in. */
  private scanFile(): void {
    const file = this.options.logFile;
    if (file === undefined || this.scanTimer === undefined) return;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(65_536);
      let text = '';
      let n: number;
      while ((n = readSync(fd, buf, 0, buf.length, this.scanOffset + Buffer.byteLength(text))) > 0) text += buf.toString('utf8', 0, n);
      const end = text.lastIndexOf('\n');
      if (end < 0) return;
      this.scanOffset += Buffer.byteLength(text.slice(0, end + 1));
      for (const l of text.slice(0, end).split('\n')) {
        if (!l.includes('"msg":"node started"') && !l.includes('"msg":"status endpoint listening"') && !l.includes('"msg":"gateway listening"')) continue;
        const info = startInfo(readLogLine(l));
        if (Object.keys(info).length > 0) this.noteStarted(info);
      }
    } finally {
      closeSync(fd);
    }
    if (this.address !== '' && (this.statusUrl !== '' || !this.options.expectStatus)) this.stopScan();
  }

  private stopScan(): void {
    if (this.scanTimer !== undefined) clearInterval(this.scanTimer);
    this.scanTimer = undefined;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `predicate` holds (checked on every output line, start note and exit), or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: ${what} not seen within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Resolves with the first kept log line `match` accepts. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    let found: LogLine | undefined;
    return this.waitFor(() => (found = this.lines.find(match)) !== undefined, timeoutMs, what).then(() => found!);
  }

  /**
   * Resolves once the process listens (its address; with `status`, its
   * status URL too; with `gateway`, the gateway's URL instead); rejects
   * naming the exit if it exits first, or after `timeoutMs`.
   */
  async started(timeoutMs: number, options: StartedOptions = {}): Promise<this> {
    const status = options.status ?? this.options.expectStatus === true;
    const ready = (): boolean => (options.gateway ? this.gatewayUrl !== '' : this.address !== '') && (!status || this.statusUrl !== '');
    await this.waitFor(() => ready() || this.exited, timeoutMs, 'start-up');
    if (this.spawnError) throw new Error(`${this.name} could not be started: ${this.spawnError.message}`);
    if (!ready()) throw new Error(`${this.name} exited during start-up (${this.exitSignal ?? `code ${this.exitCode}`})\n${this.describe()}`);
    return this;
  }

  /** Its status endpoint's `/status` (as the node serves it: the node's own type, not re-checked), within `timeoutMs`. */
  async status(timeoutMs = 2000): Promise<NodeStatus> {
    if (this.statusUrl === '') throw new Error(`${this.name} serves no status endpoint (start it with a status port)`);
    const res = await fetch(`${this.statusUrl}/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${this.name}: GET /status answered ${res.status}`);
    return (await res.json()) as NodeStatus;
  }

  /** Sends `sig` by pid, unless it has already exited. */
  signal(sig: NodeJS.Signals): void {
    if (this.exited || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, sig);
    } catch {
      // exited meanwhile
    }
  }

  /** SIGCONT (a frozen process must die too), SIGKILL, and waits (bounded) until it has exited. */
  async kill(boundMs = 5000): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    await this.waitFor(() => this.exited, boundMs, 'exit after SIGKILL').catch(() => undefined);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with how long the graceful stop took, or undefined if it had to be killed. */
  async stop(graceMs = 5000): Promise<number | undefined> {
    if (this.exited) return 0;
    const t0 = performance.now();
    this.signal('SIGTERM');
    try {
      await this.waitFor(() => this.exited, graceMs, 'exit after SIGTERM');
      return performance.now() - t0;
    } catch {
      await this.kill();
      return undefined;
    }
  }

  /** The last `count` lines of its output (the log file's, or the kept ones), one per line, prefixed with its name. */
  logTail(count = 8): string {
    let lines: string[];
    if (this.options.logFile !== undefined) {
      try {
        const fd = openSync(this.options.logFile, 'r');
        try {
          // The file's end: at most its last 16 KiB.
          const buf = Buffer.alloc(16_384);
          const n = readSync(fd, buf, 0, buf.length, Math.max(0, fstatSync(fd).size - buf.length));
          lines = buf.toString('utf8', 0, n).trimEnd().split('\n');
        } finally {
          closeSync(fd);
        }
      } catch {
        lines = [];
      }
    } else {
      lines = [...this.lines.map((l) => JSON.stringify(l)), ...this.stderr.trimEnd().split('\n').filter(Boolean)];
    }
    return lines
      .slice(-count)
      .map((l) => `    ${this.name}| ${l}`)
      .join('\n');
  }

  /** Its state and last output, for failure messages. */
  describe(): string {
    const state = this.exited ? `exited (${this.spawnError?.message ?? this.exitSignal ?? `code ${this.exitCode}`})` : `running as pid ${this.pid}`;
    return `${this.name} ${state}; last output:\n${this.logTail(8)}`;
  }
}

/** Spawns `pogo <cliArgs>` as `launch` says. Never throws: a spawn failure shows as `spawnError` (and `started()` rejects). */
export function spawnPogo(name: string, cliArgs: readonly string[], launch: LaunchOptions = {}): PogoProcess {
  const { command, args } = spawnCommand(launch, cliArgs);
  const env = childEnvironment(process.env, launch);
  let out: number | undefined;
  let stdio: StdioOptions;
  if (launch.logFile !== undefined) {
    out = openSync(launch.logFile, 'a');
    stdio = [launch.control ? 'pipe' : 'ignore', out, out];
  } else {
    stdio = [launch.control ? 'pipe' : 'ignore', 'pipe', launch.inheritStderr ? 'inherit' : 'pipe'];
  }
  if (launch.control) stdio.push('pipe');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio, env, ...(launch.cwd !== undefined ? { cwd: launch.cwd } : {}) });
  } finally {
    if (out !== undefined) closeSync(out);
  }
  // A control pipe that breaks because the process died must not crash this one.
  child.stdin?.on('error', () => undefined);
  return new PogoProcess(name, child, {
    ...(launch.logFile !== undefined ? { logFile: launch.logFile } : {}),
    ...(launch.keepLines !== undefined ? { keepLines: launch.keepLines } : {}),
    ...(launch.expectStatus !== undefined ? { expectStatus: launch.expectStatus } : {}),
  });
}

/**
 * Polls `predicate` (sync or async; a throw counts as false) every `everyMs` until it holds; rejects naming
 * `what` after `timeoutMs`. Resolves with the time it took.
 */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
  const start = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await predicate()) return performance.now() - start;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() - start > timeoutMs)
      throw new Error(`${what} did not hold within ${Math.round(timeoutMs)} ms${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
