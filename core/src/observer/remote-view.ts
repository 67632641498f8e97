/**
 * Members beyond the observer's own links (a firewall between the observer
 * and some members, while the members reach each other): the observer
 * borrows the view of a member it does reach (`view`, which needs no
 * credential) once a second while any member is unreachable (a member the
 * other members confirmed down needs none: the observer's own view is as
 * good as any for it, and fresher), and drops it
 * once it reaches them all again: at the first read after that, not at the
 * next round (race "a borrowed view outlives the gap": a member joining is
 * learned from gossip, down until the observer links it, so a join opened
 * a borrow; kept until the next round, the board showed the borrowed
 * children, up to a second old, while the timeline already said the moves
 * to the newcomer were done). snapshot.ts shows the children and those
 * members' status from it.
 *
 * The member asked is the one memberToAsk picks among the ready ones (a
 * member still syncing would show part of the cluster as the whole). One
 * request at a time: a slow member delays the next borrow, never stacks
 * them. Timers go through the node's clock, like every timer in core.
 */
import type { TimerHandle } from '../clock.js';
import type { PogoNode } from '../node.js';
import { memberToAsk } from './member-to-ask.js';
import type { MemberViewReply } from './ui-protocol.js';
import { isLinked } from '../membership.js';

export const BORROW_EVERY_MS = 1_000;
const BORROW_TIMEOUT_MS = 2_000;

export class RemoteView {
  private view: MemberViewReply | undefined;
  private asking = false;
  private closed = false;
  private timer: TimerHandle | undefined;

  /**
   * `onChange` is called when the borrowed view changes or is dropped.
   * `known(name)`: a member whose state the observer knows without asking
   * (judged down: the other members confirmed it), so it needs no view.
   */
  constructor(
    private readonly node: PogoNode,
    private readonly onChange: () => void,
    private readonly known: (name: string) => boolean = () => false,
  ) {}

  /** The borrowed view, while some member is beyond the observer's links (none once it reaches them all). */
  get current(): MemberViewReply | undefined {
    if (this.view !== undefined && this.reachesAll()) this.view = undefined;
    return this.view;
  }

  /** Whether the observer reaches every member itself (or knows the state of those it does not). */
  private reachesAll(): boolean {
    return this.node.members().every((m) => m.role !== 'member' || m.status === 'left' || isLinked(m.status) || this.known(m.name));
  }

  start(): void {
    this.timer = this.node.clock.setTimeout(() => {
      void this.borrow();
      if (!this.closed) this.start();
    }, BORROW_EVERY_MS);
  }

  stop(): void {
    this.closed = true;
    this.node.clock.clearTimeout(this.timer);
  }

  private async borrow(): Promise<void> {
    if (this.reachesAll()) {
      if (this.view) {
        this.view = undefined;
        this.onChange();
      }
      return;
    }
    // A member the others cannot hear would lend the minority's view (memberToAsk).
    const via = memberToAsk(this.node, { requireReady: true });
    if (!via || this.asking) return;
    this.asking = true;
    try {
      const reply = await this.node.command(via, 'view', {}, '', 'gateway', BORROW_TIMEOUT_MS);
      if (reply.ok && !this.closed) {
        this.view = reply.result;
        this.onChange();
      }
    } finally {
      this.asking = false;
    }
  }
}
