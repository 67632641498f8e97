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
export const tag = {
  child: (id: string) => `c:${id}`,
  run: (id: string) => `run:${id}`,
  fail: (id: string) => `fail:${id}`,
  drain: (node: string) => `f:drain:${node}`,
  pause: 'f:pause',
} as const;

export type ParsedTag = { kind: 'child' | 'run' | 'fail'; id: string } | { kind: 'drain'; node: string } | { kind: 'pause' } | undefined;

export function parseTag(group: string): ParsedTag {
  if (group.startsWith('c:')) return { kind: 'child', id: group.slice(2) };
  if (group.startsWith('run:')) return { kind: 'run', id: group.slice(4) };
  if (group.startsWith('fail:')) return { kind: 'fail', id: group.slice(5) };
  if (group.startsWith('f:drain:')) return { kind: 'drain', node: group.slice(8) };
  if (group === 'f:pause') return { kind: 'pause' };
  return undefined;
}

/** The child id of a `c:`, `run:` or `fail:` group (no object made: a full sweep reads every group). */
export function childIdOf(group: string): string | undefined {
  if (group.startsWith('c:')) return group.slice(2);
  if (group.startsWith('run:')) return group.slice(4);
  if (group.startsWith('fail:')) return group.slice(5);
  return undefined;
}
