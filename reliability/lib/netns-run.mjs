/**
 * The scaffolding of a reproduction on real processes in network namespaces
 * (the repro-*.mjs scripts): its log directory, its namespaces
 * (NetnsLayout), `pogo` processes started inside them, each with its output
 * in a log file of its own, and one cleanup that stops every process by pid
 * and deletes every namespace — also on Ctrl-C. `tickers` writes the cluster
 * secret and the twelve idle children such a run starts its members with.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLayout } from './netns.mjs';

const POGO = join(dirname(fileURLToPath(import.meta.url)), '../../core/bin/pogo.js');

/**
 * A run: `out` (given, or a new directory under the system temp dir named
 * after `label`), the namespaces `prefix`-* for `names` (not created yet:
 * `layout.create()`), `run(ns, log, args)` to start `pogo <args>` in
 * namespace `ns` with its output in `<out>/<log>.log`, and `cleanup()`.
 * @param {{ prefix: string, names: readonly string[], out: string, label: string }} o
 */
export function netnsRun(o) {
  const out = o.out || mkdtempSync(join(tmpdir(), `pogo-reliability-${o.label}-`));
  mkdirSync(out, { recursive: true });
  const layout = new NetnsLayout(o.prefix, [...o.names]);
  /** @type {import('node:child_process').ChildProcess[]} */
  const procs = [];
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const p of procs) if (p.pid !== undefined && p.exitCode === null) p.kill('SIGKILL');
    layout.destroy();
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  /** @param {string} ns @param {string} log @param {string[]} args */
  const run = (ns, log, args) => {
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, POGO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(join(out, `${log}.log`));
    p.stdout.pipe(file);
    p.stderr.pipe(file);
    procs.push(p);
    return p;
  };
  return { out, layout, procs, run, cleanup };
}

/**
 * Writes `<out>/secret.txt` (holding `secret`) and `<out>/children.json`:
 * twelve idle children w-01..w-12 (the example `ticker` worker, one line an
 * hour), for `--secret-file` and `--children`.
 * @param {string} out @param {string} secret
 */
export function tickers(out, secret) {
  writeFileSync(join(out, 'secret.txt'), secret, { mode: 0o600 });
  const specs = Array.from({ length: 12 }, (_, i) => ({
    id: `w-${String(i + 1).padStart(2, '0')}`,
    start: { worker: 'ticker', args: { intervalMs: 3_600_000, message: 't' } },
  }));
  writeFileSync(join(out, 'children.json'), JSON.stringify(specs));
}
