/**
 * The observer gateway: token, snapshot, patches that reproduce the state,
 * commands with typed errors, read-only and viewer sessions.
 */
import { connect as tcpConnect } from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../src/logger.js';
import { PogoNode, createNodeConfig } from '../src/node.js';
import { buildState, startGateway, type Gateway } from '../src/observer/gateway.js';
import { lastKnownChild, shownStatus, unheardBy, unseenMembers } from '../src/observer/snapshot.js';
import type { Member } from '../src/membership.js';
import { applyPatch, diffState, emptyState, type ChildView, type ClusterState, type StatePatch } from '../src/observer/state.js';
import { SeededRandom } from '../src/random.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { until } from './support/wait.js';

const SECRET = 'gateway-secret-0123456789';
const OPERATOR = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
/** A second operator token, named in the members' token file (credentials.ts). */
const TEAM = 'ops-team-token-0123456789';
const nodes: PogoNode[] = [];
const sockets: Socket[] = [];
let gateway: Gateway | undefined;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await gateway?.close();
  gateway = undefined;
  await Promise.all(nodes.splice(0).map((n) => n.stop('test over', 200)));
});

async function setup(): Promise<{ members: PogoNode[]; observer: PogoNode; log: MemoryLogger }> {
  const workers = new WorkerRegistry();
  workers.define('w', () => ({ stop() {} }));
  // A worker that takes half a second to stop (a graceful leave waits for it).
  workers.define('slow', () => ({ stop: () => new Promise<void>((resolve) => setTimeout(resolve, 500)) }));
  const log = new MemoryLogger();
  // A bare token (named `operator`) and a named one, as a token file holds them.
  const base = { secret: SECRET, port: 0, preset: 'local' as const, operatorToken: `${OPERATOR}\nops-team:${TEAM}\n`, viewerToken: VIEWER };
  const m1 = await PogoNode.start(createNodeConfig({ name: 'g1', ...base }), { log, workers });
  nodes.push(m1);
  for (const name of ['g2', 'g3']) nodes.push(await PogoNode.start(createNodeConfig({ name, ...base, seeds: [m1.address] }), { log, workers }));
  const observer = await PogoNode.start(createNodeConfig({ name: 'obs', secret: SECRET, port: 0, preset: 'local', role: 'observer', seeds: [m1.address] }), {
    log,
    workers: new WorkerRegistry(),
  });
  nodes.push(observer);
  await until(
    () =>
      nodes.every((n) => n.supervisor.isReady && n.upMembers().length === 4) && nodes.every((n) => n.members().every((m) => m.role === 'observer' || m.ready)),
    10_000,
    'cluster ready',
  );
  return { members: nodes.slice(0, 3), observer, log };
}

interface UiClient {
  socket: Socket;
  state: () => ClusterState;
  patches: () => number;
  /** Sends `{ op, args }` as a UI would (no type check here: the gateway's is what is tested). */
  command: (op: string, args?: unknown) => Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
}

function ui(url: string, auth: Record<string, string | boolean>): Promise<UiClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(url, { path: '/gateway', auth, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    let state = emptyState();
    let patches = 0;
    socket.on('connect_error', (err) => reject(err));
    socket.on('patch', (patch: StatePatch, ack: () => void) => {
      state = applyPatch(state, patch);
      patches++;
      ack();
    });
    socket.on('snapshot', (snapshot: ClusterState) => {
      state = snapshot;
      resolve({
        socket,
        state: () => state,
        patches: () => patches,
        command: (op, args) => socket.timeout(20_000).emitWithAck('command', args === undefined ? { op } : { op, args }),
      });
    });
  });
}

const comparable = (s: ClusterState) =>
  JSON.stringify({ ...s, events: s.events.map((e) => e.seq), activity: s.activity.map((a) => [a.seq, a.rev]), samples: s.samples.map((x) => x.at) });
/** The gateway's own part of a client's state, to rebuild the rest fresh. */
const factsOf = (s: ClusterState) => ({ events: s.events, activity: s.activity, samples: s.samples, sessions: s.sessions, resources: s.resources });

