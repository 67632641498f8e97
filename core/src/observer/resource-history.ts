/**
 * The resource figures the gateway serves: per node, the newest figures
 * and a bounded series of the ones before (state.ts NodeResourcesView,
 * `boundResourcePoints`: ten minutes, at most 360 points), for the node
 * detail's current values and its chart.
 *
 * Members send their figures to the observer (core resources.ts, protocol
 * `res`); the gateway samples its own process the same way. Each point is
 * stamped with the gateway's clock when it arrived — the time axis every
 * chart of the UI shares — and kept in arrival order: should the clock step
 * back, a point is put 1 ms after the node's previous one instead.
 *
 * The series of a node that went down stays as it was (the UI shows its
 * last figures, stale); a node that comes back goes on in the same series.
 * `retain` forgets nodes that left the member table.
 *
 * A built state must keep what it was built with (snapshot.ts): `current`
 * is replaced, never changed, on every `add`, and only the series of the
 * node that reported is copied.
 */
import type { ResourceFigures } from '../resources.js';
import { boundResourcePoints, keyed, type NodeResourcesView, type ResourcePoint } from './state.js';

/** A point of the series from one report, arrived at `at`. */
export function toPoint(figures: ResourceFigures, at: number): ResourcePoint {
  return {
    at,
    cpu: figures.cpu,
    rss: figures.rss,
    heapUsed: figures.heapUsed,
    heapTotal: figures.heapTotal,
    lagMean: figures.lag?.mean ?? null,
    lagP99: figures.lag?.p99 ?? null,
    lagMax: figures.lag?.max ?? null,
  };
}

export class ResourceHistory {
  /** By node name, without a prototype (state.ts `keyed`: a node may be named `constructor`). */
  private views: Readonly<Record<string, NodeResourcesView>> = keyed();

  /** Every node's series, as of the last change (never changed in place). */
  get current(): Readonly<Record<string, NodeResourcesView>> {
    return this.views;
  }

  /** Takes in one report of `node`, arrived at `now` (the gateway's clock). */
  add(node: string, figures: ResourceFigures, now: number): void {
    const before = this.views[node];
    const last = before?.points.at(-1);
    const at = last !== undefined && now <= last.at ? last.at + 1 : now;
    const points = boundResourcePoints([...(before?.points ?? []), toPoint(figures, at)]);
    const views = keyed(this.views);
    views[node] = { intervalMs: figures.intervalMs, points };
    this.views = views;
  }

  /** Forgets every node not in `names`; true when one was forgotten. */
  retain(names: ReadonlySet<string>): boolean {
    const gone = Object.keys(this.views).filter((node) => !names.has(node));
    if (gone.length === 0) return false;
    const views = keyed(this.views);
    for (const node of gone) delete views[node];
    this.views = views;
    return true;
  }
}
