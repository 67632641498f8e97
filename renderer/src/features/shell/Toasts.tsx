/**
 * Toasts: the notices of store/toasts.ts (a node went down, children turned
 * failing; and, once back, that they are), grouped by burst, in the corner
 * of the window. Each says what
 * happened and leads to it when clicked (the node's or the child's detail;
 * several children filter the board to the failing ones); × dismisses it,
 * and it closes by itself (store/toasts.ts says when; a timer set to the
 * earliest such moment, not a polling tick).
 */
import { useEffect } from 'react';
import { useStore } from '../../store/index';
import { closesAt, nextRecovery, type Toast } from '../../store/toasts';
import { scoped } from '../../shared/scoped';
import styles from './toasts.module.css';

const cx = scoped(styles);

/** Names listed in a toast before "and N more". */
const NAMES = 3;

function names(subjects: string[]): string {
  const shown = subjects.slice(0, NAMES).join(', ');
  return subjects.length > NAMES ? `${shown} and ${subjects.length - NAMES} more` : shown;
}

/** The toast's headline, saying which of its subjects are back. */
export function toastText(t: Toast): string {
  const n = t.subjects.length;
  const back = t.recovered.length;
  if (t.kind === 'node-down') {
    if (n === 1) return back ? `Node ${t.subjects[0]} went down and is back up` : `Node ${t.subjects[0]} is down`;
    return back ? `${n} nodes went down: ${names(t.subjects)} (${back === n ? 'all' : back} back up)` : `${n} nodes are down: ${names(t.subjects)}`;
  }
  if (n === 1) return back ? `${t.subjects[0]} was failing and runs again` : `${t.subjects[0]} is failing`;
  return back
    ? `${n} children turned failing: ${names(t.subjects)} (${back === n ? 'all' : back} running again)`
    : `${n} children are failing: ${names(t.subjects)}`;
}

function open(t: Toast): void {
  const s = useStore.getState();
  if (t.kind === 'node-down') {
    if (t.subjects.length === 1) s.select({ kind: 'node', name: t.subjects[0]! });
    s.setView('board');
  } else if (t.subjects.length === 1) s.select({ kind: 'child', id: t.subjects[0]! });
  else {
    s.setView('board');
    if (s.statusFilter !== 'failing') s.toggleStatusFilter('failing');
  }
}

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  const recovering = useStore((s) => s.recovering);

  useEffect(() => {
    const back = nextRecovery(recovering);
    if (toasts.length === 0 && back === null) return;
    const closes = Math.min(...toasts.map(closesAt), back ?? Infinity);
    const timer = setTimeout(() => useStore.getState().expireToasts(useStore.getState().now()), Math.max(0, closes - useStore.getState().now()));
    return () => clearTimeout(timer);
  }, [toasts, recovering]);

  return (
    <section className={cx('toasts')} aria-label="Notifications" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={cx('toast', t.recovered.length === t.subjects.length && 'recovered')} data-testid="toast" data-kind={t.kind}>
          <button type="button" className={cx('toast-body')} onClick={() => open(t)} title={t.subjects.length > NAMES ? t.subjects.join(', ') : 'Show'}>
            <strong className={cx('toast-title')}>{toastText(t)}</strong>
            {t.kind === 'child-failing' && t.subjects.length === 1 && t.recovered.length === 0 && t.detail && (
              <span className={cx('toast-detail muted')}>{t.detail}</span>
            )}
          </button>
          <button type="button" className={cx('toast-close')} aria-label="Dismiss" title="Dismiss" onClick={() => useStore.getState().dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
