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
 *
 * And two freezes: a node woken in majority mode hands its old instance none
 * of what arrived meanwhile; a caller woken past a deadline takes the reply
 * that reached its socket in time (its timers run first, on a stalled clock).
 */
import { describe, expect, it } from 'vitest';
import { MessageError } from '../src/supervisor/child-channel.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { FAST_TIMING, SimCluster, flushMicrotasks } from './support/sim.js';

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

describe('a call made on a node that has just started (race "a call right after start")', () => {
  function echoWorkers(): WorkerRegistry {
    const registry = new WorkerRegistry();
    registry.define('echo', (_args, ctx) => {
      ctx.onMessage((message) => ({ echo: message, pid: ctx.pid }));
      return { stop: () => undefined };
    });
    return registry;
  }

  async function clusterWithChild(sim: SimCluster, workers: WorkerRegistry): Promise<void> {
    const config = { workers: [] as string[] };
    await sim.start('n1', [], config, workers);
    for (const n of ['n2', 'n3']) await sim.start(n, ['n1'], config, workers);
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 30_000, 'mesh');
    await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id: 'p1', start: { worker: 'echo' } }));
  }

  /** A cluster of three running the echo child p1, handed to `body`, and stopped after it whatever happens. */
  async function withChild(seed: number, body: (sim: SimCluster, workers: WorkerRegistry) => Promise<void>): Promise<void> {
    const workers = echoWorkers();
    const sim = new SimCluster(seed);
    try {
      await clusterWithChild(sim, workers);
      await body(sim, workers);
    } finally {
      sim.stopAll();
      await flushMicrotasks();
    }
  }

  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  const outcome = (p: Promise<unknown>): Promise<{ ok?: unknown; code?: string; message?: string }> =>
    p.then(
      (ok) => ({ ok }),
      (err: MessageError) => ({ code: err.code, message: err.message }),
    );

  it('reaches a child running elsewhere, and says not-found for an unknown id only once the node has synced', async () => {
    await withChild(11, async (sim, workers) => {
      // Both calls made in the turn the node started: it holds no spec yet. Before, both failed at once, not-found.
      await sim.start('n4', ['n1'], { workers: [] }, workers);
      const n4 = sim.mustGet('n4');
      expect(n4.supervisor.isReady).toBe(false);
      // A read answers from what the node holds so far, and says so, with a code a script can tell from not-found.
      expect(() => n4.supervisor.explain('p1')).toThrow(/no child with id "p1" on n4 so far: n4 is not ready yet/);
      expect(codeOf(() => n4.supervisor.explain('p1'))).toBe('not-ready');
      const askedAt = sim.clock.now();
      const known = outcome(n4.supervisor.callDetailed('p1', { hi: 1 }));
      let answeredAt: number | undefined;
      const unknown = outcome(n4.supervisor.call('typo', { hi: 2 })).finally(() => (answeredAt = sim.clock.now()));
      const answer = await sim.resolve(known);
      expect(answer.code).toBeUndefined();
      expect((answer.ok as { reply: { echo: unknown } }).reply.echo).toEqual({ hi: 1 });
      expect(await sim.resolve(unknown)).toMatchObject({ code: 'not-found' });
      // It waited for the sync (links and digests take simulated time), not answered from the empty store.
      expect(answeredAt! - askedAt).toBeGreaterThan(0);
      expect(n4.supervisor.explain('p1').id).toBe('p1');
      expect(() => n4.supervisor.explain('typo')).toThrow(/^no child with id "typo"$/);
    });
  });

  it('a node that cannot sync fails the call at its deadline, saying why; ready by its timeout alone, it still says not-ready, never not-found', async () => {
    await withChild(12, async (sim, workers) => {
      // Its only seed is cut off: it links to no one.
      sim.network.partition([SimCluster.address('n5')], ['n1', 'n2', 'n3'].map(SimCluster.address));
      await sim.start('n5', ['n1'], { workers: [] }, workers);
      const n5 = sim.mustGet('n5');
      // A stop asked while it links waits for a sync; once it is ready alone none is coming, and it says so then.
      const earlyStop = outcome(n5.supervisor.terminateChild('p1'));
      const r = await sim.resolve(outcome(n5.supervisor.call('p1', { hi: 3 }, { timeoutMs: 500 })));
      expect(r.code).toBe('timeout');
      expect(r.message).toContain('n5 has not synced with the cluster yet');
      // The calls tour: past the ready timeout (1.5 s here) the lone node is ready, and answered not-found of a child
      // running on n3; `pogo ctl stop --ignore-not-found` through it exited 0 while the child ran on.
      await sim.until(() => n5.supervisor.isReady, 30_000, 'n5 ready by its timeout, alone');
      expect(n5.supervisor.knowsTheCluster).toBe(false);
      const readyAt = sim.clock.now();
      expect(await sim.resolve(earlyStop)).toMatchObject({ code: 'not-ready' });
      expect(sim.clock.now() - readyAt).toBeLessThan(100);
      const late = await sim.resolve(outcome(n5.supervisor.call('p1', { hi: 4 }, { timeoutMs: 3_000 })));
      expect(late.code).toBe('timeout');
      expect(codeOf(() => n5.supervisor.explain('p1'))).toBe('not-ready');
      expect(() => n5.supervisor.explain('p1')).toThrow(/n5 runs without having synced with any other member/);
      // Linked to no one, ready alone: nothing is coming, so it says so at once instead of waiting out the start timeout.
      const stopAskedAt = sim.clock.now();
      const stop = await sim.resolve(outcome(n5.supervisor.terminateChild('p1')));
      expect(stop.code).toBe('not-ready');
      expect(sim.clock.now() - stopAskedAt).toBeLessThan(100);
      // Healed: it syncs, and answers as any member.
      sim.network.heal();
      const healed = await sim.resolve(outcome(n5.supervisor.call('p1', { hi: 5 }, { timeoutMs: 10_000 })));
      expect(healed.code).toBeUndefined();
      expect(n5.supervisor.knowsTheCluster).toBe(true);
    });
  });

  it("a member down and not yet reaped does not hold a new node's answers back until its ready timeout", async () => {
    await withChild(13, async (sim, workers) => {
      await sim.resolve(sim.mustGet('n1').supervisor.startChild({ id: 'gone', start: { worker: 'echo' } }));
      await sim.resolve(sim.mustGet('n1').supervisor.terminateChild('gone'));
      const runsOn = sim.mustGet('n1').supervisor.whereis('p1')!.node;
      const victim = ['n2', 'n3', 'n1'].find((n) => n !== runsOn && n !== 'n1')!;
      sim.crash(victim);
      await sim.until(() => sim.mustGet('n1').member(victim)?.status === 'down', 10_000, `${victim} down`);
      await sim.start('n6', ['n1'], { workers: [] }, workers);
      const n6 = sim.mustGet('n6');
      const startedAt = sim.clock.now();
      const [r, stopped, unknown] = await sim.resolve(
        Promise.all([outcome(n6.supervisor.call('p1', { hi: 6 })), outcome(n6.supervisor.call('gone', {})), outcome(n6.supervisor.call('typo', {}))]),
      );
      expect(r.code).toBeUndefined();
      expect(stopped.code).toBe('not-running');
      expect(unknown.code).toBe('not-found');
      // Readiness waits for every member it knows of, the down one too (up to its 1.5 s timeout); the sync with one is
      // enough to say what the cluster holds. Before, the stopped and unknown ids were answered at the ready timeout.
      expect(sim.clock.now() - startedAt).toBeLessThan(1_000);
      expect(codeOf(() => n6.supervisor.explain('typo'))).toBe('not-found');
      expect(n6.supervisor.isReady).toBe(false);
    });
  });
});

