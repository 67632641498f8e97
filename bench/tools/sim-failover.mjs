#!/usr/bin/env node
/**
 * The survivors' side of a failover, in simulation: 3 PogoNodes (and an
 * observer) in this process on the in-memory transport with a manual clock,
 * N children; one member crashes, and the run lasts until every member sees
 * every child running once. Reports this process's CPU time for that (all
 * survivors and the observer together: processing is all this process does)
 * and each node's reconciles and link frames, over several crashes (the
 * victim rotates and comes back between them).
 *
 *   node bench/tools/sim-failover.mjs [children=3000] [repeats=5]
 *
 * No sockets (so no Socket.IO cost), but every other line of the survivors'
 * path runs: a code change shows here as CPU milliseconds with far less noise
 * than wall time on a loaded machine. Needs the built core (npm run build -w pogo-core).
 * SIM_PROFILE=<file.cpuprofile>: one CPU profile of the crash windows only
 * (read it with bench/tools/cpuprofile-top.mjs).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PogoNode, WorkerRegistry, createNodeConfig } from '../../core/dist/index.js';
import { ManualClock, MemoryNetwork, SeededRandom, silentLogger } from '../../core/dist/testing.js';

const C = Number(process.argv[2] ?? 3000);
const repeats = Number(process.argv[3] ?? 5);
const SECRET = 'simulation-secret-0123456789';
/** @param {string} name */
const address = (name) => `${name}:4370`;
/** @returns {Promise<void>} */
const flush = () => new Promise((resolve) => setImmediate(resolve));
const clock = new ManualClock(1_700_000_000_000);
const random = new SeededRandom(7);
const network = new MemoryNetwork({ clock, random, latencyMs: 1, jitterMs: 0, connectTimeoutMs: 500 });
const workers = new WorkerRegistry();
workers.define('idle', () => ({ stop() {} }));
/** @type {Map<string, number>} */
const frames = new Map();
network.tap = (/** @type {string} */ from, /** @type {string} */ _to, /** @type {any} */ frame) =>
  frames.set(from, (frames.get(from) ?? 0) + (frame?.t === 'batch' ? frame.frames.length : 1));
/** @type {Map<string, PogoNode>} */
const nodes = new Map();
/**
 * The node started as `name`.
 * @param {string} name
 */
const node = (name) => /** @type {PogoNode} */ (nodes.get(name));

/** @param {string} name @param {string[]} seeds @param {'member' | 'observer'} [role] */
async function start(name, seeds, role = 'member') {
  const started = await PogoNode.start(
    createNodeConfig({ name, secret: SECRET, seeds: seeds.map(address), role, maxMovesPerSecond: 1_000_000, requestTimeoutMs: 3_600_000 }),
    { clock, random, log: silentLogger, transport: network.transport(address(name)), workers },
  );
  nodes.set(name, started);
  return started;
}
/** @param {number} ms */
async function run(ms) {
  const target = clock.now() + ms;
  await flush();
  while (clock.step(target)) await flush();
}
/**
 * @param {() => boolean} predicate
 * @param {string} what
 * @param {number} [maxMs]
 */
async function until(predicate, what, maxMs = 60_000) {
  const t0 = clock.now();
  await flush();
  while (!predicate()) {
    if (clock.now() - t0 > maxMs) throw new Error(`${what}: not within ${maxMs} ms simulated`);
    await run(1);
  }
  return clock.now() - t0;
}
const members = ['s1', 's2', 's3'];
const live = () => members.filter((n) => nodes.get(n)?.running);
const localRunning = () => live().reduce((s, n) => s + node(n).local.countChildren().active, 0);
const meshed = () =>
  live().every(
    (n) =>
      node(n)
        .upMembers()
        .filter((m) => members.includes(m)).length === live().length && node(n).supervisor.isReady,
  );
const seesAll = () =>
  [...live(), 'obs'].every((n) => {
    const c = node(n).supervisor.countChildren();
    return c.running === C && c.specs === C;
  });
