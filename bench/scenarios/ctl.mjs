/**
 * Scenario 7, pogo ctl: what a script pays per call (issue 15).
 *
 * Each call is the real CLI as installed, `node core/bin/pogo.js ctl ...`
 * (the `pogo` bin: the CLI's bundle, core/rolldown.config.mjs), spawned by
 * the runner and timed from spawn to exit (wall time: what a script
 * waits). Against 3 `pogo node` processes (lan preset, an operator token):
 *
 * - `ctl start` of N specs from one file (a JSON array), with the operator
 *   token: every spec accepted, with its state. On a fresh cluster each
 *   repeat. Then the observer (in the runner) times until all N run once.
 * - `ctl ls` with those N children, `calls` times in a row (median).
 * - Where a call's time goes, medians of `calls` runs each: Node.js itself
 *   starting (`node -e ""`), the CLI's parser (`--version`), ctl's code
 *   loaded and its arguments checked (`ctl ls` without --seed: a usage
 *   error, no link), and a whole `ctl status` (the link, the handshake, one
 *   small read).
 * - The CPU of one `ctl ls` (user + system, from /usr/bin/time when the
 *   machine has it): the issue measured 0.8 s for the observer-node ctl.
 * - When NODE_EXTRA_CA_CERTS is set (this development machine's sandbox
 *   sets it to the system's whole CA bundle, which every Node.js process
 *   then reads and parses at start: 70-100 ms of CPU here), `node -e ""` and
 *   `ctl ls` once more without it, so that what Node.js pays for the
 *   environment is told apart from what pogo pays.
 *
 * Nothing is asserted: the targets are judged on medians in the summary.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from '../lib/harness.mjs';
import { NODE_FLAGS, names } from './common.mjs';

const MAIN = fileURLToPath(new URL('../../core/bin/pogo.js', import.meta.url));
const TIME = '/usr/bin/time';
const TOKEN = 'bench-operator-token-0123456789';

export const title = 'pogo ctl';
export const description = "Wall time of pogo ctl calls: ls with 1,000 children, start of 1,000 specs from one file, and where a call's time goes.";

/**
 * Runs one process to its end (bounded: SIGKILL by pid after `boundMs`);
 * resolves with its wall time, exit code and output; with `cpu`, through
 * /usr/bin/time, also its user + system CPU in ms.
 * @param {string[]} args
 * @param {{ boundMs?: number, cpu?: boolean, env?: NodeJS.ProcessEnv }} [options]
 * @returns {Promise<{ ms: number, code: number | null, stdout: string, stderr: string, cpuMs: number | undefined }>}
 */
function timed(args, { boundMs = 60_000, cpu = false, env = process.env } = {}) {
  /** @type {[string, string[]]} */
  const [file, argv] = cpu ? [TIME, ['-f', 'pogo-cpu %U %S', process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = track(spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), boundMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      const m = / ?pogo-cpu (\d+\.\d+) (\d+\.\d+)\s*$/.exec(stderr);
      resolve({ ms, code, stdout, stderr: m ? stderr.slice(0, m.index) : stderr, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined });
    });
  });
}

