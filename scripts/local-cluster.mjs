#!/usr/bin/env node
// @ts-check
/**
 * Starts a local cluster of `pogo node` processes on loopback (default 3)
 * with the cluster harness (pogo-core/testing's ProcessCluster), waits until
 * they form a full mesh, prints each node's status URL and the member table,
 * and stops every process it started, by pid, on Ctrl-C.
 *
 *   npm run cluster                 # 3 nodes on ports 4001-4003, status on 5001-5003
 *   npm run cluster -- --nodes 5    # 5 nodes
 *
 * Logs go to files in a temporary directory (printed at start; kept at exit).
 */
import { randomBytes } from 'node:crypto';
import { ProcessCluster, until } from '../core/dist/testing.js';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--nodes') + 1] ?? 3) || 3;
const basePort = Number(args[args.indexOf('--port') + 1] ?? 4001) || 4001;
const cluster = new ProcessCluster({
  prefix: 'pogo-cluster-',
  secret: randomBytes(32).toString('base64'),
  status: true,
  logFiles: true,
  startTimeoutMs: 15_000,
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await cluster.close({ graceMs: 5000, keep: true });
  console.log(`logs and the cluster secret are kept in ${cluster.dir}; remove it when you no longer need them`);
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
console.log(`starting ${count} nodes; logs and secret in ${cluster.dir}`);
const seed = `127.0.0.1:${basePort}`;
try {
  const nodes = await Promise.all(
    names.map((name, i) => cluster.start(name, i === 0 ? [] : [seed], [], { port: basePort + i, statusPort: basePort + i + 1000 })),
  );
  for (const node of nodes) {
    void node.closed.then(({ code, signal }) => {
      if (!stopping) console.log(`${node.name} exited (code ${code}, signal ${signal}); see ${cluster.dir}`);
    });
  }
  await until(
    async () => (await Promise.all(nodes.map((n) => n.status()))).every((s) => s.members.filter((m) => m.status === 'up').length === count),
    15_000,
    'a full mesh',
    200,
  );
  console.log(`full mesh formed. Status endpoints:`);
  for (const { name, statusUrl } of nodes) console.log(`  ${name}: ${statusUrl}/status   (npx pogo status --url ${statusUrl})`);
  console.log('\nPress Ctrl-C to stop every node.');
} catch (err) {
  console.error(`the cluster did not form: ${err instanceof Error ? err.message : String(err)}\n${cluster.logTails(4)}`);
  await stop(1);
}
setInterval(() => {}, 1 << 30);
