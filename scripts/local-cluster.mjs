#!/usr/bin/env node
/**
 * Starts a local cluster of `pogo node` processes on loopback (default 3),
 * waits until they form a full mesh, prints each node's status URL and the
 * member table, and stops every process it started on Ctrl-C.
 *
 *   npm run cluster                 # 3 nodes on ports 4001-4003, status on 5001-5003
 *   npm run cluster -- --nodes 5    # 5 nodes
 *
 * Logs go to files in a temporary directory (printed at start).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--nodes') + 1] ?? 3) || 3;
const basePort = Number(args[args.indexOf('--port') + 1] ?? 4001) || 4001;
const cli = fileURLToPath(new URL('../core/bin/pogo.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pogo-cluster-'));
const secretFile = join(dir, 'secret.txt');
writeFileSync(secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });

const children = [];
for (let i = 1; i <= count; i++) {
  const port = basePort + i - 1;
  const statusPort = port + 1000;
  const seeds = i === 1 ? [] : ['--seeds', `127.0.0.1:${basePort}`];
  const log = createWriteStream(join(dir, `n${i}.log`));
  const child = spawn(process.execPath, [cli, 'node', '--name', `n${i}`, '--port', String(port), '--status-port', String(statusPort), '--secret-file', secretFile, ...seeds], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  child.on('exit', (code, signal) => {
    if (!stopping) console.log(`n${i} exited (code ${code}, signal ${signal}); see ${join(dir, `n${i}.log`)}`);
  });
  children.push({ name: `n${i}`, child, statusUrl: `http://127.0.0.1:${statusPort}` });
}
console.log(`started ${count} nodes; logs and secret in ${dir}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping...');
  await Promise.all(children.map(({ child }) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  })));
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const deadline = Date.now() + 15000;
for (;;) {
  const views = await Promise.all(children.map(async ({ statusUrl }) => {
    try {
      const res = await fetch(`${statusUrl}/status`);
      return await res.json();
    } catch {
      return undefined;
    }
  }));
  if (views.every((v) => v && v.members.filter((m) => m.status === 'up').length === count)) {
    console.log(`full mesh formed. Status endpoints:`);
    for (const { name, statusUrl } of children) console.log(`  ${name}: ${statusUrl}/status   (npx pogo status --url ${statusUrl})`);
    console.log('\nPress Ctrl-C to stop every node.');
    break;
  }
  if (Date.now() > deadline) {
    console.error('the cluster did not form within 15 s; see the logs above');
    await stop();
  }
  await new Promise((r) => setTimeout(r, 200));
}
setInterval(() => {}, 1 << 30);
