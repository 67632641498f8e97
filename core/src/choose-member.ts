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

function rank(m: MemberCandidate): number | undefined {
  if (m.role !== 'member' || (m.status !== 'up' && m.status !== 'suspect')) return undefined;
  return (m.ready === true ? 0 : 2) + (m.status === 'up' ? 0 : 1);
}

/** The member to send a command to, or undefined when no linked member qualifies. */
export function chooseMember(members: readonly MemberCandidate[], options: { requireReady?: boolean } = {}): string | undefined {
  let best: { name: string; rank: number } | undefined;
  for (const m of members) {
    const r = rank(m);
    if (r === undefined || (options.requireReady && r > 1)) continue;
    if (!best || r < best.rank) best = { name: m.name, rank: r };
  }
  return best?.name;
}
