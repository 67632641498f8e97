/**
 * LocalSupervisor with worker children on the manual clock: restart policy,
 * intensity and failing backoff, start failures, terminate/restart/delete.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ProcessGroups } from '../src/groups.js';
import { MemoryLogger } from '../src/logger.js';
import { SeededRandom } from '../src/random.js';
import { LocalSupervisor, SupervisorError, type ChildEvent } from '../src/supervisor/local-supervisor.js';
import { WorkerRegistry, type WorkerContext, type WorkerExit } from '../src/supervisor/workers.js';
import { StallableClock } from './support/stallable-clock.js';

const INC = 'abcdef0123456789';

/** Lets pending promise continuations run (no real time passes). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** A controllable worker type: each live instance can be told to exit. */
class Probe {
  readonly live = new Map<string, { ctx: WorkerContext; stopped: boolean }>();
  starts = 0;
  register(registry: WorkerRegistry, name = 'probe'): void {
    registry.define(name, (_args, ctx) => {
      this.starts++;
      const entry = { ctx, stopped: false };
      this.live.set(ctx.id, entry);
      return {
        stop: () => {
          entry.stopped = true;
          this.live.delete(ctx.id);
        },
      };
    });
  }
  exit(id: string, reason?: WorkerExit): void {
    const entry = this.live.get(id);
    if (!entry) throw new Error(`no live instance of ${id}`);
    this.live.delete(id);
    entry.ctx.exit(reason);
  }
}

function setup(options: { startTimeoutMs?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  /** The supervisor's view of the clock: a test may stall it (a frozen node: timers held, then run late). */
  const stall = new StallableClock(clock);
  const log = new MemoryLogger();
  const registry = new WorkerRegistry();
  const groups = new ProcessGroups({ node: 'n1', incarnation: INC, channel: { send() {} }, log });
  let next = 1;
  const sup = new LocalSupervisor({
    node: 'n1',
    clock: stall,
    random: new SeededRandom(1),
    log,
    groups,
    workers: registry,
    allowCommands: [],
    newPid: () => `n1/${INC}/c${next++}`,
    startTimeoutMs: options.startTimeoutMs ?? 1_000,
    failingBackoffBaseMs: 1_000,
    failingBackoffMaxMs: 8_000,
  });
  const events: ChildEvent[] = [];
  sup.on('child', (e) => events.push(e));
  const probe = new Probe();
  probe.register(registry);
  return { clock, stall, log, registry, groups, sup, events, probe };
}

const spec = (id: string, extra: Record<string, unknown> = {}) => ({ id, start: { worker: 'probe' }, ...extra });

/**
 * Starts child `s`, a worker whose message handler waits until the test lets it go (`unblock`, one per
 * message in arrival order) and then counts; `onTake` sees the count when the state is taken, and what it
 * returns is the state. Its channel, and the count as it is now.
 */
async function slowCounter(sup: LocalSupervisor, registry: WorkerRegistry, onTake: (count: number) => number) {
  let count = 0;
  const unblock: Array<() => void> = [];
  registry.define('slow', (_args, ctx) => {
    ctx.onHandover(() => onTake(count));
    ctx.onMessage(async () => {
      await new Promise<void>((resolve) => unblock.push(resolve));
      return ++count;
    });
    return { stop() {} };
  });
  const { pid } = await sup.startChild({ id: 's', start: { worker: 'slow' } });
  const found = sup.instanceChannel('s', pid);
  if (!('channel' in found) || !found.channel) throw new Error('no channel');
  return { pid, channel: found.channel, unblock, count: () => count };
}

async function rejection(p: Promise<unknown>): Promise<SupervisorError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SupervisorError);
    return err as SupervisorError;
  }
  throw new Error('expected a rejection');
}

