/**
 * A larger real cluster for e2e specs than `pogo demo` gives: `nodes`
 * `pogo node` processes (default timing preset) that run `children`
 * example children (tickers, and `counters` counters that join a process
 * group) from a children file, then `pogo observe --ui` (the observer and
 * its gateway serving the built renderer), each a process of its own, as an
 * operator would start them.
 *
 * Start-up goes node by node (the first is the seed of the others), reading
 * each node's "node started" log line for its address, then the gateway's
 * "gateway listening" line for the URL. Every pipe is drained for the
 * process's lifetime (a full pipe would block it). `stop` sends SIGTERM to
 * every process it started, waits for each (bounded), SIGKILLs any left, by
 * pid, and removes the directory. A failure while starting stops what was
 * started.
 *
 * `ctl` asks the cluster itself (`pogo ctl --json`), so specs check what the
 * cluster did, not what the UI shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, ctlFor, type Demo, type DemoNode } from './demo.js';
import { repoRoot } from './paths.js';

const cli = fileURLToPath(new URL('../../core/bin/pogo.js', import.meta.url));

export interface Cluster {
  /** The gateway's URL with its session token. */
  url: string;
  operatorToken: string;
  viewerToken: string;
  dir: string;
  nodes: DemoNode[];
  /** The `pogo observe` process. */
  observerPid: number;
  ctl: Demo['ctl'];
  stop(): Promise<void>;
}

/** Resolves with the first line of `child`'s stdout that `match` accepts (a JSON log line), within `timeoutMs`. */
function waitForLine<T>(child: ChildProcess, what: string, timeoutMs: number, match: (line: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let buffer = '';
    let done = false;
    const finish = (err: Error | null, value?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      buffer = '';
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code, signal) => finish(new Error(`${what} exited with ${signal ?? `code ${code}`}`)));
    child.on('error', (err) => finish(new Error(`${what} could not be started: ${err.message}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (done) return;
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          continue;
        }
        const found = match(line);
        if (found !== undefined) return finish(null, found);
      }
    });
  });
}

/** `children` in all: `counters` of them (`counter-1`…) the example counter, which joins the process group `counter` of scope `examples`; the rest (`w-0001`…) tickers. */
export async function startCluster(options: { nodes: number; children: number; counters?: number; startTimeoutMs?: number }): Promise<Cluster> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'pogo-e2e-'));
  const operatorToken = randomBytes(18).toString('base64url');
  const viewerToken = randomBytes(18).toString('base64url');
  writeFileSync(join(dir, 'secret.txt'), randomBytes(24).toString('base64url'), { mode: 0o600 });
  writeFileSync(join(dir, 'operator.txt'), operatorToken, { mode: 0o600 });
  writeFileSync(join(dir, 'viewer.txt'), viewerToken, { mode: 0o600 });
  const width = String(options.children).length;
  const counters = options.counters ?? 0;
  const specs = [
    ...Array.from({ length: options.children - counters }, (_, i) => ({ id: `w-${String(i + 1).padStart(width, '0')}`, start: { worker: 'ticker', args: { intervalMs: 3_600_000, message: 'tick' } } })),
    ...Array.from({ length: counters }, (_, i) => ({ id: `counter-${i + 1}`, start: { worker: 'counter', args: { intervalMs: 5_000 } } })),
  ];
  writeFileSync(join(dir, 'children.json'), JSON.stringify(specs));

  const processes: ChildProcess[] = [];
  const nodes: DemoNode[] = [];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POGO_')));
  const launch = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    processes.push(child);
    child.stderr.resume();
    // Drained for the process's lifetime (waitForLine reads it while starting).
    child.stdout.resume();
    return child;
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all(
        processes.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => {
                if (child.pid !== undefined && alive(child.pid)) child.kill('SIGKILL');
              }, 10_000);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.kill('SIGTERM');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    })());

  try {
    let seed: string | undefined;
    for (let i = 1; i <= options.nodes; i++) {
      const name = `node-${i}`;
      const args = ['node', '--name', name, '--port', '0', '--secret-file', join(dir, 'secret.txt'), '--operator-token-file', join(dir, 'operator.txt'), '--viewer-token-file', join(dir, 'viewer.txt'), '--workers', 'examples', '--children', join(dir, 'children.json')];
      if (seed) args.push('--seeds', seed);
      const child = launch(args);
      const address = await waitForLine(child, name, timeoutMs, (line) => (line['msg'] === 'node started' && typeof line['address'] === 'string' ? line['address'] : undefined));
      seed ??= address;
      nodes.push({ name, pid: child.pid!, address });
    }
    const observer = launch(['observe', '--ui', '--port', '0', '--name', 'e2e-observer', '--secret-file', join(dir, 'secret.txt'), ...nodes.flatMap((n) => ['--seed', n.address])]);
    const url = await waitForLine(observer, 'pogo observe', timeoutMs, (line) => (line['msg'] === 'gateway listening' && typeof line['url'] === 'string' ? line['url'] : undefined));
    return { url, operatorToken, viewerToken, dir, nodes, observerPid: observer.pid!, ctl: ctlFor(dir, nodes), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
