/**
 * `pogo observe` and `pogo demo`, and the two programmatic building blocks
 * behind them, which the desktop app's main process reuses (DESIGN §3.6: one
 * code path for the browser and the desktop app).
 *
 * startObserver: joins a cluster as an observer (never hosts children, never
 * counts for placement) and serves the gateway, and with `staticDir` the
 * built renderer, on loopback. `credential` is the operator or viewer token
 * the gateway uses for sessions that present none, so a caller (Electron
 * main) can keep it out of the UI. `timing` is the observer node's own
 * failure detection (a preset, or values, as `pogo node` takes them); it
 * need not match the members': each link pings at the shorter interval of
 * its two ends and waits for the longer timeout (link.ts), so it only sets
 * how soon the observer itself notices a member it lost.
 *
 * startDemoCluster: the zero-configuration default. Writes a fresh secret,
 * operator and viewer tokens and the demo children into a private temporary
 * directory, starts N `pogo node` member processes on loopback with the
 * example workers (one at a time: the first is the seed of the others),
 * then an observer with the gateway in this process, and waits until the
 * observer sees every member up. stop() — and any failure while starting —
 * stops every process it started, by pid, and removes the directory.
 *
 * runObserve / runDemo: the CLI wrappers. They print JSON lines on stdout
 * that scripts and the e2e tests parse (`demo node started`, `demo ready`,
 * `gateway listening`, `demo stopped`), and stop everything on SIGINT or
 * SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, TIMING_FIELDS, loadConfig, type TimingConfig } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { PogoNode } from '../node.js';
import { startGateway, type Gateway } from '../observer/gateway.js';

/** Where the desktop app's build puts the renderer, relative to this file in the monorepo. */
export function defaultUiDir(): string | undefined {
  const candidate = fileURLToPath(new URL('../../../out/renderer', import.meta.url));
  return existsSync(join(candidate, 'index.html')) ? candidate : undefined;
}

// ---------------------------------------------------------------------------
// Observer + gateway

/** TLS files for the observer's links to the members (core's tls* settings). */
export interface ObserverTlsOptions {
  /** PEM CA bundle trusted when dialling members (self-signed clusters). Enough on its own to dial over TLS. */
  caFile?: string;
  /** PEM certificate; goes with keyFile. */
  certFile?: string;
  /** PEM private key for certFile. */
  keyFile?: string;
  /** Verify the members' certificates (default: true). */
  rejectUnauthorized?: boolean;
}

/**
 * Timing of the observer node, as `pogo node` takes it: `preset` (local,
 * lan or wan; default lan) and any value a preset sets, as a number or as
 * text typed after its flag (then a bad value is reported naming the flag).
 */
export type ObserverTiming = { preset?: string } & { [K in keyof TimingConfig]?: number | string };

export interface StartObserverOptions {
  /** host:port of members to join through (at least one). */
  seeds: string[];
  /** The cluster secret itself; or give secretFile (not both). */
  secret?: string;
  /** File holding the cluster secret. */
  secretFile?: string;
  /** Cluster name (default: pogo). */
  cluster?: string;
  /** Observer node name (default: observer-<host>-<pid>). */
  name?: string;
  tls?: ObserverTlsOptions;
  /** The observer node's heartbeat and gossip timing (default: POGO_* from `env`, else the lan preset). */
  timing?: ObserverTiming;
  /** Gateway interface (default: 127.0.0.1). */
  host?: string;
  /** Gateway port; 0 picks a free one (default: 0). */
  port?: number;
  /** Built renderer to serve from the gateway, if any. */
  staticDir?: string;
  /** Per-session gateway token (default: random). */
  token?: string;
  /** Operator or viewer token used by gateway sessions that present no credential. */
  credential?: string;
  /** POGO_* variables to fall back on (the CLI passes process.env; default: none). */
  env?: Record<string, string | undefined>;
  /** Logger of the observer node (default: pino on stdout at level warn). */
  log?: Logger;
}

export interface RunningObserver {
  readonly node: PogoNode;
  readonly gateway: Gateway;
  /** Closes the gateway, then stops the observer node. Idempotent. */
  stop(): Promise<void>;
}

function defaultObserverName(): string {
  return `observer-${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`.slice(0, 128);
}

/**
 * Joins the cluster as an observer and starts the gateway. Throws ConfigError
 * (naming the bad field) for bad options, and leaves nothing running when it
 * throws.
 */
