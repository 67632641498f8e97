/**
 * A session: the observer and its loopback gateway that the desktop window
 * is pointed at (DESIGN §3.6), for a saved connection or a local demo cluster.
 *
 * openSession reads the secret and token files here, in main, and hands the
 * token to the gateway as the credential of sessions that present none
 * (operator token, else viewer token, else none: read-only). The renderer
 * only ever gets the gateway URL with its per-session token, so neither the
 * cluster secret nor a cluster token reaches it. The gateway serves the
 * built renderer (`staticDir`) over http on 127.0.0.1: the window loads the
 * very same page a browser gets from `pogo observe --ui`.
 *
 * The observer runs the connection's timing preset (default lan), whatever
 * the cluster's: links derive their heartbeat from both ends (core link.ts).
 *
 * Who acted: the gateway records the connection's `user` (default: the OS
 * user name) as the user of every session, beside the name of the token
 * the member checks; a token file may hold the token alone or one
 * `name:token` line (core credentials.ts: the token is what is sent).
 *
 * For a saved connection it waits (bounded) until the observer sees a member
 * up, so a wrong seed, secret, cluster name or TLS setting is reported here,
 * in words, instead of as an empty board. The demo cluster (as `pogo demo`)
 * waits for all its members itself.
 *
 * SessionManager keeps at most one session: switching closes the previous
 * one first; calls are serialized so two clicks cannot leave two observers
 * (or two demo clusters) running.
 *
 * Imports pogo-core but not Electron: tested with vitest.
 */
import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { clientToken, ConfigError, startObserver, waitForMembers, type RunningObserver } from 'pogo-core';
import { startDemoCluster, type DemoCluster } from 'pogo-core/demo';
import type { SavedConnection } from './preload-api';

export type SessionTarget = SavedConnection | 'demo';
export type SessionAccess = 'operator' | 'viewer' | 'none';

export interface Session {
  readonly kind: 'connection' | 'demo';
  /** The saved connection's name, or "Local demo cluster". */
  readonly name: string;
  /** The gateway page with its session token: what the window loads. */
  readonly url: string;
  /** The gateway's origin (http://127.0.0.1:port): the only remote origin the window may show. */
  readonly origin: string;
  /** The credential main gave the gateway (the cluster has the last word on what it may do). */
  readonly access: SessionAccess;
  /** OS processes this session started (the demo's members); empty for a saved connection. */
  readonly pids: readonly number[];
  /** Stops the gateway and observer, and the demo's processes. Idempotent. */
  close(): Promise<void>;
}

export interface SessionOptions {
  /** The built renderer directory the gateway serves (out/renderer). */
  staticDir: string;
  /** Longest wait for the cluster to answer, ms (default: 15000). */
  connectTimeoutMs?: number;
  /** Members of the demo cluster (default: 3). */
  demoNodes?: number;
  /**
   * Extra environment of the demo's member processes. Default: under
   * Electron, ELECTRON_RUN_AS_NODE=1, so that process.execPath (the Electron
   * binary) runs `pogo node` as plain Node.
   */
  demoEnv?: Record<string, string>;
  /** Name of the observer node (default: pogo-desktop-<host>-<pid>-<n>, new for each session). */
  observerName?: string;
  /** Who the user is in the audit log when the connection does not say (default: the OS user name). */
  user?: string;
}

/** The OS user name, or undefined when the OS will not say. */
export function osUserName(): string | undefined {
  try {
    return userInfo().username.slice(0, 64) || undefined;
  } catch {
    return undefined;
  }
}

export const DEMO_NAME = 'Local demo cluster';

let sessionCount = 0;
/**
 * A node name no other observer uses: the cluster refuses a second live node
 * with the same name, and a previous session's observer (or another one in
 * this process, like a demo's) may still be known to the members.
 */
function observerName(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-');
  return `pogo-desktop-${host}`.slice(0, 100) + `-${process.pid}-${++sessionCount}`;
}

function sessionUrl(gateway: { url: string; token: string }): string {
  return `${gateway.url}/?token=${encodeURIComponent(gateway.token)}`;
}

