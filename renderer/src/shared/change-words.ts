/**
 * What a change that moves children is called after its node's name, one
 * word for each cause a `converged` event names ("demo-3 down", "demo-2
 * drained"); a resume names no node ("rebalancing resumed"). The timeline's
 * sentences and redistribution labels and the charts' bars all say it so.
 */
import type { ConvergedEvent } from 'pogo-core/observer-state';

const WORDS: Record<ConvergedEvent['cause'], string> = {
  'node-down': 'down',
  'node-up': 'up',
  drain: 'drained',
  undrain: 'undrained',
  resume: 'rebalancing resumed',
};

/** The word for `cause` (a cause this renderer does not know: the cause itself). */
export function changeWord(cause: string): string {
  return Object.hasOwn(WORDS, cause) ? WORDS[cause as ConvergedEvent['cause']] : cause;
}

/** Whether the change names a node ("demo-3 down") or not ("rebalancing resumed"). */
export function changeNamesNode(cause: string): boolean {
  return cause !== 'resume';
}
