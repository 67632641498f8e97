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

/**
 * Why no move is offered at all (pure), or null: this observer reaches no
 * more members than it cannot reach (and has not seen declared down). It may
 * be on the minority side of a split: a pin sent through the member it
 * reaches waits until the split heals, and it cannot see where the child
 * runs (the re-check of the tour: the observer reaching only n3, n3 cut off
 * from n1 and n2, offered n3 and n2 as targets; each move waited for the
 * heal, with "it runs on no node now" said of a child n1 ran).
 */
export function viewRefusal(members: Readonly<Record<string, MemberView>> | null | undefined): string | null {
  const live = Object.values(members ?? {}).filter((m) => m.role === 'member' && m.status !== 'left' && m.status !== 'down');
  const unreachable = live.filter((m) => m.status === 'unreachable').map((m) => m.name);
  const reached = live.filter((m) => m.status !== 'unreachable').map((m) => m.name);
  if (unreachable.length === 0 || unreachable.length < reached.length) return null;
  return (
    `this observer reaches only ${reached.sort().join(', ') || 'no member'}, not ${unreachable.sort().join(', ')}: ` +
    'the cluster may be split, and a move would wait until it heals'
  );
}

/** Why `node` cannot take `child` now, in words, or null when it can. `members`: the whole table, for `viewRefusal`. */
export function moveRefusal(
  child: Pick<ChildView, 'node' | 'instances' | 'worker'>,
  node: MemberView,
  members?: Readonly<Record<string, MemberView>> | null,
): string | null {
  const name = node.name;
  const view = members === undefined ? null : viewRefusal(members);
  if (view !== null) return view;
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