describe('observer gateway', () => {
  it('refuses a wrong token and serves a snapshot equal to the cluster state', async () => {
    const { observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    await expect(ui(gateway.url, { token: 'wrong' })).rejects.toThrow(/unauthorized/);
    const client = await ui(gateway.url, { token: gateway.token });
    expect(comparable(client.state())).toBe(comparable(buildState(observer, factsOf(client.state()), 'none')));
    expect(Object.keys(client.state().members).sort()).toEqual(['g1', 'g2', 'g3', 'obs']);
    // Each member's netsplit settings as it announces them (what a silent or cut-off member means: attention.ts); an observer announces none.
    expect(client.state().members['g1']!.netsplit).toEqual({ mode: 'available' });
    expect(client.state().members['obs']!.netsplit).toBeUndefined();
    expect(client.state()).toMatchObject({ readOnly: true, access: 'none' });
    // A credential the cluster does not know is refused at connect, with the member's reason, said once.
    await expect(ui(gateway.url, { token: gateway.token, credential: 'not-a-token' })).rejects.toThrow(
      /^unauthorized: the credential is not valid for this cluster$/,
    );
  });

  it('after a long random sequence of changes, snapshot plus patches equals a fresh snapshot', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token, credential: OPERATOR });
    const rng = new SeededRandom(7);
    const live = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const node = members[rng.int(members.length)]!;
      const roll = rng.next();
      if (roll < 0.5 || live.size === 0) {
        const id = `r${i}`;
        await node.supervisor.startChild({ id, start: { worker: 'w' } });
        live.add(id);
      } else if (roll < 0.75) {
        const id = [...live][rng.int(live.size)]!;
        live.delete(id);
        await node.supervisor.terminateChild(id);
      } else if (roll < 0.85) {
        const id = [...live][rng.int(live.size)]!;
        await node.supervisor.moveChild(id, members[rng.int(members.length)]!.name);
      } else {
        node.supervisor.setRebalancing(rng.next() < 0.5);
      }
    }
    members[0]!.groups.join('app', 'web', members[0]!.newPid(), { port: 80 });
    // The observer learns of the changes over its own links first; only then is "a fresh snapshot" final.
    const liveIds = JSON.stringify([...live].sort());
    await until(
      () =>
        observer.groups.getMembers('app', 'web').length === 1 &&
        JSON.stringify(
          observer.supervisor
            .whichChildren('global')
            .map((c) => c.id)
            .sort(),
        ) === liveIds,
      5_000,
      'the observer sees every change',
    );
    const fresh = () => comparable(buildState(observer, factsOf(client.state()), 'operator'));
    await until(() => comparable(client.state()) === fresh(), 5_000, 'client state equals a fresh snapshot');
    expect(Object.keys(client.state().children).sort()).toEqual([...live].sort());
    expect(client.state().groups).toEqual({ app: { web: { [members[0]!.name]: 1 } } });
    expect(client.patches()).toBeGreaterThan(0);
    // Events arrived too, in order, without duplicates.
    const seqs = client.state().events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('commands round-trip with acks and typed errors; read-only and viewer sessions cannot change anything', async () => {
    const { observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const operator = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    const viewer = await ui(gateway.url, { token: gateway.token, credential: VIEWER });
    const readOnly = await ui(gateway.url, { token: gateway.token });

    const started = await operator.command('start', { spec: { id: 'ui-1', start: { worker: 'w' } } });
    expect(started).toMatchObject({ ok: true, result: { id: 'ui-1' } });
    expect(await operator.command('start', { spec: { id: 'ui-1', start: { worker: 'w', args: 1 } } })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
    expect(await operator.command('move', { id: 'ui-1', node: 'nowhere' })).toMatchObject({ ok: false, error: { code: 'unknown-node' } });
    expect(await operator.command('explain', { id: 'ui-1' })).toMatchObject({ ok: true, result: { id: 'ui-1' } });
    expect(await operator.command('format-disk')).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // Every command is checked at the gateway, and the refusal names the field; the cluster sees none of them.
    expect(await operator.command('move', { id: 'ui-1' })).toEqual({ ok: false, error: { code: 'bad-request', message: 'move: node: required' } });
    expect(await operator.command('move', ['ui-1', 'g2'])).toMatchObject({
      ok: false,
      error: { code: 'bad-request', message: expect.stringContaining('args') },
    });
    expect(await operator.command('start', { spec: { id: 'ui-2', start: { worker: '' } } })).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'start: spec.start.worker: must name a worker type' },
    });
    expect(await viewer.command('logs', { id: 'ui-1', after: -1 })).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'logs: after: must be 0 or more' },
    });
    expect(operator.state()).toMatchObject({ readOnly: false, access: 'operator' });
    expect(viewer.state()).toMatchObject({ readOnly: true, access: 'viewer' });
    expect(await viewer.command('stop', { id: 'ui-1' })).toMatchObject({ ok: false, error: { code: 'read-only', message: expect.stringContaining('viewer') } });
    expect(await readOnly.command('audit')).toMatchObject({ ok: false, error: { code: 'read-only' } });
    expect(await readOnly.command('stop', { id: 'ui-1' })).toMatchObject({ ok: false, error: { code: 'read-only' } });
    const audit = await viewer.command('audit');
    expect(audit).toMatchObject({ ok: true, result: { unanswered: [] } });
    const entries = (audit.result as { entries: Array<{ by: string; op: string; at: number }> }).entries;
    expect(entries.some((e) => e.by === 'alice' && e.op === 'start')).toBe(true);
    expect(entries.map((e) => e.at)).toEqual([...entries.map((e) => e.at)].sort((a, b) => a - b));
    // A worker child has no captured output; an unknown child is a typed error.
    expect(await viewer.command('logs', { id: 'ui-1' })).toMatchObject({ ok: true, result: { lines: [] } });
    expect(await viewer.command('logs', { id: 'nope' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    // The desktop app's main process holds the operator token: sessions without one act with it.
    const desktop = await startGateway(observer, { intervalMs: 20, credential: OPERATOR });
    try {
      const session = await ui(desktop.url, { token: desktop.token });
      expect(session.state().access).toBe('operator');
    } finally {
      await desktop.close();
    }
    expect(await operator.command('stop', { id: 'ui-1' })).toEqual({ ok: true, result: null });
    await until(() => readOnly.state().children['ui-1'] === undefined, 3_000, 'stop visible to every client');
  });

  it('reports how long the cluster took to converge after a node dies', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    for (let i = 0; i < 12; i++) await members[0]!.supervisor.startChild({ id: `c${i}`, start: { worker: 'w' } });
    await until(() => Object.keys(client.state().children).length === 12, 5_000, 'children visible');
    const victim = members[2]!;
    const lost = Object.values(client.state().children).filter((c) => c.node === victim.name).length;
    expect(lost).toBeGreaterThan(0);
    victim.kill();
    await until(() => client.state().events.some((e) => e.type === 'converged' && e['node'] === victim.name), 10_000, 'a converged event');
    const converged = client.state().events.find((e) => e.type === 'converged')!;
    expect(converged).toMatchObject({ cause: 'node-down', children: 12 });
    const down = client.state().events.find((e) => e.type === 'node-down' && e['node'] === victim.name)!;
    // Per-child events come as bursts (timeline.ts), never among the notable events.
    expect(client.state().events.every((e) => !('id' in e))).toBe(true);
    const lastStart = Math.max(
      ...client
        .state()
        .activity.filter((a) => a.type === 'started' && a.until <= converged.at)
        .map((a) => a.until),
    );
    // Measured between cluster events (node-down to the last start it caused), not in gateway ticks.
    expect(converged['after']).toBeGreaterThanOrEqual(lastStart - down.at);
    expect(converged['after']).toBeLessThanOrEqual(converged.at - down.at);
    expect(Object.values(client.state().children).every((c) => c.status === 'running' && c.node !== victim.name)).toBe(true);
    // Every move off the dead node says why, as the observer saw it.
    const moves = client.state().activity.filter((a) => a.type === 'moved' && a.from === victim.name);
    expect(moves.reduce((n, a) => n + a.count, 0)).toBe(lost);
    expect(new Set(moves.map((a) => a.reason))).toEqual(new Set(['failure']));
    expect(down).toMatchObject({ role: 'member' });
    // It died (its connections closed at once): nothing says it may still be running.
    expect(client.state().members[victim.name]).toMatchObject({ status: 'down', silent: false });
  });

  it('a node that joins heads the moves to it, down to a converged entry that measures them', async () => {
    const { members, observer, log } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    for (let i = 0; i < 24; i++) await members[0]!.supervisor.startChild({ id: `j${i}`, start: { worker: 'w' } });
    await until(() => Object.values(client.state().children).filter((c) => c.status === 'running').length === 24, 5_000, 'children running');
    const workers = new WorkerRegistry();
    workers.define('w', () => ({ stop() {} }));
    const base = { secret: SECRET, port: 0, preset: 'local' as const, operatorToken: OPERATOR };
    const joiner = await PogoNode.start(createNodeConfig({ name: 'g4', ...base, seeds: [members[0]!.address] }), { log, workers });
    nodes.push(joiner);
    await until(() => client.state().events.some((e) => e.type === 'converged' && e.node === 'g4'), 10_000, 'converged after g4 up');
    const s = client.state();
    const up = s.events.find((e) => e.type === 'node-up' && e.node === 'g4')!;
    const converged = s.events.find((e) => e.type === 'converged' && e.node === 'g4')!;
    const moves = s.activity.filter((a) => a.type === 'moved' && a.nodes['g4'] !== undefined);
    // HRW gives a fourth node about a quarter of 24 children; these ids give it some.
    expect(moves.reduce((n, a) => n + a.count, 0)).toBeGreaterThan(0);
    // Every move to it comes between its node-up and the converged entry: the redistribution it heads.
    for (const m of moves) {
      expect(m.seq).toBeGreaterThan(up.seq);
      expect(m.seq).toBeLessThan(converged.seq);
      expect(m.reason).toBe('join');
    }
    // Measured from the node-up to the last move, not closed at once.
    expect(converged.type === 'converged' && converged.after).toBeGreaterThanOrEqual(Math.max(...moves.map((m) => m.until)) - up.at);
    expect(Object.values(s.children).filter((c) => c.node === 'g4').length).toBe(moves.reduce((n, a) => n + a.count, 0));
  });

  it('a graceful leave: its node-down comes first, then the moves it causes, then the converged entry', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    for (let i = 0; i < 24; i++) await members[0]!.supervisor.startChild({ id: `l${i}`, start: { worker: 'w' } });
    await until(() => Object.values(client.state().children).filter((c) => c.status === 'running').length === 24, 5_000, 'children running');
    const victim = members[2]!;
    // One of its children takes half a second to stop: the others have moved by the time the node sends its leave.
    await members[0]!.supervisor.startChild({ id: 'slow-stop', start: { worker: 'slow' } });
    await members[0]!.supervisor.moveChild('slow-stop', victim.name);
    await until(() => client.state().children['slow-stop']?.node === victim.name, 5_000, 'the slow child on the victim');
    const on = Object.values(client.state().children).filter((c) => c.node === victim.name).length;
    expect(on).toBeGreaterThan(1);
    await victim.stop('test: graceful leave', 2_000);
    await until(() => client.state().events.some((e) => e.type === 'converged' && e.node === victim.name), 10_000, 'converged after the leave');
    const s = client.state();
    const downs = s.events.filter((e) => e.type === 'node-down' && e.node === victim.name);
    expect(downs.length).toBe(1);
    const converged = s.events.find((e) => e.type === 'converged' && e.node === victim.name)!;
    const moves = s.activity.filter((a) => a.type === 'moved' && a.from === victim.name);
    expect(moves.reduce((n, a) => n + a.count, 0)).toBe(on);
    for (const m of moves) {
      expect(m.seq).toBeGreaterThan(downs[0]!.seq);
      expect(m.seq).toBeLessThan(converged.seq);
      expect(m.at).toBeGreaterThanOrEqual(downs[0]!.at);
    }
  });

  it('a link only the observer lost is no event: the member is unreachable from here, then back, and nothing stopped or started', async () => {
    const { members, observer } = await setup();
    for (let i = 0; i < 12; i++) await members[0]!.supervisor.startChild({ id: `u${i}`, start: { worker: 'w' } });
    await until(() => observer.supervisor.whichChildren('global').filter((c) => c.status === 'running').length === 12, 5_000, 'children running');
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    const target = members[2]!;
    const on = Object.values(client.state().children).filter((c) => c.node === target.name).length;
    expect(on).toBeGreaterThan(0);
    const seen = new Set<string>();
    const watch = setInterval(() => seen.add(client.state().members[target.name]?.status ?? 'gone'), 5);
    // The observer's own link to the member breaks (as with other timing settings, or a loaded laptop); the member lives on.
    (observer as unknown as { links: { disconnect(name: string, reason: string): void } }).links.disconnect(
      target.name,
      'test: the observer alone loses this link',
    );
    await until(() => observer.member(target.name)?.status !== 'up', 2_000, 'the observer lost the link');
    await until(() => observer.member(target.name)?.status === 'up', 10_000, 'the observer linked again');
    await until(
      () => observer.supervisor.whichChildren('global').filter((c) => c.status === 'running').length === 12,
      5_000,
      'children running again in the observer view',
    );
    await until(
      () =>
        client.state().members[target.name]?.status === 'up' &&
        Object.values(client.state().children).filter((c) => c.node === target.name && c.status === 'running').length === on,
      5_000,
      'the client shows the member up, its children running there',
    );
    clearInterval(watch);
    expect(client.state().events.filter((e) => e.type === 'node-down' || e.type === 'node-up')).toEqual([]);
    // Nor a placement back to where the children ran all along (race "an owner never published": every run said "placed").
    expect(client.state().activity.filter((a) => a.type === 'stopped' || a.type === 'started' || a.type === 'moved' || a.type === 'placed')).toEqual([]);
    expect(seen.has('down')).toBe(false);
  });

  it('an observer joining a running cluster invents no events: what it learns as it syncs is the past; what happens after is news', async () => {
    const workers = new WorkerRegistry();
    workers.define('w', () => ({ stop() {} }));
    const log = new MemoryLogger();
    const base = { secret: SECRET, port: 0, preset: 'local' as const };
    const m1 = await PogoNode.start(createNodeConfig({ name: 'j1', ...base }), { log, workers });
    nodes.push(m1);
    const m2 = await PogoNode.start(createNodeConfig({ name: 'j2', ...base, seeds: [m1.address] }), { log, workers });
    nodes.push(m2);
    // Both members linked and ready before the children start: started on j1 alone, the children whose
    // owner is j2 moved there when it became ready — real news, which came after the observer's sync on
    // a loaded host (a flake: 'placed by hash on j2' on the timeline).
    await until(() => [m1, m2].every((m) => m.upMembers().length === 2 && m.supervisor.isReady), 5_000, 'j1 and j2 linked and ready');
    for (let i = 0; i < 8; i++) await m1.supervisor.startChild({ id: `p${i}`, start: { worker: 'w' } });
    await until(() => m2.supervisor.countChildren().running === 8, 5_000, 'j2 sees the 8 running');
    // The gateway starts with its observer, before it has linked to anyone: as the desktop app does.
    const observer = await PogoNode.start(createNodeConfig({ name: 'obs', ...base, role: 'observer', seeds: [m1.address] }), {
      log,
      workers: new WorkerRegistry(),
    });
    nodes.push(observer);
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    await until(() => Object.values(client.state().children).filter((c) => c.status === 'running').length === 8, 5_000, 'the children seen running');
    await new Promise((r) => setTimeout(r, 300));
    expect(client.state().activity).toEqual([]);
    expect(client.state().events).toEqual([]);
    // News after that is published.
    await m1.supervisor.startChild({ id: 'later', start: { worker: 'w' } });
    await until(() => client.state().activity.some((a) => a.type === 'started' && a.ids.includes('later')), 5_000, 'the new start published');
    expect(client.state().activity.flatMap((a) => a.ids)).not.toContain('p0');
  });

  it('a stop from a UI session reads as that operator\'s stop: no "has no node to run on", a stop for good naming who asked', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const operator = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    await members[0]!.supervisor.startChild({ id: 'w8', start: { worker: 'w' } });
    await until(() => operator.state().children['w8']?.status === 'running', 5_000, 'w8 running');
    const node = operator.state().children['w8']!.node;
    expect(await operator.command('stop', { id: 'w8' })).toMatchObject({ ok: true });
    await until(() => operator.state().activity.some((a) => a.type === 'stopped' && a.ids.includes('w8')), 5_000, 'the stop on the timeline');
    await new Promise((r) => setTimeout(r, 200));
    const about = operator.state().activity.filter((a) => a.ids.includes('w8'));
    expect(about.filter((a) => a.type === 'placed' && a.first.type === 'placed' && a.first.node === undefined)).toEqual([]);
    expect(about.find((a) => a.type === 'stopped')!.first).toMatchObject({ type: 'stopped', node, terminated: true, by: 'alice' });
  });

  it('every member killed: the state says since when no member is reachable, the children stay as last seen (unverified), and nothing converges', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    for (let i = 0; i < 9; i++) await members[0]!.supervisor.startChild({ id: `k${i}`, start: { worker: 'w' } });
    await until(() => Object.values(client.state().children).filter((c) => c.status === 'running').length === 9, 5_000, 'children running');
    expect(client.state().noMemberSince).toBeNull();
    const before = client.state().children;
    const at = Date.now();
    for (const m of members) m.kill();
    await until(() => client.state().noMemberSince !== null, 5_000, 'no member reachable');
    await new Promise((r) => setTimeout(r, 300));
    const s = client.state();
    expect(s.noMemberSince).toBeGreaterThanOrEqual(at - 50);
    // Where each ran, as last seen, and said to be unverified: not "0 children".
    expect(Object.keys(s.children).sort()).toEqual(Object.keys(before).sort());
    for (const c of Object.values(s.children)) expect(c).toMatchObject({ status: 'running', node: before[c.id]!.node, unverified: true });
    expect(s.events.filter((e) => e.type === 'converged')).toEqual([]);
  });

  it('every member stopping gracefully: the children as the last member left them (no node to run on), unverified; no "converged" of an empty cluster', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    for (let i = 0; i < 9; i++) await members[0]!.supervisor.startChild({ id: `g${i}`, start: { worker: 'w' } });
    await until(() => Object.values(client.state().children).filter((c) => c.status === 'running').length === 9, 5_000, 'children running');
    for (const m of members) await m.stop('test: the whole cluster stops', 2_000);
    await until(() => client.state().noMemberSince !== null, 5_000, 'no member reachable');
    await new Promise((r) => setTimeout(r, 300));
    const s = client.state();
    expect(Object.keys(s.children).length).toBe(9);
    for (const c of Object.values(s.children)) expect(c).toMatchObject({ node: null, unverified: true });
    expect(s.events.filter((e) => e.type === 'converged' && e.children === 0)).toEqual([]);
    expect(s.events.filter((e) => e.type === 'converged' && e.node === members[2]!.name)).toEqual([]);
  });

  it('a client that never acknowledges gets no more patches until it does, then one coalesced patch', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const socket = connect(gateway.url, { path: '/gateway', auth: { token: gateway.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    const held: Array<() => void> = [];
    let received = 0;
    socket.on('patch', (_p: StatePatch, ack: () => void) => {
      received++;
      held.push(ack);
    });
    await new Promise((r) => socket.on('snapshot', r));
    const patches: StatePatch[] = [];
    socket.on('patch', (p: StatePatch) => patches.push(p));
    for (let i = 0; i < 10; i++) await members[0]!.supervisor.startChild({ id: `slow${i}`, start: { worker: 'w' } });
    await until(() => received >= 1, 2_000, 'the first patch');
    // All ten are in the observer's state, and the gateway then held this client's patch back on ten more
    // rounds (counted by the gateway, not guessed from a sleep): it still has only the first.
    await until(
      () => observer.supervisor.whichChildren('global').filter((c) => c.status === 'running').length === 10,
      5_000,
      'the observer sees all ten running',
    );
    const heldBefore = gateway.patchesHeld();
    await until(() => gateway!.patchesHeld() >= heldBefore + 10, 5_000, 'ten more rounds held back');
    expect(received).toBe(1);
    held.shift()!();
    await until(() => received === 2, 2_000, 'the coalesced patch');
    // Between them, the two patches bring all ten running (the coalesced one everything the first lacked).
    const seen = new Set(patches.flatMap((p) => (p.children?.set ?? []).filter((c) => c.status === 'running').map((c) => c.id)));
    for (let i = 0; i < 10; i++) expect(seen.has(`slow${i}`)).toBe(true);
  });
});

