/**
 * Deterministic cluster simulation: PogoNodes on the in-memory network,
 * driven by one ManualClock and one seeded Random. No sockets, no sleeps; the
 * same seed replays the same run, event for event.
 */
import { ManualClock } from '../../src/clock.js';
import { MemoryLogger } from '../../src/logger.js';
import { PogoNode, createNodeConfig } from '../../src/node.js';
import type { NodeConfigInput } from '../../src/config.js';
import { SeededRandom } from '../../src/random.js';
import { MemoryNetwork } from '../../src/transport/memory.js';

export const SIM_SECRET = 'simulation-secret-0123456789';

export class SimCluster {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly random: SeededRandom;
  readonly network: MemoryNetwork;
  readonly nodes = new Map<string, PogoNode>();
  readonly log = new MemoryLogger();
  /** Every member event of every node, in order: the run's fingerprint. */
  readonly trace: string[] = [];

  constructor(readonly seed: number, options: { latencyMs?: number; jitterMs?: number } = {}) {
    this.random = new SeededRandom(seed);
    this.network = new MemoryNetwork({ clock: this.clock, random: this.random, latencyMs: options.latencyMs ?? 1, jitterMs: options.jitterMs ?? 3, connectTimeoutMs: 500 });
  }

  static address(name: string): string {
    return `${name}:4370`;
  }

  async start(name: string, seeds: string[] = [], config: Partial<NodeConfigInput> = {}): Promise<PogoNode> {
    if (this.nodes.get(name)?.running) throw new Error(`${name} is already running`);
    const node = await PogoNode.start(createNodeConfig({ name, secret: SIM_SECRET, seeds: seeds.map(SimCluster.address), ...config }), {
      clock: this.clock,
      random: this.random,
      log: this.log,
      transport: this.network.transport(SimCluster.address(name)),
    });
    const record = (kind: string, member: { name: string; incarnation: string }): void => {
      this.trace.push(`${this.clock.now()} ${name} ${kind} ${member.name}/${member.incarnation}`);
    };
    node.on('member-up', (e) => record(e.kind, e.member));
    node.on('member-down', (e) => record(e.kind, e.member));
    node.on('member-left', (e) => record(e.kind, e.member));
    this.nodes.set(name, node);
    return node;
  }

  /** The process dies: no leave, connections reset. */
  crash(name: string): void {
    const node = this.mustGet(name);
    this.network.crash(SimCluster.address(name));
    node.kill();
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

  stopAll(): void {
    for (const node of this.running()) node.kill();
  }
}
