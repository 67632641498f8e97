/**
 * Timeline view: the cluster's events, newest first (the observer keeps the
 * newest 500): membership changes, placement decisions, starts and stops,
 * moves with their reasons, failures, and the gateway's convergence measure.
 *
 * A redistribution is grouped: a member node going down or coming up heads
 * the events that follow it (behind a shared rail) until the `converged`
 * event that closes it, so a reader sees "node down → N children moved →
 * converged in X ms" at a glance. The gateway measures one convergence from
 * the first topology change until every child runs once, so a second change
 * inside a burst belongs to it. Observers coming and going start no burst.
 *
 * Filters: by kind (toggle chips) and by text (every word must be found in
 * the event's child id, nodes or type). A burst whose head is filtered out
 * but some of whose events match is still shown, with its head as a caption
 * for context. Child ids and node names are buttons that open the detail.
 *
 * Rendering 500 rows is cheap enough here (rows are memoised, so a patch
 * renders only new rows; offscreen rows skip layout with content-visibility),
 * so the list is not virtualised: browser find and the e2e checks see every
 * row.
 */
import { memo, useMemo, useState, type ReactNode } from 'react';
import type { EventView } from 'pogo-core/observer-state';
import { useStore } from '../store/index';
import type { Selection } from '../store/ui';
import { clockTimeMs, formatDuration } from './chart-data';
import './timeline.css';

export const KINDS = ['membership', 'placement', 'lifecycle', 'moves', 'failures', 'convergence'] as const;
export type Kind = (typeof KINDS)[number];

const KIND_LABELS: Record<Kind, string> = { membership: 'Membership', placement: 'Placement', lifecycle: 'Starts / stops', moves: 'Moves', failures: 'Failures', convergence: 'Convergence' };

const KIND_OF: Record<string, Kind> = {
  'node-up': 'membership',
  'node-down': 'membership',
  placed: 'placement',
  started: 'lifecycle',
  stopped: 'lifecycle',
  moved: 'moves',
  failed: 'failures',
  'duplicate-resolved': 'failures',
  converged: 'convergence',
};

/** The filter kind of an event type (unknown types are shown under none and never hidden by kind). */
export function kindOf(type: string): Kind | null {
  return KIND_OF[type] ?? null;
}

const BADGES: Record<string, string> = {
  'node-up': 'node up',
  'node-down': 'node down',
  placed: 'placed',
  started: 'started',
  stopped: 'stopped',
  moved: 'moved',
  failed: 'failed',
  'duplicate-resolved': 'duplicate',
  converged: 'converged',
};

const MOVE_REASONS: Record<string, string> = {
  join: 'node joined',
  leave: 'node left',
  pin: 'pinned',
  unpin: 'unpinned',
  drain: 'node draining',
  undrain: 'node undrained',
  resume: 'rebalancing resumed',
  failure: 'node down or failing',
  heal: 'duplicate healed',
};

/** A piece of an event's sentence: text, or a child / node to link. */
export type Part = string | { child: string } | { node: string };

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function nodeOf(v: unknown): string | null {
  return v && typeof v === 'object' ? str((v as { node?: unknown }).node) : null;
}

/** The child id and node names an event is about (the text filter and selection look here). */
export function subjectsOf(e: EventView): { child: string | null; nodes: string[] } {
  const nodes = [str(e['node']), str(e['from']), str(e['to']), nodeOf(e['survivor']), ...(Array.isArray(e['stopped']) ? e['stopped'].map(nodeOf) : [])].filter((n): n is string => n !== null);
  return { child: e.type === 'converged' ? null : str(e['id']), nodes: [...new Set(nodes)] };
}

