/**
 * Real `pogo node` OS processes for integration tests: spawned from the built
 * CLI on ephemeral loopback ports, their JSON log lines parsed as they come,
 * and every one of them stopped by pid when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeStatus } from '../../src/node.js';

export const CLI = fileURLToPath(new URL('../../bin/pogo.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export class NodeProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  address = '';
  statusUrl = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let buffer = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as LogLine;
          this.lines.push(parsed);
          if (parsed.msg === 'node started') this.address = String(parsed['address']);
          if (parsed.msg === 'status endpoint listening') this.statusUrl = String(parsed['url']);
        } catch {
          this.lines.push({ level: 0, msg: `(not json) ${line}` });
        }
        this.notify();
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    child.on('exit', (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      this.notify();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return this.exitCode !== null || this.exitSignal !== null;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves when `predicate` holds (re-checked on every log line or exit), or rejects after `timeoutMs`. */
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
        reject(new Error(`${this.name}: ${what} not seen within ${timeoutMs} ms\nlast log lines:\n${this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    let found: LogLine | undefined;
    return this.waitFor(() => (found = this.lines.find(match)) !== undefined, timeoutMs, what).then(() => found!);
  }

  async status(): Promise<NodeStatus> {
    const res = await fetch(`${this.statusUrl}/status`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as NodeStatus;
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exited) process.kill(this.pid, sig);
  }
}

export class ProcessCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'pogo-it-'));
  readonly secretFile = join(this.dir, 'secret.txt');
  readonly procs: NodeProcess[] = [];

  constructor(secret = 'integration-secret-0123456789abcdef') {
    writeFileSync(this.secretFile, secret, { mode: 0o600 });
  }

  writeSecret(name: string, secret: string): string {
    const file = join(this.dir, name);
    writeFileSync(file, secret, { mode: 0o600 });
    return file;
  }

  /**
   * Starts `pogo node` and waits until it listens and serves its status
   * endpoint. `options.nodeArgs` go to Node before the CLI (`--import` a
   * hook), `options.env` adds to the environment.
   */
  async start(name: string, seeds: string[] = [], extra: string[] = [], options: { nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<NodeProcess> {
    const args = [...(options.nodeArgs ?? []), CLI, 'node', '--name', name, '--port', '0', '--status-port', '0', '--secret-file', this.secretFile, ...seeds.flatMap((s) => ['--seeds', s]), ...extra];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POGO_LOG_LEVEL: 'info', ...options.env } });
    const proc = new NodeProcess(name, child);
    this.procs.push(proc);
    await proc.waitFor(() => (proc.address !== '' && proc.statusUrl !== '') || proc.exited, 10_000, 'start-up');
    if (proc.exited) throw new Error(`${name} exited during start-up (code ${proc.exitCode}): ${proc.stderr}`);
    return proc;
  }

  /** Polls `predicate` against live status until it holds; bounded. */
  async until(predicate: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<number> {
    const start = performance.now();
    for (;;) {
      if (await predicate().catch(() => false)) return performance.now() - start;
      if (performance.now() - start > timeoutMs) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Kills every process it started (SIGCONT first, in case one is frozen), by pid, and waits for the exits. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.exited) return;
        p.signal('SIGCONT');
        p.signal('SIGKILL');
        await p.waitFor(() => p.exited, 5_000, 'exit after SIGKILL').catch(() => undefined);
      }),
    );
  }
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}
