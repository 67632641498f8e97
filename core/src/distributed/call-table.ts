/**
 * The correlation table of outstanding calls: each gets a call id (`cid`)
 * and a deadline on the injected clock. A call is settled exactly once —
 * by its reply, an error, or its deadline, whichever comes first — and
 * `settle` hands its entry back only that first time, so a second reply (a
 * duplicate, or one that races the deadline) finds nothing and is dropped.
 *
 * Call ids are `<prefix>.<n>`: the prefix is random per table (per node
 * incarnation), so a reply meant for a call of this node's previous
 * incarnation — sent by name just as this one linked — can never match a
 * call of this one (race "a reply across a restart").
 *
 * Race "a caller woken from a freeze" (an outsider's tour: the caller
 * SIGSTOPped for 6 s while its calls were out): a process stopped inside
 * the poll phase wakes with `epoll_wait` interrupted (EINTR), and libuv runs
 * the due timers before it polls again; every deadline passed during the
 * freeze expired before the replies already sitting in the socket were
 * read — 16 calls the child had answered within 50 ms, their replies sent
 * long before the deadline, were reported `timeout`. A deadline whose timer
 * runs late (clock.ts `setDeadline`: the loop did not turn at the deadline, so
 * its sockets may hold a reply from before it) now expires one I/O turn
 * later (`nextTurn`, setImmediate: after the poll phase that follows the
 * timers), and a reply read in that turn settles the call first. The caller
 * learns the true outcome of a message the child handled once: at most once
 * is untouched, and the call still ends within a turn of its timer. A timer
 * on time expires the call at once, as before (the loop polled up to it).
 * Which runs first after a freeze depends on where it caught the loop: in
 * `epoll_wait` (an idle loop), the timers; in a poll-phase callback, the
 * rest of that phase and its sockets. Majority mode's lease check before a
 * delivery (calls.ts `mayDeliver`) covers the second order; this, the
 * first.
 */
import { setDeadline, type Clock, type TimerHandle } from '../clock.js';

interface Slot<P> {
  readonly entry: P;
  readonly timer: TimerHandle;
}

export class CallTable<P> {
  private readonly open_ = new Map<string, Slot<P>>();
  private next = 1;

  constructor(
    private readonly clock: Clock,
    private readonly prefix: string,
    /** A call reached its deadline unsettled (it has been removed). */
    private readonly expired: (cid: string, entry: P) => void,
    /** Runs `fn` after the next poll phase (a deadline that fired late waits for it: see the header). */
    private readonly nextTurn: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {}

  /** Opens a call that expires at `deadline` (clock time); returns its cid. */
  open(entry: P, deadline: number): string {
    const cid = `${this.prefix}.${this.next++}`;
    const expire = (): void => {
      const slot = this.open_.get(cid);
      if (slot === undefined) return;
      this.open_.delete(cid);
      this.expired(cid, slot.entry);
    };
    // Race "a caller woken from a freeze": a late timer lets the poll phase read a reply already here first.
    const timer = setDeadline(this.clock, deadline, expire, this.nextTurn);
    this.open_.set(cid, { entry, timer });
    return cid;
  }

  get(cid: string): P | undefined {
    return this.open_.get(cid)?.entry;
  }

  /** Removes the call and returns its entry; undefined when it was settled already or never opened. */
  settle(cid: string): P | undefined {
    const slot = this.open_.get(cid);
    if (slot === undefined) return undefined;
    this.open_.delete(cid);
    this.clock.clearTimeout(slot.timer);
    return slot.entry;
  }

  get size(): number {
    return this.open_.size;
  }

  /** Every outstanding call (a copy: settling while iterating is fine). */
  entries(): Array<[string, P]> {
    return [...this.open_].map(([cid, slot]) => [cid, slot.entry]);
  }
}
