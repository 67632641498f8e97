/**
 * The vocabulary of the distributed supervisor's process groups, in one
 * place (as Pogo keeps its group tags behind tiny helpers).
 *
 *   c:<id>          child register: one entry per member, value = its copy (registers.ts)
 *   run:<id>        the live instance: joined by the child's own pid, value { rev }
 *   fail:<id>       failed starts on one node: joined by that node, value { rev, failures, lastError, at }
 *   f:drain:<node>  flag register: is <node> draining
 *   f:pause         flag register: is rebalancing paused cluster-wide
 */
/** The prefixes of a child's three groups: one place for `tag`, `parseTag` and `childIdOf`. */
const CHILD_PREFIX = { child: 'c:', run: 'run:', fail: 'fail:' } as const;

export const tag = {
  child: (id: string) => `${CHILD_PREFIX.child}${id}`,
  run: (id: string) => `${CHILD_PREFIX.run}${id}`,
  fail: (id: string) => `${CHILD_PREFIX.fail}${id}`,
  drain: (node: string) => `f:drain:${node}`,
  pause: 'f:pause',
} as const;

export type ParsedTag = { kind: 'child' | 'run' | 'fail'; id: string } | { kind: 'drain'; node: string } | { kind: 'pause' } | undefined;

export function parseTag(group: string): ParsedTag {
  const kind = childKindOf(group);
  if (kind !== undefined) return { kind, id: group.slice(CHILD_PREFIX[kind].length) };
  if (group.startsWith('f:drain:')) return { kind: 'drain', node: group.slice(8) };
  if (group === 'f:pause') return { kind: 'pause' };
  return undefined;
}

/** The child id of a `c:`, `run:` or `fail:` group (no object made: a full sweep reads every group). */
export function childIdOf(group: string): string | undefined {
  const kind = childKindOf(group);
  return kind === undefined ? undefined : group.slice(CHILD_PREFIX[kind].length);
}

/** Which of a child's groups `group` is, if any. */
function childKindOf(group: string): keyof typeof CHILD_PREFIX | undefined {
  if (group.startsWith(CHILD_PREFIX.child)) return 'child';
  if (group.startsWith(CHILD_PREFIX.run)) return 'run';
  if (group.startsWith(CHILD_PREFIX.fail)) return 'fail';
  return undefined;
}
