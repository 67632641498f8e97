/**
 * Patches: keeping every connected UI's state current at a bounded cost.
 *
 * A client gets `snapshot` (the whole state for its access level) when it
 * connects, then `patch` messages (state.ts diffState) at most once per
 * gateway tick, each acknowledged by the client. A client that has not
 * acknowledged its last patch gets nothing until it does; the next patch
 * then covers everything since the state it acknowledged (coalesced), so a
 * slow client costs one retained state, not a queue. An acknowledgement
 * that does not come within ACK_TIMEOUT_MS counts as lost: the client
 * stays where it was, and the next patch is computed from there (patches
 * apply idempotently, so one that did arrive after all does no harm).
 *
 * When (PatchPacer): a change the observer sees should reach the screen at
 * once, yet a burst of changes (a failover moving a thousand children) must
 * cost a bounded number of patches. A change is rarely one event (a start is
 * a register, then the instance's join a few ms later), so a patch goes out
 * once changes have been quiet for `settleMs`, but never later than `maxMs`
 * after the first unsent change (a steady stream still gets ten patches a
 * second at the default) and never sooner than `minGapMs` after the
 * previous patch (each costs a state build and a diff per client).
 * `nextFlushAt` is the rule, pure; the pacer only keeps the times and one
 * timer, re-armed when it fires early rather than on every change, so a
 * change costs O(1).
 *
 * A session whose access changes (it locked or unlocked: command-router.ts)
 * gets a new snapshot for its new access (`resend`). Race: a patch of the
 * old access may still be unacknowledged then; its late ack must not set
 * the feed's base back to the old access's state, so each snapshot starts a
 * new generation and an ack of an older one is ignored.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Socket } from 'socket.io';
import { sessionAccess, type SessionData, type UiServer } from './server.js';
import { diffState, type Access, type ClusterState } from './state.js';
import type { ClientToServerEvents, ServerToClientEvents } from './ui-protocol.js';

const ACK_TIMEOUT_MS = 30_000;

export interface PaceOptions {
  /** Send once changes have been quiet this long, ms. */
  settleMs: number;
  /** ...but no later than this after the first unsent change, ms. */
  maxMs: number;
  /** ...and no sooner than this after the previous patch, ms. */
  minGapMs: number;
}

/** When the next patch goes out: the first unsent change came at `first`, the newest at `last`, the previous patch at `flushed`. */
export function nextFlushAt(first: number, last: number, flushed: number, o: PaceOptions): number {
  return Math.max(flushed + o.minGapMs, Math.min(last + o.settleMs, first + o.maxMs));
}

/** Calls `flush` by the rule of nextFlushAt after each change; `flushed()` tells it a patch went out by another way. */
export class PatchPacer {
  private first: number | undefined;
  private last = 0;
  private lastFlush = -Infinity;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly o: PaceOptions,
    private readonly flush: () => void,
  ) {}

  changed(): void {
    const now = this.clock.now();
    this.first ??= now;
    this.last = now;
    if (this.timer === undefined) this.arm(now);
  }

  /** A patch went out (the gateway's regular tick): what was pending is sent. */
  flushed(): void {
    this.first = undefined;
    this.lastFlush = this.clock.now();
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.first = undefined;
  }

  private arm(now: number): void {
    const at = nextFlushAt(this.first ?? now, this.last, this.lastFlush, this.o);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.first === undefined) return;
      const t = this.clock.now();
      // Changes came since the timer was set: the time has moved on (never past first + maxMs).
      if (t < nextFlushAt(this.first, this.last, this.lastFlush, this.o)) return this.arm(t);
      this.flush();
      this.flushed();
    }, at - now);
  }
}

type UiSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SessionData>;

interface Feed {
  access: Access;
  /** The last state the client has (acknowledged, or the snapshot). */
  sent: ClusterState;
  /** A patch is out and not yet acknowledged. */
  awaiting: boolean;
  /** Counts snapshots sent: an ack of a patch sent before the latest snapshot is ignored. */
  generation: number;
}

export class PatchFeed {
  private readonly feeds = new Map<string, Feed>();
  /** Rounds in which a client got nothing because its last patch was unacknowledged (for tests and diagnosis). */
  held = 0;

  constructor(
    private readonly io: UiServer,
    private readonly current: (access: Access) => ClusterState,
    /** A client acknowledged a patch while the state had moved on (it was skipped meanwhile): a flush is due. */
    private readonly behind: () => void = () => {},
  ) {}

  get size(): number {
    return this.feeds.size;
  }

  /** Sends the socket its snapshot and feeds it patches until it disconnects. */
  add(socket: UiSocket): void {
    const access = sessionAccess(socket.data);
    const feed: Feed = { access, sent: this.current(access), awaiting: false, generation: 0 };
    this.feeds.set(socket.id, feed);
    socket.emit('snapshot', feed.sent);
    socket.on('disconnect', () => this.feeds.delete(socket.id));
  }

  /** The socket's access changed: a snapshot for the new one, and patches from there. */
  resend(socket: UiSocket): void {
    const feed = this.feeds.get(socket.id);
    if (!feed) return;
    feed.access = sessionAccess(socket.data);
    feed.sent = this.current(feed.access);
    feed.awaiting = false;
    feed.generation++;
    socket.emit('snapshot', feed.sent);
  }

  /** One round: a patch to every client that has acknowledged its last one and whose state changed. */
  flush(): void {
    for (const [id, feed] of this.feeds) {
      if (feed.awaiting) {
        this.held++;
        continue; // coalesce: the next patch covers everything since the last ack
      }
      const next = this.current(feed.access);
      if (next === feed.sent) continue;
      const patch = diffState(feed.sent, next);
      if (!patch) {
        feed.sent = next;
        continue;
      }
      const socket = this.io.sockets.sockets.get(id);
      if (!socket) continue;
      feed.awaiting = true;
      const generation = feed.generation;
      socket.timeout(ACK_TIMEOUT_MS).emit('patch', patch, (err: Error | null) => {
        if (generation !== feed.generation) return; // a snapshot went out since (resend): that is the base now
        feed.awaiting = false;
        if (!err) feed.sent = next;
        // Race "a change while the last patch is in flight": the flush for it skipped this client; without
        // this, the change would wait for the next change or the gateway's next tick.
        if (this.current(feed.access) !== feed.sent) this.behind();
      });
    }
  }
}
