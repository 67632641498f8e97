/**
 * Scenario 5b, scale in simulation: many PogoNodes in this process on the
 * in-memory transport (MemoryNetwork, 1 ms latency + up to 1 ms jitter),
 * driven by a ManualClock and a seeded Random — no sockets, no real timers,
 * the same seed replays the same run. Counts every message frame sent (the
 * network's tap) and simulated time, and the real CPU time of each node's
 * reconcile passes (the supervisor's onReconcile hook, the same that feeds
 * the pogo_reconcile_seconds metric).
 *
 * Steps: form the mesh; start the children (calls spread over all nodes,
 * all at once); then three topology changes, each measured until every
 * running node sees every child running once on its owner: a node crashes
 * (loss), a new node joins, a node leaves gracefully. For each: messages
 * sent, simulated time to reconcile, wall time the simulation took, and the
 * longest single reconcile pass of any node (what a real node's event loop
 * would be blocked for).
 *
 * The messages needed to create children grow with children × members²:
 * each member keeps its own copy of each child's register in a process
 * group and announces it to every other member. The figure "messages per
 * child started" shows that factor; the default full size is chosen so the
 * run fits the time budget, and the JSON extrapolates to larger sizes.
 */
import { PogoNode, WorkerRegistry, createNodeConfig } from '../../core/dist/index.js';
import { ManualClock, MemoryNetwork, SeededRandom, silentLogger } from '../../core/dist/testing.js';

export const title = 'Scale in simulation (in-memory transport, manual clock)';
export const description = 'Messages and reconcile time per topology change with many nodes and children.';

const SECRET = 'simulation-secret-0123456789';
/** @param {string} name */
const address = (name) => `${name}:4370`;
/** @returns {Promise<void>} */
const flush = () => new Promise((resolve) => setImmediate(resolve));

class Sim {
  clock = new ManualClock(1_700_000_000_000);
  random = new SeededRandom(7);
  network = new MemoryNetwork({ clock: this.clock, random: this.random, latencyMs: 1, jitterMs: 1, connectTimeoutMs: 500 });
  workers = new WorkerRegistry();
  /** @type {Map<string, PogoNode>} */
  nodes = new Map();
  /** Link messages sent (the frames inside a batch count one each), and transport frames (a batch is one). */
  messages = 0;
  frames = 0;
  /** Reconcile passes since the last reset: count, total and longest (real seconds). */
  passes = { count: 0, total: 0, max: 0 };
  /** @type {(() => number) | undefined} */
  failedStarts = undefined;
  /** @type {Promise<void> | undefined} */
  leaving = undefined;

  constructor() {
    this.workers.define('idle', () => ({ stop() {} }));
    this.network.tap = (_from, _to, /** @type {any} */ frame) => {
      this.frames++;
      this.messages += frame?.t === 'batch' ? frame.frames.length : 1;
    };
  }

  /**
   * @param {string} name
   * @param {string[]} seeds
   */
  async start(name, seeds) {
    const node = await PogoNode.start(
      createNodeConfig({ name, secret: SECRET, seeds: seeds.map(address), maxMovesPerSecond: 1_000_000, requestTimeoutMs: 3_600_000 }),
      {
        clock: this.clock,
        random: this.random,
        log: silentLogger,
        transport: this.network.transport(address(name)),
        workers: this.workers,
      },
    );
    const metrics = node.supervisor.onReconcile;
    node.supervisor.onReconcile = (seconds) => {
      metrics?.(seconds);
      this.passes.count++;
      this.passes.total += seconds;
      if (seconds > this.passes.max) this.passes.max = seconds;
    };
    this.nodes.set(name, node);
    return node;
  }

  /**
   * The node started as `name`.
   * @param {string} name
   */
  node(name) {
    return /** @type {PogoNode} */ (this.nodes.get(name));
  }

