/**
 * Hardening (issue 8): limits on unauthenticated connections, message size,
 * no secret or credential in any log line, warnings for secret files others
 * can read, TLS with verification and a pinned CA (mutual TLS), operator
 * versus viewer on every command path, and protocol version negotiation for
 * rolling upgrades.
 *
 * In-memory tests run on the manual clock; Socket.IO tests use real sockets
 * on ephemeral loopback ports, every one closed when its test ends.
 */
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { io as ioConnect, type Socket as IoSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { handshakeProof } from '../src/link.js';
import { MemoryLogger, createLogger, type CapturedLog } from '../src/logger.js';
import { PogoNode, createNodeConfig } from '../src/node.js';
import { startGateway, type Gateway } from '../src/observer/gateway.js';
import { GATEWAY_MAX_PENDING, startServer } from '../src/observer/server.js';
import { UI_OPS } from '../src/observer/ui-protocol.js';
import { COMMAND_OPS, PROTOCOL_VERSION, type CommandOp } from '../src/protocol.js';
import { SocketIoTransport } from '../src/transport/socketio.js';
import type { Conn } from '../src/transport/transport.js';
import type { NodeConfigInput } from '../src/config.js';
import { WorkerRegistry } from '../src/supervisor/workers.js';
import { SIM_SECRET, SimCluster } from './support/sim.js';
import { until } from './support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pogo-hardening-'));
const INC = 'f00dfeedf00dfeed';
const NONCE = '0123456789abcdef0123456789abcdef';

let sim: SimCluster | undefined;
const started: PogoNode[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  sim?.stopAll();
  sim = undefined;
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await Promise.all(started.splice(0).map((n) => n.stop('test over', 200)));
});

/** A raw in-memory connection that records what it receives. */
function rawConn(
  s: SimCluster,
  from: string,
  to: string,
  onOpen: (conn: Conn) => void = () => {},
): { conn: Conn; received: Array<Record<string, unknown>>; closed: () => string | undefined } {
  const conn = s.network.transport(from).dial(to);
  const received: Array<Record<string, unknown>> = [];
  let closed: string | undefined;
  conn.setHandlers({ onOpen: () => onOpen(conn), onMessage: (m) => received.push(m as Record<string, unknown>), onClose: (r) => (closed = r) });
  return { conn, received, closed: () => closed };
}

function hello(
  name: string,
  address: string,
  protocol: { major: number; minor: number } = { ...PROTOCOL_VERSION },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { t: 'hello', cluster: 'pogo', protocol, name, incarnation: INC, startedAt: 1, address, role: 'member', nonce: NONCE, ...extra };
}

/**
 * A fake dialer that knows the cluster secret and speaks `protocol`: it
 * answers the challenge with a correct proof (plus `extra` fields, as a
 * newer version might send).
 */
function fakeDialer(s: SimCluster, name: string, to: string, protocol: { major: number; minor: number }, extra: Record<string, unknown> = {}) {
  const address = `${name}:4370`;
  const raw = rawConn(s, address, to, (conn) => conn.send(hello(name, address, protocol, extra)));
  const original = raw.conn;
  const received = raw.received;
  // Answer the challenge as soon as it arrives.
  const answered = new Set<unknown>();
  const pump = (): void => {
    for (const m of received) {
      if (m['t'] !== 'challenge' || answered.has(m)) continue;
      answered.add(m);
      const proof = handshakeProof(
        SIM_SECRET,
        'dialer',
        'pogo',
        { name, incarnation: INC, nonce: NONCE },
        { name: String(m['name']), incarnation: String(m['incarnation']), nonce: String(m['nonce']) },
      );
      original.send({ t: 'auth', proof, ...extra });
    }
  };
  return { ...raw, pump };
}

// ---------------------------------------------------------------------------

