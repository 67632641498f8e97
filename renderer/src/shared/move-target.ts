/**
 * Where a child may be moved (pinned) from the UI: the board's drop
 * targets, the child detail's "Move to" and the bulk move take their
 * answer from here, so a node that cannot take the child is refused the
 * same way everywhere, with the reason, before any command is sent.
 *
 * `moveRefusal` follows placement's filters (core distributed/placement.ts
 * `exclusions`) as far as the state shows them: a member (not an observer),
 * up (or suspect, or unreachable from this observer only: the cluster still
 * hears it), ready, not draining, with the child's worker type. What the
 * state does not show (the commands a node allows, labels a spec asks for)
 * is left to the cluster, which refuses with its reason. The node the child
 * already runs on alone is no target either, nor one other members report
 * they cannot hear (cut off: the members would refuse it as not up, while
 * the board drew it green and offered it; an outsider's tour).
 */
import type { ChildView, MemberView } from 'pogo-core/observer-state';

/** Why `node` cannot take `child` now, in words, or null when it can. */
export function moveRefusal(child: Pick<ChildView, 'node' | 'instances' | 'worker'>, node: MemberView): string | null {
  const name = node.name;
  if (node.role !== 'member') return `${name} is an observer: it runs no children`;
  if (node.status === 'down') return `${name} is down`;
  if (node.status === 'left') return `${name} has left the cluster`;
  if ((node.unheardBy?.length ?? 0) > 0) return `${name} is cut off: ${node.unheardBy!.join(', ')} cannot hear it`;
  if (!node.ready) return `${name} is not ready: it takes no children (still joining, or leaving)`;
  if (node.draining) return `${name} is draining: it takes no children`;
  if (child.worker !== null && !node.workers.includes(child.worker)) return `${name} has no worker type ${child.worker}`;
  if (child.node === name && child.instances.length <= 1) return `it runs on ${name} already`;
  return null;
}
