/**
 * The requests waiting for the cluster (distributed/waiters.ts), on a manual
 * clock: a request resolves only when its check says so and its write is
 * held by every up member; it times out at its deadline with the request's
 * words; one timer serves every deadline; race "a member came up after the
 * write was held" puts a waiter back in the queue; the queues let go of
 * what is done.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { DistError } from '../src/distributed/errors.js';
import { Waiters, type WaitCheck } from '../src/distributed/waiters.js';
import { silentLogger } from '../src/logger.js';

/** Waiters over a world where `held` is the newest tick every up member holds and `dirty` the ids awaiting a reconcile. */
function world(timeoutMs = 1_000) {
  const clock = new ManualClock();
  const state = { held: 0, dirty: new Set<string>(), gone: [] as string[], marked: [] as string[] };
  const waiters = new Waiters({
    clock,
    log: silentLogger,
    timeoutMs,
    heldByAll: (tick) => tick <= state.held,
    heldTick: () => state.held,
    markDirty: (id) => state.marked.push(id),
    isDirty: (id) => state.dirty.has(id),
    gone: (id) => state.gone.push(id),
  });
  return { clock, state, waiters };
}

/** A check that resolves with `value` once `ready()` and the write is held (as the supervisor's do). */
const when =
  <T>(ready: () => boolean, value: T, held: () => boolean): WaitCheck<T> =>
  (resolve) => {
    if (!ready() || !held()) return false;
    resolve(value);
    return true;
  };

const outcome = <T>(p: Promise<T>) => {
  const o: { value?: T; error?: Error } = {};
  p.then(
    (v) => (o.value = v),
    (e: Error) => (o.error = e),
  );
  return o;
};
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('waiters', () => {
  it('asks for a reconcile of the id, and resolves when a look after it finds the effect and the write held', async () => {
    const { state, waiters } = world();
    let running = false;
    const o = outcome(
      waiters.wait(
        'a',
        3,
        'start a',
        when(
          () => running,
          'ok',
          () => 3 <= state.held,
        ),
      ),
    );
    expect(state.marked).toEqual(['a']);
    expect(waiters.has('a')).toBe(true);
    running = true;
    waiters.settle('a'); // reconciled: runs, but not every member holds tick 3
    await flush();
    expect(o.value).toBeUndefined();
    state.held = 3;
    waiters.progress(); // acknowledged
    await flush();
    expect(o.value).toBe('ok');
    expect(waiters.has('a')).toBe(false);
    expect(state.gone).toEqual(['a']);
    expect(waiters.sizes).toEqual({ waiting: 0, byDeadline: 0, notHeld: 0 });
  });

  it('an acknowledgement looks only at the waiters whose write is held, oldest first, and not at an id still to be reconciled', async () => {
    const { state, waiters } = world();
    const looked: string[] = [];
    const check =
      (id: string): WaitCheck<string> =>
      () => {
        looked.push(id);
        return false;
      };
    void waiters.wait('a', 1, 'a', check('a'));
    void waiters.wait('b', 2, 'b', check('b'));
    void waiters.wait('c', 5, 'c', check('c'));
    state.dirty.add('b');
    state.held = 2;
    waiters.progress();
    expect(looked).toEqual(['a']);
    waiters.progress(); // nothing new is held: nobody looks
    expect(looked).toEqual(['a']);
    state.held = 5;
    waiters.progress();
    expect(looked).toEqual(['a', 'c']);
  });

  it('times out at its deadline with the words of the request; the request is not looked at again', async () => {
    const { clock, waiters } = world(1_000);
    const o = outcome(waiters.wait('a', 1, 'start a', () => false));
    clock.advance(999);
    await flush();
    expect(o.error).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(o.error).toBeInstanceOf(DistError);
    expect((o.error as DistError).code).toBe('timeout');
    expect(o.error!.message).toContain('start a did not complete within 1000 ms; the request stays in place');
    expect(waiters.has('a')).toBe(false);
  });

  it('serves every deadline with one timer, in the order the requests were made', async () => {
    const { clock, waiters } = world(1_000);
    const first = outcome(waiters.wait('a', 1, 'a', () => false));
    clock.advance(300);
    const second = outcome(waiters.wait('b', 2, 'b', () => false));
    const third = outcome(waiters.wait('c', 3, 'c', (resolve) => (resolve(undefined as never), true)));
    waiters.settle('c');
    expect(clock.pending()).toBe(1);
    clock.advance(700);
    await flush();
    expect(first.error).toBeDefined();
    expect(second.error).toBeUndefined();
    expect(clock.pending()).toBe(1);
    clock.advance(300);
    await flush();
    expect(second.error).toBeDefined();
    expect(third.error).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it('race "a member came up after the write was held": the waiter goes back into the queue and is looked at once the newcomer holds it', async () => {
    const { state, waiters } = world();
    const members = 3; // a third member has just come up and has not synced
    let holders = 2;
    const o = outcome(
      waiters.wait(
        'a',
        4,
        'start a',
        when(
          () => true,
          'ok',
          () => holders >= members,
        ),
      ),
    );
    // Acknowledged by the two members the write was held by before the newcomer counted: looked at, not done.
    state.held = 4;
    waiters.progress(); // looked at: holders 2 < members 3, not done; heldByAll(4) is true, so it stays out of the queue
    state.held = 0;
    waiters.settle('a'); // looked at again after a reconcile: not held by all any more: back into the queue
    await flush();
    expect(o.value).toBeUndefined();
    expect(waiters.sizes.notHeld).toBe(1);
    holders = 3;
    state.held = 4;
    waiters.progress(); // without the requeue nothing would look at it again
    await flush();
    expect(o.value).toBe('ok');
  });

  it('a check that throws ends its waiter (logged), and the others go on', async () => {
    const { state, waiters } = world();
    void waiters.wait('a', 1, 'a', () => {
      throw new Error('boom');
    });
    const b = outcome(
      waiters.wait(
        'a',
        1,
        'b',
        when(
          () => true,
          'b',
          () => true,
        ),
      ),
    );
    state.held = 1;
    waiters.settle('a');
    await flush();
    expect(b.value).toBe('b');
    expect(waiters.has('a')).toBe(false);
  });

  it('rejectAll rejects every waiting request; after stop, no timer is left and a new request is refused', async () => {
    const { clock, waiters } = world();
    const a = outcome(waiters.wait('a', 1, 'a', () => false));
    const b = outcome(waiters.wait('b', 2, 'b', () => false));
    waiters.rejectAll(new DistError('conflict', 'discarded'));
    await flush();
    expect([a.error?.message, b.error?.message]).toEqual(['discarded', 'discarded']);
    void waiters.wait('c', 3, 'c', () => false);
    waiters.stop();
    expect(clock.pending()).toBe(0);
    const d = outcome(waiters.wait('d', 4, 'd', () => false));
    await flush();
    expect((d.error as DistError).code).toBe('shutting-down');
  });

  it('lets go of what is done in a burst: 5,000 requests answered in order leave both queues empty', async () => {
    const { state, waiters } = world();
    const all = Array.from({ length: 5_000 }, (_, i) =>
      waiters.wait(
        `c${i}`,
        i + 1,
        `start c${i}`,
        when(
          () => true,
          i,
          () => i + 1 <= state.held,
        ),
      ),
    );
    state.held = 5_000;
    waiters.progress();
    expect(await Promise.all(all)).toHaveLength(5_000);
    expect(waiters.sizes).toEqual({ waiting: 0, byDeadline: 0, notHeld: 0 });
  });
});
