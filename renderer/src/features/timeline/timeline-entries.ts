/**
 * The timeline's entries, pure (no React): the gateway's notable events
 * (membership, convergence) and its bursts of per-child events (state.ts
 * ActivityView) merged into one list by `seq`, which both share, and what
 * each entry is about, for the timeline's filters and selection and for the
 * child's and the node's history.
 *
 * An entry is one notable event, or one burst. A burst of one stands for its
 * `first` event; a larger one for `count` events of one kind. Where a count
 * of events is shown (the filter chips, "12 of 2,000 events"), a burst
 * counts as its `count`.
 *
 * What a burst is about: a node when the node is in its `nodes` (where its
 * events happened; moves: where they went) or is the node its moves left; a
 * child when its id is in `ids` (the burst's first MAX_BURST_IDS children:
 * a child past those is not found in it, and the burst says "and N more").
 *
 * Redistributions: a member going down or coming up, or a node drained or
 * undrained, heads the entries that follow it, until the `converged` entry
 * that closes it (`groupEntries`). The gateway measures one convergence from
 * the first such change until every child runs once on its owner, so a
 * second change inside one belongs to it.
 */
import type { ActivityView, EventType, EventView } from 'pogo-core/observer-state';
import { changeWord } from '../../shared/change-words';
import { activitySubjects, subjectsOf } from './event-text';

export type Entry = { kind: 'event'; seq: number; at: number; event: EventView } | { kind: 'activity'; seq: number; at: number; activity: ActivityView };

export const KINDS = ['membership', 'placement', 'lifecycle', 'moves', 'failures', 'convergence', 'operations'] as const;
export type Kind = (typeof KINDS)[number];

const KIND_OF: Record<EventType, Kind> = {
  'node-up': 'membership',
  'node-down': 'membership',
  placed: 'placement',
  started: 'lifecycle',
  stopped: 'lifecycle',
  moved: 'moves',
  failed: 'failures',
  'duplicate-resolved': 'failures',
  converged: 'convergence',
  drain: 'operations',
  rebalancing: 'operations',
};

/** The filter kind of an event type. */
export function kindOf(type: EventType): Kind {
  return KIND_OF[type];
}

/** Notable events and bursts (each sorted by seq, as the state keeps them) merged by seq, oldest first. */
export function mergeEntries(events: readonly EventView[], activity: readonly ActivityView[]): Entry[] {
  const out: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < events.length || j < activity.length) {
    const e = events[i];
    const a = activity[j];
    if (e !== undefined && (a === undefined || e.seq < a.seq)) {
      out.push({ kind: 'event', seq: e.seq, at: e.at, event: e });
      i++;
    } else if (a !== undefined) {
      out.push({ kind: 'activity', seq: a.seq, at: a.at, activity: a });
      j++;
    }
  }
  return out;
}

export function entryType(entry: Entry): EventType {
  return entry.kind === 'event' ? entry.event.type : entry.activity.type;
}

/** Whether an entry is of stops told as lost from sight (state.ts StopNote `unseen`), not seen to stop. */
function isUnseenStop(entry: Entry): boolean {
  const e = entry.kind === 'event' ? entry.event : entry.activity.first;
  return e.type === 'stopped' && e.unseen === true;
}

/** How many events an entry stands for. */
export function entryCount(entry: Entry): number {
  return entry.kind === 'event' ? 1 : entry.activity.count;
}

/** The children and nodes an entry is about (a burst: its first children, its nodes and a move's source). */
export function entrySubjects(entry: Entry): { children: readonly string[]; nodes: readonly string[] } {
  if (entry.kind === 'activity') return { children: entry.activity.ids, nodes: activitySubjects(entry.activity) };
  const { child, nodes } = subjectsOf(entry.event);
  return { children: child === null ? [] : [child], nodes };
}

export type About = { kind: 'child'; id: string } | { kind: 'node'; name: string };

/** True when the entry concerns that child or node. */
export function concerns(entry: Entry, about: About): boolean {
  const { children, nodes } = entrySubjects(entry);
  return about.kind === 'child' ? children.includes(about.id) : nodes.includes(about.name);
}

/** The entries about a child or a node, newest first, at most `limit` (a child's or a node's history). */
export function entriesAbout(events: readonly EventView[], activity: readonly ActivityView[], about: About, limit: number): Entry[] {
  const all = mergeEntries(events, activity);
  const out: Entry[] = [];
  for (let i = all.length - 1; i >= 0 && out.length < limit; i--) if (concerns(all[i]!, about)) out.push(all[i]!);
  return out;
}

export interface Filters {
  /** Kinds shown. */
  kinds: ReadonlySet<Kind>;
  text: string;
}