type Entry = { by: string; tokenName?: string; op: string; ok: boolean; result: string; node: string; incarnation?: string; seq?: number; args: unknown[] };
/** Where a reader is in each member's log: the newest entry it holds from each (what the renderer sends as `after`). */
const cursorsOf = (entries: Entry[]) => Object.fromEntries(entries.map((e) => [e.node, { incarnation: e.incarnation!, seq: e.seq! }]));
const entriesOf = (reply: { result?: unknown }) => (reply.result as { entries: Entry[] }).entries;

describe('observer gateway: operator actions', () => {
  it('the audit names who acted: the verified token name beside the user the client declares; a reader with cursors gets only what is new', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const team = await ui(gateway.url, { token: gateway.token, credential: TEAM, user: 'alice' });
    expect(await team.command('start', { spec: { id: 'who-1', start: { worker: 'w' } } })).toMatchObject({ ok: true });
    // The desktop app: main holds the token and the OS user name; the renderer sends neither.
    const desktop = await startGateway(observer, { intervalMs: 20, credential: OPERATOR, user: 'bob' });
    try {
      const session = await ui(desktop.url, { token: desktop.token });
      expect(await session.command('drain', { node: 'g3' })).toMatchObject({ ok: true });
    } finally {
      await desktop.close();
    }
    const first = entriesOf(await team.command('audit'));
    expect(first.find((e) => e.op === 'start')).toMatchObject({ by: 'alice', tokenName: 'ops-team', ok: true });
    expect(first.find((e) => e.op === 'drain')).toMatchObject({ by: 'bob', tokenName: 'operator', ok: true });
    // A refusal names no token: the credential matched none.
    const stranger = await observer.command('g1', 'pause', {}, 'not-a-token-of-this-cluster', 'mallory');
    expect(stranger).toMatchObject({ ok: false, error: { code: 'unauthorized' } });

    // Polling with cursors: only the entries after them (here: mallory's refusal), then nothing until the next command.
    const since = entriesOf(await team.command('audit', { after: cursorsOf(first) }));
    expect(since.map((e) => [e.node, e.by, e.op, e.tokenName ?? null])).toEqual([['g1', 'mallory', 'pause', null]]);
    const all = [...first, ...since];
    expect(entriesOf(await team.command('audit', { after: cursorsOf(all) }))).toEqual([]);
    expect(await team.command('undrain', { node: 'g3' })).toMatchObject({ ok: true });
    expect(entriesOf(await team.command('audit', { after: cursorsOf(all) })).map((e) => e.op)).toEqual(['undrain']);
    // A cursor of another incarnation (the member restarted since): that member's whole log.
    const executor = first.find((e) => e.op === 'start')!.node;
    const stale = { ...cursorsOf(all), [executor]: { incarnation: 'an-earlier-life', seq: 99 } };
    const again = entriesOf(await team.command('audit', { after: stale }));
    expect(again.length).toBeGreaterThanOrEqual(3);
    expect(new Set(again.map((e) => e.node))).toEqual(new Set([executor]));
    // Every entry is numbered within its member's incarnation.
    for (const m of members) {
      const own = all.filter((e) => e.node === m.name);
      expect(own.every((e) => e.incarnation === m.incarnation)).toBe(true);
      expect(own.map((e) => e.seq)).toEqual(own.map((_, i) => i + 1));
    }
  });

  it('a spec over the size limit is refused with too-large naming the limit, logged and audited; the session goes on', async () => {
    const { observer, log } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const operator = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    const big = { id: 'big-1', start: { worker: 'w', args: { blob: 'x'.repeat(1_200_000) } } };
    const reply = await operator.command('start', { spec: big });
    expect(reply).toMatchObject({
      ok: false,
      error: {
        code: 'too-large',
        message: expect.stringMatching(/^the spec is 1\.1 MiB as JSON \(1,200,\d{3} bytes\); a command may carry at most 1 MiB \(1,048,576 bytes\)$/),
      },
    });
    expect(operator.socket.connected).toBe(true);
    expect(observer.supervisor.whichChildren('global').some((c) => c.id === 'big-1')).toBe(false);
    // Logged at the gateway, naming who sent it.
    expect(
      log.entries.some((e) => e.level === 'warn' && e.fields['by'] === 'alice' && e.message.includes('refused a start from alice: the spec is 1.1 MiB')),
    ).toBe(true);
    // Audited by the member that refused it, with the arguments shortened.
    const refused = entriesOf(await operator.command('audit')).find((e) => e.op === 'start' && !e.ok);
    expect(refused).toMatchObject({ by: 'alice', tokenName: 'operator', result: expect.stringMatching(/^too-large: the spec is 1\.1 MiB/) });
    expect(JSON.stringify(refused!.args).length).toBeLessThan(1_000);
    // Just under the limit is fine, on the same session.
    const fits = { id: 'fits-1', start: { worker: 'w', args: { blob: 'x'.repeat(1_000_000) } } };
    expect(await operator.command('start', { spec: fits })).toMatchObject({ ok: true, result: { id: 'fits-1' } });
  });

  it('restart in place through the gateway: the same node, a new instance, audited with who asked', async () => {
    const { members, observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const operator = await ui(gateway.url, { token: gateway.token, credential: TEAM, user: 'alice' });
    expect(await operator.command('start', { spec: { id: 'again-1', start: { worker: 'w' } } })).toMatchObject({ ok: true });
    await until(() => operator.state().children['again-1']?.status === 'running', 5_000, 'running');
    const before = operator.state().children['again-1']!;
    const reply = await operator.command('restart', { id: 'again-1' });
    expect(reply).toMatchObject({ ok: true, result: { id: 'again-1', node: before.node } });
    const pid = (reply.result as { pid: string }).pid;
    expect(pid).not.toBe(before.pid);
    // The member that runs it says so itself.
    const runner = members.find((m) => m.name === before.node)!;
    expect(runner.supervisor.whichChildren('local').find((c) => c.id === 'again-1')?.pid).toBe(pid);
    await until(() => operator.state().children['again-1']?.pid === pid, 5_000, 'the new instance on the board');
    expect(operator.state().children['again-1']?.node).toBe(before.node);
    const audit = entriesOf(await operator.command('audit'));
    expect(audit.filter((e) => e.op === 'restart' && e.ok).every((e) => e.by === 'alice' && e.tokenName === 'ops-team')).toBe(true);
    expect(audit.some((e) => e.op === 'restart' && e.ok)).toBe(true);
    expect(await operator.command('restart', { id: 'no-such-child' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('lock drops operator rights on the same connection; unlock takes them back; a reconnecting locked client stays locked', async () => {
    const { observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20 });
    const operator = await ui(gateway.url, { token: gateway.token, credential: OPERATOR });
    const id = operator.socket.id;
    expect(await operator.command('lock')).toEqual({ ok: true, result: { access: 'locked' } });
    await until(() => operator.state().access === 'locked', 3_000, 'a snapshot for the locked access');
    expect(operator.state().readOnly).toBe(true);
    expect(await operator.command('pause')).toEqual({
      ok: false,
      error: { code: 'read-only', message: 'this session is locked: unlock it to change the cluster' },
    });
    expect(observer.supervisor.rebalancingPaused).toBe(false);
    // Reading goes on as a viewer's would, on the same connection.
    expect(await operator.command('audit')).toMatchObject({ ok: true });
    expect(operator.socket.id).toBe(id);
    // Patches keep coming for the locked state.
    await observer.command('g1', 'start', { spec: { id: 'while-locked', start: { worker: 'w' } } }, OPERATOR, 't');
    await until(() => operator.state().children['while-locked'] !== undefined, 3_000, 'a patch while locked');
    expect(await operator.command('unlock')).toEqual({ ok: true, result: { access: 'operator' } });
    await until(() => operator.state().access === 'operator', 3_000, 'a snapshot for the operator access');
    expect(await operator.command('pause')).toEqual({ ok: true, result: null });
    expect(await operator.command('resume')).toEqual({ ok: true, result: null });
    expect(operator.socket.id).toBe(id);
    // A client that locked says so when it connects again, and is locked from the start.
    const again = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, locked: true });
    expect(again.state().access).toBe('locked');
    // There is nothing to lock in a viewer session; it stays what it is.
    const viewer = await ui(gateway.url, { token: gateway.token, credential: VIEWER, locked: true });
    expect(viewer.state().access).toBe('viewer');
    expect(await viewer.command('lock')).toEqual({ ok: true, result: { access: 'viewer' } });
    expect(await viewer.command('unlock')).toEqual({ ok: true, result: { access: 'viewer' } });
  });
});

describe('observer behind a firewall', () => {
  it('shows the whole cluster as the members it reaches see it, and marks the members it cannot reach', async () => {
    const { SystemClock } = await import('../src/clock.js');
    const { CryptoRandom } = await import('../src/random.js');
    const { MemoryNetwork } = await import('../src/transport/memory.js');
    const net = new MemoryNetwork({ clock: new SystemClock(), random: new CryptoRandom(), latencyMs: 1 });
    const workers = new WorkerRegistry();
    workers.define('w', () => ({ stop() {} }));
    const log = new MemoryLogger();
    const start = async (name: string, extra: Record<string, unknown> = {}) => {
      const n = await PogoNode.start(createNodeConfig({ name, secret: SECRET, preset: 'local', seeds: name === 'f1' ? [] : ['f1:1'], ...extra }), {
        log,
        workers,
        transport: net.transport(`${name}:1`),
      });
      nodes.push(n);
      return n;
    };
    const [f1, , f3] = [await start('f1'), await start('f2'), await start('f3')];
    net.partition(['fobs:1'], ['f3:1']); // the firewall: the observer cannot reach f3, the members can
    const observer = await start('fobs', { role: 'observer', readyTimeoutMs: 500 });
    await until(() => [f1, f3].every((n) => n.supervisor.isReady && n.members().every((m) => m.role === 'observer' || m.ready)), 5_000, 'members ready');
    // Children that f3 runs: the observer cannot see their instances itself.
    for (let i = 0; i < 12; i++) await f1.supervisor.startChild({ id: `fw${i}`, start: { worker: 'w' } });
    const onF3 = f1.supervisor
      .whichChildren('global')
      .filter((c) => c.node === 'f3')
      .map((c) => c.id);
    expect(onF3.length).toBeGreaterThan(0);
    await until(() => observer.supervisor.isReady, 5_000, 'observer ready');
    expect(
      observer.supervisor
        .whichChildren('global')
        .filter((c) => onF3.includes(c.id))
        .every((c) => c.node === undefined),
    ).toBe(true);

    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token });
    await until(
      () => onF3.every((id) => client.state().children[id]?.node === 'f3' && client.state().children[id]?.status === 'running'),
      5_000,
      'children on f3 shown running',
    );
    expect(client.state().members['f3']).toMatchObject({ status: 'up', reachable: false });
    expect(client.state().members['f1']).toMatchObject({ status: 'up', reachable: true });
  });
});

