/**
 * Timeline view: what happened in the cluster, newest first, as the gateway
 * keeps it (timeline-entries.ts): its notable events (members going down
 * and coming up, convergence) and its bursts of per-child events, merged by
 * `seq`. A reload or a second window shows the same past: nothing here is
 * kept by the window.
 *
 * A burst of one is shown as its event. A larger one is one line ("983
 * moved from s4 to 4 nodes (node down or failing)", "1,000 started on 3
 * nodes", "12 failed on n2") with its time span, expandable to how many per
 * node and the children's ids (the gateway keeps the first 500 of a burst),
 * each opening the child's detail.
 *
 * A redistribution is grouped: a member node going down or coming up, or a
 * node drained or undrained, heads the entries that follow it (behind a
 * shared rail) until the `converged` event that closes it, so a reader sees
 * "node down → 983 moved → converged in X ms" at a glance.
 *
 * Filters: by kind (toggle chips) and by text (every word must be found in
 * an entry's children, nodes or type; a burst is found by the ids and nodes
 * it holds, and its line names the children the text matched). A
 * redistribution whose head is filtered out but some of whose entries match
 * is still shown, with its head as a caption for context. The selected child
 * or node marks the entries about it. Child ids and node names are buttons
 * that open the detail.
 *
 * Rows are memoised (a patch renders only the entries that changed: a burst
 * is replaced when it grows) and offscreen rows skip layout with
 * content-visibility. The newest PAGE top-level items are drawn, more on
 * request, so two thousand entries cost nothing until asked for.
 */
import { memo, useCallback, useMemo, useState, type ReactNode } from 'react';
import type { ActivityView, EventType, EventView } from 'pogo-core/observer-state';
import { useStore } from '../../store/index';
import type { Selection } from '../../store/ui';
import { clockTimeMs, formatCount, formatDuration } from '../../shared/format';
import { describeActivity, describeEvent, type Part } from './event-text';
import {
  concerns,
  entryCount,
  entryType,
  groupEntries,
  headWords,
  kindOf,
  KINDS,
  matchingIds,
  mergeEntries,
  redistributionSummary,
  visibleCount,
  visibleItems,
  type Entry,
  type Kind,
  type VisibleItem,
} from './timeline-entries';
import { scoped } from '../../shared/scoped';
import styles from './timeline.module.css';

const cx = scoped(styles);

/** Top-level items drawn at first, and added by "Show older". */
export const PAGE = 300;

const KIND_LABELS: Record<Kind, string> = {
  membership: 'Membership',
  placement: 'Placement',
  lifecycle: 'Starts / stops',
  moves: 'Moves',
  failures: 'Failures',
  convergence: 'Convergence',
  operations: 'Drains / pauses',
};

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
  drain: 'drain',
  rebalancing: 'rebalancing',
};

function isSelected(entry: Entry, selection: Selection): boolean {
  if (!selection) return false;
  return concerns(entry, selection.kind === 'child' ? { kind: 'child', id: selection.id } : { kind: 'node', name: selection.name });
}

function Subject({ part }: { part: Exclude<Part, string> }) {
  if ('child' in part)
    return (
      <button
        type="button"
        className={cx('link tl-child')}
        title={`Show child ${part.child}`}
        onClick={() => useStore.getState().select({ kind: 'child', id: part.child })}
      >
        {part.child}
      </button>
    );
  return (
    <button
      type="button"
      className={cx('link tl-node')}
      title={`Show node ${part.node}`}
      onClick={() => useStore.getState().select({ kind: 'node', name: part.node })}
    >
      {part.node}
    </button>
  );
}

function Parts({ parts }: { parts: Part[] }) {
  return <>{parts.map((p, i) => (typeof p === 'string' ? p : <Subject key={i} part={p} />))}</>;
}

