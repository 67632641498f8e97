/**
 * The link handshake's pure part: the proofs, the frames each side sends and
 * the checks each side makes of the other's. No state, no network, no
 * clock: link-layer.ts runs the state machine and calls these.
 *
 * Handshake (the dialer D opens a connection to the acceptor A):
 *
 *   D → A  hello     {cluster, protocol, name, incarnation, startedAt, address, role, nonceD}
 *   A → D  challenge {same fields for A, nonceA, proofA}
 *   D → A  auth      {proofD}
 *   A → D  welcome
 *
 *   proofA = HMAC-SHA256(secret, "pogo-link/1|acceptor|" + transcript)
 *   proofD = HMAC-SHA256(secret, "pogo-link/1|dialer|"   + transcript)
 *   transcript = cluster | D.name | D.incarnation | nonceD | A.name | A.incarnation | nonceA
 *
 * Both sides prove knowledge of the cluster secret over a nonce chosen by the
 * other side, so neither the secret nor a replayable answer crosses the wire;
 * the role tag stops a proof being reflected back. Either side may answer
 * `reject {code, message}` and close: cluster or protocol mismatch, failed
 * authentication, dialling itself, a name already used by a live node.
 *
 * The checks, in the order the state machine applies them:
 * - `checkPeer` (both sides, once the peer's identity is known): cluster,
 *   major protocol version, our own name (`self` for our own incarnation,
 *   `duplicate-name` otherwise), a name held by a healthy link of another
 *   incarnation (`duplicate-name`: a live node's name is never stolen).
 * - `checkClientHello` (acceptor, a client's hello): clients accepted at all,
 *   cluster, major version; none of the node rules.
 * - `checkChallenge` (dialer): `checkPeer` except `self`, then the
 *   acceptor's proof. A challenge naming this very node can only be an echo
 *   of our hello (dialling ourselves ends at the hello), so its proof is
 *   checked first: an echo is `auth-failed`, retried later, rather than
 *   `self`, which stops dialling the address for good. A client then checks
 *   what it dialled (client links since 2.2, a member), and a dialer drops a
 *   connection to a peer it is already linked to (an alias of its address).
 * - `checkAuth` (acceptor): the dialer's proof.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  PROTOCOL_VERSION,
  ProtocolVersionSchema,
  isCompatibleVersion,
  type Challenge,
  type HeartbeatSettings,
  type Hello,
  type RejectCode,
} from '../protocol.js';
import type { DialFailureCode, HeartbeatTiming, Link, LocalIdentity, PeerIdentity, ProtocolVersion } from './types.js';

/** The first minor version (of major 2) that knows client links. */
export const CLIENT_LINKS_SINCE = { major: 2, minor: 2 } as const;

/** One side's part of the transcript: its name, incarnation and nonce. */
export interface HandshakeParty {
  name: string;
  incarnation: string;
  nonce: string;
}

/** A refusal: the code and reason; `tellPeer` when a `reject` goes to the peer before the close. */
export interface HandshakeRefusal {
  code: DialFailureCode;
  message: string;
  tellPeer: boolean;
}

/** The text both proofs sign (see the header). */
export function handshakeTranscript(cluster: string, dialer: HandshakeParty, acceptor: HandshakeParty): string {
  return [cluster, dialer.name, dialer.incarnation, dialer.nonce, acceptor.name, acceptor.incarnation, acceptor.nonce].join('|');
}

export function handshakeProof(
  secret: string,
  role: 'acceptor' | 'dialer',
  cluster: string,
  dialer: { name: string; incarnation: string; nonce: string },
  acceptor: { name: string; incarnation: string; nonce: string },
): string {
  const transcript = handshakeTranscript(cluster, dialer, acceptor);
  return createHmac('sha256', secret).update(`pogo-link/1|${role}|${transcript}`).digest('hex');
}

