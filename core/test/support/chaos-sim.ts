/**
 * One randomized run of the distributed supervisor in simulation, checked
 * against the guarantees of DESIGN §3.5. Everything comes from the seed: the
 * same seed replays the same run, so a failure message names the seed.
 *
 * Operations: start, terminate, move (pin), unpin, drain, undrain, pause and
 * resume rebalancing, crash a node, restart it, and network faults as rude
 * as real ones (transport/memory.ts):
 * - split: two sides, each pair across cut at its own moment (all at once,
 *   within 20 ms, or within 300 ms: a cut-off node still sees some peers for
 *   a while); each node notices by its own heartbeat timeout;
 * - partial: some pairs cut both ways, the others not;
 * - one-way: some directions cut (a node heard by nobody while it hears
 *   everyone, or the reverse, or single directions);
 * - heal: every cut direction healed at its own moment over 0, 10 or 50 ms
 *   (a heal that reaches one peer before another, one direction before the
 *   other);
 * - rolling: every cut healed and a new split made in the same instant.
 * With `durable`, every node keeps a data dir (a crashed node comes back on
 * its own file, whatever its last save missed) and tombstones are collected
 * within the run (a 3 s TTL), so a node restarted during collection meets
 * the roster affirmations of distributed/tombstones.ts (5): a restart must
 * never be taken for a restored backup (the affirm is on disk first).
 * Checks:
 * - majority mode, from the instance records (support/instance-log.ts, what
 *   really ran where and when, never the cluster's view): no child runs
 *   twice at any moment of the run, except a start-first child in a planned
 *   handoff (two instances, the later one started by a node whose pg listed
 *   the earlier one as it started: a handoff, not a takeover; a cut can make
 *   it last until a lease runs out);
 * - majority mode: a node that has had fewer than a majority of the expected
 *   members able to hear it and answer (both directions uncut, alive) for
 *   1.5 s runs nothing (its lease ran out: 600 ms, then its children stop);
 * - during calm phases (no cut, nothing crashed recently): a stop-first
 *   child never has two instances (planned moves never overlap; available
 *   mode runs duplicates during splits by design);
 * - after quiescence: every live spec runs exactly once; every start that
 *   resolved and was not terminated afterwards is still live; every
 *   terminated child stays gone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { group } from '../../src/distributed/tags.js';
import { SUPERVISOR_SCOPE, type PogoNode } from '../../src/node.js';
import { SeededRandom } from '../../src/random.js';
import { InstanceLog, type InstanceSpan, type Overlap } from './instance-log.js';
import { FAST_TIMING, SimCluster } from './sim.js';

export interface ChaosOptions {
  nodes?: number;
  steps?: number;
  ids?: number;
  /** Forces the netsplit mode (otherwise the seed draws it: majority one run in two). */
  mode?: 'available' | 'majority';
  /** Every node keeps a data dir (in a temporary directory, removed after the run), and tombstones are collected within it. */
  durable?: boolean;
  /** Receives a line per operation, per network fault and per supervisor event of `traceId` (for debugging a seed). */
  trace?: (line: string) => void;
  traceId?: string;
}

export interface ChaosResult {
  seed: number;
  mode: 'available' | 'majority';
  operations: number;
  violations: string[];
  /** Every overlap of two instances of a child in the run (the instance records), allowed or not. */
  overlaps: Overlap[];
}

const ADDRESS = SimCluster.address;

/** A fixed handoff per id: about one id in five asks for start-first. */
function hashHandoff(id: string): 'stop-first' | 'start-first' {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % 5 === 0 ? 'start-first' : 'stop-first';
}

/** How long a node without a majority behind it may still run children: its lease (600 ms) and stop, with room. */
const LEASE_GONE_MS = 1_500;

/** The seed's random stream (every choice of a run comes from it). */
function seedRandom(seed: number): SeededRandom {
  return new SeededRandom(seed ^ 0x5eed);
}

/** The netsplit mode a seed draws when none is forced: majority one run in two (the stream's first draw). */
export function drawnMode(seed: number): 'available' | 'majority' {
  return seedRandom(seed).next() < 0.5 ? 'majority' : 'available';
}

