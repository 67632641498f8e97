/**
 * The scaffolding of a reproduction on real processes in network namespaces
 * (the repro-*.mjs scripts): its flags and whether it can run here
 * (`reproStart`), its log directory, its namespaces (NetnsLayout), `pogo`
 * processes started inside them, each with its output in a log file of its
 * own — members (`memberArgs`) and the observer with its gateway (`observe`)
 * — and one cleanup that stops every process by pid and deletes every
 * namespace, also on Ctrl-C. `tickers` writes the cluster secret and the
 * twelve idle children such a run starts its members with.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetnsLayout, probe } from './netns.mjs';
import { helpText, parseFlags } from './options.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const POGO = join(ROOT, 'core/bin/pogo.js');

/**
 * The start of a reproduction's `main`: its flags (options.mjs), `--help`,
 * and whether network namespaces are usable here. The flags, or the exit
 * code to end with at once: 0 after the help, 2 when the machine cannot run
 * it. `script` is its path from the repository root, for the usage line.
 * @template {import('./types.js').FlagSpec} S
 * @param {string} script @param {S} spec
 * @returns {(import('./types.js').Flags<S> & { help?: boolean }) | number}
 */
export function reproStart(script, spec) {
  const flags = parseFlags(process.argv.slice(2), spec);
  if (flags.help) {
    console.log(`usage: node ${script} [flags]\n${helpText(spec)}`);
    return 0;
  }
  const can = probe();
  if (!can.ok) {
    console.error(`cannot run: ${can.reason}`);
    return 2;
  }
  return flags;
}

/**
 * A run: `out` (given, or a new directory under the system temp dir named
 * after `label`), the namespaces `prefix`-* for `names` (not created yet:
 * `layout.create()`), `run(ns, log, args)` to start `pogo <args>` in
 * namespace `ns` with its output in `<out>/<log>.log`, and `cleanup()`.
 * Member `n` listens on `basePort` + 1 + its index (`address`), the
 * observer's gateway on `basePort` + 10.
 * @param {{ prefix: string, names: readonly string[], out: string, label: string, basePort: number }} o
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
  /** Where member `n` listens. @param {string} n */
  const address = (n) => `${layout.host(n)}:${o.basePort + 1 + o.names.indexOf(n)}`;
  /**
   * `pogo node` arguments of member `n` (run with `tickers` written): its name, host and port, the secret, every other
   * member as a seed, the example workers and the tickers as its children; `extra` after them.
   * @param {string} n @param {readonly string[]} [extra]
   */
  const memberArgs = (n, extra = []) => [
    'node',
    ...['--name', n, '--host', layout.host(n), '--port', String(o.basePort + 1 + o.names.indexOf(n))],
    ...[
      '--secret-file',
      join(out, 'secret.txt'),
      '--seeds',
      o.names
        .filter((x) => x !== n)
        .map(address)
        .join(','),
    ],
    ...['--workers', 'examples', '--children', join(out, 'children.json'), '--log-level', 'info'],
    ...extra,
  ];
  /**
   * Starts `pogo observe` in the hub with the built app (`out/renderer`), seeded with `seeds` (member names);
   * `url()` is where its gateway listens, once its log said so.
   * @param {readonly string[]} seeds
   */
  const observe = (seeds) => {
    let url = '';
    const proc = run(layout.hub, 'observer', [
      'observe',
      ...['--ui', join(ROOT, 'out/renderer'), '--port', String(o.basePort + 10), '--name', 'repro-observer'],
      ...['--secret-file', join(out, 'secret.txt'), ...seeds.flatMap((n) => ['--seed', address(n)]), '--log-level', 'info'],
    ]);
    proc.stdout?.on('data', (/** @type {Buffer} */ d) => {
      for (const line of String(d).split('\n')) {
        try {
          const j = /** @type {{ msg?: string, url?: string }} */ (JSON.parse(line));
          if (j.msg === 'gateway listening' && j.url) url = j.url;
        } catch {
          // not a log line
        }
      }
    });
    return {
      proc,
      url() {
        if (!url) throw new Error('the gateway did not say where it listens (see observer.log)');
        return url;
      },
    };
  };
  return { out, layout, procs, run, cleanup, address, memberArgs, observe };
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
