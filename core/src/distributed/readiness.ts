/**
 * Readiness, decided: whether a node may take children now, from what it
 * knows of the cluster. Pure; the reconciler (the only orchestrator) asks
 * it whenever membership, groups or the store's sync move, and acts on the
 * answer (publishes readiness, logs, arms the timers).
 *
 * A node takes children only once it is *ready*: linked to every member it
 * knows of and holding their groups (pg) and desired state (the store's
 * sync) — or after `readyTimeoutMs`. Otherwise a joining node could start a
 * child before it learns that another node runs it: the duplicates Pogo
 * shows during joins. "Every member it knows of" is membership's view and
 * the roster (the desired state's own list of members, restored from disk
 * after a whole-cluster restart), members not forgotten, observers aside.
 *
 * Races handled here, by name:
 * - "a dead member gossiped to an observer": an observer holds no children,
 *   so it cannot duplicate one; a member it has tried and failed to reach
 *   (typically a dead node its peers still list) must not hold it back. A
 *   member does wait for it.
 * - "seeds not reached yet": a node with seeds knows nothing of the cluster
 *   until it has linked to one of them; until then nothing is complete.
 * - "two nodes restarted together, each linked only to a third": a roster
 *   member that membership does not know yet is waited for; both would
 *   otherwise take children knowing only the third.
 * - "a left member's word from a third party": after a graceful
 *   whole-cluster restart a long-running observer still gossips the members
 *   as having left, so a node restarted from an older data dir knew them
 *   (as left), waited for none of them and started a child they had stopped
 *   before they left. A node holding restored state waits for a roster
 *   member known only as left too: it may hold newer state, and it is not
 *   gone for good until it is forgotten.
 * - "majority mode, ready before its lease": a node is ready once its lease
 *   holds too, so that a start right after readiness is not refused.
 * - "a cluster answers and refuses us": a node that has linked to none of
 *   its seeds while one of them refused it for good (a wrong secret, its
 *   name taken by a live node, another cluster or protocol) is not made
 *   ready by the timeout: the cluster that refused it runs the children,
 *   and it would run a second copy of each for as long as it lives. It
 *   waits and says why (a refusal ends when that address links, or stops
 *   answering).
 * - "DNS down when the node starts": a member that has linked to no one while
 *   one of its DNS seeds has never been answered (discovery/seed-discovery.ts
 *   `unresolved`: the server down, refusing, failing or too slow) is not
 *   made ready by the timeout either: a failed lookup says nothing about
 *   whether a cluster runs behind the name, and a pod started while DNS was
 *   down took every child alone at its ready timeout, a second copy of each
 *   (an outsider's tour). It waits and says why; an answer — even "nothing
 *   there" (NXDOMAIN, the first pod) — or a link ends the wait. Majority
 *   mode needed none of this (no lease alone), available mode did.
 * - "the roster's members are no one's": a node back alone after a
 *   whole-cluster restart knows its peers only from its roster (restored
 *   from disk); ready by the timeout, it named them only as unknown roster
 *   members and logged `notLinked: []`, which reads as "every member is
 *   linked". They are not linked either: `notLinked` names every member
 *   not linked, the roster's included.
 */
import type { UnresolvedSeed } from '../discovery/seed-discovery.js';
import { isLinked, type Member } from '../membership.js';
import { WAITS_FOR_NAMES_MAX, type WaitsFor } from '../protocol.js';
import { waitedForParts } from './wait-words.js';

/** A seed address whose last answer refused this node for good (membership.ts `refusals`). */
export interface Refusal {
  address: string;
  code: string;
  message: string;
}

export interface ReadinessInput {
  self: string;
  /** This node's view of the cluster (membership). */
  members: readonly Member[];
  /** The roster: member name → whether the cluster still waits for it (false: forgotten). */
  roster: ReadonlyMap<string, boolean>;
  /** Whether this node is a member (holds children); an observer is not. */
  isMember: boolean;
  /** Whether this node is an observer (see the race "a dead member gossiped to an observer"). */
  observer: boolean;
  /** Whether the node was given seeds: then it is not ready before it has linked to someone. */
  hasSeeds: boolean;
  /** True when dialling this address has failed and no link exists. */
  dialFailed(address: string): boolean;
  /** Whether this peer's groups (its pg snapshot) and desired state (the store's sync) have arrived. */
  synced(peer: string): boolean;
  /** Whether this node restored desired state from its data dir (it may be stale until it has synced with its roster). */
  restoredState: boolean;
  /** Majority mode: whether the netsplit policy lets this node run children now (true in available mode). */
  leased: boolean;
  /** Whether `readyTimeoutMs` has run out. */
  timedOut: boolean;
  /** The refusals membership holds (asked only when they matter). */
  refusals(): readonly Refusal[];
  /** The DNS seeds never answered that give no address (asked only when they matter; none without DNS seeds). */
  unresolvedSeeds(): readonly UnresolvedSeed[];
}

