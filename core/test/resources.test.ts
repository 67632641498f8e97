/**
 * Resource sampling (resources.ts): the figures' arithmetic, the sampler on
 * a manual clock with a scripted process, and who gets the figures (only
 * observers that read them, and the sampler runs only while there is one).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MemoryLogger } from '../src/logger.js';
import {
  ResourceReporter,
  ResourceSampler,
  cpuPercent,
  lagFigures,
  readsResources,
  type LagStats,
  type ProcessProbe,
  type ResourceFigures,
} from '../src/resources.js';

const MS = 1e6; // ns per ms

describe('cpuPercent', () => {
  it('is CPU time over wall time, in % of one core', () => {
    expect(cpuPercent({ user: 0, system: 0 }, { user: 150_000, system: 50_000 }, 2_000)).toBe(10);
    expect(cpuPercent({ user: 1_000_000, system: 0 }, { user: 1_003_333, system: 0 }, 1_000)).toBe(0.3);
    // Two busy threads: more than one core.
    expect(cpuPercent({ user: 0, system: 0 }, { user: 3_000_000, system: 1_000_000 }, 2_000)).toBe(200);
  });

  it('is 0 for an empty interval and never negative', () => {
    expect(cpuPercent({ user: 0, system: 0 }, { user: 5, system: 5 }, 0)).toBe(0);
    expect(cpuPercent({ user: 10, system: 10 }, { user: 0, system: 0 }, 1_000)).toBe(0);
  });
});

describe('lagFigures', () => {
  it('is each statistic minus the resolution, in ms', () => {
    expect(lagFigures({ count: 20, mean: 100.25 * MS, p99: 104 * MS, max: 160.5 * MS }, 100)).toEqual({ mean: 0.25, p99: 4, max: 60.5 });
  });

  it('is never below 0 (a round that came a hair early was on time)', () => {
    expect(lagFigures({ count: 5, mean: 99.9 * MS, p99: 99.99 * MS, max: 100 * MS }, 100)).toEqual({ mean: 0, p99: 0, max: 0 });
  });

  it('is absent when the probe completed no round', () => {
    expect(lagFigures({ count: 0, mean: NaN, p99: 0, max: 0 }, 100)).toBeUndefined();
    expect(lagFigures({ count: 3, mean: NaN, p99: NaN, max: NaN }, 100)).toBeUndefined();
  });

  it('caps a stall at an hour (what the wire accepts)', () => {
    expect(lagFigures({ count: 1, mean: 5e15, p99: 5e15, max: 5e15 }, 100)?.max).toBe(3_600_000);
  });
});

/** A process whose CPU, memory and lag the test sets. */
class ScriptedProcess implements ProcessProbe {
  cpu = { user: 0, system: 0 };
  mem = { rss: 50_000_000, heapUsed: 10_000_000, heapTotal: 20_000_000 };
  lag: LagStats = { count: 0, mean: NaN, p99: NaN, max: NaN };
  lagOn = false;
  enables = 0;
  cpuUsage() {
    return { ...this.cpu };
  }
  memory() {
    return { ...this.mem };
  }
  enableLag() {
    this.lagOn = true;
    this.enables++;
  }
  disableLag() {
    this.lagOn = false;
  }
  takeLag() {
    const taken = this.lag;
    this.lag = { count: 0, mean: NaN, p99: NaN, max: NaN };
    return taken;
  }
}

function sampler(clock: ManualClock, probe: ProcessProbe, out: ResourceFigures[]): ResourceSampler {
  return new ResourceSampler({ clock, probe, intervalMs: 2_000, resolutionMs: 100, onSample: (f) => out.push(f), log: new MemoryLogger() });
}