describe('majority mode: a node woken from a freeze (race "calls that arrived while it was frozen")', () => {
  it('hands none of the messages sent to it while frozen to its old instance once its lease has run out', async () => {
    // The calls tour (real processes, majority mode): n2 SIGSTOPped for 7 s with callers on a 1 s timeout; on waking it
    // read its sockets before its timers ran, and its old instance handled 17 to 27 messages sent while it was frozen,
    // 0.4 to 1 s after the majority's replacement had started — two instances handling messages at once.
    const { StallableClock } = await import('./support/stallable-clock.js');
    const sim = new SimCluster(61, { latencyMs: 1, jitterMs: 2 });
    const handled: Array<{ pid: string; node: string; at: number }> = [];
    const registry = new WorkerRegistry();
    registry.define('journal', (_args, ctx) => {
      ctx.onMessage(() => {
        handled.push({ pid: ctx.pid, node: ctx.node, at: sim.clock.now() });
        return ctx.node;
      });
      return { stop() {} };
    });
    const config = { ...FAST_TIMING, netsplit: 'majority' as const, expectedMembers: 3 };
    const frozen = new StallableClock(sim.clock);
    await sim.start('n1', [], config, registry);
    await sim.start('n2', ['n1'], config, registry, frozen);
    await sim.start('n3', ['n1'], config, registry);
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 20_000, 'mesh and ready');
    const n1 = sim.mustGet('n1');
    await sim.resolve(n1.supervisor.startChild({ id: 'j', start: { worker: 'journal' } }));
    await sim.resolve(n1.supervisor.moveChild('j', 'n2'));
    n1.supervisor.unpin('j');
    await sim.run(500);
    if (n1.supervisor.whereis('j')?.node !== 'n2') await sim.resolve(n1.supervisor.moveChild('j', 'n2'));
    // Frozen: no timer runs on n2, and what is sent to it waits in its sockets (held frames), as for a SIGSTOP.
    frozen.held = true;
    for (const other of ['n1', 'n3']) sim.network.cutOneWay(SimCluster.address(other), SimCluster.address('n2'));
    for (const other of ['n1', 'n3']) sim.network.cutOneWay(SimCluster.address('n2'), SimCluster.address(other));
    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      calls.push(n1.supervisor.call('j', i, { timeoutMs: 300 }).catch(() => undefined));
      await sim.run(100);
    }
    // The majority took j over meanwhile.
    await sim.until(() => handled.some((h) => h.node !== 'n2'), 20_000, 'the replacement handles messages');
    const replacementFrom = handled.find((h) => h.node !== 'n2')!.at;
    // Woken: its sockets are read first (the held frames flow on a 0 ms timer), its timers after.
    sim.network.heal();
    await sim.run(5);
    frozen.release();
    await sim.resolve(Promise.all(calls));
    await sim.until(() => sim.fullMesh() && sim.exactlyOnce(['j']), 30_000, 'healed');
    const late = handled.filter((h) => h.node === 'n2' && h.at >= replacementFrom);
    expect(late, JSON.stringify(late.slice(0, 3))).toEqual([]);
    sim.stopAll();
  }, 120_000);
});

