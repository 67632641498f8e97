/**
 * Resource figures of a node's own process — CPU, memory, event-loop lag —
 * sampled every `intervalMs` (default 2 s) for the observers linked to it
 * (protocol.ts `res`, since 2.2), which show them in the desktop app's node
 * detail. The same figures exist at `/metrics` (prom-client's process
 * metrics); these are the few an operator looks at first, sent where the UI
 * is instead of scraped.
 *
 * What each figure is, per interval (ResourceSampler.tick):
 *   cpu        user + system CPU time of the process over the interval's wall
 *              time, % of one core (process.cpuUsage; above 100 when worker
 *              threads are busy too)
 *   rss        resident set size; heapUsed / heapTotal: the V8 heap in use
 *              and reserved (process.memoryUsage), bytes
 *   lag        how late the event loop runs a timer, ms: mean, p99 and max
 *              over the interval (`lagFigures`)
 *
 * The lag probe is perf_hooks' monitorEventLoopDelay: a libuv timer that
 * re-arms itself every `resolution` ms and records how long each round
 * really took; its lateness is that minus the resolution. Its cost is its
 * wake-ups — measured on the 2-core test machine, an otherwise idle process
 * spent about 1 % of a core on it at the default 10 ms, 0.1 % at 100 ms and
 * 0.02 % at 500 ms — so it runs at `resolutionMs` (default 100, what
 * metrics.ts chose for `/metrics` for the same reason). What that resolution
 * costs in accuracy: the mean is the average lateness over the probe's
 * rounds (a stall meets a round in proportion to its length, at any
 * resolution); a stall longer than the resolution shows in max and p99 at
 * up to its full length (at least its length minus one resolution); a
 * shorter one only when a round falls due inside it.
 *
 * Cost when nobody looks: none. The sampler, and the lag probe with it, run
 * only between `start` and `stop`; ResourceReporter starts it when the first
 * observer links to the node and stops it when the last one goes, so a
 * cluster without a UI attached is exactly as idle as before. Each report is
 * one small frame per observer that rides with the link's next heartbeat
 * (link.ts `sendWithNextFrame`): no frame of its own on the wire.
 *
 * Time and the process are injected (Clock, ProcessProbe), so the sampler
 * is tested on a ManualClock with a scripted probe; `lagFigures` and
 * `cpuPercent` are pure.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Clock, TimerHandle } from './clock.js';
import type { Logger } from './logger.js';
import type { Resources, Role } from './protocol.js';

/** The figures of one interval, as `res` carries them (without its tag). */
export type ResourceFigures = Omit<Resources, 't'>;

export const DEFAULT_RESOURCE_INTERVAL_MS = 2_000;
export const DEFAULT_LAG_RESOLUTION_MS = 100;

/** CPU time as process.cpuUsage() gives it, µs. */
export interface CpuTime {
  /** CPU time spent in user code, µs. */
  user: number;
  /** CPU time spent in the kernel on the process's behalf, µs. */
  system: number;
}

/** What the lag probe recorded since it was last taken: the histogram's round count and its mean, p99 and max, ns (rounds include the resolution). */
export interface LagStats {
  /** Rounds the histogram recorded. */
  count: number;
  /** Mean lag, ns. */
  mean: number;
  /** 99th percentile lag, ns. */
  p99: number;
  /** Largest lag, ns. */
  max: number;
}

/** The process the sampler reads. `systemProbe` reads this process; tests script one. */
export interface ProcessProbe {
  /** The process's CPU time so far (as process.cpuUsage() gives it), µs. */
  cpuUsage(): CpuTime;
  /** The process's resident set size and V8 heap in use and reserved, bytes. */
  memory(): { rss: number; heapUsed: number; heapTotal: number };
  /** Starts the lag probe (idempotent). */
  enableLag(): void;
  /** Stops it (idempotent): no more wake-ups. */
  disableLag(): void;
  /** What it recorded since the last call (or since it was enabled), and starts afresh. */
  takeLag(): LagStats;
}

const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** CPU time between two readings over `wallMs` of wall time, % of one core (one decimal); 0 for an empty interval. */
export function cpuPercent(before: CpuTime, after: CpuTime, wallMs: number): number {
  if (!(wallMs > 0)) return 0;
  const usedMs = (after.user - before.user + (after.system - before.system)) / 1000;
  return round(Math.max(0, (usedMs / wallMs) * 100), 1);
}

/**
 * The lag of an interval from the probe's histogram: each of mean, p99 and
 * max minus the probe's resolution (a round that took exactly the
 * resolution was on time), never below 0, in ms with two decimals.
 * Undefined when the probe completed no round in the interval (it was just
 * enabled, or the loop was blocked the whole time — then the next interval
 * shows the stall).
 */
export function lagFigures(stats: LagStats, resolutionMs: number): ResourceFigures['lag'] {
  if (!(stats.count > 0) || !Number.isFinite(stats.mean) || !Number.isFinite(stats.max)) return undefined;
  const late = (ns: number): number => round(Math.min(3_600_000, Math.max(0, ns / 1e6 - resolutionMs)), 2);
  return { mean: late(stats.mean), p99: late(Number.isFinite(stats.p99) ? stats.p99 : stats.max), max: late(stats.max) };
}

