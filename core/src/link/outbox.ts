/**
 * The outbox of each link: small frames wait for a flush and go together as
 * one `batch` frame.
 *
 * Small frames (pg and store deltas, pings, leave, a small gossip) wait for
 * a flush on the next timer turn and go as one `batch`: a reconcile pass
 * that changes 1,000 groups costs each peer one transport frame, not 1,000.
 * Other frames (syncs, large gossip, commands) flush what waits and go
 * alone, so per-link order never changes. A large `pg.sync` goes in parts
 * (`more` on all but the last), so that neither end spends seconds on one
 * frame (groups/sync.ts reassembles them).
 *
 * Calls and their replies (`call`, `call.reply`) are batched too, but
 * flushed once this turn's microtasks have run, not on the next timer
 * turn: a timer of 0 ms fires after at least 1 ms in Node.js, which would
 * add a millisecond to each direction of a call. The calls (and replies)
 * made in one turn — the replies that came in one socket read, and the
 * calls their continuations make — go as one transport frame instead of
 * one write each (the writes were the largest cost of a call under load).
 *
 * A batch is bounded by `MAX_BATCH_FRAMES` frames and `BATCH_BYTES`
 * estimated bytes (`batchableBytes`, a pure estimate from a bounded walk).
 * Race "link replaced or closed before the flush": its frames die with it,
 * as they would in its socket.
 */
import type { Clock } from '../clock.js';
import { MAX_BATCH_FRAMES, type LinkMessage } from '../protocol.js';
import type { Link } from './types.js';

export interface OutboxOptions {
  clock: Clock;
  /** The layer's counters (the frame and batch counts are the outbox's). */
  stats: { framesOut: number; batchesOut: number; transportFramesOut: number };
  /** Whether `link` is still open (not replaced or closed). */
  isCurrent(link: Link): boolean;
  /** Runs `fn`, logging what it throws. */
  safely(fn: () => void): void;
}

/** The outboxes of one link layer's links (the frames wait on each `Link`). */
export class Outbox {
  constructor(private readonly o: OutboxOptions) {}

  /** Sends `message` on `link`: into the outbox with a flush arranged, or at once when it is not batchable. */
  send(link: Link, message: LinkMessage): void {
    if (this.enqueue(link, message)) this.scheduleFlush(link, message);
  }

  /** Arranges the flush of a frame just put in the outbox: at the end of this turn for calls, on the next timer turn for the rest. */
  private scheduleFlush(link: Link, message: LinkMessage): void {
    if (message.t === 'call' || message.t === 'call.reply') {
      if (link.flushQueued) return;
      link.flushQueued = true;
      queueMicrotask(() => {
        link.flushQueued = false;
        // Race "link replaced or closed meanwhile": flush drops the frames of a link that is not current.
        this.flush(link);
      });
      return;
    }
    link.flushTimer ??= this.o.clock.setTimeout(() => this.flush(link), 0);
  }

  /** Puts `message` in the outbox (true), or sends it alone at once (false: not batchable for this peer). */
  enqueue(link: Link, message: LinkMessage): boolean {
    this.o.stats.framesOut++;
    const bytes = batchableBytes(message);
    if (bytes === undefined) {
      this.sendAlone(link, message);
      return false;
    }
    if (link.outbox.length >= MAX_BATCH_FRAMES || link.outboxBytes + bytes > BATCH_BYTES) this.flush(link);
    link.outbox.push(message);
    link.outboxBytes += bytes;
    return true;
  }

  /** Sends a frame at once, after what waits in the outbox; a large sync goes in parts. */
  private sendAlone(link: Link, message: LinkMessage): void {
    this.flush(link);
    if (message.t === 'pg.sync' && message.groups.length > SYNC_PART_GROUPS) {
      // In parts, so that neither end spends seconds on one frame (and misses heartbeats meanwhile).
      for (let at = 0; at < message.groups.length; at += SYNC_PART_GROUPS) {
        const groups = message.groups.slice(at, at + SYNC_PART_GROUPS);
        this.o.stats.transportFramesOut++;
        link.conn.send(at + SYNC_PART_GROUPS < message.groups.length ? { ...message, groups, more: true } : { ...message, groups });
      }
      return;
    }
    this.o.stats.transportFramesOut++;
    link.conn.send(message);
  }

