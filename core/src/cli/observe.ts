/**
 * `pogo observe` and `pogo demo`.
 *
 * observe: joins a cluster as an observer (never hosts children, never
 * counts for placement) and serves the gateway, and with `--ui` the built
 * renderer, on loopback. Prints the URL with the session token.
 *
 * demo: the zero-configuration default. Starts N `pogo node` member
 * processes on loopback with the example workers and a few children, then an
 * observer with the gateway in this process. SIGINT or SIGTERM stops
 * everything it started, by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { PogoNode } from '../node.js';
import { startGateway, type Gateway } from '../observer/gateway.js';

/** Where the desktop app's build puts the renderer, relative to this file in the monorepo. */
export function defaultUiDir(): string | undefined {
  const candidate = fileURLToPath(new URL('../../../out/renderer', import.meta.url));
  return existsSync(join(candidate, 'index.html')) ? candidate : undefined;
}

export interface ObserveOptions {
  seed: string[];
  secretFile?: string;
  cluster?: string;
  name?: string;
  host?: string;
  port?: string;
  ui?: string | boolean;
  token?: string;
}

async function runObserver(opts: ObserveOptions, secret?: string): Promise<{ node: PogoNode; gateway: Gateway; stop(): Promise<void> }> {
  const config = loadConfig({
    flags: {
      name: opts.name ?? `observer-${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`.slice(0, 128),
      role: 'observer',
      port: '0',
      seeds: opts.seed,
      ...(opts.secretFile ? { secretFile: opts.secretFile } : {}),
      ...(secret ? { secret } : {}),
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
    },
    env: secret ? {} : process.env,
  });
  const log = createLogger({ level: 'warn' });
  const node = await PogoNode.start(config, { log });
  let staticDir: string | undefined;
  if (opts.ui) {
    staticDir = typeof opts.ui === 'string' ? opts.ui : defaultUiDir();
    if (!staticDir) log.warn({}, 'no built UI found (run npm run build in the repository); serving the gateway only');
  }
  const gateway = await startGateway(node, { host: opts.host ?? '127.0.0.1', port: Number(opts.port ?? 7070), ...(staticDir ? { staticDir } : {}), ...(opts.token ? { token: opts.token } : {}) });
  return {
    node,
    gateway,
    stop: async () => {
      await gateway.close();
      await node.stop('observer done', 500);
    },
  };
}

function printUrl(gateway: Gateway, ui: boolean): void {
  process.stdout.write(`${JSON.stringify({ msg: 'gateway listening', url: `${gateway.url}/?token=${gateway.token}`, ui })}\n`);
  process.stderr.write(`\n  ${ui ? 'Open' : 'Gateway'}: ${gateway.url}/?token=${gateway.token}\n\n`);
}

export async function runObserve(opts: ObserveOptions): Promise<number> {
  if (opts.seed.length === 0) {
    process.stderr.write('pogo observe: give --seed host:port of a cluster node\n');
    return 2;
  }
  let running;
  try {
    running = await runObserver(opts);
  } catch (err) {
    process.stderr.write(`pogo observe: ${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
  printUrl(running.gateway, Boolean(opts.ui));
  await waitForSignal();
  await running.stop();
  return 0;
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

export interface DemoOptions {
  nodes?: string;
  ui?: string | boolean;
  port?: string;
  basePort?: string;
}

/** The demo cluster's children: a few example workers. */
export function demoChildren(): unknown[] {
  return [
    ...Array.from({ length: 6 }, (_, i) => ({ id: `ticker-${i + 1}`, start: { worker: 'ticker', args: { intervalMs: 5000, message: `tick ${i + 1}` } } })),
    { id: 'counter-1', start: { worker: 'counter', args: { intervalMs: 2000 } } },
    { id: 'counter-2', start: { worker: 'counter', args: { intervalMs: 2000 } } },
  ];
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const count = Number(opts.nodes ?? 3);
  if (!Number.isInteger(count) || count < 1 || count > 20) {
    process.stderr.write('pogo demo: --nodes must be a whole number from 1 to 20\n');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pogo-demo-'));
  const secret = randomBytes(24).toString('base64url');
  const operator = randomBytes(18).toString('base64url');
  writeFileSync(join(dir, 'secret.txt'), secret, { mode: 0o600 });
  writeFileSync(join(dir, 'operator.txt'), operator, { mode: 0o600 });
  writeFileSync(join(dir, 'children.json'), JSON.stringify(demoChildren(), null, 2));
  const cli = fileURLToPath(new URL('../../bin/pogo.js', import.meta.url));
  const basePort = Number(opts.basePort ?? 0);
  const children: ChildProcess[] = [];
  const stopChildren = async (): Promise<void> => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  };
  let seed: string | undefined;
  try {
    for (let i = 1; i <= count; i++) {
      const args = [cli, 'node', '--name', `demo-${i}`, '--port', String(basePort ? basePort + i - 1 : 0), '--secret-file', join(dir, 'secret.txt'), '--operator-token-file', join(dir, 'operator.txt'), '--workers', 'examples', '--children', join(dir, 'children.json'), '--preset', 'local'];
      if (seed) args.push('--seeds', seed);
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POGO_')));
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
      children.push(child);
      const address = await new Promise<string>((resolve, reject) => {
        let buffer = '';
        const timer = setTimeout(() => reject(new Error(`demo-${i} did not start within 10 s`)), 10_000);
        child.once('exit', (code) => reject(new Error(`demo-${i} exited with code ${code}`)));
        let found = false;
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
      seed ??= address;
      process.stdout.write(`${JSON.stringify({ msg: 'demo node started', name: `demo-${i}`, pid: child.pid, address })}\n`);
    }
    const observer = await runObserver({ seed: [seed!], ui: opts.ui ?? false, ...(opts.port ? { port: opts.port } : { port: '7070' }) }, secret);
    process.stdout.write(`${JSON.stringify({ msg: 'demo ready', nodes: count, dir, operatorToken: operator, pids: children.map((c) => c.pid) })}\n`);
    printUrl(observer.gateway, Boolean(opts.ui));
    process.stderr.write(`  Operator token (to change the cluster from the UI): ${operator}\n  Press Ctrl-C to stop the demo.\n\n`);
    await waitForSignal();
    await observer.stop();
  } catch (err) {
    process.stderr.write(`pogo demo: ${(err as Error).message}\n`);
    await stopChildren();
    return 1;
  }
  await stopChildren();
  process.stdout.write(`${JSON.stringify({ msg: 'demo stopped' })}\n`);
  return 0;
}
