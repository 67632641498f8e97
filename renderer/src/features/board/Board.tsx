/**
 * Placement board: the "needs attention" lane, a toolbar (search, status
 * counts that filter the board, start), a column per member node (after a
 * "Not running" column when some child runs nowhere) and a card per child. Drag a card onto another node, confirm, and
 * the app asks the cluster to move (pin) the child there; the card shows
 * "moving" until the cluster reports it on the new node — the board never
 * moves a card on its own say-so. Cards that changed node are animated in.
 *
 * A drop is offered only where the child can go (move-target.ts
 * `moveRefusal`): while a card is dragged, every column that cannot take it
 * (down, gone, an observer, not ready, draining, without its worker type,
 * the node it runs on) is drawn as refused with the reason in words, is
 * not highlighted, takes no drop (the cursor says so), and sends nothing.
 * A pinned card whose pin is not honoured says so, and where the child
 * runs meanwhile (pin-state.ts).
 *
 * A member the observer alone lost (`unreachable`: the other members still
 * hear it) is drawn apart from one that is down: an amber dashed marker and
 * tag with that explanation, its column not dimmed as a failure
 * (member-status.ts). Drain is offered only for a member that runs (not
 * one down or gone; Undrain stays while it drains). The column of a member
 * that is down or gone, with nothing on it, can be dismissed: hidden in
 * this window (ui.ts says why it is not `forget`), back with "Show".
 *
 * With a search or a status filter on, operators get bulk actions on
 * exactly the children shown (BulkActions: Stop N, Move N to…).
 *
 * Columns are virtualised (only visible cards are in the DOM), so thousands
 * of children stay smooth. Keyboard: Tab reaches a column's first card,
 * arrows move between cards and columns, Enter opens the child's detail.
 */
import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useShallow } from 'zustand/react/shallow';
import type { ChildView, MemberView } from 'pogo-core/observer-state';
import { runCommand } from '../../gateway/client';
import { requestMove } from '../../gateway/move';
import { waitWords } from '../../store/attention';
import { boardIndex } from '../../store/board-index';
import { filterColumns, selectMemberNodes } from '../../store/cluster';
import { selectBoardStale, selectCommandBlock, selectStale } from '../../store/connection';
import { CommandGate } from '../../shared/CommandGate';
import { useStore } from '../../store/index';
import { isDismissed } from '../../store/ui';
import { AttentionLane } from './AttentionLane';
import { BulkActions } from './BulkActions';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { isGone, observerHears, offersDrain, statusTagClass, statusTitle } from '../../shared/member-status';
import { moveRefusal } from '../../shared/move-target';
import { pinState } from '../../shared/pin-state';
import { StatusCounts } from './StatusCounts';
import { columnCountText, copyCount } from './column-count';
import { scoped } from '../../shared/scoped';
import styles from './board.module.css';

const cx = scoped(styles);

const CARD_HEIGHT = 64;

function focusCard(column: Element | null | undefined, index: number): void {
  column?.querySelector<HTMLElement>(`[data-index="${index}"]`)?.focus();
}