/**
 * Three members and an observer on one in-memory network (names `<prefix>1..3`, `<prefix>obs`), all ready,
 * with six children `<ids>-0..5` started: the two split tests below cut this network apart.
 */
async function splitCluster(prefix: string, ids: string) {
  const { SystemClock } = await import('../src/clock.js');
  const { CryptoRandom } = await import('../src/random.js');
  const { MemoryNetwork } = await import('../src/transport/memory.js');
  const { chooseMember } = await import('../src/choose-member.js');
  const net = new MemoryNetwork({ clock: new SystemClock(), random: new CryptoRandom(), latencyMs: 1 });
  const workers = new WorkerRegistry();
  workers.define('w', () => ({ stop() {} }));
  const log = new MemoryLogger();
  const first = `${prefix}1`;
  const start = async (name: string, extra: Record<string, unknown> = {}) => {
    const n = await PogoNode.start(
      createNodeConfig({ name, secret: SECRET, preset: 'local', operatorToken: OPERATOR, seeds: name === first ? [] : [`${first}:1`], ...extra }),
      { log, workers, transport: net.transport(`${name}:1`) },
    );
    nodes.push(n);
    return n;
  };
  const members = [await start(first), await start(`${prefix}2`), await start(`${prefix}3`)];
  const observer = await start(`${prefix}obs`, { role: 'observer' });
  await until(
    () =>
      nodes.every((n) => n.supervisor.isReady && n.upMembers().length === 4) &&
      members.every((n) => n.members().every((m) => m.role === 'observer' || m.ready)),
    5_000,
    'cluster ready',
  );
  // Children the whole cluster knows, before the split.
  const children = Array.from({ length: 6 }, (_, i) => `${ids}-${i}`);
  for (const id of children) await members[0]!.supervisor.startChild({ id, start: { worker: 'w' } });
  // The member the gateway would send a command to.
  const chosen = chooseMember(observer.members());
  return { net, members, observer, ids: children, chosen, start };
}