function Time({ at }: { at: number }) {
  const date = new Date(at);
  const day = `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
  return (
    <time className={cx('tl-time')} dateTime={date.toISOString()} title={`${day} ${clockTimeMs(at)}`}>
      {clockTimeMs(at)}
    </time>
  );
}

/** A badge takes its kind's colour; a node going down and a child stopping are drawn apart from theirs. */
function badgeClass(type: EventView['type']): string {
  return cx('tl-badge', `tl-${kindOf(type)}`, (type === 'node-down' || type === 'stopped') && `tl-type-${type}`);
}

const EventRow = memo(function EventRow({ event, selected, extra }: { event: EventView; selected: boolean; extra?: ReactNode }) {
  return (
    <div className={cx(`tl-row${selected ? ' selected' : ''}`)} data-testid="timeline-event" data-type={event.type} data-seq={event.seq}>
      <Time at={event.at} />
      <span className={badgeClass(event.type)}>{BADGES[event.type]}</span>
      <span className={cx('tl-text')} data-testid="tl-text">
        <Parts parts={describeEvent(event)} />
      </span>
      {extra}
    </div>
  );
});

/** The ids in order, each once, with how many of the burst's events it had. */
function idCounts(ids: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts];
}

function Expansion({ activity }: { activity: ActivityView }) {
  const perNode = Object.entries(activity.nodes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const more = activity.count - activity.ids.length;
  return (
    <div className={cx('tl-expansion')} id={`tl-burst-${activity.seq}`}>
      {perNode.length > 1 && (
        <p className={cx('tl-per-node')} data-testid="tl-per-node">
          <span className={cx('muted')}>{activity.type === 'moved' ? 'to' : 'on'}: </span>
          {perNode.map(([node, n], i) => (
            <span key={node}>
              {i > 0 && <span className={cx('muted')}> · </span>}
              <Subject part={{ node }} /> {formatCount(n)}
            </span>
          ))}
        </p>
      )}
      <ol className={cx('tl-ids')} aria-label="Children of this burst">
        {idCounts(activity.ids).map(([id, n]) => (
          <li key={id}>
            <Subject part={{ child: id }} />
            {n > 1 && <span className={cx('muted')}> ×{n}</span>}
          </li>
        ))}
      </ol>
      {more > 0 && (
        <p className={cx('muted tl-more')}>
          and {formatCount(more)} more (the gateway keeps the first {formatCount(activity.ids.length)} children of a burst)
        </p>
      )}
    </div>
  );
}

const ActivityRow = memo(function ActivityRow({
  activity,
  selected,
  expanded,
  onToggle,
  matching,
}: {
  activity: ActivityView;
  selected: boolean;
  expanded: boolean;
  onToggle: (seq: number) => void;
  matching: readonly string[];
}) {
  if (activity.count === 1) return <EventRow event={activity.first} selected={selected} />;
  const span = activity.until - activity.at;
  return (
    <div className={cx('tl-activity')} data-testid="timeline-burst" data-type={activity.type} data-seq={activity.seq} data-count={activity.count}>
      <div className={cx(`tl-row${selected ? ' selected' : ''}`)}>
        <Time at={activity.at} />
        <span className={badgeClass(activity.type)}>{BADGES[activity.type]}</span>
        <span className={cx('tl-text')} data-testid="tl-text">
          <Parts parts={describeActivity(activity)} />
          {span > 0 && <span className={cx('muted tl-span')}> · within {formatDuration(span)}</span>}
          {matching.length > 0 && <span className={cx('muted tl-matching')}> · incl. {matching.join(', ')}</span>}
        </span>
        <button
          type="button"
          className={cx('tl-toggle')}
          data-testid="tl-toggle"
          aria-expanded={expanded}
          aria-controls={expanded ? `tl-burst-${activity.seq}` : undefined}
          onClick={() => onToggle(activity.seq)}
          title={expanded ? 'Hide the children' : 'Show the children, and how many per node'}
        >
          {expanded ? '▾' : '▸'} {formatCount(activity.count)}
        </button>
      </div>
      {expanded && <Expansion activity={activity} />}
    </div>
  );
});

interface RowProps {
  entry: Entry;
  selection: Selection;
  expanded: ReadonlySet<number>;
  onToggle: (seq: number) => void;
  text: string;
}

function EntryRow({ entry, selection, expanded, onToggle, text }: RowProps) {
  if (entry.kind === 'event') return <EventRow event={entry.event} selected={isSelected(entry, selection)} />;
  return (
    <ActivityRow
      activity={entry.activity}
      selected={isSelected(entry, selection)}
      expanded={expanded.has(entry.seq)}
      onToggle={onToggle}
      matching={matchingIds(entry, text)}
    />
  );
}

function Redistribution({
  item,
  collapsed,
  onCollapse,
  ...row
}: Omit<RowProps, 'entry'> & { item: Extract<VisibleItem, { kind: 'redistribution' }>; collapsed: boolean; onCollapse: () => void }) {
  const { head, converged } = item;
  const { node, happened, label } = headWords(head);
  const hidden = item.all.length - item.members.length;
  const headEntry: Entry = { kind: 'event', seq: head.seq, at: head.at, event: head };
  const toggle = (
    <button
      type="button"
      className={cx('tl-toggle')}
      data-testid="tl-toggle"
      aria-expanded={!collapsed}
      onClick={onCollapse}
      title={collapsed ? 'Show what happened in this redistribution' : 'Hide what happened in this redistribution'}
    >
      {collapsed ? '▸' : '▾'} {item.all.length} {item.all.length === 1 ? 'entry' : 'entries'}
    </button>
  );
  return (
    <li
      className={cx('tl-redist', head.type === 'node-up' && 'tl-redist-up', (head.type === 'drain' || head.type === 'rebalancing') && 'tl-redist-op')}
      aria-label={`Redistribution after ${node === undefined ? label : `node ${node} ${label}`}`}
    >
      {item.headShown ? (
        <EventRow event={head} selected={isSelected(headEntry, row.selection)} extra={toggle} />
      ) : (
        <div className={cx('tl-context')}>
          <span className={cx('tl-time')}>{clockTimeMs(head.at)}</span>
          <span className={cx('muted tl-context-note')}>
            during the redistribution after{' '}
            {node === undefined ? (
              happened
            ) : (
              <>
                node <Subject part={{ node }} /> {happened}
              </>
            )}
          </span>
          {toggle}
        </div>
      )}
      <div className={cx('tl-summary')}>
        <span className={cx('tl-arrow')} aria-hidden="true">
          ↳
        </span>
        <span>{redistributionSummary(item.all)}</span>
        <span className={cx(`tl-outcome${item.open ? ' pending' : converged ? ' done' : ''}`)}>
          {converged ? `converged in ${formatDuration(converged.after)}` : item.open ? 'converging…' : 'no convergence recorded'}
        </span>
        {hidden > 0 && !collapsed && <span className={cx('muted')}>({hidden} filtered out)</span>}
      </div>
      {!collapsed && item.members.length > 0 && (
        <ol className={cx('tl-members')}>
          {item.members.map((e) => (
            <li key={e.seq}>
              <EntryRow entry={e} {...row} />
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}

function toggled(set: ReadonlySet<number>, seq: number): ReadonlySet<number> {
  const next = new Set(set);
  if (next.has(seq)) next.delete(seq);
  else next.add(seq);
  return next;
}

export function Timeline() {
  const events = useStore((s) => s.cluster?.events);
  const activity = useStore((s) => s.cluster?.activity);
  const selection = useStore((s) => s.selection);
  const [kinds, setKinds] = useState<ReadonlySet<Kind>>(() => new Set(KINDS));
  const [text, setText] = useState('');
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(() => new Set());
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(() => new Set());
  const [limit, setLimit] = useState(PAGE);

  const entries = useMemo(() => mergeEntries(events ?? [], activity ?? []), [events, activity]);
  const items = useMemo(() => groupEntries(entries), [entries]);
  const visible = useMemo(() => visibleItems(items, { kinds, text }), [items, kinds, text]);
  const kindCounts = useMemo(() => {
    const out: Partial<Record<Kind, number>> = {};
    for (const e of entries) {
      const k = kindOf(entryType(e));
      out[k] = (out[k] ?? 0) + entryCount(e);
    }
    return out;
  }, [entries]);
  const total = useMemo(() => entries.reduce((n, e) => n + entryCount(e), 0), [entries]);
  const shown = useMemo(() => visibleCount(visible), [visible]);
  const filtered = text.trim() !== '' || kinds.size < KINDS.length;
  const onToggle = useCallback((seq: number) => setExpanded((prev) => toggled(prev, seq)), []);

  const toggleKind = (k: Kind): void =>
    setKinds((prev) => {
      const next = new Set(prev);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });

  const row = { selection, expanded, onToggle, text };
  return (
    <section className={cx('timeline-view')} aria-label="Timeline">
      <div className={cx('toolbar tl-toolbar')}>
        <input type="search" aria-label="Filter events" placeholder="Filter by child id or node" value={text} onChange={(e) => setText(e.target.value)} />
        <div className={cx('tl-kinds')} role="group" aria-label="Event kinds">
          {KINDS.map((k) => (
            <button key={k} type="button" className={cx(`tl-chip tl-${k}`)} aria-pressed={kinds.has(k)} onClick={() => toggleKind(k)}>
              <span className={cx('tl-chip-dot')} aria-hidden="true" />
              {KIND_LABELS[k]}
              <span className={cx('tl-chip-count')}>{formatCount(kindCounts[k] ?? 0)}</span>
            </button>
          ))}
        </div>
        <span className={cx('muted')} data-testid="timeline-count">
          {filtered ? `${formatCount(shown)} of ${formatCount(total)}` : formatCount(total)} {total === 1 ? 'event' : 'events'}
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
      <p className={cx('muted tl-hint')}>
        Newest first, as the gateway keeps it. Per-child events that follow each other are one line per kind (▸ lists the children). A node going down, coming
        up, drained or undrained, and rebalancing resumed, head what followed until the cluster has converged again (every child running once, on its owner).
      </p>
      {total === 0 ? (
        <div className={cx('panel tl-empty')}>
          <p>No cluster events yet. Membership changes, convergence, and the starts, stops, moves and failures of children appear here as they happen.</p>
        </div>
      ) : visible.length === 0 ? (
        <p className={cx('muted tl-empty')}>No event matches the filters.</p>
      ) : (
        <>
          <ol className={cx('tl-list panel')}>
            {visible.slice(0, limit).map((v) =>
              v.kind === 'entry' ? (
                <li key={v.entry.seq} className={cx('tl-single')}>
                  <EntryRow entry={v.entry} {...row} />
                </li>
              ) : (
                <Redistribution
                  key={v.head.seq}
                  item={v}
                  collapsed={collapsed.has(v.head.seq)}
                  onCollapse={() => setCollapsed((prev) => toggled(prev, v.head.seq))}
                  {...row}
                />
              ),
            )}
          </ol>
          {visible.length > limit && (
            <button type="button" className={cx('tl-older')} onClick={() => setLimit((n) => n + PAGE)}>
              Show older ({formatCount(visible.length - limit)} more)
            </button>
          )}
        </>
      )}
    </section>
  );
}
