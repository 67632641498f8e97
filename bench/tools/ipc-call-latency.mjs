/**
 * Calls to OS-process children over `ipc` on this machine, through the
 * LocalSupervisor's channel (no network, no cluster): the cost of the
 * transport and of the child's own language, not of routing.
 *
 *   node bench/tools/ipc-call-latency.mjs [--calls 2000] [--burst 20000] [--inflight 100]
 *
 * For each child kind (the test fixtures in core/test/fixtures/ipc/): the
 * latency of `--calls` sequential calls (p50, p99, max), then `--burst`
 * calls with `--inflight` outstanding at once (calls/s). Runs against the
 * built core (core/dist). Stops every child it started, by pid.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CryptoRandom, LocalSupervisor, ProcessGroups, SystemClock, WorkerRegistry } from '../../core/dist/index.js';
import { silentLogger } from '../../core/dist/testing.js';
import { resolveExecutable } from '../../core/dist/supervisor/os-child.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '2000' }, burst: { type: 'string', default: '20000' }, inflight: { type: 'string', default: '100' } },
});
const CALLS = Number(values.calls);
const BURST = Number(values.burst);
const INFLIGHT = Number(values.inflight);
const FIX = fileURLToPath(new URL('../../core/test/fixtures/ipc/', import.meta.url));
const BASH = resolveExecutable('bash', undefined);
const PYTHON = resolveExecutable('python3', undefined);
const kinds = [
  { name: "node, Node's IPC", command: process.execPath, args: [`${FIX}answer.mjs`], ipc: 'node' },
  { name: 'node, json-lines', command: process.execPath, args: [`${FIX}answer.mjs`], ipc: 'json-lines' },
  ...(PYTHON ? [{ name: 'python3, json-lines', command: PYTHON, args: [`${FIX}answer.py`], ipc: 'json-lines' }] : []),
  ...(BASH ? [{ name: 'bash, json-lines', command: BASH, args: [`${FIX}answer.sh`], ipc: 'json-lines' }] : []),
];
if (!existsSync(FIX)) throw new Error(`fixtures not found at ${FIX}`);

let n = 0;
const sup = new LocalSupervisor({
  node: 'bench',
  clock: new SystemClock(),
  random: new CryptoRandom(),
  log: silentLogger,
  groups: new ProcessGroups({ node: 'bench', incarnation: '0123456789abcdef', channel: { send() {} }, log: silentLogger }),
  workers: new WorkerRegistry(),
  allowCommands: kinds.map((k) => k.command),
  newPid: () => `bench/0123456789abcdef/c${++n}`,
});

/**
 * @param {number[]} sorted
 * @param {number} p
 */
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
/** @param {number} x */
const ms = (x) => x.toFixed(3);
console.log(`| child | sequential calls | p50 ms | p99 ms | max ms | burst calls (${INFLIGHT} in flight) | calls/s |`);
console.log('|---|---|---|---|---|---|---|');
try {
  for (const kind of kinds) {
    const id = kind.name.replace(/\W+/g, '-');
    await sup.startChild({ id, start: { command: kind.command, args: kind.args, ipc: kind.ipc }, shutdown: 2000 });
    const channel = /** @type {import('../../core/dist/index.js').ChildChannel} */ (sup.channelOf(id));
    await channel.call('ping', 30_000); // warm up: the child is up and reading
    /** @type {number[]} */
    const times = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await channel.call({ i }, 30_000);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    let sent = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (sent < BURST) {
          sent++;
          await channel.call({ i: sent }, 60_000);
        }
      }),
    );
    const rate = BURST / ((performance.now() - t0) / 1000);
    const max = /** @type {number} */ (times.at(-1));
    console.log(`| ${kind.name} | ${CALLS} | ${ms(pct(times, 50))} | ${ms(pct(times, 99))} | ${ms(max)} | ${BURST} | ${Math.round(rate)} |`);
    await sup.terminateChild(id);
  }
} finally {
  await sup.stopAll();
}
