/**
 * Failure detection of links: heartbeats, round trips, silence limits.
 *
 * Each link gets a ping every `interval` (below). Any frame from the peer
 * counts as a sign of life (`heard`). The round trip comes from the echo in
 * the peer's next ping, which also tells this node that the peer heard it
 * (`confirmedAt`: the send time, on this node's clock, of the newest ping of
 * ours the peer echoed; netsplit majority mode builds its lease on it).
 * Silent for `suspectAfter`: the link is suspect (reported, still used);
 * silent for `timeout`: the link is closed. A closed connection (process
 * killed, socket reset) takes the link down at once (link-layer.ts).
 *
 * Mixed settings (`linkHeartbeat`, a pure function). Nodes of one cluster
 * need not share their timing settings: an observer or `pogo ctl` on the
 * default preset joins members on `local`, and a rolling change of settings
 * passes through every mixture. Each side announces its `heartbeatIntervalMs`,
 * `suspectAfterMs` and `heartbeatTimeoutMs` in its hello or challenge
 * (`heartbeat`, protocol 2.1), and both ends of a link then use
 *
 *   interval    = min(mine, peer's)
 *   suspectAfter = max(mine, peer's)
 *   timeout     = max(mine, peer's)
 *
 * Why: a node judges a link by the pings it receives, so what matters is that
 * the side that pings is at least as fast as the side that listens expects.
 * With these numbers each side pings at least as often as either side's own
 * setting asks, and waits at least as long as either side's own setting
 * allows, so neither can time out on the other's normal rhythm: each side
 * tolerates at least as many missed pings as its own configuration does
 * (timeout / interval is never smaller than either side's ratio). min and max
 * are symmetric, and both ends see the same two announcements, so both ends
 * of one link hold the same numbers — a link never looks dead from one end
 * only because the ends disagree. The price is paid by the faster-detecting
 * side's peers: a `local` node's link to a `lan` node is declared down after
 * the `lan` timeout (3 s), not 1 s, and the `lan` node pings that link every
 * 200 ms. A node's links may thus differ: the heartbeat ticker runs at the
 * shortest interval among its links (its own when it has none), and pings a
 * link at the tick that comes before the link's next ping would be late — never
 * later than its interval after the last. A peer of protocol 2.0 announces
 * nothing: its settings are taken to equal ours (as they must be for 2.0 to
 * work at all). The announcement is not covered by the handshake proof, like
 * the rest of hello and challenge; a man in the middle can change it, as he
 * could any later frame of a link without TLS. Netsplit majority mode's
 * lease does not rest on these numbers (netsplit-majority.ts, "Mixed timing
 * settings").
 *
 * Race "our own stall" (`checkSilence`): after a busy stretch a timer runs
 * before the poll phase has read what peers sent meanwhile; a late timer
 * credits its lateness to every link instead of blaming the peers for it.
 *
 * Race "a link closes as this node wakes" (`ownStallMs`): a node paused past
 * its peers' timeout (SIGSTOP, a VM migrated) finds its links closed when it
 * runs again, by a close its peers made on purpose, or by its own
 * transport's verdict (Socket.IO's ping timeout fired first, a write met
 * the socket its peer had closed: EPIPE). Either way the peer is most
 * likely alive, and it is this node that was away. `ownStallMs` says how
 * long this node's own timers had been kept from running, in a stall under
 * way (the ticker overdue) or one that ended within the last tick; the link
 * layer reports a link that closes then as closed by its peer, so that the
 * netsplit policy does not take the peer's children over on the spot.
 *
 * The decisions are pure functions below (`linkHeartbeat`, `tickInterval`,
 * `silenceVerdict`, `nextSilenceDue`, `echoConfirms`); `FailureDetector`
 * holds the timers (on the injected clock) and the ping sequence, and acts
 * on the links through its host (the link layer).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { LinkMessage, PeerMessage } from '../protocol.js';
import type { HeartbeatTiming, Link } from './types.js';

/**
 * The failure-detection numbers of one link from both ends' settings (see
 * "Mixed settings" in the header): the shorter ping interval, the longer
 * suspect and timeout. Symmetric (`linkHeartbeat(a, b)` equals
 * `linkHeartbeat(b, a)`), so both ends of a link hold the same numbers. A
 * peer that announced nothing (protocol 2.0) is taken to share ours.
 */
