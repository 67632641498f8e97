/**
 * Prometheus metrics of one node (prom-client), served at `GET /metrics` on
 * the status port. One registry per node, so several nodes in one process
 * (tests, embedding) never clash.
 *
 * Gauges are computed when scraped (no work per child between scrapes);
 * counters are fed by the node's events.
 *
 *   pogo_members{status}                  members by status, as this node sees them
 *   pogo_links                            links up
 *   pogo_children{scope="cluster",state}  children of the cluster by state
 *   pogo_children{scope="local",state}    children on this node by state
 *   pogo_child_starts_total               instances started on this node
 *   pogo_child_stops_total                instances stopped on this node
 *   pogo_child_restarts_total             restarts by the local supervisor
 *   pogo_child_moves_total{reason}        moves seen by this node
 *   pogo_reconcile_seconds                duration of reconcile slices (at most 256 ids each)
 *   pogo_frames_total{direction}          frames on links
 *   pogo_invalid_frames_total             frames rejected as invalid
 *   pogo_link_bytes_total{direction}      bytes on links (Socket.IO transport)
 *   pogo_calls{state}                     calls and casts made here not settled yet (state=outstanding; of them
 *                                         state=waiting for an instance), messages being handled here
 *                                         (state=delivering), handover states held (state=handovers)
 *   pogo_calls_total{kind}                calls and casts made here, messages delivered here, answers `moved`,
 *                                         late replies, calls failed by a lost link (kind=call|cast|delivered|
 *                                         moved|late_reply|link_lost)
 *   pogo_state_save_failing               1 while saving the desired state to the data dir fails (ENOSPC, EROFS…),
 *                                         else 0; only on a member with a data dir
 *   pogo_state_save_failures_total        failed saves of the desired state since start
 *   pogo_state_last_save_timestamp_seconds when the desired state was last saved (0: not yet)
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DistributedSupervisor } from './distributed/distributed-supervisor.js';
import type { LinkLayer } from './link.js';
import type { Member } from './membership.js';
import type { StateSavingHealth } from './distributed/persistence.js';
import type { LocalSupervisor } from './supervisor/local-supervisor.js';

/**
 * What the metrics read of a node (PogoNode is one): only this, so the
 * metrics module does not depend on the node that creates it.
 */
export interface MetricsSource {
  readonly name: string;
  readonly cluster: string;
  members(): readonly Pick<Member, 'status'>[];
  linkStats(): LinkLayer['stats'] & { links: number; bytesIn?: number; bytesOut?: number };
  readonly supervisor: Pick<DistributedSupervisor, 'countChildren' | 'on' | 'onReconcile' | 'callFigures'>;
  readonly local: Pick<LocalSupervisor, 'countChildren' | 'on' | 'handoverLosses'>;
  /** Saving to the data dir: undefined without one (no pogo_state_* series then). */
  readonly stateSaving?: StateSavingHealth | undefined;
}

/** A node's Prometheus metrics (node.metrics): its registry and text exposition. */
export interface NodeMetrics {
  /** The prom-client registry holding this node's metrics (labelled with its node and cluster). */
  readonly registry: Registry;
  /** Adds the process metrics (CPU, memory, event loop) once; the status server does for a node it serves. */
  includeProcessMetrics(): void;
  /** The metrics in Prometheus text exposition format. */
  text(): Promise<string>;
  /** The Content-Type to serve `text()` with. */
  readonly contentType: string;
}

