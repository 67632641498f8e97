/**
 * Child detail panel: what the cluster says about one child (where it runs,
 * its pin, restarts, failures per node), why it is there (`explain`: each
 * candidate node's score and verdict), a live tail of its output when it is
 * an OS process (ChildOutput.tsx), and its history (the cluster events for its id, newest first).
 *
 * Operators get the commands, each confirmed: Restart (in place: a new
 * instance on the same node, the child does not move), Stop, Move to… (a
 * select of member nodes — the keyboard alternative to dragging its card;
 * a node that cannot take the child is listed, disabled, with why, as the
 * board refuses the drop: move-target.ts)
 * and Unpin. A move is shown as "moving" until the cluster reports the
 * child there, exactly as on the board; a restart says which instance
 * replaced which. They may also send the child a message and see its reply
 * (SendMessage.tsx).
 */
import { useCallback, useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { CandidateVerdict, Explanation } from 'pogo-core';
import type { ChildView } from 'pogo-core/observer-state';
import type { CommandFailure } from 'pogo-core/ui-protocol';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { CloseButton, DetailField } from '../../shared/DetailParts';
import { runCommand, sendCommand } from '../../gateway/client';
import { requestMove } from '../../gateway/move';
import { moveRefusal } from '../../shared/move-target';
import { stopReach } from '../../shared/stop-reach';
import { listWords } from '../../shared/format';
import { selectMemberNodes } from '../../store/cluster';
import { useStore } from '../../store/index';
import { OutputSection } from './ChildOutput';
import { SendMessage } from './SendMessage';
import { CommandGate } from '../../shared/CommandGate';
import { HistoryList, useHistory } from '../timeline/HistoryList';
import { scoped } from '../../shared/scoped';
import styles from '../../shared/detail.module.css';

const cx = scoped(styles);

/** Newest entries shown in the history. */
const HISTORY_LIMIT = 100;

function errorText(error: CommandFailure): string {
  return `${error.code}: ${error.message}`;
}

/** Why a candidate won, lost or was excluded. */
/** Paused, a child may be held where it runs: the hash's pick is where it goes on resume (`resumeTo`), not its owner now. */
function heldByPause(x: Explanation): boolean {
  return x.resumeTo !== undefined && x.resumeTo !== x.owner;
}

function verdictOf(v: CandidateVerdict, x: Explanation): { text: string; kind: 'owner' | 'eligible' | 'excluded' } {
  if (heldByPause(x)) {
    if (v.node === x.owner) return { text: 'runs here: held while rebalancing is paused', kind: 'owner' };
    if (v.node === x.resumeTo) return { text: x.by === 'pin' ? 'on resume: pinned here' : 'on resume: highest score', kind: 'eligible' };
  }
  if (v.node === x.owner) return { text: x.by === 'pin' ? 'owner: pinned here' : 'owner: highest score', kind: 'owner' };
  if (v.score !== undefined) return { text: x.by === 'pin' ? 'eligible, but the pin wins' : 'eligible, lower score', kind: 'eligible' };
  return { text: `excluded: ${v.excludedBy.join(', ')}`, kind: 'excluded' };
}

function formatScore(score: number | undefined): string {
  if (score === undefined) return '—';
  return Math.abs(score) >= 1000 ? score.toExponential(3) : score.toPrecision(4);
}

function ExplainSection({ id, child }: { id: string; child: ChildView }) {
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    const reply = await sendCommand('explain', { id });
    setLoading(false);
    if (reply.ok) {
      setExplanation(reply.result);
      setError(null);
    } else {
      setExplanation(null);
      setError(errorText(reply.error));
    }
  }, [id]);

  // On open, and again when the cluster moves or re-pins the child.
  useEffect(() => {
    void load();
  }, [load, child.node, child.pin, child.status]);

  const x = explanation;
  return (
    <section className={cx('detail-section')} aria-label="Placement">
      <div className={cx('section-head')}>
        <h3>Why it is here</h3>
        <button type="button" onClick={() => void load()} disabled={loading}>
          {loading ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      {error && (
        <p className={cx('detail-error')} role="status">
          {error}
        </p>
      )}
      {x && (
        <>
          <p className={cx('muted explain-summary')}>
            {x.owner && heldByPause(x) ? (
              <>
                Rebalancing is paused, so it stays on <strong>{x.owner}</strong>. On resume it goes to <strong>{x.resumeTo}</strong>
                {x.by === 'pin' ? ', where it is pinned.' : ' (rendezvous hashing: the highest score among eligible nodes).'}
              </>
            ) : x.owner ? (
              <>
                Placement picks <strong>{x.owner}</strong>
                {x.by === 'pin' ? ' because the child is pinned there.' : ' by rendezvous hashing: the highest score among eligible nodes.'}
              </>
            ) : (
              'No node can run it: every candidate is excluded.'
            )}
            {x.pin && x.by !== 'pin' && ` Its pin to ${x.pin} does not apply: that node is not eligible.`}
            {x.paused && !heldByPause(x) && ' Rebalancing is paused: it stays where it runs until rebalancing resumes.'}
            {x.instances.length > 1 && ` ${x.instances.length} instances run right now (${x.instances.map((i) => i.node).join(', ')}).`}
          </p>
          <table className={cx('detail-table explain-table')}>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col" className={cx('num')}>
                  Score
                </th>
                <th scope="col">Verdict</th>
              </tr>
            </thead>
            <tbody>
              {x.candidates
                .filter((v) => !v.excludedBy.includes('observer'))
                .map((v) => {
                  const verdict = verdictOf(v, x);
                  return (
                    <tr key={v.node} className={cx((verdict.kind === 'owner' || verdict.kind === 'excluded') && `verdict-${verdict.kind}`)} data-node={v.node}>
                      <td>
                        <button type="button" className={cx('link')} onClick={() => useStore.getState().select({ kind: 'node', name: v.node })}>
                          {v.node}
                        </button>
                      </td>
                      <td className={cx('num')}>{formatScore(v.score)}</td>
                      <td>{verdict.text}</td>
                    </tr>
                  );
                })}
              {x.candidates.length === 0 && (
                <tr>
                  <td colSpan={3} className={cx('muted')}>
                    No candidate nodes.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function HistorySection({ id }: { id: string }) {
  const mine = useHistory({ kind: 'child', id }, HISTORY_LIMIT);
  return (
    <section className={cx('detail-section')} aria-label="History">
      <h3>History</h3>
      {mine.length === 0 ? <p className={cx('muted')}>No events for this child in the gateway&apos;s history.</p> : <HistoryList entries={mine} />}
    </section>
  );
}

type Ask = { kind: 'stop' } | { kind: 'restart' } | { kind: 'move'; to: string } | { kind: 'unpin' };

function Actions({ child }: { child: ChildView }) {
  const nodes = useStore(useShallow(selectMemberNodes));
  const moving = useStore((s) => s.moving[child.id]);
  const members = useStore((s) => s.cluster?.members);
  const targets = nodes.filter((n) => n.name !== child.node).map((n) => ({ node: n, refusal: moveRefusal(child, n, members) }));
  const allowed = targets.filter((t) => t.refusal === null).map((t) => t.node);
  const [to, setTo] = useState('');
  const [ask, setAsk] = useState<Ask | null>(null);
  const [restarting, setRestarting] = useState(false);
  const [restarted, setRestarted] = useState<{ from: string | null; to: string; node: string } | null>(null);
  const target = allowed.some((n) => n.name === to) ? to : (allowed[0]?.name ?? '');
  const reach = stopReach(child, members);

  async function confirm(): Promise<void> {
    if (!ask) return;
    setAsk(null);
    if (ask.kind === 'stop') await runCommand('stop', { id: child.id });
    else if (ask.kind === 'unpin') await runCommand('unpin', { id: child.id });
    else if (ask.kind === 'restart') {
      const before = child.pid;
      setRestarted(null);
      setRestarting(true);
      const reply = await runCommand('restart', { id: child.id });
      setRestarting(false);
      if (reply.ok) setRestarted({ from: before, to: reply.result.pid, node: reply.result.node });
    } else await requestMove(child.id, ask.to);
  }

  return (
    <section className={cx('detail-section detail-actions')} aria-label="Actions">
      <div className={cx('action-row')}>
        <label htmlFor={`move-to-${child.id}`}>Move to</label>
        <select id={`move-to-${child.id}`} value={target} onChange={(e) => setTo(e.target.value)} disabled={allowed.length === 0}>
          {targets.map(({ node: n, refusal }) => (
            <option key={n.name} value={n.name} disabled={refusal !== null} title={refusal ?? undefined}>
              {n.name}
              {refusal !== null
                ? ` (cannot: ${refusal.startsWith(n.name) ? refusal.slice(n.name.length + 1) : refusal})`
                : n.status !== 'up'
                  ? ` (${n.status})`
                  : ''}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!target || moving !== undefined}
          onClick={() => setAsk({ kind: 'move', to: target })}
          title="Pin the child to this node (the same as dragging its card)"
        >
          Move
        </button>
      </div>
      <div className={cx('action-row')}>
        <button
          type="button"
          disabled={!child.node || restarting}
          onClick={() => setAsk({ kind: 'restart' })}
          title={child.node ? `Stop its instance on ${child.node} and start a new one there` : 'It runs on no node: nothing to restart'}
        >
          {restarting ? 'Restarting…' : 'Restart'}
        </button>
        {child.pin && (
          <button type="button" onClick={() => setAsk({ kind: 'unpin' })}>
            Unpin
          </button>
        )}
        <span className={cx('header-spacer')} />
        <button type="button" className={cx('danger')} onClick={() => setAsk({ kind: 'stop' })}>
          Stop
        </button>
      </div>
      {moving && <p className={cx('muted')}>Moving to {moving}: waiting for the cluster to report it there.</p>}
      {restarted && (
        <p className={cx('muted')} role="status" data-testid="restarted">
          Restarted on {restarted.node}: new instance <code className={cx('wrap')}>{restarted.to}</code>
          {restarted.from && restarted.from !== restarted.to ? (
            <>
              {' '}
              (was <code className={cx('wrap')}>{restarted.from}</code>)
            </>
          ) : null}
          .
        </p>
      )}
      {ask?.kind === 'restart' && (
        <ConfirmDialog title={`Restart ${child.id}?`} action="Restart" onCancel={() => setAsk(null)} onConfirm={() => void confirm()}>
          Its instance on <strong>{child.node}</strong> is stopped (gracefully, as its spec says) and a new one is started there. It does not move, and its spec
          and pin stay as they are.
        </ConfirmDialog>
      )}
      {ask?.kind === 'move' && (
        <ConfirmDialog title={`Move ${child.id}?`} action="Move" onCancel={() => setAsk(null)} onConfirm={() => void confirm()}>
          Pin <code>{child.id}</code> to <strong>{ask.to}</strong> (it runs on {child.node ?? 'no node'} now). It stops there before it starts here unless its
          spec asks for start-first.
        </ConfirmDialog>
      )}
      {ask?.kind === 'unpin' && (
        <ConfirmDialog title={`Unpin ${child.id}?`} action="Unpin" onCancel={() => setAsk(null)} onConfirm={() => void confirm()}>
          Placement decides again where <code>{child.id}</code> runs (pinned to {child.pin} now): it may move to the node rendezvous hashing picks.
        </ConfirmDialog>
      )}
      {ask?.kind === 'stop' && (
        <ConfirmDialog title={`Stop ${child.id}?`} action="Stop" danger onCancel={() => setAsk(null)} onConfirm={() => void confirm()}>
          <code>{child.id}</code> {reach.now.length > 0 ? `is stopped on ${listWords(reach.now)} and its spec` : 'has its spec'} removed from the cluster: it
          does not come back. Start it again to undo.
          {reach.late.map((l) => (
            <span key={l.node} data-testid="stop-late">
              {' '}
              Its instance on <strong>{l.node}</strong> stops only when the stop reaches {l.node}: {l.why}.
            </span>
          ))}
        </ConfirmDialog>
      )}
    </section>
  );
}

export function ChildDetail({ id }: { id: string }) {
  const child = useStore((s) => s.cluster?.children[id]);
  const readOnly = useStore((s) => s.cluster?.readOnly ?? true);
  const moving = useStore((s) => s.moving[id]);

  if (!child) {
    return (
      <aside className={cx('panel detail')} aria-label={`Child ${id}`}>
        <header className={cx('detail-header')}>
          <h2 className={cx('detail-title')}>{id}</h2>
          <CloseButton />
        </header>
        <p className={cx('detail-gone')} role="status">
          {id} is no longer in the cluster: it was stopped (or, if temporary, it exited and was removed).
        </p>
        <HistorySection id={id} />
      </aside>
    );
  }

  // Stopped for good, but an instance still runs (a copy on a member cut off from the others): nothing to command, only to know.
  if (child.terminated) {
    return (
      <aside className={cx('panel detail')} aria-label={`Child ${id}`}>
        <header className={cx('detail-header')}>
          <h2 className={cx('detail-title')}>{id}</h2>
          <CloseButton />
        </header>
        <p className={cx('detail-gone')} role="status" data-testid="terminated-note">
          {id} was stopped for good, but {child.instances.length === 1 ? 'an instance still runs' : `${child.instances.length} instances still run`} on{' '}
          {[...new Set(child.instances.map((i) => i.node))].join(', ')}: the stop reaches a member cut off from where it was given only when they hear each
          other again, and it stops its instance then.
        </p>
        <dl className={cx('fields')}>
          <DetailField label="Pid">{child.pid ? <code className={cx('wrap')}>{child.pid}</code> : <span className={cx('muted')}>—</span>}</DetailField>
        </dl>
        <HistorySection id={id} />
      </aside>
    );
  }

  return (
    <aside className={cx('panel detail')} aria-label={`Child ${id}`}>
      <header className={cx('detail-header')}>
        <h2 className={cx('detail-title')}>{id}</h2>
        <span className={cx(`tag state-${child.status}`)} data-testid="child-status">
          {child.status}
        </span>
        {child.pin && <span className={cx('tag pin')}>pinned</span>}
        {moving && <span className={cx('tag state-moving')}>moving → {moving}</span>}
        <CloseButton />
      </header>
      <dl className={cx('fields')}>
        <DetailField label="Status">{child.status}</DetailField>
        <DetailField label="Node">
          {child.node ? (
            <button type="button" className={cx('link')} onClick={() => useStore.getState().select({ kind: 'node', name: child.node! })}>
              {child.node}
            </button>
          ) : (
            <span className={cx('muted')}>not running</span>
          )}
        </DetailField>
        <DetailField label="Pid">{child.pid ? <code className={cx('wrap')}>{child.pid}</code> : <span className={cx('muted')}>—</span>}</DetailField>
        <DetailField label="Pin">{child.pin ?? <span className={cx('muted')}>none (placed by hashing)</span>}</DetailField>
        <DetailField label="Restarts">{child.restarts}</DetailField>
        <DetailField label="Instances">
          {child.instances.length === 0 ? (
            <span className={cx('muted')}>none</span>
          ) : child.instances.length === 1 ? (
            '1'
          ) : (
            <span className={cx('warn-text')}>{`${child.instances.length}: ${child.instances.map((i) => i.node).join(', ')}`}</span>
          )}
        </DetailField>
        {child.worker !== null ? (
          <DetailField label="Worker">
            <code>{child.worker}</code>
          </DetailField>
        ) : (
          <DetailField label="Command">
            <code className={cx('wrap')}>{child.command}</code>
          </DetailField>
        )}
        <DetailField label="Restart">{child.restart}</DetailField>
        <DetailField label="Handoff">{child.handoff}</DetailField>
        {child.lastError && (
          <DetailField label="Last error">
            <span className={cx('bad-text')}>{child.lastError}</span>
          </DetailField>
        )}
      </dl>
      {child.failures.length > 0 && (
        <section className={cx('detail-section')} aria-label="Failures">
          <h3>Start failures per node</h3>
          <table className={cx('detail-table')}>
            <thead>
              <tr>
                <th scope="col">Node</th>
                <th scope="col" className={cx('num')}>
                  Failures
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {child.failures.map((f) => (
                <tr key={f.node}>
                  <td>{f.node}</td>
                  <td className={cx('num')}>{f.failures}</td>
                  <td className={cx('bad-text')}>{f.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {!readOnly && (
        <CommandGate note>
          <Actions child={child} />
          <SendMessage id={id} />
        </CommandGate>
      )}
      <ExplainSection id={id} child={child} />
      <OutputSection id={id} child={child} />
      <HistorySection id={id} />
    </aside>
  );
}