describe('ResourceSampler', () => {
  it('reports each interval’s CPU, memory and lag while started, and nothing before or after', () => {
    const clock = new ManualClock(1_000);
    const probe = new ScriptedProcess();
    const out: ResourceFigures[] = [];
    const s = sampler(clock, probe, out);
    clock.advance(10_000);
    expect(out).toEqual([]);
    expect(probe.lagOn).toBe(false);

    // Whatever the probe held before the start is not the first interval's.
    probe.lag = { count: 1, mean: 5_000 * MS, p99: 5_000 * MS, max: 5_000 * MS };
    s.start();
    expect(probe.lagOn).toBe(true);
    probe.cpu = { user: 100_000, system: 20_000 };
    probe.lag = { count: 19, mean: 101 * MS, p99: 130 * MS, max: 142 * MS };
    clock.advance(2_000);
    expect(out).toEqual([{ intervalMs: 2_000, cpu: 6, rss: 50_000_000, heapUsed: 10_000_000, heapTotal: 20_000_000, lag: { mean: 1, p99: 30, max: 42 } }]);

    // The next interval counts from the end of the last; no lag rounds: no lag figures.
    probe.cpu = { user: 100_000, system: 60_000 };
    probe.mem = { rss: 60_000_000, heapUsed: 11_000_000, heapTotal: 20_000_000 };
    clock.advance(2_000);
    expect(out[1]).toEqual({ intervalMs: 2_000, cpu: 2, rss: 60_000_000, heapUsed: 11_000_000, heapTotal: 20_000_000 });

    s.stop();
    expect(probe.lagOn).toBe(false);
    clock.advance(20_000);
    expect(out).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('a probe that throws (EMFILE: out of file descriptors) skips the interval, logs once and samples on; the node lives', () => {
    // An outsider's tour: 1,100 idle connections to the status port under `ulimit -n 1024`; process.memoryUsage()
    // threw EMFILE in this timer and the node exited ("uncaught exception outside any worker").
    const clock = new ManualClock(1_000);
    const probe = new ScriptedProcess();
    const out: ResourceFigures[] = [];
    const log = new MemoryLogger();
    const s = new ResourceSampler({ clock, probe, intervalMs: 2_000, resolutionMs: 100, onSample: (f) => out.push(f), log });
    s.start();
    const memory = probe.memory.bind(probe);
    probe.memory = () => {
      throw Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
    };
    clock.advance(6_000);
    expect(out).toEqual([]);
    expect(log.entries.filter((e) => e.level === 'warn' && /cannot read the process figures/.test(e.message))).toHaveLength(1);
    probe.memory = memory;
    probe.cpu = { user: 160_000, system: 0 };
    clock.advance(2_000);
    // The sample after covers the whole time since the last one.
    expect(out).toEqual([{ intervalMs: 8_000, cpu: 2, rss: 50_000_000, heapUsed: 10_000_000, heapTotal: 20_000_000 }]);
    expect(s.running).toBe(true);
    s.stop();
  });

  it('start and stop are idempotent: one timer, one probe', () => {
    const clock = new ManualClock();
    const probe = new ScriptedProcess();
    const out: ResourceFigures[] = [];
    const s = sampler(clock, probe, out);
    s.start();
    s.start();
    expect(clock.pending()).toBe(1);
    expect(probe.enables).toBe(1);
    clock.advance(2_000);
    expect(out).toHaveLength(1);
    s.stop();
    s.stop();
    expect(s.running).toBe(false);
  });

  it('a listener that throws is logged and sampling goes on', () => {
    const clock = new ManualClock();
    const log = new MemoryLogger();
    let calls = 0;
    const s = new ResourceSampler({
      clock,
      probe: new ScriptedProcess(),
      intervalMs: 1_000,
      log,
      onSample: () => {
        calls++;
        throw new Error('boom');
      },
    });
    s.start();
    clock.advance(3_000);
    expect(calls).toBe(3);
    expect(log.entries.filter((l) => l.message === 'resource sample listener threw')).toHaveLength(3);
  });
});

describe('ResourceReporter', () => {
  const V22 = { major: 2, minor: 2 };

  it('a member samples while at least one observer that reads the figures is linked', () => {
    const clock = new ManualClock();
    const probe = new ScriptedProcess();
    const s = sampler(clock, probe, []);
    const r = new ResourceReporter(s, true);
    r.peerUp({ name: 'm2', role: 'member' }, V22);
    r.peerUp({ name: 'old-ui', role: 'observer' }, { major: 2, minor: 1 });
    expect(s.running).toBe(false);
    expect([...r.recipients()]).toEqual([]);
    r.peerUp({ name: 'ui-1', role: 'observer' }, V22);
    r.peerUp({ name: 'ui-2', role: 'observer' }, { major: 2, minor: 7 });
    expect(s.running).toBe(true);
    expect([...r.recipients()].sort()).toEqual(['ui-1', 'ui-2']);
    r.peerDown('ui-1');
    r.peerDown('m2');
    expect(s.running).toBe(true);
    r.peerDown('ui-2');
    expect(s.running).toBe(false);
    expect(probe.lagOn).toBe(false);
  });

  it('an observer reports nothing to anyone', () => {
    const s = sampler(new ManualClock(), new ScriptedProcess(), []);
    const r = new ResourceReporter(s, false);
    r.peerUp({ name: 'ui', role: 'observer' }, V22);
    expect(s.running).toBe(false);
  });

  it('reads the figures from protocol 2.2 on', () => {
    expect([readsResources({ major: 2, minor: 1 }), readsResources({ major: 2, minor: 2 }), readsResources({ major: 3, minor: 0 })]).toEqual([
      false,
      true,
      true,
    ]);
  });
});
