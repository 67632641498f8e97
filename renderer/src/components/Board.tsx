/**
 * Placement board: a column per member node, a card per child. Drag a card
 * onto another node, confirm, and the app asks the cluster to move (pin) the
 * child there; the card shows "moving" until the cluster reports it on the
 * new node — the board never moves a card on its own say-so.
 */
import { useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { sendCommand } from '../gateway/client';
import { ConfirmDialog } from './ConfirmDialog';
import { childrenByNode, selectMemberNodes, useClusterStore } from '../store/cluster';

export function Board() {
  const nodes = useClusterStore(useShallow(selectMemberNodes));
  const cluster = useClusterStore((s) => s.cluster);
  const moving = useClusterStore((s) => s.moving);
  const readOnly = cluster?.readOnly ?? true;
  const [pending, setPending] = useState<{ id: string; from: string; to: string } | null>(null);
  const [drainAsk, setDrainAsk] = useState<{ node: string; drain: boolean } | null>(null);
  const [dragOver, setDragOver] = useState<string | null>(null);
  const byNode = childrenByNode(cluster);

  async function confirmMove(): Promise<void> {
    if (!pending) return;
    const { id, to } = pending;
    setPending(null);
    useClusterStore.getState().startMove(id, to);
    const reply = await sendCommand('move', id, to);
    if (!reply.ok) useClusterStore.getState().failMove(id, `${reply.error?.code}: ${reply.error?.message}`);
  }

  async function confirmDrain(): Promise<void> {
    if (!drainAsk) return;
    const { node, drain } = drainAsk;
    setDrainAsk(null);
    const reply = await sendCommand(drain ? 'drain' : 'undrain', node);
    if (!reply.ok) useClusterStore.setState({ lastError: `${reply.error?.code}: ${reply.error?.message}` });
  }

  return (
    <section className="board" aria-label="Placement board">
      {nodes.map((node) => (
        <div
          key={node.name}
          className={`node-column${dragOver === node.name ? ' drop-target' : ''}${node.draining ? ' draining' : ''}`}
          data-testid="node-column"
          data-node={node.name}
          onDragOver={(e) => {
            if (readOnly) return;
            e.preventDefault();
            setDragOver(node.name);
          }}
          onDragLeave={() => setDragOver(null)}
          onDrop={(e) => {
            e.preventDefault();
            setDragOver(null);
            const id = e.dataTransfer.getData('text/plain');
            const child = cluster?.children[id];
            if (!readOnly && child && child.node !== node.name) setPending({ id, from: child.node ?? '?', to: node.name });
          }}
        >
          <header className="node-header">
            <span className={`health health-${node.status}`} aria-hidden="true" />
            <strong>{node.name}</strong>
            <span className="muted">{(byNode[node.name] ?? []).length} children</span>
            {node.draining && <span className="tag">draining</span>}
            {!node.reachable && <span className="tag">unreachable from observer</span>}
            {!readOnly && (
              <button type="button" className="node-action" onClick={() => setDrainAsk({ node: node.name, drain: !node.draining })}>
                {node.draining ? 'Undrain' : 'Drain'}
              </button>
            )}
          </header>
          <ul className="cards">
            {(byNode[node.name] ?? []).map((child) => (
              <li
                key={child.id}
                className={`card status-${child.status}${moving[child.id] ? ' moving' : ''}`}
                data-testid="child-card"
                data-child={child.id}
                draggable={!readOnly}
                onDragStart={(e) => e.dataTransfer.setData('text/plain', child.id)}
              >
                <span className="card-id">{child.id}</span>
                <span className="muted">{child.worker ?? child.command}</span>
                {child.pin && <span className="tag">pinned</span>}
                {moving[child.id] && <span className="tag">moving → {moving[child.id]}</span>}
                {child.status !== 'running' && <span className="tag">{child.status}</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {pending && (
        <ConfirmDialog id="move-title" title={`Move ${pending.id}?`} action="Move" onCancel={() => setPending(null)} onConfirm={() => void confirmMove()}>
          Pin <code>{pending.id}</code> to <strong>{pending.to}</strong> (it runs on {pending.from} now). It stops there before it starts here unless its spec asks for start-first.
        </ConfirmDialog>
      )}
      {drainAsk && (
        <ConfirmDialog id="drain-title" title={`${drainAsk.drain ? 'Drain' : 'Undrain'} ${drainAsk.node}?`} action={drainAsk.drain ? 'Drain' : 'Undrain'} onCancel={() => setDrainAsk(null)} onConfirm={() => void confirmDrain()}>
          {drainAsk.drain ? `Every child on ${drainAsk.node} moves to other nodes, and nothing new starts there.` : `${drainAsk.node} takes children again.`}
        </ConfirmDialog>
      )}
    </section>
  );
}
