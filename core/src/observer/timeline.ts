/**
 * The gateway's history: what happened, kept where a UI reload or a second
 * window finds it, and shaped so that a burst of per-child events cannot
 * push out the event that caused it.
 *
 * Two rings:
 *
 * - `notable`: everything that is not about one child: members up, down,
 *   unreachable and back; convergence; pauses; the gateway's own events.
 *   At most NOTABLE_LIMIT; per-child events never enter it, so the node-down
 *   that moved 5,000 children is still there after they moved.
 * - `activity`: per-child events (`started`, `stopped`, `moved`, `placed`,
 *   `failed`, `duplicate-resolved`) collapsed into bursts: events of one
 *   kind that follow each other within `gapMs` form one entry ("983 moved
 *   from s4 to 4 nodes, node down"), keyed by type and, for a move, its
 *   source and reason. A burst keeps the ids of its first MAX_BURST_IDS
 *   children (expandable in the UI) and counts per node. A burst of one is
 *   shown as its event. At most ACTIVITY_LIMIT entries.
 *
 * A notable event closes every open burst: per-child events after it start
 * bursts of their own, placed after it. Race "a burst that outlives its
 * cause": the placements and starts that follow a node-up within the gap
 * used to grow a burst opened before the node-up, so they kept that
 * burst's earlier place, outside the redistribution the node-up heads (the
 * UI groups entries by order).
 *
 * An entry keeps its `seq` while it grows and bumps its `rev`; the patch
 * layer sends an entry again when its rev changed.
 *
 * Rates (`samples`): one sample per second, counted from the events as they
 * are published (starts, stops — not instances lost from sight with a
 * silent member, which may run on —, restarts in place, moves, failures), not
 * sampled from the state, so a thousand starts in half a second count as a
 * thousand; plus levels read when the second closes (members, children per
 * node). The last SAMPLE_LIMIT seconds are kept.
 *
 * Pure: time comes with each call. Entries are changed in place; history.ts
 * copies what changed for the states it serves.
 */

import { MAX_ACTIVITY, MAX_EVENTS, MAX_SAMPLES, keyed, type SampleView } from './state.js';

export const NOTABLE_LIMIT = MAX_EVENTS;
export const ACTIVITY_LIMIT = MAX_ACTIVITY;
export const MAX_BURST_IDS = 500;
export const SAMPLE_LIMIT = MAX_SAMPLES;
export const SAMPLE_MS = 1_000;
export const BURST_GAP_MS = 2_000;

/** The fields of an event the timeline reads; the rest travels as is. */
export interface TimelineEvent {
  type: string;
  at: number;
  id?: string;
  node?: string;
  from?: string;
  to?: string;
  reason?: string;
  /** stopped: the child was terminated, and by whom (state.ts StopNote): such stops are bursts of their own. */
  terminated?: boolean;
  by?: string;
  /** stopped: lost from sight with a silent member (state.ts StopNote), not seen to stop: bursts of their own. */
  unseen?: boolean;
  /** duplicate-resolved: the instance kept, and those stopped. */
  survivor?: { node: string };
  stopped?: ReadonlyArray<{ node: string }>;
}

export const CHILD_EVENT_TYPES = new Set(['started', 'stopped', 'moved', 'placed', 'failed', 'duplicate-resolved']);

export interface NotableEntry<E> {
  seq: number;
  rev: number;
  at: number;
  event: E;
}

export interface Burst<E> {
  seq: number;
  rev: number;
  /** First and last event's time. */
  at: number;
  until: number;
  type: string;
  /** Moves: the node they left and why. */
  from?: string;
  reason?: string;
  /** Duplicates resolved: the node whose instances were kept. */
  kept?: string;
  count: number;
  /** Per node: where they started, stopped, failed, were placed, or (moves) went. */
  nodes: Record<string, number>;
  /** The first MAX_BURST_IDS children, in order. */
  ids: string[];
  /** The first event (what a burst of one shows). */
  first: E;
}

/** One second of the cluster: the state's SampleView (state.ts). */
export type Sample = SampleView;

export interface Levels {
  members: number;
  perNode: Record<string, number>;
}

/**
 * Children with an instance on each node, by node name (a Levels `perNode`):
 * every node an instance runs on counts the child once, whatever its status.
 * Counting only `running` children at their first instance's node charted
 * a member cut off from the others (netsplit mode `available`) at 0 while
 * it ran a copy of every child, and the others at 0 too: each child was
 * `duplicate` (an outsider's tour).
 */
export function instancesPerNode(children: Iterable<{ instances: ReadonlyArray<{ node: string }> }>): Record<string, number> {
  const perNode = keyed<number>();
  for (const c of children) for (const node of new Set(c.instances.map((i) => i.node))) perNode[node] = (perNode[node] ?? 0) + 1;
  return perNode;
}

function burstKey(e: TimelineEvent): string {
  if (e.type === 'duplicate-resolved') return `duplicate-resolved|${e.survivor?.node ?? ''}`;
  if (e.type === 'stopped' && e.terminated === true) return `stopped|terminated|${e.by ?? ''}`;
  if (e.type === 'stopped' && e.unseen === true) return 'stopped|unseen';
  return e.type === 'moved' ? `moved|${e.from ?? ''}|${e.reason ?? ''}` : e.type;
}

