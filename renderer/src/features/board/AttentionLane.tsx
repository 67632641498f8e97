/**
 * The "needs attention" lane at the top of the board: a member down after
 * it went silent, which may still run its children beside their restarts
 * elsewhere (first, opening the node's detail), and every child that is
 * failing, unplaceable, running twice, or moving (or waiting to start) for
 * too long (store/attention.ts says exactly when), each a button that opens
 * the child's detail. Failing first; the first LANE_LIMIT are shown, the
 * rest behind "N more" (at most EXPANDED_LIMIT; beyond that the status
 * counts filter the board). When nothing needs attention it says so in one
 * quiet line, so the board does not jump when something does.
 *
 * Before those, what concerns the whole cluster (`clusterWarnings`), and
 * members up but not ready while children wait to start behind them
 * (`notReadyWarnings`: whom they wait for, how many children are pending).
 *
 * A child turns "slow" with no new patch (time passes), and members not
 * ready are named after a grace, so the lane renders again at the next
 * such deadline (`nextDeadline`, `notReadyDeadline`), not on a fixed tick.
 */
import { useEffect, useMemo, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { MemberView } from 'pogo-core/observer-state';
import {
  attentionItems,
  clusterWarnings,
  nextDeadline,
  notReadyDeadline,
  notReadyWarnings,
  clusterNetsplit,
  silentMembers,
  silentText,
  SLOW_MS,
  type AttentionItem,
  type AttentionKind,
  type ClusterWarning,
} from '../../store/attention';
import { selectNoMemberSince } from '../../store/connection';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import board from './board.module.css';
import styles from './attention.module.css';

// A lane of the board: its cards' `card-id` is the board's, the rest its own.
const cx = scoped({ ...board, ...styles });

export const LANE_LIMIT = 8;
export const EXPANDED_LIMIT = 200;

const seconds = Math.round(SLOW_MS / 1000);

/** What each kind means, for the lane's tooltip. */
export const KIND_HELP: Record<AttentionKind, string> = {
  failing: 'failing: it crashed more often than its restart limit allows and waits to be retried',
  unplaceable: 'unplaceable: no node can run it (labels, worker types, or every node draining)',
  duplicate: `duplicate: it runs on more than one node (a start-first handoff counts only after ${seconds} s)`,
  slow:
    `moving too long: moving to another node, or waiting to start, for more than ${seconds} ` +
    `s (a move normally takes the child's shutdown time, 5 s by default, plus its start)`,
};

/** What a member down after going silent means, for its entry's tooltip. */
export const SILENT_HELP =
  'went silent: the cluster stopped hearing it and declared it down, without its connections closing. If it is frozen (SIGSTOP, a long pause) ' +
  'or cut off rather than dead, it may still run its children, and the cluster has restarted them elsewhere: they may run twice until it is back ' +
  '(then the duplicates are stopped, the owner’s instance kept) or gone for good. In majority mode a node cut off stops them itself, by its lease, ' +
  'before they are restarted.';

const LANE_HELP = `What needs a person:\n• a node that ${SILENT_HELP}\n${Object.values(KIND_HELP)
  .map((h) => `• ${h}`)
  .join('\n')}`;

function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The tag and one line of explanation for an item. */
export function describeItem(item: AttentionItem): { tag: string; text: string } {
  const c = item.child;
  switch (item.kind) {
    case 'failing': {
      const where = c.failures.map((f) => f.node).join(', ');
      return { tag: 'failing', text: `${c.lastError ?? 'crashed too often'}${where ? ` (on ${where})` : ''}` };
    }
    case 'unplaceable':
      return { tag: 'unplaceable', text: c.pin ? `pinned to ${c.pin}, which cannot run it` : 'no node can run it' };
    case 'duplicate':
      return { tag: 'duplicate', text: `running on ${c.instances.map((i) => i.node).join(', ')}` };
    case 'slow':
      return c.status === 'moving'
        ? { tag: 'moving too long', text: `moving from ${c.node ?? '?'} to ${c.owner ?? '?'} since ${clock(item.since)}` }
        : { tag: 'waiting too long', text: `${c.owner ? `placed on ${c.owner}, ` : ''}not started since ${clock(item.since)}` };
  }
}

function SilentNode({ node, mode }: { node: MemberView; mode: 'available' | 'majority' | undefined }) {
  const selected = useStore((s) => s.selection?.kind === 'node' && s.selection.name === node.name);
  return (
    <li className={cx('attention-node')}>
      <button
        type="button"
        className={cx('attention-item', selected && 'selected')}
        data-testid="attention-item"
        data-node={node.name}
        data-kind="silent-node"
        title={`${node.name} ${SILENT_HELP}`}
        onClick={() => useStore.getState().select({ kind: 'node', name: node.name })}
      >
        <span className={cx('attention-line')}>
          <span className={cx('card-id')}>{node.name}</span>
          <span className={cx('tag state-down')}>silent: may still run</span>
        </span>
        <span className={cx('attention-text muted')}>{silentText(mode)}</span>
      </button>
    </li>
  );
}

function Warning({ warning }: { warning: ClusterWarning }) {
  return (
    <li className={cx('attention-node')}>
      <div className={cx('attention-item')} data-testid="attention-item" data-kind={warning.kind} role="alert">
        <span className={cx('attention-line')}>
          <span className={cx('tag state-down')}>{warning.tag}</span>
        </span>
        <span className={cx('attention-text muted')}>{warning.text}</span>
      </div>
    </li>
  );
}

function Entry({ item }: { item: AttentionItem }) {
  const selected = useStore((s) => s.selection?.kind === 'child' && s.selection.id === item.child.id);
  const { tag, text } = describeItem(item);
  return (
    <li>
      <button
        type="button"
        className={cx('attention-item', item.kind === 'slow' && 'kind-slow', selected && 'selected')}
        data-testid="attention-item"
        data-child={item.child.id}
        data-kind={item.kind}
        title={`${item.child.id}: ${text}\n${KIND_HELP[item.kind]}`}
        onClick={() => useStore.getState().select({ kind: 'child', id: item.child.id })}
      >
        <span className={cx('attention-line')}>
          <span className={cx('card-id')}>{item.child.id}</span>
          <span className={cx(`tag state-${item.kind === 'slow' ? 'moving' : item.kind}`)}>{tag}</span>
        </span>
        <span className={cx('attention-text muted')}>{text}</span>
      </button>
    </li>
  );
}

export function AttentionLane() {
  // The children, not the cluster object: a patch of events or resources alone must not redo the lane.
  const children = useStore((s) => s.cluster?.children);
  const since = useStore((s) => s.since);
  const silent = useStore(useShallow((s) => silentMembers(s.cluster?.members)));
  const members = useStore((s) => s.cluster?.members);
  const noMember = useStore(selectNoMemberSince);
  const cluster = useMemo(() => clusterWarnings(members, noMember), [members, noMember]);
  const netsplit = clusterNetsplit(members);
  const [tick, setTick] = useState(0);
  const [expanded, setExpanded] = useState(false);
  const { items, notReady, deadline } = useMemo(() => {
    const now = useStore.getState().now();
    // Members not ready while children wait behind them: named after a grace, so they depend on the time too.
    const live = noMember === null;
    const later = [nextDeadline(children, since, now), live ? notReadyDeadline(members, children, since, now) : null].filter((d) => d !== null);
    return {
      items: attentionItems(children, since, now),
      notReady: live ? notReadyWarnings(members, children, since, now) : [],
      deadline: later.length > 0 ? Math.min(...later) : null,
    };
    // `tick` is a dependency on purpose: the items depend on the time too, and it changes at the deadline.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- see above: the memo reads the time, which no dependency can carry
  }, [children, members, noMember, since, tick]);

  const warnings = useMemo(() => [...cluster, ...notReady], [cluster, notReady]);

  useEffect(() => {
    if (deadline === null) return;
    const timer = setTimeout(() => setTick((t) => t + 1), Math.max(0, deadline - useStore.getState().now()));
    return () => clearTimeout(timer);
  }, [deadline]);

  if (items.length === 0 && silent.length === 0 && warnings.length === 0) {
    return (
      <section className={cx('attention attention-clear')} aria-label="Needs attention" data-testid="attention-lane" title={LANE_HELP}>
        <span className={cx('attention-ok')} aria-hidden="true">
          ✓
        </span>
        Nothing needs attention
      </section>
    );
  }

  const counts = new Map<AttentionKind, number>();
  for (const i of items) counts.set(i.kind, (counts.get(i.kind) ?? 0) + 1);
  const limit = expanded ? EXPANDED_LIMIT : LANE_LIMIT;
  const hidden = items.length - Math.min(limit, items.length);
  return (
    <section className={cx(`attention${expanded ? ' expanded' : ''}`)} aria-label="Needs attention" data-testid="attention-lane">
      <header className={cx('attention-header')}>
        <h2 title={LANE_HELP}>
          Needs attention <span className={cx('attention-count')}>{warnings.length + silent.length + items.length}</span>
        </h2>
        <span className={cx('muted')} data-testid="attention-summary">
          {[
            ...warnings.map((w) => w.tag),
            ...(silent.length > 0 ? [`${silent.length} ${silent.length === 1 ? 'node' : 'nodes'} silent, may still run`] : []),
            ...[...counts].map(([kind, n]) => `${n} ${kind === 'slow' ? 'moving too long' : kind}`),
          ].join(' · ')}
        </span>
        <span className={cx('attention-help')} title={LANE_HELP} aria-label="What needs attention means">
          ?
        </span>
        {(hidden > 0 || expanded) && items.length > LANE_LIMIT && (
          <button type="button" className={cx('link attention-more')} aria-expanded={expanded} onClick={() => setExpanded(!expanded)}>
            {expanded ? 'Show fewer' : `Show ${Math.min(hidden, EXPANDED_LIMIT - LANE_LIMIT)} more`}
          </button>
        )}
      </header>
      <ul className={cx('attention-items')}>
        {warnings.map((w) => (
          <Warning key={`cluster:${w.kind}:${w.tag}`} warning={w} />
        ))}
        {silent.map((node) => (
          <SilentNode key={`node:${node.name}`} node={node} mode={netsplit} />
        ))}
        {items.slice(0, limit).map((item) => (
          <Entry key={item.child.id} item={item} />
        ))}
      </ul>
      {expanded && hidden > 0 && <p className={cx('muted attention-beyond')}>and {hidden} more: use the status counts above to filter the board.</p>}
    </section>
  );
}
