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
import { checkMemberViews, checkNoMemberSince } from 'pogo-core/ui-protocol';

/** The snapshot with only the members the schema accepts, and its `noMemberSince` checked (refused: none). */
export function checkedSnapshot(state: ClusterState, onRefused: (reasons: string[]) => void): ClusterState {
  const { members, refused } = checkMemberViews(Object.values(state.members ?? {}));
  const since = checkNoMemberSince(state.noMemberSince);
  if (!since.ok) refused.push(since.message);
  if (refused.length === 0) return state;
  onRefused(refused);
  return { ...state, members: Object.fromEntries(members.map((m) => [m.name, m])), noMemberSince: since.ok ? since.value : null };
}

/** The patch with only the member upserts the schema accepts, and without a `noMemberSince` it refuses (the one held stays). */
export function checkedPatch(patch: StatePatch, onRefused: (reasons: string[]) => void): StatePatch {
  let out = patch;
  const refusedAll: string[] = [];
  if (patch.scalars !== undefined && 'noMemberSince' in patch.scalars) {
    const since = checkNoMemberSince(patch.scalars.noMemberSince);
    if (!since.ok) {
      refusedAll.push(since.message);
      const scalars = { ...patch.scalars };
      delete scalars.noMemberSince;
      out = { ...out, scalars };
    }
  }
  const set = patch.members?.set;
  if (set !== undefined) {
    const { members, refused } = checkMemberViews(set);
    if (refused.length > 0) {
      refusedAll.push(...refused);
      out = { ...out, members: { ...patch.members, set: members } };
    }
  }
  if (refusedAll.length > 0) onRefused(refusedAll);
  return out;
}