/** The node a burst counts an event on: where a child went (moves), where a duplicate was stopped, or the event's node. */
function burstNode(e: TimelineEvent): string | undefined {
  if (e.type === 'duplicate-resolved') return e.stopped?.[0]?.node;
  return e.type === 'moved' ? e.to : e.node;
}

export class Timeline<E extends TimelineEvent> {
  notable: Array<NotableEntry<E>> = [];
  activity: Array<Burst<E>> = [];
  samples: Sample[] = [];
  private seq = 0;
  private readonly open = new Map<string, Burst<E>>();
  /** The counts of the second in progress. */
  private current: Omit<Sample, 'members' | 'perNode'> | undefined;
  /** id → the node of its last instance seen starting (a start there again is a restart in place). */
  private readonly lastNode = new Map<string, string>();

  constructor(private readonly gapMs = BURST_GAP_MS) {}

  /** The newest seq handed out (notable entries and bursts share the counter). */
  get lastSeq(): number {
    return this.seq;
  }

  add(e: E): void {
    this.count(e);
    if (!CHILD_EVENT_TYPES.has(e.type)) {
      // What follows a notable event is after it: no burst opened before it grows past it.
      this.open.clear();
      this.notable.push({ seq: ++this.seq, rev: 0, at: e.at, event: e });
      if (this.notable.length > NOTABLE_LIMIT) this.notable.splice(0, this.notable.length - NOTABLE_LIMIT);
      return;
    }
    const key = burstKey(e);
    let b = this.open.get(key);
    if (b !== undefined && e.at - b.until > this.gapMs) b = undefined;
    if (b === undefined) {
      b = {
        seq: ++this.seq,
        rev: 0,
        at: e.at,
        until: e.at,
        type: e.type,
        ...(e.type === 'moved' ? { from: e.from, reason: e.reason } : {}),
        ...(e.type === 'duplicate-resolved' && e.survivor !== undefined ? { kept: e.survivor.node } : {}),
        count: 0,
        nodes: keyed(),
        ids: [],
        first: e,
      };
      this.open.set(key, b);
      this.activity.push(b);
      if (this.activity.length > ACTIVITY_LIMIT) this.activity.splice(0, this.activity.length - ACTIVITY_LIMIT);
    } else {
      b.rev++;
    }
    b.count++;
    b.until = Math.max(b.until, e.at);
    const node = burstNode(e);
    // By node name without a prototype (state.ts `keyed`): a node named `constructor` counted "function Object() …1".
    if (node !== undefined) b.nodes[node] = (b.nodes[node] ?? 0) + 1;
    if (e.id !== undefined && b.ids.length < MAX_BURST_IDS) b.ids.push(e.id);
  }

  /** Closes the seconds that have passed by `now`, reading the levels for the last of them. */
  tick(now: number, levels: () => Levels): void {
    const second = Math.floor(now / SAMPLE_MS) * SAMPLE_MS;
    if (this.current === undefined) {
      this.current = this.blank(second);
      return;
    }
    if (second <= this.current.at) return;
    const l = levels();
    // By node name without a prototype (state.ts `keyed`), whatever record `levels` gave: a node named `constructor` is a count.
    const perNode = keyed(l.perNode);
    this.samples.push({ ...this.current, members: l.members, perNode });
    // Seconds in which nothing ticked (a stalled loop) count nothing: at most SAMPLE_LIMIT of them.
    const skipped = Math.min(SAMPLE_LIMIT, (second - this.current.at) / SAMPLE_MS - 1);
    for (let i = skipped; i >= 1; i--) this.samples.push({ ...this.blank(second - i * SAMPLE_MS), members: l.members, perNode });
    if (this.samples.length > SAMPLE_LIMIT) this.samples.splice(0, this.samples.length - SAMPLE_LIMIT);
    this.current = this.blank(second);
    // Bursts that can no longer grow are closed (their entry stays in `activity`).
    for (const [key, b] of this.open) if (now - b.until > this.gapMs) this.open.delete(key);
  }

  private blank(at: number): Omit<Sample, 'members' | 'perNode'> {
    return { at, starts: 0, stops: 0, restarts: 0, moves: 0, failures: 0 };
  }

  private count(e: E): void {
    const c = this.current;
    if (e.type === 'started' && e.id !== undefined && e.node !== undefined) {
      if (c) {
        c.starts++;
        if (this.lastNode.get(e.id) === e.node) c.restarts++;
      }
      this.lastNode.set(e.id, e.node);
    } else if (c === undefined) {
      return;
    } else if (e.type === 'stopped' && e.unseen !== true) c.stops++;
    else if (e.type === 'moved') c.moves++;
    else if (e.type === 'failed') c.failures++;
  }

  /** Forget the children that no longer exist (call now and then). */
  prune(ids: ReadonlySet<string>): void {
    for (const id of this.lastNode.keys()) if (!ids.has(id)) this.lastNode.delete(id);
  }
}
