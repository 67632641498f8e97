/**
 * `pogo demo`, and the demo cluster behind it and the desktop app's "Start a demo":
 * the zero-configuration way to see Pogo work. Not part of the library API
 * (index.ts does not export it); the desktop app and tests import it from
 * `pogo-core/demo`.
 *
 * startDemoCluster writes a fresh secret, operator and viewer tokens and the
 * demo children into a private temporary directory, starts N `pogo node`
 * member processes on loopback with the example workers through the cluster
 * harness (harness/process-cluster.ts; one at a time: the first is the seed
 * of the others, its address read from its "node started" line), then an observer with the gateway in
 * this process (startObserver), and waits until the observer sees every
 * member up. stop() — and any failure while starting — stops every process
 * it started, by pid, and removes the directory. A demo killed outright
 * (SIGKILL, a crash of the desktop app) runs no stop: its members, started
 * with `--stop-with-parent true`, then stop themselves within a few seconds.
 *
 * The children: example workers, and one OS process (`log-writer`: the
 * node executable running a short script that writes a line to stdout every
 * second and every third one to stderr too), so the UI's live output has
 * something to show. The members allow exactly that executable
 * (`--allow-commands`); under Electron it is Electron's own binary, which
 * the members' environment (ELECTRON_RUN_AS_NODE) runs as Node.
 *
 * `pogo demo` prints how to reach the cluster from a shell: the seed
 * address, the secret file, and a `pogo ctl … ls` line ready to paste
 * (`ctlCommandLine`).
 */
import { randomBytes } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PogoNode } from '../node.js';
import { ProcessCluster } from '../harness/process-cluster.js';
import type { Gateway } from '../observer/gateway.js';
import { resolveExecutable } from '../supervisor/os-child.js';
import { printLine, printUrl, startObserver, uiDir, waitForMembers, waitForSignal, type RunningObserver } from './observe.js';

/** What the demo's OS-process child runs (`node -e`): a numbered line on stdout every second, and on stderr every third second. */
export const LOG_WRITER_SCRIPT = [
  'let n = 0;',
  'setInterval(() => {',
  '  n++;',
  '  console.log(`line ${n}: all is well`);',
  '  if (n % 3 === 0) console.error(`line ${n}: warning: a demo line on stderr`);',
  '}, 1000);',
].join('\n');

/** The demo cluster's children: a few example workers and one OS process run by `command` (a node executable). */
export function demoChildren(command: string = process.execPath): unknown[] {
  return [
    ...Array.from({ length: 6 }, (_, i) => ({ id: `ticker-${i + 1}`, start: { worker: 'ticker', args: { intervalMs: 5000, message: `tick ${i + 1}` } } })),
    { id: 'counter-1', start: { worker: 'counter', args: { intervalMs: 2000 } } },
    { id: 'counter-2', start: { worker: 'counter', args: { intervalMs: 2000 } } },
    // Answers calls ({op:'add',key,by} / {op:'get',key}) and keeps its counts across planned moves: try Send message.
    { id: 'kv-1', start: { worker: 'kv-counter' } },
    { id: 'log-writer', start: { command, args: ['-e', LOG_WRITER_SCRIPT] }, shutdown: 2000 },
  ];
}

/** A word as the shell reads it: as it is when it is plain, else in single quotes. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_/.:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * A `pogo ctl … ls` command line for this cluster, ready to paste: `pogo`
 * when the `pogo` on PATH is this very CLI, else node and the CLI's path.
 */
export function ctlCommandLine(o: { seed: string; secretFile: string; tokenFile: string }, pathEnv = process.env['PATH'] ?? ''): string {
  const cli = fileURLToPath(new URL('../../bin/pogo.js', import.meta.url));
  const onPath = resolveExecutable('pogo', undefined, pathEnv);
  let pogo: string[];
  try {
    pogo = onPath !== undefined && realpathSync(onPath) === realpathSync(cli) ? ['pogo'] : [process.execPath, cli];
  } catch {
    pogo = [process.execPath, cli];
  }
  return [...pogo, 'ctl', '--seed', o.seed, '--secret-file', o.secretFile, '--token-file', o.tokenFile, 'ls'].map(shellWord).join(' ');
}

export interface DemoClusterOptions {
  /** Member processes, 1 to 20 (default: 3). */
  nodes?: number;
  /** First member port; the others follow it (default: 0, any free port). */
  basePort?: number;
  /** Built renderer to serve from the gateway, if any. */
  staticDir?: string;
  /** Gateway interface (default: 127.0.0.1). */
  host?: string;
  /** Gateway port; 0 picks a free one (default: 0). */
  port?: number;
  /** Which demo token the gateway uses for sessions that present none (default: none, read-only). */
  credential?: 'operator' | 'viewer';
  /** Who the gateway's sessions that declare no user are, in the audit log (the desktop app passes the OS user name). */
  user?: string;
  /** Receives one `{ msg: 'demo node started', name, pid, address }` object per member as it starts. */
  log?: (line: Record<string, unknown>) => void;
  /** Executable that runs `pogo node` (default: process.execPath). */
  execPath?: string;
  /** Extra environment for the member processes (e.g. ELECTRON_RUN_AS_NODE=1 under Electron). */
  env?: Record<string, string>;
  /** Longest wait for each member, and then for the observer to see them all, ms (default: 10000). */
  startTimeoutMs?: number;
}