export async function startObserver(opts: StartObserverOptions): Promise<RunningObserver> {
  const tls = opts.tls ?? {};
  const config = loadConfig({
    flags: {
      name: opts.name ?? defaultObserverName(),
      role: 'observer',
      port: '0',
      seeds: opts.seeds,
      ...(opts.secretFile !== undefined ? { secretFile: opts.secretFile } : {}),
      ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
      ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      ...(tls.caFile !== undefined ? { tlsCaFile: tls.caFile } : {}),
      ...(tls.certFile !== undefined ? { tlsCertFile: tls.certFile } : {}),
      ...(tls.keyFile !== undefined ? { tlsKeyFile: tls.keyFile } : {}),
      ...(tls.rejectUnauthorized !== undefined ? { tlsRejectUnauthorized: tls.rejectUnauthorized } : {}),
      ...Object.fromEntries(Object.entries(opts.timing ?? {}).filter(([, value]) => value !== undefined)),
    },
    env: opts.env ?? {},
  });
  const log = opts.log ?? createLogger({ level: 'warn' });
  const node = await PogoNode.start(config, { log });
  let gateway: Gateway;
  try {
    gateway = await startGateway(node, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      ...(opts.staticDir !== undefined ? { staticDir: opts.staticDir } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.credential !== undefined ? { credential: opts.credential } : {}),
    });
  } catch (err) {
    await node.stop('gateway failed to start', 500).catch(() => undefined);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    node,
    gateway,
    stop: () =>
      (stopping ??= (async () => {
        await gateway.close();
        await node.stop('observer done', 500);
      })()),
  };
}

/**
 * Resolves once `node` sees at least `count` members (not observers) up;
 * rejects after `timeoutMs` (on the node's clock), saying how many it saw.
 */
export function waitForMembers(node: PogoNode, count: number, timeoutMs: number): Promise<void> {
  const upCount = (): number => node.members().filter((m) => m.role === 'member' && m.status === 'up').length;
  if (upCount() >= count) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (upCount() < count) return;
      done();
      resolve();
    };
    const timer = node.clock.setTimeout(() => {
      done();
      reject(new Error(`the observer saw ${upCount()} of ${count} member(s) up within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      node.clock.clearTimeout(timer);
      node.off('member-up', check);
      node.off('member-updated', check);
    };
    node.on('member-up', check);
    node.on('member-updated', check);
  });
}

// ---------------------------------------------------------------------------
// Demo cluster

/** The demo cluster's children: a few example workers. */
export function demoChildren(): unknown[] {
  return [
    ...Array.from({ length: 6 }, (_, i) => ({ id: `ticker-${i + 1}`, start: { worker: 'ticker', args: { intervalMs: 5000, message: `tick ${i + 1}` } } })),
    { id: 'counter-1', start: { worker: 'counter', args: { intervalMs: 2000 } } },
    { id: 'counter-2', start: { worker: 'counter', args: { intervalMs: 2000 } } },
  ];
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
  /** Private temporary directory with the secret, tokens and children (removed by stop()). */
  readonly dir: string;
  /** Stops the observer, then every member process (SIGTERM, SIGKILL after 5 s), and removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Stops each process (SIGTERM, then SIGKILL after 5 s) and waits until every one has exited. */
function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  ).then(() => undefined);
}

/** Waits for a `pogo node` process's "node started" log line; resolves with its address. */
function nodeStarted(child: ChildProcess, name: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffer = '';
    let found = false;
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    // Kept for the process's lifetime: an 'error' event without a listener would crash this process.
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be started: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${signal === null ? `code ${code}` : signal}`));
    });
    // Keep draining the node's log after start-up, or its pipe would fill and block it.
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (found) return;
      buffer += chunk;
      const match = /"address":"([^"]+)"[^\n]*"msg":"node started"/.exec(buffer);
      if (match) {
        found = true;
        buffer = '';
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
}