// Cheap (the check runs every simulated millisecond and counts in the CPU figure): every node holds a
// `run:` entry of a live node for every child, and none of a dead one.
const seesAllRuns = () => {
  const alive = new Set(live());
  return [...live(), 'obs'].every((n) => {
    const g = node(n).groups;
    let runs = 0;
    for (const name of g.groupNames('pogo')) {
      if (!name.startsWith('run:')) continue;
      const ms = g.getMembers('pogo', name);
      if (ms.length !== 1 || !alive.has(ms[0].node)) return false;
      runs++;
    }
    return runs === C;
  });
};

for (const [i, n] of members.entries()) {
  await start(n, i === 0 ? [] : ['s1']);
  await until(meshed, `${n} meshed`);
}
await start('obs', ['s1'], 'observer');
await until(() => node('obs').upMembers().length === 4, 'observer linked');
const s1 = node('s1');
for (let i = 0; i < C; i++)
  s1.supervisor.startChild({ id: `c${i}`, start: { worker: 'idle' } }).catch((/** @type {Error} */ err) => console.error(`c${i}: ${err.message}`));
await until(() => localRunning() === C && seesAll(), 'all running');
await run(2000);

/** @param {string} n */
const reconciles = (n) => {
  const st = node(n).supervisor['reconciler'].stats;
  return [st.reconciles, st.urgent ?? 0, st.dirty ?? 0, st.swept ?? 0];
};
/** @type {Array<{ cpuUntilStartedMs: number, cpuUntilSeenMs: number }>} */
const results = [];
const profileFile = process.env.SIM_PROFILE;
const session = profileFile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
}
/** @type {import('node:inspector').Profiler.Profile[]} */
const samples = [];
for (let r = 0; r < repeats; r++) {
  const victim = /** @type {string} */ (members[(r + 1) % 3]);
  const survivors = live().filter((n) => n !== victim);
  const had = node(victim).local.countChildren().active;
  const rec0 = new Map(survivors.map((n) => [n, reconciles(n)]));
  frames.clear();
  if (global.gc) global.gc();
  if (session) await session.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  network.crash(address(victim));
  node(victim).kill();
  const simMs = await until(() => localRunning() === C, 'orphans started');
  const cpuStarted = process.cpuUsage(cpu0);
  // ...and every node has reconciled what it heard (no dirty id, no sweep left): the whole failover's work.
  const idle = () =>
    [...live(), 'obs'].every((n) => {
      const r = node(n).supervisor['reconciler'];
      return r.dirty.size === 0 && r.urgent.size === 0 && r.sweep.length === 0;
    });
  await until(() => seesAllRuns() && idle(), 'everyone sees all');
  const cpu = process.cpuUsage(cpu0);
  if (session) samples.push((await session.post('Profiler.stop')).profile);
  /** @param {NodeJS.CpuUsage} u */
  const ms = (u) => (u.user + u.system) / 1000;
  const line = {
    victim,
    had,
    simMs,
    cpuUntilStartedMs: ms(cpuStarted),
    cpuUntilSeenMs: ms(cpu),
    reconciles: Object.fromEntries(
      survivors.map((n) => [
        n,
        reconciles(n)
          .map((v, i) => v - /** @type {number[]} */ (rec0.get(n))[i])
          .join('/'),
      ]),
    ),
    frames: Object.fromEntries(frames),
  };
  results.push(line);
  console.log(JSON.stringify(line));
  nodes.delete(victim);
  await start(victim, [address('s1') === address(victim) ? 's3' : 's1']);
  await until(() => meshed() && live().length === 3 && localRunning() === C && seesAll(), `${victim} back`, 120_000);
  await run(2000);
}
if (session) {
  // The windows' profiles as one: samples of the later ones appended to the first (same node ids only when the tree matches, so keep each apart).
  const file = /** @type {string} */ (profileFile);
  writeFileSync(file, JSON.stringify(samples.at(-1)));
  for (const [i, p] of samples.entries()) writeFileSync(file.replace(/\.cpuprofile$/, `-${i + 1}.cpuprofile`), JSON.stringify(p));
}
/** @param {number[]} xs */
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `median CPU until the orphans run ${med(results.map((x) => x.cpuUntilStartedMs)).toFixed(0)} ms, until every ` +
    `node sees it ${med(results.map((x) => x.cpuUntilSeenMs)).toFixed(0)} ms (${C} children, ${repeats} crashes)`,
);
for (const n of nodes.values()) if (n.running) n.kill();
process.exit(0);