describe('observer gateway: commands during a split', () => {
  it('a stop goes to a member the others hear, not to the one cut off from them: the instance that runs stops before the heal', async () => {
    const { cutOffMembers } = await import('../src/distributed/candidates.js');
    const { net, members, observer, ids, chosen } = await splitCluster('s', 'split');
    // Cut the member the gateway would send a command to off from the other members (the observer still reaches it).
    expect(chosen).toBeDefined();
    const others = members.filter((n) => n.name !== chosen);
    net.partition(
      [`${chosen}:1`],
      others.map((n) => `${n.name}:1`),
    );
    const withReach = () => observer.members().map((m) => ({ ...m, unheardBy: observer.unheardBy(m.name, m.incarnation) }));
    await until(() => cutOffMembers(withReach()).has(chosen!), 5_000, 'the observer sees it cut off');
    const running = (id: string) => others.filter((n) => n.supervisor.whichChildren('local').some((c) => c.id === id)).length;
    await until(() => ids.every((id) => running(id) === 1), 5_000, 'the majority runs every child once');

    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    expect(await client.command('stop', { id: 'split-1' })).toEqual({ ok: true, result: null });
    // Before the fix the stop went to the cut-off member, which took it, and the instance on the majority side ran on until the heal.
    await until(() => running('split-1') === 0, 5_000, 'the majority stops split-1 during the split');
    net.heal();
  });
});

