/**
 * The group table: every known scope's groups, node by node.
 *
 * Data layout (chosen so ~10,000 groups of one member stay cheap: every
 * operation costs O(size of the touched group), never O(all groups))
 * - per scope: group → its record, plus node → groups (an index for
 *   building a sync and for `peerDown`);
 * - per group (`GroupRecord`): a stamp, the change count when it last
 *   changed, and node → members in join order. Nearly every group has the
 *   members of one node only (a child's `run:<id>` is its one instance), so
 *   the record holds one node's members itself and a map only for the
 *   others: a Map per group was 184 bytes of 20,000 groups' worth of
 *   tables, and the stamps another map beside it
 *   (bench/tools/heap-probe.mjs).
 * Invariant: no empty member array, no empty record; `replaceEntries` is the
 * only place that creates or deletes entries, so empty groups cannot
 * survive. The table knows nothing of peers, messages or monitors: callers
 * (process-groups.ts, sync.ts) decide, the table stores.
 */
import type { PgMember } from './types.js';

const NO_MEMBERS: readonly PgMember[] = Object.freeze([]);

/**
 * One group: its stamp and its members by node. The first node's members
 * sit in the record (`node`, `members`), any other node's in `rest`, which
 * exists only while it holds some. Removing the first node promotes one of
 * `rest`. Never empty: a record without members is deleted.
 */
export class GroupRecord {
  /** The change count when the group last changed (`GroupTable.touch` sets it). */
  stamp = 0;
  rest: Map<string, PgMember[]> | undefined = undefined;

  constructor(
    public node: string,
    public members: PgMember[],
  ) {}

  get(node: string): PgMember[] | undefined {
    return node === this.node ? this.members : this.rest?.get(node);
  }

  /** How many nodes have members in the group. */
  get size(): number {
    return 1 + (this.rest?.size ?? 0);
  }

  set(node: string, members: PgMember[]): void {
    if (node === this.node) this.members = members;
    else (this.rest ??= new Map()).set(node, members);
  }

  /** Drops `node`'s members; false when the record is left empty (the caller deletes it). */
  delete(node: string): boolean {
    if (node !== this.node) {
      this.rest?.delete(node);
      if (this.rest?.size === 0) this.rest = undefined;
      return true;
    }
    const next = this.rest?.entries().next();
    if (next === undefined || next.done === true) return false;
    const [other, members] = next.value;
    this.rest!.delete(other);
    if (this.rest!.size === 0) this.rest = undefined;
    this.node = other;
    this.members = members;
    return true;
  }

  /** Every node with members (the first, then the rest in insertion order). */
  *nodes(): IterableIterator<string> {
    yield this.node;
    if (this.rest !== undefined) yield* this.rest.keys();
  }
}

export interface ScopeState {
  readonly name: string;
  /** group → its stamp and members by node. Invariant: no empty array, no empty record. */
  readonly groups: Map<string, GroupRecord>;
  /** node → groups where it has at least one member (index for syncs and `peerDown`). */
  readonly groupsByNode: Map<string, Set<string>>;
  /** Up peers that announced this scope (by a sync or a join) since their link came up. */
  readonly announcedBy: Set<string>;
  /** How many groups have each name prefix (a name up to and including its first `:`; names without one are not counted): `hasPrefix`. */
  readonly prefixCounts: Map<string, number>;
}

/** Every known scope of one node (`node`: this node, listed first by `getMembers`). */
export class GroupTable {
  /** Every known scope: local ones, and those announced by an up peer. */
  readonly scopeStates = new Map<string, ScopeState>();
  /** Changes to any group so far: the source of stamps. */
  private changes = 0;

  constructor(private readonly node: string) {}

  ensureScope(name: string): ScopeState {
    let state = this.scopeStates.get(name);
    if (state === undefined) {
      state = { name, groups: new Map(), groupsByNode: new Map(), announcedBy: new Set(), prefixCounts: new Map() };
      this.scopeStates.set(name, state);
    }
    return state;
  }

  // ---------------------------------------------------------------- reads (never wait)

  /** All members of a group on every node: local first, then peers by name, join order within a node. */
  getMembers(scope: string, group: string): PgMember[] {
    const record = this.scopeStates.get(scope)?.groups.get(group);
    if (record === undefined) return [];
    // Hot (a reconcile reads three groups per child): no sort for the common one or two nodes.
    if (record.rest === undefined) return record.members.slice();
    const local = record.get(this.node);
    const result = local === undefined ? [] : local.slice();
    const othersCount = record.size - (local === undefined ? 0 : 1);
    if (othersCount === 1) {
      for (const node of record.nodes()) if (node !== this.node) for (const m of record.get(node)!) result.push(m);
      return result;
    }
    const others: string[] = [];
    for (const node of record.nodes()) if (node !== this.node) others.push(node);
    others.sort();
    for (const node of others) for (const m of record.get(node)!) result.push(m);
    return result;
  }

