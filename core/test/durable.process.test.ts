/**
 * Durable desired state on real `pogo node` processes: three members with
 * `--data-dir`, 200 children started at run time (plus a pin and a
 * terminated child); SIGKILL all three, start them again on the same ports
 * with the same data dirs, and every child is back exactly once. A second
 * node on a data dir in use is refused.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { GlobalChild } from '../src/distributed/distributed-supervisor.js';
import { STATE_FILE, decodeState } from '../src/distributed/state-file.js';
import type { ChildRegister } from '../src/distributed/registers.js';
import { EXIT_WITH_PARENT, ProcessCluster, type NodeProcess } from './support/processes.js';

let cluster: ProcessCluster | undefined;
let control: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (control && control.exitCode === null) control.kill('SIGKILL');
  control = undefined;
  await cluster?.stopAll();
});

const COUNT = 200;
const ids = Array.from({ length: COUNT }, (_, i) => `job-${i}`);
const FLAGS = ['--workers', 'examples', '--heartbeat-interval-ms', '200', '--suspect-after-ms', '600', '--heartbeat-timeout-ms', '1500'];

type Reply = { ok: boolean; result?: unknown; code?: string; error?: string };

/** An observer process that runs supervisor calls read from stdin (test fixture), answering in order. */
function startControl(seed: string, secretFile: string): { send: (op: string, ...args: unknown[]) => Promise<Reply> } {
  const fixture = fileURLToPath(new URL('./fixtures/control-node.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, fixture, seed, secretFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  control = child;
  const pending: Array<(v: Reply) => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as Reply;
    if ('ok' in msg) pending.shift()?.(msg);
  });
  return {
    send: (op, ...args) =>
      new Promise((resolve) => {
        pending.push(resolve);
        child.stdin.write(`${JSON.stringify({ op, args })}\n`);
      }),
  };
}

async function children(n: NodeProcess): Promise<GlobalChild[]> {
  const res = await fetch(`${n.statusUrl}/children`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as GlobalChild[];
}

/**
 * Every child runs exactly once: each node sees exactly the expected ids,
 * each running with one instance, all nodes agree where — and the nodes'
 * own counts of local children add up to the total (no hidden copy).
 */
async function backExactlyOnce(nodes: NodeProcess[]): Promise<boolean> {
  let where: string | undefined;
  for (const n of nodes) {
    const list = await children(n);
    if (list.length !== COUNT || list.some((c) => c.status !== 'running' || c.instances.length !== 1)) return false;
    const view = JSON.stringify(list.map((c) => `${c.id}@${c.node}`).sort());
    if (where !== undefined && view !== where) return false;
    where = view;
    if (JSON.stringify(list.map((c) => c.id).sort()) !== JSON.stringify([...ids].sort())) return false;
  }
  let local = 0;
  for (const n of nodes) local += (await n.status()).supervisor.local.active;
  return local === COUNT;
}

/** The node's saved file holds every live spec (and the pin), so a kill now loses nothing. */
function savedEverything(dir: string): boolean {
  try {
    const saved = decodeState(readFileSync(join(dir, STATE_FILE), 'utf8'));
    if (!('state' in saved)) return false;
    const reg = (id: string) => saved.state.registers[`c:${id}`] as ChildRegister | undefined;
    const live = Object.keys(saved.state.registers).filter((k) => k.startsWith('c:') && (reg(k.slice(2))?.specs.length ?? 0) > 0);
    return live.length === COUNT && reg('job-0')?.specs[0]?.pin?.node === 'n3' && reg('gone')?.specs.length === 0;
  } catch {
    return false;
  }
}

describe('durable desired state on real processes', () => {
  it('SIGKILL of all three members and a restart: every child started at run time is back exactly once', { timeout: 120_000 }, async () => {
    const c = new ProcessCluster();
    cluster = c;
    const dirs = { n1: join(c.dir, 'data-n1'), n2: join(c.dir, 'data-n2'), n3: join(c.dir, 'data-n3') };
    const n1 = await c.start('n1', [], [...FLAGS, '--data-dir', dirs.n1]);
    const n2 = await c.start('n2', [n1.address], [...FLAGS, '--data-dir', dirs.n2]);
    const n3 = await c.start('n3', [n1.address], [...FLAGS, '--data-dir', dirs.n3]);
    const first = [n1, n2, n3];

    // A second node on a data dir in use is refused (it would corrupt the file).
    await expect(c.start('n1-twin', [n1.address], [...FLAGS, '--data-dir', dirs.n1])).rejects.toThrow(
      new RegExp(`exited during start-up \\(code 2\\).*dataDir \\(${dirs.n1}\\): in use by process ${n1.pid}`, 's'),
    );

    const ctl = startControl(n1.address, c.secretFile);
    const started = await Promise.all(ids.map((id) => ctl.send('startChild', { id, start: { worker: 'ticker', args: { intervalMs: 60_000 } } })));
    expect(started.filter((r) => !r.ok)).toEqual([]);
    expect(await ctl.send('moveChild', 'job-0', 'n3')).toMatchObject({ ok: true });
    expect(await ctl.send('startChild', { id: 'gone', start: { worker: 'ticker', args: { intervalMs: 60_000 } } })).toMatchObject({ ok: true });
    expect(await ctl.send('terminateChild', 'gone')).toMatchObject({ ok: true });
    await c.until(() => backExactlyOnce(first), 20_000, `${COUNT} children running once`, 50);
    await c.until(async () => Object.values(dirs).every(savedEverything), 5_000, 'every member saved the desired state', 20);

    control?.kill('SIGKILL');
    for (const n of first) n.signal('SIGKILL');
    await Promise.all(first.map((n) => n.waitFor(() => n.exited, 5_000, 'exit after SIGKILL')));

    // The same ports (peers and seeds stay valid), the same data dirs; all three at once.
    const port = (n: NodeProcess) => n.address.slice(n.address.lastIndexOf(':') + 1);
    const t0 = performance.now();
    const again = await Promise.all(
      first.map((n) => {
        const seeds = first.filter((o) => o !== n).map((o) => o.address);
        return c.start(n.name, seeds, [...FLAGS, '--port', port(n), '--data-dir', dirs[n.name as keyof typeof dirs]]);
      }),
    );
    const listening = performance.now() - t0;
    await c.until(() => backExactlyOnce(again), 30_000, `${COUNT} children back exactly once`, 20);
    const took = performance.now() - t0;
    console.log(
      `durable restart: ${COUNT}/${COUNT} children back exactly once in ${took.toFixed(0)} ms from spawning the 3 ` +
        `SIGKILLed members again (${listening.toFixed(0)} ms of it until all three listened; poll resolution 20 ms)`,
    );
    expect(took).toBeLessThan(30_000);

    for (const n of again) {
      const restored = n.lines.find((l) => l.msg === 'restored the saved desired state');
      expect(restored).toMatchObject({ children: COUNT + 1 }); // the terminated child's tombstone too
      expect(n.lines.some((l) => l.level >= 50)).toBe(false); // no error logged
    }
    const list = await children(again[0]!);
    expect(list.find((x) => x.id === 'job-0')).toMatchObject({ node: 'n3', pin: 'n3' });
    expect(list.some((x) => x.id === 'gone')).toBe(false);
  });
});