/**
 * `splitCluster` (available mode) with a member the gateway does not send commands to cut off from the other two
 * (the observer still reaches all three), once both sides run every child.
 */
async function oneCutOff(prefix: string, ids: string) {
  const split = await splitCluster(prefix, ids);
  const cut = split.members.find((n) => n.name !== split.chosen)!;
  const others = split.members.filter((n) => n !== cut);
  split.net.partition(
    [`${cut.name}:1`],
    others.map((n) => `${n.name}:1`),
  );
  const runsHere = (n: PogoNode, id: string) => n.supervisor.whichChildren('local').some((c) => c.id === id);
  // Available mode: the cut-off member runs a copy of every child, the others run every child too.
  await until(() => split.ids.every((id) => runsHere(cut, id) && others.some((n) => runsHere(n, id))), 5_000, 'both sides run every child');
  return { ...split, cut, others, runsHere };
}

describe('observer gateway: a member restarted while cut off', () => {
  it('is still told cut off: the others report its new incarnation unheard, learned through gossip', async () => {
    const { cutOffMembers } = await import('../src/distributed/candidates.js');
    const { net, observer, cut, others, start } = await oneCutOff('r', 'rs');
    const withReach = () => observer.members().map((m) => ({ ...m, unheardBy: observer.unheardBy(m.name, m.incarnation) }));
    await until(() => cutOffMembers(withReach()).has(cut.name), 5_000, 'the observer sees it cut off');
    // Restarted (a new incarnation) while still cut off: the others learn of it only through the observer's gossip.
    const before = cut.incarnation;
    cut.kill();
    net.crash(`${cut.name}:1`);
    const again = await start(cut.name);
    expect(again.incarnation).not.toBe(before);
    await until(() => observer.member(cut.name)?.incarnation === again.incarnation, 5_000, 'the observer links the new incarnation');
    await until(() => others.every((n) => n.member(cut.name)?.incarnation === again.incarnation), 5_000, 'the others learn the new incarnation, down for them');
    // Before the fix their reports still named the old incarnation: the observer showed the new one up, green, not cut off.
    await until(() => cutOffMembers(withReach()).has(cut.name), 5_000, 'the observer sees the new incarnation cut off too');
    // Each reports it once a dial to it has failed (membership.ts `unheardList`: never heard of is not yet unheard).
    const reporters = () =>
      observer
        .unheardBy(cut.name, again.incarnation)
        .map((u) => u.reporter)
        .sort()
        .join(',');
    await until(
      () =>
        reporters() ===
        others
          .map((n) => n.name)
          .sort()
          .join(','),
      10_000,
      'both others report the new incarnation unheard',
    );
  });
});

describe('observer gateway: a stop during a split in available mode', () => {
  it('the copy a cut-off member still runs of a child stopped for good stays on the board, stopped for good, until it stops', async () => {
    const { net, observer, cut, others, runsHere } = await oneCutOff('v', 'av');

    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    expect(await client.command('stop', { id: 'av-1' })).toEqual({ ok: true, result: null });
    await until(() => others.every((n) => !runsHere(n, 'av-1')), 5_000, 'the others stop av-1');
    expect(runsHere(cut, 'av-1')).toBe(true);
    // Before the fix the child was gone from the state here, while its copy ran on.
    await until(() => client.state().children['av-1']?.terminated === true, 5_000, 'av-1 shown stopped for good, still running');
    expect(client.state().children['av-1']).toMatchObject({ node: cut.name, instances: [{ node: cut.name }], status: 'running' });
    // The heal: the copy stops, and the child leaves the board.
    net.heal();
    await until(() => !runsHere(cut, 'av-1') && client.state().children['av-1'] === undefined, 10_000, 'the copy stopped at the heal');
  });
});

describe('observer gateway: a stop written on a cut-off member', () => {
  it('the instance the others run on stays on the board, stopped for good, until the heal brings them the stop', async () => {
    const { net, observer, ids, cut, others, runsHere } = await oneCutOff('w', 'wr');
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    // `pogo ctl stop` through the cut-off member: written there, it reaches the others only at the heal.
    const id = ids.find((x) => others.some((n) => runsHere(n, x)))!;
    const runner = others.find((n) => runsHere(n, id))!;
    await cut.supervisor.terminateChild(id);
    await until(() => !runsHere(cut, id), 5_000, 'the cut-off member stops its copy');
    await until(() => client.state().children[id]?.terminated === true, 5_000, 'shown stopped for good');
    // Before the fix it was gone from the board while it ran on the other side for the whole split.
    expect(runsHere(runner, id)).toBe(true);
    expect(client.state().children[id]).toMatchObject({ instances: [{ node: runner.name }], unverified: false });
    net.heal();
    await until(() => !runsHere(runner, id) && client.state().children[id] === undefined, 10_000, 'stopped at the heal');
  });
});