export function linkHeartbeat(mine: HeartbeatTiming, peer: HeartbeatTiming | undefined): HeartbeatTiming {
  const p = peer ?? mine;
  return {
    heartbeatIntervalMs: Math.min(mine.heartbeatIntervalMs, p.heartbeatIntervalMs),
    suspectAfterMs: Math.max(mine.suspectAfterMs, p.suspectAfterMs),
    heartbeatTimeoutMs: Math.max(mine.heartbeatTimeoutMs, p.heartbeatTimeoutMs),
  };
}

/** The heartbeat ticker's period: the shortest ping interval among the links, our own without links. */
export function tickInterval(ownIntervalMs: number, links: Iterable<Pick<Link, 'timing'>>): number {
  let tick = ownIntervalMs;
  for (const link of links) tick = Math.min(tick, link.timing.heartbeatIntervalMs);
  return tick;
}

/** What a link's silence calls for at `now`: closing it, marking it suspect, or nothing. */
export function silenceVerdict(link: Pick<Link, 'lastHeardAt' | 'suspect' | 'timing'>, now: number): 'timeout' | 'suspect' | undefined {
  const silence = now - link.lastHeardAt;
  if (silence >= link.timing.heartbeatTimeoutMs) return 'timeout';
  if (silence >= link.timing.suspectAfterMs && !link.suspect) return 'suspect';
  return undefined;
}

/** When the earliest threshold (suspect, or timeout once suspect) of any link falls; Infinity without links. */
export function nextSilenceDue(links: Iterable<Pick<Link, 'lastHeardAt' | 'suspect' | 'timing'>>): number {
  let due = Infinity;
  for (const link of links) {
    const { suspectAfterMs, heartbeatTimeoutMs } = link.timing;
    due = Math.min(due, link.lastHeardAt + (link.suspect ? heartbeatTimeoutMs : Math.min(suspectAfterMs, heartbeatTimeoutMs)));
  }
  return due;
}

/**
 * Whether a peer's echo of our ping confirms a newer ping of ours: our own
 * seq and clock, echoed, so only what we sent counts (a peer cannot claim a
 * ping we never sent, nor one from the future).
 */
export function echoConfirms(echo: { seq: number; sentAt: number }, nextSeq: number, confirmedSeq: number, now: number): boolean {
  return echo.seq < nextSeq && echo.seq > confirmedSeq && echo.sentAt <= now;
}

/** What the failure detector needs of the link layer. */
export interface FailureDetectorHost {
  /** Node links and client links: what heartbeats and silence checks cover. */
  everyLink(): Link[];
  /** Puts a frame in the link's outbox. */
  enqueue(link: Link, message: LinkMessage): void;
  /** Sends what waits in the link's outbox. */
  flush(link: Link): void;
  /** Closes a silent link. */
  close(link: Link, reason: string): void;
  /** The link's `suspect` flag changed (either way). */
  suspectChanged(link: Link): void;
  /** The peer echoed a newer ping of ours. */
  confirmed(link: Link): void;
  /** True once the layer is leaving or shut down: the timers are not re-armed. */
  stopping(): boolean;
  /** Runs `fn`, logging what it throws. */
  safely(fn: () => void): void;
}

export interface FailureDetectorOptions {
  clock: Clock;
  log: Logger;
  /** This node's own settings. */
  timing: HeartbeatTiming;
  /** The layer's counters (`stalledMs` is this detector's). */
  stats: { stalledMs: number };
  host: FailureDetectorHost;
}

/** The heartbeat ticker and the silence checks of one link layer. */
export class FailureDetector {
  private heartbeatTimer: TimerHandle | undefined;
  private pingSeq = 0;
  private beatDueAt = 0;
  /** Silence checks between heartbeat ticks (see `checkSilence`). */
  private silenceTimer: TimerHandle | undefined;
  /** Up to when this node's own lateness has been credited to its links. */
  private creditedUntil = 0;
  /** The last stretch in which this node's timers were late (`checkSilence`). */
  private lastStall = { from: 0, to: 0 };