describe('limits on unauthenticated connections', () => {
  it('beyond --max-pending-handshakes the oldest connection in its handshake is refused at once, with a log line; a proper peer still links', async () => {
    sim = new SimCluster(801, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { maxPendingHandshakes: 4, handshakeTimeoutMs: 500 });
    const silent = Array.from({ length: 10 }, (_, i) => rawConn(sim!, `idle${i}:1`, SimCluster.address('a')));
    sim.clock.advance(20);
    const refused = silent.filter((c) => c.received.some((m) => m['t'] === 'reject' && m['code'] === 'too-many-handshakes'));
    expect(refused).toHaveLength(6);
    expect(refused.every((c) => c.closed() !== undefined)).toBe(true);
    expect(sim.log.entries.filter((e) => e.level === 'warn' && e.fields['code'] === 'too-many-handshakes')).toHaveLength(6);
    // The four in their handshake are dropped after the handshake timeout, with a reason.
    sim.clock.advance(600);
    expect(silent.every((c) => c.closed() !== undefined)).toBe(true);
    expect(sim.log.entries.filter((e) => e.fields['code'] === 'handshake-timeout')).toHaveLength(4);
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 2_000, 'b links after the flood');
    expect(a.running).toBe(true);
  });

  it('silent connections holding every handshake slot do not keep a proper peer out: the oldest makes room', async () => {
    // An outsider's tour on real nodes: 80 silent Socket.IO connections, renewed as they were closed, kept every
    // `pogo ctl` (and observer, and rejoining member) out of a node with "too many connections in handshake".
    sim = new SimCluster(809, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { maxPendingHandshakes: 4, handshakeTimeoutMs: 60_000 });
    const squatters = Array.from({ length: 4 }, (_, i) => rawConn(sim!, `squat${i}:1`, SimCluster.address('a')));
    sim.clock.advance(20);
    expect(squatters.every((c) => c.closed() === undefined)).toBe(true);
    // Long before the squatters' handshake timeout, b dials a and links.
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 2_000, 'b links while the squatters hold every slot');
    expect(a.running).toBe(true);
    const evicted = squatters.filter((c) => c.received.some((m) => m['t'] === 'reject' && m['code'] === 'too-many-handshakes'));
    expect(evicted.length).toBeGreaterThanOrEqual(1);
    expect(evicted.every((c) => c.closed() !== undefined)).toBe(true);
    expect(sim.log.entries.some((e) => e.fields['code'] === 'too-many-handshakes' && e.message.includes('dropped the oldest'))).toBe(true);
  });

  it('a squatter at a seed address cannot make a node stop dialling it by claiming "self"', async () => {
    sim = new SimCluster(808, { latencyMs: 1, jitterMs: 0 });
    const listener = sim.network.transport('squat:4370');
    let served = 0;
    await listener.listen((c) => {
      const n = served++;
      c.setHandlers({
        onOpen: () => {},
        onClose: () => {},
        onMessage: (raw) => {
          const m = raw as Record<string, unknown>;
          if (m['t'] !== 'hello') return;
          // Alternately: a bare `reject self`, and an echo of the dialler's own identity as the challenge.
          if (n % 2 === 0) c.send({ t: 'reject', code: 'self', message: 'you dialled yourself' });
          else
            c.send({
              t: 'challenge',
              cluster: 'pogo',
              protocol: { ...PROTOCOL_VERSION },
              name: m['name'],
              incarnation: m['incarnation'],
              startedAt: 1,
              address: 'squat:4370',
              role: 'member',
              nonce: 'ab'.repeat(16),
              proof: '0'.repeat(64),
            });
        },
      });
    });
    const a = await sim.start('a', ['squat'], { reconnectBaseMs: 10, reconnectMaxMs: 50 });
    sim.clock.advance(2_000);
    expect(served).toBeGreaterThan(10);
    expect(a.status().dialing.map((d) => d.address)).toContain('squat:4370');
    const codes = new Set(sim.log.entries.filter((e) => e.fields['node'] === 'a' && e.fields['remote'] === 'squat:4370').map((e) => e.fields['code']));
    expect(codes).toEqual(new Set(['malformed', 'auth-failed']));
    // Dialling its own address still stops at once.
    const b = await sim.start('b', ['b']);
    sim.clock.advance(1_000);
    expect(b.status().dialing).toEqual([]);
  });

  it('a flood of refusals is summarised in the log, not one line each', async () => {
    sim = new SimCluster(802, { latencyMs: 1, jitterMs: 0 });
    await sim.start('a', [], { maxPendingHandshakes: 1, handshakeTimeoutMs: 60_000 });
    rawConn(sim, 'hold:1', SimCluster.address('a'));
    sim.clock.advance(5);
    for (let i = 0; i < 200; i++) rawConn(sim, `flood${i}:1`, SimCluster.address('a'));
    sim.clock.advance(5);
    const lines = sim.log.entries.filter((e) => e.fields['code'] === 'too-many-handshakes');
    expect(lines.length).toBeLessThanOrEqual(10);
    // One second later the next refusal's line says how many were not logged.
    sim.clock.advance(1_000);
    rawConn(sim, 'late:1', SimCluster.address('a'));
    sim.clock.advance(5);
    const last = sim.log.entries.filter((e) => e.fields['code'] === 'too-many-handshakes').at(-1)!;
    expect(last.fields['suppressed']).toBe(200 - lines.length);
    expect(sim.mustGet('a').linkStats().handshakesRejected).toBe(201);
  });

  it('Socket.IO: TCP connections that never become Socket.IO connections are capped and closed at once, with a log line', async () => {
    const log = new MemoryLogger([], {}, 100_000);
    const transport = new SocketIoTransport({ host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20, connectTimeoutMs: 1_000, maxPendingConnections: 3, log });
    const node = await PogoNode.start(createNodeConfig({ name: 'capped', secret: SIM_SECRET, port: 0, preset: 'local' }), { log, transport });
    started.push(node);
    const sockets: NetSocket[] = [];
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const closedEarly: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const { port } = parseHostPort(node.address);
      const s = tcpConnect(port, '127.0.0.1');
      sockets.push(s);
      closedEarly.push(false);
      s.on('close', () => (closedEarly[i] = true));
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
    }
    await until(() => closedEarly.filter(Boolean).length >= 3, 5_000, 'excess TCP connections closed');
    expect(transport.refusals['too-many-connections']).toBe(3);
    expect(log.entries.filter((e) => e.fields['code'] === 'too-many-connections' && /too many unauthenticated connections/.test(e.message))).toHaveLength(3);
    // Idle connections do not stay forever either: HTTP headers must arrive in time.
    // Closed at 2 s (twice the connect timeout, checked every second); bounded well above that for a loaded host (CI once took over 10 s).
    await until(() => closedEarly.every(Boolean), 30_000, 'idle connections closed');
    // A proper peer links afterwards.
    const peer = await PogoNode.start(createNodeConfig({ name: 'peer', secret: SIM_SECRET, port: 0, preset: 'local', seeds: [node.address] }), { log });
    started.push(peer);
    await until(() => node.upMembers().includes('peer'), 10_000, 'peer linked');
    expect(transport.pendingConnections).toBe(0);
  });

  it('Socket.IO: silent TCP connections holding every slot do not keep a proper peer out: the oldest makes room', async () => {
    // An outsider's tour on real nodes: 300 TCP connections that sent nothing, renewed as they were closed,
    // kept every `pogo ctl`, observer and peer out of a node (their connections were reset at once).
    const log = new MemoryLogger([], {}, 100_000);
    const transport = new SocketIoTransport({ host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20, connectTimeoutMs: 30_000, maxPendingConnections: 3, log });
    const node = await PogoNode.start(createNodeConfig({ name: 'held', secret: SIM_SECRET, port: 0, preset: 'local' }), { log, transport });
    started.push(node);
    const { port } = parseHostPort(node.address);
    const squatters: NetSocket[] = [];
    cleanups.push(() => squatters.forEach((s) => s.destroy()));
    for (let i = 0; i < 3; i++) {
      const s = tcpConnect(port, '127.0.0.1');
      s.on('error', () => {});
      squatters.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await until(() => transport.pendingConnections === 3, 5_000, 'three silent connections held');
    // They would be held for a minute (twice the connect timeout); a peer links long before that.
    const peer = await PogoNode.start(createNodeConfig({ name: 'peer', secret: SIM_SECRET, port: 0, preset: 'local', seeds: [node.address] }), { log });
    started.push(peer);
    await until(() => node.upMembers().includes('peer'), 10_000, 'peer linked while the squatters hold every slot');
    expect(log.entries.some((e) => e.fields['code'] === 'too-many-connections' && /closed the oldest/.test(e.message))).toBe(true);
  });

  it('gateway: silent connections are capped (the oldest goes) and a session already open or opening is never the one closed', async () => {
    // Served beyond loopback (--host), the gateway had no cap: every silent connection stayed open for minutes.
    const log = new MemoryLogger([], {}, 100_000);
    const server = await startServer({ host: '127.0.0.1', port: 0, log });
    cleanups.push(() => server.close());
    const { port } = new URL(server.url);
    const session = (): Promise<IoSocket> => {
      const socket = ioConnect(server.url, { path: '/gateway', transports: ['websocket'], reconnection: false, forceNew: true });
      cleanups.push(() => socket.close());
      return new Promise((resolve, reject) => {
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    };
    const first = await session();
    const squatters: NetSocket[] = [];
    cleanups.push(() => squatters.forEach((s) => s.destroy()));
    let closed = 0;
    for (let i = 0; i < GATEWAY_MAX_PENDING + 6; i++) {
      const s = tcpConnect(Number(port), '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closed++);
      squatters.push(s);
      await new Promise((r) => s.once('connect', r));
    }
    await until(() => closed >= 6, 5_000, 'the six oldest squatters closed');
    expect(server.refusals['too-many-connections']).toBe(6);
    // Every slot held by a squatter: a new session still gets in (the oldest squatter makes room), the first stays.
    const second = await session();
    expect(second.connected).toBe(true);
    expect(first.connected).toBe(true);
    expect(server.refusals['too-many-connections']).toBe(7);
    expect(log.entries.filter((e) => /gateway: closed unauthenticated connections/.test(e.message))).toHaveLength(1);
  });

  it('Socket.IO: the handshake timeout closes a connection that says nothing, with a reject and a log line', async () => {
    const log = new MemoryLogger();
    const node = await PogoNode.start(createNodeConfig({ name: 'slow', secret: SIM_SECRET, port: 0, preset: 'local', handshakeTimeoutMs: 300 }), { log });
    started.push(node);
    const socket = ioConnect(`http://${node.address}`, { path: '/pogo', transports: ['websocket'], reconnection: false, forceNew: true });
    cleanups.push(() => socket.close());
    const frames: unknown[] = [];
    socket.on('m', (m: unknown) => frames.push(m));
    await until(() => socket.disconnected && frames.length > 0, 5_000, 'closed after the handshake timeout');
    expect(frames).toEqual([expect.objectContaining({ t: 'reject', code: 'handshake-timeout' })]);
    expect(log.entries.some((e) => e.level === 'warn' && e.fields['code'] === 'handshake-timeout' && /no handshake within 300 ms/.test(e.message))).toBe(true);
  });

  it('Socket.IO: a frame over --max-message-bytes closes that connection, the reason is logged, and the node keeps serving', async () => {
    const log = new MemoryLogger();
    const node = await PogoNode.start(createNodeConfig({ name: 'small', secret: SIM_SECRET, port: 0, preset: 'local', maxMessageBytes: 16 * 1024 }), { log });
    started.push(node);
    const socket = ioConnect(`http://${node.address}`, { path: '/pogo', transports: ['websocket'], reconnection: false, forceNew: true });
    cleanups.push(() => socket.close());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.emit('m', { t: 'hello', pad: 'x'.repeat(64 * 1024) });
    await until(() => socket.disconnected, 5_000, 'oversized frame closes the connection');
    await until(
      () => log.entries.some((e) => e.level === 'warn' && /handshake failed/.test(e.message) && /payload|too large|1009/i.test(e.message)),
      5_000,
      'size refusal logged with its reason',
    );
    const peer = await PogoNode.start(createNodeConfig({ name: 'peer', secret: SIM_SECRET, port: 0, preset: 'local', seeds: [node.address] }), { log });
    started.push(peer);
    await until(() => node.upMembers().includes('peer'), 10_000, 'peer linked');
  });
});

function parseHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

// ---------------------------------------------------------------------------

describe('secret files', () => {
  it('warns, naming the file and the fix, when a secret, token or key file is readable by others', async () => {
    const files = {
      secretFile: 'secret.txt',
      operatorTokenFile: 'operator.txt',
      viewerTokenFile: 'viewer.txt',
      tlsKeyFile: 'key.pem',
      tlsCertFile: 'cert.pem',
    };
    const paths = Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(dir, f)])) as Record<keyof typeof files, string>;
    for (const path of Object.values(paths)) writeFileSync(path, 'a-long-enough-secret-or-token-0123456789\n');
    // The TLS files are checked at load (tls-files.ts): a real certificate and its key.
    const pair = await generate([{ name: 'commonName', value: 'n1' }], { keyType: 'ec', algorithm: 'sha256' });
    writeFileSync(paths.tlsCertFile, pair.cert);
    writeFileSync(paths.tlsKeyFile, pair.private);
    for (const key of ['secretFile', 'operatorTokenFile', 'viewerTokenFile', 'tlsKeyFile'] as const) chmodSync(paths[key], 0o644);
    chmodSync(paths.tlsCertFile, 0o644); // a certificate is public: no warning
    const warnings: string[] = [];
    loadConfig({ flags: { name: 'n1', ...paths }, env: {}, warnings });
    expect(warnings).toHaveLength(4);
    for (const [what, key] of [
      ['secret file', 'secretFile'],
      ['operator token file', 'operatorTokenFile'],
      ['viewer token file', 'viewerTokenFile'],
      ['TLS key file', 'tlsKeyFile'],
    ] as const) {
      expect(warnings).toContainEqual(`${what} ${paths[key]} is readable by other users (mode 644); run chmod 600 ${paths[key]}`);
    }
    chmodSync(paths.secretFile, 0o640); // group-readable is readable by others too
    for (const key of ['operatorTokenFile', 'viewerTokenFile', 'tlsKeyFile'] as const) chmodSync(paths[key], 0o600);
    const fewer: string[] = [];
    loadConfig({ flags: { name: 'n1', ...paths }, env: {}, warnings: fewer });
    expect(fewer).toEqual([`secret file ${paths.secretFile} is readable by other users (mode 640); run chmod 600 ${paths.secretFile}`]);
    chmodSync(paths.secretFile, 0o600);
    const none: string[] = [];
    loadConfig({ flags: { name: 'n1', ...paths }, env: {}, warnings: none });
    expect(none).toEqual([]);
  });
});

