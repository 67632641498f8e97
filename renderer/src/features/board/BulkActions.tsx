/**
 * Bulk actions on the board's filtered set: with a search or a status
 * filter on, an operator gets "Stop N" and "Move N to…", which act on
 * exactly the N children the board shows at that moment (their ids are
 * taken when the button is pressed, and the confirmation names the count
 * and the first few ids). Commands go a few at a time (gateway/bulk.ts);
 * while they run the bar says how far it got, and then what came of it:
 * how many were done, and each child that failed with its reason.
 *
 * A bulk move is a move per child (the same command as a drag: it pins the
 * child to the node), marked "moving" on the board as each one is.
 */
import { useId, useState } from 'react';
import type { MemberView } from 'pogo-core/observer-state';
import { sendCommand } from '../../gateway/client';
import { failureCounts, runBulk, type BulkOutcome } from '../../gateway/bulk';
import { requestMove } from '../../gateway/move';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { scoped } from '../../shared/scoped';
import detail from '../../shared/detail.module.css';
import styles from './board.module.css';

// The result line borrows the detail panels' close button and error text.
const cx = scoped({ ...detail, ...styles });

/** Ids the confirmation lists before "and N more". */
const LISTED = 8;
/** Failures the summary lists before "and N more". */
const FAILURES_LISTED = 10;

type Action = { kind: 'stop' } | { kind: 'move'; to: string };

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function verbOf(action: Action, done: boolean): string {
  if (action.kind === 'stop') return done ? 'Stopped' : 'Stopping';
  return done ? `Moved to ${action.to}:` : `Moving to ${action.to}:`;
}

export function BulkActions({ ids, nodes, describeFilter }: { ids: readonly string[]; nodes: readonly MemberView[]; describeFilter: string }) {
  const uid = useId();
  // Nodes that take children: up, ready (not joining or leaving), not draining (as the board's drop targets: move-target.ts).
  const targets = nodes.filter((n) => n.status === 'up' && n.ready && !n.draining);
  const [to, setTo] = useState('');
  const target = targets.some((n) => n.name === to) ? to : (targets[0]?.name ?? '');
  const [asking, setAsking] = useState<{ action: Action; ids: readonly string[] } | null>(null);
  const [running, setRunning] = useState<{ action: Action; total: number; finished: number } | null>(null);
  const [result, setResult] = useState<{ action: Action; outcome: BulkOutcome } | null>(null);

  const run = async (action: Action, set: readonly string[]): Promise<void> => {
    setAsking(null);
    setResult(null);
    setRunning({ action, total: set.length, finished: 0 });
    const act = action.kind === 'stop' ? (id: string) => sendCommand('stop', { id }) : (id: string) => requestMove(id, action.to, { quiet: true });
    const outcome = await runBulk(set, act, { onProgress: (finished) => setRunning((r) => (r ? { ...r, finished } : r)) });
    setRunning(null);
    setResult({ action, outcome });
  };

  const n = ids.length;
  return (
    <div className={cx('bulk')}>
      <div className={cx('bulk-actions')} role="group" aria-label="Act on the filtered children" data-testid="bulk-actions">
        <span className={cx('muted')}>
          The {plural(n, 'child', 'children')} shown ({describeFilter}):
        </span>
        <button
          type="button"
          className={cx('danger')}
          disabled={n === 0 || running !== null}
          onClick={() => setAsking({ action: { kind: 'stop' }, ids: [...ids] })}
          title={`Stop the ${plural(n, 'child', 'children')} the board shows now`}
        >
          Stop {n}
        </button>
        <button
          type="button"
          disabled={n === 0 || !target || running !== null}
          onClick={() => setAsking({ action: { kind: 'move', to: target }, ids: [...ids] })}
          title={`Pin the ${plural(n, 'child', 'children')} the board shows now to this node`}
        >
          Move {n} to
        </button>
        <select
          aria-label="Move the filtered children to"
          id={`${uid}-to`}
          value={target}
          onChange={(e) => setTo(e.target.value)}
          disabled={targets.length === 0 || running !== null}
        >
          {targets.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
      </div>
      {running && (
        <p className={cx('bulk-progress muted')} role="status" data-testid="bulk-progress">
          {verbOf(running.action, false)} {running.finished} of {running.total}…
        </p>
      )}
      {result && <BulkResult action={result.action} outcome={result.outcome} onClose={() => setResult(null)} />}
      {asking && (
        <ConfirmDialog
          title={
            asking.action.kind === 'stop'
              ? `Stop ${plural(asking.ids.length, 'child', 'children')}?`
              : `Move ${plural(asking.ids.length, 'child', 'children')} to ${asking.action.to}?`
          }
          action={asking.action.kind === 'stop' ? `Stop ${asking.ids.length}` : `Move ${asking.ids.length}`}
          danger={asking.action.kind === 'stop'}
          onCancel={() => setAsking(null)}
          onConfirm={() => void run(asking.action, asking.ids)}
        >
          <p>
            The {plural(asking.ids.length, 'child', 'children')} the board shows now ({describeFilter}){' '}
            {asking.action.kind === 'stop'
              ? 'are stopped and their specs removed from the cluster: they do not come back.'
              : `are pinned to ${asking.action.to}; each stops where it runs before it starts there unless its spec asks for start-first.`}
          </p>
          <p className={cx('muted bulk-ids')}>
            {[...asking.ids].sort().slice(0, LISTED).join(', ')}
            {asking.ids.length > LISTED && ` and ${asking.ids.length - LISTED} more`}
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function BulkResult({ action, outcome, onClose }: { action: Action; outcome: BulkOutcome; onClose: () => void }) {
  const total = outcome.done.length + outcome.failed.length;
  const counts = failureCounts(outcome);
  return (
    <div className={cx(`bulk-result panel${outcome.failed.length > 0 ? ' with-failures' : ''}`)} role="status" data-testid="bulk-result">
      <div className={cx('bulk-result-head')}>
        <strong>
          {verbOf(action, true)} {outcome.done.length} of {total}
        </strong>
        {outcome.failed.length > 0 && (
          <span className={cx('bad-text')}>
            {' '}
            · {outcome.failed.length} failed ({counts.map((c) => `${c.count} ${c.code}`).join(', ')})
          </span>
        )}
        <span className={cx('header-spacer')} />
        <button type="button" className={cx('detail-close')} aria-label="Dismiss the result" onClick={onClose}>
          ×
        </button>
      </div>
      {outcome.failed.length > 0 && (
        <ul className={cx('bulk-failures')}>
          {outcome.failed.slice(0, FAILURES_LISTED).map((f) => (
            <li key={f.id}>
              <code>{f.id}</code>: {f.error.code}: {f.error.message}
            </li>
          ))}
          {outcome.failed.length > FAILURES_LISTED && <li className={cx('muted')}>and {outcome.failed.length - FAILURES_LISTED} more</li>}
        </ul>
      )}
    </div>
  );
}