describe('a caller woken from a freeze (race "a caller woken from a freeze", distributed/call-table.ts)', () => {
  it('takes the reply that reached its socket while it was frozen, though its timers run before its socket is read', async () => {
    // The calls tour: the caller SIGSTOPped for 6 s; calls the child had answered within 50 ms were reported timeout,
    // because on waking the deadline timers ran before the poll phase read the replies.
    const { StallableClock } = await import('./support/stallable-clock.js');
    const sim = new SimCluster(62, { latencyMs: 1, jitterMs: 0 });
    const answers: Array<() => void> = [];
    const registry = new WorkerRegistry();
    registry.define('slow-echo', (_args, ctx) => {
      ctx.onMessage((m) => new Promise((resolve) => answers.push(() => resolve(m))));
      return { stop() {} };
    });
    const frozen = new StallableClock(sim.clock);
    await sim.start('n1', [], FAST_TIMING, registry);
    await sim.start('n2', ['n1'], FAST_TIMING, registry);
    await sim.start('c', ['n1'], FAST_TIMING, registry, frozen);
    await sim.until(() => sim.fullMesh() && sim.running().every((n) => n.supervisor.isReady), 20_000, 'mesh and ready');
    const n1 = sim.mustGet('n1');
    await sim.resolve(n1.supervisor.startChild({ id: 'e', start: { worker: 'slow-echo' } }));
    await sim.resolve(n1.supervisor.moveChild('e', 'n2'));
    const c = sim.mustGet('c');
    await sim.until(() => c.supervisor.whereis('e')?.node === 'n2', 5_000, 'the caller sees e on n2');
    let outcome: string | undefined;
    void c.supervisor.call('e', 'hello', { timeoutMs: 300 }).then(
      (reply) => (outcome = `reply ${JSON.stringify(reply)}`),
      (err: MessageError) => (outcome = `${err.code}: ${err.message}`),
    );
    await sim.until(() => answers.length === 1, 1_000, 'the instance took the call');
    // Frozen (below the peers' heartbeat timeout): no timer of c runs, and what n2 sends it waits in its socket.
    frozen.held = true;
    sim.network.cutOneWay(SimCluster.address('n2'), SimCluster.address('c'));
    answers[0]!(); // answered in time: the reply is on its way
    await sim.run(450); // past the call's deadline
    expect(outcome).toBeUndefined();
    // Woken: its timers run first (late), then its socket is read (the held frames flow), all before the next turn.
    frozen.release();
    sim.network.healOneWay(SimCluster.address('n2'), SimCluster.address('c'));
    sim.clock.advance(5);
    await sim.run(5);
    expect(outcome).toBe('reply "hello"');
    sim.stopAll();
  }, 60_000);
});
