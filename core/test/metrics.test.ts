/**
 * The status port's Prometheus endpoint: real nodes, a real scrape.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../src/logger.js';
import { PogoNode, createNodeConfig } from '../src/node.js';
import { STATUS_MAX_CONNECTIONS, startStatusServer, type StatusServer } from '../src/status-server.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { until } from './support/wait.js';

const nodes: PogoNode[] = [];
const servers: StatusServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(nodes.splice(0).map((n) => n.stop('test over', 200)));
});

function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics', () => {
  it('exposes members, links, children and supervisor counters in Prometheus format', async () => {
    const workers = new WorkerRegistry();
    workers.define('w', () => ({ stop() {} }));
    const log = new MemoryLogger();
    const a = await PogoNode.start(createNodeConfig({ name: 'm1', secret: 'metrics-secret-0123456789', port: 0, preset: 'local' }), { log, workers });
    nodes.push(a);
    const b = await PogoNode.start(createNodeConfig({ name: 'm2', secret: 'metrics-secret-0123456789', port: 0, preset: 'local', seeds: [a.address] }), {
      log,
      workers,
    });
    nodes.push(b);
    await until(() => a.upMembers().length === 2 && a.supervisor.isReady && b.supervisor.isReady && a.member('m2')?.ready === true, 5_000, 'two ready nodes');
    for (let i = 0; i < 6; i++) await a.supervisor.startChild({ id: `m${i}`, start: { worker: 'w' } });
    await expect(a.supervisor.call('m0', 'hello')).rejects.toMatchObject({ code: 'no-handler' });
    const server = await startStatusServer(a, { host: '127.0.0.1', port: 0 });
    servers.push(server);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(metric(text, 'pogo_members', { status: 'up', node: 'm1' })).toBe(2);
    expect(metric(text, 'pogo_links')).toBe(1);
    expect(metric(text, 'pogo_children', { scope: 'cluster', state: 'running' })).toBe(6);
    const local = a.local.countChildren().active;
    expect(metric(text, 'pogo_children', { scope: 'local', state: 'active' })).toBe(local);
    expect(metric(text, 'pogo_child_starts_total')).toBe(local);
    expect(metric(text, 'pogo_reconcile_seconds_count')).toBeGreaterThan(0);
    expect(metric(text, 'pogo_frames_total', { direction: 'in' })).toBeGreaterThan(0);
    expect(metric(text, 'pogo_link_bytes_total', { direction: 'in' })).toBeGreaterThan(100);
    expect(metric(text, 'pogo_link_bytes_total', { direction: 'out' })).toBeGreaterThan(100);
    expect(text).toContain('pogo_process_resident_memory_bytes');
    // Calls: none outstanding (the backlog an operator watches), one made since start.
    expect(metric(text, 'pogo_calls', { state: 'outstanding' })).toBe(0);
    expect(metric(text, 'pogo_calls', { state: 'waiting' })).toBe(0);
    expect(metric(text, 'pogo_calls_total', { kind: 'call' })).toBe(1);
    // No move went without a message yet.
    expect(metric(text, 'pogo_handover_lost_total', { kind: 'call' })).toBe(0);
    expect(metric(text, 'pogo_handover_lost_total', { kind: 'cast' })).toBe(0);
    // Totals are counters (Prometheus' type for a `_total`), read again at each scrape.
    for (const total of ['pogo_frames_total', 'pogo_invalid_frames_total', 'pogo_link_bytes_total', 'pogo_calls_total', 'pogo_handover_lost_total'])
      expect(text).toContain(`# TYPE ${total} counter`);
    expect(metric(text, 'pogo_invalid_frames_total')).toBe(0);
    await expect(a.supervisor.call('m1', 'hello')).rejects.toMatchObject({ code: 'no-handler' });
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(metric(again, 'pogo_calls_total', { kind: 'call' })).toBe(2);
  });

  it('says when saving the desired state to the data dir fails, and when it works again (a full disk showed nowhere)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pogo-metrics-save-'));
    try {
      const workers = new WorkerRegistry();
      workers.define('w', () => ({ stop() {} }));
      const log = new MemoryLogger();
      const a = await PogoNode.start(createNodeConfig({ name: 's1', secret: 'metrics-secret-0123456789', port: 0, preset: 'local', dataDir: dir }), {
        log,
        workers,
      });
      nodes.push(a);
      await until(() => a.supervisor.isReady, 5_000, 'a ready node');
      await a.supervisor.startChild({ id: 'before', start: { worker: 'w' } });
      const server = await startStatusServer(a, { host: '127.0.0.1', port: 0 });
      servers.push(server);
      const scrape = async (): Promise<string> => (await fetch(`${server.url}/metrics`)).text();
      let text = await scrape();
      expect(metric(text, 'pogo_state_save_failing')).toBe(0);
      expect(metric(text, 'pogo_state_save_failures_total')).toBe(0);
      expect(metric(text, 'pogo_state_last_save_timestamp_seconds')).toBeGreaterThan(0);
      expect(a.notices).toEqual([]);
      // The next save cannot write its temporary file (as with ENOSPC or EROFS; a directory fails for root too).
      mkdirSync(join(dir, 'state.json.tmp'));
      await a.supervisor.startChild({ id: 'during', start: { worker: 'w' } }); // commands still answer
      await until(() => (a.stateSaving?.failures ?? 0) > 0, 5_000, 'a failed save');
      text = await scrape();
      expect(metric(text, 'pogo_state_save_failing')).toBe(1);
      expect(metric(text, 'pogo_state_save_failures_total')).toBeGreaterThan(0);
      expect(a.notices.join('\n')).toMatch(/saving its desired state to the data dir has failed since .*EISDIR/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200); // not a reason to restart the node
      const status = (await (await fetch(`${server.url}/status`)).json()) as { stateSaving?: Record<string, unknown> };
      expect(status.stateSaving).toMatchObject({ failingSince: expect.any(Number), lastError: expect.stringMatching(/EISDIR/) });
      rmSync(join(dir, 'state.json.tmp'), { recursive: true });
      await until(() => a.stateSaving?.failingSince === undefined, 10_000, 'saving works again');
      text = await scrape();
      expect(metric(text, 'pogo_state_save_failing')).toBe(0);
      expect(a.notices).toEqual([]);
      // Restarted on its data dir, a node's last save is the file it read (not "never" until the state changes).
      await a.stop('restart', 200);
      const again = await PogoNode.start(createNodeConfig({ name: 's1', secret: 'metrics-secret-0123456789', port: 0, preset: 'local', dataDir: dir }), {
        log,
        workers,
      });
      nodes.push(again);
      expect(again.stateSaving?.lastSavedAt).toBeGreaterThan(0);
      // A node without a data dir has no such series.
      const b = await PogoNode.start(createNodeConfig({ name: 's2', secret: 'metrics-secret-0123456789', port: 0, preset: 'local' }), { log, workers });
      nodes.push(b);
      expect(await b.metrics.text()).not.toContain('pogo_state_save');
    } finally {
      await Promise.all(nodes.splice(0).map((n) => n.stop('test over', 200)));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('idle connections to the status port are bounded (the oldest goes) and /healthz still answers', async () => {
    // An outsider's tour: 1,100 idle connections to the status port held a file descriptor each for a minute
    // (Node's header timeout); under `ulimit -n 1024` the node could accept no peer, and then exited.
    const a = await PogoNode.start(createNodeConfig({ name: 'h1', secret: 'metrics-secret-0123456789', port: 0, preset: 'local' }), {
      log: new MemoryLogger(),
    });
    nodes.push(a);
    const server = await startStatusServer(a, { host: '127.0.0.1', port: 0 });
    servers.push(server);
    const port = Number(new URL(server.url).port);
    const idle: Socket[] = [];
    let closed = 0;
    try {
      for (let i = 0; i < 3 * STATUS_MAX_CONNECTIONS; i++) {
        const s = tcpConnect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => closed++);
        idle.push(s);
        await new Promise((r) => s.once('connect', r));
      }
      await until(() => closed >= 2 * STATUS_MAX_CONNECTIONS, 5_000, 'all but the newest idle connections closed');
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
    } finally {
      idle.forEach((s) => s.destroy());
    }
  });
});
