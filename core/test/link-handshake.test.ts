/**
 * The link handshake's pure part (link/handshake.ts) and the failure
 * detector's decisions (link/failure-detector.ts), without a network or a
 * clock: a full exchange between two identities computed by hand, and each
 * refusal the checks make.
 */
import { describe, expect, it } from 'vitest';
import {
  buildChallenge,
  buildHello,
  checkAuth,
  checkChallenge,
  checkClientHello,
  checkPeer,
  claimedProtocol,
  dialerProof,
  handshakeProof,
  handshakeTranscript,
  peerDialWins,
  proofMatches,
} from '../src/link/handshake.js';
import { echoConfirms, nextSilenceDue, silenceVerdict, tickInterval } from '../src/link/failure-detector.js';
import type { HeartbeatTiming, Link, LocalIdentity, PeerIdentity } from '../src/link/types.js';
import { PROTOCOL_VERSION } from '../src/protocol.js';

const SECRET = 'test-secret';
const timing: HeartbeatTiming = { heartbeatIntervalMs: 100, suspectAfterMs: 500, heartbeatTimeoutMs: 1_000 };
const dialer: LocalIdentity = { cluster: 'c1', name: 'a', incarnation: 'ia', startedAt: 1, address: '127.0.0.1:1', role: 'member' };
const acceptor: LocalIdentity = { cluster: 'c1', name: 'b', incarnation: 'ib', startedAt: 2, address: '127.0.0.1:2', role: 'member' };
const peerOf = (id: LocalIdentity): PeerIdentity => ({
  name: id.name,
  incarnation: id.incarnation,
  startedAt: id.startedAt,
  address: id.address,
  role: id.role,
});
const NONCE_D = 'd'.repeat(32);
const NONCE_A = 'a'.repeat(32);

/** A link record with the fields the checks read. */
function linkTo(peer: PeerIdentity, suspect = false): Link {
  return { peer, suspect } as unknown as Link;
}

describe('handshake: a full exchange', () => {
  it('hello, challenge and auth computed by each side check out on the other', () => {
    const hello = buildHello(dialer, NONCE_D, timing);
    expect(hello).toMatchObject({
      t: 'hello',
      cluster: 'c1',
      name: 'a',
      nonce: NONCE_D,
      protocol: PROTOCOL_VERSION,
      heartbeat: { intervalMs: 100, suspectAfterMs: 500, timeoutMs: 1_000 },
    });
    expect(hello.client).toBeUndefined();
    expect(checkPeer(acceptor, { ...peerOf(dialer), cluster: hello.cluster, protocol: hello.protocol }, undefined)).toBeUndefined();

    const challenge = buildChallenge(SECRET, acceptor, NONCE_A, peerOf(dialer), hello, timing);
    expect(challenge).toMatchObject({ t: 'challenge', name: 'b', nonce: NONCE_A });
    expect(checkChallenge(SECRET, dialer, NONCE_D, challenge, undefined)).toBeUndefined();

    const proof = dialerProof(SECRET, dialer, NONCE_D, peerOf(acceptor), NONCE_A);
    expect(checkAuth(SECRET, acceptor, NONCE_A, peerOf(dialer), NONCE_D, proof)).toBeUndefined();
  });

  it('the proofs sign the transcript with the role: neither can stand in for the other', () => {
    expect(handshakeTranscript('c1', { name: 'a', incarnation: 'ia', nonce: 'n1' }, { name: 'b', incarnation: 'ib', nonce: 'n2' })).toBe('c1|a|ia|n1|b|ib|n2');
    const d = { name: 'a', incarnation: 'ia', nonce: NONCE_D };
    const a = { name: 'b', incarnation: 'ib', nonce: NONCE_A };
    const acceptorProof = handshakeProof(SECRET, 'acceptor', 'c1', d, a);
    expect(acceptorProof).not.toBe(handshakeProof(SECRET, 'dialer', 'c1', d, a));
    // A reflected acceptor proof is not a dialer proof.
    expect(checkAuth(SECRET, acceptor, NONCE_A, peerOf(dialer), NONCE_D, acceptorProof)).toMatchObject({ code: 'auth-failed' });
  });

  it('proofMatches: equal hex only, any other length never', () => {
    const p = handshakeProof(SECRET, 'dialer', 'c1', { name: 'a', incarnation: 'i', nonce: 'n' }, { name: 'b', incarnation: 'j', nonce: 'm' });
    expect(proofMatches(p, p)).toBe(true);
    expect(proofMatches(p, p.slice(0, -2))).toBe(false);
    expect(proofMatches(p, `${p.slice(0, -1)}${p.endsWith('0') ? '1' : '0'}`)).toBe(false);
  });
});

