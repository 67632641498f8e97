/**
 * Netsplit policy `majority`: uniqueness over availability, as a lease. See
 * netsplit.ts for the interface. With n = expectedMembers and a quorum of
 * q = floor(n/2) + 1:
 *
 * 1. Lease (this node). A peer's ping echoes the send time of our last ping
 *    it received (link.ts), so `confirmedAt` of a peer is a moment, on our own
 *    clock, at which that peer heard us. This node may run children while
 *    `now < base + leaseMs`, where `base` is the (q-1)-th newest confirmation
 *    among the other members (we count ourselves). When that lapses it stops
 *    every child, killing any still running `stopMs` later, and starts
 *    nothing. One-way loss is covered: a peer we hear but that does not hear
 *    us confirms nothing.
 * 2. Takeover (another member m we cannot hear). m stays present for
 *    placement — its children stay where they are — until
 *      a) at least n - q + 1 members, this one included, cannot hear m
 *         (`unheardBy`: reports of linked members). Then at most q - 2
 *         others can still confirm m, so m's lease can only rest on a
 *         confirmation from one of us, each older than `h`, the newest
 *         moment any of us last heard m;
 *      b) each reporter has echoed a ping of ours sent after h + m's lease:
 *         reports travel before later frames on a FIFO link, so had one of
 *         them heard m again in time to renew m's lease, we would know;
 *      c) `now >= h + leaseMs + stopMs + margin` (m's own values, from its
 *         metadata; margin 10% + 100 ms for late timers and clock rates).
 *    Then m must have stopped its children by its own clock, and it is
 *    absent. Race "the cut-off node still sees one peer" (a split each side
 *    notices at its own time): the cut-off node cannot take its peers'
 *    children, since the peers that still hear them are the majority that
 *    does not agree (a); and race "a partial partition": a node that cannot
 *    hear one member that others hear takes nothing of it either.
 * 3. Starting (the reconciler's gate, with readiness): a node starts a child
 *    only with a valid lease and while linked to, and synced with, every
 *    member still present — race "heal reaches one peer first": a node that
 *    regains its quorum on its first link starts nothing before it has seen
 *    what every present member runs.
 *
 * Mixed timing settings. Members need not share their heartbeat settings:
 * a link pings at the shorter interval of its two ends and is closed after
 * the longer timeout (link.ts, "Mixed settings"), so a link's timeout may
 * differ from either end's own. Nothing above rests on a link's timeout. A
 * member's lease is its own `heartbeatTimeoutMs`, fixed for its incarnation
 * and announced in its metadata (`lease`), and 2c reads each member's own
 * announced lease and stop time. A link's timeout only decides when the link
 * closes, which is when a member starts to count as not heard (2a): a longer
 * one delays a takeover (to when the link closes, if that is later than
 * 2c), a shorter one cannot bring it before 2c. A member whose metadata has
 * not reached this node is taken to have the longest lease any member
 * announces (netsplit.ts `netsplitInputs`). Liveness: the peers ping each member at least
 * as often as its own interval asks, so its confirmations come as often as
 * in a cluster of its own settings (`majority.test.ts`, mixed presets).
 *
 * A node that is frozen (SIGSTOP, a stalled VM) past its lease cannot stop
 * anything: its OS children keep running while it is frozen, and its worker
 * children run on for a moment when it wakes, until it sees the lease gone.
 * That is the one overlap this policy does not prevent.
 */
import type { MemberReach, NetsplitInputs, NetsplitPolicy, Presence } from './netsplit.js';

/** Safety margin on another member's lease: late timers, clock rates. */
export function leaseMargin(leaseMs: number, stopMs: number): number {
  return Math.ceil(0.1 * (leaseMs + stopMs)) + 100;
}

export interface MajorityPolicy extends NetsplitPolicy {
  /** Until when this node's lease holds (Infinity when it needs no one; -Infinity before any quorum confirmed it). */
  leaseUntil(inputs: NetsplitInputs): number;
  /** When `member` must have stopped its children, if enough members cannot hear it; undefined otherwise. */
  fencedAt(inputs: NetsplitInputs, member: MemberReach): number | undefined;
}