  constructor(private readonly o: FailureDetectorOptions) {}

  /** Starts the heartbeat ticker. */
  start(): void {
    this.scheduleHeartbeat();
  }

  /** Stops both timers. */
  stop(): void {
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.o.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
  }

  /** A link came up: a link that pings faster than the ticker runs speeds the ticker up now, not after its current wait. */
  linkAdded(link: Link): void {
    const at = link.nextPingAt + link.timing.heartbeatIntervalMs;
    if (this.heartbeatTimer !== undefined && at < this.beatDueAt) this.armHeartbeat(at);
  }

  /**
   * How long this node itself had not run (its timers kept waiting) in the
   * stall under way at `now` (the ticker overdue), or in the last stall if it
   * ended less than a tick before `now`; 0 when it has been running on time.
   * See "a link closes as this node wakes" in the header.
   */
  ownStallMs(now: number): number {
    const ongoing = this.heartbeatTimer !== undefined ? now - this.beatDueAt : 0;
    const recent = now - this.lastStall.to <= this.tickMs() ? this.lastStall.to - this.lastStall.from : 0;
    return Math.max(0, ongoing, recent);
  }

  /** A frame arrived on `link`: a sign of life. */
  heard(link: Link): void {
    link.lastHeardAt = this.o.clock.now();
    if (link.suspect) {
      link.suspect = false;
      this.o.log.info({ peer: link.peer.name }, 'peer no longer suspect');
      this.o.host.suspectChanged(link);
    }
  }

  /** A ping from the peer: its echo gives the round trip (and may confirm ours); a probe is answered at once. */
  onPing(link: Link, m: Extract<PeerMessage, { t: 'ping' }>): void {
    const now = this.o.clock.now();
    if (m.echo) {
      link.rttMs = Math.max(0, now - m.echo.sentAt - m.echo.heldMs);
      // Our own seq and clock, echoed: only what we sent counts (a peer cannot claim a ping we never sent).
      if (echoConfirms(m.echo, this.pingSeq, link.confirmedSeq, now)) {
        link.confirmedSeq = m.echo.seq;
        link.confirmedAt = m.echo.sentAt;
        this.o.host.confirmed(link);
      }
    }
    link.pingIn = { seq: m.seq, sentAt: m.sentAt, at: now };
    // A probe: answer now, with a ping that echoes it.
    if (m.reply) this.ping(link, false);
  }

  /** A pong (from an older peer): the round trip. */
  onPong(link: Link, m: Extract<PeerMessage, { t: 'pong' }>): void {
    link.rttMs = Math.max(0, this.o.clock.now() - m.sentAt);
  }

  /**
   * The seq the next ping will carry: once a peer has echoed a ping with at
   * least this seq (`Link.confirmedSeq`), it has processed everything sent
   * to it before this call.
   */
  get nextPingSeq(): number {
    return this.pingSeq;
  }

  /** Sends one ping on `link` now, after what waits in its outbox (a probe asks the peer to answer at once). */
  ping(link: Link, probe: boolean): void {
    this.o.host.enqueue(link, this.pingFor(link, this.pingSeq++, this.o.clock.now(), probe));
    this.o.host.flush(link);
  }

  private tickMs(): number {
    return tickInterval(this.o.timing.heartbeatIntervalMs, this.o.host.everyLink());
  }

  private scheduleHeartbeat(): void {
    this.armHeartbeat(this.o.clock.now() + this.tickMs());
  }

  private armHeartbeat(dueAt: number): void {
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.beatDueAt = dueAt;
    this.heartbeatTimer = this.o.clock.setTimeout(
      () => {
        this.heartbeatTimer = undefined;
        let next: number | undefined;
        this.o.host.safely(() => (next = this.heartbeat()));
        if (!this.o.host.stopping()) {
          if (next === undefined) this.scheduleHeartbeat();
          else this.armHeartbeat(next);
        }
        this.scheduleSilenceCheck();
      },
      Math.max(0, dueAt - this.o.clock.now()),
    );
  }

