/**
 * Handoff `stop-first` (the default): no overlap on a planned move. The node
 * that runs the child stops it as soon as it sees another owner; the owner
 * starts it only when no other instance is visible (see handoff.ts).
 */
import type { HandoffPolicy } from './handoff.js';

export const stopFirst: HandoffPolicy = {
  name: 'stop-first',
  ownerMayStart: (others) => others === 0,
  stopBeforeOwnerRuns: true,
  reportsDuplicates: true,
};