  running() {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  /**
   * Runs `ms` of simulated time, letting promise continuations run after every timer.
   * @param {number} ms
   */
  async run(ms) {
    const target = this.clock.now() + ms;
    await flush();
    while (this.clock.step(target)) await flush();
  }

  /** Runs simulated time until `predicate` holds (checked every `stepMs`); throws after `maxMs` of simulated time or `wallMs` of real time.
   * @param {() => boolean} predicate
   * @param {string} what
   * @param {{ maxMs?: number, stepMs?: number, wallMs?: number }} [options]
   */
  async until(predicate, what, { maxMs = 600_000, stepMs = 10, wallMs = 300_000 } = {}) {
    const start = this.clock.now();
    const wall = performance.now();
    await flush();
    while (!predicate()) {
      if (this.clock.now() - start >= maxMs) throw new Error(`${what} did not hold within ${maxMs} ms of simulated time`);
      if (performance.now() - wall >= wallMs)
        throw new Error(`${what} did not hold within ${Math.round(wallMs / 1000)} s of real time (${this.clock.now() - start} ms simulated)`);
      // 1 ms resolution for the first 100 ms, then `stepMs` (each check reads every node's view).
      await this.run(this.clock.now() - start < 100 ? 1 : stepMs);
    }
    return this.clock.now() - start;
  }

  meshed() {
    const nodes = this.running();
    return nodes.every((n) => n.upMembers().length === nodes.length && n.supervisor.isReady);
  }

  /**
   * Every running node sees exactly the running nodes as up members (all
   * ready), and `count` specs, each running once on its owner.
   * @param {number} count
   */
  settled(count) {
    const nodes = this.running();
    const names = nodes
      .map((n) => n.name)
      .sort()
      .join(',');
    return nodes.every((n) => {
      if (!n.supervisor.isReady || n.upMembers().sort().join(',') !== names) return false;
      if (!n.members().every((m) => m.role !== 'member' || m.status !== 'up' || m.ready)) return false;
      const c = n.supervisor.countChildren();
      return c.specs === count && c.running === count;
    });
  }

  /**
   * Measures one change: messages, simulated and real time until settled, reconcile passes.
   * @param {number} count
   * @param {() => unknown} act
   * @param {string} what
   */
  async measure(count, act, what) {
    this.messages = 0;
    this.frames = 0;
    this.passes = { count: 0, total: 0, max: 0 };
    const wall = performance.now();
    await act();
    // Let the change take effect before checking (a stopping node is still running).
    await this.run(1);
    const simMs = await this.until(() => this.settled(count), what);
    return {
      messages: this.messages,
      frames: this.frames,
      simMs,
      wallMs: performance.now() - wall,
      reconcilePasses: this.passes.count,
      reconcileTotalMs: this.passes.total * 1000,
      longestReconcileMs: this.passes.max * 1000,
    };
  }

  stopAll() {
    for (const n of this.running()) n.kill();
  }
}

/** @param {import('../lib/context.mjs').ScenarioContext} ctx */
export async function run(ctx) {
  const size = ctx.sizes({ nodes: 10, children: 200 }, { nodes: 50, children: 500 });
  ctx.params({ ...size, latencyMs: 1, jitterMs: 1, seed: 7, requested: '50 nodes and 50,000 children (see extrapolation)' });
  const N = size.nodes;
  const C = size.children;
  const sim = new Sim();
  ctx.onCleanup(() => sim.stopAll());

  const formed = await ctx.step(`form a mesh of ${N} nodes`, 120_000, async () => {
    // One node at a time, each joining once the previous one is linked and
    // ready. Started all at once, most of 50 nodes wait for readyTimeoutMs
    // (5 s: some peer's scope announcement does not arrive) while each
    // membership event adds another 5 ms readiness poll, which makes the
    // simulation crawl; that would measure those, not the mesh.
    const wall = performance.now();
    const start = sim.clock.now();
    for (let i = 1; i <= N; i++) {
      await sim.start(`s${i}`, i === 1 ? [] : ['s1']);
      await sim.until(() => sim.meshed(), `s${i} linked to all and ready`, { stepMs: 5, wallMs: 60_000 });
    }
    return { simMs: sim.clock.now() - start, wallMs: performance.now() - wall, messages: sim.messages };
  });
  ctx.log(`  mesh: ${formed.simMs} ms simulated, ${formed.wallMs.toFixed(0)} ms real, ${formed.messages} messages`);

  const started = await ctx.step(`start ${C} children over ${N} nodes`, 400_000, () =>
    sim.measure(
      C,
      async () => {
        const nodes = sim.running();
        const calls = Array.from({ length: C }, (_, i) => nodes[i % nodes.length].supervisor.startChild({ id: `c${i}`, start: { worker: 'idle' } }));
        let failed = 0;
        calls.forEach((p) => p.catch(() => failed++));
        sim.failedStarts = () => failed;
      },
      `${C} children running once`,
    ),
  );
  ctx.log(
    `  start: ${started.messages} messages (${(started.messages / C).toFixed(0)} per ` +
      `child), ${started.simMs} ms simulated, ${(started.wallMs / 1000).toFixed(1)} s real`,
  );

  const loss = await ctx.step('node loss: crash s2', 300_000, () =>
    sim.measure(
      C,
      () => {
        sim.network.crash(address('s2'));
        sim.node('s2').kill();
      },
      `every child running again after the crash of s2`,
    ),
  );
  const join = await ctx.step(`node join: s${N + 1} joins`, 300_000, () =>
    sim.measure(C, () => sim.start(`s${N + 1}`, ['s1']), `s${N + 1} joined and children rebalanced`),
  );
  const leave = await ctx.step('graceful leave: s3 leaves', 300_000, () =>
    sim.measure(
      C,
      () => {
        sim.leaving = sim.node('s3').stop('leaving', 2000);
      },
      'children of s3 running elsewhere',
    ),
  );
  await ctx.step('s3 has stopped', 60_000, () => sim.until(() => !sim.node('s3').running, 's3 stopped'));

  const perChild = started.messages / C;
  ctx.metric(`messages per child started (${N} nodes)`, 'messages', perChild, {
    note: `${started.messages} messages for ${C} children; about children × members² (${N}² = ${N * N})`,
  });
  ctx.metric(`transport frames per child started (${N} nodes)`, 'frames', started.frames / C, {
    note: 'the same messages as frames on the wire: links batch what one turn sends to a peer',
  });
  ctx.metric(`time to start ${C} children, simulated`, 'ms', started.simMs, { note: 'simulated time counts network latency only, not processing' });
  ctx.metric(`time to start ${C} children, real`, 'ms', started.wallMs, { note: 'the wall time this process needed to simulate it' });
  for (const [label, r] of /** @type {Array<[string, typeof loss]>} */ ([
    ['node loss (crash)', loss],
    ['node join', join],
    ['graceful leave', leave],
  ])) {
    ctx.metric(`${label}: messages sent`, 'messages', r.messages, { note: `${r.frames} transport frames` });
    ctx.metric(`${label}: reconcile time, simulated`, 'ms', r.simMs, {
      note: 'from the change until every node sees every child running once on its owner; latency only (1–2 ms per hop), processing is free in simulated time',
    });
    ctx.metric(`${label}: longest reconcile pass of a node`, 'ms', r.longestReconcileMs, {
      note: `real CPU time of one pass; ${r.reconcilePasses} passes, ${r.reconcileTotalMs.toFixed(0)} ms in all`,
    });
    ctx.metric(`${label}: real time to simulate`, 'ms', r.wallMs);
  }
  const extrapolated = Math.round(perChild * (50 / N) ** 2 * 50_000);
  ctx.detail('extrapolation', {
    requested: { nodes: 50, children: 50_000 },
    messagesToStart: extrapolated,
    realSecondsToStart: Math.round(((started.wallMs / started.messages) * extrapolated) / 1000),
    note:
      `messages per child scale with members²; at ${((started.wallMs / started.messages) * 1000).toFixed(1)} µs ` +
      `of real time per simulated message, starting 50,000 children on 50 nodes would take this long to simulate`,
  });
  ctx.detail('formation', formed);
  ctx.detail('changes', { start: started, loss, join, leave });
  ctx.log(
    `  50 nodes × 50,000 children would need ≈ ${extrapolated.toLocaleString('en-US')} messages to start ` +
      `(≈ ${Math.round(((started.wallMs / started.messages) * extrapolated) / 1000)} s to simulate here)`,
  );
}
