/**
 * A larger real cluster for e2e specs than `pogo demo` gives: `nodes`
 * `pogo node` processes (default timing preset) that run `children`
 * example children (tickers, and `counters` counters that join a process
 * group) from a children file, then `pogo observe --ui` (the observer and
 * its gateway serving the built renderer), each a process of its own, as an
 * operator would start them.
 *
 * The processes are the cluster harness's (pogo-core/testing). Start-up
 * goes node by node (the first is the seed of the others), the harness
 * reading each node's "node started" log line for its address, then the
 * gateway's "gateway listening" line for the URL. `stop` sends SIGTERM to
 * every process it started, waits for each (bounded), SIGKILLs any left, by
 * pid, and removes the directory. A failure while starting stops what was
 * started.
 *
 * `ctl` asks the cluster itself (`pogo ctl --json`), so specs check what the
 * cluster did, not what the UI shows.
 */
import { randomBytes } from 'node:crypto';
import { ProcessCluster, spawnPogo, type PogoProcess } from 'pogo-core/testing';
import { ctlFor, type Demo, type DemoNode } from './demo.js';
import { repoRoot } from './paths.js';

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

/**
 * `children` in all: `counters` of them (`counter-1`…) the example counter, which joins the process group
 * `counter` of scope `examples`; the rest (`w-0001`…) tickers.
 */
export async function startCluster(options: { nodes: number; children: number; counters?: number; startTimeoutMs?: number }): Promise<Cluster> {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const cluster = new ProcessCluster({
    prefix: 'pogo-e2e-',
    secret: randomBytes(24).toString('base64url'),
    dropPogoEnv: true,
    keepLines: 50,
    cwd: repoRoot,
    startTimeoutMs: timeoutMs,
  });
  const dir = cluster.dir;
  const operatorToken = randomBytes(18).toString('base64url');
  const viewerToken = randomBytes(18).toString('base64url');
  const operatorFile = cluster.writeSecret('operator.txt', operatorToken);
  const viewerFile = cluster.writeSecret('viewer.txt', viewerToken);
  const width = String(options.children).length;
  const counters = options.counters ?? 0;
  const specs = [
    ...Array.from({ length: options.children - counters }, (_, i) => ({
      id: `w-${String(i + 1).padStart(width, '0')}`,
      start: { worker: 'ticker', args: { intervalMs: 3_600_000, message: 'tick' } },
    })),
    ...Array.from({ length: counters }, (_, i) => ({ id: `counter-${i + 1}`, start: { worker: 'counter', args: { intervalMs: 5_000 } } })),
  ];
  const childrenFile = cluster.writeJson('children.json', specs);

  const nodes: DemoNode[] = [];
  let observer: PogoProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([observer?.stop(10_000), cluster.close({ graceMs: 10_000 })]);
    })());

  try {
    let seed: string | undefined;
    for (let i = 1; i <= options.nodes; i++) {
      const name = `node-${i}`;
      const node = await cluster.start(name, seed === undefined ? [] : [seed], [
        '--operator-token-file',
        operatorFile,
        '--viewer-token-file',
        viewerFile,
        '--workers',
        'examples',
        '--children',
        childrenFile,
      ]);
      seed ??= node.address;
      nodes.push({ name, pid: node.pid, address: node.address });
    }
    observer = spawnPogo(
      'pogo observe',
      ['observe', '--ui', '--port', '0', '--name', 'e2e-observer', '--secret-file', cluster.secretFile, ...nodes.flatMap((n) => ['--seed', n.address])],
      { dropPogoEnv: true, keepLines: 50, cwd: repoRoot },
    );
    await observer.started(timeoutMs, { gateway: true });
    return { url: observer.gatewayUrl, operatorToken, viewerToken, dir, nodes, observerPid: observer.pid, ctl: ctlFor(dir, nodes), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
