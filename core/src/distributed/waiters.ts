/**
 * The requests waiting for the cluster: each API call of the distributed
 * supervisor (start, submit, terminate, move) records its intent in the
 * desired state and then waits here until the cluster shows its effect *and*
 * every up member holds its write — or until its deadline, when it rejects
 * with `timeout` and the request stays in place.
 *
 * A waiter is a `check` the supervisor gives: it looks at the child's view
 * and resolves, rejects, or says "not yet". It is looked at:
 * - after each reconcile of its id (`settle(id)`: the view changed);
 * - when its write becomes held by every up member (`progress()`: a peer
 *   acknowledged or synced, came or went, or the data dir saved it).
 *
 * Costs, each once a burst made them matter:
 * - Deadlines: every waiter waits the same time, so the order they were
 *   made is deadline order; one timer for the oldest instead of one per
 *   request (10,000 starts made 10,000 timers and closures). Waiters done
 *   before their deadline leave the queue at its head, which in a burst
 *   answered in order is all of them, and the rest is compacted now and
 *   then (a thousand answered calls kept their promises' functions for a
 *   minute).
 * - Held writes: waiters queue in tick order (`notHeld`), and an
 *   acknowledgement looks only at those whose write every up member now
 *   holds: 10,000 pending starts cost nothing per acknowledgement.
 *
 * Race "a member came up after the write was held": a waiter looked at once
 * its write was held by every up member may find it no longer is (the
 * newcomer has not synced); nothing would look at it again once it is, so it
 * goes back into the queue in tick order (`requeue`).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import { DistError } from './errors.js';

/** Looks at the child's state: resolves or rejects and says true, or says false (not yet). */
export type WaitCheck<T> = (resolve: (value: T) => void, reject: (err: Error) => void) => boolean;

interface Waiter {
  readonly id: string;
  readonly resolve: (value: never) => void;
  readonly reject: (err: Error) => void;
  /** The write this request made: resolved only once every up member holds it. */
  readonly tick: number;
  readonly check: WaitCheck<never>;
  /** When it times out (clock time), and what it was, for the error. */
  readonly deadline: number;
  readonly what: string;
  done: boolean;
  /** In `notHeld` past its head: looked at again once every up member holds its write. */
  queued: boolean;
}

export interface WaitersOptions {
  clock: Clock;
  log: Logger;
  /** How long each request waits, in ms (startChildTimeoutMs). */
  timeoutMs: number;
  /** Whether every up member holds the write made at `tick` (and, with a data dir, this node saved it). */
  heldByAll(tick: number): boolean;
  /** The newest tick every up member holds (and this node saved). */
  heldTick(): number;
  /** Asks for a reconcile of `id` (a new waiter is looked at after it). */
  markDirty(id: string): void;
  /** Whether `id` waits for a reconcile (its waiters are then looked at after it, not now). */
  isDirty(id: string): boolean;
  /** The last waiter of `id` is gone. */
  gone(id: string): void;
}

const COMPACT_AFTER = 1024;

