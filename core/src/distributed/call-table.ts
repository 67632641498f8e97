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
 */
import type { Clock, TimerHandle } from '../clock.js';

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
  ) {}

  /** Opens a call that expires at `deadline` (clock time); returns its cid. */
  open(entry: P, deadline: number): string {
    const cid = `${this.prefix}.${this.next++}`;
    const timer = this.clock.setTimeout(
      () => {
        const slot = this.open_.get(cid);
        if (slot === undefined) return;
        this.open_.delete(cid);
        this.expired(cid, slot.entry);
      },
      Math.max(0, deadline - this.clock.now()),
    );
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