describe('observer gateway: linked to a cut-off member alone (available mode)', () => {
  it('the others are unreachable, not down; their children show both instances, unverified; a stop through it keeps the instance it cannot see', async () => {
    const { net, members, observer, ids } = await splitCluster('m', 'min');
    gateway = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(gateway.url, { token: gateway.token, credential: OPERATOR, user: 'alice' });
    const cut = members[2]!;
    const others = members.filter((n) => n !== cut);
    await until(() => ids.every((id) => client.state().children[id]?.status === 'running'), 10_000, 'every child shown running');
    const before = Object.fromEntries(ids.map((id) => [id, client.state().children[id]!.node!]));
    const elsewhere = ids.filter((id) => before[id] !== cut.name);
    expect(elsewhere.length).toBeGreaterThan(0);
    // n3 (with the observer) cut off from n1 and n2: the observer reaches n3 alone.
    net.partition(
      [`${cut.name}:1`, `${observer.name}:1`],
      others.map((n) => `${n.name}:1`),
    );
    const runsHere = (n: PogoNode, id: string) => n.supervisor.whichChildren('local').some((c) => c.id === id);
    // Available mode: n3 starts a copy of every child, while n1 and n2 run theirs on.
    await until(() => ids.every((id) => runsHere(cut, id)), 5_000, 'the cut-off member runs a copy of every child');
    expect(elsewhere.every((id) => others.some((n) => runsHere(n, id)))).toBe(true);
    // The observer loses n1 and n2 too (until then it sees both instances of each: a real duplicate, seen).
    await until(
      () =>
        others.every((n) => client.state().members[n.name]?.status === 'unreachable') &&
        elsewhere.every((id) => client.state().children[id]?.instances.length === 2),
      5_000,
      'n1 and n2 unreachable; each child shown with the instance it cannot see beside the copy',
    );
    const state = client.state();
    for (const n of others) expect(state.members[n.name]!.status).toBe('unreachable');
    for (const id of elsewhere)
      expect(state.children[id]).toMatchObject({
        status: 'duplicate',
        unverified: true,
        instances: expect.arrayContaining([expect.objectContaining({ node: before[id] })]),
      });
    // Before the fix: n1 and n2 down, their children "stopped" and "moved" to n3, "converged".
    expect(state.events.filter((e) => e.type === 'node-down' || e.type === 'converged')).toEqual([]);

    // A stop through n3, the only member reached: n3 stops its copy; the instance on the other side runs on until the heal.
    const [victim] = elsewhere;
    expect(await client.command('stop', { id: victim! })).toEqual({ ok: true, result: null });
    await until(() => !runsHere(cut, victim!), 5_000, 'n3 stops its copy');
    expect(others.some((n) => runsHere(n, victim!))).toBe(true);
    await until(() => client.state().children[victim!]?.terminated === true, 5_000, 'shown stopped for good');
    // Before the fix it was gone from the board ("no longer in the cluster") while it ran.
    expect(client.state().children[victim!]).toMatchObject({ unverified: true, instances: [{ node: before[victim!] }] });

    // An observer started now, linked to n3 alone, takes n3's table as it is: n1 and n2 down there, one word of two.
    for (const n of others) net.cut(`${n.name}:1`, 'mlate:1');
    const late = await PogoNode.start(createNodeConfig({ name: 'mlate', secret: SECRET, preset: 'local', role: 'observer', seeds: [`${cut.name}:1`] }), {
      log: new MemoryLogger(),
      workers: new WorkerRegistry(),
      transport: net.transport('mlate:1'),
    });
    nodes.push(late);
    const lateGateway = await startGateway(late, { intervalMs: 20 });
    try {
      const lateClient = await ui(lateGateway.url, { token: lateGateway.token });
      await until(() => lateClient.state().members[cut.name]?.status === 'up' && late.supervisor.isReady, 10_000, 'the late observer linked to n3');
      await new Promise((r) => setTimeout(r, 300));
      // Before: n1 and n2 "down" (Dismiss, "nothing needs attention") while both ran.
      for (const n of others) expect(lateClient.state().members[n.name]!.status).toBe('unreachable');
    } finally {
      await lateGateway.close();
    }

    net.heal();
    await until(() => others.every((n) => !runsHere(n, victim!)) && client.state().children[victim!] === undefined, 10_000, 'stopped at the heal');
    await until(() => others.every((n) => client.state().members[n.name]?.status === 'up'), 10_000, 'the others up again');
  });
});

describe('observer gateway static files', () => {
  it('serves the built UI from its directory and nothing outside it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'pogo-ui-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Pogo</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const { observer } = await setup();
    gateway = await startGateway(observer, { staticDir: dir });
    const index = await fetch(`${gateway.url}/?token=${gateway.token}`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<title>Pogo</title>');
    expect((await fetch(`${gateway.url}/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${gateway.url}/missing.js`)).status).toBe(404);
    expect([403, 404]).toContain((await fetch(`${gateway.url}/..%2f..%2fetc%2fpasswd`)).status);
    // A path that cannot be decoded is a bad request, not an exception in the observer's process.
    expect((await fetch(`${gateway.url}/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${gateway.url}/app.js`)).status).toBe(200);
  });
});

describe('observer gateway limits', () => {
  it('bounds the number of clients; the ones it has keep being served', async () => {
    const { observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20, maxClients: 2 });
    const a = await ui(gateway.url, { token: gateway.token });
    await ui(gateway.url, { token: gateway.token });
    await expect(ui(gateway.url, { token: gateway.token })).rejects.toThrow(/too many clients/);
    expect(gateway.clients()).toBe(2);
    expect(Object.keys(a.state().members)).toContain('g1');
  });

  it('bare Engine.IO connections, which need no token, do not count as clients: a UI still gets in', async () => {
    // An outsider's tour: 40 WebSockets to /gateway that never asked for a session (no gateway token needed)
    // made every UI's connection fail with "too many clients (at most 32)".
    const { observer } = await setup();
    gateway = await startGateway(observer, { intervalMs: 20, maxClients: 2 });
    const { port } = new URL(gateway.url);
    const bare = Array.from({ length: 4 }, () => tcpConnect(Number(port), '127.0.0.1'));
    try {
      // A WebSocket upgrade by hand: Engine.IO answers with its open packet, and no Socket.IO CONNECT follows.
      await Promise.all(
        bare.map(
          (s) =>
            new Promise<void>((resolve, reject) => {
              s.on('error', reject);
              s.once('connect', () =>
                s.write(
                  'GET /gateway/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
                ),
              );
              s.on('data', (d) => {
                if (d.toString().includes('"sid"')) resolve();
              });
            }),
        ),
      );
      const a = await ui(gateway.url, { token: gateway.token });
      expect(Object.keys(a.state().members)).toContain('g1');
      await ui(gateway.url, { token: gateway.token });
      await expect(ui(gateway.url, { token: gateway.token })).rejects.toThrow(/too many clients/);
    } finally {
      for (const s of bare) s.destroy();
    }
  });

  it('closing twice, at once or later, closes once and both calls resolve; the node keeps running', async () => {
    const { observer } = await setup();
    const g = await startGateway(observer, { intervalMs: 20 });
    const client = await ui(g.url, { token: g.token });
    const disconnected = new Promise<void>((resolve) => client.socket.on('disconnect', () => resolve()));
    await Promise.all([g.close(), g.close()]);
    await g.close();
    await disconnected;
    expect(observer.upMembers().length).toBe(4);
  });
});

describe('lastKnownChild', () => {
  const view = (node: string | null, extra: Partial<ChildView> = {}): ChildView => ({
    id: 'c',
    status: node ? 'running' : 'pending',
    node,
    pid: node ? `${node}/p` : null,
    owner: node,
    pin: null,
    instances: node ? [{ node, pid: `${node}/p` }] : [],
    restarts: 0,
    worker: 'w',
    command: null,
    restart: 'permanent',
    handoff: 'stop-first',
    lastError: null,
    failures: [],
    unverified: false,
    ...extra,
  });
  it('a child whose node only the observer lost stays where it ran, unverified; isolated, every child is as last seen; else the listing', () => {
    const before = view('n2');
    const now = view(null, { owner: 'n1' });
    const lost = new Set(['n2']);
    // Mixed timing: the observer lost n2, the members did not: not "not running", but not verified either.
    expect(lastKnownChild(now, before, lost, false)).toEqual({ ...before, unverified: true });
    // The same copy each time (an unchanged child keeps its object).
    expect(lastKnownChild(now, before, lost, false)).toBe(lastKnownChild(now, before, lost, false));
    // Started elsewhere as the observer sees it: that is what it shows...
    const moved = view('n1');
    expect(lastKnownChild(moved, before, lost, false)).toBe(moved);
    // ...beside the instance on n2 whose stop is held (n2 unreachable, not judged down: a member cut off from n2 runs a
    // copy of its children in available mode): a duplicate, unverified.
    const held = [{ node: 'n2', pid: 'n2/p' }];
    expect(lastKnownChild(moved, before, lost, false, held)).toEqual({
      ...moved,
      status: 'duplicate',
      instances: [
        { node: 'n1', pid: 'n1/p' },
        { node: 'n2', pid: 'n2/p' },
      ],
      unverified: true,
    });
    // The same object while nothing changes (an unchanged child keeps its object).
    const shown = lastKnownChild(moved, before, lost, false, held);
    expect(lastKnownChild(moved, shown, lost, false, [...held])).toBe(shown);
    // n2 judged down (or reachable again): what the listing has.
    expect(lastKnownChild(moved, shown, new Set(), false, held)).toBe(moved);
    // Its node reachable (or judged down): the listing as it is.
    expect(lastKnownChild(now, before, new Set(), false)).toBe(now);
    // No member linked at all: the last seen, or what the listing still has of a child never shown.
    expect(lastKnownChild(view(null), before, new Set(), true)).toEqual({ ...before, unverified: true });
    expect(lastKnownChild(now, undefined, new Set(), true)).toEqual({ ...now, unverified: true });
  });

  it('race "an observer that reaches only the minority": pending as seen here while some member is unseen is not known: unverified', () => {
    const lostOnN3 = view(null, { owner: 'n3' });
    expect(lastKnownChild(lostOnN3, view('n3'), new Set(['n1', 'n2']), false)).toEqual({ ...lostOnN3, unverified: true });
    // Seen running: as it is; nobody unseen: as it is.
    expect(lastKnownChild(view('n3'), view('n3'), new Set(['n1']), false)).toEqual(view('n3'));
    expect(lastKnownChild(lostOnN3, view('n3'), new Set(), false)).toBe(lostOnN3);
  });

  it('race "a partial heal stops the copy, and the child is pending": its held instance on a member unseen runs there, unverified', () => {
    // Linked to n3 alone, n3 cut off from n1 and n2 (available mode): the child ran on n1 and as n3's copy, shown so.
    const lost = new Set(['n1']);
    const held = [{ node: 'n1', pid: 'n1/p' }];
    const duplicate = lastKnownChild(view('n3'), undefined, lost, false, held);
    expect(duplicate).toMatchObject({ status: 'duplicate', node: 'n3', unverified: true });
    // n3 hears n2 again, n2 had n3's copy stopped (it sees n1's instance), n3 places the child on n2, which does not start
    // it: pending as n3 sees it, while it runs on n1 (the tour, by the instances' own records). Not "pending": on n1.
    const pending = view(null, { owner: 'n2' });
    expect(lastKnownChild(pending, duplicate, lost, false, held)).toEqual({
      ...pending,
      status: 'running',
      node: 'n1',
      pid: 'n1/p',
      instances: [{ node: 'n1', pid: 'n1/p' }],
      unverified: true,
    });
    expect(lastKnownChild(pending, duplicate, lost, false, [...held])).toBe(lastKnownChild(pending, duplicate, lost, false, held));
    // n1 judged down, or seen again: the listing as it is.
    expect(lastKnownChild(pending, duplicate, new Set(), false, held)).toBe(pending);
  });
});

