/**
 * The gateway's event history: the cluster events it saw (the distributed
 * supervisor's and its own), numbered by `seq` from 1 in the order they
 * arrived, the newest MAX_EVENTS kept.
 *
 * The numbering is what patches rely on: a patch carries the events above
 * the last `seq` a client holds (state.ts), so a client takes each event
 * once even when a patch is sent again. The list is replaced, never changed
 * in place, so a state built earlier keeps the events it was built with.
 */
import { MAX_EVENTS, type ClusterEvent, type EventView } from './state.js';

export class EventHistory {
  private seq = 0;
  private list: readonly EventView[] = [];

  /** Numbers `event` and keeps it (dropping the oldest beyond MAX_EVENTS). */
  push(event: ClusterEvent): EventView {
    const numbered: EventView = { ...event, seq: ++this.seq };
    this.list = [...this.list, numbered].slice(-MAX_EVENTS);
    return numbered;
  }

  /** Oldest first. */
  get events(): readonly EventView[] {
    return this.list;
  }
}
