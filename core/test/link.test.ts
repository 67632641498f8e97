/**
 * Link handshake and the one-link-per-pair rule, on the in-memory network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../src/protocol.js';
import { ClientSession, SessionError } from '../src/client-session.js';
import { handshakeProof } from '../src/link.js';
import { SIM_SECRET, SimCluster } from './support/sim.js';
import { StallableClock } from './support/stallable-clock.js';

let sim: SimCluster | undefined;
afterEach(() => sim?.stopAll());

const warnings = (cluster: SimCluster, node: string) =>
  cluster.log.entries.filter((e) => e.fields['node'] === node && (e.level === 'warn' || e.level === 'error'));

describe('heartbeats', () => {
  it('a node that stalled longer than the heartbeat timeout does not blame its peers for the silence', async () => {
    sim = new SimCluster(29, { latencyMs: 1, jitterMs: 0 });
    const clock = new StallableClock(sim.clock);
    const a = await sim.start('a', [], {}, undefined, clock);
    const b = await sim.start('b', ['a'], {}, undefined, clock);
    sim.settle(() => sim!.fullMesh(), 2_000, 'a-b linked');
    const downs: string[] = [];
    for (const n of [a, b]) n.on('member-down', (e) => downs.push(e.member.name));
    // Both processes stall (timers late, nothing sent or read) for twice the timeout.
    clock.held = true;
    sim.clock.advance(6_000);
    clock.release();
    sim.clock.advance(5_000);
    expect(downs).toEqual([]);
    expect(a.member('b')?.status).toBe('up');
    expect(a.linkStats().stalledMs).toBeGreaterThanOrEqual(5_000);
    // A peer that is really silent is still dropped.
    sim.network.partition([SimCluster.address('a')], [SimCluster.address('b')]);
    sim.clock.advance(4_000);
    expect(downs.sort()).toEqual(['a', 'b']);
  });
});

describe('silence thresholds', () => {
  it('a silent peer is suspected and dropped when its thresholds pass, not at the next heartbeat tick (lan timing: 1 s pings)', async () => {
    sim = new SimCluster(31, { latencyMs: 1, jitterMs: 0 });
    const timing = { heartbeatIntervalMs: 1_000, suspectAfterMs: 2_000, heartbeatTimeoutMs: 3_000 };
    const a = await sim.start('a', [], timing);
    sim.clock.advance(370); // b's ticks fall between a's
    await sim.start('b', ['a'], timing);
    sim.settle(() => sim!.fullMesh(), 2_000, 'a-b linked');
    sim.clock.advance(5_000);
    const seen: Array<[string, number]> = [];
    a.on('member-suspect', (e) => e.suspect && seen.push(['suspect', sim!.clock.now()]));
    a.on('member-down', () => seen.push(['down', sim!.clock.now()]));
    sim.network.partition([SimCluster.address('a')], [SimCluster.address('b')]);
    sim.clock.advance(5);
    const lastHeard = sim.clock.now() - a.status().links.find((l) => l.peer === 'b')!.lastHeardMsAgo;
    for (let i = 0; i < 500 && !seen.some(([k]) => k === 'down'); i++) sim.clock.advance(10);
    // On the thresholds (within the 10 ms steps of this loop), not up to a 1 s tick later.
    expect(seen.map(([k, at]) => [k, Math.floor((at - lastHeard) / 10) * 10])).toEqual([
      ['suspect', 2_000],
      ['down', 3_000],
    ]);
  });
});

describe('leaving', () => {
  it('a node that leaves while its auth is on its way: the acceptor, which takes the link, sees it leave, not go down', async () => {
    sim = new SimCluster(33, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a');
    sim.settle(() => true, 10, 'start');
    const events: string[] = [];
    a.on('member-up', (e) => events.push(`up ${e.member.name}`));
    a.on('member-down', (e) => events.push(`down ${e.member.name} (${e.reason})`));
    a.on('member-left', (e) => events.push(`left ${e.member.name}`));
    let authSent = false;
    sim.network.tap = (from, _to, message) => {
      if (from === SimCluster.address('b') && (message as { t?: string }).t === 'auth') authSent = true;
    };
    const b = await sim.start('b', ['a']);
    // Millisecond by millisecond to the moment b's auth is out and a's welcome not yet back.
    sim.settle(() => authSent, 1_000, 'b sends its auth');
    expect(b.upMembers()).toEqual(['b']);
    let stopped = false;
    void b.stop('done').then(() => (stopped = true));
    await sim.until(() => stopped, 2_000, 'b stopped');
    await sim.run(100);
    expect(events).toEqual(['up b', 'left b']);
  });
});

describe('link handshake', () => {
  it('links two nodes and never puts the secret on the wire', async () => {
    sim = new SimCluster(21);
    const frames: string[] = [];
    sim.network.tap = (_from, _to, message) => frames.push(JSON.stringify(message));
    await sim.start('a');
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 1_000, 'a-b linked');
    expect(frames.some((f) => f.includes('"t":"challenge"'))).toBe(true);
    expect(frames.some((f) => f.includes(SIM_SECRET))).toBe(false);
  });

  it('refuses a peer with the wrong secret; the cluster is unaffected', async () => {
    sim = new SimCluster(22);
    await sim.start('a');
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 1_000, 'a-b linked');
    const intruder = await sim.start('evil', ['a'], { secret: 'not-the-cluster-secret' });
    sim.clock.advance(2_000);
    expect(intruder.upMembers()).toEqual(['evil']);
    expect(sim.mustGet('a').upMembers()).toEqual(['a', 'b']);
    expect(warnings(sim, 'a').some((e) => e.fields['code'] === 'auth-failed' && e.fields['peer'] === 'evil')).toBe(true);
    expect(warnings(sim, 'evil').some((e) => e.fields['code'] === 'auth-failed')).toBe(true);
    intruder.kill();
  });

  it('refuses a peer of another cluster', async () => {
    sim = new SimCluster(23);
    await sim.start('a');
    const other = await sim.start('b', ['a'], { cluster: 'staging' });
    sim.clock.advance(1_000);
    expect(other.upMembers()).toEqual(['b']);
    expect(warnings(sim, 'b').some((e) => e.fields['code'] === 'cluster-mismatch' && /staging/.test(e.message))).toBe(true);
  });

  it('refuses an incompatible protocol version with a clear reason', async () => {
    sim = new SimCluster(24);
    await sim.start('a');
    sim.settle(() => true, 10, 'start');
    const raw = sim.network.transport('raw:1').dial(SimCluster.address('a'));
    const received: unknown[] = [];
    let closed = '';
    raw.setHandlers({
      onOpen: () =>
        raw.send({
          t: 'hello',
          cluster: 'pogo',
          protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 },
          name: 'future',
          incarnation: 'abcdef0123456789',
          startedAt: 1,
          address: 'raw:1',
          role: 'member',
          nonce: '0'.repeat(32),
        }),
      onMessage: (m) => received.push(m),
      onClose: (r) => (closed = r),
    });
    sim.clock.advance(100);
    expect(received).toEqual([expect.objectContaining({ t: 'reject', code: 'version-mismatch' })]);
    expect(closed).not.toBe('');
  });

  it('keeps exactly one link when both sides dial each other at once', async () => {
    sim = new SimCluster(25);
    const a = await sim.start('a', ['b']);
    const b = await sim.start('b', ['a']);
    const ups = { a: 0, b: 0 };
    a.on('member-up', () => ups.a++);
    b.on('member-up', () => ups.b++);
    sim.settle(() => sim!.fullMesh(), 2_000, 'a-b linked');
    sim.clock.advance(5_000);
    expect(ups).toEqual({ a: 1, b: 1 });
    expect(a.status().links).toHaveLength(1);
    expect(b.status().links).toHaveLength(1);
    expect(a.status().links[0]!.direction).not.toBe(b.status().links[0]!.direction);
  });

  it('refuses a second process that claims a live node name', async () => {
    sim = new SimCluster(26);
    const a = await sim.start('a');
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 1_000, 'linked');
    const incarnation = a.incarnation;
    // Same name, different address: an operator mistake.
    const impostor = await (async () => {
      const { PogoNode, createNodeConfig } = await import('../src/node.js');
      return PogoNode.start(createNodeConfig({ name: 'a', secret: SIM_SECRET, seeds: ['b:4370'] }), {
        clock: sim.clock,
        random: sim.random,
        log: sim.log,
        transport: sim.network.transport('a2:4370'),
      });
    })();
    sim.clock.advance(3_000);
    expect(sim.mustGet('b').member('a')?.incarnation).toBe(incarnation);
    expect(sim.mustGet('b').member('a')?.status).toBe('up');
    expect(impostor.upMembers()).toEqual(['a']);
    expect(sim.log.entries.some((e) => e.fields['code'] === 'duplicate-name')).toBe(true);
    impostor.kill();
  });

  it('ignores a seed that points at itself', async () => {
    sim = new SimCluster(27);
    const a = await sim.start('a', ['a']);
    sim.clock.advance(5_000);
    expect(a.status().dialing).toEqual([]);
    expect(warnings(sim, 'a')).toEqual([]);
  });

  it('keeps retrying a seed that does not answer, with backoff, and logs sparingly; a node alone retries sooner', async () => {
    sim = new SimCluster(28);
    const a = await sim.start('a', ['nobody', 'b'], { reconnectBaseMs: 100, reconnectMaxMs: 2_000 });
    const attempts = (): number => a.status().dialing.find((d) => d.address === 'nobody:4370')?.attempts ?? 0;
    sim.clock.advance(60_000);
    // Alone (linked to no one), the backoff is capped at a fifth of the maximum, 400 ms (with jitter ≥ 50%):
    // 150 to 300 attempts in a minute, not thousands. Race "the lone node of a whole-cluster restart".
    expect(attempts()).toBeGreaterThan(120);
    expect(attempts()).toBeLessThan(320);
    // Linked to b, the seed that still does not answer is retried at most every 2 s: 30 to 60 attempts a minute.
    await sim.start('b', [], { reconnectBaseMs: 100, reconnectMaxMs: 2_000 });
    sim.settle(() => a.upMembers().includes('b'), 5_000, 'a linked to b');
    const before = attempts();
    sim.clock.advance(60_000);
    expect(attempts() - before).toBeGreaterThan(25);
    expect(attempts() - before).toBeLessThan(70);
    const logged = warnings(sim, 'a').filter((e) => e.fields['address'] === 'nobody:4370');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThanOrEqual(Math.ceil(Math.log2(attempts())) + 1);
    // When the seed finally comes up, the node joins it.
    await sim.start('nobody');
    sim.settle(() => a.upMembers().includes('nobody'), 3_000, 'joined late seed');
  });

  it('rejects garbage on an unauthenticated connection and keeps serving', async () => {
    sim = new SimCluster(29);
    const a = await sim.start('a');
    const garbage: unknown[] = ['hello', 42, null, { t: 'hello' }, { t: 'gossip', members: [] }, { t: 'auth', proof: 'f'.repeat(64) }];
    for (const frame of garbage) {
      const raw = sim.network.transport(`raw${garbage.indexOf(frame)}:1`).dial(SimCluster.address('a'));
      const got: unknown[] = [];
      raw.setHandlers({ onOpen: () => raw.send(frame), onMessage: (m) => got.push(m), onClose: () => {} });
      sim.clock.advance(50);
      expect(got).toEqual([expect.objectContaining({ t: 'reject', code: 'malformed' })]);
    }
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 1_000, 'still links after garbage');
    expect(a.running).toBe(true);
  });

  it('drops a handshake that never completes after the handshake timeout', async () => {
    sim = new SimCluster(30);
    await sim.start('a', [], { handshakeTimeoutMs: 1_000 });
    const raw = sim.network.transport('slow:1').dial(SimCluster.address('a'));
    let closedAt = -1;
    raw.setHandlers({ onOpen: () => {}, onMessage: () => {}, onClose: () => (closedAt = sim!.clock.now()) });
    const t0 = sim.clock.now();
    sim.clock.advance(2_000);
    expect(closedAt - t0).toBeGreaterThanOrEqual(1_000);
    expect(closedAt - t0).toBeLessThan(1_100);
  });

  it('computes role-bound proofs that differ for dialer and acceptor', () => {
    const d = { name: 'a', incarnation: 'aaaaaaaaaaaaaaaa', nonce: '1'.repeat(32) };
    const c = { name: 'b', incarnation: 'bbbbbbbbbbbbbbbb', nonce: '2'.repeat(32) };
    expect(handshakeProof('s', 'dialer', 'x', d, c)).not.toBe(handshakeProof('s', 'acceptor', 'x', d, c));
    expect(handshakeProof('s', 'dialer', 'x', d, c)).not.toBe(handshakeProof('t', 'dialer', 'x', d, c));
    expect(handshakeProof('s', 'dialer', 'x', d, c)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('client links (pogo ctl): one member, commands only, no trace', () => {
  const OPERATOR = 'operator-token-0123456789';
  const timing = { heartbeatIntervalMs: 1_000, suspectAfterMs: 2_000, heartbeatTimeoutMs: 3_000, handshakeTimeoutMs: 2_000 };

  /** A client session on the simulated network (its own address, port 0: it never listens). */
  function client(cluster: SimCluster, seeds: string[], over: { secret?: string; cluster?: string; name?: string } = {}): Promise<ClientSession> {
    return ClientSession.open({
      name: over.name ?? 'ctl-host-1',
      cluster: over.cluster ?? 'pogo',
      secret: over.secret ?? SIM_SECRET,
      seeds: seeds.map(SimCluster.address),
      timing,
      transport: cluster.network.transport('ctl-host:0'),
      clock: cluster.clock,
      random: cluster.random,
      log: cluster.log,
      timeoutMs: 5_000,
    });
  }

  it('links to the first member, executes its commands there, and leaves no member entry, gossip, group or link behind', async () => {
    sim = new SimCluster(41, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { operatorToken: OPERATOR });
    const b = await sim.start('b', ['a'], { operatorToken: OPERATOR });
    sim.settle(() => sim!.fullMesh() && a.supervisor.isReady && b.supervisor.isReady, 3_000, 'a-b linked');
    const events: string[] = [];
    for (const n of [a, b]) {
      n.on('member-up', (e) => events.push(`${n.name} up ${e.member.name}`));
      n.on('member-down', (e) => events.push(`${n.name} down ${e.member.name}`));
      n.on('member-left', (e) => events.push(`${n.name} left ${e.member.name}`));
    }
    const before = JSON.stringify([a.groups.snapshot(), b.groups.snapshot()]);

    const session = await sim.resolve(client(sim, ['b', 'a']));
    expect(session.member).toBe('b');
    const status = await sim.resolve(session.command('status', {}, '', 'alice', 5_000));
    expect(status).toMatchObject({ ok: true, result: { node: 'b', members: [{ name: 'a' }, { name: 'b' }] } });
    expect(await sim.resolve(session.command('pause', {}, OPERATOR, 'alice', 5_000))).toEqual({ ok: true, result: null });
    // Heartbeats keep it linked while it is quiet (logs --follow).
    await sim.run(10_000);
    expect(session.open).toBe(true);
    for (const n of [a, b]) {
      expect(n.members().map((m) => m.name)).toEqual(['a', 'b']);
      expect(n.status().links.map((l) => l.peer)).toEqual([n.name === 'a' ? 'b' : 'a']);
    }
    expect(b.status().dialing).toEqual([]);
    const audit = await sim.resolve(session.command('audit-all', {}, OPERATOR, 'alice', 5_000));
    expect(audit.ok && audit.result.unanswered).toEqual([]);
    expect(audit.ok && audit.result.entries.map((e) => `${e.node} ${e.op} from ${e.from} by ${e.by}`)).toEqual(['b pause from ctl-host-1 by alice']);

    await sim.resolve(session.close());
    await sim.run(100);
    expect(events).toEqual([]);
    expect(JSON.stringify([a.groups.snapshot(), b.groups.snapshot()])).toBe(before);
    expect(a.supervisor.rebalancingPaused).toBe(true);
    expect(sim.log.entries.filter((e) => e.level === 'warn' || e.level === 'error')).toEqual([]);
  });

  it('a wrong secret fails at the challenge with the handshake reason, and tries no other seed', async () => {
    sim = new SimCluster(42, { latencyMs: 1, jitterMs: 0 });
    await sim.start('a');
    await sim.start('b', ['a']);
    sim.settle(() => sim!.fullMesh(), 2_000, 'a-b linked');
    let dialled = 0;
    sim.network.tap = (from, _to, message) => {
      if (from === 'ctl-host:0' && (message as { t?: string }).t === 'hello') dialled++;
    };
    const err = await sim.resolve(
      client(sim, ['a', 'b'], { secret: 'not-the-cluster-secret-at-all' }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(SessionError);
    expect(err).toMatchObject({
      code: 'auth-failed',
      message: expect.stringMatching(/^cannot link to a at a:4370: authentication failed: a does not hold our cluster secret/),
    });
    expect(dialled).toBe(1);
    // The member heard the refusal (and logged it), and linked nothing.
    expect(warnings(sim, 'a').some((e) => e.fields['code'] === 'auth-failed' && e.fields['peer'] === 'ctl-host-1')).toBe(true);
    expect(
      sim
        .mustGet('a')
        .members()
        .map((m) => m.name),
    ).toEqual(['a', 'b']);
    // A wrong cluster name is refused by the member, as definitely.
    const other = await sim.resolve(
      client(sim, ['a', 'b'], { cluster: 'staging' }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(other).toMatchObject({ code: 'cluster-mismatch', message: expect.stringContaining('does not match') });
  });

  it('passes over seeds it cannot use, in order: nothing listening, an observer, a member older than client links', async () => {
    sim = new SimCluster(43, { latencyMs: 1, jitterMs: 0 });
    await sim.start('m', [], { operatorToken: OPERATOR });
    await sim.start('obs', ['m'], { role: 'observer' });
    sim.settle(() => sim!.fullMesh(), 2_000, 'linked');
    // A member of protocol 2.1: it answers a hello (its `client` field dropped, as a field of a newer minor) with its challenge.
    const old = sim.network.transport('old:4370');
    const oldFrames: unknown[] = [];
    await old.listen((conn) => {
      conn.setHandlers({
        onOpen: () => undefined,
        onMessage: (raw) => {
          oldFrames.push(raw);
          const hello = raw as { t: string; name: string; incarnation: string; nonce: string };
          if (hello.t !== 'hello') return;
          const me = { name: 'old', incarnation: 'abcdef0123456789', nonce: 'f'.repeat(32) };
          const proof = handshakeProof(SIM_SECRET, 'acceptor', 'pogo', { name: hello.name, incarnation: hello.incarnation, nonce: hello.nonce }, me);
          conn.send({
            t: 'challenge',
            cluster: 'pogo',
            protocol: { major: 2, minor: 1 },
            name: 'old',
            incarnation: me.incarnation,
            startedAt: 1,
            address: 'old:4370',
            role: 'member',
            nonce: me.nonce,
            proof,
          });
        },
        onClose: () => undefined,
      });
    });
    const refused = await sim.resolve(
      client(sim, ['nobody', 'obs', 'old']).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(refused).toMatchObject({ code: 'unreachable' });
    expect((refused as SessionError).attempts.map((a) => [a.address, a.code])).toEqual([
      ['nobody:4370', 'unreachable'],
      ['obs:4370', 'not-a-member'],
      ['old:4370', 'version-mismatch'],
    ]);
    expect((refused as SessionError).message).toMatch(/old speaks protocol 2\.1, which has no client links/);
    // The old member was told why, with a refusal it knows.
    expect(oldFrames.at(-1)).toMatchObject({ t: 'reject', code: 'version-mismatch' });
    const session = await sim.resolve(client(sim, ['nobody', 'obs', 'old', 'm']));
    expect(session.member).toBe('m');
    await sim.resolve(session.close());
  });

  it('the member closes a client that falls silent, and a closed client takes nothing else down', async () => {
    sim = new SimCluster(44, { latencyMs: 1, jitterMs: 0 });
    const a = await sim.start('a', [], { heartbeatIntervalMs: 200, suspectAfterMs: 600, heartbeatTimeoutMs: 1_000 });
    const session = await sim.resolve(client(sim, ['a']));
    let lost = '';
    session.onClosed((reason) => (lost = reason));
    sim.network.partition(['ctl-host:0'], [SimCluster.address('a')]);
    await sim.run(4_000);
    expect(lost).not.toBe('');
    expect(session.open).toBe(false);
    expect(await sim.resolve(session.command('status', {}, '', 't', 1_000))).toMatchObject({ ok: false, error: { code: 'unreachable' } });
    expect(a.running).toBe(true);
    expect(a.members().map((m) => m.name)).toEqual(['a']);
    await sim.resolve(session.close());
  });
});