function ChildCard(props: { child: ChildView; index: number; readOnly: boolean; onDrag: (child: ChildView | null) => void }) {
  const { child, index, readOnly } = props;
  const pendingDrag = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const moving = useStore((s) => s.moving[child.id]);
  const members = useStore((s) => s.cluster?.members);
  const pin = pinState(child, members ?? {});
  const arrived = useStore((s) => s.arrived[child.id]);
  const selected = useStore((s) => s.selection?.kind === 'child' && s.selection.id === child.id);
  const pinLabel = pin ? `, ${pin.honoured ? `pinned to ${child.pin}` : pin.text}` : '';
  const terminatedLabel = child.terminated ? ' (stopped for good, still running)' : '';
  const states = [child.status !== 'running' ? child.status : null, child.instances.length > 1 ? `${child.instances.length} instances` : null].filter(Boolean);
  return (
    <div
      className={cx('card', child.status !== 'running' && `status-${child.status}`, moving && 'moving', arrived && 'arrived', selected && 'selected')}
      data-testid="child-card"
      data-child={child.id}
      data-status={child.status}
      data-index={index}
      role="button"
      tabIndex={index === 0 ? 0 : -1}
      aria-label={`${child.id}, ${child.status}${terminatedLabel}${child.unverified ? ' (unverified: as last seen)' : ''}${pinLabel}`}
      draggable={!readOnly && child.terminated !== true}
      onDragStart={(e) => {
        e.dataTransfer?.setData('text/plain', child.id);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
        // After the dragstart, not in it: the board re-renders for the drag (drop targets, refusals), and
        // Chromium 150 ends a drag whose page changes during its dragstart — the drop never came (the e2e
        // drag hung at the drop). A drag ended before the timer ran leaves nothing behind (`onDragEnd`).
        pendingDrag.current = setTimeout(() => {
          pendingDrag.current = undefined;
          props.onDrag(child);
        }, 0);
      }}
      onDragEnd={() => {
        clearTimeout(pendingDrag.current);
        pendingDrag.current = undefined;
        props.onDrag(null);
      }}
      onClick={() => useStore.getState().select({ kind: 'child', id: child.id })}
    >
      <div className={cx('card-line')}>
        <span className={cx('card-id')}>{child.id}</span>
        {child.restarts > 0 && (
          <span className={cx('tag')} title="restarts in place">
            ↻ {child.restarts}
          </span>
        )}
      </div>
      <div className={cx('card-line')}>
        <span className={cx('muted card-what')}>{child.worker ?? child.command}</span>
        {pin && (
          <span className={cx(`tag pin${pin.honoured ? '' : ' pin-broken'}`)} title={pin.title} data-testid="pin-tag">
            {pin.text}
          </span>
        )}
        {states.map((s) => (
          <span key={s} className={cx(`tag state-${s}`)}>
            {s}
          </span>
        ))}
        {child.terminated && (
          <span
            className={cx('tag state-unverified')}
            data-testid="terminated-tag"
            title={
              `Stopped for good, but ${child.node ? `its instance on ${child.node}` : 'an instance'} still runs: ` +
              'the stop reaches a member cut off from where it was given only when they hear each other again, and it stops its instance then'
            }
          >
            stopped, still running
          </span>
        )}
        {child.unverified && (
          <span
            className={cx('tag state-unverified')}
            data-testid="unverified-tag"
            title={
              `As last seen${child.node ? ` on ${child.node}` : ''}: the observer cannot see it now ` +
              '(its node is out of its reach, or no member is), so it may run there still, or not'
            }
          >
            unverified
          </span>
        )}
        {moving && <span className={cx('tag')}>moving → {moving}</span>}
        {arrived && <span className={cx('tag arrived-tag')}>from {arrived.from}</span>}
      </div>
    </div>
  );
}

