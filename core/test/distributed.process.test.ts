/**
 * The distributed supervisor on real `pogo node` processes: 300 children
 * from a children file; SIGKILL a node and every child runs again on the
 * survivors; drain a node and its children move off, nothing new lands there;
 * a node restarted into 1,200 children (its syncs come in parts, deltas in
 * batches) gets every register and its share back.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeProcess } from './support/processes.js';
import { EXIT_WITH_PARENT, ProcessCluster, writeJson } from './support/processes.js';

let cluster: ProcessCluster;
let control: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (control && control.exitCode === null) control.kill('SIGKILL');
  control = undefined;
  await cluster.stopAll();
});

const COUNT = 300;
const specsOf = (count: number) => Array.from({ length: count }, (_, i) => ({ id: `job-${i}`, start: { worker: 'ticker', args: { intervalMs: 60_000 } } }));

async function localCounts(nodes: NodeProcess[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of nodes) out[n.name] = (await n.status()).supervisor.local.active;
  return out;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Every node is ready, every child runs exactly once (the nodes' local counts add up), and each node sees all of them running on their owners. */
async function allRunning(nodes: NodeProcess[], count = COUNT): Promise<boolean> {
  const counts = await localCounts(nodes);
  if (sum(counts) !== count) return false;
  for (const n of nodes) {
    const status = await n.status();
    if (!status.supervisor.ready || status.members.some((m) => m.role === 'member' && m.status === 'up' && m.ready !== true)) return false;
    const c = status.supervisor.cluster;
    if (c.specs !== count || c.running !== count) return false;
  }
  return true;
}

let flags: string[] = [];

async function startCluster(count = COUNT): Promise<NodeProcess[]> {
  cluster = new ProcessCluster();
  const file = writeJson(cluster.dir, 'children.json', specsOf(count));
  flags = ['--workers', 'examples', '--children', file, '--heartbeat-interval-ms', '200', '--suspect-after-ms', '600', '--heartbeat-timeout-ms', '1500'];
  const n1 = await cluster.start('n1', [], flags);
  const n2 = await cluster.start('n2', [n1.address], flags);
  const n3 = await cluster.start('n3', [n1.address], flags);
  const nodes = [n1, n2, n3];
  await cluster.until(() => allRunning(nodes, count), 30_000, `${count} children running once`, 50);
  return nodes;
}

function startControl(seed: string): { send: (op: string, ...args: unknown[]) => Promise<{ ok: boolean; result?: unknown; code?: string }> } {
  const fixture = fileURLToPath(new URL('./fixtures/control-node.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, fixture, seed, cluster.secretFile], { stdio: ['pipe', 'pipe', 'pipe'] });
  control = child;
  const lines = createInterface({ input: child.stdout });
  const pending: Array<(v: { ok: boolean; result?: unknown; code?: string }) => void> = [];
  lines.on('line', (line) => {
    const msg = JSON.parse(line) as { ok?: boolean };
    if ('ok' in msg) pending.shift()?.(msg as { ok: boolean });
  });
  return {
    send: (op, ...args) =>
      new Promise((resolve) => {
        pending.push(resolve);
        child.stdin.write(`${JSON.stringify({ op, args })}\n`);
      }),
  };
}

describe('distributed supervisor on real processes', () => {
  it('SIGKILL of a node: all 300 children run again on the survivors', async () => {
    const nodes = await startCluster();
    const before = await localCounts(nodes);
    expect(Object.values(before).every((c) => c > 50)).toBe(true);
    const victim = nodes.reduce((a, b) => (before[a.name]! >= before[b.name]! ? a : b));
    const survivors = nodes.filter((n) => n !== victim);
    victim.signal('SIGKILL');
    const took = await cluster.until(() => allRunning(survivors), 15_000, 'every child runs again on the survivors', 10);
    console.log(
      `failover: ${before[victim.name]} children of ${victim.name} running again on the survivors within ${took.toFixed(0)} ms (poll resolution 10 ms)`,
    );
    // By the survivors' own local supervisors, not the cluster's report: every child once, the victim's among them.
    const after = await localCounts(survivors);
    expect(sum(after)).toBe(COUNT);
  });

  it('a node killed and started again into 1,200 children gets every register and its share back', async () => {
    const COUNT_BIG = 1_200;
    const [n1, n2, n3] = (await startCluster(COUNT_BIG)) as [NodeProcess, NodeProcess, NodeProcess];
    n2.signal('SIGKILL');
    await cluster.until(() => allRunning([n1, n3], COUNT_BIG), 20_000, 'the survivors run every child', 50);
    // The new n2 gets each peer's 2,400-odd groups as a sync in parts of 500, and mirrors every register back.
    const again = await cluster.start('n2', [n1.address], flags);
    await cluster.until(
      async () => (await allRunning([n1, again, n3], COUNT_BIG)) && (await localCounts([again]))['n2']! > COUNT_BIG / 6,
      30_000,
      'n2 back with its share of children',
      50,
    );
    expect((await again.status()).supervisor.cluster.specs).toBe(COUNT_BIG);
  });

  it('drain: a drained node runs nothing and gets nothing new', async () => {
    const nodes = await startCluster();
    const [n1, n2] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    const ctl = startControl(n1.address);
    expect(await ctl.send('drain', 'n2')).toMatchObject({ ok: true });
    await cluster.until(async () => (await localCounts([n2]))['n2'] === 0 && (await allRunning(nodes)), 15_000, 'n2 drained', 50);
    expect((await n1.status()).supervisor.draining).toEqual(['n2']);
    for (let i = 0; i < 20; i++) {
      const r = await ctl.send('startChild', { id: `late-${i}`, start: { worker: 'ticker', args: { intervalMs: 60_000 } } });
      expect(r.ok).toBe(true);
      expect((r.result as { node: string }).node).not.toBe('n2');
    }
    expect((await localCounts([n2]))['n2']).toBe(0);
    const unknown = await ctl.send('drain', 'n9');
    expect(unknown).toMatchObject({ ok: false, code: 'unknown-node' });
  });
});