describe('LocalSupervisor: workers', () => {
  it('starts a child, lists and counts it, and emits every transition', async () => {
    const { sup, events } = setup();
    const { pid } = await sup.startChild(spec('a'));
    expect(pid).toMatch(/^n1\/abcdef0123456789\/c\d+$/);
    expect(sup.whichChildren()).toEqual([expect.objectContaining({ id: 'a', status: 'running', pid, restarts: 0 })]);
    expect(sup.countChildren()).toEqual({ specs: 1, active: 1, failing: 0, stopped: 0, workers: 1, commands: 0 });
    await sup.terminateChild('a');
    expect(sup.child('a')?.status).toBe('stopped');
    expect(events.map((e) => `${e.from ?? '-'}>${e.to}`)).toEqual(['->starting', 'starting>running', 'running>stopping', 'stopping>stopped']);
  });

  it.each([
    ['permanent', 'normal', true],
    ['permanent', 'error', true],
    ['transient', 'normal', false],
    ['transient', 'error', true],
    ['temporary', 'normal', false],
    ['temporary', 'error', false],
  ] as const)('a %s worker that exits %s: restarted = %s', async (restart, kind, restarted) => {
    const { sup, probe } = setup();
    await sup.startChild(spec('w', { restart }));
    probe.exit('w', kind === 'normal' ? 'normal' : new Error('boom'));
    await flush();
    const info = sup.child('w');
    if (restarted) {
      expect(info).toMatchObject({ status: 'running', restarts: 1 });
      expect(probe.starts).toBe(2);
    } else if (restart === 'temporary') {
      expect(info).toBeUndefined();
    } else {
      expect(info).toMatchObject({ status: 'stopped', restarts: 0 });
    }
  });

  it('a worker may take its ctx apart: id, pid, node, handover, groups, signal, log, exit and the messaging functions work unbound', async () => {
    const { sup, registry, groups } = setup();
    let seen: Record<string, unknown> = {};
    let signal: AbortSignal | undefined;
    let exit: WorkerContext['exit'] | undefined;
    registry.define('apart', (_args, ctx) => {
      const { id, pid, node, handover, groups: g, signal: s, log, exit: e, call, cast, onMessage, onHandover } = ctx;
      seen = { id, pid, node, handover, sameGroups: g === groups, logs: typeof log.info, call: typeof call, cast: typeof cast };
      onMessage(() => null);
      onHandover(() => null);
      signal = s;
      exit = e;
      return { stop() {} };
    });
    const { pid } = await sup.startChild({ id: 'apart', start: { worker: 'apart' }, restart: 'temporary' });
    expect(seen).toEqual({ id: 'apart', pid, node: 'n1', handover: undefined, sameGroups: true, logs: 'function', call: 'function', cast: 'function' });
    expect(signal?.aborted).toBe(false);
    exit!('normal');
    await flush();
    expect(signal?.aborted).toBe(true);
    expect(sup.child('apart')).toBeUndefined();
  });

  it('marks a crash-looping child failing past its intensity, backs off, and leaves siblings alone', async () => {
    const { sup, probe, clock, log } = setup();
    const sibling = await sup.startChild(spec('sibling'));
    await sup.startChild(spec('loop', { maxRestarts: 3, maxSeconds: 5 }));
    for (let i = 0; i < 3; i++) {
      probe.exit('loop', new Error(`crash ${i}`));
      await flush();
      expect(sup.child('loop')).toMatchObject({ status: 'running', restarts: i + 1 });
    }
    probe.exit('loop', new Error('crash 3'));
    await flush();
    const failing = sup.child('loop')!;
    expect(failing).toMatchObject({ status: 'failing', restarts: 3, lastError: 'failed: crash 3' });
    const firstWait = failing.nextRetryAt! - clock.now();
    expect(firstWait).toBeGreaterThanOrEqual(750);
    expect(firstWait).toBeLessThanOrEqual(1250);
    expect(sup.child('sibling')).toMatchObject({ status: 'running', pid: sibling.pid, restarts: 0 });
    expect(log.entries.some((e) => e.level === 'warn' && e.message === 'child failing; retrying with backoff')).toBe(true);

    // The retry runs; it crashes again at once: the next wait doubles.
    clock.advance(firstWait);
    await flush();
    expect(sup.child('loop')).toMatchObject({ status: 'running', restarts: 4 });
    probe.exit('loop', new Error('crash 4'));
    await flush();
    const second = sup.child('loop')!;
    expect(second.status).toBe('failing');
    const secondWait = second.nextRetryAt! - clock.now();
    expect(secondWait).toBeGreaterThanOrEqual(1500);
    expect(secondWait).toBeLessThanOrEqual(2500);

    // Then it recovers and stays up a full window: the failing count resets, so the next crash restarts at once.
    clock.advance(secondWait);
    await flush();
    expect(sup.child('loop')?.status).toBe('running');
    clock.advance(5_000);
    probe.exit('loop', new Error('rare crash'));
    await flush();
    expect(sup.child('loop')).toMatchObject({ status: 'running' });
    expect(sup.child('sibling')).toMatchObject({ status: 'running', pid: sibling.pid });
  });

  it('restarts within the window only: crashes spread out in time never mark a child failing', async () => {
    const { sup, probe, clock } = setup();
    await sup.startChild(spec('slow', { maxRestarts: 2, maxSeconds: 1 }));
    for (let i = 0; i < 10; i++) {
      clock.advance(600);
      probe.exit('slow', new Error('occasional'));
      await flush();
      expect(sup.child('slow')?.status).toBe('running');
    }
    expect(sup.child('slow')?.restarts).toBe(10);
  });

  it('gives a new pid per instance and drops the old pid from process groups', async () => {
    const { sup, probe, groups } = setup();
    const { pid } = await sup.startChild(spec('g'));
    groups.join('s', 'grp', pid);
    probe.exit('g', new Error('x'));
    await flush();
    const next = sup.child('g')!.pid!;
    expect(next).not.toBe(pid);
    expect(groups.getMembers('s', 'grp')).toEqual([]);
  });

  it('terminate wins over a pending retry, and restartChild / deleteChild follow OTP', async () => {
    const { sup, probe, clock } = setup();
    await sup.startChild(spec('t', { maxRestarts: 0 }));
    probe.exit('t', new Error('bad'));
    await flush();
    expect(sup.child('t')?.status).toBe('failing');
    await sup.terminateChild('t');
    clock.advance(60_000);
    await flush();
    expect(sup.child('t')?.status).toBe('stopped');
    expect((await rejection(sup.startChild(spec('t')))).code).toBe('already-present');
    await sup.restartChild('t');
    expect(sup.child('t')?.status).toBe('running');
    expect((await rejection(sup.restartChild('t'))).code).toBe('running');
    expect(() => sup.deleteChild('t')).toThrow(/is running; terminate it first/);
    await sup.terminateChild('t');
    sup.deleteChild('t');
    expect(sup.child('t')).toBeUndefined();
    expect((await rejection(sup.terminateChild('t'))).code).toBe('not-found');
  });

  it('a temporary child is removed when terminated', async () => {
    const { sup } = setup();
    await sup.startChild(spec('tmp', { restart: 'temporary' }));
    await sup.terminateChild('tmp');
    expect(sup.child('tmp')).toBeUndefined();
  });

  it('stopAll stops every child in parallel and refuses new starts', async () => {
    const { sup } = setup();
    await sup.startChild(spec('a'));
    await sup.startChild(spec('b'));
    await sup.stopAll();
    expect(sup.whichChildren().map((c) => c.status)).toEqual(['stopped', 'stopped']);
    expect((await rejection(sup.startChild(spec('c')))).code).toBe('shutting-down');
  });
});

