/**
 * The board's status counts, which are also its status filter: each count
 * ("1 failing") is a toggle button that shows only the children with that
 * status; pressing it again, or the "×" of the filter chip, shows all. A
 * status with no children is not listed, unless it is the active filter
 * (so the filter stays visible and can be cleared). Children shown as last
 * seen (no member confirms them now) are counted by the status they had,
 * and the count says how many of them are unverified.
 */
import { boardIndex } from '../../store/board-index';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import styles from './board.module.css';

const cx = scoped(styles);

/** Problems first. */
export const STATUS_ORDER = ['failing', 'duplicate', 'unplaceable', 'moving', 'pending', 'running'] as const;

export function StatusCounts({ shown }: { shown: number }) {
  const children = useStore((s) => s.cluster?.children);
  const active = useStore((s) => s.statusFilter);
  const search = useStore((s) => s.filter);
  const { counts, total, unverified } = boardIndex(children);
  const statuses = [...STATUS_ORDER, ...[...counts.keys()].filter((s) => !(STATUS_ORDER as readonly string[]).includes(s))];
  const filtered = search !== '' || active !== null;

  return (
    <div className={cx('status-counts')} role="group" aria-label="Filter by status" data-testid="board-counts">
      <span className={cx('muted')}>
        {filtered ? `${shown} of ${total}` : total} {total === 1 ? 'child' : 'children'}
      </span>
      {statuses
        .filter((s) => (counts.get(s) ?? 0) > 0 || s === active)
        .map((s) => (
          <button
            key={s}
            type="button"
            className={cx('status-count', s === active && 'active')}
            aria-pressed={s === active}
            data-status={s}
            title={s === active ? 'Show every child again' : `Show only ${s} children`}
            onClick={() => useStore.getState().toggleStatusFilter(s)}
          >
            {counts.get(s) ?? 0} {s}
          </button>
        ))}
      {unverified > 0 && (
        <span className={cx('muted')} data-testid="unverified-count" title="As last seen: no member confirms them now">
          {unverified === total ? 'all' : unverified} unverified
        </span>
      )}
      {active !== null && (
        <span className={cx('filter-chip')} data-testid="status-filter">
          showing {active} only
          <button
            type="button"
            aria-label="Clear the status filter"
            title="Show every child again"
            onClick={() => useStore.getState().toggleStatusFilter(null)}
          >
            ×
          </button>
        </span>
      )}
    </div>
  );
}
