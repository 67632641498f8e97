/**
 * What the gateway shows live, against real Socket.IO nodes: each node's
 * resource figures (sent by the members only while an observer is linked),
 * and the output of an OS-process child pushed to the session that watches
 * it, following the child when it moves.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../src/logger.js';
import { PogoNode, createNodeConfig } from '../src/node.js';
import { startGateway, type Gateway } from '../src/observer/gateway.js';
import { applyPatch, type ClusterState, type StatePatch } from '../src/observer/state.js';
import type { OutputEvent, OutputLinesEvent, WatchAck } from '../src/observer/ui-protocol.js';
import { systemProbe, type ProcessProbe } from '../src/resources.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { killStrays, until } from './support/wait.js';

const SECRET = 'gateway-live-secret-0123456789';
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const NODE = process.execPath;
const nodes: PogoNode[] = [];
const sockets: Socket[] = [];
const osPids: number[] = [];
let gateway: Gateway | undefined;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await gateway?.close();
  gateway = undefined;
  await Promise.all(nodes.splice(0).map((n) => n.stop('test over', 200)));
  killStrays(osPids);
});

/** The real process, with a count of how often its lag probe was switched on and off. */
function countingProbe(): ProcessProbe & { on: number; off: number } {
  const real = systemProbe();
  const probe = {
    on: 0,
    off: 0,
    cpuUsage: () => real.cpuUsage(),
    memory: () => real.memory(),
    takeLag: () => real.takeLag(),
    enableLag: () => {
      probe.on++;
      real.enableLag();
    },
    disableLag: () => {
      probe.off++;
      real.disableLag();
    },
  };
  return probe;
}

async function cluster(probes: ProcessProbe[] = []): Promise<{ members: PogoNode[]; observer: () => Promise<PogoNode> }> {
  const workers = new WorkerRegistry();
  workers.define('w', () => ({ stop() {} }));
  const log = new MemoryLogger();
  const base = { secret: SECRET, port: 0, preset: 'local' as const, operatorToken: OPERATOR, viewerToken: VIEWER, allowCommands: [NODE] };
  const m1 = await PogoNode.start(createNodeConfig({ name: 'm1', ...base }), { log, workers, ...(probes[0] ? { resourceProbe: probes[0] } : {}) });
  nodes.push(m1);
  const m2 = await PogoNode.start(createNodeConfig({ name: 'm2', ...base, seeds: [m1.address] }), {
    log,
    workers,
    ...(probes[1] ? { resourceProbe: probes[1] } : {}),
  });
  nodes.push(m2);
  await until(() => [m1, m2].every((n) => n.supervisor.isReady && n.upMembers().length === 2), 10_000, 'members ready');
  return {
    members: [m1, m2],
    observer: async () => {
      const observer = await PogoNode.start(
        createNodeConfig({ name: 'obs', secret: SECRET, port: 0, preset: 'local', role: 'observer', seeds: [m1.address] }),
        { log, workers: new WorkerRegistry() },
      );
      nodes.push(observer);
      await until(() => observer.upMembers().length === 3, 10_000, 'the observer linked to both members');
      return observer;
    },
  };
}

interface Client {
  socket: Socket;
  state: () => ClusterState;
  events: OutputEvent[];
}

function ui(url: string, auth: Record<string, string>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(url, { path: '/gateway', auth, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    let state: ClusterState | undefined;
    const events: OutputEvent[] = [];
    socket.on('connect_error', (err) => reject(err));
    socket.on('output', (e: OutputEvent) => events.push(e));
    socket.on('patch', (patch: StatePatch, ack: () => void) => {
      if (state) state = applyPatch(state, patch);
      ack();
    });
    socket.on('snapshot', (snapshot: ClusterState) => {
      state = snapshot;
      resolve({ socket, state: () => state!, events });
    });
  });
}