  /** Sends what waits in the outbox: one frame alone, several as a batch. */
  flush(link: Link): void {
    this.o.clock.clearTimeout(link.flushTimer);
    link.flushTimer = undefined;
    const frames = link.outbox;
    if (frames.length === 0) return;
    link.outbox = [];
    link.outboxBytes = 0;
    // Race "link replaced or closed before the flush": its frames die with it, as they would in its socket.
    if (!this.o.isCurrent(link)) return;
    if (frames.length > 1) this.o.stats.batchesOut++;
    this.o.stats.transportFramesOut++;
    this.o.safely(() => link.conn.send(frames.length === 1 ? frames[0] : { t: 'batch', frames }));
  }

  /** Drops what waits for a link that is gone, and its pending flush. */
  discard(link: Link): void {
    this.o.clock.clearTimeout(link.flushTimer);
    link.flushTimer = undefined;
    link.outbox = [];
  }
}

/** Groups per part of a sync sent in parts. */
export const SYNC_PART_GROUPS = 500;

/** Largest estimated size of a batch; far below any sane `maxMessageBytes` (default 16 MiB). */
export const BATCH_BYTES = 512 * 1024;

/**
 * The estimated wire size of a frame that may wait in a batch, or undefined
 * for frames that always go alone (syncs, gossip, commands: large, or rare).
 * An estimate from a bounded walk (no JSON string is built): a frame
 * estimated past a quarter of a batch goes alone as well.
 */
export function batchableBytes(message: LinkMessage): number | undefined {
  switch (message.t) {
    case 'ping':
    case 'pong':
    case 'leave':
      return 64;
    case 'res':
      return 200;
    case 'pg.leave':
      return 64 + message.group.length + message.scope.length + message.pids.reduce((n, pid) => n + pid.length + 3, 0);
    case 'gossip': {
      const bytes = 32 + jsonBytes(message.members, BATCH_BYTES / 4);
      return bytes > BATCH_BYTES / 4 ? undefined : bytes;
    }
    case 'rs.ack':
    case 'rs.synced':
    case 'rs.digest-req':
      return 64;
    case 'rs.delta': {
      // One part goes to every peer, each in its own envelope: its entries are walked once, not once per peer.
      let entries = deltaEntryBytes.get(message.entries);
      if (entries === undefined) deltaEntryBytes.set(message.entries, (entries = jsonBytes(message.entries, BATCH_BYTES / 4)));
      const bytes = 64 + entries;
      return bytes > BATCH_BYTES / 4 ? undefined : bytes;
    }
    case 'call':
    case 'call.reply':
    case 'rs.regs':
    case 'rs.pull':
    case 'rs.digest': {
      const bytes = 64 + jsonBytes(message, BATCH_BYTES / 4);
      return bytes > BATCH_BYTES / 4 ? undefined : bytes;
    }
    case 'pg.join': {
      const limit = BATCH_BYTES / 4;
      let bytes = 64 + message.group.length + message.scope.length;
      for (const entry of message.entries) {
        bytes += entry.pid.length + 16 + (entry.value === undefined ? 0 : jsonBytes(entry.value, limit - bytes));
        if (bytes > limit) return undefined;
      }
      return bytes;
    }
    default:
      return undefined;
  }
}

/** The estimated size of each `rs.delta` part's entries, while the part lives (see batchableBytes). */
const deltaEntryBytes = new WeakMap<object, number>();

/** Roughly how many bytes `value` takes as JSON, giving up (returning more than `budget`) once past `budget`. */
export function jsonBytes(value: unknown, budget: number): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && bytes <= budget) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += v.length + 2;
    else if (v === null || typeof v !== 'object') bytes += 8;
    else if (Array.isArray(v)) {
      bytes += 2 + v.length;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else {
      // Own enumerable keys, as Object.entries has them, without its array of pairs (every delta and call is estimated).
      for (const k in v) {
        const field = (v as Record<string, unknown>)[k];
        // JSON leaves out an undefined field (a register's wire form has several: registers.ts `wireChild`).
        if (!Object.hasOwn(v, k) || field === undefined) continue;
        bytes += k.length + 4;
        stack.push(field);
      }
      bytes += 2;
    }
  }
  return bytes;
}