describe('handshake: refusals', () => {
  it('checkPeer: cluster, major version, self, a duplicate name, a live name held by another incarnation', () => {
    const me = acceptor;
    const ok = { ...peerOf(dialer), cluster: 'c1', protocol: { major: PROTOCOL_VERSION.major, minor: 0 } };
    expect(checkPeer(me, { ...ok, cluster: 'other' }, undefined)?.code).toBe('cluster-mismatch');
    expect(checkPeer(me, { ...ok, protocol: { major: PROTOCOL_VERSION.major + 1, minor: 0 } }, undefined)?.code).toBe('version-mismatch');
    expect(checkPeer(me, { ...ok, name: 'b', incarnation: 'ib' }, undefined)?.code).toBe('self');
    expect(checkPeer(me, { ...ok, name: 'b', incarnation: 'old' }, undefined)?.code).toBe('duplicate-name');
    expect(checkPeer(me, ok, linkTo({ ...peerOf(dialer), incarnation: 'other' }))?.code).toBe('duplicate-name');
    // The old incarnation's link is suspect: the newcomer may take the name (a restart).
    expect(checkPeer(me, ok, linkTo({ ...peerOf(dialer), incarnation: 'other' }, true))).toBeUndefined();
    // Same incarnation (a half-open link being replaced): no refusal here.
    expect(checkPeer(me, ok, linkTo(peerOf(dialer)))).toBeUndefined();
  });

  it('checkChallenge: a wrong secret is auth-failed, an echo of our own hello is auth-failed rather than self', () => {
    const hello = buildHello(dialer, NONCE_D, timing);
    const forged = buildChallenge('another-secret', acceptor, NONCE_A, peerOf(dialer), hello, timing);
    expect(checkChallenge(SECRET, dialer, NONCE_D, forged, undefined)).toMatchObject({ code: 'auth-failed', tellPeer: true });
    // Our own identity coming back, unproven: not `self` (which would stop dialling the address for good).
    const echo = { ...buildChallenge('x', dialer, NONCE_A, peerOf(dialer), hello, timing) };
    expect(checkChallenge(SECRET, dialer, NONCE_D, echo, undefined)?.code).toBe('auth-failed');
    // Proven by the secret: it really is this node.
    const real = buildChallenge(SECRET, dialer, NONCE_A, peerOf(dialer), hello, timing);
    expect(checkChallenge(SECRET, dialer, NONCE_D, real, undefined)).toMatchObject({ code: 'self', tellPeer: true });
  });

  it('checkChallenge: an alias of a linked peer is already-linked, told to nobody', () => {
    const challenge = buildChallenge(SECRET, acceptor, NONCE_A, peerOf(dialer), buildHello(dialer, NONCE_D, timing), timing);
    expect(checkChallenge(SECRET, dialer, NONCE_D, challenge, linkTo(peerOf(acceptor)))).toEqual({
      code: 'already-linked',
      message: 'already linked to b',
      tellPeer: false,
    });
  });

  it('checkChallenge for a client: a member of protocol 2.2 or later only', () => {
    const client: LocalIdentity = { ...dialer, client: true, role: 'observer' };
    const hello = buildHello(client, NONCE_D, timing);
    expect(hello.client).toBe(true);
    const challenge = buildChallenge(SECRET, acceptor, NONCE_A, peerOf(client), hello, timing);
    expect(checkChallenge(SECRET, client, NONCE_D, challenge, undefined)).toBeUndefined();
    expect(checkChallenge(SECRET, client, NONCE_D, { ...challenge, protocol: { major: 2, minor: 1 } }, undefined)).toMatchObject({
      code: 'version-mismatch',
      tellPeer: true,
    });
    expect(checkChallenge(SECRET, client, NONCE_D, { ...challenge, role: 'observer' }, undefined)).toMatchObject({ code: 'not-a-member', tellPeer: false });
  });

  it('checkClientHello: refused by a node without client links, across clusters or major versions', () => {
    const hello = buildHello({ ...dialer, client: true }, NONCE_D, timing);
    expect(checkClientHello(acceptor, true, hello)).toBeUndefined();
    expect(checkClientHello(acceptor, false, hello)?.code).toBe('malformed');
    expect(checkClientHello({ ...acceptor, client: true }, true, hello)?.code).toBe('malformed');
    expect(checkClientHello(acceptor, true, { ...hello, cluster: 'other' })?.code).toBe('cluster-mismatch');
    expect(checkClientHello(acceptor, true, { ...hello, protocol: { major: 9, minor: 0 } })?.code).toBe('version-mismatch');
  });

  it('rule 2 and the claimed protocol', () => {
    expect(peerDialWins('a', 'b')).toBe(true);
    expect(peerDialWins('b', 'a')).toBe(false);
    expect(claimedProtocol({ protocol: { major: 2, minor: 7 } })).toEqual({ major: 2, minor: 7 });
    expect(claimedProtocol({ protocol: 'x' })).toBeUndefined();
    expect(claimedProtocol(null)).toBeUndefined();
    expect(claimedProtocol(42)).toBeUndefined();
  });
});

