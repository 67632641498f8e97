/**
 * The wake gate, decided: whether a node that has just run again after a
 * long stall may start children yet. Pure; the reconciler (the only
 * orchestrator) asks when it reads its inputs, and keeps the timers and the
 * log lines.
 *
 * Race "woken from a stall" (an outsider's tour, with SIGSTOP): a node
 * frozen past its peers' heartbeat timeout finds, when it runs again, the
 * frames they sent before they timed it out — a pin to it, the state a
 * stop-first move handed over to it, the old instance's leave — but not what
 * they did since: its peer started the child again when it gave up on the
 * frozen node. Acting on that, the node started the child with a handover
 * 16 s old beside the peer's instance, until they relinked (72 ms of two
 * instances, and every update since the freeze lost).
 *
 * So:
 * - `wokeFromStall`: a stall about as long as the heartbeat timeout (past
 *   the lease less an interval: its peers may have timed it out; at least an
 *   interval) starts a watch, once per stall (the link layer reports a stall
 *   for a tick after it ended: that is not a new one).
 * - `resync`: for a heartbeat interval from the wake, every member link that
 *   went down since the stall began is awaited; the gate stays closed until
 *   each awaited member is linked and synced again (its groups and desired
 *   state), or gone (left, or no longer a member). When the interval is over
 *   and nothing is awaited any more, the watch ends. A stall no link went
 *   down in (a busy node its peers waited for) ends it with nothing awaited:
 *   what they sent meanwhile is all in its sockets, in order.
 * - `expired`: the ready timeout bounds the wait; then the node starts
 *   children again, saying whom it did not hear back from.
 * What runs on the node keeps running throughout; only starts wait.
 */
import { isLinked, type Member } from '../membership.js';

/** A watch after a stall: when the node ran again, since when it had stalled, and the members it waits to resync with. */
export interface Wake {
  at: number;
  from: number;
  stalledMs: number;
  awaiting: ReadonlySet<string>;
}

export interface WakeTiming {
  heartbeatIntervalMs: number;
  /** This node's lease: its heartbeat timeout, as its peers count it. */
  leaseMs: number;
}

/**
 * A new watch when the stall this node's timers report (`stalledMs`, under
 * way or just ended) is long enough that its peers may have timed it out and
 * is not the one it already watched after (`lastWake`: when that watch
 * began); else undefined.
 */
export function wokeFromStall(stalledMs: number, now: number, lastWake: number, timing: WakeTiming): Wake | undefined {
  if (stalledMs < Math.max(timing.heartbeatIntervalMs, timing.leaseMs - timing.heartbeatIntervalMs)) return undefined;
  if (now - stalledMs <= lastWake) return undefined;
  return { at: now, from: now - stalledMs, stalledMs, awaiting: new Set() };
}

export interface Resync {
  /** Whether the start gate may be open, as far as the stall goes. */
  open: boolean;
  /** The watch as it stands now; undefined once it has ended. */
  wake: Wake | undefined;
  /** Whether this look found the first link that went down in the stall (the moment to say the gate closed). */
  firstDown: boolean;
}

/** The wake gate now: which links went down in the stall (while watching), and whether each is back and synced. */
export function resync(
  wake: Wake,
  members: readonly Member[],
  self: string,
  now: number,
  heartbeatIntervalMs: number,
  synced: (peer: string) => boolean,
): Resync {
  const watching = now - wake.at < heartbeatIntervalMs;
  let awaiting = wake.awaiting;
  let firstDown = false;
  if (watching) {
    for (const m of members) {
      if (m.name === self || m.role !== 'member' || m.status === 'left' || awaiting.has(m.name)) continue;
      if (!isLinked(m.status) && m.since >= wake.from) {
        if (awaiting.size === 0) firstDown = true;
        awaiting = new Set([...awaiting, m.name]);
      }
    }
  }
  const next = awaiting === wake.awaiting ? wake : { ...wake, awaiting };
  for (const m of members) {
    if (!awaiting.has(m.name) || m.status === 'left' || m.role !== 'member') continue;
    if (!isLinked(m.status) || !synced(m.name)) return { open: false, wake: next, firstDown };
  }
  return { open: true, wake: watching ? next : undefined, firstDown };
}

/** Whether the wait for peers to resync has run past the ready timeout: then children start again whoever is still awaited. */
export function expired(wake: Wake, now: number, readyTimeoutMs: number): boolean {
  return wake.awaiting.size > 0 && now - wake.at >= readyTimeoutMs;
}