/** The environment without NODE_EXTRA_CA_CERTS, or undefined when it is not set. */
function withoutExtraCaCerts() {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined) return undefined;
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** @param {readonly number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes({ nodes: 3, children: 200, repeats: 1, calls: 5 }, { nodes: 3, children: 1_000, repeats: 3, calls: 10 });
  ctx.params({ ...size, preset: 'lan', cli: 'node core/bin/pogo.js ctl' });
  const members = names(size.nodes);
  const N = size.children;
  const starts = [];
  const untilRunning = [];
  /** @type {number[]} */
  let ls = [];
  /** @type {number[]} */
  let lsCpu = [];
  let phases;
  /** @type {{ node: number[], ls: number[] } | undefined} */
  let plain;
  for (let r = 0; r < size.repeats; r++) {
    const label = size.repeats > 1 ? ` (repeat ${r + 1})` : '';
    const cluster = ctx.cluster({ flags: NODE_FLAGS });
    const tokenFile = join(cluster.dir, 'operator.txt');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    cluster.flags = [...cluster.flags, '--operator-token-file', tokenFile];
    await ctx.step(`start ${size.nodes} nodes and the observer${label}`, 60_000, async () => {
      await cluster.startAll(members);
      await cluster.observe();
    });
    const seeds = cluster.live().flatMap((n) => ['--seed', n.address]);
    const common = [...seeds, '--secret-file', cluster.secretFile, '--timeout', '60000'];

    const specs = Array.from({ length: N }, (_, i) => ({ id: `c${i}`, start: { worker: 'idle' } }));
    const specFile = join(cluster.dir, 'specs.json');
    writeFileSync(specFile, JSON.stringify(specs));
    cluster.ids.push(...specs.map((s) => s.id));
    const t0 = performance.now();
    const started = await ctx.step(`ctl start of ${N} specs from one file${label}`, 120_000, async () => {
      const call = await timed([MAIN, 'ctl', 'start', specFile, ...common, '--token-file', tokenFile, '--json'], { boundMs: 110_000 });
      if (call.code !== 0) throw new Error(`exit ${call.code}: ${call.stderr.slice(0, 500)}`);
      const result = JSON.parse(call.stdout).result;
      const accepted = result.length;
      if (accepted !== N) throw new Error(`${accepted} of ${N} specs in the reply`);
      return {
        ms: call.ms,
        states: result.reduce(
          (/** @type {Record<string, number>} */ acc, /** @type {{ state: string }} */ x) => ({ ...acc, [x.state]: (acc[x.state] ?? 0) + 1 }),
          {},
        ),
      };
    });
    starts.push(started.ms);
    ctx.log(`  accepted: ${JSON.stringify(started.states)}`);
    const settledAt = await ctx.step(`observer sees ${N} running once${label}`, 120_000, () => cluster.waitSettled(members, 110_000));
    untilRunning.push(settledAt - t0);

    if (r === 0) {
      ls = await ctx.step(`ctl ls with ${N} children, ${size.calls} calls`, 180_000, async () => {
        const times = [];
        for (let i = 0; i < size.calls; i++) {
          const call = await timed([MAIN, 'ctl', 'ls', ...common, '--json']);
          if (call.code !== 0) throw new Error(`exit ${call.code}: ${call.stderr.slice(0, 500)}`);
          const listed = JSON.parse(call.stdout).result.length;
          if (listed !== N) throw new Error(`ls listed ${listed} children, expected ${N}`);
          times.push(call.ms);
        }
        return times;
      });
      if (existsSync(TIME)) {
        lsCpu = await ctx.step(`CPU of ctl ls, ${size.calls} calls`, 180_000, async () => {
          const cpu = [];
          for (let i = 0; i < size.calls; i++) cpu.push((await timed([MAIN, 'ctl', 'ls', ...common, '--json'], { cpu: true })).cpuMs);
          return cpu.filter((x) => x !== undefined);
        });
      }
      phases = await ctx.step(`where a call's time goes, ${size.calls} calls each`, 240_000, async () => {
        /**
         * @param {string[]} args
         * @param {number} expectCode
         */
        const each = async (args, expectCode) => {
          const times = [];
          for (let i = 0; i < size.calls; i++) {
            const call = await timed(args);
            if (call.code !== expectCode)
              throw new Error(`${args.slice(1).join(' ')}: exit ${call.code}, expected ${expectCode}: ${call.stderr.slice(0, 300)}`);
            times.push(call.ms);
          }
          return times;
        };
        const env = withoutExtraCaCerts();
        if (env) {
          /** @param {string[]} args */
          const eachPlain = async (args) => {
            const times = [];
            for (let i = 0; i < size.calls; i++) {
              const call = await timed(args, { env });
              if (call.code !== 0) throw new Error(`${args.slice(1).join(' ')} (without NODE_EXTRA_CA_CERTS): exit ${call.code}: ${call.stderr.slice(0, 300)}`);
              times.push(call.ms);
            }
            return times;
          };
          plain = { node: await eachPlain(['-e', '']), ls: await eachPlain([MAIN, 'ctl', 'ls', ...common, '--json']) };
        }
        return {
          node: await each(['-e', ''], 0),
          parser: await each([MAIN, '--version'], 0),
          loaded: await each([MAIN, 'ctl', 'ls', '--secret-file', cluster.secretFile], 2),
          status: await each([MAIN, 'ctl', 'status', ...common], 0),
        };
      });
    }
    await cluster.close();
  }
  ctx.metric(`ctl ls with ${N} children`, 'ms', ls, {
    target: ['<=', 300],
    note: `wall time of one call (spawn to exit), ${size.calls} calls in a row; the issue measured 1.8 s or more for the observer-node ctl`,
  });
  ctx.metric(`ctl start of ${N} specs from one file`, 'ms', starts, {
    target: ['<=', 2_000],
    note: 'every spec accepted (the cluster holds it) and its state reported; one fresh cluster per repeat',
  });
  ctx.metric(`until all ${N} run once, from the start call`, 'ms', untilRunning, {
    note: 'the observer in the runner sees each child running once on its owner',
  });
  if (lsCpu.length > 0)
    ctx.metric('CPU of one ctl ls (user + system)', 'ms', lsCpu, { note: 'from /usr/bin/time; the issue measured about 800 ms for the observer-node ctl' });
  if (phases) {
    ctx.metric('Node.js start-up alone (node -e "")', 'ms', phases.node);
    ctx.metric('CLI parser loaded (pogo --version)', 'ms', phases.parser);
    ctx.metric('ctl code loaded, arguments checked (usage error, no link)', 'ms', phases.loaded);
    ctx.metric('whole ctl status (link, handshake, one read)', 'ms', phases.status);
    if (plain) {
      ctx.metric('Node.js start-up alone, without NODE_EXTRA_CA_CERTS', 'ms', plain.node, {
        note: `this machine sets NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}; every Node.js process reads it at start`,
      });
      ctx.metric(`ctl ls with ${N} children, without NODE_EXTRA_CA_CERTS`, 'ms', plain.ls, {
        note: "the same call without the extra CA bundle, as on most operators' machines (the target, 300 ms, is judged on the figure above)",
      });
    }
    ctx.detail('phase medians', {
      node: median(phases.node),
      parser: median(phases.parser),
      loaded: median(phases.loaded),
      status: median(phases.status),
      ls: median(ls),
    });
  }
}