export class Waiters {
  /** The waiters of each id, oldest first: nearly always one (an array of one, not a Set: a start burst made 10,000 of them). */
  private readonly byId = new Map<string, Waiter[]>();
  /** Waiters whose write not every up member held when last checked, oldest (lowest tick) first. */
  private notHeld: Waiter[] = [];
  /** Waiters before this index in `notHeld` have been looked at with their write held by all. */
  private notHeldHead = 0;
  /** Every waiter in the order it was made, which is deadline order (see the header). */
  private byDeadline: Waiter[] = [];
  private byDeadlineHead = 0;
  private doneInDeadlines = 0;
  private deadlineTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: WaitersOptions) {}

  /** Whether a request waits on `id`. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** A request on `id` whose write was made at `tick`, waiting until `check` says it is done or its deadline passes. */
  wait<T>(id: string, tick: number, what: string, check: WaitCheck<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.stopped) {
        reject(new DistError('shutting-down', 'the node is shutting down'));
        return;
      }
      const list = this.byId.get(id);
      const waiter: Waiter = {
        id,
        resolve,
        reject,
        tick,
        done: false,
        queued: true,
        check: check as WaitCheck<never>,
        deadline: this.o.clock.now() + this.o.timeoutMs,
        what,
      };
      if (list === undefined) this.byId.set(id, [waiter]);
      else list.push(waiter);
      this.notHeld.push(waiter);
      this.byDeadline.push(waiter);
      this.armDeadline();
      this.o.markDirty(id);
    });
  }

  /** `id` was reconciled: its waiters look again. */
  settle(id: string): void {
    const list = this.byId.get(id);
    if (list === undefined) return;
    // A look may drop its waiter from the list: one alone is looked at as it is, several from a copy.
    if (list.length === 1) this.look(list[0]!);
    else for (const w of list.slice()) this.look(w);
  }

  /**
   * A peer acknowledged or synced, came or went, or the data dir saved: the
   * waiters whose write every up member now holds look again (oldest first).
   */
  progress(): void {
    if (this.notHeldHead === this.notHeld.length) return;
    const held = this.o.heldTick();
    const from = this.notHeldHead;
    let i = from;
    while (i < this.notHeld.length && this.notHeld[i]!.tick <= held) i++;
    if (i === from) return;
    this.notHeldHead = i;
    const ready = this.notHeld.slice(from, i);
    for (const w of ready) w.queued = false;
    // Compact now and then, not on every acknowledgement (10,000 pending starts: one copy, not one per
    // ack); emptied, the queue lets go of the waiters at once.
    if (this.notHeldHead === this.notHeld.length) {
      this.notHeld = [];
      this.notHeldHead = 0;
    } else if (this.notHeldHead > COMPACT_AFTER && this.notHeldHead * 2 > this.notHeld.length) {
      this.notHeld = this.notHeld.slice(this.notHeldHead).filter((w) => !w.done);
      this.notHeldHead = 0;
    }
    // A waiter whose child still waits for its reconcile is looked at right after it (`settle`).
    for (const w of ready) if (!this.o.isDirty(w.id)) this.look(w);
  }

  /** Rejects every waiting request with `err` (the desired state they wrote to was discarded). */
  rejectAll(err: Error): void {
    for (const list of [...this.byId.values()]) {
      for (const w of list.slice()) {
        this.drop(w);
        w.reject(err);
      }
    }
  }

  /** Stops the deadline timer and lets go of every waiter (their promises stay pending: the node is going). */
  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.byDeadline = [];
    this.byDeadlineHead = 0;
    this.byId.clear();
    this.notHeld = [];
    this.notHeldHead = 0;
  }

  /** How many requests wait, and how many entries the two queues hold (tests: they are let go of). */
  get sizes(): { waiting: number; byDeadline: number; notHeld: number } {
    let waiting = 0;
    for (const list of this.byId.values()) waiting += list.length;
    return { waiting, byDeadline: this.byDeadline.length - this.byDeadlineHead, notHeld: this.notHeld.length - this.notHeldHead };
  }

  private look(w: Waiter): void {
    if (w.done) return;
    let done: boolean;
    try {
      done = w.check(w.resolve, w.reject);
    } catch (err) {
      this.o.log.error({ err, id: w.id }, 'waiter check failed');
      done = true;
    }
    if (done) this.drop(w);
    else if (!w.queued && !this.o.heldByAll(w.tick)) this.requeue(w);
  }

  /** Race "a member came up after the write was held" (header): back into the queue, in tick order. */
  private requeue(w: Waiter): void {
    w.queued = true;
    let i = this.notHeld.length;
    while (i > this.notHeldHead && this.notHeld[i - 1]!.tick > w.tick) i--;
    this.notHeld.splice(i, 0, w);
  }

  /** One timer, for the oldest waiter not done. */
  private armDeadline(): void {
    if (this.deadlineTimer !== undefined || this.stopped) return;
    this.dropDoneAtHead();
    const first = this.byDeadline[this.byDeadlineHead];
    if (first === undefined) return;
    this.deadlineTimer = this.o.clock.setTimeout(() => this.timeOut(), Math.max(1, first.deadline - this.o.clock.now()));
  }

  /** Moves `byDeadline`'s head past the waiters already done; an emptied queue lets go of its array. */
  private dropDoneAtHead(): void {
    while (this.byDeadlineHead < this.byDeadline.length && this.byDeadline[this.byDeadlineHead]!.done) {
      this.byDeadlineHead++;
      this.doneInDeadlines--;
    }
    if (this.byDeadlineHead === this.byDeadline.length) {
      this.byDeadline = [];
      this.byDeadlineHead = 0;
    }
  }

  /** The deadline timer: every waiter whose deadline has come rejects with `timeout`. */
  private timeOut(): void {
    this.deadlineTimer = undefined;
    const now = this.o.clock.now();
    while (this.byDeadlineHead < this.byDeadline.length) {
      const w = this.byDeadline[this.byDeadlineHead]!;
      if (!w.done && w.deadline > now) break;
      this.byDeadlineHead++;
      if (w.done) {
        this.doneInDeadlines--;
        continue;
      }
      this.drop(w, false);
      w.reject(new DistError('timeout', `${w.what} did not complete within ${this.o.timeoutMs} ms; the request stays in place (see whichChildren('global'))`));
    }
    this.armDeadline();
  }

  /** `queued`: still in `byDeadline` past its head (not when its own deadline took it out). */
  private drop(w: Waiter, queued = true): void {
    w.done = true;
    if (queued) this.doneInDeadlines++;
    this.dropDoneAtHead();
    const waiting = this.byDeadline.length - this.byDeadlineHead;
    if (this.byDeadlineHead > COMPACT_AFTER || (waiting > COMPACT_AFTER && this.doneInDeadlines * 2 > waiting)) {
      this.byDeadline = this.byDeadline.slice(this.byDeadlineHead).filter((x) => !x.done);
      this.byDeadlineHead = 0;
      this.doneInDeadlines = 0;
    }
    const list = this.byId.get(w.id);
    const at = list === undefined ? -1 : list.indexOf(w);
    if (at >= 0) list!.splice(at, 1);
    if (list?.length === 0) {
      this.byId.delete(w.id);
      this.o.gone(w.id);
    }
  }
}
