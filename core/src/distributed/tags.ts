/**
 * The distributed supervisor's vocabulary, in one place (as Pogo keeps its
 * group tags behind tiny helpers).
 *
 * Desired state: keys of the replicated store (registers.ts), one merged
 * register per key on every node:
 *   c:<id>          child register: specs with revisions, terminate floor, pins
 *   f:drain:<node>  flag: is <node> draining
 *   f:pause         flag: is rebalancing paused cluster-wide
 *   m:<node>        roster flag: true while <node> is a member tombstones wait for
 *
 * Live state: process groups of the supervisor's pg scope, each node the
 * only writer of its own entries:
 *   run:<id>        the live instance: joined by the child's own pid, value { rev, restarts } (restarts left out while 0)
 *   fail:<id>       failed starts on one node: joined by that node, value { rev, failures, lastError, at }
 *   claim:<id>      majority mode: a node about to start the child, joined by that node, value { rev }
 *   os:<id>         an OS-process instance's process id: joined by the instance's pid, value { osPid }
 *                   (since 2.2; a group of its own because peers of 2.1 validate `run:` values strictly
 *                   and would not see an instance whose value carried it; they ignore this group)
 */
export const key = {
  child: (id: string) => `c:${id}`,
  drain: (node: string) => `f:drain:${node}`,
  pause: 'f:pause',
  roster: (node: string) => `m:${node}`,
} as const;

export type ParsedKey = { kind: 'child'; id: string } | { kind: 'drain'; node: string } | { kind: 'pause' } | { kind: 'roster'; node: string };

/** What a store key names, or undefined for a key of no kind. */
export function parseKey(k: string): ParsedKey | undefined {
  if (k.startsWith('c:')) return k.length > 2 ? { kind: 'child', id: k.slice(2) } : undefined;
  if (k.startsWith('f:drain:')) return k.length > 8 ? { kind: 'drain', node: k.slice(8) } : undefined;
  if (k === 'f:pause') return { kind: 'pause' };
  if (k.startsWith('m:')) return k.length > 2 ? { kind: 'roster', node: k.slice(2) } : undefined;
  return undefined;
}

/** The child id of a `c:` key (no object made: sweeps read every key). */
export function childIdOfKey(k: string): string | undefined {
  return k.startsWith('c:') && k.length > 2 ? k.slice(2) : undefined;
}

/** The prefixes of a child's pg groups: one place for `group`, `parseGroup` and `childIdOfGroup`. */
export const GROUP_PREFIX = { run: 'run:', fail: 'fail:', claim: 'claim:', os: 'os:' } as const;

export const group = {
  run: (id: string) => `${GROUP_PREFIX.run}${id}`,
  fail: (id: string) => `${GROUP_PREFIX.fail}${id}`,
  claim: (id: string) => `${GROUP_PREFIX.claim}${id}`,
  os: (id: string) => `${GROUP_PREFIX.os}${id}`,
} as const;

export type ParsedGroup = { kind: 'run' | 'fail' | 'claim' | 'os'; id: string } | undefined;

export function parseGroup(g: string): ParsedGroup {
  if (g.startsWith(GROUP_PREFIX.run)) return { kind: 'run', id: g.slice(GROUP_PREFIX.run.length) };
  if (g.startsWith(GROUP_PREFIX.fail)) return { kind: 'fail', id: g.slice(GROUP_PREFIX.fail.length) };
  if (g.startsWith(GROUP_PREFIX.claim)) return { kind: 'claim', id: g.slice(GROUP_PREFIX.claim.length) };
  if (g.startsWith(GROUP_PREFIX.os)) return { kind: 'os', id: g.slice(GROUP_PREFIX.os.length) };
  return undefined;
}

/** The child id of a `run:`, `fail:`, `claim:` or `os:` group. */
export function childIdOfGroup(g: string): string | undefined {
  return parseGroup(g)?.id;
}