/** Compares two hex proofs in constant time; a proof of another length never matches. */
export function proofMatches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(actual, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The protocol version a handshake frame claims, if it carries a well-formed one (read before validating the frame). */
export function claimedProtocol(raw: unknown): ProtocolVersion | undefined {
  try {
    if (raw === null || typeof raw !== 'object' || !('protocol' in raw)) return undefined;
    const parsed = ProtocolVersionSchema.safeParse(raw.protocol);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Our settings as the handshake announces them. */
export function announce(t: HeartbeatTiming): HeartbeatSettings {
  return { intervalMs: t.heartbeatIntervalMs, suspectAfterMs: t.suspectAfterMs, timeoutMs: t.heartbeatTimeoutMs };
}

/** A peer's announced settings (undefined when it announced none). */
export function announced(h: HeartbeatSettings | undefined): HeartbeatTiming | undefined {
  return h && { heartbeatIntervalMs: h.intervalMs, suspectAfterMs: h.suspectAfterMs, heartbeatTimeoutMs: h.timeoutMs };
}

/** What both ends announce of themselves, the hello and the challenge alike. */
function selfAnnouncement(id: LocalIdentity, nonce: string, timing: HeartbeatTiming) {
  return {
    cluster: id.cluster,
    protocol: { ...PROTOCOL_VERSION },
    name: id.name,
    incarnation: id.incarnation,
    startedAt: id.startedAt,
    address: id.address,
    role: id.role,
    nonce,
    heartbeat: announce(timing),
  };
}

/** The dialer's hello. */
export function buildHello(id: LocalIdentity, nonce: string, timing: HeartbeatTiming): Hello {
  return { t: 'hello', ...selfAnnouncement(id, nonce, timing), ...(id.client ? { client: true as const } : {}) };
}

/** The acceptor's challenge to a hello (`nonce`: the acceptor's), with its proof. */
export function buildChallenge(secret: string, id: LocalIdentity, nonce: string, peer: PeerIdentity, hello: Hello, timing: HeartbeatTiming): Challenge {
  const proof = handshakeProof(
    secret,
    'acceptor',
    id.cluster,
    { name: peer.name, incarnation: peer.incarnation, nonce: hello.nonce },
    { name: id.name, incarnation: id.incarnation, nonce },
  );
  return { t: 'challenge', ...selfAnnouncement(id, nonce, timing), proof };
}

/** The dialer's auth proof over the challenge (`nonce`: the dialer's). */
export function dialerProof(secret: string, id: LocalIdentity, nonce: string, peer: PeerIdentity, peerNonce: string): string {
  return handshakeProof(
    secret,
    'dialer',
    id.cluster,
    { name: id.name, incarnation: id.incarnation, nonce },
    { name: peer.name, incarnation: peer.incarnation, nonce: peerNonce },
  );
}

/**
 * Checks shared by both sides once the peer's identity is known (see the
 * header). `existing`: our current link to a node of the peer's name, if any.
 * Returns a refusal or undefined.
 */
export function checkPeer(
  me: LocalIdentity,
  peer: PeerIdentity & { cluster: string; protocol: { major: number; minor: number } },
  existing: Link | undefined,
): { code: RejectCode; message: string } | undefined {
  if (peer.cluster !== me.cluster)
    return { code: 'cluster-mismatch', message: `cluster ${JSON.stringify(peer.cluster)} does not match ${JSON.stringify(me.cluster)}` };
  if (!isCompatibleVersion(peer.protocol))
    return {
      code: 'version-mismatch',
      message: `protocol ${peer.protocol.major}.${peer.protocol.minor} is incompatible with ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`,
    };
  if (peer.name === me.name) {
    if (peer.incarnation === me.incarnation) return { code: 'self', message: 'connected to itself' };
    return { code: 'duplicate-name', message: `name ${peer.name} is already used by the node at ${me.address}` };
  }
  if (existing && existing.peer.incarnation !== peer.incarnation && !existing.suspect) {
    return { code: 'duplicate-name', message: `name ${peer.name} is already used by a live node at ${existing.peer.address}` };
  }
  return undefined;
}

/**
 * A client's hello (acceptor side): `acceptsClients` is false when this node takes no client links. Returns a
 * refusal (always told to the peer) or undefined.
 */
export function checkClientHello(me: LocalIdentity, acceptsClients: boolean, m: Hello): { code: RejectCode; message: string } | undefined {
  if (!acceptsClients || me.client) return { code: 'malformed', message: `${me.name} accepts no client links` };
  if (m.cluster !== me.cluster)
    return { code: 'cluster-mismatch', message: `cluster ${JSON.stringify(m.cluster)} does not match ${JSON.stringify(me.cluster)}` };
  if (!isCompatibleVersion(m.protocol))
    return {
      code: 'version-mismatch',
      message: `protocol ${m.protocol.major}.${m.protocol.minor} is incompatible with ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`,
    };
  return undefined;
}

/**
 * The dialer's checks of a challenge (see the header), given our nonce, the
 * secret and our current link to a node of the acceptor's name. Returns the
 * refusal, or undefined when the dialer answers with its auth.
 */
export function checkChallenge(secret: string, me: LocalIdentity, nonce: string, m: Challenge, existing: Link | undefined): HandshakeRefusal | undefined {
  const peer: PeerIdentity = { name: m.name, incarnation: m.incarnation, startedAt: m.startedAt, address: m.address, role: m.role };
  const refusal = checkPeer(me, { ...peer, cluster: m.cluster, protocol: m.protocol }, existing);
  // A challenge naming this very node can only be an echo of our hello (dialling ourselves
  // ends at the hello): check its proof first, so an echo is `auth-failed`, retried later,
  // rather than `self`, which stops dialling the address for good.
  if (refusal && refusal.code !== 'self') return { ...refusal, tellPeer: true };
  const expected = handshakeProof(
    secret,
    'acceptor',
    me.cluster,
    { name: me.name, incarnation: me.incarnation, nonce },
    { name: peer.name, incarnation: peer.incarnation, nonce: m.nonce },
  );
  if (refusal && proofMatches(expected, m.proof)) return { ...refusal, tellPeer: true };
  if (!proofMatches(expected, m.proof)) {
    return { code: 'auth-failed', message: `authentication failed: ${peer.name} does not hold our cluster secret (wrong secret on one side?)`, tellPeer: true };
  }
  if (me.client) {
    // A client checks what it dialled before it answers (see the header): no half-session.
    if (m.protocol.major === CLIENT_LINKS_SINCE.major && m.protocol.minor < CLIENT_LINKS_SINCE.minor) {
      return {
        code: 'version-mismatch',
        message:
          `${peer.name} speaks protocol ${m.protocol.major}.${m.protocol.minor}, which has no client links (since ` +
          `${CLIENT_LINKS_SINCE.major}.${CLIENT_LINKS_SINCE.minor}): upgrade it, or use the pogo of its release`,
        tellPeer: true,
      };
    }
    if (m.role !== 'member') {
      return { code: 'not-a-member', message: `${peer.name} is an ${m.role}; only members execute commands: give a member's address`, tellPeer: false };
    }
  }
  // Rule 3: this address is an alias of a peer we are already linked to.
  if (existing && existing.peer.incarnation === peer.incarnation) {
    return { code: 'already-linked', message: `already linked to ${peer.name}`, tellPeer: false };
  }
  return undefined;
}

/** The acceptor's check of the dialer's auth proof (`nonce`: the acceptor's, `peerNonce`: the dialer's). Returns a refusal or undefined. */
export function checkAuth(
  secret: string,
  me: LocalIdentity,
  nonce: string,
  peer: PeerIdentity,
  peerNonce: string,
  proof: string,
): { code: 'auth-failed'; message: string } | undefined {
  const expected = handshakeProof(
    secret,
    'dialer',
    me.cluster,
    { name: peer.name, incarnation: peer.incarnation, nonce: peerNonce },
    { name: me.name, incarnation: me.incarnation, nonce },
  );
  if (proofMatches(expected, proof)) return undefined;
  return { code: 'auth-failed', message: `authentication failed: ${peer.name} does not hold our cluster secret (wrong secret on one side?)` };
}

/** Rule 2, "both dialled at once": true when the peer's dial wins (the smaller name's dial wins; both ends evaluate the same rule). */
export function peerDialWins(peerName: string, myName: string): boolean {
  return peerName < myName;
}
