/**
 * The gateway's history as the UIs receive it: the timeline (timeline.ts:
 * notable events, bursts of per-child events, per-second samples) turned
 * into the state's immutable lists.
 *
 * The timeline changes its entries in place (a burst grows); a state built
 * earlier must keep what it was built with, or a patch computed against it
 * would miss the change. So each list is rebuilt only after a change, and a
 * burst is copied only when its `rev` moved since its last copy: a
 * thousand bursts cost one copy each per change of theirs, not per state.
 */
import type { DistEvent } from '../distributed/events.js';
import type { ActivityView, ClusterEvent, EventView, SampleView } from './state.js';
import { Timeline, type Burst, type Levels } from './timeline.js';

export class EventHistory {
  private readonly timeline = new Timeline<ClusterEvent>();
  private notableList: readonly EventView[] = [];
  private activityList: readonly ActivityView[] = [];
  private samplesList: readonly SampleView[] = [];
  private notableDirty = false;
  private activityDirty = false;
  private readonly copies = new Map<number, ActivityView>();

  /** Takes in one published event. */
  push(event: ClusterEvent): void {
    this.timeline.add(event);
    if (isChildEvent(event)) this.activityDirty = true;
    else this.notableDirty = true;
  }

  /** Closes the seconds that passed (rates); true when a sample was added. */
  tick(now: number, levels: () => Levels): boolean {
    const before = this.timeline.samples.length;
    const last = this.timeline.samples.at(-1);
    this.timeline.tick(now, levels);
    if (this.timeline.samples.length === before && this.timeline.samples.at(-1) === last) return false;
    this.samplesList = this.timeline.samples.map((x) => ({ ...x }));
    return true;
  }

  /** Notable events, oldest first. */
  get events(): readonly EventView[] {
    if (this.notableDirty) {
      this.notableDirty = false;
      this.notableList = this.timeline.notable.map((n) => ({ ...n.event, seq: n.seq }));
    }
    return this.notableList;
  }

  /** Bursts of per-child events, by seq. */
  get activity(): readonly ActivityView[] {
    if (this.activityDirty) {
      this.activityDirty = false;
      const live = new Set<number>();
      this.activityList = this.timeline.activity.map((b) => {
        live.add(b.seq);
        const have = this.copies.get(b.seq);
        if (have !== undefined && have.rev === b.rev) return have;
        const copy = copyBurst(b);
        this.copies.set(b.seq, copy);
        return copy;
      });
      for (const seq of this.copies.keys()) if (!live.has(seq)) this.copies.delete(seq);
    }
    return this.activityList;
  }

  get samples(): readonly SampleView[] {
    return this.samplesList;
  }

  /** Forget children that no longer exist (restart-in-place detection keeps one entry per child). */
  prune(ids: ReadonlySet<string>): void {
    this.timeline.prune(ids);
  }
}

function isChildEvent(e: ClusterEvent): e is Extract<DistEvent, { id: string }> {
  return 'id' in e;
}

function copyBurst(b: Burst<ClusterEvent>): ActivityView {
  return {
    seq: b.seq,
    rev: b.rev,
    at: b.at,
    until: b.until,
    type: b.type as ActivityView['type'],
    ...(b.from !== undefined ? { from: b.from } : {}),
    ...(b.reason !== undefined ? { reason: b.reason as NonNullable<ActivityView['reason']> } : {}),
    ...(b.kept !== undefined ? { kept: b.kept } : {}),
    count: b.count,
    nodes: { ...b.nodes },
    ids: b.ids.slice(),
    first: { ...b.first, seq: b.seq },
  };
}
