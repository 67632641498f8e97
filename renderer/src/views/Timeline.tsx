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
import type { EventType, EventView } from 'pogo-core/observer-state';
import { useStore } from '../store/index';
import type { Selection } from '../store/ui';
import { clockTimeMs, formatDuration } from './chart-data';
import { describeEvent, subjectsOf, type Part } from './event-text';
import './timeline.css';

export const KINDS = ['membership', 'placement', 'lifecycle', 'moves', 'failures', 'convergence'] as const;
export type Kind = (typeof KINDS)[number];

const KIND_LABELS: Record<Kind, string> = { membership: 'Membership', placement: 'Placement', lifecycle: 'Starts / stops', moves: 'Moves', failures: 'Failures', convergence: 'Convergence' };

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
};

/** The filter kind of an event type. */
export function kindOf(type: EventType): Kind {
  return KIND_OF[type];
}

const BADGES: Record<EventType, string> = {
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

type TopologyEvent = Extract<EventView, { type: 'node-up' | 'node-down' }>;
type ConvergedView = Extract<EventView, { type: 'converged' }>;

/** An event on its own, or a burst: a topology change and what followed it until the cluster converged. */
export type TimelineItem = { kind: 'event'; event: EventView } | { kind: 'burst'; head: TopologyEvent; members: EventView[]; converged: ConvergedView | null };

/** Groups events (oldest first) into items (oldest first). */
export function groupEvents(events: readonly EventView[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let open: Extract<TimelineItem, { kind: 'burst' }> | null = null;
  for (const e of events) {
    // Only members move children: observers (a UI, `pogo ctl`) coming and going start no group.
    const topology = (e.type === 'node-down' || e.type === 'node-up') && e.role === 'member';
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
  if (!filters.kinds.has(kindOf(e.type))) return false;
  const words = filters.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const { child, nodes } = subjectsOf(e);
  const text = [child ?? '', ...nodes, e.type].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

export type VisibleItem = { kind: 'event'; event: EventView } | { kind: 'burst'; head: TopologyEvent; headShown: boolean; members: EventView[]; all: EventView[]; converged: ConvergedView | null; open: boolean };

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
  const counts: Partial<Record<EventType, number>> = {};
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
      <span className={`tl-badge tl-${kindOf(event.type)} tl-type-${event.type}`}>{BADGES[event.type]}</span>
      <span className="tl-text">{parts.map((p, i) => (typeof p === 'string' ? p : <Subject key={i} part={p} />))}</span>
      {extra}
    </div>
  );
});

function Burst({ item, selection, collapsed, onToggle }: { item: Extract<VisibleItem, { kind: 'burst' }>; selection: Selection; collapsed: boolean; onToggle: () => void }) {
  const { head, converged } = item;
  const down = head.type === 'node-down';
  const node = head.node;
  const hidden = item.all.length - item.members.length;
  const toggle = (
    <button type="button" className="tl-toggle" aria-expanded={!collapsed} onClick={onToggle} title={collapsed ? 'Show the events of this redistribution' : 'Hide the events of this redistribution'}>
      {collapsed ? '▸' : '▾'} {item.all.length} {item.all.length === 1 ? 'event' : 'events'}
    </button>
  );
  return (
    <li className={`tl-burst ${down ? 'tl-burst-down' : 'tl-burst-up'}${item.open ? ' tl-burst-open' : ''}`} aria-label={`Redistribution after node ${node} ${down ? 'down' : 'up'}`}>
      {item.headShown ? (
        <EventRow event={head} selected={selects(head, selection)} extra={toggle} />
      ) : (
        <div className="tl-context">
          <span className="tl-time">{clockTimeMs(head.at)}</span>
          <span className="muted">
            during the redistribution after node <Subject part={{ node }} /> {down ? 'went down' : 'came up'}
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
          {converged ? `converged in ${formatDuration(converged.after)}` : item.open ? 'converging…' : 'no convergence recorded'}
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
  const selection = useStore((s) => s.selection);
  const [kinds, setKinds] = useState<ReadonlySet<Kind>>(() => new Set(KINDS));
  const [text, setText] = useState('');
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(() => new Set());

  const items = useMemo(() => groupEvents(events ?? []), [events]);
  const visible = useMemo(() => visibleItems(items, { kinds, text }), [items, kinds, text]);
  const kindCounts = useMemo(() => {
    const out: Partial<Record<Kind, number>> = {};
    for (const e of events ?? []) {
      const k = kindOf(e.type);
      out[k] = (out[k] ?? 0) + 1;
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
