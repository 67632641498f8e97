/**
 * Tests for the example worker types (workers/examples.ts), without a node:
 * each factory is called directly with a hand-made context (a memory logger,
 * real process groups on a channel that goes nowhere, a mock `exit`), and
 * time is driven by vitest's fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { ProcessGroups, type JsonValue, type PgEvent } from '../src/groups.js';
import { MemoryLogger } from '../src/logger.js';
import type { WorkerContext, WorkerExit, WorkerFactory, WorkerHandle } from '../src/supervisor/workers.js';
import registerExampleWorkers, { counter, crasher, ticker } from '../src/workers/examples.js';

const NODE = 'node-a';
const INCARNATION = '0123abcd';

interface FakeContext extends WorkerContext {
  readonly log: MemoryLogger;
  readonly exit: Mock<(reason?: WorkerExit) => void>;
  readonly controller: AbortController;
}

function makeContext(id = 'child-1', localId = '1'): FakeContext {
  const log = new MemoryLogger();
  const groups = new ProcessGroups({ node: NODE, incarnation: INCARNATION, channel: { send() {} }, log });
  const controller = new AbortController();
  const noMessaging = () => Promise.reject(new Error('no messaging in this test'));
  return {
    id,
    pid: `${NODE}/${INCARNATION}/${localId}`,
    node: NODE,
    signal: controller.signal,
    log,
    groups,
    handover: undefined,
    exit: vi.fn<(reason?: WorkerExit) => void>(),
    onMessage: vi.fn(),
    onHandover: vi.fn(),
    call: noMessaging,
    cast: noMessaging,
    controller,
  };
}

/** Starts a worker; the examples return their handle synchronously. */
function start(factory: WorkerFactory, args: JsonValue | undefined, ctx: WorkerContext): WorkerHandle {
  const handle = factory(args, ctx);
  expect(handle).not.toBeInstanceOf(Promise);
  return handle as WorkerHandle;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

describe('ticker', () => {
  it('logs its message every intervalMs and stops logging after stop()', () => {
    const ctx = makeContext();
    const handle = start(ticker, { intervalMs: 100, message: 'hello' }, ctx);
    const ticks = () => ctx.log.entries.filter((e) => e.message === 'hello');

    vi.advanceTimersByTime(99);
    expect(ticks()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ticks()).toHaveLength(1);
    vi.advanceTimersByTime(400);
    expect(ticks()).toHaveLength(5);
    expect(ticks().map((e) => e.level)).toEqual(['info', 'info', 'info', 'info', 'info']);
    expect(ticks().map((e) => e.fields['ticks'])).toEqual([1, 2, 3, 4, 5]);

    void handle.stop('test');
    vi.advanceTimersByTime(10_000);
    expect(ticks()).toHaveLength(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("defaults to 'tick' every 1000 ms", () => {
    const ctx = makeContext();
    const handle = start(ticker, undefined, ctx);
    vi.advanceTimersByTime(999);
    expect(ctx.log.entries).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ctx.log.entries.map((e) => e.message)).toEqual(['tick']);
    void handle.stop('test');
  });

  it('stops when the context is aborted', () => {
    const ctx = makeContext();
    start(ticker, { intervalMs: 50 }, ctx);
    vi.advanceTimersByTime(100);
    expect(ctx.log.entries).toHaveLength(2);
    ctx.controller.abort();
    vi.advanceTimersByTime(1000);
    expect(ctx.log.entries).toHaveLength(2);
  });
});

describe('crasher', () => {
  it('with failStart throws synchronously from the factory', () => {
    const ctx = makeContext();
    expect(() => crasher({ failStart: true }, ctx)).toThrow(/asked to fail at start/);
    expect(vi.getTimerCount()).toBe(0);
    expect(ctx.exit).not.toHaveBeenCalled();
  });

  it("in mode 'exit' calls ctx.exit with an Error after crashAfterMs", () => {
    const ctx = makeContext();
    start(crasher, { mode: 'exit', crashAfterMs: 250 }, ctx);
    vi.advanceTimersByTime(249);
    expect(ctx.exit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ctx.exit).toHaveBeenCalledTimes(1);
    const reason = ctx.exit.mock.calls[0]![0];
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toMatch(/exited with an error after 250 ms/);
    vi.advanceTimersByTime(10_000);
    expect(ctx.exit).toHaveBeenCalledTimes(1);
  });

  it("in mode 'throw' throws its error from the timer after crashAfterMs", () => {
    const ctx = makeContext();
    start(crasher, { mode: 'throw', crashAfterMs: 300 }, ctx);
    expect(() => vi.advanceTimersByTime(299)).not.toThrow();
    expect(() => vi.advanceTimersByTime(1)).toThrow(/crasher: crashed on purpose after 300 ms/);
    expect(ctx.exit).not.toHaveBeenCalled();
  });

  it('throws by default, after 1000 ms', () => {
    const ctx = makeContext();
    start(crasher, {}, ctx);
    expect(() => vi.advanceTimersByTime(999)).not.toThrow();
    expect(() => vi.advanceTimersByTime(1)).toThrow(/crashed on purpose after 1000 ms/);
  });

  it.each([['throw'], ['exit'], ['reject']])("stop() before crashAfterMs prevents the crash (mode '%s')", (mode) => {
    const ctx = makeContext();
    const handle = start(crasher, { mode, crashAfterMs: 500 }, ctx);
    vi.advanceTimersByTime(499);
    void handle.stop('test');
    expect(() => vi.advanceTimersByTime(10_000)).not.toThrow();
    expect(ctx.exit).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('counter', () => {
  it("joins group 'counter' of scope 'examples' with { id, count } at once", () => {
    const ctx = makeContext('my-counter', '7');
    const handle = start(counter, { intervalMs: 100, start: 5 }, ctx);
    expect(ctx.groups.getMembers('examples', 'counter')).toEqual([{ pid: ctx.pid, node: NODE, value: { id: 'my-counter', count: 5 } }]);
    void handle.stop('test');
  });

  it('publishes an increasing count, with exactly one membership of its pid after each step', () => {
    const ctx = makeContext('c');
    const handle = start(counter, { intervalMs: 100 }, ctx);
    const memberships = () => ctx.groups.getMembers('examples', 'counter').filter((m) => m.pid === ctx.pid);

    const seen: number[] = [];
    for (let step = 0; step < 40; step++) {
      vi.advanceTimersByTime(25);
      const mine = memberships();
      expect(mine).toHaveLength(1);
      const value = mine[0]!.value as { id: string; count: number };
      expect(value.id).toBe('c');
      seen.push(value.count);
    }
    // 40 × 25 ms = 1000 ms = 10 ticks of 100 ms.
    expect(seen.at(-1)).toBe(10);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(new Set(seen)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    void handle.stop('test');
  });

  it('is never seen absent by a monitor: each tick joins the new count before leaving the old one', () => {
    const ctx = makeContext('c');
    const events: PgEvent[] = [];
    const counts: number[] = [];
    const monitor = ctx.groups.monitor('examples', 'counter', (event) => {
      events.push(event);
      counts.push(ctx.groups.getMembers('examples', 'counter').filter((m) => m.pid === ctx.pid).length);
    });
    const handle = start(counter, { intervalMs: 100 }, ctx);
    vi.advanceTimersByTime(300);
    void handle.stop('test');
    monitor.unsubscribe();

    const summary = events.map((e) => `${e.kind}:${e.members.map((m) => (m.value as { count: number }).count).join(',')}`);
    expect(summary).toEqual(['join:0', 'join:1', 'leave:0', 'join:2', 'leave:1', 'join:3', 'leave:2']);
    // The pid's membership count as each event was delivered: never 0 while running.
    expect(counts.every((n) => n >= 1 && n <= 2)).toBe(true);
    expect(ctx.groups.getMembers('examples', 'counter')).toHaveLength(1);
  });

  it('stops counting after stop()', () => {
    const ctx = makeContext('c');
    const handle = start(counter, { intervalMs: 100 }, ctx);
    vi.advanceTimersByTime(350);
    void handle.stop('test');
    const at = ctx.groups.getMembers('examples', 'counter');
    expect(at).toEqual([{ pid: ctx.pid, node: NODE, value: { id: 'c', count: 3 } }]);
    vi.advanceTimersByTime(10_000);
    expect(ctx.groups.getMembers('examples', 'counter')).toEqual(at);
    expect(vi.getTimerCount()).toBe(0);
    expect(ctx.log.entries.filter((e) => e.message === 'counter stopped').map((e) => e.fields['count'])).toEqual([3]);
  });
});

describe('registerExampleWorkers (the default export)', () => {
  it('registers exactly ticker, crasher, counter and kv-counter', () => {
    const defined = new Map<string, WorkerFactory>();
    const defineWorker = vi.fn((name: string, factory: WorkerFactory) => {
      defined.set(name, factory);
    });
    registerExampleWorkers({ defineWorker });
    expect(defineWorker).toHaveBeenCalledTimes(4);
    expect([...defined.keys()].sort()).toEqual(['counter', 'crasher', 'kv-counter', 'ticker']);
    expect(defined.get('ticker')).toBe(ticker);
    expect(defined.get('crasher')).toBe(crasher);
    expect(defined.get('counter')).toBe(counter);
  });
});