export function majority(expected: number, pollMs: number): MajorityPolicy {
  const quorum = Math.floor(expected / 2) + 1;
  const needUnheard = expected - quorum + 1;

  const leaseUntil = (inputs: NetsplitInputs): number => {
    const need = quorum - 1;
    if (need <= 0) return Infinity;
    const confirmations = inputs.members
      .map((m) => m.confirmedAt)
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => b - a);
    if (confirmations.length < need) return -Infinity;
    return confirmations[need - 1]! + inputs.self.leaseMs;
  };

  /** The newest moment any member that cannot hear `m` last heard it, with the reporters; undefined without enough of them. */
  const unheard = (inputs: NetsplitInputs, m: MemberReach): { h: number; reporters: string[] } | undefined => {
    if (m.state !== 'down') return undefined;
    const reporters = m.unheardBy.map((r) => r.reporter);
    if (1 + reporters.length < needUnheard) return undefined;
    let h = m.lastHeardAt ?? inputs.self.startedAt;
    for (const r of m.unheardBy) h = Math.max(h, r.since);
    return { h, reporters };
  };

  const fencedAt = (inputs: NetsplitInputs, m: MemberReach): number | undefined => {
    const u = unheard(inputs, m);
    return u === undefined ? undefined : u.h + m.leaseMs + m.stopMs + leaseMargin(m.leaseMs, m.stopMs);
  };

  /** Whether every reporter has echoed one of our pings sent after `since` (its report is current as of then). */
  const fresh = (inputs: NetsplitInputs, reporters: readonly string[], since: number): boolean =>
    reporters.every((name) => {
      const r = inputs.members.find((x) => x.name === name);
      return r !== undefined && r.state === 'linked' && r.confirmedAt !== undefined && r.confirmedAt >= since;
    });

  const at = (t: number): string => new Date(t).toISOString();

  return {
    mode: 'majority',
    leaseUntil,
    fencedAt,
    mayRun: (inputs) => inputs.now < leaseUntil(inputs),
    presence(inputs, m): Presence {
      if (m.state === 'linked') return { present: true, why: '' };
      if (m.state === 'left') return { present: false, why: 'left' };
      const u = unheard(inputs, m);
      if (u === undefined) {
        const count = 1 + m.unheardBy.length;
        return {
          present: true,
          why:
            `${m.name} cannot be heard here, but only ${count} of the ${needUnheard} members needed ` +
            `say so: it may still hold a majority, so its children stay where they are (majority mode)`,
        };
      }
      const until = u.h + m.leaseMs + m.stopMs + leaseMargin(m.leaseMs, m.stopMs);
      if (!fresh(inputs, u.reporters, u.h + m.leaseMs))
        return {
          present: true,
          why:
            `${m.name} is not heard by ${[inputs.self.name, ...u.reporters].join(', ')}; ` +
            `waiting for their latest word before taking its children over (majority mode)`,
        };
      if (inputs.now < until)
        return {
          present: true,
          why:
            `${m.name} last heard at ${at(u.h)}; its lease runs out and its children must ` +
            `have stopped by ${at(until)}, then they are placed elsewhere (majority mode)`,
        };
      return { present: false, why: `${m.name} not heard since ${at(u.h)}: its lease ran out and it stopped its children by ${at(until)} (majority mode)` };
    },
    nextChangeAt(inputs) {
      let next = Infinity;
      const mine = leaseUntil(inputs);
      if (mine > inputs.now) next = Math.min(next, mine);
      // Without a lease, confirmations arrive with the peers' pings: look again at their rhythm.
      else next = Math.min(next, inputs.now + pollMs);
      for (const m of inputs.members) {
        const u = unheard(inputs, m);
        if (u === undefined) continue;
        const until = u.h + m.leaseMs + m.stopMs + leaseMargin(m.leaseMs, m.stopMs);
        if (until > inputs.now) next = Math.min(next, until);
        else if (!fresh(inputs, u.reporters, u.h + m.leaseMs)) next = Math.min(next, inputs.now + pollMs);
      }
      return next === Infinity ? undefined : next;
    },
    describeSelf(inputs) {
      const until = leaseUntil(inputs);
      if (until === Infinity) return 'netsplit mode majority: one expected member, always holds the lease';
      if (inputs.now < until)
        return `netsplit mode majority: holds its lease until ${at(until)} (renewed while ${quorum - 1} other member(s) confirm hearing it)`;
      return `netsplit mode majority: no majority of the ${expected} expected members has confirmed hearing this node recently; it runs and starts nothing`;
    },
  };
}
