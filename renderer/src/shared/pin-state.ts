/**
 * What a child's pin tag says: a pin is honoured only while its node can
 * run the child (placement: "a pin wins while the pinned node passes the
 * filters"), so a plain "pinned" on a child whose pin target is down would
 * hide that the pin is not being honoured. `pinState` says which it is and
 * where the child runs meanwhile: honoured (it runs there), on its way
 * there, or not honoured — the target down, gone, draining or not ready —
 * with the node the child runs on instead, or that it runs nowhere.
 */
import type { ChildView, MemberView } from 'pogo-core/observer-state';

export interface PinState {
  /** The tag's text. */
  text: string;
  /** Its tooltip: the whole story. */
  title: string;
  /** False when the pin is not honoured now (the tag is drawn as a warning). */
  honoured: boolean;
}

/** Why the pinned node does not take the child now, or null when it can. */
function notTaking(pin: string, member: MemberView | undefined): string | null {
  if (member === undefined || member.status === 'left') return 'gone';
  if (member.status === 'down') return 'down';
  if (member.draining) return 'draining';
  if (!member.ready && member.status !== 'unreachable') return 'not ready';
  return null;
}

/** The pin tag of `child`, given the members; null when it is not pinned. */
export function pinState(child: Pick<ChildView, 'pin' | 'node' | 'instances'>, members: Readonly<Record<string, MemberView>>): PinState | null {
  const pin = child.pin;
  if (pin === null) return null;
  const runs = child.node;
  const where = runs === null ? 'runs nowhere' : runs === pin ? `runs on ${pin}` : `runs on ${runs}`;
  const why = notTaking(pin, members[pin]);
  if (why !== null) {
    return {
      text: `pinned to ${pin} (${why}), ${where}`,
      title: `Pinned to ${pin}, which is ${why === 'gone' ? 'no longer a member' : why}: the pin is not honoured while it is; the child ${where}.`,
      honoured: false,
    };
  }
  if (runs === pin || child.instances.some((i) => i.node === pin)) return { text: 'pinned', title: `pinned to ${pin}: it runs there`, honoured: true };
  return { text: `pinned to ${pin}, moving there`, title: `Pinned to ${pin}; the child ${where} and is on its way there.`, honoured: true };
}