export function createMetrics(node: MetricsSource): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: node.name, cluster: node.cluster });
  let withProcess = false;
  const includeProcessMetrics = (): void => {
    if (withProcess) return;
    withProcess = true;
    // The event-loop lag probe wakes the loop every eventLoopMonitoringPrecision ms: 100, not the default 10, keeps an idle node idle.
    collectDefaultMetrics({ register: registry, prefix: 'pogo_', eventLoopMonitoringPrecision: 100 });
  };

  new Gauge({
    name: 'pogo_members',
    help: 'Members by status, as this node sees them',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of node.members()) this.inc({ status: m.status });
    },
  });
  new Gauge({
    name: 'pogo_links',
    help: 'Links up',
    registers: [registry],
    collect() {
      this.set(node.linkStats().links);
    },
  });
  new Gauge({
    name: 'pogo_children',
    help: 'Children by state: of the whole cluster (scope=cluster) or on this node (scope=local)',
    labelNames: ['scope', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const cluster = node.supervisor.countChildren();
      for (const state of ['running', 'pending', 'moving', 'duplicate', 'failing', 'unplaceable'] as const)
        this.set({ scope: 'cluster', state }, cluster[state]);
      const local = node.local.countChildren();
      this.set({ scope: 'local', state: 'active' }, local.active);
      this.set({ scope: 'local', state: 'failing' }, local.failing);
      this.set({ scope: 'local', state: 'stopped' }, local.stopped);
    },
  });
  totals(registry, 'pogo_frames_total', 'Frames on links since start', 'direction', () => {
    const stats = node.linkStats();
    return { in: stats.framesIn, out: stats.framesOut };
  });
  totals(registry, 'pogo_invalid_frames_total', 'Frames rejected as invalid since start', undefined, () => ({ '': node.linkStats().invalidFrames }));
  totals(registry, 'pogo_link_bytes_total', 'Bytes on links since start (payload sizes of the Socket.IO transport)', 'direction', () => {
    const stats = node.linkStats();
    return { in: stats.bytesIn ?? 0, out: stats.bytesOut ?? 0 };
  });
  // A backlog of calls (a child calling in a loop, an instance that does not answer) and what it came to.
  new Gauge({
    name: 'pogo_calls',
    help: 'Calls made here not settled yet (outstanding; waiting for an instance), messages being handled here (delivering), handover states held',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const f = node.supervisor.callFigures();
      this.set({ state: 'outstanding' }, f.outstanding);
      this.set({ state: 'waiting' }, f.waiting);
      this.set({ state: 'delivering' }, f.delivering);
      this.set({ state: 'handovers' }, f.handoversHeld);
    },
  });
  totals(
    registry,
    'pogo_calls_total',
    'Calls and casts made here, messages delivered here, moved answers, late replies, calls failed by a lost link and calls refused overloaded, since start',
    'kind',
    () => {
      const f = node.supervisor.callFigures();
      const { calls: call, casts: cast, delivered, moved, lateReplies: late_reply, linkLost: link_lost, overloaded } = f;
      return { call, cast, delivered, moved, late_reply, link_lost, overloaded };
    },
  );
  // Race "a cast outlives the handover" (supervisor/worker-child.ts): what a move's handover went without.
  totals(
    registry,
    'pogo_handover_lost_total',
    'Messages an instance was still handling when its state was handed over on a move, past the handover timeout: ' +
      'calls (their callers were told the outcome is unknown) and casts (acknowledged; their effects did not reach the next instance), since start',
    'kind',
    () => ({ call: node.local.handoverLosses.calls, cast: node.local.handoverLosses.casts }),
  );
  const starts = new Counter({ name: 'pogo_child_starts_total', help: 'Instances started on this node', registers: [registry] });
  const stops = new Counter({ name: 'pogo_child_stops_total', help: 'Instances stopped on this node', registers: [registry] });
  const restarts = new Counter({ name: 'pogo_child_restarts_total', help: 'Restarts by the local supervisor', registers: [registry] });
  const moves = new Counter({ name: 'pogo_child_moves_total', help: 'Moves of children seen by this node', labelNames: ['reason'], registers: [registry] });
  const reconcile = new Histogram({
    name: 'pogo_reconcile_seconds',
    help: 'Duration of reconcile slices (at most 256 ids each)',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });

  node.local.on('child', (e) => {
    if (e.to === 'running') {
      starts.inc();
      if (e.reason.startsWith('restarted')) restarts.inc();
    }
    if (e.to === 'stopped') stops.inc();
  });
  node.supervisor.on('event', (e) => {
    if (e.type === 'moved') moves.inc({ reason: e.reason });
  });
  node.supervisor.onReconcile = (seconds) => reconcile.observe(seconds);

  if (node.stateSaving !== undefined) {
    // A failing save is never fatal and is logged once: an operator alerts on this (the tour: a full disk showed nowhere else).
    new Gauge({
      name: 'pogo_state_save_failing',
      help: 'Whether saving the desired state to the data dir fails now (1) or works (0)',
      registers: [registry],
      collect() {
        this.set(node.stateSaving?.failingSince === undefined ? 0 : 1);
      },
    });
    totals(registry, 'pogo_state_save_failures_total', 'Failed saves of the desired state to the data dir since start', undefined, () => ({
      '': node.stateSaving?.failures ?? 0,
    }));
    new Gauge({
      name: 'pogo_state_last_save_timestamp_seconds',
      help: 'When the desired state was last saved to the data dir (seconds since the epoch; 0: not yet)',
      registers: [registry],
      collect() {
        this.set((node.stateSaving?.lastSavedAt ?? 0) / 1000);
      },
    });
  }
  return { registry, includeProcessMetrics, text: () => registry.metrics(), contentType: registry.contentType };
}

/**
 * A total the node keeps itself (since start), read at each scrape: a
 * Counter, Prometheus' type for a `_total` (they were Gauges, which
 * `promtool check metrics` flags and some tools will not `rate()`).
 * prom-client has no `set` on a counter: each scrape resets it and adds
 * the current totals. `label` undefined: one series, read as `{ '': n }`.
 */
function totals(registry: Registry, name: string, help: string, label: string | undefined, read: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of Object.entries(read())) {
        if (label === undefined) this.inc(Math.max(0, n));
        else this.inc({ [label]: value }, Math.max(0, n));
      }
    },
  });
}