/** Starts a local demo cluster and an observer with its gateway. See the header. */
export async function startDemoCluster(opts: DemoClusterOptions = {}): Promise<DemoCluster> {
  const count = opts.nodes ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > 20) throw new RangeError('nodes must be a whole number from 1 to 20');
  const basePort = opts.basePort ?? 0;
  if (!Number.isInteger(basePort) || basePort < 0 || basePort + count - 1 > 65535) throw new RangeError('basePort must be 0 (any free port) or a port with room for every node');
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'pogo-demo-'));
  const secret = randomBytes(24).toString('base64url');
  const operatorToken = randomBytes(18).toString('base64url');
  const viewerToken = randomBytes(18).toString('base64url');
  const children: ChildProcess[] = [];
  let observer: RunningObserver | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await observer?.stop();
      } finally {
        await stopProcesses(children);
        rmSync(dir, { recursive: true, force: true });
      }
    })());

  try {
    writeFileSync(join(dir, 'secret.txt'), secret, { mode: 0o600 });
    writeFileSync(join(dir, 'operator.txt'), operatorToken, { mode: 0o600 });
    writeFileSync(join(dir, 'viewer.txt'), viewerToken, { mode: 0o600 });
    writeFileSync(join(dir, 'children.json'), JSON.stringify(demoChildren(), null, 2));
    const cli = fileURLToPath(new URL('../../bin/pogo.js', import.meta.url));
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POGO_'))), ...opts.env };
    let seed: string | undefined;
    for (let i = 1; i <= count; i++) {
      const name = `demo-${i}`;
      const args = [cli, 'node', '--name', name, '--port', String(basePort ? basePort + i - 1 : 0), '--secret-file', join(dir, 'secret.txt'), '--operator-token-file', join(dir, 'operator.txt'), '--viewer-token-file', join(dir, 'viewer.txt'), '--workers', 'examples', '--children', join(dir, 'children.json'), '--preset', 'local'];
      if (seed) args.push('--seeds', seed);
      const child = spawn(opts.execPath ?? process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
      children.push(child);
      const address = await nodeStarted(child, name, timeoutMs);
      seed ??= address;
      opts.log?.({ msg: 'demo node started', name, pid: child.pid, address });
    }
    observer = await startObserver({
      seeds: [seed!],
      secret,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      ...(opts.staticDir !== undefined ? { staticDir: opts.staticDir } : {}),
      ...(opts.credential ? { credential: opts.credential === 'operator' ? operatorToken : viewerToken } : {}),
    });
    // A UI that connects right away should find the whole cluster, and a
    // gateway that can already check its credential with a member.
    await waitForMembers(observer.node, count, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { node: observer.node, gateway: observer.gateway, operatorToken, viewerToken, pids: children.map((c) => c.pid!), dir, stop };
}

// ---------------------------------------------------------------------------
// CLI wrappers

function printLine(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function printUrl(gateway: Gateway, ui: boolean): void {
  printLine({ msg: 'gateway listening', url: `${gateway.url}/?token=${gateway.token}`, ui });
  process.stderr.write(`\n  ${ui ? 'Open' : 'Gateway'}: ${gateway.url}/?token=${gateway.token}\n\n`);
}

/** The directory `--ui [dir]` asks for, warning when the default build is missing. */
function uiDir(ui: string | boolean | undefined): string | undefined {
  if (!ui) return undefined;
  const dir = typeof ui === 'string' ? ui : defaultUiDir();
  if (!dir) createLogger({ level: 'warn' }).warn({}, 'no built UI found (run npm run build in the repository); serving the gateway only');
  return dir;
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

export interface ObserveOptions extends ObserverTiming {
  seed: string[];
  secretFile?: string;
  cluster?: string;
  name?: string;
  host?: string;
  port?: string;
  ui?: string | boolean;
  token?: string;
}

export async function runObserve(opts: ObserveOptions): Promise<number> {
  if (opts.seed.length === 0) {
    process.stderr.write('pogo observe: give --seed host:port of a cluster node\n');
    return 2;
  }
  let running: RunningObserver;
  try {
    const staticDir = uiDir(opts.ui);
    const timing: ObserverTiming = Object.fromEntries(TIMING_FIELDS.map((f) => [f.key, opts[f.key as keyof ObserverTiming]]));
    running = await startObserver({
      seeds: opts.seed,
      env: process.env,
      timing,
      port: Number(opts.port ?? 7070),
      ...(opts.secretFile !== undefined ? { secretFile: opts.secretFile } : {}),
      ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(staticDir !== undefined ? { staticDir } : {}),
    });
  } catch (err) {
    process.stderr.write(`pogo observe: ${(err as Error).message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
  printUrl(running.gateway, Boolean(opts.ui));
  await waitForSignal();
  await running.stop();
  return 0;
}

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
  printLine({ msg: 'demo ready', nodes: count, dir: demo.dir, operatorToken: demo.operatorToken, viewerToken: demo.viewerToken, pids: demo.pids });
  printUrl(demo.gateway, Boolean(opts.ui));
  process.stderr.write(`  Operator token (to change the cluster from the UI): ${demo.operatorToken}\n  Viewer token (to watch it, read-only): ${demo.viewerToken}\n  Press Ctrl-C to stop the demo.\n\n`);
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