describe('resources in the UI state', () => {
  it('members sample only while an observer is linked, and every node’s figures reach the UI with a series', async () => {
    const probes = [countingProbe(), countingProbe()];
    const { members, observer: join } = await cluster(probes);
    // No observer yet: no member samples anything.
    expect(probes.map((p) => p.on)).toEqual([0, 0]);
    const observer = await join();
    await until(() => probes.every((p) => p.on === 1), 5_000, 'both members sample once the observer is linked');
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    await until(() => ['m1', 'm2', 'obs'].every((n) => (client.state().resources[n]?.points.length ?? 0) >= 2), 15_000, 'two reports from every node');

    // All three nodes live in this test's process: their figures are this process's.
    const rss = process.memoryUsage().rss;
    for (const name of ['m1', 'm2', 'obs']) {
      const view = client.state().resources[name]!;
      const last = view.points.at(-1)!;
      expect(view.intervalMs).toBeGreaterThanOrEqual(1_500);
      expect(last.rss).toBeGreaterThan(rss / 2);
      expect(last.rss).toBeLessThan(rss * 2);
      expect(last.heapUsed).toBeGreaterThan(0);
      expect(last.heapUsed).toBeLessThanOrEqual(last.heapTotal);
      expect(last.cpu).toBeGreaterThanOrEqual(0);
      expect(last.lagMean).not.toBeNull();
      expect(last.lagMax!).toBeGreaterThanOrEqual(last.lagMean!);
      // Stamped by the gateway, in order.
      expect(view.points.map((p) => p.at)).toEqual([...view.points.map((p) => p.at)].sort((a, b) => a - b));
    }

    // The observer leaves: the members stop sampling.
    await gateway.close();
    gateway = undefined;
    await observer.stop('done', 500);
    await until(() => probes.every((p) => p.off === 1), 5_000, 'both members stop sampling when the observer is gone');
    expect(members.every((m) => m.running)).toBe(true);
  });
});

describe('live output', () => {
  const SCRIPT = "let n = 0; setInterval(() => { n++; console.log('out ' + n); if (n % 2 === 0) console.error('err ' + n); }, 200);";

  it('pushes new lines of a watched OS child as they come, stderr marked, and follows the child to another node', async () => {
    const { members, observer: join } = await cluster();
    const observer = await join();
    await members[0]!.supervisor.startChild({ id: 'chatty', start: { command: NODE, args: ['-e', SCRIPT] }, shutdown: 1_000 });
    await until(
      () => observer.supervisor.whichChildren('global').some((c) => c.id === 'chatty' && c.status === 'running'),
      10_000,
      'the observer sees the child running',
    );
    const first = observer.supervisor.whichChildren('global').find((c) => c.id === 'chatty')!.node!;
    const host = members.find((m) => m.name === first)!;
    osPids.push(host.local.child('chatty')!.osPid!);
    gateway = await startGateway(observer, { intervalMs: 20 });

    const none = await ui(gateway.url, { token: gateway.token });
    expect(await none.socket.timeout(5_000).emitWithAck('watchOutput', { id: 'chatty' })).toEqual({
      ok: false,
      error: { code: 'read-only', message: 'live output needs a viewer or operator credential' },
    });

    const client = await ui(gateway.url, { token: gateway.token, credential: VIEWER });
    const ack: WatchAck = await client.socket.timeout(5_000).emitWithAck('watchOutput', { id: 'chatty' });
    expect(ack).toEqual({ ok: true });
    const chunks = () => client.events.filter((e): e is OutputLinesEvent => e.kind === 'lines');
    const numbers = () => chunks().flatMap((c) => c.lines.filter((l) => l.stream === 'stdout').map((l) => Number(l.text.split(' ')[1])));
    await until(() => chunks().length > 0, 10_000, 'the first chunk');
    expect(chunks()[0]).toMatchObject({ id: 'chatty', node: first, change: 'watch' });
    const firstMax = Math.max(0, ...numbers());
    // Lines written after the first chunk arrive on their own, nothing asked.
    await until(() => numbers().some((n) => n > firstMax + 2), 10_000, 'newer lines pushed');
    const stderr = chunks()
      .flatMap((c) => c.lines)
      .filter((l) => l.stream === 'stderr');
    expect(stderr.length).toBeGreaterThan(0);
    expect(stderr.every((l) => /^err \d+$/.test(l.text))).toBe(true);
    // In order, none twice.
    const seqs = chunks().flatMap((c) => c.lines.map((l) => l.seq));
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));

    // Moved: the output goes on from the new node's process.
    const other = members.find((m) => m.name !== first)!;
    await members[0]!.supervisor.moveChild('chatty', other.name);
    const fromOther = () => chunks().filter((c) => c.node === other.name);
    await until(() => fromOther().some((c) => c.lines.length > 0), 15_000, 'output from the new node');
    osPids.push(other.local.child('chatty')!.osPid!);
    // The first chunk from there says the child moved, and a new process's output starts at its first line.
    expect(fromOther()[0]).toMatchObject({ change: 'moved', skipped: 0 });
    expect(fromOther()[0]!.pid).not.toBe(chunks()[0]!.pid);
    expect(fromOther().flatMap((c) => c.lines)[0]).toMatchObject({ seq: 1, text: 'out 1', stream: 'stdout' });

    // Stopped for good: the session is told, and the watch ends.
    await members[0]!.supervisor.terminateChild('chatty');
    await until(() => client.events.some((e) => e.kind === 'status' && e.state === 'gone'), 10_000, 'told the child is gone');
  });
});
