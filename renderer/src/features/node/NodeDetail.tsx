/**
 * Node detail panel: one member as the cluster sees it (status, role,
 * address, incarnation, readiness, whether the observer reaches it itself,
 * labels, worker types, draining), its CPU, memory and event-loop lag now
 * and over the last minutes (NodeResources.tsx), the children it runs or is pinned to
 * (each opens the child's detail), and before them its history (the
 * gateway's entries about it: its membership and convergence events, and the
 * bursts of children that started, stopped, failed or moved there or away;
 * HistoryList), and, for operators, Drain / Undrain (confirmed; Drain only
 * for a member that runs) and, for a member that is down or gone, Forget
 * (confirmed: the cluster's tombstones stop waiting for it; it does not take
 * it off the board, which Dismiss on its column does, in this window).
 *
 * A member the observer alone lost is `unreachable`, drawn apart from
 * `down` (member-status.ts): it still runs, only this observer cannot see it.
 * "Ready" says what is true now (member-status.ts `readinessText`): not
 * the last word of a member that is down or gone.
 */
import { useMemo, useState } from 'react';
import type { ChildView, MemberView } from 'pogo-core/observer-state';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { isGone, offersDrain, readinessText, statusTagClass, statusTitle, UNREACHABLE_TITLE } from '../../shared/member-status';
import { runCommand } from '../../gateway/client';
import { useStore } from '../../store/index';
import { CloseButton, DetailField } from '../../shared/DetailParts';
import { CommandGate } from '../../shared/CommandGate';
import { HistoryList, useHistory } from '../timeline/HistoryList';
import { NodeResources } from './NodeResources';
import { scoped } from '../../shared/scoped';
import styles from '../../shared/detail.module.css';

const cx = scoped(styles);

/** Children listed before "and N more". */
const CHILD_LIMIT = 300;
/** Newest entries shown in the history. */
const HISTORY_LIMIT = 30;

function reachableText(member: MemberView): { text: string; ok: boolean } {
  if (member.reachable) return { text: 'yes, linked to the observer', ok: true };
  if (member.status === 'unreachable') return { text: `no: ${UNREACHABLE_TITLE}`, ok: false };
  if (member.status === 'down' || member.status === 'left') return { text: 'no', ok: false };
  return { text: 'no: known through the other members only', ok: false };
}

function yesNo(value: boolean, yes: string, no: string) {
  return <span className={cx(value ? '' : 'warn-text')}>{value ? yes : no}</span>;
}

