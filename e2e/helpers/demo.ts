/**
 * A real cluster for e2e specs: `pogo demo --ui` starts three (or `nodes`)
 * `pogo node` processes, an observer and the gateway serving the built
 * renderer. `ctl` asks the cluster itself (through `pogo ctl --json`, as an
 * ops engineer would), so specs check what the cluster did, not what the UI
 * shows. The `pogo demo` process is the cluster harness's (pogo-core/testing
 * spawnPogo): its JSON lines read as they come. `stop` ends the demo with
 * SIGINT and then SIGKILLs every pid it started, whatever state they are in.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkdirSync } from 'node:fs';
import { expect, type Browser, type Page } from '@playwright/test';
import { demoChildren } from 'pogo-core/demo';
import { spawnPogo } from 'pogo-core/testing';
import { repoRoot, screenshotsDir } from './paths.js';

const cli = fileURLToPath(new URL('../../core/bin/pogo.js', import.meta.url));

/**
 * Children of the demo cluster (core/src/cli/demo.ts demoChildren): six
 * tickers, two counters, a keyed counter that answers calls (`kv-1`) and one
 * OS process, `log-writer`.
 */
export const DEMO_CHILDREN = demoChildren().length;
const run = promisify(execFile);

export interface DemoNode {
  name: string;
  pid: number;
  address: string;
}

export interface Demo {
  url: string;
  /** The `pogo demo` process: it runs the observer and the gateway. */
  pid: number;
  operatorToken: string;
  viewerToken: string;
  dir: string;
  nodes: DemoNode[];
  /** `pogo ctl <args> --json` against a live node, with the operator token; returns the parsed result. */
  ctl(...args: string[]): Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
  stop(): Promise<void>;
}

interface DemoLine {
  msg: string;
  url?: string;
  name?: string;
  pid?: number;
  address?: string;
  operatorToken?: string;
  viewerToken?: string;
  dir?: string;
  pids?: number[];
}

/** Whether a process is still there (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pogo ctl <args> --json` through the live ones of `nodes`, with the secret and operator token in `dir`. */
export function ctlFor(dir: string, nodes: readonly DemoNode[]): Demo['ctl'] {
  return async (...args) => {
    const seeds = nodes.filter((n) => alive(n.pid)).flatMap((n) => ['--seed', n.address]);
    const full = [cli, 'ctl', ...args, ...seeds, '--secret-file', join(dir, 'secret.txt'), '--token-file', join(dir, 'operator.txt'), '--json', '--by', 'e2e'];
    try {
      const { stdout } = await run(process.execPath, full, { cwd: repoRoot, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
      return JSON.parse(stdout) as Awaited<ReturnType<Demo['ctl']>>;
    } catch (err) {
      const stdout = (err as { stdout?: string }).stdout;
      if (stdout) return JSON.parse(stdout) as Awaited<ReturnType<Demo['ctl']>>;
      throw err;
    }
  };
}

/** A child as `pogo ctl ls --json` lists it (the fields the specs read). */
export interface ListedChild {
  id: string;
  node?: string;
  /** The running instance (node/incarnation/localId): a restart gives a new one. */
  pid?: string;
  pin?: string;
  status: string;
}

/** Every child as the cluster itself lists it (`pogo ctl ls`), the reply checked. */
export async function listChildren(ctl: Demo['ctl']): Promise<ListedChild[]> {
  const reply = await ctl('ls');
  expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
  return reply.result as ListedChild[];
}

export async function startDemo(options: { nodes?: number } = {}): Promise<Demo> {
  const proc = spawnPogo('pogo demo', ['demo', '--ui', '--port', '0', '--nodes', String(options.nodes ?? 3)], { cwd: repoRoot });
  const memberPids = (): number[] => (proc.lines.find((l) => l.msg === 'demo ready')?.['pids'] as number[] | undefined) ?? [];
  const stop = async (): Promise<void> => {
    proc.signal('SIGINT');
    await proc.waitFor(() => proc.exited, 10_000, 'exit after SIGINT').catch(() => undefined);
    await proc.kill();
    for (const pid of memberPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  try {
    // "gateway listening" comes after "demo ready" (core/src/cli/demo.ts runDemo).
    await proc.started(30_000, { gateway: true });
    const lines = proc.lines as unknown as DemoLine[];
    const ready = lines.find((l) => l.msg === 'demo ready')!;
    const nodes: DemoNode[] = lines.filter((l) => l.msg === 'demo node started').map((l) => ({ name: l.name!, pid: l.pid!, address: l.address! }));
    return {
      url: proc.gatewayUrl,
      operatorToken: ready.operatorToken!,
      viewerToken: ready.viewerToken!,
      dir: ready.dir!,
      pid: proc.pid,
      nodes,
      ctl: ctlFor(ready.dir!, nodes),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A spec's usual start: a demo cluster and one page for it (dark, 1400 × 860
 * unless `viewport` says otherwise), with the screenshot directory made.
 * `closeDemo` undoes it; either may be missing if the start failed.
 */
export async function openDemo(
  browser: Browser,
  options: { nodes?: number; viewport?: { width: number; height: number } } = {},
): Promise<{ demo: Demo; page: Page }> {
  mkdirSync(screenshotsDir, { recursive: true });
  const demo = await startDemo({ ...(options.nodes === undefined ? {} : { nodes: options.nodes }) });
  const page = await browser.newPage({ viewport: options.viewport ?? { width: 1400, height: 860 }, colorScheme: 'dark' });
  return { demo, page };
}

export async function closeDemo(page: Page | undefined, demo: Demo | undefined): Promise<void> {
  await page?.close();
  await demo?.stop();
}