  /**
   * `getMembers` without the copy when one node holds the whole group (nearly
   * every group): the table's own array, changed in place by the next join
   * or leave. Read it at once; never keep or change it.
   */
  readMembers(scope: string, group: string): readonly PgMember[] {
    const record = this.scopeStates.get(scope)?.groups.get(group);
    if (record === undefined) return NO_MEMBERS;
    if (record.rest === undefined) return record.members;
    return this.getMembers(scope, group);
  }

  /** The group's stamp: changes whenever its members change, 0 for a group that does not exist. */
  stamp(scope: string, group: string): number {
    return this.scopeStates.get(scope)?.groups.get(group)?.stamp ?? 0;
  }

  /** Non-empty groups of a scope (any node), unsorted. */
  groupNames(scope: string): Iterable<string> {
    return this.scopeStates.get(scope)?.groups.keys() ?? [];
  }

  /** Non-empty groups of a scope (any node), sorted. */
  whichGroups(scope: string): string[] {
    const state = this.scopeStates.get(scope);
    return state === undefined ? [] : [...state.groups.keys()].sort();
  }

  /** Known scopes, sorted. */
  scopes(): string[] {
    return [...this.scopeStates.keys()].sort();
  }

  scopeSnapshot(scope: string): Map<string, PgMember[]> {
    return new Map(this.whichGroups(scope).map((group) => [group, this.getMembers(scope, group)]));
  }

  // ---------------------------------------------------------------- writes

  entriesOf(scope: ScopeState, group: string, node: string): readonly PgMember[] {
    return scope.groups.get(group)?.get(node) ?? [];
  }

  appendEntries(scope: ScopeState, group: string, node: string, members: readonly PgMember[]): void {
    const current = scope.groups.get(group)?.get(node);
    if (current === undefined) this.replaceEntries(scope, group, node, [...members]);
    else {
      current.push(...members);
      this.touch(scope, group);
    }
  }

  /** Removes the oldest member of `node` in `group` with this pid; undefined when there is none. */
  removeFirst(scope: ScopeState, group: string, node: string, pid: string): PgMember | undefined {
    const current = scope.groups.get(group)?.get(node);
    const index = current?.findIndex((m) => m.pid === pid) ?? -1;
    if (current === undefined || index < 0) return undefined;
    const [removed] = current.splice(index, 1);
    if (current.length === 0) this.replaceEntries(scope, group, node, []);
    else this.touch(scope, group);
    return removed;
  }

  /**
   * Sets `node`'s members of `group` (taking ownership of the array) and
   * returns the previous ones. The only place that creates or deletes map
   * entries, so empty groups cannot survive.
   */
  replaceEntries(scope: ScopeState, group: string, node: string, members: PgMember[]): PgMember[] {
    const record = scope.groups.get(group);
    const previous = record?.get(node) ?? [];
    if (members.length > 0) {
      if (record === undefined) {
        scope.groups.set(group, new GroupRecord(node, members));
        countPrefix(scope, group, 1);
      } else record.set(node, members);
      this.touch(scope, group);
      addTo(scope.groupsByNode, node, group);
    } else if (record !== undefined) {
      this.detach(scope, group, node);
      removeFrom(scope.groupsByNode, node, group);
    }
    return previous;
  }

  /** Drops `node`'s members of `group` (and the group once it is empty), leaving the node → groups index to the caller; returns them. */
  detach(scope: ScopeState, group: string, node: string): PgMember[] {
    const record = scope.groups.get(group);
    const removed = record?.get(node) ?? [];
    if (record !== undefined && !record.delete(node)) {
      scope.groups.delete(group);
      countPrefix(scope, group, -1);
    }
    this.touch(scope, group);
    return removed;
  }

  /** Whether `scope` holds a group whose name has `prefix` (up to and including its first `:`): O(1). */
  hasPrefix(scope: string, prefix: string): boolean {
    return (this.scopeStates.get(scope)?.prefixCounts.get(prefix) ?? 0) > 0;
  }

  /** Changes to any group of any scope so far: equal counts, no membership changed in between. */
  get changeCount(): number {
    return this.changes;
  }

  /** Records a change of `group`: a new stamp, or none once the group is gone (counted all the same: `changeCount`). */
  private touch(scope: ScopeState, group: string): void {
    const record = scope.groups.get(group);
    ++this.changes;
    if (record !== undefined) record.stamp = this.changes;
  }
}

export function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

export function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** Counts a group of `scope` created (+1) or gone (-1) under its name's prefix (`ScopeState.prefixCounts`). */
function countPrefix(scope: ScopeState, group: string, by: 1 | -1): void {
  const colon = group.indexOf(':');
  if (colon < 0) return;
  const prefix = group.slice(0, colon + 1);
  const n = (scope.prefixCounts.get(prefix) ?? 0) + by;
  if (n > 0) scope.prefixCounts.set(prefix, n);
  else scope.prefixCounts.delete(prefix);
}
