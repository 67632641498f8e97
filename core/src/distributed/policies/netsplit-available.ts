/**
 * Netsplit policy `available` (the default, as Pogo): availability over
 * uniqueness. A member without a link is absent at once, so each side of a
 * split runs what it cannot see; after the heal the reconciler stops the
 * duplicates (the owner's instance survives). See netsplit.ts.
 */
import type { NetsplitPolicy } from './netsplit.js';

export const available: NetsplitPolicy = {
  mode: 'available',
  mayRun: () => true,
  presence: (_inputs, m) => (m.state === 'linked' ? { present: true, why: '' } : { present: false, why: m.state === 'left' ? 'left' : 'not linked' }),
  nextChangeAt: () => undefined,
  describeSelf: () => 'netsplit mode available: runs what it cannot see elsewhere',
};
