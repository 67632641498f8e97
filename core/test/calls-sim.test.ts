/**
 * Calls during random moves and crashes, on the simulated network
 * (support/sim.ts): a stream of calls from random nodes to a few children
 * while they are pinned about, nodes drained and undrained, children
 * crashed in place and whole nodes crashed and restarted.
 *
 * Checked from the instances' own records, never the cluster's view:
 * - no message reaches an instance after its stop began (each instance
 *   marks itself stopped the moment its stop starts, or it crashes);
 * - no message is handled twice (each carries a unique token);
 * - no call settles twice, and each reply is the one to its own message
 *   (it echoes the token);
 * - every call settles by its deadline (a few ms of slack for the timer).
 */
import { describe, expect, it } from 'vitest';
import { MessageError } from '../src/supervisor/child-channel.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { SimCluster, flushMicrotasks } from './support/sim.js';

interface Records {
  violations: string[];
  handled: Map<string, number>;
  crash: Map<string, () => void>;
}

function probeWorkers(records: Records): WorkerRegistry {
  const registry = new WorkerRegistry();
  registry.define('probe', (_args, ctx) => {
    let stopped = false;
    ctx.signal.addEventListener('abort', () => (stopped = true));
    records.crash.set(`${ctx.node}/${ctx.id}`, () => {
      stopped = true;
      ctx.exit(new Error('crashed by the test'));
    });
    ctx.onMessage((message) => {
      const token = (message as { token: string }).token;
      if (stopped) records.violations.push(`${token} reached ${ctx.pid} after its stop began`);
      records.handled.set(token, (records.handled.get(token) ?? 0) + 1);
      return { token, pid: ctx.pid };
    });
    return {
      stop: () => {
        stopped = true;
      },
    };
  });
  return registry;
}

async function runSeed(seed: number): Promise<{ violations: string[]; ok: number; failed: Record<string, number> }> {
  const records: Records = { violations: [], handled: new Map(), crash: new Map() };
  const workers = probeWorkers(records);
  const sim = new SimCluster(seed);
  const names = ['n1', 'n2', 'n3', 'n4'];
  const config = { workers: [] as string[] };
  await sim.start('n1', [], config, workers);
  for (const n of names.slice(1)) await sim.start(n, ['n1'], config, workers);
  await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 30_000, 'mesh');
  const ids = ['p1', 'p2', 'p3'];
  for (const id of ids) await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id, start: { worker: 'probe' } }));
  const rnd = sim.random;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd.next() * xs.length)]!;
  let ok = 0;
  const failed: Record<string, number> = {};
  const settledTimes = new Map<string, number>();
  let next = 0;
  const inFlight = new Set<Promise<void>>();
  const fire = (): void => {
    const caller = pick(sim.running());
    const id = pick(ids);
    const token = `t${next++}`;
    const timeoutMs = 200 + Math.floor(rnd.next() * 3000);
    const sentAt = sim.clock.now();
    const p = caller.supervisor.callDetailed(id, { token }, { timeoutMs }).then(
      (answer) => {
        if (settledTimes.has(token)) records.violations.push(`${token} settled twice`);
        settledTimes.set(token, sim.clock.now());
        const reply = answer.reply as { token?: string; pid?: string };
        if (reply.token !== token) records.violations.push(`${token} got the reply to ${String(reply.token)}`);
        if (reply.pid !== answer.pid) records.violations.push(`${token}: answered by ${String(reply.pid)}, reported ${answer.pid}`);
        if (sim.clock.now() > sentAt + timeoutMs + 10) records.violations.push(`${token} answered after its deadline`);
        ok++;
      },
      (err: unknown) => {
        if (settledTimes.has(token)) records.violations.push(`${token} settled twice`);
        settledTimes.set(token, sim.clock.now());
        const code = err instanceof MessageError ? err.code : `not a MessageError: ${String(err)}`;
        failed[code] = (failed[code] ?? 0) + 1;
        if (sim.clock.now() > sentAt + timeoutMs + 10) records.violations.push(`${token} failed after its deadline`);
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  for (let step = 0; step < 60; step++) {
    for (let i = 0; i < 5; i++) fire();
    const r = rnd.next();
    const alive = sim.running();
    const someone = pick(alive);
    if (r < 0.25) {
      someone.supervisor.moveChild(pick(ids), pick(alive).name).catch(() => undefined);
    } else if (r < 0.35) {
      try {
        someone.supervisor.drain(pick(alive).name);
      } catch {
        /* unknown node: fine */
      }
    } else if (r < 0.45) {
      for (const n of alive) {
        try {
          someone.supervisor.undrain(n.name);
        } catch {
          /* fine */
        }
      }
    } else if (r < 0.6) {
      const id = pick(ids);
      for (const n of alive) records.crash.get(`${n.name}/${id}`)?.();
    } else if (r < 0.7 && alive.length > 2) {
      const victim = pick(alive.filter((n) => n.name !== 'n1'));
      sim.crash(victim.name);
    } else if (r < 0.8) {
      const down = names.filter((n) => !sim.running().some((x) => x.name === n));
      if (down.length > 0) await sim.start(pick(down), ['n1'], config, workers);
    }
    await sim.run(20 + Math.floor(rnd.next() * 200));
  }
  await sim.until(() => inFlight.size === 0, 30_000, 'every call settled');
  for (const [token, n] of records.handled) if (n > 1) records.violations.push(`${token} was handled ${n} times`);
  sim.stopAll();
  await flushMicrotasks();
  return { violations: records.violations, ok, failed };
}

describe('calls during random moves and crashes (simulation)', () => {
  it('never reach a stopped instance, never get two replies, each settles by its deadline', async () => {
    const totals = { ok: 0, failed: {} as Record<string, number> };
    const failures: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const r = await runSeed(seed);
      totals.ok += r.ok;
      for (const [k, v] of Object.entries(r.failed)) totals.failed[k] = (totals.failed[k] ?? 0) + v;
      if (r.violations.length > 0) failures.push(`seed ${seed}: ${r.violations.slice(0, 5).join('; ')}`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
    // The calls did run, and most of them succeeded: a harness whose calls all failed checks nothing.
    expect(totals.ok).toBeGreaterThan(1000);
    console.log(`calls: ${totals.ok} answered, failed: ${JSON.stringify(totals.failed)}`);
  }, 300_000);
});