/** The event as a sentence: "ticker-1 moved demo-1 → demo-2 (node left)". */
export function describeEvent(e: EventView): Part[] {
  const id = str(e['id']);
  const node = str(e['node']);
  const child: Part = id ? { child: id } : 'a child';
  const on = (n: string | null): Part[] => (n ? [' on ', { node: n }] : []);
  switch (e.type) {
    case 'node-up':
      return [e['role'] === 'observer' ? 'observer ' : 'node ', node ? { node } : '?', ' up'];
    case 'node-down':
      return [e['role'] === 'observer' ? 'observer ' : 'node ', node ? { node } : '?', ' down', ...(str(e['reason']) ? [` (${str(e['reason'])})`] : [])];
    case 'placed': {
      const by = str(e['by']);
      if (!node) return [child, ' has no node to run on'];
      return ['placed ', child, ' on ', { node }, by === 'pin' ? ' (pinned there)' : by === 'hash' ? ' (by placement)' : ''];
    }
    case 'started':
      return [child, ' started', ...on(node)];
    case 'stopped':
      return [child, ' stopped', ...on(node)];
    case 'moved': {
      const from = str(e['from']);
      const to = str(e['to']);
      const reason = str(e['reason']);
      return [child, ' moved ', from ? { node: from } : '?', ' → ', to ? { node: to } : '?', reason ? ` (${MOVE_REASONS[reason] ?? reason})` : ''];
    }
    case 'failed': {
      const failures = num(e['failures']);
      const error = str(e['error']);
      return [child, ' failed', ...on(node), failures !== null ? ` (${failures} ${failures === 1 ? 'failure' : 'failures'} in a row)` : '', error ? `: ${error}` : ''];
    }
    case 'duplicate-resolved': {
      const survivor = nodeOf(e['survivor']);
      const stopped = Array.isArray(e['stopped']) ? e['stopped'].map(nodeOf).filter((n): n is string => n !== null) : [];
      const parts: Part[] = ['duplicate ', child, ' resolved: kept', ...on(survivor)];
      if (stopped.length > 0) {
        parts.push(', stopped on ');
        stopped.forEach((n, i) => parts.push(...(i > 0 ? [', '] : []), { node: n }));
      }
      return parts;
    }
    case 'converged': {
      const after = num(e['after']);
      const cause = str(e['cause']);
      const children = num(e['children']);
      const what = cause === 'node-down' ? ' down' : cause === 'node-up' ? ' up' : cause ? ` ${cause}` : '';
      return [
        `converged${after !== null ? ` ${formatDuration(after)}` : ''}`,
        ...(node ? [' after ', { node }, what] : cause ? [` after${what}`] : []),
        children !== null ? `: ${children} ${children === 1 ? 'child' : 'children'} running once` : '',
      ];
    }
    default: {
      const { seq: _seq, at: _at, type, ...rest } = e;
      return [type, ...(Object.keys(rest).length > 0 ? [` ${JSON.stringify(rest)}`] : [])];
    }
  }
}

/** An event on its own, or a burst: a topology change and what followed it until the cluster converged. */
export type TimelineItem = { kind: 'event'; event: EventView } | { kind: 'burst'; head: EventView; members: EventView[]; converged: EventView | null };

/** Groups events (oldest first) into items (oldest first). `isObserver` tells which node changes start no burst. */
export function groupEvents(events: EventView[], isObserver: (node: string) => boolean = () => false): TimelineItem[] {
  const items: TimelineItem[] = [];
  let open: Extract<TimelineItem, { kind: 'burst' }> | null = null;
  for (const e of events) {
    // Only members move children: observers (a UI, `pogo ctl`) coming and going start no group.
    const role = str(e['role']);
    const topology = (e.type === 'node-down' || e.type === 'node-up') && (role ? role === 'member' : !isObserver(str(e['node']) ?? ''));
    if (open) {
      open.members.push(e);
      if (e.type === 'converged') {
        open.converged = e;
        open = null;
      }
    } else if (topology) {
      open = { kind: 'burst', head: e, members: [], converged: null };
      items.push(open);
    } else items.push({ kind: 'event', event: e });
  }
  return items;
}

export interface Filters {
  /** Kinds shown. */
  kinds: ReadonlySet<Kind>;
  text: string;
}

/** True when an event passes the kind and text filters. */
export function matchesEvent(e: EventView, filters: Filters): boolean {
  const kind = kindOf(e.type);
  if (kind && !filters.kinds.has(kind)) return false;
  const words = filters.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const { child, nodes } = subjectsOf(e);
  const text = [child ?? '', ...nodes, e.type].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

export type VisibleItem = { kind: 'event'; event: EventView } | { kind: 'burst'; head: EventView; headShown: boolean; members: EventView[]; all: EventView[]; converged: EventView | null; open: boolean };

/** What to show, newest first (a burst's events newest first under its head), after filtering. */
export function visibleItems(items: TimelineItem[], filters: Filters): VisibleItem[] {
  const out: VisibleItem[] = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    if (item.kind === 'event') {
      if (matchesEvent(item.event, filters)) out.push(item);
      continue;
    }
    const members = item.members.filter((e) => matchesEvent(e, filters)).reverse();
    const headShown = matchesEvent(item.head, filters);
    if (headShown || members.length > 0) out.push({ kind: 'burst', head: item.head, headShown, members, all: item.members, converged: item.converged, open: item.converged === null && i === items.length - 1 });
  }
  return out;
}

