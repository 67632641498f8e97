/**
 * Deterministic cluster simulation: PogoNodes on the in-memory network,
 * driven by one ManualClock and one seeded Random. No sockets, no sleeps; the
 * same seed replays the same run, event for event.
 *
 * `runs` records when each child instance really ran on each node process
 * (support/instance-log.ts): overlap checks read it, never the cluster's
 * own view of itself.
 */
import { ManualClock, type Clock } from '../../src/clock.js';
import type { DnsQueries } from '../../src/discovery/dns-lookup.js';
import { MemoryLogger } from '../../src/logger.js';
import { PogoNode, createNodeConfig } from '../../src/node.js';
import type { NodeConfigInput } from '../../src/config.js';
import { SeededRandom } from '../../src/random.js';
import { MemoryNetwork } from '../../src/transport/memory.js';
import { WorkerRegistry } from '../../src/supervisor/workers.js';
import { InstanceLog } from './instance-log.js';

/** Lets every pending promise continuation run (no real time passes, nothing else runs). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Worker types for simulations: `w` runs until stopped; `failing` never starts; `crashy` can be crashed by the test. */
export function simWorkers(): { registry: WorkerRegistry; crash: (node: string, id: string) => boolean } {
  const registry = new WorkerRegistry();
  const live = new Map<string, (reason: Error) => void>();
  registry.define('w', () => ({ stop() {} }));
  registry.define('failing', () => {
    throw new Error('cannot start: missing configuration');
  });
  registry.define('crashy', (_args, ctx) => {
    live.set(`${ctx.node}/${ctx.id}`, (reason) => ctx.exit(reason));
    return { stop: () => void live.delete(`${ctx.node}/${ctx.id}`) };
  });
  return {
    registry,
    crash: (node, id) => {
      const exit = live.get(`${node}/${id}`);
      live.delete(`${node}/${id}`);
      exit?.(new Error('crashed by the test'));
      return exit !== undefined;
    },
  };
}

export const SIM_SECRET = 'simulation-secret-0123456789';

/**
 * The partition tests' timing (majority.test, ops-split, bridge, the chaos
 * simulation): pings every 100 ms, down after 600 ms (majority mode's lease),
 * fast redials, a short ready timeout.
 */
export const FAST_TIMING = {
  heartbeatIntervalMs: 100,
  suspectAfterMs: 300,
  heartbeatTimeoutMs: 600,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  readyTimeoutMs: 1_500,
  requestTimeoutMs: 5_000,
} as const;

export class SimCluster {
  /** The simulated clock's time at the start of every simulation. */
  static readonly START = 1_700_000_000_000;
  readonly clock = new ManualClock(SimCluster.START);
  readonly random: SeededRandom;
  readonly network: MemoryNetwork;
  readonly nodes = new Map<string, PogoNode>();
  readonly log = new MemoryLogger();
  /** Every member event of every node, in order: the run's fingerprint. */
  readonly trace: string[] = [];
  /** When each child instance really ran, per node process (the ground truth for overlap checks). */
  readonly runs = new InstanceLog(() => this.clock.now());

  readonly workers = simWorkers();
  /** The DNS every node started from now on asks for its `dns:`/`dns-srv:` seeds (none: the real resolver). */
  dnsQueries: DnsQueries | undefined;

  constructor(
    readonly seed: number,
    options: { latencyMs?: number; jitterMs?: number } = {},
  ) {
    this.random = new SeededRandom(seed);
    this.network = new MemoryNetwork({
      clock: this.clock,
      random: this.random,
      latencyMs: options.latencyMs ?? 1,
      jitterMs: options.jitterMs ?? 3,
      connectTimeoutMs: 500,
    });
  }

  static address(name: string): string {
    return `${name}:4370`;
  }

  /** Starts a node on the simulated network; `clock` lets a test see time through a wrapper of the shared one (say, a stalling node). */
  async start(
    name: string,
    seeds: string[] = [],
    config: Partial<NodeConfigInput> = {},
    workers: WorkerRegistry = this.workers.registry,
    clock: Clock = this.clock,
    /** Where it listens (default `<name>:4370`): a node restarted elsewhere keeps its name at a new address. */
    address: string = SimCluster.address(name),
  ): Promise<PogoNode> {
    if (this.nodes.get(name)?.running) throw new Error(`${name} is already running`);
    const node = await PogoNode.start(createNodeConfig({ name, secret: SIM_SECRET, seeds: seeds.map(SimCluster.address), ...config }), {
      clock,
      random: this.random,
      log: this.log,
      transport: this.network.transport(address),
      workers,
      ...(this.dnsQueries !== undefined ? { dnsQueries: this.dnsQueries } : {}),
    });
    const record = (kind: string, member: { name: string; incarnation: string }): void => {
      this.trace.push(`${this.clock.now()} ${name} ${kind} ${member.name}/${member.incarnation}`);
    };
    node.on('member-up', (e) => record(e.kind, e.member));
    node.on('member-down', (e) => record(e.kind, e.member));
    node.on('member-left', (e) => record(e.kind, e.member));
    this.runs.attach(node);
    this.nodes.set(name, node);
    return node;
  }

