/**
 * The state as it arrives from the gateway, its members checked with the UI
 * protocol's schema (pogo-core/ui-protocol `checkMemberViews`) before the
 * store takes it: the views decide from a member's status, readiness and
 * `silent` what to offer and what to say (a drop target, "Ready", the
 * attention lane), so a member the renderer cannot read is left out, with
 * the reason logged, rather than drawn as something it is not. Pure: the
 * logging is the caller's (`onRefused`).
 */
import type { ClusterState, StatePatch } from 'pogo-core/observer-state';
import { checkMemberViews } from 'pogo-core/ui-protocol';

/** The snapshot with only the members the schema accepts. */
export function checkedSnapshot(state: ClusterState, onRefused: (reasons: string[]) => void): ClusterState {
  const { members, refused } = checkMemberViews(Object.values(state.members ?? {}));
  if (refused.length === 0) return state;
  onRefused(refused);
  return { ...state, members: Object.fromEntries(members.map((m) => [m.name, m])) };
}

/** The patch with only the member upserts the schema accepts. */
export function checkedPatch(patch: StatePatch, onRefused: (reasons: string[]) => void): StatePatch {
  const set = patch.members?.set;
  if (set === undefined) return patch;
  const { members, refused } = checkMemberViews(set);
  if (refused.length === 0) return patch;
  onRefused(refused);
  return { ...patch, members: { ...patch.members, set: members } };
}
