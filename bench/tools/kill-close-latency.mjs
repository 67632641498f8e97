#!/usr/bin/env node
/**
 * How long the kernel takes to close a SIGKILLed process's sockets, by the
 * size of its memory: the part of a failover no node can shorten.
 *
 *   node bench/tools/kill-close-latency.mjs [--mib 0,150] [--repeats 3]
 *
 * A survivor learns that a member was killed when the member's TCP
 * connection closes. The kernel closes a dying process's files only after
 * it has unmapped its memory (do_exit: exit_mm before exit_files), so the
 * bigger the victim's resident set, the later its peers hear of its death.
 * For each size this starts a plain `node` process holding that many MiB
 * (buffers plus small objects, as a heap holds them), connected over
 * loopback to a server here, SIGKILLs it and times the server's 'close'.
 * Measured on the benchmark machine (2 cores, 2026-12-04): a 42 MiB process
 * closes 5-8 ms after the kill, a 280 MiB one 25-43 ms after it; the
 * failover scenario's "first child started on a survivor" figure (about
 * 30 ms with 1,000 children on the victim) is mostly this.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** @param {string} name @param {string} fallback */
const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? /** @type {string} */ (process.argv[i + 1]) : fallback;
};
const sizes = opt('mib', '0,150').split(',').map(Number);
const repeats = Number(opt('repeats', '3'));

const server = net.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const port = /** @type {net.AddressInfo} */ (server.address()).port;
try {
  for (const mib of sizes) {
    const code =
      `const keep = []; for (let i = 0; i < ${mib}; i++) keep.push(Buffer.alloc(1 << 20, 1));` +
      `for (let i = 0; i < ${mib} * 5000; i++) keep.push({ i, s: 'x' + i });` +
      `require('node:net').connect(${port}, '127.0.0.1', () => setTimeout(() => process.stdout.write('ready\\n'), 500));` +
      `setInterval(() => keep.length, 1 << 30);`;
    for (let r = 0; r < repeats; r++) {
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const socket = /** @type {net.Socket} */ (await new Promise((resolve) => server.once('connection', resolve)));
        socket.on('error', () => {});
        await new Promise((resolve) => child.stdout.once('data', resolve));
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
        const closed = new Promise((resolve) => socket.once('close', resolve));
        const t0 = performance.now();
        child.kill('SIGKILL');
        await closed;
        process.stdout.write(`resident ${rss.toFixed(0)} MiB: connection closed ${(performance.now() - t0).toFixed(2)} ms after SIGKILL\n`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    }
  }
} finally {
  server.close();
}
