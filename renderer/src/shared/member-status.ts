/**
 * How a member's status reads, for the board's columns and the node detail
 * alike. `unreachable` (state.ts MemberViewStatus) is not `down`: the
 * observer lost its own link to the member while the other members still
 * hear it (or there is no other member to ask), so it is drawn apart (an
 * amber dashed marker), never as a failure. Readiness reads from the
 * status too: a member down says nothing true about it (`readinessText`).
 */
import type { MemberView, MemberViewStatus } from 'pogo-core/observer-state';

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

/**
 * What this observer's own link says of a member the others cannot hear:
 * it still hears it (cut off from them), or, its link quiet (`quiet`, or
 * `suspect`), it has not heard it lately either — the members' timeout ran out first, this observer's has
 * not yet: frozen (SIGSTOP, a long pause) or overloaded as likely as cut off.
 * "Though this observer still does" of a frozen process read as a network
 * fault (core's event-intake.ts `stillHeard` says the same on the timeline).
 */
export function observerHears(m: Pick<MemberView, 'status' | 'quiet'>): string {
  return m.status === 'suspect' || m.quiet === true
    ? 'and this observer has not heard it lately either (frozen, overloaded or cut off)'
    : 'though this observer still does';
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

/**
 * What "Ready" says of a member: readiness is what the member last
 * announced, which is true only while it is heard. A member down or gone
 * takes no children whatever it last said (readiness does not apply); one
 * this observer cannot reach may still be ready, as far as it knows
 * (unknown, with the last word); `ok` is false where it takes none or is
 * not known to.
 */
export function readinessText(member: Pick<MemberView, 'status' | 'ready' | 'role'>): { text: string; ok: boolean } {
  if (member.role === 'observer') return { text: 'does not apply: an observer runs no children', ok: true };
  switch (member.status) {
    case 'down':
      return { text: 'does not apply: it is down, so it takes no children', ok: false };
    case 'left':
      return { text: 'does not apply: it has left the cluster', ok: false };
    case 'unreachable':
      return { text: `unknown: this observer cannot reach it (it last said ${member.ready ? 'yes' : 'no'})`, ok: false };
    case 'suspect':
      return member.ready ? { text: 'yes, as it last said (it is suspect: missed heartbeats)', ok: true } : { text: 'no: not taking children', ok: false };
    case 'up':
      return member.ready ? { text: 'yes', ok: true } : { text: 'no: not taking children (still joining, or leaving)', ok: false };
  }
}