// ---------------------------------------------------------------------------

describe('logs carry no secret', () => {
  it('the pino logger censors fields that would hold a secret or a credential', () => {
    const file = join(dir, 'pino.log');
    const fd = openSync(file, 'w');
    try {
      const log = createLogger({ level: 'debug', fd });
      log.info(
        {
          secret: 'S3CRET-top',
          credential: 'CRED-top',
          auth: { token: 'TOKEN-nested', user: 'alice' },
          config: { operatorToken: 'OPTOKEN', viewerToken: 'VTOKEN' },
        },
        'with secrets',
      );
      log.child({ layer: 'x' }).warn({ cmd: { credential: 'CRED-child' } }, 'child');
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(file, 'utf8');
    for (const leaked of ['S3CRET-top', 'CRED-top', 'TOKEN-nested', 'OPTOKEN', 'VTOKEN', 'CRED-child']) expect(text).not.toContain(leaked);
    expect(text).toContain('[redacted]');
    expect(text).toContain('alice');
  });
});

// ---------------------------------------------------------------------------

describe('TLS', () => {
  interface Pki {
    caFile: string;
    certFile: string;
    keyFile: string;
  }
  const pki: Record<string, Pki> = {};

  beforeAll(async () => {
    const ext = (cA: boolean) =>
      cA
        ? [
            { name: 'basicConstraints' as const, cA: true, critical: true },
            { name: 'keyUsage' as const, keyCertSign: true, cRLSign: true, digitalSignature: true },
          ]
        : [
            { name: 'basicConstraints' as const, cA: false },
            { name: 'keyUsage' as const, digitalSignature: true, keyEncipherment: true },
            { name: 'extKeyUsage' as const, serverAuth: true, clientAuth: true },
            {
              name: 'subjectAltName' as const,
              altNames: [
                { type: 7 as const, ip: '127.0.0.1' },
                { type: 2 as const, value: 'localhost' },
              ],
            },
          ];
    for (const caName of ['ca1', 'ca2']) {
      const ca = await generate([{ name: 'commonName', value: `pogo test ${caName}` }], { keyType: 'ec', algorithm: 'sha256', extensions: ext(true) });
      const caFile = join(dir, `${caName}.pem`);
      writeFileSync(caFile, ca.cert);
      for (const nodeName of ['x', 'y']) {
        const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
          keyType: 'ec',
          algorithm: 'sha256',
          ca: { key: ca.private, cert: ca.cert },
          extensions: ext(false),
        });
        const certFile = join(dir, `${caName}-${nodeName}.pem`);
        const keyFile = join(dir, `${caName}-${nodeName}.key`);
        writeFileSync(certFile, leaf.cert);
        writeFileSync(keyFile, leaf.private, { mode: 0o600 });
        pki[`${caName}-${nodeName}`] = { caFile, certFile, keyFile };
      }
    }
  });

  const tlsNode = async (name: string, log: MemoryLogger, tls: Partial<NodeConfigInput>, seeds: string[] = []): Promise<PogoNode> => {
    const n = await PogoNode.start(createNodeConfig({ name, secret: SIM_SECRET, port: 0, preset: 'local', seeds, ...tls }), { log });
    started.push(n);
    return n;
  };
  const files = (p: Pki, ca = p.caFile): Partial<NodeConfigInput> => ({ tlsCertFile: p.certFile, tlsKeyFile: p.keyFile, tlsCaFile: ca });
  const dialFailure = (log: MemoryLogger, node: string, code = 'unreachable') =>
    log.entries.find((e) => e.fields['node'] === node && e.fields['code'] === code && /handshake failed/.test(e.message));
  const certRefusal = (log: MemoryLogger, node: string) =>
    log.entries.find((e) => e.fields['node'] === node && e.fields['code'] === 'auth-failed' && /^connection refused: TLS client certificate/.test(e.message));

  it('nodes with certificates from the pinned CA link over mutual TLS', async () => {
    const log = new MemoryLogger();
    const a = await tlsNode('tls-a', log, files(pki['ca1-x']!));
    const b = await tlsNode('tls-b', log, files(pki['ca1-y']!), [a.address]);
    await until(() => a.upMembers().length === 2 && b.upMembers().length === 2, 10_000, 'mutual TLS link');
    expect(log.entries.filter((e) => e.fields['code'] === 'tls' || e.fields['code'] === 'auth-failed')).toEqual([]);
  });

  it('a node presenting a certificate from another CA is refused by the server, with the reason on both sides', async () => {
    const log = new MemoryLogger();
    const a = await tlsNode('tls-a', log, files(pki['ca1-x']!));
    // Trusts ca1 (so it accepts a's certificate) but holds a ca2 certificate.
    const c = await tlsNode('tls-c', log, files(pki['ca2-x']!, pki['ca1-x']!.caFile), [a.address]);
    await until(
      () => certRefusal(log, 'tls-a') !== undefined && dialFailure(log, 'tls-c', 'auth-failed') !== undefined,
      10_000,
      'refusal logged on both sides',
    );
    expect(certRefusal(log, 'tls-a')!.message).toMatch(/TLS client certificate refused: [A-Z_]+ \(it must chain to the CA in --tls-ca-file\)/);
    expect(dialFailure(log, 'tls-c', 'auth-failed')!.message).toMatch(/refused by peer( \S+)?, in its words: "TLS client certificate refused/);
    expect(a.upMembers()).toEqual(['tls-a']);
    expect(c.upMembers()).toEqual(['tls-c']);
  });

  it('a node that does not trust the server certificate refuses it (verification is on by default), with a clear reason', async () => {
    const log = new MemoryLogger();
    const a = await tlsNode('tls-a', log, files(pki['ca1-x']!));
    const d = await tlsNode('tls-d', log, files(pki['ca2-y']!), [a.address]);
    // A refusal ('tls'), not nobody there: the node does not take children alone at its ready timeout (socketio.test.ts).
    await until(() => dialFailure(log, 'tls-d', 'tls') !== undefined, 10_000, 'dial refusal logged');
    expect(dialFailure(log, 'tls-d', 'tls')!.message).toMatch(/connect failed: .*(unable to verify|self.signed|certificate).*not one this node trusts/i);
    expect(d.upMembers()).toEqual(['tls-d']);
    expect(a.upMembers()).toEqual(['tls-a']);
  });

  it('with a pinned CA, a dialler without a client certificate is refused', async () => {
    const log = new MemoryLogger();
    const a = await tlsNode('tls-a', log, files(pki['ca1-x']!));
    const e = await tlsNode('tls-e', log, { tlsCaFile: pki['ca1-x']!.caFile }, [a.address]);
    await until(
      () => certRefusal(log, 'tls-a') !== undefined && dialFailure(log, 'tls-e', 'auth-failed') !== undefined,
      10_000,
      'refusal logged on both sides',
    );
    expect(certRefusal(log, 'tls-a')!.message).toMatch(/TLS client certificate required/);
    expect(dialFailure(log, 'tls-e', 'auth-failed')!.message).toMatch(/refused by peer( \S+)?, in its words: "TLS client certificate required/);
    expect(e.upMembers()).toEqual(['tls-e']);
  });
});

// ---------------------------------------------------------------------------

const OPERATOR = 'hardening-operator-token-0123456789';
const VIEWER = 'hardening-viewer-token-0123456789';
const SECRET = 'hardening-cluster-secret-0123456789';

/** What each op does with each credential, on the link path (a member's CommandExecutor). */
function expectedOnLinks(op: CommandOp, who: 'operator' | 'viewer' | 'none' | 'wrong'): 'ok' | 'unauthorized' | 'forbidden' | 'domain' {
  // Open reads: any linked node may read them, whatever credential it sends (explain names no child yet: a domain error).
  if (op === 'view' || op === 'status' || op === 'whereis') return 'ok';
  if (op === 'explain') return 'domain';
  if (who === 'none' || who === 'wrong') return 'unauthorized';
  if (who === 'viewer' && !['audit', 'audit-all', 'logs', 'whoami'].includes(op)) return 'forbidden';
  return op === 'logs' ? 'domain' : 'ok';
}

describe('credentials on every command path, and no secret in any log line', () => {
  const log = new MemoryLogger([], {}, 1_000_000);
  const members: PogoNode[] = [];
  let observer: PogoNode;
  let gateway: Gateway;
  const sockets: IoSocket[] = [];
  const workers = new WorkerRegistry();
  workers.define('w', () => ({ stop() {} }));

  beforeAll(async () => {
    // Heartbeats a loaded test machine cannot miss: a stall is not what is tested here.
    const base = {
      secret: SECRET,
      port: 0,
      preset: 'local' as const,
      suspectAfterMs: 10_000,
      heartbeatTimeoutMs: 20_000,
      operatorToken: OPERATOR,
      viewerToken: VIEWER,
      logLevel: 'debug' as const,
    };
    members.push(await PogoNode.start(createNodeConfig({ name: 'h1', ...base }), { log, workers }));
    members.push(await PogoNode.start(createNodeConfig({ name: 'h2', ...base, seeds: [members[0]!.address] }), { log, workers }));
    observer = await PogoNode.start(
      createNodeConfig({
        name: 'hobs',
        secret: SECRET,
        port: 0,
        preset: 'local',
        suspectAfterMs: 10_000,
        heartbeatTimeoutMs: 20_000,
        role: 'observer',
        seeds: [members[0]!.address],
      }),
      { log, workers: new WorkerRegistry() },
    );
    const all = [...members, observer];
    await until(
      () =>
        all.every((n) => n.supervisor.isReady && n.upMembers().length === 3) &&
        members.every((m) => m.members().every((x) => x.role === 'observer' || x.ready)),
      15_000,
      'cluster ready',
    );
    gateway = await startGateway(observer, { intervalMs: 20 });
  });

  afterAll(async () => {
    for (const s of sockets.splice(0)) s.close();
    await gateway?.close();
    await Promise.all([observer, ...members].filter(Boolean).map((n) => n.stop('test over', 200)));
  });

  const fingerprint = (): string =>
    JSON.stringify({
      children: members[0]!.supervisor.whichChildren('global').map((c) => [c.id, c.node, c.pin ?? null]),
      draining: members[0]!.supervisor.draining(),
      paused: members[0]!.supervisor.rebalancingPaused,
    });

  /** Each op's named arguments (the same for a link and the gateway). */
  const argsFor = (op: CommandOp | 'explain', id: string): Record<string, unknown> => {
    switch (op) {
      case 'start':
        return { spec: { id, start: { worker: 'w' } } };
      case 'submit':
        return { specs: [{ id, start: { worker: 'w' } }] };
      case 'stop':
      case 'unpin':
      case 'logs':
      case 'explain':
      case 'restart':
      case 'whereis':
        return { id };
      case 'call':
        return { id, message: { op: 'ping' } };
      case 'move':
        return { id, node: 'h2' };
      case 'drain':
      case 'undrain':
        return { node: 'h2' };
      case 'forget':
        return { node: 'a-member-that-never-was' };
      default:
        return {};
    }
  };

  it('links (pogo ctl, observers): every op enforces operator versus viewer; refusals change nothing', async () => {
    const credentials = { operator: OPERATOR, viewer: VIEWER, none: '', wrong: 'not-a-token-of-this-cluster-at-all' } as const;
    for (const who of ['wrong', 'none', 'viewer'] as const) {
      const before = fingerprint();
      for (const op of COMMAND_OPS) {
        const reply = await observer.command('h1', op, argsFor(op, 'cred-1'), credentials[who], `tester-${who}`, 10_000);
        const expected = expectedOnLinks(op, who);
        if (expected === 'ok') expect(reply, `${op} as ${who}`).toMatchObject({ ok: true });
        else if (expected === 'domain') expect(reply, `${op} as ${who}`).toMatchObject({ ok: false, error: { code: 'not-found' } });
        else expect(reply, `${op} as ${who}`).toMatchObject({ ok: false, error: { code: expected } });
      }
      expect(fingerprint(), `state after ${who}`).toBe(before);
    }
    // The operator may do everything (in an order where each step makes sense).
    let restartedOn: string | undefined;
    const order: CommandOp[] = [
      'whoami',
      'view',
      'status',
      'start',
      'submit',
      'explain',
      'whereis',
      'call',
      'logs',
      'restart',
      'move',
      'unpin',
      'drain',
      'undrain',
      'pause',
      'resume',
      'stop',
      'audit',
      'audit-all',
      'forget',
    ];
    expect([...order].sort()).toEqual([...COMMAND_OPS].sort());
    for (const op of order) {
      // `logs` goes to the node running the child (as the gateway does).
      const to = op === 'logs' ? members[0]!.supervisor.whichChildren('global').find((c) => c.id === 'cred-1')!.node! : 'h1';
      const reply = await observer.command(to, op, argsFor(op, 'cred-1'), OPERATOR, 'tester-operator', 15_000);
      if (op === 'restart' && reply.ok) restartedOn = (reply.result as { node: string }).node;
      if (op === 'logs') expect(reply, op).toMatchObject({ ok: true, result: [] });
      else if (op === 'forget')
        expect(reply, op).toMatchObject({ ok: false, error: { code: 'unknown-node' } }); // allowed, and checked: no such member
      else if (op === 'call')
        expect(reply, op).toMatchObject({ ok: false, error: { code: 'no-handler' } }); // allowed, delivered: worker w takes no messages
      else if (op === 'whereis') expect(reply, op).toMatchObject({ ok: true, result: { node: expect.any(String), pid: expect.any(String) } });
      else expect(reply, op).toMatchObject({ ok: true });
    }
    expect(await observer.command('h1', 'whoami', {}, VIEWER, 't')).toEqual({ ok: true, result: { role: 'viewer' } });
    expect(await observer.command('h1', 'whoami', {}, OPERATOR, 't')).toEqual({ ok: true, result: { role: 'operator' } });
    // Commands sent to an observer are refused: it executes nothing.
    expect(await members[0]!.command('hobs', 'pause', {}, OPERATOR, 't', 5_000)).toMatchObject({ ok: false, error: { code: 'not-a-member' } });
    // Malformed commands fail with a typed error before they leave the node.
    let deep: unknown = 1;
    for (let i = 0; i < 5_000; i++) deep = [deep];
    expect(await observer.command('h1', 'start', { spec: deep } as never, OPERATOR, 't', 5_000)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await observer.command('h1', 'stop', { id: 'x' }, OPERATOR, 'x'.repeat(500), 5_000)).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    // Arguments the member cannot name (a script sending anything): refused by the member, naming the field.
    expect(await observer.command('h1', 'move', { id: 'cred-1' } as never, OPERATOR, 't', 5_000)).toEqual({
      ok: false,
      error: { code: 'bad-request', message: 'move: node: required' },
    });
    expect(await observer.command('h1', 'drain', { node: 'not a node name!' }, OPERATOR, 't', 5_000)).toMatchObject({
      ok: false,
      error: { code: 'bad-request', message: expect.stringMatching(/^drain: node: must be a node name/) },
    });
    expect(observer.upMembers()).toEqual(['h1', 'h2', 'hobs']);
    // The audit log has every refusal, with who asked.
    // Commands went to h1; h2 executed only the restart h1 forwarded to it (it runs the child), and audited it.
    const h2Reply = await observer.command('h2', 'audit', {}, VIEWER, 't');
    expect(h2Reply.ok ? h2Reply.result.map((e) => `${e.op} from ${e.from} by ${e.by}: ${e.result}`) : h2Reply).toEqual(
      restartedOn === 'h2' ? ['restart from h1 by tester-operator: ok'] : [],
    );
    const h1Reply = await observer.command('h1', 'audit', {}, VIEWER, 't');
    const h1Audit = h1Reply.ok ? h1Reply.result : [];
    expect(
      h1Audit
        .filter((e) => e.by === 'tester-viewer' && !e.ok)
        .map((e) => e.op)
        .sort(),
    ).toEqual(['call', 'drain', 'forget', 'logs', 'move', 'pause', 'restart', 'resume', 'start', 'stop', 'submit', 'undrain', 'unpin']);
  });

  it('a member without an operator token refuses every change, whatever the credential', async () => {
    sim = new SimCluster(803, { latencyMs: 1, jitterMs: 0 });
    await sim.start('m', [], { viewerToken: VIEWER });
    const obs = await sim.start('o', ['m'], { role: 'observer' });
    sim.settle(() => sim!.fullMesh(), 2_000, 'linked');
    for (const op of ['start', 'stop', 'move', 'unpin', 'drain', 'undrain', 'pause', 'resume'] as const) {
      for (const credential of [OPERATOR, VIEWER, '']) {
        const reply = await sim.resolve(obs.command('m', op, argsFor(op, 'x') as never, credential, 't', 5_000));
        expect(reply, `${op}`).toMatchObject({ ok: false, error: { code: 'commands-disabled' } });
      }
    }
    expect(await sim.resolve(obs.command('m', 'audit', {}, VIEWER, 't', 5_000))).toMatchObject({ ok: true });
  });

  const ui = (auth: Record<string, string>): Promise<IoSocket> =>
    new Promise((resolve, reject) => {
      const socket = ioConnect(gateway.url, { path: '/gateway', auth, transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(socket);
      socket.on('connect_error', (err) => reject(err));
      socket.on('patch', (_p: unknown, ack: () => void) => ack());
      socket.on('snapshot', () => resolve(socket));
    });
  const send = (s: IoSocket, op: string, args: unknown) =>
    s.timeout(20_000).emitWithAck('command', { op, args }) as Promise<{ ok: boolean; error?: { code: string } }>;

  it('the gateway: every op enforces operator versus viewer versus no credential; refusals change nothing', async () => {
    await expect(ui({ token: 'wrong-gateway-token' })).rejects.toThrow(/unauthorized/);
    await expect(ui({ token: gateway.token, credential: 'a-credential-the-cluster-does-not-know' })).rejects.toThrow(/unauthorized/);
    const sessions = {
      operator: await ui({ token: gateway.token, credential: OPERATOR, user: 'alice' }),
      viewer: await ui({ token: gateway.token, credential: VIEWER, user: 'vera' }),
      none: await ui({ token: gateway.token, user: 'nobody' }),
    };
    const ops = [...COMMAND_OPS, 'explain'] as const;
    for (const who of ['none', 'viewer'] as const) {
      const before = fingerprint();
      for (const op of ops) {
        const ack = await send(sessions[who], op, argsFor(op, 'gw-1'));
        // Member ops a UI may not send (view, whoami, and those the UI does not offer yet) are unknown at the gateway.
        if (!(UI_OPS as readonly string[]).includes(op)) expect(ack, `${op} as ${who}`).toMatchObject({ ok: false, error: { code: 'bad-request' } });
        else if (op === 'explain' || op === 'whereis') expect(ack.error?.code ?? 'ok', `${op} as ${who}`).not.toMatch(/read-only|unauthorized|forbidden/);
        else if ((op === 'audit' || op === 'logs') && who === 'viewer')
          expect(ack.error?.code ?? 'ok', `${op} as ${who}`).not.toMatch(/read-only|unauthorized|forbidden/);
        else expect(ack, `${op} as ${who}`).toMatchObject({ ok: false, error: { code: 'read-only' } });
      }
      expect(fingerprint(), `state after ${who}`).toBe(before);
    }
    for (const op of ['start', 'logs', 'whereis', 'move', 'unpin', 'drain', 'undrain', 'pause', 'resume', 'audit', 'stop'] as const) {
      const ack = await send(sessions.operator, op, argsFor(op, 'gw-1'));
      expect(ack, op).toMatchObject({ ok: true });
      // An operator's call is delivered (worker w registered no handler): the child's answer, not a refusal.
      if (op === 'start')
        expect(await send(sessions.operator, 'call', argsFor('call', 'gw-1')), 'call').toMatchObject({ ok: false, error: { code: 'no-handler' } });
    }
  });

  // Found by fuzzing: `logs` turns its first argument into a string with String(), which throws
  // for {"toString":1}; the gateway's command handler does not catch it, so the rejection is
  // unhandled and ends the observer process. Enable once gateway.ts catches errors in execute()
  // (and takes the id only when it is a string).
  it('the gateway answers arguments that cannot become strings with a typed error, and keeps serving', async () => {
    const viewer = await ui({ token: gateway.token, credential: VIEWER });
    for (const op of ['logs', 'explain', 'stop']) {
      for (const arg of ['{"toString":1}', '{"valueOf":{},"toString":{}}']) {
        for (const args of [[JSON.parse(arg)], { id: JSON.parse(arg) }, JSON.parse(arg)]) {
          const ack = await send(viewer, op, args);
          expect(ack, `${op} ${JSON.stringify(args)}`).toMatchObject({ ok: false, error: { code: 'bad-request' } });
        }
      }
    }
    expect(observer.running).toBe(true);
  });

  it('no log line of the whole run holds the secret, a token or the gateway token', async () => {
    // More refusals worth logging: a node with the wrong secret, and a wrong credential at the gateway.
    const intruder = await PogoNode.start(
      createNodeConfig({ name: 'intruder', secret: 'the-wrong-secret-0123456789', port: 0, preset: 'local', seeds: [members[0]!.address] }),
      { log },
    );
    started.push(intruder);
    await until(() => log.entries.some((e) => e.fields['code'] === 'auth-failed'), 10_000, 'intruder refused');
    await expect(ui({ token: gateway.token, credential: `${OPERATOR}-almost` })).rejects.toThrow(/unauthorized/);
    await expect(ui({ token: `${gateway.token}x` })).rejects.toThrow(/unauthorized/);
    const serialise = (e: CapturedLog): string =>
      JSON.stringify({ level: e.level, message: e.message, fields: e.fields }, (_k, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : typeof v === 'bigint' ? String(v) : v,
      );
    const lines = log.entries.map(serialise);
    expect(lines.length).toBeGreaterThan(15);
    // The intruder's refusal is logged on both sides, with the reason.
    expect(log.entries.some((e) => e.fields['node'] === 'h1' && e.fields['peer'] === 'intruder' && e.fields['code'] === 'auth-failed')).toBe(true);
    for (const [what, value] of [
      ['cluster secret', SECRET],
      ['operator token', OPERATOR],
      ['viewer token', VIEWER],
      ['gateway token', gateway.token],
      ['wrong secret', 'the-wrong-secret-0123456789'],
    ] as const) {
      const leaks = lines.filter((l) => l.includes(value));
      expect(leaks, `${what} in the log`).toEqual([]);
    }
  });
});

/** Fake dialers (see fakeDialer) to node `a`, one per name with its protocol, pumped until every one is linked. */
function linkedFakes<N extends string>(
  s: SimCluster,
  a: PogoNode,
  protocols: Record<N, { major: number; minor: number }>,
): Record<N, ReturnType<typeof fakeDialer>> {
  const fakes = Object.fromEntries(
    Object.entries(protocols).map(([name, protocol]) => [name, fakeDialer(s, name, SimCluster.address('a'), protocol as { major: number; minor: number })]),
  ) as Record<N, ReturnType<typeof fakeDialer>>;
  s.clock.runUntil(
    () => {
      for (const f of Object.values<ReturnType<typeof fakeDialer>>(fakes)) f.pump();
      return Object.keys(fakes).every((name) => a.member(name)?.status === 'up');
    },
    1_000,
    5,
  );
  return fakes;
}

// ---------------------------------------------------------------------------

/** `frames` with every batch replaced by the frames inside it. */
function unbatched(frames: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return frames.flatMap((m) => (m['t'] === 'batch' ? (m['frames'] as Array<Record<string, unknown>>) : [m]));
}

/** The echoes in the pings among `frames` (looking inside batches). */
function echoesIn(frames: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return unbatched(frames).flatMap((m) => (m['t'] === 'ping' && m['echo'] ? [m['echo'] as Record<string, unknown>] : []));
}

describe('the replicated store refuses bad input from a peer', () => {
  it('malformed and oversized deltas and digests, a digest for an unknown scope, registers from the far future: each dropped with a logged reason; the node and its store go on', async () => {
    sim = new SimCluster(813, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    await sim.until(() => a.supervisor.isReady, 1_000, 'ready');
    const { peer } = linkedFakes(sim, a, { peer: { ...PROTOCOL_VERSION } });
    const good = {
      specs: [
        {
          rev: `${(sim.clock.now() + 1).toString(36).padStart(10, '0')}.000001.peer`,
          spec: { id: 'good', start: { worker: 'w' }, restart: 'permanent', shutdown: 5000, maxRestarts: 3, maxSeconds: 5, labels: {}, handoff: 'stop-first' },
        },
      ],
    };
    const future = {
      specs: [{ rev: `${(sim.clock.now() + 100 * 3_600_000).toString(36).padStart(10, '0')}.000001.peer`, spec: { ...good.specs[0]!.spec, id: 'future' } }],
    };
    const invalidBefore = a.linkStats().invalidFrames;
    let seq = 1;
    peer.conn.send({
      t: 'rs.delta',
      scope: 'pogo',
      seq: seq++,
      entries: [
        ['c:good', good],
        ['c:future', future],
        ['c:bad', { specs: 'no' }],
        ['zz:key', {}],
      ],
    });
    peer.conn.send({ t: 'rs.delta', scope: 'pogo', seq: seq++, entries: Array.from({ length: 1_001 }, (_, i) => [`c:x${i}`, good]) }); // oversized
    peer.conn.send({ t: 'rs.delta', scope: 'pogo', seq: 0, entries: [['c:good', good]] }); // malformed seq
    peer.conn.send({ t: 'rs.digest', scope: 'pogo', seq, count: 1, level: 3, buckets: [1, 2] }); // buckets do not match the level
    peer.conn.send({ t: 'rs.digest', scope: 'not-a-scope-of-ours', seq: 1, count: 1, level: 0, buckets: [5] });
    peer.conn.send({ t: 'rs.pull', scope: 'pogo', pull: 1, level: 12, buckets: [4096], have: [] }); // bucket past the level
    sim.clock.advance(50);
    const store = a.supervisor.store();
    expect(a.supervisor.whichChildren('global').map((c) => c.id)).toEqual(['good']);
    expect(store.children).toBe(1);
    expect(a.linkStats().invalidFrames - invalidBefore).toBe(4);
    const warnings = sim.log.entries.filter((e) => e.level === 'warn' && e.fields['node'] === 'a').map((e) => e.message);
    expect(warnings.filter((m) => /dropped a register from peer/.test(m))).toHaveLength(3); // the future one, the bad one, the unknown key
    expect(warnings.some((m) => /store message for a scope this node does not keep/.test(m))).toBe(true);
    expect(a.member('peer')?.status).toBe('up');
    expect(peer.closed()).toBeUndefined();
  });
});

describe('protocol version negotiation (rolling upgrades)', () => {
  const newer = { major: PROTOCOL_VERSION.major, minor: PROTOCOL_VERSION.minor + 1 };

  it('a peer one minor version newer joins; its unknown fields are dropped and unknown message types ignored with a debug line', async () => {
    sim = new SimCluster(804, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const fake = fakeDialer(sim, 'future', SimCluster.address('a'), newer, { features: ['compression'] });
    sim.clock.runUntil(
      () => {
        fake.pump();
        return fake.received.some((m) => m['t'] === 'welcome') || fake.closed() !== undefined;
      },
      1_000,
      5,
    );
    expect(fake.closed()).toBeUndefined();
    expect(a.member('future')?.status).toBe('up');
    expect(sim.log.entries.some((e) => e.fields['peer'] === 'future' && /newer minor protocol version/.test(e.message))).toBe(true);
    const invalidBefore = a.linkStats().invalidFrames;
    // Gossip with a field this version does not know, in the entry and in the message.
    fake.conn.send({
      t: 'gossip',
      members: [
        {
          name: 'future',
          incarnation: INC,
          startedAt: 1,
          address: 'future:4370',
          role: 'member',
          labels: { zone: 'z9' },
          workers: [],
          version: 2,
          status: 'up',
          gpu: 'h100',
        },
      ],
      digest: 'abc',
    });
    fake.conn.send({ t: 'shard.hint', shards: [1, 2, 3] });
    fake.conn.send({ t: 'ping', seq: 7, sentAt: 1, priority: 'high' });
    sim.clock.advance(50);
    expect(a.member('future')?.labels).toEqual({ zone: 'z9' });
    // Its ping (with a field we do not know) is echoed in our next ping.
    sim.clock.runUntil(() => echoesIn(fake.received).length > 0, 2_000, 5);
    expect(echoesIn(fake.received)[0]).toMatchObject({ sentAt: 1 });
    expect(sim.log.entries.some((e) => e.level === 'debug' && e.fields['t'] === 'shard.hint' && /newer protocol version ignored/.test(e.message))).toBe(true);
    expect(a.linkStats().invalidFrames).toBe(invalidBefore);
    expect(a.member('future')?.status).toBe('up');
    expect(fake.closed()).toBeUndefined();
  });

  it('a node dialling a peer one minor version newer links too (the newer challenge carries extra fields)', async () => {
    sim = new SimCluster(805, { latencyMs: 1, jitterMs: 0 });
    // A fake acceptor at future:4370, speaking minor+1.
    const listener = sim.network.transport('future:4370');
    const nonce = 'abcdef0123456789abcdef0123456789';
    let welcomed = false;
    let conn: Conn | undefined;
    await listener.listen((c) => {
      conn = c;
      c.setHandlers({
        onOpen: () => {},
        onClose: () => {},
        onMessage: (raw) => {
          const m = raw as Record<string, unknown>;
          if (m['t'] === 'hello') {
            const proof = handshakeProof(
              SIM_SECRET,
              'acceptor',
              'pogo',
              { name: String(m['name']), incarnation: String(m['incarnation']), nonce: String(m['nonce']) },
              { name: 'future', incarnation: INC, nonce },
            );
            c.send({
              t: 'challenge',
              cluster: 'pogo',
              protocol: newer,
              name: 'future',
              incarnation: INC,
              startedAt: 1,
              address: 'future:4370',
              role: 'member',
              nonce,
              proof,
              features: ['compression'],
            });
          } else if (m['t'] === 'auth') {
            welcomed = true;
            c.send({ t: 'welcome', session: 'xyz' });
          }
        },
      });
    });
    const a = await sim.start('a', ['future']);
    sim.settle(() => a.member('future')?.status === 'up', 2_000, 'linked to the newer peer');
    expect(welcomed).toBe(true);
    conn?.close('test over');
  });

  it("heartbeats: no pongs; our next ping echoes the peer's (seq, sentAt, held) and gives the round trip; a probe is answered at once", async () => {
    sim = new SimCluster(811, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const { same } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    const sentAt = sim.clock.now();
    same.conn.send({ t: 'ping', seq: 3, sentAt });
    sim.clock.advance(50);
    const pongs = (frames: Array<Record<string, unknown>>) => unbatched(frames).filter((m) => m['t'] === 'pong');
    sim.clock.runUntil(() => echoesIn(same.received).length > 0, 2_000, 5);
    expect(pongs(same.received)).toEqual([]);
    const echo = echoesIn(same.received)[0]!;
    expect(echo).toMatchObject({ seq: 3, sentAt });
    // Held from its arrival (1 ms after sentAt) until our ping went out.
    expect(echo['heldMs']).toBeGreaterThan(0);
    // The peer echoes our ping 40 ms after it arrived: the round trip is the time on the wire only.
    const ours = unbatched(same.received).find((m) => m['t'] === 'ping')!;
    sim.clock.advance(40);
    same.conn.send({
      t: 'ping',
      seq: 4,
      sentAt: sim.clock.now(),
      echo: { seq: ours['seq'], sentAt: ours['sentAt'], heldMs: sim.clock.now() - (ours['sentAt'] as number) - 1 },
    });
    sim.clock.advance(5);
    expect(a.status().links.find((l) => l.peer === 'same')?.rttMs).toBe(2);
    // A probe (reply: true) is answered at once, not at the next heartbeat, and the answer is no probe itself.
    same.received.length = 0;
    same.conn.send({ t: 'ping', seq: 5, sentAt: sim.clock.now(), reply: true });
    sim.clock.advance(2);
    const answer = unbatched(same.received).find((m) => m['t'] === 'ping');
    expect(answer).toMatchObject({ echo: { seq: 5 } });
    expect(answer?.['reply']).toBeUndefined();
  });

  it('a peer of the same version sending an unknown message type is an invalid frame (logged as a warning), not fatal', async () => {
    sim = new SimCluster(806, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const { same: peer } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    peer.conn.send({ t: 'shard.hint', shards: [1] });
    peer.conn.send({ t: 'ping', seq: 1, sentAt: 1, priority: 'high' });
    sim.clock.advance(50);
    expect(a.linkStats().invalidFrames).toBe(2);
    expect(sim.log.entries.filter((e) => e.level === 'warn' && e.fields['peer'] === 'same' && e.message === 'invalid frame dropped')).toHaveLength(2);
    expect(a.member('same')?.status).toBe('up');
  });

  it('batches: a peer gets one batch per turn, its frames in order', async () => {
    sim = new SimCluster(808, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const { same } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    const pid = a.newPid();
    for (let i = 0; i < 50; i++) a.groups.join('batching', `g${i}`, pid, { i });
    a.groups.leave('batching', 'g0', pid);
    sim.clock.advance(20);
    const joinsOf = (frames: Array<Record<string, unknown>>) => frames.filter((m) => m['t'] === 'pg.join' && m['scope'] === 'batching').map((m) => m['group']);
    const batches = same.received.filter((m) => m['t'] === 'batch');
    expect(batches.length).toBeGreaterThan(0);
    expect(joinsOf(same.received)).toEqual([]); // none alone
    const inner = batches.flatMap((b) => b['frames'] as Array<Record<string, unknown>>);
    expect(joinsOf(inner)).toEqual(Array.from({ length: 50 }, (_, i) => `g${i}`));
    expect(inner.findIndex((m) => m['t'] === 'pg.leave' && m['group'] === 'g0')).toBeGreaterThan(inner.findIndex((m) => m['group'] === 'g49'));
    expect(a.linkStats().batchesOut).toBeGreaterThan(0);
  });

  it('call replies made in one turn go as one batch, flushed at the end of that turn (no timer turn)', async () => {
    sim = new SimCluster(814, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const { same } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    const pid = a.newPid(); // no such instance: a answers each call at once (`moved`)
    same.conn.send({ t: 'batch', frames: [1, 2, 3].map((i) => ({ t: 'call', cid: `c${i}`, id: 'kv', pid, body: { i }, timeoutMs: 1000 })) });
    sim.clock.advance(1); // the batch arrives; a answers the three calls in that turn
    const sentBefore = a.linkStats().transportFramesOut;
    await new Promise((resolve) => setImmediate(resolve)); // the turn's microtasks ran (answers, then the flush); the manual clock did not move
    expect(a.linkStats().transportFramesOut).toBe(sentBefore + 1);
    same.received.length = 0;
    sim.clock.advance(1); // the batch reaches the fake
    const replies = same.received
      .filter((m) => m['t'] === 'batch')
      .flatMap((b) => (b['frames'] as Array<Record<string, unknown>>).filter((f) => f['t'] === 'call.reply'));
    expect(replies.map((r) => [r['cid'], (r['error'] as { code: string } | undefined)?.code])).toEqual([
      ['c1', 'moved'],
      ['c2', 'moved'],
      ['c3', 'moved'],
    ]);
    expect(same.received.filter((m) => m['t'] === 'call.reply')).toEqual([]); // none alone
  });

  it('periodic gossip rides with the next heartbeat (one frame, not two)', async () => {
    sim = new SimCluster(812, { latencyMs: 1, jitterMs: 0 });
    // Gossip rounds between heartbeats (500 ms), never at the same instant as one.
    const a = await sim.start('a', [], { heartbeatIntervalMs: 500, suspectAfterMs: 1_500, heartbeatTimeoutMs: 3_000, gossipIntervalMs: 730 });
    const { same } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    same.received.length = 0;
    // Ten seconds of gossip rounds; the fake pings so that the link stays up.
    for (let t = 0; t < 10_000; t += 250) {
      same.conn.send({ t: 'ping', seq: t, sentAt: sim.clock.now() });
      sim.clock.advance(250);
    }
    expect(a.member('same')?.status).toBe('up');
    // Every gossip frame came inside a batch whose other frame is that heartbeat's ping.
    const gossipAlone = same.received.filter((m) => m['t'] === 'gossip');
    const withGossip = same.received.filter((m) => m['t'] === 'batch' && (m['frames'] as Array<Record<string, unknown>>).some((f) => f['t'] === 'gossip'));
    expect(gossipAlone).toEqual([]);
    expect(withGossip.length).toBeGreaterThan(0);
    for (const batch of withGossip) expect((batch['frames'] as Array<Record<string, unknown>>).map((f) => f['t'])).toEqual(['gossip', 'ping']);
    // What went on the wire: one frame per batch or lone message, fewer than the messages.
    const stats = a.linkStats();
    expect(stats.transportFramesOut).toBeLessThan(stats.framesOut);
  });

  it('a large sync goes in parts of 500 groups', async () => {
    sim = new SimCluster(810, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const pid = a.newPid();
    for (let i = 0; i < 1_200; i++) a.groups.join('bulk', `g${i}`, pid);
    const { same } = linkedFakes(sim, a, { same: { ...PROTOCOL_VERSION } });
    sim.clock.advance(20);
    const syncs = (frames: Array<Record<string, unknown>>) => frames.filter((m) => m['t'] === 'pg.sync' && m['scope'] === 'bulk');
    expect(syncs(same.received).map((m) => [(m['groups'] as unknown[]).length, m['more']])).toEqual([
      [500, true],
      [500, true],
      [200, undefined],
    ]);
  });

  it('a batch from a peer: each inner frame is handled as if alone; bad inner frames, nested and malformed batches are dropped, not fatal', async () => {
    sim = new SimCluster(809, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    const { peer } = linkedFakes(sim, a, { peer: { ...PROTOCOL_VERSION } });
    const pid = `peer/${INC}/p1`;
    peer.conn.send({ t: 'pg.sync', scope: 'remote', groups: [] });
    peer.conn.send({
      t: 'batch',
      frames: [
        { t: 'ping', seq: 1, sentAt: 1 },
        { t: 'pg.join', scope: 'remote', group: 'ok1', entries: [{ pid }] },
        { t: 'pg.join', scope: 'remote', group: 'bad', entries: [{ pid: 'not a pid' }] },
        { t: 'batch', frames: [{ t: 'ping', seq: 2, sentAt: 2 }] },
        { t: 'pg.join', scope: 'remote', group: 'ok2', entries: [{ pid }] },
      ],
    });
    peer.conn.send({ t: 'batch', frames: 'nope' });
    peer.conn.send({ t: 'batch', frames: [] });
    sim.clock.advance(50);
    sim.clock.runUntil(() => echoesIn(peer.received).length > 0, 2_000, 5);
    // The ping inside the batch is echoed; the one inside the nested batch was dropped.
    expect(echoesIn(peer.received).map((e) => e['sentAt'])).toEqual([1]);
    expect(a.groups.whichGroups('remote')).toEqual(['ok1', 'ok2']);
    expect(a.linkStats().invalidFrames).toBe(4);
    expect(sim.log.entries.filter((e) => e.level === 'warn' && e.fields['peer'] === 'peer' && e.message === 'invalid frame dropped')).toHaveLength(4);
    expect(a.member('peer')?.status).toBe('up');
    expect(peer.closed()).toBeUndefined();
  });

  it('a different major version is refused with a clear reason naming both versions, on both sides (a 1.x node of the first release, a future 3.0)', async () => {
    sim = new SimCluster(807, { latencyMs: 1, jitterMs: 0 });
    await sim.start('a');
    for (const [name, version] of [
      ['old', { major: 1, minor: 2 }],
      ['next', { major: PROTOCOL_VERSION.major + 1, minor: 0 }],
    ] as const) {
      const peer = fakeDialer(sim, name, SimCluster.address('a'), version);
      sim.clock.advance(50);
      expect(peer.received).toEqual([
        {
          t: 'reject',
          code: 'version-mismatch',
          message: `protocol ${version.major}.${version.minor} is incompatible with ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`,
        },
      ]);
      expect(peer.closed()).toBeDefined();
      expect(sim.log.entries.some((e) => e.level === 'warn' && e.fields['code'] === 'version-mismatch' && e.fields['peer'] === name)).toBe(true);
    }
    expect(sim.mustGet('a').upMembers()).toEqual(['a']);
  });
});
