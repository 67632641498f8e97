/**
 * How a member's status reads, for the board's columns and the node detail
 * alike. `unreachable` (state.ts MemberViewStatus) is not `down`: the
 * observer lost its own link to the member while the other members still
 * hear it (or there is no other member to ask), so it is drawn apart (an
 * amber dashed marker), never as a failure.
 */
import type { MemberViewStatus } from 'pogo-core/observer-state';

export const UNREACHABLE_TITLE = 'unreachable from this observer; the other members still hear it (or there is no other member to ask), so it is not down';

/** The tooltip of a member's health marker. */
export function statusTitle(status: MemberViewStatus): string {
  switch (status) {
    case 'up':
      return 'up';
    case 'suspect':
      return 'suspect: missed heartbeats, not declared down yet';
    case 'down':
      return 'down: the cluster lost it';
    case 'left':
      return 'left the cluster';
    case 'unreachable':
      return UNREACHABLE_TITLE;
  }
}

/** The tag class of a status that is not `up`: unreachable is a warning, the rest a failure. */
export function statusTagClass(status: MemberViewStatus): string {
  return status === 'unreachable' || status === 'suspect' ? 'state-unreachable' : 'state-down';
}

/**
 * Whether Drain is offered: the member runs children that could move away
 * (up, suspect, or unreachable from this observer only). A member that is
 * down or has left runs nothing here to drain; Undrain stays offered while
 * it is draining, so a drain can always be taken back.
 */
export function offersDrain(status: MemberViewStatus): boolean {
  return status === 'up' || status === 'suspect' || status === 'unreachable';
}

/** Whether a member is gone as far as the cluster knows (down, or left): its column may be dismissed. */
export function isGone(status: MemberViewStatus): boolean {
  return status === 'down' || status === 'left';
}
