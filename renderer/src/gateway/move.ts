/**
 * Moving (pinning) a child from the UI, whichever control asked (a drag on
 * the board, the detail panel's "Move to"): the store marks it moving until
 * the cluster reports it on the new node, or drops the mark and shows the
 * refusal.
 */
import { useStore } from '../store/index';
import { sendCommand } from './client';

export async function requestMove(id: string, to: string): Promise<void> {
  useStore.getState().startMove(id, to);
  const reply = await sendCommand('move', { id, node: to });
  if (!reply.ok) useStore.getState().failMove(id, `${reply.error.code}: ${reply.error.message}`);
}