/** "4 children moved · 4 started · 4 stopped": what happened in a burst (nothing of a kind, not mentioned). */
export function burstSummary(all: EventView[]): string {
  const counts: Record<string, number> = {};
  for (const e of all) counts[e.type] = (counts[e.type] ?? 0) + 1;
  const parts: string[] = [];
  const moved = counts['moved'] ?? 0;
  if (moved > 0) parts.push(`${moved} ${moved === 1 ? 'child' : 'children'} moved`);
  for (const [type, label] of [
    ['started', 'started'],
    ['stopped', 'stopped'],
    ['failed', 'failed'],
    ['duplicate-resolved', 'duplicates resolved'],
  ] as const)
    if (counts[type]) parts.push(`${counts[type]} ${label}`);
  const changes = (counts['node-down'] ?? 0) + (counts['node-up'] ?? 0);
  if (changes > 0) parts.push(`${changes} more node ${changes === 1 ? 'change' : 'changes'}`);
  return parts.length > 0 ? parts.join(' · ') : 'no child moved';
}

function selects(e: EventView, selection: Selection): boolean {
  if (!selection) return false;
  const { child, nodes } = subjectsOf(e);
  return selection.kind === 'child' ? child === selection.id : nodes.includes(selection.name);
}

function Subject({ part }: { part: Exclude<Part, string> }) {
  if ('child' in part)
    return (
      <button type="button" className="link tl-child" title={`Show child ${part.child}`} onClick={() => useStore.getState().select({ kind: 'child', id: part.child })}>
        {part.child}
      </button>
    );
  return (
    <button type="button" className="link tl-node" title={`Show node ${part.node}`} onClick={() => useStore.getState().select({ kind: 'node', name: part.node })}>
      {part.node}
    </button>
  );
}

const EventRow = memo(function EventRow({ event, selected, extra }: { event: EventView; selected: boolean; extra?: ReactNode }) {
  const parts = describeEvent(event);
  const date = new Date(event.at);
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  return (
    <div className={`tl-row${selected ? ' selected' : ''}`} data-testid="timeline-event" data-type={event.type} data-seq={event.seq}>
      <time className="tl-time" dateTime={date.toISOString()} title={`${day} ${clockTimeMs(event.at)}`}>
        {clockTimeMs(event.at)}
      </time>
      <span className={`tl-badge tl-${kindOf(event.type) ?? 'other'} tl-type-${event.type}`}>{BADGES[event.type] ?? event.type}</span>
      <span className="tl-text">{parts.map((p, i) => (typeof p === 'string' ? p : <Subject key={i} part={p} />))}</span>
      {extra}
    </div>
  );
});

