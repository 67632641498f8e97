/**
 * Bridging a partial mesh: which linked peers get this node's root digest
 * every heartbeat instead of every anti-entropy pass.
 *
 * Replication sends a write once to each linked peer and receivers never
 * pass it on (replication.ts): the mesh is full, so each peer hears each
 * write from its writer. In a partial partition it is not — n1 and n3 cannot
 * hear each other, n2 hears both — and a write made on n1 reached n3 only
 * through n2 at the next periodic root digest (race "a partial partition":
 * an outsider's tour on real processes, `pogo ctl stop` given to n1 for a
 * child n3 ran; n3 stopped it 24 s later, after anti-entropy through n2).
 *
 * Who bridges: this node, for two linked members of which one reports it
 * cannot hear the other (membership.ts `reach`). It sends both its root
 * digest every heartbeat while their reports say so: each finds there what
 * the other wrote (this node heard it directly) and pulls it
 * (replication.ts), so a write crosses the cut in a heartbeat and a few
 * round trips. Every member that hears both sides bridges; the pulls'
 * de-duplication (a bucket pulled from one peer at a time) keeps a register
 * from arriving once per bridge. Nothing is relayed or re-broadcast: the
 * digests and pulls are the existing anti-entropy's, just sooner, and only
 * towards the peers a report names.
 *
 * Pure: the caller gives the linked members and each one's reporters.
 */

/**
 * Linked members to send root digests every heartbeat: both ends of each
 * pair of linked members of which one reports it cannot hear the other.
 * `reporters(peer)`: the linked members that report they cannot hear
 * `peer` (membership.ts `unheardBy`), in any order.
 */
export function bridgedPeers(linkedMembers: readonly string[], reporters: (peer: string) => readonly string[]): string[] {
  const linked = new Set(linkedMembers);
  const out = new Set<string>();
  for (const peer of linkedMembers) {
    for (const reporter of reporters(peer)) {
      if (reporter === peer || !linked.has(reporter)) continue;
      out.add(peer);
      out.add(reporter);
    }
  }
  return [...out].sort();
}
