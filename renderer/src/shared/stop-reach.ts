/**
 * Where a stop confirmed in the UI takes effect at once, and where only
 * later (pure): the stop dialog says both. The outsider's tour (available
 * mode, the observer reaching only n3, n3 cut off from n1 and n2) read
 * "is stopped on n1" of a child n1 ran on: the stop went to n3, which
 * recorded it and stopped its own copy, and n1's instance ran on until the
 * heal brought it the stop.
 *
 * An instance's node is "late" when this observer has no link to it
 * (down or unreachable from here: it cannot tell which), or when other
 * members report they cannot hear it (cut off): a stop given through the
 * members the observer reaches gets there only when the link comes back.
 */
import type { ChildView, MemberView } from 'pogo-core/observer-state';

export interface StopReach {
  /** Nodes whose instance stops now. */
  now: string[];
  /** Nodes whose instance stops only once the stop reaches them, with why. */
  late: Array<{ node: string; why: string }>;
}

export function stopReach(child: Pick<ChildView, 'node' | 'instances'>, members: Readonly<Record<string, MemberView>> | null | undefined): StopReach {
  const nodes = [...new Set([...child.instances.map((i) => i.node), ...(child.node === null ? [] : [child.node])])].sort();
  const out: StopReach = { now: [], late: [] };
  for (const node of nodes) {
    const m = members?.[node];
    if (m === undefined || !m.reachable || m.status === 'down' || m.status === 'unreachable')
      out.late.push({ node, why: `this observer has no link to ${node} (down, or cut off from here)` });
    else if ((m.unheardBy?.length ?? 0) > 0) out.late.push({ node, why: `${node} is cut off: ${m.unheardBy!.join(', ')} cannot hear it` });
    else out.now.push(node);
  }
  return out;
}
