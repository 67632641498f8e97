/**
 * Which member an observer sends something to (the gateway's commands, its
 * credential check, the view it borrows): chooseMember's rule, with the
 * members' reports of whom they cannot hear, so that a member cut off from
 * the others (distributed/candidates.ts `cutOffMembers`) is asked only when
 * no other member is linked here (choose-member.ts `cutOff`). Of the
 * members the cluster counts (`awayButCounted`): an observer that had lost
 * n1 took n2 for cut off too when n3 was, and could ask n3, the minority.
 */
import { chooseMember } from '../choose-member.js';
import { awayButCounted, cutOffMembers } from '../distributed/candidates.js';
import type { PogoNode } from '../node.js';

export function memberToAsk(node: PogoNode, options: { requireReady?: boolean } = {}): string | undefined {
  const members = node.members().map((m) => ({ ...m, unheardBy: node.unheardBy(m.name, m.incarnation) }));
  return chooseMember(members, { ...options, cutOff: cutOffMembers(members, awayButCounted(members)) });
}