describe('shownStatus and unseenMembers', () => {
  it('a member the observer cannot reach and has not judged down is unreachable, whatever a borrowed view says', () => {
    expect(shownStatus('up', true, false, 'down')).toBe('up');
    // Race "an observer that reaches only the minority": the lender, cut off itself, says down; no verdict says so.
    expect(shownStatus('down', false, true, 'down')).toBe('unreachable');
    // Judged down (or left): as the lender or the observer's own table says.
    expect(shownStatus('down', false, false, 'down')).toBe('down');
    expect(shownStatus('down', false, false, undefined)).toBe('down');
    expect(shownStatus('down', false, false, 'up')).toBe('up');
  });

  it("children of a member neither the observer nor the lender sees are shown as last known; the lender's word holds for the members it sees", () => {
    const shown = [
      { name: 'n1', status: 'unreachable' },
      { name: 'n2', status: 'unreachable' },
      { name: 'n3', status: 'up' },
      { name: 'n4', status: 'down' },
    ];
    expect(unseenMembers(shown, new Map())).toEqual(new Set(['n1', 'n2']));
    expect(
      unseenMembers(
        shown,
        new Map([
          ['n1', 'up'],
          ['n2', 'down'],
        ]),
      ),
    ).toEqual(new Set(['n2']));
  });
});

describe('unheardBy (who cannot hear a member, as the UI is told)', () => {
  const m = (name: string, unheard: string[] = [], over: Partial<Member> = {}): Member => ({
    name,
    incarnation: 'i1',
    startedAt: 0,
    address: `${name}:1`,
    role: 'member',
    labels: {},
    workers: [],
    version: 1,
    status: 'up',
    since: 0,
    reason: 'test',
    unheardBy: unheard.map((reporter) => ({ reporter, since: 0 })),
    ...over,
  });

  it('a split: the member cut off is told as such; the majority is not tagged by the side it lost', () => {
    const split = unheardBy([m('n1', ['n3']), m('n2', ['n3']), m('n3', ['n1', 'n2']), m('obs', [], { role: 'observer' })]);
    expect([...split]).toEqual([['n3', ['n1', 'n2']]]);
  });

  it('a partial partition (n1 and n2 cannot hear each other, n3 hears both): both are told, each by the other', () => {
    expect([...unheardBy([m('n1', ['n2']), m('n2', ['n1']), m('n3')])]).toEqual([
      ['n1', ['n2']],
      ['n2', ['n1']],
    ]);
  });

  it('race "a cut-off member\'s word back because a reporter went quiet": a member the intake holds cut off reports for no one', () => {
    // n3 cut off from n1 and n2; then this observer lost n1 (n2 still hears it): n2's word on n3 is one of two, and n3
    // says it cannot hear n1 — cut off by the one rule (candidates.ts `cutOffWhy`), as the timeline has it, so its word
    // on n2 counts for no one. (Race "two rules for one cut-off": the board's rule counted the reports against n3 alone,
    // and tagged n2 "cut off from n3" too, while the timeline said "n3 down (cut off)".)
    const members = [m('n1', ['n3'], { status: 'down' }), m('n2', ['n3']), m('n3', ['n2'])];
    expect([...unheardBy(members, new Set(['n1']))]).toEqual([['n3', ['n2']]]);
    // The intake still holds n3 cut off (down while linked here): n2 is not tagged by it.
    expect([...unheardBy(members, new Set(['n1']), new Set(['n3']))]).toEqual([['n3', ['n2']]]);
  });

  it('a member this observer does not reach is not told here (it is unreachable, or down)', () => {
    expect([...unheardBy([m('n1'), m('n2'), m('n3', ['n1', 'n2'], { status: 'down' })])]).toEqual([]);
  });
});

describe('state diff', () => {
  it('applyPatch(a, diffState(a, b)) equals b for random states', () => {
    const rng = new SeededRandom(3);
    const randomState = (): ClusterState => {
      const s = emptyState();
      for (let i = 0; i < 8; i++)
        if (rng.next() < 0.6)
          s.members[`n${i}`] = {
            name: `n${i}`,
            status: rng.next() < 0.5 ? 'up' : 'down',
            role: 'member',
            address: `h:${i}`,
            incarnation: 'abcdef0123456789',
            labels: {},
            workers: [],
            ready: rng.next() < 0.5,
            draining: false,
            reachable: true,
            silent: rng.next() < 0.2,
          };
      for (let i = 0; i < 20; i++)
        if (rng.next() < 0.5)
          s.children[`c${i}`] = {
            id: `c${i}`,
            status: 'running',
            node: `n${rng.int(8)}`,
            pid: null,
            owner: null,
            pin: null,
            instances: [],
            restarts: 0,
            worker: 'w',
            command: null,
            restart: 'permanent',
            handoff: 'stop-first',
            lastError: null,
            failures: [],
            unverified: rng.next() < 0.2,
          };
      for (let i = 0; i < 5; i++) if (rng.next() < 0.5) (s.groups[`s${i % 2}`] ??= {})[`g${i}`] = { [`n${rng.int(3)}`]: rng.int(4) + 1 };
      s.paused = rng.next() < 0.5;
      s.noMemberSince = rng.next() < 0.3 ? rng.int(1_000_000) : null;
      return s;
    };
    for (let i = 0; i < 200; i++) {
      const a = randomState();
      const b: ClusterState = { ...randomState(), events: [{ seq: 1, at: 0, type: 'node-up', node: 'n1', role: 'member' }] };
      const patch = diffState(a, b);
      expect(patch ? applyPatch(a, patch) : a).toEqual(b);
    }
  });
});
