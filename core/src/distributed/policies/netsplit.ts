/**
 * Netsplit policies: what a node does about members it cannot hear. One
 * policy per file behind this interface (as ProcessHub keeps its partition
 * tolerance strategies), chosen by `--netsplit`:
 *
 * - available (netsplit-available.ts, the default, as Pogo): a member that is
 *   not linked is absent at once; each side of a split runs what it cannot
 *   see, and duplicates are stopped after the heal.
 * - majority (netsplit-majority.ts): a lease. A node runs children only while
 *   a majority of the expected members has recently confirmed hearing it; a
 *   member that a node cannot hear stays present (its children stay put)
 *   until enough members agree they cannot hear it either and its lease must
 *   have run out and its children stopped, by its own clock.
 *
 * Policies are pure functions of a `NetsplitInputs` snapshot, built from
 * membership and links by `netsplitInputs` below; time is an input.
 */
import type { Member } from '../../membership.js';

/** What this node knows about one other member (observers are not listed). */
export interface MemberReach {
  readonly name: string;
  readonly incarnation: string;
  /** linked: a link is up (heard recently or suspect); down: no link; left: it announced its leave (its children are stopped). */
  readonly state: 'linked' | 'down' | 'left';
  /** When this node last heard from this incarnation (its clock); undefined if never. */
  readonly lastHeardAt: number | undefined;
  /** The send time (this node's clock) of the newest ping of ours it echoed back: it heard us then. */
  readonly confirmedAt: number | undefined;
  /** Its advertised lease: it runs children only this long after its last confirmation by a majority... */
  readonly leaseMs: number;
  /** ...and then gives them this long to stop before killing them. */
  readonly stopMs: number;
  /** Linked members that report they cannot hear it, and since when (this node's clock, conservative: never earlier than true). */
  readonly unheardBy: ReadonlyArray<{ readonly reporter: string; readonly since: number }>;
  /** Down because it closed the link itself, on purpose, at this time (this node's clock): it was alive then. */
  readonly closedByPeerAt?: number | undefined;
}

export interface NetsplitInputs {
  readonly now: number;
  readonly self: { readonly name: string; readonly startedAt: number; readonly leaseMs: number };
  /** Every other member known (by name, current incarnation). */
  readonly members: readonly MemberReach[];
}

export interface Presence {
  /** Counts for placement: it may run children (linked, or unreachable but possibly still running). */
  readonly present: boolean;
  /** Why, for `explain` (empty when simply linked). */
  readonly why: string;
}

export interface NetsplitPolicy {
  readonly mode: 'available' | 'majority';
  /** Whether this node may run children now; false: stop them all, start nothing. */
  mayRun(inputs: NetsplitInputs): boolean;
  /** Whether `member` counts for placement now. */
  presence(inputs: NetsplitInputs, member: MemberReach): Presence;
  /** The next moment an answer above may change by time alone (a lease running out), if any. */
  nextChangeAt(inputs: NetsplitInputs): number | undefined;
  /** This node's own state, in words (`explain`, logs). */
  describeSelf(inputs: NetsplitInputs): string;
}

/**
 * The snapshot the policies read, from this node's view of the members:
 * every other member (observers are not listed) with how it is reached and
 * its advertised lease.
 *
 * Race "its metadata has not reached us yet" (its first gossip, or an entry
 * learned before it): members need not share their timing settings, so an
 * unknown lease is taken to be the longest any member announces, this
 * node's included — never shorter than it may be, as far as this node can
 * know. A member down with no word heard from it since is taken to have
 * been heard last when it went down.
 */
export function netsplitInputs(members: readonly Member[], self: NetsplitInputs['self'], now: number): NetsplitInputs {
  const others = members.filter((m) => m.name !== self.name && m.role === 'member');
  let unknownMs = self.leaseMs;
  let unknownStopMs = self.leaseMs;
  for (const m of others) {
    if (m.lease === undefined) continue;
    unknownMs = Math.max(unknownMs, m.lease.ms);
    unknownStopMs = Math.max(unknownStopMs, m.lease.stopMs);
  }
  const reach: MemberReach[] = others.map((m) => ({
    name: m.name,
    incarnation: m.incarnation,
    state: m.status === 'left' ? 'left' : m.status === 'down' ? 'down' : 'linked',
    lastHeardAt: m.lastHeardAt ?? (m.status === 'down' ? m.since : undefined),
    confirmedAt: m.confirmedAt,
    leaseMs: m.lease?.ms ?? unknownMs,
    stopMs: m.lease?.stopMs ?? unknownStopMs,
    unheardBy: m.unheardBy ?? [],
    closedByPeerAt: m.status === 'down' && m.closedByPeer === true ? m.since : undefined,
  }));
  return { now, self, members: reach };
}
