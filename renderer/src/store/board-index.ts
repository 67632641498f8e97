/**
 * The board's columns: every child grouped by the node it runs on ('' for
 * none), each column sorted by id, with a count per status — kept
 * incrementally, because the board is redrawn after every patch and at
 * 20,000 children grouping and sorting them all again took longer than the
 * rest of the patch's way to the screen.
 *
 * `nextIndex(prev, children)` compares the new children record with the one
 * the index was built from, by identity (applyPatch keeps an unchanged
 * child's object), and moves only the children that changed: each leaves
 * its old column and is inserted into its new one by binary search. A
 * column no change touched keeps its array, so its React component sees the
 * same prop. The cost is one identity pass over the record plus O(column)
 * per touched column; a rebuild (first state, or more than a quarter of the
 * children changed) sorts once, as before.
 *
 * A card sits in the column of its child's first instance, but a child may
 * run on several nodes at once: a member cut off from the others (netsplit
 * mode `available`) runs a copy of every child of the members it lost while
 * those run theirs, so each card is in the others' column and the cut-off
 * member's column counted 0 children while it ran them all (an outsider's
 * tour). `copies` keeps, per node, the children that run an instance there
 * whose card is in another column, by that column: the column says them.
 */
import { keyed, type ChildView } from 'pogo-core/observer-state';

type Children = Readonly<Record<string, ChildView>>;

export interface BoardIndex {
  /** The record the index was built from. */
  readonly children: Children;
  readonly byNode: Readonly<Record<string, readonly ChildView[]>>;
  /** Children per status. */
  readonly counts: ReadonlyMap<string, number>;
  readonly total: number;
  /** Children shown as last seen, not confirmed by a member now (their statuses are counted as they were). */
  readonly unverified: number;
  /** node → column → how many children whose card is in that column run an instance on the node too. */
  readonly copies: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

const byId = (a: ChildView, b: ChildView): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const column = (c: ChildView): string => c.node ?? '';

/** The nodes other than its card's column where `c` runs an instance (each once). */
function copyNodes(c: ChildView): string[] {
  const home = column(c);
  const out: string[] = [];
  for (const i of c.instances) if (i.node !== home && !out.includes(i.node)) out.push(i.node);
  return out;
}

type Copies = Map<string, Map<string, number>>;

/** Adds `by` (1 or -1) to the copies of `c`, editing `copies` in place (its inner maps must be the caller's own). */
function countCopies(copies: Copies, c: ChildView, by: number): void {
  const home = column(c);
  for (const node of copyNodes(c)) {
    const at = copies.get(node) ?? new Map<string, number>();
    const n = (at.get(home) ?? 0) + by;
    if (n > 0) at.set(home, n);
    else at.delete(home);
    if (at.size > 0) copies.set(node, at);
    else copies.delete(node);
  }
}

export function buildIndex(children: Children): BoardIndex {
  // By node name without a prototype (observer-state `keyed`): a node named `constructor` found Object's own function here.
  const byNode = keyed<ChildView[]>();
  const counts = new Map<string, number>();
  let total = 0;
  let unverified = 0;
  const copies: Copies = new Map();
  for (const c of Object.values(children).sort(byId)) {
    (byNode[column(c)] ??= []).push(c);
    counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
    total++;
    if (c.unverified === true) unverified++;
    countCopies(copies, c, 1);
  }
  return { children, byNode, counts, total, unverified, copies };
}

/** Index of `id` in a column sorted by id, or where it would go (negative: -(insertion point) - 1). */
function search(list: readonly ChildView[], id: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = list[mid]!.id;
    if (at === id) return mid;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** The index for `children`, from `prev` when it is cheaper to update than to rebuild. */
export function nextIndex(prev: BoardIndex | undefined, children: Children): BoardIndex {
  if (!prev) return buildIndex(children);
  if (prev.children === children) return prev;
  const old = prev.children;
  const changed: { before: ChildView | undefined; after: ChildView | undefined }[] = [];
  let present = 0;
  for (const id in children) {
    const c = children[id]!;
    const was = Object.hasOwn(old, id) ? old[id] : undefined;
    if (was !== undefined) present++;
    if (was !== c) changed.push({ before: was, after: c });
  }
  // Fewer of the old ids are still here than there were: some were removed.
  if (present < prev.total) for (const id in old) if (!Object.hasOwn(children, id)) changed.push({ before: old[id], after: undefined });
  if (changed.length > Math.max(64, prev.total / 4)) return buildIndex(children);

  const byNode: Record<string, readonly ChildView[]> = keyed(prev.byNode);
  const copied = new Set<string>();
  const edit = (node: string): ChildView[] => {
    if (!copied.has(node)) {
      byNode[node] = [...(byNode[node] ?? [])];
      copied.add(node);
    }
    return byNode[node] as ChildView[];
  };
  const counts = new Map(prev.counts);
  // Copied (two levels) only when a change touches a child running on more than one node: rare, and small.
  let copies: Copies | null = null;
  const editCopies = (c: ChildView, by: number): void => {
    if (copyNodes(c).length === 0) return;
    copies ??= new Map([...prev.copies].map(([n, at]) => [n, new Map(at)]));
    countCopies(copies, c, by);
  };
  let total = prev.total;
  let unverified = prev.unverified;
  for (const { before, after } of changed) {
    if (before) {
      const list = edit(column(before));
      const at = search(list, before.id);
      if (at >= 0) list.splice(at, 1);
      counts.set(before.status, (counts.get(before.status) ?? 0) - 1);
      total--;
      if (before.unverified === true) unverified--;
      editCopies(before, -1);
    }
    if (after) {
      const list = edit(column(after));
      const at = search(list, after.id);
      if (at >= 0) list[at] = after;
      else list.splice(-at - 1, 0, after);
      counts.set(after.status, (counts.get(after.status) ?? 0) + 1);
      total++;
      if (after.unverified === true) unverified++;
      editCopies(after, 1);
    }
  }
  for (const node of copied) if (byNode[node]!.length === 0) delete byNode[node];
  for (const [status, n] of counts) if (n <= 0) counts.delete(status);
  return { children, byNode, counts, total, unverified, copies: copies ?? prev.copies };
}

let last: BoardIndex | undefined;

/** The index of the store's current children (one shared, updated from the previous call). */
export function boardIndex(children: Children | undefined): BoardIndex {
  last = nextIndex(last, children ?? {});
  return last;
}