function NodeColumn(props: {
  node: MemberView | null;
  children: readonly ChildView[];
  /** How many children the column holds before the search and the status filter (its real count). */
  all: number;
  /** Column → children whose card is in that column and that run an instance on this node too (board-index.ts `copies`). */
  copies: ReadonlyMap<string, number> | undefined;
  total: number;
  readOnly: boolean;
  stale: boolean;
  /** The card being dragged, if any. */
  dragging: ChildView | null;
  onDrag: (child: ChildView | null) => void;
  onDrop: (id: string, to: string) => void;
  onDrain: (node: string, drain: boolean) => void;
}) {
  const { node, children, readOnly, stale, dragging } = props;
  const linkLost = useStore(selectStale);
  const staleWhen = linkLost ? 'when the connection was lost' : 'when the gateway last reached a member';
  const name = node?.name ?? '';
  const listRef = useRef<HTMLDivElement>(null);
  const [over, setOver] = useState(false);
  // Why the card being dragged cannot be dropped here (null: it can, or nothing is dragged).
  const members = useStore((s) => s.cluster?.members);
  const refusal = dragging !== null && node !== null && !readOnly ? moveRefusal(dragging, node, members) : null;
  const virtual = useVirtualizer({ count: children.length, getScrollElement: () => listRef.current, estimateSize: () => CARD_HEIGHT, overscan: 8 });
  const copies = copyCount(props.copies);
  // The share of the cluster's children it runs: its cards and the copies it runs of children shown elsewhere.
  const load = props.total > 0 ? Math.round(((props.all + copies) / props.total) * 100) : 0;

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const index = Number((e.target as HTMLElement).dataset['index']);
    if (!Number.isInteger(index)) return;
    const move = (to: number): void => {
      if (to < 0 || to >= children.length) return;
      virtual.scrollToIndex(to);
      requestAnimationFrame(() => focusCard(listRef.current, to));
    };
    if (e.key === 'ArrowDown') move(index + 1);
    else if (e.key === 'ArrowUp') move(index - 1);
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const columns = [...document.querySelectorAll('[data-testid="node-column"]')];
      const at = columns.indexOf(e.currentTarget.closest('[data-testid="node-column"]')!);
      focusCard(columns[at + (e.key === 'ArrowLeft' ? -1 : 1)], 0);
    } else if (e.key === 'Enter' || e.key === ' ') useStore.getState().select({ kind: 'child', id: children[index]!.id });
    else return;
    e.preventDefault();
  };

  return (
    <div
      className={cx(
        `node-column${over && refusal === null ? ' drop-target' : ''}${refusal !== null ? ' drop-refused' : ''}${node?.draining ? ' draining' : ''}` +
          `${node && node.status !== 'up' ? (node.status === 'unreachable' ? ' node-unreachable' : ' node-down') : ''}`,
      )}
      data-testid="node-column"
      data-node={name || undefined}
      data-drop={dragging === null || !node || readOnly ? undefined : refusal === null ? 'allowed' : 'refused'}
      title={refusal !== null ? `Cannot move ${dragging!.id} here: ${refusal}` : undefined}
      onDragOver={(e) => {
        if (readOnly || !node) return;
        // Not a drop target: no preventDefault, so the browser shows the no-drop cursor and fires no drop.
        if (refusal !== null) {
          if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
          return;
        }
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = 'move';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        props.onDrag(null);
        if (node && refusal === null) props.onDrop(e.dataTransfer?.getData('text/plain') || (dragging?.id ?? ''), node.name);
      }}
    >
      <header className={cx('node-header')} data-testid="node-header">
        <div className={cx('node-title')}>
          <span
            className={cx(`health health-${stale ? 'stale' : (node?.status ?? 'none')}`)}
            data-testid="node-health"
            data-health={stale ? 'stale' : (node?.status ?? 'none')}
            title={stale ? `${node?.status ?? 'not running anywhere'} ${staleWhen}; not known now` : node ? statusTitle(node.status) : 'not running anywhere'}
            aria-hidden="true"
          />
          {node ? (
            <button type="button" className={cx('link')} onClick={() => useStore.getState().select({ kind: 'node', name })}>
              <strong>{name}</strong>
            </button>
          ) : (
            <strong>Not running</strong>
          )}
          {node && node.status !== 'up' && (
            <span className={cx(`tag ${statusTagClass(node.status)}`)} title={statusTitle(node.status)} data-testid="node-status">
              {node.status}
            </span>
          )}
          {node?.draining && <span className={cx('tag warn')}>draining</span>}
          {/* Up but taking no children (joining until it has synced, or leaving): a tag, not only a line in its detail panel. */}
          {node && node.role === 'member' && !node.ready && (node.status === 'up' || node.status === 'suspect') && (
            <span
              className={cx('tag warn')}
              data-testid="node-not-ready"
              title={
                node.waitsFor
                  ? `${name} takes no children now: it waits for ${waitWords(node.waitsFor)}`
                  : `${name} takes no children now: still joining (until it has synced with the others), or leaving`
              }
            >
              not ready
            </span>
          )}
          {node && (node.unheardBy?.length ?? 0) > 0 && (node.status === 'up' || node.status === 'suspect') && (
            <span
              className={cx('tag state-unreachable')}
              data-testid="node-cut-off"
              title={`${node.unheardBy!.join(', ')} cannot hear ${name}, ${observerHears(node)}: the members place its children elsewhere`}
            >
              cut off from {node.unheardBy!.join(', ')}
            </span>
          )}
          {node && !node.reachable && node.status === 'up' && (
            <span className={cx('tag')} title="The observer is not linked to it: its state comes from the other members">
              not linked to observer
            </span>
          )}
          {node && !readOnly && (node.draining || offersDrain(node.status)) && (
            <button type="button" className={cx('node-action')} onClick={() => props.onDrain(name, !node.draining)}>
              {node.draining ? 'Undrain' : 'Drain'}
            </button>
          )}
          {node && isGone(node.status) && children.length === 0 && (
            <button
              type="button"
              className={cx('node-action')}
              onClick={() => useStore.getState().dismissNode(node)}
              title={`Hide this column in this window while ${name} stays ${node.status} (the cluster keeps it in its member table until it reaps it)`}
            >
              Dismiss
            </button>
          )}
        </div>
        <div className={cx('node-meta')}>
          <span
            className={cx('muted')}
            data-testid="child-count"
            title={
              copies > 0
                ? `${name} runs an instance of ${copies} ${copies === 1 ? 'child' : 'children'} whose card is in another column (the card ` +
                  `sits where its first instance runs): each runs twice, as when a member is cut off from the others in available mode`
                : undefined
            }
          >
            {columnCountText(children.length, props.all, props.copies)}
          </span>
          {node && (
            <span className={cx('load')} title={`${load}% of the cluster's children`}>
              <span className={cx('load-bar')} style={{ width: `${Math.min(100, load)}%` }} />
            </span>
          )}
          {node &&
            Object.entries(node.labels).map(([k, v]) => (
              <span key={k} className={cx('tag')}>
                {k}={v}
              </span>
            ))}
        </div>
      </header>
      {refusal !== null && (
        <p className={cx('drop-refusal')} role="status" data-testid="drop-refusal">
          Not a drop target: {refusal}
        </p>
      )}
      <div className={cx('cards')} ref={listRef} onKeyDown={onKeyDown}>
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => (
            <div key={children[item.index]!.id} className={cx('card-slot')} style={{ transform: `translateY(${item.start}px)`, height: CARD_HEIGHT }}>
              <ChildCard child={children[item.index]!} index={item.index} readOnly={readOnly} onDrag={props.onDrag} />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

export function Board() {
  const members = useStore(useShallow(selectMemberNodes));
  const dismissed = useStore((s) => s.dismissed);
  const nodes = useMemo(() => members.filter((m) => !isDismissed(m, dismissed)), [members, dismissed]);
  const hidden = members.length - nodes.length;
  // Not the whole cluster object: a patch of events or resources alone must not redraw the board.
  const children = useStore((s) => s.cluster?.children);
  const block = useStore(selectCommandBlock);
  // No command reaches the cluster now: cards are not dragged, columns take no drop, drains are not offered.
  const readOnly = useStore((s) => s.cluster?.readOnly ?? true) || block !== null;
  const operator = useStore((s) => s.cluster?.readOnly === false);
  const filter = useStore((s) => s.filter);
  const statusFilter = useStore((s) => s.statusFilter);
  const stale = useStore(selectBoardStale);
  const [pending, setPending] = useState<{ id: string; from: string; to: string; suspect: boolean } | null>(null);
  const [dragging, setDragging] = useState<ChildView | null>(null);
  const [drainAsk, setDrainAsk] = useState<{ node: string; drain: boolean } | null>(null);
  const index = boardIndex(children);
  const byNode = useMemo(() => filterColumns(index.byNode, filter, statusFilter), [index.byNode, filter, statusFilter]);
  const total = index.total;
  const filtered = filter.trim() !== '' || statusFilter !== null;
  // The children on screen, column by column: what a bulk action acts on (offered only with a filter on,
  // so the unfiltered board, redrawn after every patch, does not list its 20,000 ids each time).
  const shownIds = useMemo(
    () => (filtered ? ['', ...nodes.map((n) => n.name)].flatMap((name) => (byNode[name] ?? []).map((c) => c.id)) : []),
    [filtered, byNode, nodes],
  );
  const shown = filtered ? shownIds.length : total;
  const describeFilter = [statusFilter !== null ? `status ${statusFilter}` : '', filter.trim() !== '' ? `search “${filter.trim()}”` : '']
    .filter(Boolean)
    .join(', ');

  async function confirmMove(): Promise<void> {
    if (!pending) return;
    const { id, to } = pending;
    setPending(null);
    await requestMove(id, to);
  }

  return (
    <section className={cx('board-view')} aria-label="Placement board">
      <AttentionLane />
      <div className={cx('toolbar board-toolbar')}>
        <input
          id="board-search"
          type="search"
          aria-label="Search children"
          placeholder="Search children (/): id, worker, node, status, pinned"
          value={filter}
          onChange={(e) => useStore.getState().setFilter(e.target.value)}
        />
        <StatusCounts shown={shown} />
        {hidden > 0 && (
          <span className={cx('filter-chip')} data-testid="dismissed-nodes">
            {hidden} gone {hidden === 1 ? 'node' : 'nodes'} dismissed
            <button type="button" className={cx('link')} onClick={() => useStore.getState().restoreNodes()} title="Show the dismissed columns again">
              Show
            </button>
          </span>
        )}
        <span className={cx('header-spacer')} />
        {operator && (
          <button
            type="button"
            className={cx('primary')}
            disabled={block !== null}
            onClick={() => useStore.getState().setStarting(true)}
            title={block ?? 'Start a child (n)'}
          >
            Start child
          </button>
        )}
      </div>
      {operator && filtered && (
        <CommandGate>
          <BulkActions ids={shownIds} nodes={members} describeFilter={describeFilter} />
        </CommandGate>
      )}
      <div className={cx('board')}>
        {(byNode[''] ?? []).length > 0 && (
          <NodeColumn
            node={null}
            children={byNode['']!}
            all={index.byNode['']?.length ?? 0}
            copies={undefined}
            total={total}
            readOnly={readOnly}
            stale={stale}
            dragging={dragging}
            onDrag={setDragging}
            onDrain={() => {}}
            onDrop={() => {}}
          />
        )}
        {nodes.map((node) => (
          <NodeColumn
            key={node.name}
            node={node}
            children={byNode[node.name] ?? []}
            all={index.byNode[node.name]?.length ?? 0}
            copies={index.copies.get(node.name)}
            total={total}
            readOnly={readOnly}
            stale={stale}
            dragging={dragging}
            onDrag={setDragging}
            onDrain={(n, drain) => setDrainAsk({ node: n, drain })}
            onDrop={(id, to) => {
              const cluster = useStore.getState().cluster;
              const child = cluster?.children[id];
              const target = cluster?.members[to];
              if (!readOnly && child && target && moveRefusal(child, target, cluster.members) === null)
                setPending({
                  id,
                  from: child.node ?? (child.unverified ? 'no node this observer can see' : 'no node'),
                  to,
                  suspect: target.status === 'suspect',
                });
            }}
          />
        ))}
      </div>
      {pending && (
        <ConfirmDialog title={`Move ${pending.id}?`} action="Move" onCancel={() => setPending(null)} onConfirm={() => void confirmMove()}>
          Pin <code>{pending.id}</code> to <strong>{pending.to}</strong> (it runs on {pending.from} now). It stops there before it starts here unless its spec
          asks for start-first.
          {/* The tour: a drag onto a frozen node stopped the child first, and it ran nowhere for 6 s until the node woke. */}
          {pending.suspect && (
            <span data-testid="move-suspect">
              {' '}
              {pending.to} is suspect (not heard from lately): if it is frozen, {pending.id} stops first and runs nowhere until {pending.to} answers again or is
              declared down.
            </span>
          )}
        </ConfirmDialog>
      )}
      {drainAsk && (
        <ConfirmDialog
          title={`${drainAsk.drain ? 'Drain' : 'Undrain'} ${drainAsk.node}?`}
          action={drainAsk.drain ? 'Drain' : 'Undrain'}
          onCancel={() => setDrainAsk(null)}
          onConfirm={() => {
            const { node, drain } = drainAsk;
            setDrainAsk(null);
            void runCommand(drain ? 'drain' : 'undrain', { node });
          }}
        >
          {drainAsk.drain ? `Every child on ${drainAsk.node} moves to other nodes, and nothing new starts there.` : `${drainAsk.node} takes children again.`}
        </ConfirmDialog>
      )}
    </section>
  );
}