export type Readiness =
  /** Every member it knows of is linked and synced. */
  | { verdict: 'ready' }
  /**
   * The timeout ran out first: ready anyway, with what it did not have —
   * every member not linked (membership's and the roster's, sorted), those
   * linked but not synced, and which of the not linked are roster members
   * membership does not know at all (restored from disk, never heard of).
   */
  | { verdict: 'ready-by-timeout'; notLinked: string[]; notSynced: string[]; roster: string[] }
  /** The timeout ran out, no seed linked, and one refused this node for good: not ready, and why. */
  | { verdict: 'refused'; why: string; refusals: readonly Refusal[] }
  /** The timeout ran out, no one linked, and a DNS seed has never been answered: not ready, and why. */
  | { verdict: 'unresolved'; why: string; seeds: readonly UnresolvedSeed[] }
  | { verdict: 'waiting' };

/**
 * What readiness still lacks, by name: the members (of membership and the
 * roster) not linked, those linked but not synced, the roster's members
 * membership does not know, whether it has joined anyone (with seeds) and
 * whether majority mode's lease lets it run. `explain` says them while a
 * node waits (race "a wait that names no one": an outsider's tour had two
 * members restarted from their data dirs wait, with a long
 * --ready-timeout-ms, for a third that was blackholed; explain said "not
 * ready yet (linking to and syncing with every member it knows of)" and
 * nothing named the member waited for).
 */
export function readinessGaps(input: ReadinessInput): { joined: boolean; notLinked: string[]; notSynced: string[]; roster: string[]; leased: boolean } {
  const { self, members } = input;
  const others = members.filter(
    (m) => m.name !== self && m.status !== 'left' && m.role === 'member' && !(input.observer && m.status === 'down' && input.dialFailed(m.address)),
  );
  const byName = new Map(members.map((m) => [m.name, m]));
  const roster = input.isMember
    ? [...input.roster]
        .filter(([name, member]) => {
          if (!member || name === self) return false;
          const m = byName.get(name);
          return m === undefined || (input.restoredState && m.status === 'left');
        })
        .map(([name]) => name)
    : [];
  const notLinked = new Set(others.filter((m) => !isLinked(m.status)).map((m) => m.name));
  // Race "the roster's members are no one's" (see the header).
  for (const name of roster) notLinked.add(name);
  return {
    joined: !input.hasSeeds || members.some((m) => m.name !== self && isLinked(m.status)),
    notLinked: [...notLinked].sort(),
    notSynced: others.filter((m) => isLinked(m.status) && !input.synced(m.name)).map((m) => m.name),
    roster,
    leased: !input.isMember || input.leased,
  };
}

/** `gaps`: `readinessGaps(input)`, when the caller keeps them too (the reconciler says them while it waits). */
export function readiness(input: ReadinessInput, gaps = readinessGaps(input)): Readiness {
  const { joined, notLinked, notSynced, roster } = gaps;
  const complete = joined && notLinked.length === 0 && notSynced.length === 0 && gaps.leased;
  if (complete) return { verdict: 'ready' };
  if (!input.timedOut) return { verdict: 'waiting' };
  const refusals = !joined && input.isMember ? input.refusals() : [];
  if (refusals.length > 0) {
    return { verdict: 'refused', why: refusals.map((r) => `${r.address} refuses this node (${r.code}: ${r.message})`).join('; '), refusals };
  }
  // Race "DNS down when the node starts" (see the header).
  const unresolved = !joined && input.isMember ? input.unresolvedSeeds() : [];
  if (unresolved.length > 0) {
    return { verdict: 'unresolved', why: unresolved.map((u) => `${u.seed} has not been resolved (${u.problem})`).join('; '), seeds: unresolved };
  }
  return { verdict: 'ready-by-timeout', notLinked, notSynced, roster };
}

/**
 * Why a member is not ready yet, in `explain`'s words: whom it waits for
 * (race "a wait that names no one", at `readinessGaps`) and when it becomes
 * ready anyway (`deadline`, clock time; Infinity when unknown).
 */
export function notReadyWords(gaps: ReturnType<typeof readinessGaps> | undefined, deadline: number): string {
  const parts = gaps !== undefined ? waitedForParts(gaps) : [];
  const what = parts.length > 0 ? `it waits for ${parts.join('; ')}` : 'linking to and syncing with every member it knows of';
  const until = Number.isFinite(deadline) ? `; at ${new Date(deadline).toISOString()} (--ready-timeout-ms) it takes children without them` : '';
  return `this node is not ready yet: ${what}${until}`;
}

/**
 * What a member that is not ready announces it waits for (member metadata
 * `waitsFor`, protocol 2.7): its gaps, each list cut to WAITS_FOR_NAMES_MAX
 * names, and `deadline` (clock time; Infinity: none) as `until`. The
 * desktop app says it in the attention lane (race "a wait that names no
 * one", at `readinessGaps`: the outsider's members waited for a blackholed
 * third while the app said "Nothing needs attention").
 */
export function waitsFor(gaps: ReturnType<typeof readinessGaps>, deadline: number): WaitsFor {
  const cut = (names: readonly string[]): string[] => names.slice(0, WAITS_FOR_NAMES_MAX);
  return {
    notLinked: cut(gaps.notLinked),
    roster: cut(gaps.roster),
    notSynced: cut(gaps.notSynced),
    joined: gaps.joined,
    leased: gaps.leased,
    ...(Number.isFinite(deadline) && deadline >= 0 ? { until: Math.round(deadline) } : {}),
  };
}