describe('failure detector: decisions', () => {
  const link = (lastHeardAt: number, suspect: boolean, t: HeartbeatTiming = timing): Pick<Link, 'lastHeardAt' | 'suspect' | 'timing'> => ({
    lastHeardAt,
    suspect,
    timing: t,
  });

  it('silenceVerdict: suspect once past suspectAfter (once), closed past the timeout', () => {
    expect(silenceVerdict(link(0, false), 499)).toBeUndefined();
    expect(silenceVerdict(link(0, false), 500)).toBe('suspect');
    expect(silenceVerdict(link(0, true), 500)).toBeUndefined();
    expect(silenceVerdict(link(0, true), 1_000)).toBe('timeout');
    expect(silenceVerdict(link(0, false), 1_000)).toBe('timeout');
  });

  it('nextSilenceDue: the earliest threshold, the timeout for a suspect link', () => {
    expect(nextSilenceDue([])).toBe(Infinity);
    expect(nextSilenceDue([link(100, false), link(50, true)])).toBe(600);
    expect(nextSilenceDue([link(0, true)])).toBe(1_000);
  });

  it('tickInterval: the shortest interval among the links, our own without links', () => {
    expect(tickInterval(100, [])).toBe(100);
    expect(tickInterval(100, [{ timing: { ...timing, heartbeatIntervalMs: 40 } }, { timing }])).toBe(40);
  });

  it('echoConfirms: only a newer ping that we sent, not from the future', () => {
    expect(echoConfirms({ seq: 3, sentAt: 10 }, 5, 2, 20)).toBe(true);
    expect(echoConfirms({ seq: 5, sentAt: 10 }, 5, 2, 20)).toBe(false);
    expect(echoConfirms({ seq: 2, sentAt: 10 }, 5, 2, 20)).toBe(false);
    expect(echoConfirms({ seq: 3, sentAt: 30 }, 5, 2, 20)).toBe(false);
  });
});
