/**
 * Handoff policies: how a planned move hands a child from the node that runs
 * it to its new owner (a pin, a drain, a node joining or leaving, rebalancing
 * resumed). One policy per file, chosen by the spec's `handoff`, as ProcessHub
 * keeps its migration strategies behind one small interface.
 *
 * - stop-first (default, handoff-stop-first.ts): the old instance stops
 *   first; the owner starts only once no other instance is visible. No
 *   overlap, a short gap.
 * - start-first (handoff-start-first.ts): the owner starts at once; the old
 *   instance stops once the owner's runs. No gap, a short overlap, which is
 *   not reported as a duplicate.
 *
 * Pure: `decide` (decide.ts) picks the policy of a spec and asks it;
 * nothing here has effects. This file holds only the interface, so the
 * policies depend on it and nothing depends on them but `decide`.
 */

export interface HandoffPolicy {
  readonly name: 'stop-first' | 'start-first';
  /** The owner may start although `others` instances still run elsewhere. */
  ownerMayStart(others: number): boolean;
  /** A node running the child that is not its owner stops at once (a planned move, rate-limited) rather than once the owner's instance runs. */
  readonly stopBeforeOwnerRuns: boolean;
  /** Stopping an instance because the owner's runs is a resolved duplicate (stop-first), not the end of a planned overlap (start-first). */
  readonly reportsDuplicates: boolean;
}
