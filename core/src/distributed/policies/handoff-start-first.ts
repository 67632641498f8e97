/**
 * Handoff `start-first`: no gap on a planned move. The owner starts the
 * child at once; the old instance stops once the owner's runs. The overlap
 * is intended, so it is not reported as a duplicate (see handoff.ts).
 */
import type { HandoffPolicy } from './handoff.js';

export const startFirst: HandoffPolicy = {
  name: 'start-first',
  ownerMayStart: () => true,
  stopBeforeOwnerRuns: false,
  reportsDuplicates: false,
};