describe('LocalSupervisor: bad input never hurts the node', () => {
  it('rejects an invalid spec naming the field', async () => {
    const { sup } = setup();
    const err = await rejection(sup.startChild({ id: 'x', start: { worker: 'probe' }, shutdown: -1 }));
    expect(err.code).toBe('invalid-spec');
    expect(err.message).toMatch(/^invalid child spec: shutdown: /);
    expect(sup.whichChildren()).toEqual([]);
  });

  it('rejects an unknown worker type and a command that is not allowed', async () => {
    const { sup } = setup();
    const unknown = await rejection(sup.startChild({ id: 'u', start: { worker: 'nope' } }));
    expect(unknown.code).toBe('unknown-worker');
    expect(unknown.message).toMatch(/unknown worker type "nope" on node n1 \(known: probe\)/);
    const cmd = await rejection(sup.startChild({ id: 'c', start: { command: '/bin/sh', args: ['-c', 'echo pwned'] } }));
    expect(cmd.code).toBe('not-allowed');
    expect(cmd.message).toMatch(/command "\/bin\/sh" is not allowed on node n1.*--allow-commands.*allowed: none/);
  });

  it('a factory that throws, rejects, returns no stop, exits at once, or never resolves fails the start clearly', async () => {
    const { sup, registry, clock } = setup({ startTimeoutMs: 500 });
    let lateStopped = false;
    registry.define('throws', () => {
      throw new TypeError('bad config');
    });
    registry.define('rejects', async () => {
      throw new Error('db unreachable');
    });
    registry.define('no-stop', () => ({}) as never);
    registry.define('exits', (_a, ctx) => {
      ctx.exit(new Error('nothing to do'));
      return { stop() {} };
    });
    registry.define('hangs', () => new Promise(() => {}));
    registry.define(
      'late',
      (_a, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => setImmediate(() => resolve({ stop: () => void (lateStopped = true) })))),
    );

    const cases: Array<[string, RegExp]> = [
      ['throws', /threw while starting: TypeError: bad config/],
      ['rejects', /failed to start: Error: db unreachable/],
      ['no-stop', /must return .* stop\(reason\)/],
      ['exits', /exited while starting: nothing to do/],
    ];
    for (const [worker, message] of cases) {
      const err = await rejection(sup.startChild({ id: worker, start: { worker } }));
      expect(err.code).toBe('start-failed');
      expect(err.message).toMatch(message);
    }
    for (const worker of ['hangs', 'late']) {
      const pending = rejection(sup.startChild({ id: worker, start: { worker } }));
      await flush();
      clock.advance(500);
      const err = await pending;
      expect(err.message).toMatch(/did not finish starting within 500 ms/);
    }
    await flush();
    expect(lateStopped).toBe(true);
    expect(sup.whichChildren()).toEqual([]);
    // The supervisor still works.
    await sup.startChild(spec('ok'));
    expect(sup.child('ok')?.status).toBe('running');
  });

  it('a worker that exits normally at once is started, then handled by its restart policy', async () => {
    const { sup, registry } = setup();
    registry.define('oneshot', (_a, ctx) => {
      ctx.exit('normal');
      return { stop() {} };
    });
    await sup.startChild({ id: 'job', start: { worker: 'oneshot' }, restart: 'transient' });
    await flush();
    expect(sup.child('job')).toMatchObject({ status: 'stopped', lastExit: 'exited normally' });
  });

  it('a worker whose stop() never settles is abandoned after its shutdown time', async () => {
    const { sup, registry, clock, log } = setup();
    registry.define('stubborn', () => ({ stop: () => new Promise(() => {}) }));
    await sup.startChild({ id: 's', start: { worker: 'stubborn' }, shutdown: 2_000 });
    const stopping = sup.terminateChild('s');
    await flush();
    expect(sup.child('s')?.status).toBe('stopping');
    clock.advance(2_000);
    await stopping;
    expect(sup.child('s')?.status).toBe('stopped');
    expect(log.entries.some((e) => /did not stop within 2000 ms; abandoned/.test(e.message))).toBe(true);
  });

  it("a stop with a deadline gives the child no longer than that, also when it was already stopping (majority mode's lease)", async () => {
    const { sup, registry, clock, log } = setup();
    registry.define('stubborn', () => ({ stop: () => new Promise(() => {}) }));
    await sup.startChild({ id: 'a', start: { worker: 'stubborn' }, shutdown: 'infinity' });
    await sup.startChild({ id: 'b', start: { worker: 'stubborn' }, shutdown: 10_000 });
    const a = sup.terminateChild('a', { deadlineMs: 500 });
    // b is already stopping (a planned move, its own 10 s) when the deadline comes.
    const b = sup.terminateChild('b');
    await flush();
    void sup.terminateChild('b', { deadlineMs: 300 });
    clock.advance(300);
    await flush();
    expect(sup.child('b')?.status).toBe('stopped');
    expect(sup.child('a')?.status).toBe('stopping');
    clock.advance(200);
    await a;
    await b;
    expect(sup.child('a')?.status).toBe('stopped');
    expect(log.entries.filter((e) => /abandoned/.test(e.message)).length).toBe(2);
  });

  it('terminating a child while it starts stops it as soon as it is up', async () => {
    const { sup, registry } = setup();
    let resolveStart: (h: { stop(): void }) => void = () => {};
    let stopped = false;
    registry.define('slow', () => new Promise((r) => (resolveStart = r)));
    const started = sup.startChild({ id: 'slow', start: { worker: 'slow' } });
    await flush();
    const terminated = sup.terminateChild('slow');
    resolveStart({ stop: () => void (stopped = true) });
    await started;
    await terminated;
    expect(stopped).toBe(true);
    expect(sup.child('slow')?.status).toBe('stopped');
  });

  it('race "a caller woken from a freeze": a call whose timeout runs late waits a turn, so a handler whose I/O completed in time answers', async () => {
    const { sup, registry, clock, stall } = setup();
    const { channel, unblock } = await slowCounter(sup, registry, (n) => n);
    const answered = channel.call('a', 500);
    const silent = channel.call('b', 500).catch((err: { code: string }) => err.code);
    await flush();
    // The node is frozen past both timeouts; on waking, the timers run before the poll phase completes the handler's I/O.
    stall.held = true;
    clock.advance(2_000);
    stall.release();
    unblock[0]!();
    expect(await answered).toBe(1);
    expect(await silent).toBe('timeout'); // its handler had not answered: timeout, a turn later
  });

  it('takeHandover waits for the calls and casts its handler is still running, closes it to new ones, and takes the state after them', async () => {
    const { sup, registry } = setup();
    let takenWith: number | undefined;
    const { pid, channel, unblock, count } = await slowCounter(sup, registry, (n) => (takenWith = n));
    const replies = [channel.call('a', 10_000), channel.call('b', 10_000)];
    channel.cast('c');
    const taking = sup.takeHandover('s', 5_000);
    await flush();
    // Closed to new messages at once; the state is not taken while its handlers run.
    expect(sup.instanceChannel('s', pid)).toEqual({ none: 'moved' });
    expect(takenWith).toBeUndefined();
    for (const go of unblock.splice(0)) go();
    expect(await Promise.all(replies)).toEqual([1, 2]);
    expect(await taking).toBe(3);
    expect(takenWith).toBe(3);
    expect(count()).toBe(3);
  });

  it('takeHandover waits at most its timeout; a reply settled after the state was taken is a timeout saying the outcome is unknown', async () => {
    const { sup, registry, clock, log } = setup();
    const { channel, unblock } = await slowCounter(sup, registry, (n) => n);
    const reply = channel.call('a', 60_000).then(
      (r) => ({ ok: r }),
      (err: { code: string; message: string }) => ({ code: err.code, message: err.message }),
    );
    const taking = sup.takeHandover('s', 5_000);
    await flush();
    clock.advance(4_999);
    await flush();
    let taken = false;
    void taking.then(() => (taken = true));
    await flush();
    expect(taken).toBe(false);
    clock.advance(1);
    expect(await taking).toBe(0);
    expect(log.entries.some((e) => /message handlers still running after 5000 ms/.test(e.message))).toBe(true);
    unblock[0]!();
    expect(await reply).toEqual({ code: 'timeout', message: expect.stringMatching(/handed its state over .* may or may not have been handled/) });
  });

  it('race "a cast outlives the handover": past the bound, the warning counts apart the calls told timeout and the casts already acknowledged', async () => {
    const { sup, registry, clock, log } = setup();
    const { channel, unblock } = await slowCounter(sup, registry, (n) => n);
    void channel.call('a', 60_000).catch(() => undefined);
    channel.cast('b');
    channel.cast('c');
    const taking = sup.takeHandover('s', 5_000);
    await flush();
    clock.advance(5_000);
    expect(await taking).toBe(0);
    const warned = log.entries.find((e) => /message handlers still running after 5000 ms/.test(e.message));
    expect(warned?.fields).toMatchObject({ handlers: 3, calls: 1, casts: 2 });
    // The metrics' totals (pogo_handover_lost_total) count them too.
    expect(sup.handoverLosses).toEqual({ calls: 1, casts: 2 });
    expect(warned?.message).toMatch(/1 call\(s\), whose callers are told the outcome is unknown, and 2 cast\(s\), acknowledged .* whose effects do not go/);
    // Each cast that settles afterwards says its effect was lost.
    for (const go of unblock.splice(0)) go();
    await flush();
    expect(log.entries.filter((e) => /a cast's handler finished after the state was handed over/.test(e.message))).toHaveLength(2);
  });
});