  /** The process dies: no leave, connections reset. */
  crash(name: string): void {
    const node = this.mustGet(name);
    this.network.crash(SimCluster.address(name));
    node.kill();
    this.runs.died(node);
  }

  async leave(name: string): Promise<void> {
    const node = this.mustGet(name);
    let stopped = false;
    const stopping = node.stop('test leave').then(() => (stopped = true));
    for (let i = 0; i < 1000 && !stopped; i++) {
      this.clock.advance(5);
      await Promise.resolve();
    }
    await stopping;
  }

  running(): PogoNode[] {
    return [...this.nodes.values()].filter((n) => n.running);
  }

  mustGet(name: string): PogoNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  /** True when every running node is linked to every other running node, and to no one else. */
  fullMesh(nodes: PogoNode[] = this.running()): boolean {
    const names = nodes.map((n) => n.name).sort();
    return nodes.every((n) => {
      const up = n.upMembers().sort();
      return up.length === names.length && up.every((m, i) => m === names[i]);
    });
  }

  /** Each running node's view of groups, as comparable JSON. */
  groupViews(nodes: PogoNode[] = this.running()): string[] {
    // getMembers lists the local node first, so compare order-free: members sorted by pid.
    return nodes.map((n) => {
      const snapshot = n.groups.snapshot();
      const sorted: Record<string, Record<string, string[]>> = {};
      for (const scope of Object.keys(snapshot).sort()) {
        const groups = snapshot[scope]!;
        sorted[scope] = {};
        for (const group of Object.keys(groups).sort()) sorted[scope][group] = groups[group]!.map((m) => `${m.pid}=${JSON.stringify(m.value)}`).sort();
      }
      return JSON.stringify(sorted);
    });
  }

  groupsConverged(nodes: PogoNode[] = this.running()): boolean {
    const views = this.groupViews(nodes);
    return views.every((v) => v === views[0]);
  }

  /** Runs simulated time until `predicate` holds; throws with context after `maxMs`. */
  settle(predicate: () => boolean, maxMs: number, what: string): number {
    const start = this.clock.now();
    if (!this.clock.runUntil(predicate, maxMs, 5)) {
      const views = this.running().map((n) => `${n.name}: up=[${n.upMembers().join(',')}]`);
      throw new Error(`seed ${this.seed}: ${what} did not hold within ${maxMs} ms of simulated time\n${views.join('\n')}`);
    }
    return this.clock.now() - start;
  }

  /** Runs `ms` of simulated time, letting promise continuations run after every timer. */
  async run(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    await flushMicrotasks();
    while (this.clock.step(target)) await flushMicrotasks();
  }

  /** Runs simulated time until `predicate` holds; throws with context after `maxMs`. Returns the time it took. */
  async until(predicate: () => boolean, maxMs: number, what: string, stepMs = 5): Promise<number> {
    const start = this.clock.now();
    await flushMicrotasks();
    while (!predicate()) {
      if (this.clock.now() - start >= maxMs) {
        throw new Error(`seed ${this.seed}: ${what} did not hold within ${maxMs} ms of simulated time\n${this.describe()}`);
      }
      await this.run(stepMs);
    }
    return this.clock.now() - start;
  }

  /** Runs simulated time until `promise` settles (at most `maxMs`), then returns its outcome. */
  async resolve<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => (settled = true));
    tracked.catch(() => undefined);
    const start = this.clock.now();
    await flushMicrotasks();
    while (!settled) {
      if (this.clock.now() - start >= maxMs)
        throw new Error(`seed ${this.seed}: a request did not settle within ${maxMs} ms of simulated time\n${this.describe()}`);
      await this.run(5);
    }
    return tracked;
  }

  /** Every running node's view, for failure messages. */
  describe(): string {
    return this.running()
      .map((n) => {
        const local = n.local
          .whichChildren()
          .map((c) => `${c.id}:${c.status}`)
          .join(' ');
        return `${n.name}: up=[${n.upMembers().join(',')}] ready=${n.supervisor.isReady} local=[${local}]`;
      })
      .join('\n');
  }

  /** Running members hosting a running instance of `id`. */
  instances(id: string): string[] {
    return this.running()
      .filter((n) => n.local.child(id)?.status === 'running')
      .map((n) => n.name);
  }

  /** Ids of live specs as the given node sees them. */
  liveIds(node: PogoNode = this.running()[0]!): string[] {
    return node.supervisor
      .whichChildren('global')
      .map((c) => c.id)
      .sort();
  }

  /** Every live spec runs exactly once and nothing else runs (as every running node sees it). */
  exactlyOnce(ids?: string[]): boolean {
    const live = ids ?? this.liveIds();
    const views = this.running().map((n) => JSON.stringify(this.liveIds(n)));
    if (!views.every((v) => v === views[0])) return false;
    const running = new Set(
      this.running().flatMap((n) =>
        n.local
          .whichChildren()
          .filter((c) => c.status !== 'stopped')
          .map((c) => c.id),
      ),
    );
    for (const id of running) if (!live.includes(id)) return false;
    return live.every((id) => this.instances(id).length === 1);
  }

  stopAll(): void {
    for (const node of this.running()) {
      node.kill();
      this.runs.died(node, 'simulation ended');
    }
  }
}