export function NodeDetail({ name }: { name: string }) {
  const member = useStore((s) => s.cluster?.members[name]);
  const readOnly = useStore((s) => s.cluster?.readOnly ?? true);
  const children = useStore((s) => s.cluster?.children);
  const history = useHistory({ kind: 'node', name }, HISTORY_LIMIT);
  const [asking, setAsking] = useState<boolean | null>(null);
  const [forgetting, setForgetting] = useState(false);

  const { here, pinned } = useMemo(() => {
    const here: ChildView[] = [];
    const pinned: ChildView[] = [];
    for (const c of Object.values(children ?? {}).sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (c.node === name || c.instances.some((i) => i.node === name)) here.push(c);
      else if (c.pin === name) pinned.push(c);
    }
    return { here, pinned };
  }, [children, name]);

  if (!member) {
    return (
      <aside className={cx('panel detail')} aria-label={`Node ${name}`}>
        <header className={cx('detail-header')}>
          <h2 className={cx('detail-title')}>{name}</h2>
          <CloseButton />
        </header>
        <p className={cx('detail-gone')} role="status">
          {name} is no longer a member of the cluster (it left).
        </p>
      </aside>
    );
  }

  const labels = Object.entries(member.labels);
  const reach = reachableText(member);
  const readiness = readinessText(member);
  const childList = (list: ChildView[]) => (
    <ul className={cx('child-list')}>
      {list.slice(0, CHILD_LIMIT).map((c) => (
        <li key={c.id}>
          <button type="button" className={cx('child-link')} onClick={() => useStore.getState().select({ kind: 'child', id: c.id })}>
            <span className={cx('child-link-id')}>{c.id}</span>
            <span className={cx('muted child-link-what')}>{c.worker ?? c.command}</span>
            {c.pin === name && <span className={cx('tag pin')}>pinned</span>}
            {c.status !== 'running' && <span className={cx(`tag state-${c.status}`)}>{c.status}</span>}
          </button>
        </li>
      ))}
      {list.length > CHILD_LIMIT && (
        <li className={cx('muted')}>
          and {list.length - CHILD_LIMIT} more: search the board for {name}.
        </li>
      )}
    </ul>
  );

  return (
    <aside className={cx('panel detail')} aria-label={`Node ${name}`}>
      <header className={cx('detail-header')}>
        <span className={cx(`health health-${member.status}`)} title={statusTitle(member.status)} aria-hidden="true" />
        <h2 className={cx('detail-title')}>{name}</h2>
        <span
          className={cx(`tag${member.status === 'up' ? '' : ` ${statusTagClass(member.status)}`}`)}
          title={statusTitle(member.status)}
          data-testid="node-status"
        >
          {member.status}
        </span>
        {member.draining && <span className={cx('tag warn')}>draining</span>}
        <CloseButton />
      </header>
      <dl className={cx('fields')}>
        <DetailField label="Status">
          {member.status === 'unreachable' ? (
            <span className={cx('warn-text')}>unreachable from this observer; the other members still hear it</span>
          ) : (
            member.status
          )}
        </DetailField>
        <DetailField label="Role">{member.role}</DetailField>
        <DetailField label="Address">
          <code className={cx('wrap')}>{member.address}</code>
        </DetailField>
        <DetailField label="Incarnation">
          <code className={cx('wrap')} title="random per boot: a restarted node has a new one">
            {member.incarnation}
          </code>
        </DetailField>
        <DetailField label="Ready">
          <span className={cx(readiness.ok ? '' : 'warn-text')} data-testid="node-ready">
            {readiness.text}
          </span>
        </DetailField>
        <DetailField label="Reachable">{yesNo(reach.ok, reach.text, reach.text)}</DetailField>
        <DetailField label="Draining">
          {member.draining ? <span className={cx('warn-text')}>yes: its children move away, nothing new starts here</span> : 'no'}
        </DetailField>
        <DetailField label="Labels">
          {labels.length === 0 ? (
            <span className={cx('muted')}>none</span>
          ) : (
            <span className={cx('tag-list')}>
              {labels.map(([k, v]) => (
                <span key={k} className={cx('tag')}>
                  {k}={v}
                </span>
              ))}
            </span>
          )}
        </DetailField>
        <DetailField label="Worker types">
          {member.workers.length === 0 ? (
            <span className={cx('muted')}>none</span>
          ) : (
            <span className={cx('tag-list')}>
              {member.workers.map((w) => (
                <code key={w}>{w}</code>
              ))}
            </span>
          )}
        </DetailField>
      </dl>
      <NodeResources member={member} />
      {!readOnly && member.role === 'member' && (member.draining || offersDrain(member.status) || isGone(member.status)) && (
        <CommandGate note>
          <section className={cx('detail-section detail-actions')} aria-label="Actions">
            {(member.draining || offersDrain(member.status)) && (
              <div className={cx('action-row')}>
                <button type="button" onClick={() => setAsking(!member.draining)}>
                  {member.draining ? 'Undrain' : 'Drain'}
                </button>
                <span className={cx('muted action-note')}>
                  {member.draining ? 'Let it take children again.' : 'Move every child away and start nothing new here.'}
                </span>
              </div>
            )}
            {isGone(member.status) && (
              <div className={cx('action-row')}>
                <button type="button" onClick={() => setForgetting(true)}>
                  Forget
                </button>
                <span className={cx('muted action-note')}>It is not coming back: stop keeping state for it.</span>
              </div>
            )}
          </section>
        </CommandGate>
      )}
      <section className={cx('detail-section')} aria-label="History">
        <h3>History</h3>
        {history.length === 0 ? <p className={cx('muted')}>No events about this node in the gateway&apos;s history.</p> : <HistoryList entries={history} />}
      </section>
      <section className={cx('detail-section')} aria-label="Children">
        <h3>
          Children <span className={cx('muted')}>({here.length})</span>
        </h3>
        {here.length === 0 ? <p className={cx('muted')}>No children run here.</p> : childList(here)}
        {pinned.length > 0 && (
          <>
            <h4>Pinned here, not running here ({pinned.length})</h4>
            {childList(pinned)}
          </>
        )}
      </section>
      {asking !== null && (
        <ConfirmDialog
          title={`${asking ? 'Drain' : 'Undrain'} ${name}?`}
          action={asking ? 'Drain' : 'Undrain'}
          onCancel={() => setAsking(null)}
          onConfirm={() => {
            const drain = asking;
            setAsking(null);
            void runCommand(drain ? 'drain' : 'undrain', { node: name });
          }}
        >
          {asking ? `Every child on ${name} moves to other nodes, and nothing new starts there.` : `${name} takes children again.`}
        </ConfirmDialog>
      )}
      {forgetting && (
        <ConfirmDialog
          title={`Forget ${name}?`}
          action="Forget"
          danger
          onCancel={() => setForgetting(false)}
          onConfirm={() => {
            setForgetting(false);
            void runCommand('forget', { node: name });
          }}
        >
          <p>
            The cluster stops waiting for {name} before it drops the records of stopped children. If {name} comes back with state from before, it discards that
            state and takes the cluster&apos;s.
          </p>
          <p className={cx('muted')}>
            It stays listed while the members remember it (down members are dropped after 15 minutes by default); Dismiss on its column hides it from this board
            now.
          </p>
        </ConfirmDialog>
      )}
    </aside>
  );
}
