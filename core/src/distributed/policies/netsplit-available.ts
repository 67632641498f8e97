/**
 * Netsplit policy `available` (the default, as Pogo): availability over
 * uniqueness. A member without a link is absent at once, so each side of a
 * split runs what it cannot see; after the heal the reconciler stops the
 * duplicates (the owner's instance survives). See netsplit.ts.
 *
 * One exception, race "a node wakes from a pause": a member that closed the
 * link itself, on purpose, was alive when it did — typically it timed this
 * node out while this node was frozen (a long GC, a stopped VM), and it has
 * taken over this node's children. Treated as absent, it would have this
 * node, the one at fault, start every child of the cluster on waking, to
 * stop them again a moment later when the links are back. So such a member
 * stays present for its advertised lease (the heartbeat timeout) while the
 * two redial each other; if no link comes back by then, it is absent as any
 * other. A member that dies (a reset, a lost connection) is absent at once.
 */
import type { MemberReach, NetsplitInputs, NetsplitPolicy } from './netsplit.js';

/** Until when a member that closed the link itself stays present, or undefined. */
function graceUntil(m: MemberReach): number | undefined {
  return m.state === 'down' && m.closedByPeerAt !== undefined ? m.closedByPeerAt + m.leaseMs : undefined;
}

export const available: NetsplitPolicy = {
  mode: 'available',
  mayRun: () => true,
  presence: (inputs, m) => {
    if (m.state === 'linked') return { present: true, why: '' };
    const until = graceUntil(m);
    if (until !== undefined && inputs.now < until)
      return {
        present: true,
        why: `${m.name} closed the link itself (so it was running): counted present while relinking, for ${until - inputs.now} ms more`,
      };
    return { present: false, why: m.state === 'left' ? 'left' : 'not linked' };
  },
  nextChangeAt: (inputs: NetsplitInputs) => {
    let next: number | undefined;
    for (const m of inputs.members) {
      const until = graceUntil(m);
      if (until !== undefined && until > inputs.now && (next === undefined || until < next)) next = until;
    }
    return next;
  },
  describeSelf: () => 'netsplit mode available: runs what it cannot see elsewhere',
};
