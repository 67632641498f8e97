#!/usr/bin/env node
/**
 * Two builds of `pogo ctl` side by side, against one running cluster: the
 * same call (`ctl ls --json` unless told otherwise) with each `pogo` bin in
 * turn, A B A B ..., so both meet the same load; medians of the wall time
 * (spawn to exit) and of the CPU (user + system, from /usr/bin/time).
 *
 *   node bench/tools/compare-ctl.mjs --before <old checkout>/core/bin/pogo.js \
 *     --after core/bin/pogo.js --seed 127.0.0.1:4001 --secret-file secret.txt \
 *     [--calls 20] [--without-extra-ca] [-- ctl status]
 *
 * `--without-extra-ca` runs the calls without NODE_EXTRA_CA_CERTS (which
 * costs every Node.js process its parse at start). Each call is bounded
 * (60 s, then SIGKILL by pid); a call that exits non-zero stops the run.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
/** @type {{ calls: number, seed: string[], noCa: boolean, command: string[], before?: string, after?: string, secretFile?: string }} */
const opts = { calls: 20, seed: [], noCa: false, command: ['ctl', 'ls'] };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  /** @returns {string} */
  const value = () => argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--before') opts.before = value();
  else if (a === '--after') opts.after = value();
  else if (a === '--seed') opts.seed.push(value());
  else if (a === '--secret-file') opts.secretFile = value();
  else if (a === '--calls') opts.calls = Number(value());
  else if (a === '--without-extra-ca') opts.noCa = true;
  else if (a === '--') {
    opts.command = argv.slice(i + 1);
    break;
  } else usage(`unknown argument ${a}`);
}
if (!opts.before || !opts.after || opts.seed.length === 0 || !opts.secretFile || !(opts.calls >= 1)) usage('give --before, --after, --seed and --secret-file');

/**
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  process.stderr.write(
    `compare-ctl: ${message}\nusage: node bench/tools/compare-ctl.mjs --before <bin> --after ` +
      `<bin> --seed host:port --secret-file file [--calls n] [--without-extra-ca] [-- ctl ls]\n`,
  );
  process.exit(2);
}

const TIME = '/usr/bin/time';
const env = { ...process.env };
if (opts.noCa) delete env.NODE_EXTRA_CA_CERTS;
const args = [...opts.command, ...opts.seed.flatMap((s) => ['--seed', s]), '--secret-file', /** @type {string} */ (opts.secretFile), '--json'];

/**
 * @typedef {{ ms: number, cpuMs: number | undefined, code: number | null, stderr: string }} Call
 */

/**
 * One call: wall ms, CPU ms (when /usr/bin/time exists), exit code.
 * @param {string} bin
 * @returns {Promise<Call>}
 */
function call(bin) {
  const cpu = existsSync(TIME);
  /** @type {[string, string[]]} */
  const [file, list] = cpu ? [TIME, ['-f', 'pogo-cpu %U %S', process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, list, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const m = /pogo-cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(stderr);
      resolve({ ms: performance.now() - t0, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined, code, stderr });
    });
  });
}

/** @param {readonly number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const load = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
/** @type {{ before: Call[], after: Call[] }} */
const runs = { before: [], after: [] };
/** @type {number[]} */
const loads = [];
/** @type {Array<'before' | 'after'>} */
const sides = ['before', 'after'];
for (let i = 0; i < opts.calls; i++) {
  for (const which of sides) {
    const r = await call(/** @type {string} */ (opts[which]));
    if (r.code !== 0) {
      process.stderr.write(`compare-ctl: ${which} exited ${r.code}: ${r.stderr.slice(0, 500)}\n`);
      process.exit(1);
    }
    runs[which].push(r);
  }
  loads.push(load());
}
for (const which of sides) {
  const rs = runs[which];
  const cpu = rs.map((r) => r.cpuMs).filter((x) => x !== undefined);
  process.stdout.write(
    `${which.padEnd(6)} ${opts.command.join(' ')}: wall median ` +
      `${median(rs.map((r) => r.ms)).toFixed(0)} ms (min ${Math.min(...rs.map((r) => r.ms)).toFixed(0)})` +
      (cpu.length > 0 ? `, CPU median ${median(cpu).toFixed(0)} ms (min ${Math.min(...cpu).toFixed(0)})` : '') +
      `, ${rs.length} calls\n`,
  );
}
process.stdout.write(
  `load average (1 min) during the run: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}${opts.noCa ? '; without NODE_EXTRA_CA_CERTS' : ''}\n`,
);
