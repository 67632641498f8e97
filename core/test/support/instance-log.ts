/**
 * The ground truth of a simulation: when each child instance really ran, on
 * which node process — never the cluster's own view of itself.
 *
 * Every node's LocalSupervisor reports each status change of a child as a
 * `child` event. An instance of a child runs on a node process (name and
 * incarnation) from its `starting` until its `stopped`, `removed` or
 * `failing` (a failing child's instance has ended; it waits to be retried,
 * and that retry is a new `starting`). A restart after a crash of the child
 * goes straight from `running` to `starting` again: the node keeps running
 * the child throughout, so that is one span. A crashed node process stops
 * running everything at the crash (`died`), since its local supervisor,
 * abandoned, reports nothing more.
 *
 * `overlaps()` computes every window in which two or more spans of one
 * child were open at once. Each change gets a global sequence number as well
 * as its simulated time, so an overlap that lasted no simulated time at all
 * (a start and a stop in the same millisecond, the start first) is still
 * found: between two node processes nothing causal takes no time, so it is
 * as much a bug as a long one.
 */
import type { PogoNode } from '../../src/node.js';
import type { ChildEvent } from '../../src/supervisor/local-supervisor.js';

/** A moment: simulated time, and the order of changes within it. */
export interface Moment {
  readonly t: number;
  readonly seq: number;
}

export interface InstanceSpan {
  readonly id: string;
  readonly node: string;
  readonly incarnation: string;
  /** Pids of the instances in this span (a restart makes another). */
  readonly pids: string[];
  readonly start: Moment;
  end: Moment | undefined;
  /** Why the span ended: the child's last status change, or the node's crash. */
  endedBy: string | undefined;
}

export interface Overlap {
  readonly id: string;
  readonly from: Moment;
  /** Undefined: still overlapping when computed. */
  readonly to: Moment | undefined;
  /** The spans open at some point of the window (two or more at every point of it). */
  readonly spans: readonly InstanceSpan[];
}

const RUNNING = new Set<ChildEvent['to']>(['starting', 'running', 'stopping']);

export class InstanceLog {
  readonly spans: InstanceSpan[] = [];
  private readonly open = new Map<string, InstanceSpan>();
  private seq = 0;

  constructor(private readonly now: () => number) {}

  /** Records the child events of `node` from now on. */
  attach(node: PogoNode): void {
    node.local.on('child', (e) => this.onChild(node, e));
  }

  /** `node`'s process died: everything it ran stops now. */
  died(node: PogoNode, why = 'node crashed'): void {
    const at = this.moment();
    for (const [key, span] of this.open) {
      if (span.node !== node.name || span.incarnation !== node.incarnation) continue;
      span.end = at;
      span.endedBy = why;
      this.open.delete(key);
    }
  }

  /** The span of `id` open on `node`'s process now, if any. */
  openSpan(node: PogoNode, id: string): InstanceSpan | undefined {
    return this.open.get(`${node.name}/${node.incarnation}/${id}`);
  }

  /** The spans of `id`, in order of their start. */
  of(id: string): InstanceSpan[] {
    return this.spans.filter((s) => s.id === id);
  }

  /**
   * The children with more than one span among those opened from span index
   * `from` on (`spans.length` before a restart: a child started, then handed
   * over or started again), each with those spans in the order they opened.
   */
  startedMoreThanOnce(from = 0): Array<{ id: string; spans: InstanceSpan[] }> {
    const byId = new Map<string, InstanceSpan[]>();
    for (const s of this.spans.slice(from)) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
    return [...byId].filter(([, spans]) => spans.length > 1).map(([id, spans]) => ({ id, spans }));
  }

  /** Every window in which two or more instances of one child ran at once (optionally of some ids only). */
  overlaps(ids?: ReadonlySet<string>): Overlap[] {
    const byId = new Map<string, InstanceSpan[]>();
    for (const s of this.spans) {
      if (ids && !ids.has(s.id)) continue;
      const list = byId.get(s.id) ?? [];
      byId.set(s.id, list);
      list.push(s);
    }
    const out: Overlap[] = [];
    for (const [id, spans] of byId) {
      // Sweep the starts and ends in sequence order (sequence numbers are unique, so no ties).
      const points: Array<{ at: Moment; span: InstanceSpan; open: boolean }> = [];
      for (const s of spans) {
        points.push({ at: s.start, span: s, open: true });
        if (s.end) points.push({ at: s.end, span: s, open: false });
      }
      points.sort((a, b) => a.at.seq - b.at.seq);
      const active = new Set<InstanceSpan>();
      let window: { from: Moment; spans: Set<InstanceSpan> } | undefined;
      for (const p of points) {
        if (p.open) active.add(p.span);
        else active.delete(p.span);
        if (active.size >= 2) {
          window ??= { from: p.at, spans: new Set() };
          for (const s of active) window.spans.add(s);
        } else if (window) {
          out.push({ id, from: window.from, to: p.at, spans: [...window.spans] });
          window = undefined;
        }
      }
      if (window) out.push({ id, from: window.from, to: undefined, spans: [...window.spans] });
    }
    return out.sort((a, b) => a.from.seq - b.from.seq);
  }

  /** One line per overlap, for failure messages; times are shown from `origin` (the simulation's start). */
  static describe(o: Overlap, origin = 0): string {
    const length = o.to === undefined ? 'still running' : `${o.to.t - o.from.t} ms`;
    const who = o.spans
      .map((s) => `${s.node}/${s.incarnation.slice(0, 4)} [${s.start.t - origin}..${s.end ? `${s.end.t - origin} ${s.endedBy}` : ''})`)
      .join(', ');
    return `${o.id} ran twice from t=${o.from.t - origin} (${length}): ${who}`;
  }

  private moment(): Moment {
    return { t: this.now(), seq: this.seq++ };
  }

  private onChild(node: PogoNode, e: ChildEvent): void {
    const key = `${node.name}/${node.incarnation}/${e.id}`;
    const span = this.open.get(key);
    if (RUNNING.has(e.to)) {
      if (span) {
        if (e.pid && !span.pids.includes(e.pid)) span.pids.push(e.pid);
        return;
      }
      const opened: InstanceSpan = {
        id: e.id,
        node: node.name,
        incarnation: node.incarnation,
        pids: e.pid ? [e.pid] : [],
        start: this.moment(),
        end: undefined,
        endedBy: undefined,
      };
      this.spans.push(opened);
      this.open.set(key, opened);
      return;
    }
    if (!span) return;
    span.end = this.moment();
    span.endedBy = `${e.to}: ${e.reason}`;
    this.open.delete(key);
  }
}