export async function runChaos(seed: number, options: ChaosOptions = {}): Promise<ChaosResult> {
  const rng = seedRandom(seed);
  const nodeCount = options.nodes ?? 5;
  const steps = options.steps ?? 24;
  const idPool = Array.from({ length: options.ids ?? 12 }, (_, i) => `c${i}`);
  rng.next(); // the mode's draw (drawnMode)
  const mode = options.mode ?? drawnMode(seed);
  const quorum = Math.floor(nodeCount / 2) + 1;
  const config = {
    ...FAST_TIMING,
    antiEntropyIntervalMs: 2_000,
    netsplit: mode,
    ...(mode === 'majority' ? { expectedMembers: nodeCount } : {}),
    ...(options.durable ? { tombstoneTtlMs: 3_000 } : {}),
  };
  const dataRoot = options.durable ? mkdtempSync(join(tmpdir(), 'pogo-chaos-')) : undefined;
  const sim = new SimCluster(seed, { latencyMs: 1, jitterMs: 4 });
  const names = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const violations: string[] = [];
  /** Per id: start requests and terminate requests, with their step and whether the network was cut at any moment of their life. */
  const starts = new Map<string, Array<{ step: number; split: boolean; resolved: boolean }>>();
  const terminates = new Map<string, Array<{ step: number; split: boolean; ok: boolean }>>();
  const crashed = new Set<string>();
  let lastDisturbance = 0;
  let operations = 0;

  // ---- network faults ------------------------------------------------------------------

  /** Fault timers not yet fired (cuts and heals that reach their pair later). */
  const pending = new Set<ReturnType<typeof sim.clock.setTimeout>>();
  /** Counts cuts applied: a request whose life saw it change saw a cut. */
  let cutEpoch = 0;
  /** When the reachability last changed (a cut, a heal, a crash). */
  let lastReachChange = 0;
  const noteCuts = (): void => {
    lastReachChange = sim.clock.now();
  };
  const netDisturbed = (): boolean => pending.size > 0 || sim.network.cutsNow().length > 0;
  const say = (line: string): void => options.trace?.(`t=${sim.clock.now() - SimCluster.START} ${line}`);
  /** Runs `fn` in `ms` (0: now, in this very instant). */
  const at = (ms: number, fn: () => void): void => {
    if (ms <= 0) {
      fn();
      return;
    }
    const timer = sim.clock.setTimeout(() => {
      pending.delete(timer);
      fn();
    }, ms);
    pending.add(timer);
  };
  const cutDirection = (from: string, to: string, ms: number): void =>
    at(ms, () => {
      sim.network.cutOneWay(ADDRESS(from), ADDRESS(to));
      cutEpoch++;
      noteCuts();
      say(`cut ${from} -> ${to}`);
    });
  const healDirection = (from: string, to: string, ms: number): void =>
    at(ms, () => {
      sim.network.healOneWay(ADDRESS(from), ADDRESS(to));
      noteCuts();
      say(`heal ${from} -> ${to}`);
    });
  const spreadOf = (choices: readonly number[]): number => choices[rng.int(choices.length)]!;
  const shuffled = (xs: readonly string[]): string[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  /** Two sides, each pair across cut both ways at its own moment within `spread` ms. */
  const split = (spread: number): string[][] => {
    const order = shuffled(names);
    const cut = 1 + rng.int(names.length - 1);
    const sides = [order.slice(0, cut), order.slice(cut)];
    say(`split ${sides[0]!.join(',')} | ${sides[1]!.join(',')} over ${spread} ms`);
    for (const a of sides[0]!) {
      for (const b of sides[1]!) {
        cutDirection(a, b, rng.int(spread + 1));
        cutDirection(b, a, rng.int(spread + 1));
      }
    }
    return sides;
  };
  /** Some pairs cut both ways, the others not (at least one pair). */
  const partial = (): void => {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) pairs.push([names[i]!, names[j]!]);
    const chosen = pairs.filter(() => rng.next() < 0.3);
    if (chosen.length === 0) chosen.push(pairs[rng.int(pairs.length)]!);
    say(`partial: ${chosen.map(([a, b]) => `${a}-${b}`).join(' ')}`);
    const spread = spreadOf([0, 20]);
    for (const [a, b] of chosen) {
      cutDirection(a, b, rng.int(spread + 1));
      cutDirection(b, a, rng.int(spread + 1));
    }
  };
  /** One-way loss: a node nobody hears (it hears everyone), a node that hears nobody, or a few single directions. */
  const oneWay = (): void => {
    const kind = rng.int(3);
    const x = names[rng.int(names.length)]!;
    const spread = spreadOf([0, 20]);
    if (kind === 0) {
      say(`one-way: nobody hears ${x}`);
      for (const y of names) if (y !== x) cutDirection(x, y, rng.int(spread + 1));
    } else if (kind === 1) {
      say(`one-way: ${x} hears nobody`);
      for (const y of names) if (y !== x) cutDirection(y, x, rng.int(spread + 1));
    } else {
      const count = 1 + rng.int(3);
      say(`one-way: ${count} direction(s)`);
      for (let i = 0; i < count; i++) {
        const [a, b] = shuffled(names);
        cutDirection(a!, b!, rng.int(spread + 1));
      }
    }
  };
  /** Every cut direction healed at its own moment within `spread` ms. */
  const healAll = (spread: number): void => {
    say(`heal over ${spread} ms`);
    for (const [from, to] of sim.network.cutsNow()) healDirection(name(from), name(to), rng.int(spread + 1));
  };
  const name = (address: string): string => address.slice(0, address.indexOf(':'));
  /** Drops every fault still to come and heals everything now. */
  const healNow = (): void => {
    for (const t of pending) sim.clock.clearTimeout(t);
    pending.clear();
    sim.network.heal();
    noteCuts();
  };
  const alive = (): PogoNode[] => sim.running();
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;

  /** Per instance span: the other nodes whose instance of the child the starting node's pg listed as it started. */
  const sawRunning = new WeakMap<InstanceSpan, string[]>();
  /** A start-first handoff: two instances, the later one started by a node that saw the other one running (not a takeover). */
  const plannedHandoff = (o: Overlap): boolean => {
    if (hashHandoff(o.id) !== 'start-first' || o.spans.length !== 2) return false;
    const [first, second] = [...o.spans].sort((x, y) => x.start.seq - y.start.seq);
    return sawRunning.get(second!)?.includes(first!.node) === true;
  };

  try {
    const watch = (n: PogoNode): void => {
      n.local.on('child', (e) => {
        if (e.to !== 'starting') return;
        const span = sim.runs.openSpan(n, e.id);
        if (span && !sawRunning.has(span))
          sawRunning.set(
            span,
            n.groups
              .getMembers(SUPERVISOR_SCOPE, group.run(e.id))
              .map((m) => m.node)
              .filter((x) => x !== n.name),
          );
      });
      if (!options.trace) return;
      n.supervisor.on('event', (e) => {
        if ('id' in e && e.id === options.traceId) say(`[${n.name}] ${JSON.stringify(e)}`);
        if (e.type === 'node-up' || e.type === 'node-down') say(`[${n.name}] ${e.type} ${e.node}`);
      });
      n.local.on('child', (e) => {
        if (e.id === options.traceId) say(`[${n.name}/${n.incarnation.slice(0, 4)}] local ${e.id} ${e.from ?? '-'} -> ${e.to} (${e.reason})`);
      });
    };
    const startNode = async (name: string, seeds: string[]): Promise<void> =>
      watch(await sim.start(name, seeds, dataRoot === undefined ? config : { ...config, dataDir: join(dataRoot, name) }));
    for (const name of names) await startNode(name, name === 'n1' ? [] : ['n1', 'n2']);
    await sim.until(() => sim.fullMesh() && alive().every((n) => n.supervisor.isReady), 10_000, 'initial mesh');

    const calm = (): boolean => !netDisturbed() && crashed.size === 0 && sim.clock.now() - lastDisturbance > 3_000 && sim.fullMesh();

    /** Nodes a node can both hear and be heard by (alive, both directions uncut). */
    const hearsBack = (n: string): number =>
      alive().filter((m) => m.name !== n && !sim.network.isCut(ADDRESS(n), ADDRESS(m.name)) && !sim.network.isCut(ADDRESS(m.name), ADDRESS(n))).length;

    /** Advances time, checking the no-overlap invariant while calm and, in majority mode, that a node without a majority runs nothing. */
    const advance = async (ms: number): Promise<void> => {
      const end = sim.clock.now() + ms;
      while (sim.clock.now() < end) {
        await sim.run(Math.min(20, end - sim.clock.now()));
        if (mode === 'majority' && pending.size === 0 && sim.clock.now() - lastReachChange >= LEASE_GONE_MS) {
          for (const n of alive()) {
            if (hearsBack(n.name) + 1 >= quorum) continue;
            const running = n.local.whichChildren().filter((c) => c.status !== 'stopped');
            if (running.length > 0)
              violations.push(
                `t=${sim.clock.now() - SimCluster.START} majority mode: ${n.name} has heard back from only ${hearsBack(n.name)} peer(s) ` +
                  `for ${sim.clock.now() - lastReachChange} ms and still runs ${running.map((c) => `${c.id} (${c.status})`).join(', ')}`,
              );
          }
        }
        if (!calm()) continue;
        const node = alive()[0]!;
        for (const child of node.supervisor.whichChildren('global')) {
          if (child.spec.handoff !== 'stop-first') continue;
          const running = sim.instances(child.id);
          if (running.length > 1)
            violations.push(`t=${sim.clock.now() - SimCluster.START} overlap: ${child.id} runs on ${running.join(', ')} in a calm, connected cluster`);
        }
      }
    };

    /** Tracks a request: `split` is set if the network was cut at any moment of its life. */
    const track = (promise: Promise<unknown>, entry: { split: boolean } | undefined, onOk?: () => void): void => {
      const epoch = cutEpoch;
      const done = (): void => {
        if (entry && (cutEpoch !== epoch || netDisturbed())) entry.split = true;
      };
      promise.then(() => {
        done();
        onOk?.();
      }, done);
    };
    const log = <T>(map: Map<string, T[]>, id: string, entry: T): T => {
      const list = map.get(id) ?? [];
      map.set(id, list);
      list.push(entry);
      return entry;
    };

    for (let step = 0; step < steps; step++) {
      operations++;
      const roll = rng.next();
      const nodes = alive();
      const node = pick(nodes);
      const id = pick(idPool);
      say(`step ${step} roll ${roll.toFixed(3)} on ${node.name} id ${id}`);
      if (roll < 0.3) {
        // One spec per id, so repeated starts are idempotent rather than conflicts.
        const handoff = hashHandoff(id);
        const entry = log(starts, id, { step, split: netDisturbed(), resolved: false });
        track(node.supervisor.startChild({ id, start: { worker: 'w' }, handoff }), entry, () => {
          entry.resolved = true;
          say(`start ${id} from ${node.name} resolved`);
        });
      } else if (roll < 0.42) {
        const entry = log(terminates, id, { step, split: netDisturbed(), ok: false });
        track(node.supervisor.terminateChild(id), entry, () => (entry.ok = true));
      } else if (roll < 0.5) {
        track(node.supervisor.moveChild(id, pick(nodes).name), undefined);
      } else if (roll < 0.54) {
        try {
          node.supervisor.unpin(id);
        } catch {
          // not found: fine
        }
      } else if (roll < 0.6) {
        try {
          node.supervisor.drain(pick(nodes).name);
        } catch {
          // unknown node in this view: fine
        }
      } else if (roll < 0.66) {
        for (const d of node.supervisor.draining()) node.supervisor.undrain(d);
      } else if (roll < 0.7) {
        node.supervisor.setRebalancing(rng.next() < 0.5);
      } else if (roll < 0.78) {
        if (nodes.length > 2) {
          const victim = pick(nodes.filter((n) => n.name !== 'n1')).name;
          sim.crash(victim);
          say(`crash ${victim}`);
          crashed.add(victim);
          lastDisturbance = sim.clock.now();
          lastReachChange = sim.clock.now();
        }
      } else if (roll < 0.84) {
        if (crashed.size > 0) {
          const back = pick([...crashed]);
          crashed.delete(back);
          say(`restart ${back}`);
          await startNode(back, ['n1', 'n2']);
          lastDisturbance = sim.clock.now();
        }
      } else {
        // A network fault: a new one on a whole network, otherwise a heal, a rolling partition, or one more fault.
        const sub = rng.next();
        if (!netDisturbed()) {
          if (sub < 0.45) split(spreadOf([0, 20, 300]));
          else if (sub < 0.7) partial();
          else oneWay();
        } else if (sub < 0.5) {
          healAll(spreadOf([0, 10, 50]));
        } else if (sub < 0.8) {
          // Rolling: heal every cut and split anew in the same instant (cuts of the new split still land over their spread).
          say('rolling partition');
          for (const t of pending) sim.clock.clearTimeout(t);
          pending.clear();
          healAll(0);
          split(spreadOf([0, 20]));
        } else if (sub < 0.9) partial();
        else oneWay();
        lastDisturbance = sim.clock.now();
      }
      await advance(rng.int(400));
      // Now and then let a fault stand long enough for leases to run out and members to be taken over.
      if (netDisturbed() && rng.next() < 0.3) await advance(2_000);
    }

    // Quiescence: heal, bring everyone back, resume, undrain, and let it settle.
    say('quiescence');
    healNow();
    for (const back of [...crashed]) {
      crashed.delete(back);
      await startNode(back, ['n1', 'n2']);
    }
    const n1 = alive()[0]!;
    n1.supervisor.setRebalancing(false);
    for (const d of n1.supervisor.draining()) n1.supervisor.undrain(d);
    lastDisturbance = sim.clock.now();
    await sim.until(() => sim.fullMesh() && alive().every((n) => n.supervisor.isReady), 15_000, 'mesh after quiescence');
    await advance(8_000);

    const live = sim.liveIds();
    const views = alive().map((n) => `${n.name}: ${sim.liveIds(n).join(',')}`);
    if (!views.every((v) => v.slice(v.indexOf(':')) === views[0]!.slice(views[0]!.indexOf(':'))))
      violations.push(`views of live specs differ:\n${views.join('\n')}`);
    for (const id of live) {
      const on = sim.instances(id);
      if (on.length !== 1) violations.push(`${id} runs ${on.length} times (${on.join(', ') || 'nowhere'}) after quiescence`);
    }
    for (const id of idPool) {
      const s = starts.get(id) ?? [];
      const t = terminates.get(id) ?? [];
      // No lost spec: a start that resolved in a connected cluster (then every
      // up member holds the spec, n1 among them, and n1 never crashes), with
      // no terminate requested on this id at all. A start that resolved on a
      // split side is held by that side only, which may then die whole.
      if (t.length === 0 && s.some((x) => x.resolved && !x.split) && !live.includes(id))
        violations.push(`${id}: startChild resolved, never terminated, but the spec is lost`);
      // Terminate wins: a terminate that completed after every start request, none of them made during a split, stays final.
      const lastOk = t.filter((x) => x.ok).at(-1);
      if (lastOk && s.every((x) => x.step < lastOk.step && !x.split) && !lastOk.split) {
        if (live.includes(id)) violations.push(`${id} was terminated but its spec is live again`);
        if (sim.instances(id).length > 0) violations.push(`${id} was terminated but still runs on ${sim.instances(id).join(', ')}`);
      }
    }
    for (const node of alive()) {
      for (const c of node.local.whichChildren()) {
        if (c.status === 'running' && !live.includes(c.id)) violations.push(`${node.name} runs ${c.id}, which is not a live spec`);
      }
    }
  } catch (err) {
    violations.push(`error: ${(err as Error).message}`);
  } finally {
    for (const t of pending) sim.clock.clearTimeout(t);
    sim.stopAll();
    if (dataRoot !== undefined) rmSync(dataRoot, { recursive: true, force: true });
  }

  // Majority mode: no child ever ran twice at any moment (the instance records), except a
  // start-first handoff (a spec that asks for the overlap; a cut can make it last up to a lease).
  const overlaps = sim.runs.overlaps();
  if (mode === 'majority') {
    for (const o of overlaps) {
      if (!plannedHandoff(o)) violations.push(`majority mode: ${InstanceLog.describe(o, SimCluster.START)}`);
    }
  }
  if (options.trace && options.traceId)
    for (const s of sim.runs.of(options.traceId))
      options.trace(
        `span ${s.node}/${s.incarnation.slice(0, 4)} [${s.start.t - SimCluster.START}..${s.end ? s.end.t - SimCluster.START : ''}) ${s.endedBy ?? ''}`,
      );
  return { seed, mode, operations, violations, overlaps };
}
