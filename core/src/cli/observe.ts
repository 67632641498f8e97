/**
 * `pogo observe` and `pogo demo`, and the programmatic building block behind
 * them, which the desktop app's main process reuses (DESIGN §3.6: one code
 * path for the browser and the desktop app).
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
 * `pogo demo` and its demo cluster are demo.ts (not part of the library
 * API: `pogo-core/demo`, for the desktop app and tests).
 *
 * runObserve (and runDemo, in demo.ts, which shares the output helpers
 * here): the CLI wrappers. They print JSON lines on stdout that scripts and
 * the e2e tests parse (`demo node started`, `demo ready`, `gateway
 * listening`, `demo stopped`), and stop everything on SIGINT or SIGTERM.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
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

/** Options of startObserver: seeds, the secret, the cluster name, the gateway's address, TLS, timing. */
export interface StartObserverOptions {
  /** host:port of members to join through (at least one). */
  seeds: string[];
  /** The cluster secret itself; or give secretFile (not both). */
  secret?: string;
  /** File holding the cluster secret. */
  secretFile?: string;
  /** Cluster name (default: pogo). */
  cluster?: string;
  /** DNS servers (IP or IP:port) for dns: and dns-srv: seeds (default: POGO_DNS_SERVER from `env`, else the system's). */
  dnsServer?: string[];
  /** Observer node name (default: observer-<host>-<pid>). */
  name?: string;
  /** TLS for the observer's links to the cluster (needed when the members serve TLS); absent means plain connections. */
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
  /** Who gateway sessions that declare no user are, in the audit log (the desktop app passes the OS user name). */
  user?: string;
  /** POGO_* variables to fall back on (the CLI passes process.env; default: none). */
  env?: Record<string, string | undefined>;
  /** The observer's log level when no `log` is given: trace … fatal, silent (default: POGO_LOG_LEVEL from `env`, else warn). */
  logLevel?: string;
  /** Logger of the observer node (default: pino on stdout at `logLevel`). */
  log?: Logger;
}

/** A running observer: its node, its gateway, and stop(). */
export interface RunningObserver {
  /** The observer node, joined to the cluster with role observer. */
  readonly node: PogoNode;
  /** The UI gateway serving this observer's view of the cluster. */
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
  // loadConfig passes over a flag whose value is undefined, so an option left out falls through to its default.
  const config = loadConfig({
    flags: {
      name: opts.name ?? defaultObserverName(),
      role: 'observer',
      port: '0',
      seeds: opts.seeds,
      secretFile: opts.secretFile,
      secret: opts.secret,
      cluster: opts.cluster,
      dnsServer: opts.dnsServer?.length ? opts.dnsServer : undefined,
      tlsCaFile: tls.caFile,
      tlsCertFile: tls.certFile,
      tlsKeyFile: tls.keyFile,
      tlsRejectUnauthorized: tls.rejectUnauthorized,
      logLevel: opts.logLevel,
      ...opts.timing,
    },
    flagNames: { seeds: '--seed' },
    env: opts.env ?? {},
  });
  // Warn unless asked: an observer's info lines (every link, every member) are a member's business. Asked for, as pogo
  // node takes it (a re-check of the tour could not follow a heal in the observer's log: nothing below warn, no option).
  const asked = opts.logLevel !== undefined || (opts.env?.['POGO_LOG_LEVEL'] ?? '') !== '';
  const log = opts.log ?? createLogger({ level: asked ? config.logLevel : 'warn' });
  const node = await PogoNode.start(config, { log });
  let gateway: Gateway;
  try {
    gateway = await startGateway(node, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      ...(opts.staticDir !== undefined ? { staticDir: opts.staticDir } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
      ...(opts.credential !== undefined ? { credential: opts.credential } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
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
// CLI wrappers

export function printLine(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function printUrl(gateway: Gateway, ui: boolean): void {
  printLine({ msg: 'gateway listening', url: `${gateway.url}/?token=${gateway.token}`, ui });
  process.stderr.write(`\n  ${ui ? 'Open' : 'Gateway'}: ${gateway.url}/?token=${gateway.token}\n\n`);
}

/** The directory `--ui [dir]` asks for, warning when the default build is missing. */
export function uiDir(ui: string | boolean | undefined): string | undefined {
  if (!ui) return undefined;
  const dir = typeof ui === 'string' ? ui : defaultUiDir();
  if (!dir) createLogger({ level: 'warn' }).warn({}, 'no built UI found (run npm run build in the repository); serving the gateway only');
  return dir;
}

export function waitForSignal(): Promise<string> {
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
  dnsServer?: string[];
  name?: string;
  host?: string;
  port?: string;
  ui?: string | boolean;
  token?: string;
  logLevel?: string;
  /** --tls-ca-file, --tls-cert-file, --tls-key-file: the observer's TLS to the members (POGO_TLS_* when absent). */
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
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
      ...(opts.dnsServer !== undefined ? { dnsServer: opts.dnsServer } : {}),
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
      ...(staticDir !== undefined ? { staticDir } : {}),
      // The observer had no TLS flags (only POGO_TLS_* reached it), though the docs give it the same three as ctl.
      tls: { caFile: opts.tlsCaFile, certFile: opts.tlsCertFile, keyFile: opts.tlsKeyFile },
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