function words(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/** True when an entry passes the kind and text filters: every word is found in one of its children, its nodes or its type. */
export function matchesEntry(entry: Entry, filters: Filters): boolean {
  const type = entryType(entry);
  if (!filters.kinds.has(kindOf(type))) return false;
  const wanted = words(filters.text);
  if (wanted.length === 0) return true;
  const { children, nodes } = entrySubjects(entry);
  const haystack = [type, ...nodes].map((s) => s.toLowerCase());
  const ids = children.map((s) => s.toLowerCase());
  return wanted.every((w) => haystack.some((s) => s.includes(w)) || ids.some((s) => s.includes(w)));
}

/** A burst's children that the text filter names (those to point out in its line), at most `limit`. */
export function matchingIds(entry: Entry, text: string, limit = 5): string[] {
  if (entry.kind !== 'activity' || entry.activity.count === 1) return [];
  const wanted = words(text);
  if (wanted.length === 0) return [];
  const out: string[] = [];
  for (const id of entry.activity.ids) {
    const lower = id.toLowerCase();
    if (wanted.some((w) => lower.includes(w))) out.push(id);
    if (out.length >= limit) break;
  }
  return out;
}

/** What heads a redistribution: a member going down or coming up, a node drained or undrained, rebalancing resumed. */
export type RedistributionHead = EventView & { type: 'node-up' | 'node-down' | 'drain' | 'rebalancing' };
type Converged = EventView & { type: 'converged' };

/** An entry on its own, or a redistribution: a change that moves children and what followed it until the cluster converged. */
export type TimelineItem =
  { kind: 'entry'; entry: Entry } | { kind: 'redistribution'; head: RedistributionHead; members: Entry[]; converged: Converged | null };

function isHead(e: EventView): e is RedistributionHead {
  // Only members move children: an observer (a UI, `pogo ctl`) starts no redistribution; nor does a pause.
  return ((e.type === 'node-down' || e.type === 'node-up') && e.role === 'member') || e.type === 'drain' || (e.type === 'rebalancing' && !e.paused);
}

/**
 * What happened, as the end of "after …" and in a label's fewer words: a
 * node's change names the node ("node X went down" / "node X down", came
 * up, was drained, was undrained); a resume names none.
 */
export function headWords(head: RedistributionHead): { node: string | undefined; happened: string; label: string } {
  switch (head.type) {
    case 'rebalancing':
      return { node: undefined, happened: changeWord('resume'), label: changeWord('resume') };
    case 'drain':
      return { node: head.node, happened: head.draining ? 'was drained' : 'was undrained', label: changeWord(head.draining ? 'drain' : 'undrain') };
    case 'node-down':
      return { node: head.node, happened: 'went down', label: changeWord('node-down') };
    case 'node-up':
      return { node: head.node, happened: 'came up', label: changeWord('node-up') };
  }
}

/** Groups entries (oldest first) into items (oldest first). */
export function groupEntries(entries: readonly Entry[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let open: Extract<TimelineItem, { kind: 'redistribution' }> | null = null;
  for (const entry of entries) {
    if (open) {
      open.members.push(entry);
      if (entry.kind === 'event' && entry.event.type === 'converged') {
        open.converged = entry.event;
        open = null;
      }
    } else if (entry.kind === 'event' && isHead(entry.event)) {
      open = { kind: 'redistribution', head: entry.event, members: [], converged: null };
      items.push(open);
    } else items.push({ kind: 'entry', entry });
  }
  return items;
}

export type VisibleItem =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'redistribution'; head: RedistributionHead; headShown: boolean; members: Entry[]; all: Entry[]; converged: Converged | null; open: boolean };

/** What to show, newest first (a redistribution's entries newest first under its head), after filtering. */
export function visibleItems(items: readonly TimelineItem[], filters: Filters): VisibleItem[] {
  const out: VisibleItem[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.kind === 'entry') {
      if (matchesEntry(item.entry, filters)) out.push(item);
      continue;
    }
    const members = item.members.filter((e) => matchesEntry(e, filters)).reverse();
    const headShown = matchesEntry({ kind: 'event', seq: item.head.seq, at: item.head.at, event: item.head }, filters);
    if (headShown || members.length > 0)
      out.push({
        kind: 'redistribution',
        head: item.head,
        headShown,
        members,
        all: item.members,
        converged: item.converged,
        open: item.converged === null && i === items.length - 1,
      });
  }
  return out;
}

/** How many events the visible items stand for. */
export function visibleCount(items: readonly VisibleItem[]): number {
  let n = 0;
  for (const v of items) {
    if (v.kind === 'entry') n += entryCount(v.entry);
    else {
      if (v.headShown) n++;
      for (const m of v.members) n += entryCount(m);
    }
  }
  return n;
}

/** "983 children moved · 983 started · 983 stopped": what happened in a redistribution (nothing of a kind, not mentioned). */
export function redistributionSummary(all: readonly Entry[]): string {
  const counts: Partial<Record<EventType, number>> = {};
  // Instances lost from sight with a silent member (StopNote `unseen`) are not said to have stopped.
  let unseen = 0;
  for (const e of all) {
    const type = entryType(e);
    if (isUnseenStop(e)) unseen += entryCount(e);
    else counts[type] = (counts[type] ?? 0) + entryCount(e);
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const parts: string[] = [];
  const moved = counts['moved'] ?? 0;
  if (moved > 0) parts.push(`${fmt(moved)} ${moved === 1 ? 'child' : 'children'} moved`);
  for (const [type, label] of [
    ['started', 'started'],
    ['stopped', 'stopped'],
    ['failed', 'failed'],
    ['duplicate-resolved', 'duplicates resolved'],
  ] as const)
    if (counts[type]) parts.push(`${fmt(counts[type])} ${label}`);
  if (unseen > 0) parts.push(`${fmt(unseen)} lost from sight`);
  const changes = (counts['node-down'] ?? 0) + (counts['node-up'] ?? 0);
  if (changes > 0) parts.push(`${changes} more node ${changes === 1 ? 'change' : 'changes'}`);
  return parts.length > 0 ? parts.join(' · ') : 'no child moved';
}