/** This process, with a monitorEventLoopDelay histogram of `resolutionMs` as the lag probe (created on first use). */
export function systemProbe(resolutionMs = DEFAULT_LAG_RESOLUTION_MS): ProcessProbe {
  let histogram: IntervalHistogram | undefined;
  return {
    cpuUsage: () => process.cpuUsage(),
    memory: () => {
      const m = process.memoryUsage();
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal };
    },
    enableLag: () => {
      histogram ??= monitorEventLoopDelay({ resolution: resolutionMs });
      histogram.enable();
    },
    disableLag: () => {
      histogram?.disable();
      histogram?.reset();
    },
    takeLag: () => {
      if (!histogram) return { count: 0, mean: NaN, p99: NaN, max: NaN };
      const stats = { count: histogram.count, mean: histogram.mean, p99: histogram.percentile(99), max: histogram.max };
      histogram.reset();
      return stats;
    },
  };
}

export interface ResourceSamplerOptions {
  clock: Clock;
  probe: ProcessProbe;
  /** Length of a sampling interval, ms. */
  intervalMs?: number;
  /** The lag probe's resolution, ms (what `lagFigures` subtracts). */
  resolutionMs?: number;
  /** Called with each interval's figures; must not throw (a throw is logged). */
  onSample(figures: ResourceFigures): void;
  log: Logger;
}

/** Samples the process every interval while started. */
export class ResourceSampler {
  private timer: TimerHandle | undefined;
  private cpu: CpuTime | undefined;
  private since = 0;
  readonly intervalMs: number;
  private readonly resolutionMs: number;

  constructor(private readonly o: ResourceSamplerOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_RESOURCE_INTERVAL_MS;
    this.resolutionMs = o.resolutionMs ?? DEFAULT_LAG_RESOLUTION_MS;
  }

  get running(): boolean {
    return this.cpu !== undefined;
  }

  /** Starts sampling (idempotent): the first figures come one interval later. */
  start(): void {
    if (this.running) return;
    this.o.probe.enableLag();
    this.o.probe.takeLag(); // whatever an earlier run left behind is not this interval's
    this.cpu = this.o.probe.cpuUsage();
    this.since = this.o.clock.now();
    this.schedule();
  }

  /** Stops sampling and the lag probe (idempotent). */
  stop(): void {
    if (!this.running) return;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.cpu = undefined;
    this.o.probe.disableLag();
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.tick();
      if (this.running) this.schedule();
    }, this.intervalMs);
  }

  /** The probe failed on the last tick (logged once until it reads again). */
  private failing = false;

  private tick(): void {
    const now = this.o.clock.now();
    let cpu: CpuTime;
    let memory: { rss: number; heapUsed: number; heapTotal: number };
    try {
      cpu = this.o.probe.cpuUsage();
      memory = this.o.probe.memory();
    } catch (err) {
      // process.memoryUsage() throws EMFILE when the process is out of file descriptors (an outsider's
      // tour: 1,100 idle connections to the status port under `ulimit -n 1024`), and this timer's throw
      // ended the node. No figures this interval; the next one covers both.
      if (!this.failing) this.o.log.warn({ err }, 'cannot read the process figures; no resource sample this interval');
      this.failing = true;
      return;
    }
    this.failing = false;
    const wall = Math.max(1, now - this.since);
    const lag = lagFigures(this.o.probe.takeLag(), this.resolutionMs);
    const figures: ResourceFigures = {
      intervalMs: Math.min(3_600_000, Math.round(wall)),
      cpu: Math.min(100_000, cpuPercent(this.cpu!, cpu, wall)),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      ...(lag ? { lag } : {}),
    };
    this.cpu = cpu;
    this.since = now;
    try {
      this.o.onSample(figures);
    } catch (err) {
      this.o.log.error({ err }, 'resource sample listener threw');
    }
  }
}

/** True when a peer of this protocol version reads `res` (2.2 and later). */
export function readsResources(protocol: { major: number; minor: number }): boolean {
  return protocol.major > 2 || (protocol.major === 2 && protocol.minor >= 2);
}

/**
 * Who gets a member's figures: the observers linked to it that read them.
 * The sampler runs while there is at least one (see the header).
 */
export class ResourceReporter {
  private readonly observers = new Set<string>();

  constructor(
    private readonly sampler: ResourceSampler,
    private readonly isMember: boolean,
  ) {}

  /** A link came up. */
  peerUp(peer: { name: string; role: Role }, protocol: { major: number; minor: number }): void {
    if (!this.isMember || peer.role !== 'observer' || !readsResources(protocol)) return;
    this.observers.add(peer.name);
    this.sampler.start();
  }

  /** A link went down. */
  peerDown(name: string): void {
    if (this.observers.delete(name) && this.observers.size === 0) this.sampler.stop();
  }

  /** The observers to send the figures to. */
  recipients(): ReadonlySet<string> {
    return this.observers;
  }

  stop(): void {
    this.observers.clear();
    this.sampler.stop();
  }
}
