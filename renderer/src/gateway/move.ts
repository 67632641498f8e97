/**
 * Moving (pinning) a child from the UI, whichever control asked (a drag on
 * the board, the detail panel's "Move to", a bulk move): the store marks it
 * moving until the cluster reports it on the new node, or drops the mark and
 * shows the refusal (`quiet`: not in the error banner; a bulk move sums up
 * its refusals itself).
 */
import type { CommandAck } from 'pogo-core/ui-protocol';
import { useStore } from '../store/index';
import { sendCommand } from './client';

export async function requestMove(id: string, to: string, options: { quiet?: boolean } = {}): Promise<CommandAck<'move'>> {
  useStore.getState().startMove(id, to);
  const reply = await sendCommand('move', { id, node: to });
  if (!reply.ok) useStore.getState().failMove(id, options.quiet ? undefined : `${reply.error.code}: ${reply.error.message}`);
  return reply;
}
