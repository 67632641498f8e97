/**
 * Which member to ask: the one rule of every path that sends a command to
 * "some member" (the gateway's commands and its credential check, `pogo
 * ctl`, and the gateway borrowing a member's view when it cannot reach every
 * member itself).
 *
 * Only a member executes commands (an observer refuses them), and only one
 * this node is linked to can get them: status `up`, or `suspect` (it missed
 * heartbeats but the link still stands). Among those, in order of
 * preference:
 *
 *   1. ready and up       linked to the cluster it knows and synced
 *   2. ready and suspect
 *   3. up, not yet ready  it executes commands, from what it has synced so far
 *   4. suspect, not ready
 *
 * Ties go to the earlier member in the list given (the node's own member
 * order), so the same view picks the same member every time.
 *
 * `cutOff` (an observer's view: distributed/candidates.ts `cutOffMembers`):
 * members this node still reaches though most of the others cannot hear
 * them; any other member comes first, whatever its rank. Race "a stop
 * through the one member the cluster cannot hear": the gateway sent an
 * operator's stop to n1, cut off from n2 and n3 (majority mode), n1
 * accepted it, the UI dropped the child at once, and its instance on n2 ran
 * on until the heal, 20 s later (an outsider's tour, each instance's own
 * records). A command is the cluster's only once the side that runs the
 * children has it.
 * `requireReady`: only 1 and 2 will do (a view borrowed from a member still
 * syncing would show part of the cluster as the whole).
 */
import type { MemberStatus, Role } from './protocol.js';

export interface MemberCandidate {
  name: string;
  role: Role;
  status: MemberStatus;
  ready?: boolean;
}

function rank(m: MemberCandidate, cutOff: ReadonlySet<string> | undefined): number | undefined {
  if (m.role !== 'member' || (m.status !== 'up' && m.status !== 'suspect')) return undefined;
  return (m.ready === true ? 0 : 2) + (m.status === 'up' ? 0 : 1) + (cutOff?.has(m.name) ? 4 : 0);
}

/** The member to send a command to, or undefined when no linked member qualifies. */
export function chooseMember(members: readonly MemberCandidate[], options: { requireReady?: boolean; cutOff?: ReadonlySet<string> } = {}): string | undefined {
  let best: { name: string; rank: number } | undefined;
  for (const m of members) {
    const r = rank(m, options.cutOff);
    if (r === undefined || (options.requireReady && r % 4 > 1)) continue;
    if (!best || r < best.rank) best = { name: m.name, rank: r };
  }
  return best?.name;
}