export interface DemoCluster {
  /** The observer node in this process. */
  readonly node: PogoNode;
  readonly gateway: Gateway;
  readonly operatorToken: string;
  readonly viewerToken: string;
  /** Pids of the member processes, in start order. */
  readonly pids: number[];
  /** Address of the first member, the seed of the others (and of `pogo ctl --seed`). */
  readonly seed: string;
  /** Private temporary directory with the secret, tokens and children (removed by stop()). */
  readonly dir: string;
  /** The cluster secret's file, and the operator token's, in `dir`. */
  readonly secretFile: string;
  readonly operatorTokenFile: string;
  /** Stops the observer, then every member process (SIGTERM, SIGKILL after 5 s), and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a local demo cluster and an observer with its gateway. See the header. */
export async function startDemoCluster(opts: DemoClusterOptions = {}): Promise<DemoCluster> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 20) throw new RangeError('nodes must be a whole number from 1 to 20');
  const basePort = opts.basePort ?? 0;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + count - 1 > 65535)
    throw new RangeError('basePort must be 0 (any free port) or a port with room for every node');
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const nodeExecutable = opts.execPath ?? process.execPath;
  const cluster = new ProcessCluster({
    prefix: 'pogo-demo-',
    secret: randomBytes(24).toString('base64url'),
    execPath: nodeExecutable,
    // A user's POGO_* settings are not the demo's; the node logs are read for the address, then only the last few kept.
    dropPogoEnv: true,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    keepLines: 50,
    inheritStderr: true,
    startTimeoutMs: timeoutMs,
  });
  const dir = cluster.dir;
  const operatorToken = randomBytes(18).toString('base64url');
  const viewerToken = randomBytes(18).toString('base64url');
  let observer: RunningObserver | undefined;
  let seed: string | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await observer?.stop();
      } finally {
        await cluster.close({ graceMs: 5000 });
      }
    })());

  try {
    const operatorTokenFile = cluster.writeSecret('operator.txt', operatorToken);
    const viewerTokenFile = cluster.writeSecret('viewer.txt', viewerToken);
    const childrenFile = join(dir, 'children.json');
    writeFileSync(childrenFile, JSON.stringify(demoChildren(nodeExecutable), null, 2));
    const flags = [
      '--operator-token-file',
      operatorTokenFile,
      '--viewer-token-file',
      viewerTokenFile,
      '--workers',
      'examples',
      '--allow-commands',
      nodeExecutable,
      '--children',
      childrenFile,
      '--preset',
      'local',
      // A demo (or desktop app) killed outright runs no stop: its members then stop themselves.
      '--stop-with-parent',
      'true',
    ];
    for (let i = 1; i <= count; i++) {
      const name = `demo-${i}`;
      const node = await cluster.start(name, seed === undefined ? [] : [seed], flags, { port: basePort ? basePort + i - 1 : 0 });
      seed ??= node.address;
      opts.log?.({ msg: 'demo node started', name, pid: node.pid, address: node.address });
    }
    observer = await startObserver({
      seeds: [seed!],
      secret: cluster.secret,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      ...(opts.staticDir !== undefined ? { staticDir: opts.staticDir } : {}),
      ...(opts.credential ? { credential: opts.credential === 'operator' ? operatorToken : viewerToken } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
    });
    // A UI that connects right away should find the whole cluster, and a
    // gateway that can already check its credential with a member.
    await waitForMembers(observer.node, count, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    node: observer.node,
    gateway: observer.gateway,
    operatorToken,
    viewerToken,
    pids: cluster.procs.map((p) => p.pid),
    seed: seed!,
    dir,
    secretFile: cluster.secretFile,
    operatorTokenFile: join(dir, 'operator.txt'),
    stop,
  };
}

// ---------------------------------------------------------------------------
// CLI wrapper

export interface DemoOptions {
  nodes?: string;
  ui?: string | boolean;
  port?: string;
  basePort?: string;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const count = Number(opts.nodes ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 20) {
    process.stderr.write('pogo demo: --nodes must be a whole number from 1 to 20\n');
    return 2;
  }
  let demo: DemoCluster;
  try {
    const staticDir = uiDir(opts.ui);
    demo = await startDemoCluster({
      nodes: count,
      basePort: Number(opts.basePort ?? 0),
      port: opts.port ? Number(opts.port) : 7070,
      log: printLine,
      ...(staticDir !== undefined ? { staticDir } : {}),
    });
  } catch (err) {
    process.stderr.write(`pogo demo: ${(err as Error).message}\n`);
    return 1;
  }
  const ctl = ctlCommandLine({ seed: demo.seed, secretFile: demo.secretFile, tokenFile: demo.operatorTokenFile });
  printLine({
    msg: 'demo ready',
    nodes: count,
    dir: demo.dir,
    seed: demo.seed,
    secretFile: demo.secretFile,
    operatorTokenFile: demo.operatorTokenFile,
    ctl,
    operatorToken: demo.operatorToken,
    viewerToken: demo.viewerToken,
    pids: demo.pids,
  });
  printUrl(demo.gateway, Boolean(opts.ui));
  process.stderr.write(
    [
      `  Operator token (to change the cluster from the UI): ${demo.operatorToken}`,
      `  Viewer token (to watch it, read-only): ${demo.viewerToken}`,
      '',
      `  Seed address: ${demo.seed}`,
      `  Secret file:  ${demo.secretFile}`,
      `  From a shell: ${ctl}`,
      '',
      '  Press Ctrl-C to stop the demo.',
      '',
      '',
    ].join('\n'),
  );
  await waitForSignal();
  try {
    await demo.stop();
  } catch (err) {
    process.stderr.write(`pogo demo: ${(err as Error).message}\n`);
    return 1;
  }
  printLine({ msg: 'demo stopped' });
  return 0;
}