function Burst({ item, selection, collapsed, onToggle }: { item: Extract<VisibleItem, { kind: 'burst' }>; selection: Selection; collapsed: boolean; onToggle: () => void }) {
  const { head, converged } = item;
  const down = head.type === 'node-down';
  const node = str(head['node']);
  const after = converged ? num(converged['after']) : null;
  const hidden = item.all.length - item.members.length;
  const toggle = (
    <button type="button" className="tl-toggle" aria-expanded={!collapsed} onClick={onToggle} title={collapsed ? 'Show the events of this redistribution' : 'Hide the events of this redistribution'}>
      {collapsed ? '▸' : '▾'} {item.all.length} {item.all.length === 1 ? 'event' : 'events'}
    </button>
  );
  return (
    <li className={`tl-burst ${down ? 'tl-burst-down' : 'tl-burst-up'}${item.open ? ' tl-burst-open' : ''}`} aria-label={`Redistribution after node ${node ?? '?'} ${down ? 'down' : 'up'}`}>
      {item.headShown ? (
        <EventRow event={head} selected={selects(head, selection)} extra={toggle} />
      ) : (
        <div className="tl-context">
          <span className="tl-time">{clockTimeMs(head.at)}</span>
          <span className="muted">
            during the redistribution after node {node ? <Subject part={{ node }} /> : '?'} {down ? 'went down' : 'came up'}
          </span>
          {toggle}
        </div>
      )}
      <div className="tl-summary">
        <span className="tl-arrow" aria-hidden="true">
          ↳
        </span>
        <span>{burstSummary(item.all)}</span>
        <span className={`tl-outcome${item.open ? ' pending' : converged ? ' done' : ''}`}>
          {converged ? `converged in ${after !== null ? formatDuration(after) : '?'}` : item.open ? 'converging…' : 'no convergence recorded'}
        </span>
        {hidden > 0 && !collapsed && <span className="muted">({hidden} filtered out)</span>}
      </div>
      {!collapsed && item.members.length > 0 && (
        <ol className="tl-members">
          {item.members.map((e) => (
            <li key={e.seq}>
              <EventRow event={e} selected={selects(e, selection)} />
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

export function Timeline() {
  const events = useStore((s) => s.cluster?.events);
  const members = useStore((s) => s.cluster?.members);
  const selection = useStore((s) => s.selection);
  const [kinds, setKinds] = useState<ReadonlySet<Kind>>(() => new Set(KINDS));
  const [text, setText] = useState('');
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(() => new Set());

  const items = useMemo(() => groupEvents(events ?? [], (n) => members?.[n]?.role === 'observer'), [events, members]);
  const visible = useMemo(() => visibleItems(items, { kinds, text }), [items, kinds, text]);
  const kindCounts = useMemo(() => {
    const out: Partial<Record<Kind, number>> = {};
    for (const e of events ?? []) {
      const k = kindOf(e.type);
      if (k) out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }, [events]);
  const total = events?.length ?? 0;
  const shown = visible.reduce((n, v) => n + (v.kind === 'event' ? 1 : v.members.length + (v.headShown ? 1 : 0)), 0);
  const filtered = text.trim() !== '' || kinds.size < KINDS.length;

  const toggleKind = (k: Kind): void =>
    setKinds((prev) => {
      const next = new Set(prev);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });
  const toggleBurst = (seq: number): void =>
    setCollapsed((prev) => {
      const next = new Set(prev);
      if (next.has(seq)) next.delete(seq);
      else next.add(seq);
      return next;
    });

  return (
    <section className="timeline-view" aria-label="Timeline">
      <div className="toolbar tl-toolbar">
        <input type="search" aria-label="Filter events" placeholder="Filter by child id or node" value={text} onChange={(e) => setText(e.target.value)} />
        <div className="tl-kinds" role="group" aria-label="Event kinds">
          {KINDS.map((k) => (
            <button key={k} type="button" className={`tl-chip tl-${k}`} aria-pressed={kinds.has(k)} onClick={() => toggleKind(k)}>
              <span className="tl-chip-dot" aria-hidden="true" />
              {KIND_LABELS[k]}
              <span className="tl-chip-count">{kindCounts[k] ?? 0}</span>
            </button>
          ))}
        </div>
        <span className="muted" data-testid="timeline-count">
          {filtered ? `${shown} of ${total}` : total} {total === 1 ? 'event' : 'events'}
        </span>
        {filtered && (
          <button
            type="button"
            onClick={() => {
              setKinds(new Set(KINDS));
              setText('');
            }}
          >
            Clear filters
          </button>
        )}
      </div>
      <p className="muted tl-hint">Newest first. A node going down or coming up heads the events that follow it until the cluster has converged again (every child running once).</p>
      {total === 0 ? (
        <div className="panel tl-empty">
          <p>No cluster events yet. Membership changes, placement decisions, starts, stops and moves appear here as they happen.</p>
        </div>
      ) : visible.length === 0 ? (
        <p className="muted tl-empty">No event matches the filters.</p>
      ) : (
        <ol className="tl-list panel">
          {visible.map((v) =>
            v.kind === 'event' ? (
              <li key={v.event.seq} className="tl-single">
                <EventRow event={v.event} selected={selects(v.event, selection)} />
              </li>
            ) : (
              <Burst key={v.head.seq} item={v} selection={selection} collapsed={collapsed.has(v.head.seq)} onToggle={() => toggleBurst(v.head.seq)} />
            ),
          )}
        </ol>
      )}
    </section>
  );
}