/** Reads a secret or token file; errors name the connection field and say what to do. */
async function readSecretFile(field: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose the file again`, { cause: err });
  }
  const value = text.trim();
  if (value === '') throw new Error(`${field}: ${path} is empty`);
  return value;
}

/** Reads a token file: the one token in it, bare or as a `name:token` line. */
async function readTokenFile(field: string, path: string): Promise<string> {
  const parsed = clientToken(await readSecretFile(field, path));
  if (!parsed.ok) throw new Error(`${field}: ${path}: ${parsed.problem}`);
  return parsed.token;
}

async function openConnection(connection: SavedConnection, options: SessionOptions): Promise<Session> {
  const secret = await readSecretFile('secretFile', connection.secretFile);
  let credential: string | undefined;
  let access: SessionAccess = 'none';
  if (connection.operatorTokenFile !== undefined) {
    credential = await readTokenFile('operatorTokenFile', connection.operatorTokenFile);
    access = 'operator';
  } else if (connection.viewerTokenFile !== undefined) {
    credential = await readTokenFile('viewerTokenFile', connection.viewerTokenFile);
    access = 'viewer';
  }
  const user = connection.user ?? options.user ?? osUserName();
  let observer: RunningObserver;
  try {
    observer = await startObserver({
      name: options.observerName ?? observerName(),
      seeds: connection.seeds,
      secret,
      port: 0,
      staticDir: options.staticDir,
      ...(connection.cluster !== undefined ? { cluster: connection.cluster } : {}),
      ...(connection.dnsServer !== undefined ? { dnsServer: connection.dnsServer } : {}),
      ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
      ...(connection.preset !== undefined ? { timing: { preset: connection.preset } } : {}),
      ...(credential !== undefined ? { credential } : {}),
      ...(user !== undefined ? { user } : {}),
    });
  } catch (err) {
    // ConfigError names the setting at fault; the "(from --flag)" part it adds means nothing here.
    if (err instanceof ConfigError)
      throw new Error(`cannot start the observer: ${err.problems.map((p) => p.replace(/ \(from [^)]*\)/, '')).join('; ')}`, { cause: err });
    throw err;
  }
  const timeoutMs = options.connectTimeoutMs ?? 15_000;
  try {
    await waitForMembers(observer.node, 1, timeoutMs);
  } catch {
    await observer.stop();
    throw new Error(
      `no member of ${connection.name} answered within ${timeoutMs / 1000} s through ${connection.seeds.join(', ')}: ` +
        `check the seeds, the secret file, the cluster name (${connection.cluster ?? 'pogo'}) and the TLS files`,
    );
  }
  return {
    kind: 'connection',
    name: connection.name,
    url: sessionUrl(observer.gateway),
    origin: observer.gateway.url,
    access,
    pids: [],
    close: () => observer.stop(),
  };
}

async function openDemo(options: SessionOptions): Promise<Session> {
  const env = options.demoEnv ?? (process.versions['electron'] !== undefined ? { ELECTRON_RUN_AS_NODE: '1' } : undefined);
  const user = options.user ?? osUserName();
  let demo: DemoCluster;
  try {
    demo = await startDemoCluster({
      nodes: options.demoNodes ?? 3,
      port: 0,
      staticDir: options.staticDir,
      credential: 'operator',
      ...(user !== undefined ? { user } : {}),
      ...(env !== undefined ? { env } : {}),
    });
  } catch (err) {
    throw new Error(`the demo cluster did not start: ${(err as Error).message}`, { cause: err });
  }
  return {
    kind: 'demo',
    name: DEMO_NAME,
    url: sessionUrl(demo.gateway),
    origin: demo.gateway.url,
    access: 'operator',
    pids: demo.pids,
    close: () => demo.stop(),
  };
}

/**
 * Starts the observer and gateway for a saved connection, or a local demo
 * cluster. Throws an Error whose message says what went wrong and what to
 * do; nothing is left running when it throws.
 */
export function openSession(target: SessionTarget, options: SessionOptions): Promise<Session> {
  return target === 'demo' ? openDemo(options) : openConnection(target, options);
}

/** At most one session at a time; every call is serialized. */
export class SessionManager {
  private session: Session | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Processes of sessions not yet fully closed (a close may be under way when main exits). */
  private readonly livePids = new Set<number>();

  constructor(private readonly open: (target: SessionTarget) => Promise<Session>) {}

  /** The open session, if any. */
  get current(): Session | undefined {
    return this.session;
  }

  /** Closes the current session (if any), then opens one for `target`. */
  switchTo(target: SessionTarget): Promise<Session> {
    return this.serialize(async () => {
      await this.closeCurrent();
      const session = await this.open(target);
      for (const pid of session.pids) this.livePids.add(pid);
      this.session = session;
      return session;
    });
  }

  /** Closes the current session, if any. */
  close(): Promise<void> {
    return this.serialize(() => this.closeCurrent());
  }

  /**
   * Last resort when main is exiting without a chance to wait (process
   * 'exit'): SIGKILLs, by pid, the processes of every session not yet
   * fully closed.
   */
  killNow(): void {
    for (const pid of this.livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private async closeCurrent(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await session.close();
    for (const pid of session.pids) this.livePids.delete(pid);
  }

  private serialize<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
