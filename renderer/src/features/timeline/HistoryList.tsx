/**
 * A child's or a node's history, for the detail panels: the timeline's
 * entries about it (timeline-entries.ts `entriesAbout`: the gateway's
 * notable events and its bursts of per-child events), newest first. An
 * entry is one line: its time, its type, and its sentence (event-text.ts):
 * a burst of one is its event, a larger burst its burst line ("983 moved
 * from s4 to 4 nodes (node down or failing)"), so a child's history says it
 * moved with 982 others and a node's that 983 left it.
 */
import { useMemo } from 'react';
import { useStore } from '../../store/index';
import { clockTimeMs } from '../../shared/format';
import { activityText, eventText } from './event-text';
import { entriesAbout, entryType, type About, type Entry } from './timeline-entries';
import type { EventType } from 'pogo-core/observer-state';
import { scoped } from '../../shared/scoped';
import styles from '../../shared/detail.module.css';

const cx = scoped(styles);

function textOf(entry: Entry): string {
  return entry.kind === 'event' ? eventText(entry.event) : activityText(entry.activity);
}

/** The entries about `about`, newest first, at most `limit`, read from the store. */
export function useHistory(about: About, limit: number): Entry[] {
  const events = useStore((s) => s.cluster?.events);
  const activity = useStore((s) => s.cluster?.activity);
  // `about` is a new object each render: depend on what it says.
  const kind = about.kind;
  const subject = about.kind === 'child' ? about.id : about.name;
  return useMemo(
    () => entriesAbout(events ?? [], activity ?? [], kind === 'child' ? { kind, id: subject } : { kind, name: subject }, limit),
    [events, activity, kind, subject, limit],
  );
}

/** The colour of an event's tag; a type not listed keeps the plain tag. */
const TONE: Partial<Record<EventType, 'bad' | 'warn' | 'ok' | 'idle'>> = {
  failed: 'bad',
  'node-down': 'bad',
  'duplicate-resolved': 'bad',
  moved: 'warn',
  placed: 'warn',
  started: 'ok',
  'node-up': 'ok',
  converged: 'ok',
  stopped: 'idle',
};

export function HistoryList({ entries }: { entries: readonly Entry[] }) {
  return (
    <ol className={cx('history')}>
      {entries.map((e) => {
        const type = entryType(e);
        const count = e.kind === 'activity' ? e.activity.count : 1;
        return (
          <li key={e.seq} className={cx('history-item')} data-type={type} data-count={count}>
            <time className={cx('muted')}>{clockTimeMs(e.at)}</time>
            <span className={cx('tag event-tag', TONE[type] && `event-${TONE[type]}`)}>{type}</span>
            <span className={cx('history-text')}>{textOf(e)}</span>
          </li>
        );
      })}
    </ol>
  );
}
