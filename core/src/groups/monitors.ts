/**
 * Monitors of process groups: subscriptions to one group or a whole scope,
 * and the queue that delivers their events.
 *
 * `ProcessGroups.monitor(scope, group, fn)` returns the group's members,
 * `monitor(scope, undefined, fn)` a `Map` group → members of the whole scope
 * (sorted by group; a Map because group names are arbitrary strings), then
 * `fn` receives one event per change with the members that joined or left.
 * Events are queued (`enqueue`) while the state changes and delivered
 * (`deliver`) after the change is complete, in order, each to the listeners
 * subscribed when it happened; a listener that throws is logged and the
 * others still run.
 */
import type { Logger } from '../logger.js';
import { addTo, removeFrom } from './table.js';
import type { PgEvent, PgListener, PgMember } from './types.js';

interface Subscription {
  readonly listener: PgListener;
  active: boolean;
}

interface QueuedEvent {
  readonly event: PgEvent;
  /** The subscriptions that existed when the change happened. */
  readonly subscriptions: readonly Subscription[];
}

/** The subscriptions of one node's process groups and their pending events. */
export class GroupMonitors {
  /** scope → subscriptions to the whole scope. */
  private readonly scopeMonitors = new Map<string, Set<Subscription>>();
  /** scope → group → subscriptions to that group. */
  private readonly groupMonitors = new Map<string, Map<string, Set<Subscription>>>();
  /** Arrays of each scope's subscriptions (see scopeSubscriptions). */
  private readonly scopeSubscriptionArrays = new WeakMap<Set<Subscription>, readonly Subscription[]>();
  /** Events not yet delivered; `queueHead` is the next one. */
  private readonly eventQueue: QueuedEvent[] = [];
  private queueHead = 0;
  private delivering = false;

  constructor(private readonly log: Logger) {}

  /** Subscribes `listener` to a whole scope (`group` undefined) or to one group; returns the unsubscribe function. */
  subscribe(scope: string, group: string | undefined, listener: PgListener): () => void {
    const subscription: Subscription = { listener, active: true };
    if (group === undefined) {
      addTo(this.scopeMonitors, scope, subscription);
      return () => {
        subscription.active = false;
        removeFrom(this.scopeMonitors, scope, subscription);
      };
    }
    let byGroup = this.groupMonitors.get(scope);
    if (byGroup === undefined) this.groupMonitors.set(scope, (byGroup = new Map()));
    addTo(byGroup, group, subscription);
    return () => {
      subscription.active = false;
      const groups = this.groupMonitors.get(scope);
      if (groups === undefined) return;
      removeFrom(groups, group, subscription);
      if (groups.size === 0) this.groupMonitors.delete(scope);
    };
  }

  enqueue(kind: PgEvent['kind'], scope: string, group: string, members: readonly PgMember[]): void {
    if (members.length === 0) return;
    const forGroup = this.groupMonitors.get(scope)?.get(group);
    const forScope = this.scopeMonitors.get(scope);
    // The common case, one scope monitor and none on the group, allocates nothing per event.
    const subscriptions = forGroup === undefined ? this.scopeSubscriptions(scope, forScope) : [...forGroup, ...(forScope ?? [])];
    if (subscriptions.length === 0) return;
    this.eventQueue.push({ event: Object.freeze({ kind, scope, group, members: Object.freeze([...members]) }), subscriptions });
  }

  /** The scope's subscriptions as an array, rebuilt only when they change. */
  private scopeSubscriptions(scope: string, set: Set<Subscription> | undefined): readonly Subscription[] {
    if (set === undefined) return [];
    let cached = this.scopeSubscriptionArrays.get(set);
    if (cached === undefined || cached.length !== set.size || cached.some((s) => !set.has(s))) {
      cached = [...set];
      this.scopeSubscriptionArrays.set(set, cached);
    }
    return cached;
  }

  /**
   * Delivers queued events in order. Race "a listener changes groups or
   * subscribes from inside its callback": the nested call only queues (we are
   * already delivering), so events stay in order; a new subscriber does not
   * get events already in its snapshot; an unsubscribed one gets no more.
   */
  deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.queueHead < this.eventQueue.length) {
        const { event, subscriptions } = this.eventQueue[this.queueHead++]!;
        for (const subscription of subscriptions) {
          if (!subscription.active) continue;
          try {
            subscription.listener(event);
          } catch (err) {
            this.log.error({ err, scope: event.scope, group: event.group, kind: event.kind }, 'pg: monitor listener threw; ignored');
          }
        }
      }
    } finally {
      this.eventQueue.length = 0;
      this.queueHead = 0;
      this.delivering = false;
    }
  }
}