  /** Checks silence and pings the links that are due; returns when the next tick is due. */
  private heartbeat(): number {
    const now = this.o.clock.now();
    this.checkSilence(now, this.beatDueAt);
    // After the silence check, which may have closed links: the next tick is this far away,
    // and no link's ping may wait past it.
    const nextTick = now + this.tickMs();
    let seq: number | undefined;
    for (const link of this.o.host.everyLink()) {
      // Not yet: the next tick still sends this link's ping in time (see "Mixed settings").
      if (link.nextPingAt >= nextTick) continue;
      seq ??= this.pingSeq++;
      link.nextPingAt = now + link.timing.heartbeatIntervalMs;
      this.o.host.enqueue(link, this.pingFor(link, seq, now, false));
    }
    // The pings go now, with what waited for them (gossip), not on a flush timer a moment later:
    // one wake-up per tick instead of two.
    for (const link of this.o.host.everyLink()) if (link.outbox.length > 0) this.o.host.flush(link);
    return nextTick;
  }

  private pingFor(link: Link, seq: number, now: number, reply: boolean): LinkMessage {
    const echo = link.pingIn && { seq: link.pingIn.seq, sentAt: link.pingIn.sentAt, heldMs: now - link.pingIn.at };
    link.pingIn = undefined;
    return { t: 'ping', seq, sentAt: now, ...(echo ? { echo } : {}), ...(reply ? { reply: true as const } : {}) };
  }

  /**
   * Suspects and closes silent links. Runs on every heartbeat tick, and in
   * between only when a threshold falls before the next tick: a quiet link
   * that has been silent for most of the timeout is closed when the timeout
   * passes, not up to a heartbeat interval later. A healthy cluster never
   * arms this extra timer (every link was heard within the last interval).
   */
  private checkSilence(now: number, dueAt: number): void {
    // Race "our own stall": after a busy stretch a timer runs before the poll phase has read
    // what peers sent meanwhile. Silence counts only while this node could listen, so a late
    // timer credits its lateness to every link instead of blaming the peers for it (a stretch
    // already credited by an earlier late timer is not credited twice).
    const late = now - Math.max(dueAt, this.creditedUntil);
    if (late > 0) {
      // A stall that goes on from the last one credited (another timer late in the same wake) extends it:
      // a second late timer a millisecond later must not shrink a 38 s stall to 1 ms.
      const from = now - late;
      this.lastStall = from <= this.lastStall.to ? { from: this.lastStall.from, to: now } : { from, to: now };
      this.o.stats.stalledMs += late;
      for (const link of this.o.host.everyLink()) link.lastHeardAt = Math.min(now, link.lastHeardAt + late);
    }
    this.creditedUntil = Math.max(this.creditedUntil, now);
    for (const link of this.o.host.everyLink()) {
      const silence = now - link.lastHeardAt;
      const verdict = silenceVerdict(link, now);
      if (verdict === 'timeout') {
        this.o.log.warn(
          { peer: link.peer.name, silenceMs: silence, timeoutMs: link.timing.heartbeatTimeoutMs },
          'peer silent past the heartbeat timeout; closing link',
        );
        this.o.host.close(link, `heartbeat timeout after ${silence} ms`);
        continue;
      }
      if (verdict === 'suspect') {
        link.suspect = true;
        this.o.log.info({ peer: link.peer.name, silenceMs: silence }, 'peer suspect');
        this.o.host.suspectChanged(link);
      }
    }
  }

  /** Arms the in-between silence check when a link's suspect or timeout threshold falls before the next tick. */
  private scheduleSilenceCheck(): void {
    this.o.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (this.o.host.stopping()) return;
    const due = nextSilenceDue(this.o.host.everyLink());
    if (due >= this.beatDueAt) return;
    const dueAt = Math.max(due, this.o.clock.now());
    this.silenceTimer = this.o.clock.setTimeout(() => {
      this.silenceTimer = undefined;
      this.o.host.safely(() => this.checkSilence(this.o.clock.now(), dueAt));
      this.scheduleSilenceCheck();
    }, dueAt - this.o.clock.now());
  }
}
