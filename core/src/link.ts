/**
 * Links: authenticated, one-per-pair connections between nodes, with
 * heartbeats. Transport-agnostic, so the simulation tests exercise exactly
 * this code.
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
 * Exactly one link per pair of nodes:
 * 1. A node does not dial a peer it is linked to or handshaking with.
 * 2. Race "both dial at once": when A receives a hello from P while A's own
 *    dial to P is still in its handshake, the dial of the node with the
 *    smaller name wins; the other connection is dropped with
 *    `simultaneous-dial` on both sides (both evaluate the same rule).
 * 3. Race "dialled an alias of a linked peer" (a seed written as `localhost`
 *    while the peer advertises `127.0.0.1`): the dialer sees in the challenge
 *    that it is already linked to that incarnation and drops the new
 *    connection without replacing anything.
 * 4. Race "half-open link": if a peer completes a new handshake while we still
 *    hold an older link to it, the peer evidently considers the old one dead
 *    (it only dials when it has no link), so the new link replaces the old
 *    (link down, then link up) — likewise for a new incarnation (a restart).
 *    A different incarnation is refused as `duplicate-name` while the old
 *    link is healthy: a live node's name is never stolen.
 * 5. Race "a squatter at a seed address says `self`": `self` makes the
 *    dialler stop dialling that address for good, so it is believed only
 *    when this node's own acceptor refused this dial's hello (same nonce); a
 *    challenge that names this very node is checked against its proof first
 *    (an echo of our hello fails as `auth-failed` and is retried later).
 *
 * Failure detection: each link gets a ping every `interval` (below). Any
 * frame from the peer counts as a sign of life. The round trip comes from
 * the echo in the peer's next ping, which also tells this node that the peer
 * heard it (`confirmedAt`: the send time, on this node's clock, of the newest
 * ping of ours the peer echoed; netsplit majority mode builds its lease on it).
 * Silent for `suspectAfter`: the link is suspect (reported, still used); silent
 * for `timeout`: the link is closed. A closed connection (process killed,
 * socket reset) takes the link down at once.
 *
 * Mixed settings (`linkHeartbeat`, a pure function). Nodes of one cluster
 * need not share their timing settings: an observer or `pogo ctl` on the
 * default preset joins members on `local`, and a rolling change of settings
 * passes through every mixture. Each side announces its `heartbeatIntervalMs`,
 * `suspectAfterMs` and `heartbeatTimeoutMs` in its hello or challenge
 * (`heartbeat`, protocol 2.1), and both ends of a link then use
 *
 *   interval    = min(mine, peer's)
 *   suspectAfter = max(mine, peer's)
 *   timeout     = max(mine, peer's)
 *
 * Why: a node judges a link by the pings it receives, so what matters is that
 * the side that pings is at least as fast as the side that listens expects.
 * With these numbers each side pings at least as often as either side's own
 * setting asks, and waits at least as long as either side's own setting
 * allows, so neither can time out on the other's normal rhythm: each side
 * tolerates at least as many missed pings as its own configuration does
 * (timeout / interval is never smaller than either side's ratio). min and max
 * are symmetric, and both ends see the same two announcements, so both ends
 * of one link hold the same numbers — a link never looks dead from one end
 * only because the ends disagree. The price is paid by the faster-detecting
 * side's peers: a `local` node's link to a `lan` node is declared down after
 * the `lan` timeout (3 s), not 1 s, and the `lan` node pings that link every
 * 200 ms. A node's links may thus differ: the heartbeat ticker runs at the
 * shortest interval among its links (its own when it has none), and pings a
 * link at the tick that comes before the link's next ping would be late — never
 * later than its interval after the last. A peer of protocol 2.0 announces
 * nothing: its settings are taken to equal ours (as they must be for 2.0 to
 * work at all). The announcement is not covered by the handshake proof, like
 * the rest of hello and challenge; a man in the middle can change it, as he
 * could any later frame of a link without TLS. Netsplit majority mode's
 * lease does not rest on these numbers (netsplit-majority.ts, "Mixed timing
 * settings").
 *
 * Client links (protocol 2.2): `pogo ctl` dials one member and announces
 * itself as a client (`client: true` in its hello; it has no listener, and
 * announces port 0). The handshake is the same (both proofs over the
 * cluster secret), so a client with the wrong secret learns it from the
 * acceptor's proof in the challenge, at once, and says so. A client link
 * carries commands and their replies (and pings) only: the acceptor keeps it
 * apart from its node links — no membership entry (so no gossip, no pg or
 * store sync, no dial-back, and nothing in status, placement or the
 * observer's events), none of the one-link-per-pair rules (a client's name
 * is only a label for logs and the audit), and it reports it through
 * `LinkEvents.client`; the heartbeats and silence limits apply as to any
 * link, and a closed connection removes it at once. The client checks the
 * challenge before it answers: an acceptor older than 2.2 (which would
 * drop `client` as a field of a newer minor and take it for an observer
 * node) is refused with `version-mismatch`, and an acceptor that is not a
 * member (only members execute commands) with `not-a-member` (a local code:
 * the connection is just closed), so no half-session is ever made.
 *
 * Invalid frames: on a connection still in its handshake they end it with
 * `reject malformed`; on a link they are logged with the reason and dropped.
 *
 * Rolling upgrades: a peer with the same major protocol version and a newer
 * minor one links normally. Its frames are decoded tolerantly (fields this
 * version does not know are dropped), and a message type this version does
 * not know is ignored with a debug line — it is the newer peer's business to
 * cope with older peers. From a peer of our own or an older minor version,
 * unknown fields and types are invalid frames. A different major version is
 * refused with `version-mismatch`.
 *
 * Limits on unauthenticated connections: at most `maxPendingHandshakes`
 * connections may be in their handshake at once (more are refused at once
 * with `too-many-handshakes`), and each must finish within
 * `handshakeTimeoutMs`. The transport bounds what comes before (see
 * socketio.ts), and may have refused the peer already (a TLS client
 * certificate: `Conn.authError`), which is answered with `auth-failed` and
 * the reason. Every refusal is logged with its reason; refusals for the
 * limit, which come in floods, are summarised (at most `REFUSAL_LOG_BURST`
 * lines per second, then one line with the count of the rest).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.js';
import type { Logger } from './logger.js';
import {
  MAX_BATCH_FRAMES,
  PROTOCOL_VERSION,
  ProtocolVersionSchema,
  decodeBatch,
  decodeMessage,
  isCompatibleVersion,
  isNewerMinor,
  type Challenge,
  type HeartbeatSettings,
  type Hello,
  type LinkMessage,
  type PeerMessage,
  type RejectCode,
  type Role,
} from './protocol.js';
import type { Random } from './random.js';
import type { Conn, Transport } from './transport/transport.js';

export interface LocalIdentity {
  readonly cluster: string;
  readonly name: string;
  readonly incarnation: string;
  readonly startedAt: number;
  readonly address: string;
  readonly role: Role;
  /** Dial as a client (pogo ctl, see the header): this node accepts no connections and its links carry commands only. */
  readonly client?: boolean;
}

export interface PeerIdentity {
  readonly name: string;
  readonly incarnation: string;
  readonly startedAt: number;
  readonly address: string;
  readonly role: Role;
}

export interface Link {
  readonly peer: PeerIdentity;
  /** The peer is a client (see the header): this link carries its commands and their replies only. */
  readonly client: boolean;
  readonly direction: 'in' | 'out';
  /** For an outgoing link, the address that was dialled. */
  readonly dialledAddress: string | undefined;
  readonly establishedAt: number;
  lastHeardAt: number;
  suspect: boolean;
  rttMs: number | undefined;
  /** The send time (this node's clock) of the newest ping of ours the peer echoed back: it heard us then. */
  confirmedAt: number | undefined;
  /** The seq of that ping: the peer has processed everything this node sent on the link before it. */
  confirmedSeq: number;
  /** @internal The peer's last ping, to echo in our next one: its `seq`, `sentAt` and when it arrived. */
  pingIn: { seq: number; sentAt: number; at: number } | undefined;
  /** The protocol version the peer announced in the handshake. */
  readonly protocol: ProtocolVersion;
  /** The peer's own failure-detection settings as it announced them (undefined: a 2.0 peer, taken to share ours). */
  readonly peerTiming: HeartbeatTiming | undefined;
  /** This link's ping interval and silence thresholds (`linkHeartbeat`): the same at both ends, unless the peer is of protocol 2.0. */
  readonly timing: HeartbeatTiming;
  /** @internal When this link's next ping is due (this node's clock). */
  nextPingAt: number;
  /** @internal */
  readonly conn: Conn;
  /** @internal Frames waiting for the next flush (peers that read batches). */
  outbox: LinkMessage[];
  /** @internal Estimated size of the outbox, bytes. */
  outboxBytes: number;
  /** @internal The pending flush. */
  flushTimer: TimerHandle | undefined;
  /** @internal A flush is queued for the end of this turn's microtasks (a call frame waits). */
  flushQueued: boolean;
}

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

/** Why a dial failed: a code the peer sent or this side's own reason; `unreachable`, `already-linked` and `not-a-member` never go on the wire. */
export type DialFailureCode = RejectCode | 'unreachable' | 'already-linked' | 'not-a-member';

export interface DialFailure {
  code: DialFailureCode;
  message: string;
  /** The name of the node that answered, when the handshake got that far. */
  peerName?: string;
}

/**
 * What the link layer reports. Calls are synchronous and never concurrent;
 * handlers must not throw (a throw is caught and logged).
 */
export interface LinkEvents {
  linkUp(link: Link): void;
  linkDown(link: Link, reason: string): void;
  message(link: Link, message: LinkMessage): void;
  /** The link's `suspect` flag changed (either way). */
  suspect(link: Link): void;
  dialFailed(address: string, failure: DialFailure): void;
  /** The peer echoed a newer ping of ours (`Link.confirmedSeq` grew): it has processed everything sent before that ping. */
  confirmed(link: Link): void;
  /** Client links (see the header); without these, a client's hello is refused. None of the events above fires for a client link. */
  client?: ClientLinkEvents;
}

/** What the link layer reports of client links (same contract as LinkEvents). */
export interface ClientLinkEvents {
  up(link: Link): void;
  down(link: Link, reason: string): void;
  message(link: Link, message: LinkMessage): void;
}

/** The first minor version (of major 2) that knows client links. */
export const CLIENT_LINKS_SINCE = { major: 2, minor: 2 } as const;

/** A node's failure-detection settings, or one link's (derived from both ends' by `linkHeartbeat`). */
export interface HeartbeatTiming {
  /** How often the link is pinged, in ms. */
  heartbeatIntervalMs: number;
  /** Silence after which the link is reported suspect, in ms. */
  suspectAfterMs: number;
  /** Silence after which the link is closed and the peer declared down, in ms. */
  heartbeatTimeoutMs: number;
}

export interface LinkTiming extends HeartbeatTiming {
  /** Longest a connection may take to complete the handshake, in ms. */
  handshakeTimeoutMs: number;
}

/**
 * The failure-detection numbers of one link from both ends' settings (see
 * "Mixed settings" in the header): the shorter ping interval, the longer
 * suspect and timeout. Symmetric (`linkHeartbeat(a, b)` equals
 * `linkHeartbeat(b, a)`), so both ends of a link hold the same numbers. A
 * peer that announced nothing (protocol 2.0) is taken to share ours.
 */
export function linkHeartbeat(mine: HeartbeatTiming, peer: HeartbeatTiming | undefined): HeartbeatTiming {
  const p = peer ?? mine;
  return {
    heartbeatIntervalMs: Math.min(mine.heartbeatIntervalMs, p.heartbeatIntervalMs),
    suspectAfterMs: Math.max(mine.suspectAfterMs, p.suspectAfterMs),
    heartbeatTimeoutMs: Math.max(mine.heartbeatTimeoutMs, p.heartbeatTimeoutMs),
  };
}

/** Our settings as the handshake announces them. */
function announce(t: HeartbeatTiming): HeartbeatSettings {
  return { intervalMs: t.heartbeatIntervalMs, suspectAfterMs: t.suspectAfterMs, timeoutMs: t.heartbeatTimeoutMs };
}

/** A peer's announced settings (undefined when it announced none). */
function announced(h: HeartbeatSettings | undefined): HeartbeatTiming | undefined {
  return h && { heartbeatIntervalMs: h.intervalMs, suspectAfterMs: h.suspectAfterMs, heartbeatTimeoutMs: h.timeoutMs };
}

export interface LinkLayerOptions {
  identity: LocalIdentity;
  secret: string;
  transport: Transport;
  clock: Clock;
  random: Random;
  log: Logger;
  timing: LinkTiming;
  /** Connections allowed in their handshake at once; more are refused. */
  maxPendingHandshakes: number;
  events: LinkEvents;
}

type HandshakeState = 'out:connecting' | 'out:awaiting-challenge' | 'out:awaiting-welcome' | 'in:awaiting-hello' | 'in:awaiting-auth';

interface Pending {
  readonly conn: Conn;
  readonly dialledAddress: string | undefined;
  state: HandshakeState;
  readonly nonce: string;
  peer: PeerIdentity | undefined;
  peerNonce: string | undefined;
  /** Announced in the peer's hello or challenge. */
  peerProtocol: ProtocolVersion | undefined;
  /** Announced in the peer's hello or challenge (undefined from a 2.0 peer). */
  peerTiming: HeartbeatTiming | undefined;
  /** An incoming connection from a client (its hello said so). */
  client: boolean;
  timer: TimerHandle | undefined;
  done: boolean;
}

/** Refusal lines logged per second at most before they are only counted (a flood must not flood the log). */
export const REFUSAL_LOG_BURST = 10;

/** The protocol version a handshake frame claims, if it carries a well-formed one (read before validating the frame). */
function claimedProtocol(raw: unknown): ProtocolVersion | undefined {
  try {
    if (raw === null || typeof raw !== 'object' || !('protocol' in raw)) return undefined;
    const parsed = ProtocolVersionSchema.safeParse(raw.protocol);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function handshakeProof(
  secret: string,
  role: 'acceptor' | 'dialer',
  cluster: string,
  dialer: { name: string; incarnation: string; nonce: string },
  acceptor: { name: string; incarnation: string; nonce: string },
): string {
  const transcript = [cluster, dialer.name, dialer.incarnation, dialer.nonce, acceptor.name, acceptor.incarnation, acceptor.nonce].join('|');
  return createHmac('sha256', secret).update(`pogo-link/1|${role}|${transcript}`).digest('hex');
}

function proofMatches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(actual, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Counters of a LinkLayer since it was created (`node.status().stats`): frames and batches, bad input, own stalls. */
export interface LinkStats {
  /** Frames received from peers and clients (handshake and link frames, each frame of a batch counted), including invalid ones. */
  framesIn: number;
  /** Link messages sent (each message counted, whether it went alone or in a batch). */
  framesOut: number;
  /** Batches sent: transport frames that carried more than one link message. */
  batchesOut: number;
  /** Frames handed to the transport (a batch counts once). */
  transportFramesOut: number;
  /** Frames received that failed to decode or validate (dropped and logged, never fatal). */
  invalidFrames: number;
  /** Handshakes refused or failed (bad secret, wrong cluster, malformed, ...), except simultaneous dials and duplicate links. */
  handshakesRejected: number;
  /** Milliseconds this node's own timers ran late (event-loop stalls), credited to its links so they are not suspected for them. */
  stalledMs: number;
}

export class LinkLayer {
  private readonly links = new Map<string, Link>();
  /** Client links, by connection (clients' names are labels, not identities: see the header). */
  private readonly clients = new Map<Conn, Link>();
  private readonly pending = new Set<Pending>();
  private heartbeatTimer: TimerHandle | undefined;
  private pingSeq = 0;
  private beatDueAt = 0;
  /** Silence checks between heartbeat ticks (see `checkSilence`). */
  private silenceTimer: TimerHandle | undefined;
  /** Up to when this node's own lateness has been credited to its links. */
  private creditedUntil = 0;
  private stopping = false;
  private onAllLinksClosed: (() => void) | undefined;
  /** Refusal log throttle: lines logged in the current one-second window, and refusals not logged. */
  private refusalWindow = { start: Number.NEGATIVE_INFINITY, logged: 0, suppressed: 0 };
  /** Nonces of our own hellos that our acceptor refused as `self` (we dialled our own address). */
  private readonly selfNonces = new Set<string>();
  /** framesOut counts link messages; transportFramesOut what went on the wire (a batch is one). */
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, batchesOut: 0, transportFramesOut: 0, invalidFrames: 0, handshakesRejected: 0, stalledMs: 0 };

  constructor(private readonly o: LinkLayerOptions) {
    // Refusals the transport makes itself (TLS, HTTP, its own limits) go to the node's log too.
    o.transport.useLog?.(o.log.child({ layer: 'transport' }));
  }

  get identity(): LocalIdentity {
    return this.o.identity;
  }

  /** Starts the heartbeat ticker. Call once the transport listens. */
  start(): void {
    this.scheduleHeartbeat();
  }

  /** Accepts a connection from the transport's listener. */
  accept(conn: Conn): void {
    if (this.stopping) {
      this.refuseRaw(conn, 'shutting-down', 'node is shutting down');
      return;
    }
    if (conn.authError !== undefined) {
      // The transport authenticated the peer itself (a TLS client certificate) and refused it.
      this.stats.handshakesRejected++;
      this.o.log.warn({ remote: conn.remote, code: 'auth-failed', reason: conn.authError }, `connection refused: ${conn.authError}`);
      this.refuseRaw(conn, 'auth-failed', conn.authError);
      return;
    }
    if (this.pending.size >= this.o.maxPendingHandshakes) {
      this.stats.handshakesRejected++;
      const throttle = this.refusalThrottle();
      if (throttle.log) this.o.log.warn({ remote: conn.remote, limit: this.o.maxPendingHandshakes, code: 'too-many-handshakes', ...(throttle.suppressed > 0 ? { suppressed: throttle.suppressed } : {}) }, `too many connections in handshake (limit ${this.o.maxPendingHandshakes}, --max-pending-handshakes); refused one`);
      this.refuseRaw(conn, 'too-many-handshakes', `too many connections in handshake (limit ${this.o.maxPendingHandshakes})`);
      return;
    }
    this.track(conn, undefined, 'in:awaiting-hello');
  }

  /** Dials `address`. The outcome arrives as `linkUp` or `dialFailed`. */
  dial(address: string): void {
    if (this.stopping) return;
    const conn = this.o.transport.dial(address);
    this.track(conn, address, 'out:connecting');
  }

  /** True while a dial to this address is in its handshake. */
  isDialling(address: string): boolean {
    for (const p of this.pending) if (p.dialledAddress === address) return true;
    return false;
  }

  /** True when linked to `name` or handshaking with it (rule 1). */
  isBusyWith(name: string): boolean {
    if (this.links.has(name)) return true;
    for (const p of this.pending) if (p.peer?.name === name) return true;
    return false;
  }

  get(name: string): Link | undefined {
    return this.links.get(name);
  }

  /** Every link to a node (client links are not among them). */
  all(): Link[] {
    return [...this.links.values()];
  }

  /** Client links open now. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Node links and client links: what heartbeats and silence checks cover. */
  private everyLink(): Link[] {
    return this.clients.size === 0 ? [...this.links.values()] : [...this.links.values(), ...this.clients.values()];
  }

  /** Whether `link` is still open (not replaced or closed). */
  private isCurrent(link: Link): boolean {
    return link.client ? this.clients.get(link.conn) === link : this.links.get(link.peer.name) === link;
  }

  /** Sends a frame on this very link (a reply to a client, whose name is no address); false when it has closed. */
  sendOn(link: Link, message: LinkMessage): boolean {
    if (!this.isCurrent(link)) return false;
    if (this.enqueue(link, message)) this.scheduleFlush(link, message);
    return true;
  }

  /**
   * Sends a frame on the link to `name`. Small frames (pg and store deltas,
   * pings, leave, a small gossip) wait for a flush on the next timer turn
   * and go as one `batch`:
   * a reconcile pass that changes 1,000 groups costs each peer one transport
   * frame, not 1,000. Other frames (syncs, large gossip, commands) flush what
   * waits and go alone, so per-link order never changes.
   *
   * Calls and their replies (`call`, `call.reply`) are batched too, but
   * flushed once this turn's microtasks have run, not on the next timer
   * turn: a timer of 0 ms fires after at least 1 ms in Node.js, which would
   * add a millisecond to each direction of a call. The calls (and replies)
   * made in one turn — the replies that came in one socket read, and the
   * calls their continuations make — go as one transport frame instead of
   * one write each (the writes were the largest cost of a call under load).
   */
  send(name: string, message: LinkMessage): boolean {
    const link = this.links.get(name);
    if (!link) return false;
    if (this.enqueue(link, message)) this.scheduleFlush(link, message);
    return true;
  }

  /** Arranges the flush of a frame just put in the outbox: at the end of this turn for calls, on the next timer turn for the rest. */
  private scheduleFlush(link: Link, message: LinkMessage): void {
    if (message.t === 'call' || message.t === 'call.reply') {
      if (link.flushQueued) return;
      link.flushQueued = true;
      queueMicrotask(() => {
        link.flushQueued = false;
        // Race "link replaced or closed meanwhile": flush drops the frames of a link that is not current.
        this.flush(link);
      });
      return;
    }
    link.flushTimer ??= this.o.clock.setTimeout(() => this.flush(link), 0);
  }

  /**
   * Like `send`, for a frame nothing waits on (periodic gossip): it rides
   * with whatever goes next on the link, at the latest with the next
   * heartbeat's ping, instead of costing both ends a frame of its own.
   */
  sendWithNextFrame(name: string, message: LinkMessage): boolean {
    const link = this.links.get(name);
    if (!link) return false;
    this.enqueue(link, message);
    return true;
  }

  /** Puts `message` in the outbox (true), or sends it alone at once (false: not batchable for this peer). */
  private enqueue(link: Link, message: LinkMessage): boolean {
    this.stats.framesOut++;
    const bytes = batchableBytes(message);
    if (bytes === undefined) {
      this.sendAlone(link, message);
      return false;
    }
    if (link.outbox.length >= MAX_BATCH_FRAMES || link.outboxBytes + bytes > BATCH_BYTES) this.flush(link);
    link.outbox.push(message);
    link.outboxBytes += bytes;
    return true;
  }

  /** Sends a frame at once, after what waits in the outbox; a large sync goes in parts. */
  private sendAlone(link: Link, message: LinkMessage): void {
    this.flush(link);
    if (message.t === 'pg.sync' && message.groups.length > SYNC_PART_GROUPS) {
      // In parts, so that neither end spends seconds on one frame (and misses heartbeats meanwhile).
      for (let at = 0; at < message.groups.length; at += SYNC_PART_GROUPS) {
        const groups = message.groups.slice(at, at + SYNC_PART_GROUPS);
        this.stats.transportFramesOut++;
        link.conn.send(at + SYNC_PART_GROUPS < message.groups.length ? { ...message, groups, more: true } : { ...message, groups });
      }
      return;
    }
    this.stats.transportFramesOut++;
    link.conn.send(message);
  }

  /** Sends what waits in the outbox: one frame alone, several as a batch. */
  private flush(link: Link): void {
    this.o.clock.clearTimeout(link.flushTimer);
    link.flushTimer = undefined;
    const frames = link.outbox;
    if (frames.length === 0) return;
    link.outbox = [];
    link.outboxBytes = 0;
    // Race "link replaced or closed before the flush": its frames die with it, as they would in its socket.
    if (!this.isCurrent(link)) return;
    if (frames.length > 1) this.stats.batchesOut++;
    this.stats.transportFramesOut++;
    this.safely(() => link.conn.send(frames.length === 1 ? frames[0] : { t: 'batch', frames }));
  }

  /**
   * Graceful departure: sends `leave` on every link and refuses new
   * connections. Each peer closes its link when it reads the leave, which
   * proves delivery; links still open after `graceMs` are closed anyway.
   * `done` runs once every link is gone.
   */
  leave(reason: string, graceMs: number, done: () => void): void {
    this.stopping = true;
    for (const p of [...this.pending]) {
      // Race "leaving while our auth is on its way": the acceptor takes the link as soon as it
      // checks our auth, and would see it drop without a word — a member-down for a node that
      // left (a short `pogo ctl` call that dialled a peer it learned of just before it ended).
      // The leave goes behind the auth on the same connection, so it reaches the link it makes.
      if (p.state === 'out:awaiting-welcome') this.write(p.conn, { t: 'leave', reason });
      this.abandon(p, 'shutting down');
    }
    const finish = (): void => {
      this.onAllLinksClosed = undefined;
      this.o.clock.clearTimeout(timer);
      this.shutdown();
      done();
    };
    const timer = this.o.clock.setTimeout(finish, graceMs);
    // Clients are told and closed now: nothing waits for them.
    for (const link of [...this.clients.values()]) {
      this.enqueue(link, { t: 'leave', reason });
      this.closeLink(link, `shutting down: ${reason}`);
    }
    for (const link of this.all()) this.send(link.peer.name, { t: 'leave', reason });
    if (this.links.size === 0) finish();
    else this.onAllLinksClosed = finish;
  }

  /** Closes every link and handshake and stops timers (no leave announcement). */
  shutdown(): void {
    this.stopping = true;
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.o.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    for (const link of this.everyLink()) this.closeLink(link, 'shutting down');
    for (const p of [...this.pending]) this.abandon(p, 'shutting down');
  }

  /** Closes this very link (a client's: its name is no address). */
  closeOn(link: Link, reason: string): void {
    if (this.isCurrent(link)) this.closeLink(link, reason);
  }

  /** Closes the link to `name` (for tests and operators); the peer sees it go down. */
  disconnect(name: string, reason: string): void {
    const link = this.links.get(name);
    if (link) this.closeLink(link, reason);
  }

  // ---- handshake -------------------------------------------------------

  private track(conn: Conn, dialledAddress: string | undefined, state: HandshakeState): void {
    const p: Pending = { conn, dialledAddress, state, nonce: this.o.random.hex(16), peer: undefined, peerNonce: undefined, peerProtocol: undefined, peerTiming: undefined, client: false, timer: undefined, done: false };
    this.pending.add(p);
    p.timer = this.o.clock.setTimeout(() => this.fail(p, 'handshake-timeout', `no handshake within ${this.o.timing.handshakeTimeoutMs} ms`, true), this.o.timing.handshakeTimeoutMs);
    conn.setHandlers({
      onOpen: () => this.safely(() => this.onPendingOpen(p)),
      onMessage: (raw) => this.safely(() => (p.done ? this.onLinkFrame(conn, raw) : this.onHandshakeFrame(p, raw))),
      onClose: (reason) => this.safely(() => (p.done ? this.onLinkClosed(conn, reason) : this.onPendingClosed(p, reason))),
      onInvalid: (reason: string) => this.safely(() => this.onInvalidFrame(conn, p, reason)),
    });
  }

  private onPendingOpen(p: Pending): void {
    if (p.done || p.state !== 'out:connecting') return;
    const id = this.o.identity;
    const hello: Hello = { t: 'hello', cluster: id.cluster, protocol: { ...PROTOCOL_VERSION }, name: id.name, incarnation: id.incarnation, startedAt: id.startedAt, address: id.address, role: id.role, nonce: p.nonce, heartbeat: announce(this.o.timing), ...(id.client ? { client: true as const } : {}) };
    p.state = 'out:awaiting-challenge';
    this.write(p.conn, hello);
  }

  private onHandshakeFrame(p: Pending, raw: unknown): void {
    this.stats.framesIn++;
    // A hello or challenge from a newer minor version may carry fields we do not know.
    const claimed = p.peerProtocol ?? claimedProtocol(raw);
    const decoded = decodeMessage(raw, { tolerant: claimed !== undefined && isNewerMinor(claimed) });
    if (!decoded.ok) {
      this.stats.invalidFrames++;
      this.o.log.warn({ remote: p.conn.remote, reason: decoded.reason }, 'invalid handshake frame');
      this.fail(p, 'malformed', `invalid handshake frame: ${decoded.reason}`, true);
      return;
    }
    const m = decoded.message;
    if (m.t === 'reject') {
      // Race "a squatter says `self`": `self` makes the dialler stop dialling that address for
      // good, so believe it only when this node really refused its own hello (same nonce).
      if (m.code === 'self' && !this.selfNonces.delete(p.nonce)) {
        this.fail(p, 'malformed', `refused by peer as "self", but this node did not receive its own hello: ${m.message}`, false, p.peer?.name);
        return;
      }
      this.fail(p, m.code, `refused by peer: ${m.message}`, false, p.peer?.name);
      return;
    }
    if (p.state === 'in:awaiting-hello' && m.t === 'hello') return this.onHello(p, m);
    if (p.state === 'out:awaiting-challenge' && m.t === 'challenge') return this.onChallenge(p, m);
    if (p.state === 'in:awaiting-auth' && m.t === 'auth') {
      const peer = p.peer!;
      const expected = handshakeProof(this.o.secret, 'dialer', this.o.identity.cluster, { name: peer.name, incarnation: peer.incarnation, nonce: p.peerNonce! }, { name: this.o.identity.name, incarnation: this.o.identity.incarnation, nonce: p.nonce });
      if (!proofMatches(expected, m.proof)) {
        this.fail(p, 'auth-failed', `authentication failed: ${peer.name} does not hold our cluster secret (wrong secret on one side?)`, true, peer.name);
        return;
      }
      this.write(p.conn, { t: 'welcome' });
      this.establish(p);
      return;
    }
    if (p.state === 'out:awaiting-welcome' && m.t === 'welcome') {
      this.establish(p);
      return;
    }
    this.fail(p, 'malformed', `unexpected ${m.t} during handshake (${p.state})`, true);
  }

  /** Checks shared by both sides once the peer's identity is known. Returns a refusal or undefined. */
  private checkPeer(peer: PeerIdentity & { cluster: string; protocol: { major: number; minor: number } }): { code: RejectCode; message: string } | undefined {
    const me = this.o.identity;
    if (peer.cluster !== me.cluster) return { code: 'cluster-mismatch', message: `cluster ${JSON.stringify(peer.cluster)} does not match ${JSON.stringify(me.cluster)}` };
    if (!isCompatibleVersion(peer.protocol)) return { code: 'version-mismatch', message: `protocol ${peer.protocol.major}.${peer.protocol.minor} is incompatible with ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}` };
    if (peer.name === me.name) {
      if (peer.incarnation === me.incarnation) return { code: 'self', message: 'connected to itself' };
      return { code: 'duplicate-name', message: `name ${peer.name} is already used by the node at ${me.address}` };
    }
    const existing = this.links.get(peer.name);
    if (existing && existing.peer.incarnation !== peer.incarnation && !existing.suspect) {
      return { code: 'duplicate-name', message: `name ${peer.name} is already used by a live node at ${existing.peer.address}` };
    }
    return undefined;
  }

  private onHello(p: Pending, m: Hello): void {
    const peer: PeerIdentity = { name: m.name, incarnation: m.incarnation, startedAt: m.startedAt, address: m.address, role: m.role };
    p.peerProtocol = { major: m.protocol.major, minor: m.protocol.minor };
    if (m.client === true) return this.onClientHello(p, m, peer);
    const refusal = this.checkPeer({ ...peer, cluster: m.cluster, protocol: m.protocol });
    if (refusal) {
      if (refusal.code === 'self') {
        if (this.selfNonces.size >= 64) this.selfNonces.clear();
        this.selfNonces.add(m.nonce);
      }
      this.fail(p, refusal.code, refusal.message, true, peer.name);
      return;
    }
    // Rule 2: both dialled at once. The smaller name's dial wins.
    for (const other of this.pending) {
      if (other === p || other.conn.direction !== 'out' || other.done) continue;
      const sameTarget = other.peer?.name === peer.name || other.dialledAddress === peer.address;
      if (!sameTarget) continue;
      if (peer.name < this.o.identity.name) {
        this.fail(other, 'simultaneous-dial', `${peer.name} dialled us at the same time; its dial wins`, true, peer.name);
      } else {
        this.fail(p, 'simultaneous-dial', `we are dialling ${peer.name} at the same time; our dial wins`, true, peer.name);
        return;
      }
    }
    p.peer = peer;
    p.peerNonce = m.nonce;
    p.peerTiming = announced(m.heartbeat);
    p.state = 'in:awaiting-auth';
    const id = this.o.identity;
    const proof = handshakeProof(this.o.secret, 'acceptor', id.cluster, { name: peer.name, incarnation: peer.incarnation, nonce: m.nonce }, { name: id.name, incarnation: id.incarnation, nonce: p.nonce });
    const challenge: Challenge = { t: 'challenge', cluster: id.cluster, protocol: { ...PROTOCOL_VERSION }, name: id.name, incarnation: id.incarnation, startedAt: id.startedAt, address: id.address, role: id.role, nonce: p.nonce, proof, heartbeat: announce(this.o.timing) };
    this.write(p.conn, challenge);
  }

  /**
   * A client's hello (see the header): the cluster and the major version
   * must match; none of the node rules apply (names, one link per pair). The
   * challenge proves this node holds the secret, as to any peer.
   */
  private onClientHello(p: Pending, m: Hello, peer: PeerIdentity): void {
    const me = this.o.identity;
    if (!this.o.events.client || me.client) return this.fail(p, 'malformed', `${me.name} accepts no client links`, true, peer.name);
    if (m.cluster !== me.cluster) return this.fail(p, 'cluster-mismatch', `cluster ${JSON.stringify(m.cluster)} does not match ${JSON.stringify(me.cluster)}`, true, peer.name);
    if (!isCompatibleVersion(m.protocol)) return this.fail(p, 'version-mismatch', `protocol ${m.protocol.major}.${m.protocol.minor} is incompatible with ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}`, true, peer.name);
    p.peer = peer;
    p.peerNonce = m.nonce;
    p.peerTiming = announced(m.heartbeat);
    p.client = true;
    p.state = 'in:awaiting-auth';
    const proof = handshakeProof(this.o.secret, 'acceptor', me.cluster, { name: peer.name, incarnation: peer.incarnation, nonce: m.nonce }, { name: me.name, incarnation: me.incarnation, nonce: p.nonce });
    const challenge: Challenge = { t: 'challenge', cluster: me.cluster, protocol: { ...PROTOCOL_VERSION }, name: me.name, incarnation: me.incarnation, startedAt: me.startedAt, address: me.address, role: me.role, nonce: p.nonce, proof, heartbeat: announce(this.o.timing) };
    this.write(p.conn, challenge);
  }

  private onChallenge(p: Pending, m: Challenge): void {
    const peer: PeerIdentity = { name: m.name, incarnation: m.incarnation, startedAt: m.startedAt, address: m.address, role: m.role };
    p.peer = peer;
    p.peerProtocol = { major: m.protocol.major, minor: m.protocol.minor };
    const refusal = this.checkPeer({ ...peer, cluster: m.cluster, protocol: m.protocol });
    // A challenge naming this very node can only be an echo of our hello (dialling ourselves
    // ends at the hello): check its proof first, so an echo is `auth-failed`, retried later,
    // rather than `self`, which stops dialling the address for good.
    if (refusal && refusal.code !== 'self') {
      this.fail(p, refusal.code, refusal.message, true, peer.name);
      return;
    }
    const id = this.o.identity;
    const expected = handshakeProof(this.o.secret, 'acceptor', id.cluster, { name: id.name, incarnation: id.incarnation, nonce: p.nonce }, { name: peer.name, incarnation: peer.incarnation, nonce: m.nonce });
    if (refusal && proofMatches(expected, m.proof)) {
      this.fail(p, refusal.code, refusal.message, true, peer.name);
      return;
    }
    if (!proofMatches(expected, m.proof)) {
      this.fail(p, 'auth-failed', `authentication failed: ${peer.name} does not hold our cluster secret (wrong secret on one side?)`, true, peer.name);
      return;
    }
    if (id.client) {
      // A client checks what it dialled before it answers (see the header): no half-session.
      if (m.protocol.major === CLIENT_LINKS_SINCE.major && m.protocol.minor < CLIENT_LINKS_SINCE.minor) {
        this.fail(p, 'version-mismatch', `${peer.name} speaks protocol ${m.protocol.major}.${m.protocol.minor}, which has no client links (since ${CLIENT_LINKS_SINCE.major}.${CLIENT_LINKS_SINCE.minor}): upgrade it, or use the pogo of its release`, true, peer.name);
        return;
      }
      if (m.role !== 'member') {
        this.fail(p, 'not-a-member', `${peer.name} is an ${m.role}; only members execute commands: give a member's address`, false, peer.name);
        return;
      }
    }
    // Rule 3: this address is an alias of a peer we are already linked to.
    const existing = this.links.get(peer.name);
    if (existing && existing.peer.incarnation === peer.incarnation) {
      this.fail(p, 'already-linked', `already linked to ${peer.name}`, false, peer.name);
      return;
    }
    p.peerTiming = announced(m.heartbeat);
    p.state = 'out:awaiting-welcome';
    const proof = handshakeProof(this.o.secret, 'dialer', id.cluster, { name: id.name, incarnation: id.incarnation, nonce: p.nonce }, { name: peer.name, incarnation: peer.incarnation, nonce: m.nonce });
    this.write(p.conn, { t: 'auth', proof });
  }

  private establish(p: Pending): void {
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    if (p.client) return this.establishClient(p);
    const peer = p.peer!;
    // Rule 4: a newer handshake with the same peer replaces an older link.
    const old = this.links.get(peer.name);
    if (old) this.closeLink(old, old.peer.incarnation === peer.incarnation ? 'replaced by a newer link' : `replaced by incarnation ${peer.incarnation}`);
    const link = this.newLink(p, false);
    const { protocol, timing, establishedAt: now } = link;
    this.links.set(peer.name, link);
    this.o.log.debug({ peer: peer.name, incarnation: peer.incarnation, direction: link.direction, protocol: `${protocol.major}.${protocol.minor}`, intervalMs: timing.heartbeatIntervalMs, suspectAfterMs: timing.suspectAfterMs, timeoutMs: timing.heartbeatTimeoutMs }, 'link up');
    // A link that pings faster than the ticker runs: the ticker speeds up now, not after its current wait.
    if (this.heartbeatTimer !== undefined && now + timing.heartbeatIntervalMs < this.beatDueAt) this.armHeartbeat(now + timing.heartbeatIntervalMs);
    if (isNewerMinor(protocol)) this.o.log.info({ peer: peer.name, protocol: `${protocol.major}.${protocol.minor}`, ours: `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}` }, 'peer speaks a newer minor protocol version; what this node does not know of it is ignored');
    this.emit(() => this.o.events.linkUp(link));
  }

  private newLink(p: Pending, client: boolean): Link {
    const now = this.o.clock.now();
    const protocol = p.peerProtocol ?? { ...PROTOCOL_VERSION };
    const timing = linkHeartbeat(this.o.timing, p.peerTiming);
    // nextPingAt now: the first ping goes at the next tick, so the peer hears (and confirms) us soon.
    return { peer: p.peer!, client, direction: p.conn.direction, dialledAddress: p.dialledAddress, establishedAt: now, lastHeardAt: now, suspect: false, rttMs: undefined, confirmedAt: undefined, confirmedSeq: -1, pingIn: undefined, protocol, peerTiming: p.peerTiming, timing, nextPingAt: now, conn: p.conn, outbox: [], outboxBytes: 0, flushTimer: undefined, flushQueued: false };
  }

  /** A client's link (see the header): kept apart, reported through `events.client` only. */
  private establishClient(p: Pending): void {
    const link = this.newLink(p, true);
    this.clients.set(p.conn, link);
    this.o.log.debug({ client: link.peer.name, remote: p.conn.remote, protocol: `${link.protocol.major}.${link.protocol.minor}` }, 'client linked');
    if (this.heartbeatTimer !== undefined && link.nextPingAt + link.timing.heartbeatIntervalMs < this.beatDueAt) this.armHeartbeat(link.nextPingAt + link.timing.heartbeatIntervalMs);
    this.emit(() => this.o.events.client!.up(link));
  }

  private fail(p: Pending, code: DialFailureCode, message: string, tellPeer: boolean, peerName?: string): void {
    if (p.done) return;
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    if (code !== 'simultaneous-dial' && code !== 'already-linked') this.stats.handshakesRejected++;
    if (tellPeer && code !== 'unreachable' && code !== 'already-linked' && code !== 'not-a-member') this.write(p.conn, { t: 'reject', code, message });
    p.conn.close(`${code}: ${message}`);
    const level = code === 'simultaneous-dial' || code === 'already-linked' || code === 'self' ? 'debug' : 'warn';
    this.o.log[level]({ remote: p.dialledAddress ?? p.conn.remote, peer: peerName, code, direction: p.conn.direction }, `handshake failed: ${message}`);
    if (p.dialledAddress !== undefined) {
      const address = p.dialledAddress;
      this.emit(() => this.o.events.dialFailed(address, { code, message, ...(peerName !== undefined ? { peerName } : {}) }));
    }
  }

  private abandon(p: Pending, reason: string): void {
    if (p.done) return;
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    p.conn.close(reason);
  }

  private onPendingClosed(p: Pending, reason: string): void {
    if (p.done) return;
    this.fail(p, 'unreachable', reason, false, p.peer?.name);
  }

  /** Refuses a connection before any handshake: the reject goes out as soon as the connection is open (at once on Socket.IO), then it is closed. */
  private refuseRaw(conn: Conn, code: RejectCode, message: string): void {
    conn.setHandlers({
      onOpen: () => {
        this.write(conn, { t: 'reject', code, message });
        conn.close(message);
      },
      onMessage: () => {},
      onClose: () => {},
    });
  }

  private onInvalidFrame(conn: Conn, p: Pending, reason: string): void {
    this.stats.invalidFrames++;
    if (!p.done) {
      this.o.log.warn({ remote: conn.remote, reason }, 'invalid frame during handshake');
      this.fail(p, 'malformed', reason, true, p.peer?.name);
      return;
    }
    this.o.log.warn({ peer: p.peer?.name, reason }, 'invalid frame dropped');
  }

  // ---- established links ------------------------------------------------

  private linkOf(conn: Conn): Link | undefined {
    const client = this.clients.get(conn);
    if (client) return client;
    for (const link of this.links.values()) if (link.conn === conn) return link;
    return undefined;
  }

  private onLinkFrame(conn: Conn, raw: unknown): void {
    const link = this.linkOf(conn);
    if (!link) return; // Race: a frame on a link that was just replaced or closed.
    link.lastHeardAt = this.o.clock.now();
    if (link.suspect) {
      link.suspect = false;
      this.o.log.info({ peer: link.peer.name }, 'peer no longer suspect');
      if (!link.client) this.emit(() => this.o.events.suspect(link));
    }
    const batch = decodeBatch(raw);
    if (batch !== undefined) {
      if (!batch.ok) {
        this.stats.invalidFrames++;
        this.o.log.warn({ peer: link.peer.name, reason: batch.reason }, 'invalid frame dropped');
        return;
      }
      // Each inner frame is handled as if it had come alone; the link may go down half-way (a leave).
      for (const frame of batch.frames) {
        if (!this.isCurrent(link)) return;
        this.onLinkMessage(link, frame);
      }
      return;
    }
    this.onLinkMessage(link, raw);
  }

  private onLinkMessage(link: Link, raw: unknown): void {
    this.stats.framesIn++;
    const newer = isNewerMinor(link.protocol);
    const decoded = decodeMessage(raw, { tolerant: newer });
    if (!decoded.ok) {
      if (newer && decoded.unknownType !== undefined) {
        this.o.log.debug({ peer: link.peer.name, t: decoded.unknownType, protocol: `${link.protocol.major}.${link.protocol.minor}` }, 'message type from a newer protocol version ignored');
        return;
      }
      this.stats.invalidFrames++;
      this.o.log.warn({ peer: link.peer.name, reason: decoded.reason }, 'invalid frame dropped');
      return;
    }
    const m: PeerMessage = decoded.message;
    switch (m.t) {
      case 'ping': {
        const now = this.o.clock.now();
        if (m.echo) {
          link.rttMs = Math.max(0, now - m.echo.sentAt - m.echo.heldMs);
          // Our own seq and clock, echoed: only what we sent counts (a peer cannot claim a ping we never sent).
          if (m.echo.seq < this.pingSeq && m.echo.seq > link.confirmedSeq && m.echo.sentAt <= now) {
            link.confirmedSeq = m.echo.seq;
            link.confirmedAt = m.echo.sentAt;
            if (!link.client) this.emit(() => this.o.events.confirmed(link));
          }
        }
        link.pingIn = { seq: m.seq, sentAt: m.sentAt, at: now };
        // A probe: answer now, with a ping that echoes it.
        if (m.reply) this.ping(link, false);
        return;
      }
      case 'pong':
        link.rttMs = Math.max(0, this.o.clock.now() - m.sentAt);
        return;
      case 'hello':
      case 'challenge':
      case 'auth':
      case 'welcome':
      case 'reject':
        this.o.log.warn({ peer: link.peer.name, t: m.t }, 'handshake frame on an established link dropped');
        return;
      default:
        if (link.client) this.emit(() => this.o.events.client?.message(link, m));
        else this.emit(() => this.o.events.message(link, m));
    }
  }

  private onLinkClosed(conn: Conn, reason: string): void {
    const link = this.linkOf(conn);
    if (link) this.removeLink(link, reason);
  }

  private closeLink(link: Link, reason: string): void {
    this.flush(link);
    link.conn.close(reason);
    this.removeLink(link, reason);
  }

  private removeLink(link: Link, reason: string): void {
    if (!this.isCurrent(link)) return;
    this.o.clock.clearTimeout(link.flushTimer);
    link.flushTimer = undefined;
    link.outbox = [];
    if (link.client) {
      this.clients.delete(link.conn);
      this.o.log.debug({ client: link.peer.name, reason }, 'client link closed');
      this.emit(() => this.o.events.client?.down(link, reason));
      return;
    }
    this.links.delete(link.peer.name);
    this.o.log.debug({ peer: link.peer.name, reason }, 'link down');
    this.emit(() => this.o.events.linkDown(link, reason));
    if (this.links.size === 0) this.onAllLinksClosed?.();
  }

  /** The heartbeat ticker's period: the shortest ping interval among the links, our own without links. */
  private tickMs(): number {
    let tick = this.o.timing.heartbeatIntervalMs;
    for (const link of this.everyLink()) tick = Math.min(tick, link.timing.heartbeatIntervalMs);
    return tick;
  }

  private scheduleHeartbeat(): void {
    this.armHeartbeat(this.o.clock.now() + this.tickMs());
  }

  private armHeartbeat(dueAt: number): void {
    this.o.clock.clearTimeout(this.heartbeatTimer);
    this.beatDueAt = dueAt;
    this.heartbeatTimer = this.o.clock.setTimeout(() => {
      this.heartbeatTimer = undefined;
      let next: number | undefined;
      this.safely(() => (next = this.heartbeat()));
      if (!this.stopping) {
        if (next === undefined) this.scheduleHeartbeat();
        else this.armHeartbeat(next);
      }
      this.scheduleSilenceCheck();
    }, Math.max(0, dueAt - this.o.clock.now()));
  }

  /** Checks silence and pings the links that are due; returns when the next tick is due. */
  private heartbeat(): number {
    const now = this.o.clock.now();
    this.checkSilence(now, this.beatDueAt);
    // After the silence check, which may have closed links: the next tick is this far away,
    // and no link's ping may wait past it.
    const nextTick = now + this.tickMs();
    let seq: number | undefined;
    for (const link of this.everyLink()) {
      // Not yet: the next tick still sends this link's ping in time (see "Mixed settings").
      if (link.nextPingAt >= nextTick) continue;
      seq ??= this.pingSeq++;
      link.nextPingAt = now + link.timing.heartbeatIntervalMs;
      this.enqueue(link, this.pingFor(link, seq, now, false));
    }
    // The pings go now, with what waited for them (gossip), not on a flush timer a moment later:
    // one wake-up per tick instead of two.
    for (const link of this.everyLink()) if (link.outbox.length > 0) this.flush(link);
    return nextTick;
  }

  private pingFor(link: Link, seq: number, now: number, reply: boolean): LinkMessage {
    const echo = link.pingIn && { seq: link.pingIn.seq, sentAt: link.pingIn.sentAt, heldMs: now - link.pingIn.at };
    link.pingIn = undefined;
    return { t: 'ping', seq, sentAt: now, ...(echo ? { echo } : {}), ...(reply ? { reply: true as const } : {}) };
  }

  /** Sends one ping on `link` now, after what waits in its outbox (a probe asks the peer to answer at once). */
  private ping(link: Link, probe: boolean): void {
    this.enqueue(link, this.pingFor(link, this.pingSeq++, this.o.clock.now(), probe));
    this.flush(link);
  }

  /**
   * The seq the next ping will carry: once a peer has echoed a ping with at
   * least this seq (`Link.confirmedSeq`), it has processed everything sent
   * to it before this call.
   */
  get nextPingSeq(): number {
    return this.pingSeq;
  }

  /** Probes the link to `name` now: the peer answers at once with a ping that echoes ours (a round trip, not a heartbeat). */
  probe(name: string): void {
    const link = this.links.get(name);
    if (link) this.ping(link, true);
  }

  /**
   * Suspects and closes silent links. Runs on every heartbeat tick, and in
   * between only when a threshold falls before the next tick: a quiet link
   * that has been silent for most of the timeout is closed when the timeout
   * passes, not up to a heartbeat interval later. A healthy cluster never
   * arms this extra timer (every link was heard within the last interval).
   */
  private checkSilence(now: number, dueAt: number): void {
    // Race "our own stall": after a busy stretch a timer runs before the poll phase has read
    // what peers sent meanwhile. Silence counts only while this node could listen, so a late
    // timer credits its lateness to every link instead of blaming the peers for it (a stretch
    // already credited by an earlier late timer is not credited twice).
    const late = now - Math.max(dueAt, this.creditedUntil);
    if (late > 0) {
      this.stats.stalledMs += late;
      for (const link of this.everyLink()) link.lastHeardAt = Math.min(now, link.lastHeardAt + late);
    }
    this.creditedUntil = Math.max(this.creditedUntil, now);
    for (const link of this.everyLink()) {
      const silence = now - link.lastHeardAt;
      if (silence >= link.timing.heartbeatTimeoutMs) {
        this.o.log.warn({ peer: link.peer.name, silenceMs: silence, timeoutMs: link.timing.heartbeatTimeoutMs }, 'peer silent past the heartbeat timeout; closing link');
        this.closeLink(link, `heartbeat timeout after ${silence} ms`);
        continue;
      }
      if (silence >= link.timing.suspectAfterMs && !link.suspect) {
        link.suspect = true;
        this.o.log.info({ peer: link.peer.name, silenceMs: silence }, 'peer suspect');
        if (!link.client) this.emit(() => this.o.events.suspect(link));
      }
    }
  }

  /** Arms the in-between silence check when a link's suspect or timeout threshold falls before the next tick. */
  private scheduleSilenceCheck(): void {
    this.o.clock.clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (this.stopping) return;
    let due = Infinity;
    for (const link of this.everyLink()) {
      const { suspectAfterMs, heartbeatTimeoutMs } = link.timing;
      due = Math.min(due, link.lastHeardAt + (link.suspect ? heartbeatTimeoutMs : Math.min(suspectAfterMs, heartbeatTimeoutMs)));
    }
    if (due >= this.beatDueAt) return;
    const dueAt = Math.max(due, this.o.clock.now());
    this.silenceTimer = this.o.clock.setTimeout(() => {
      this.silenceTimer = undefined;
      this.safely(() => this.checkSilence(this.o.clock.now(), dueAt));
      this.scheduleSilenceCheck();
    }, dueAt - this.o.clock.now());
  }

  // ---- helpers ----------------------------------------------------------

  /** Whether to log this refusal: up to REFUSAL_LOG_BURST per second, then the next line carries how many were not logged. */
  private refusalThrottle(): { log: boolean; suppressed: number } {
    const now = this.o.clock.now();
    const w = this.refusalWindow;
    if (now - w.start >= 1000) {
      w.start = now;
      w.logged = 0;
    }
    if (w.logged >= REFUSAL_LOG_BURST) {
      w.suppressed++;
      return { log: false, suppressed: 0 };
    }
    w.logged++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return { log: true, suppressed };
  }

  private write(conn: Conn, message: PeerMessage): void {
    this.stats.framesOut++;
    conn.send(message);
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, 'link event handler threw');
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err }, 'link layer error');
    }
  }
}

/** Groups per part of a sync sent in parts. */
const SYNC_PART_GROUPS = 500;

/** Largest estimated size of a batch; far below any sane `maxMessageBytes` (default 16 MiB). */
const BATCH_BYTES = 512 * 1024;

/**
 * The estimated wire size of a frame that may wait in a batch, or undefined
 * for frames that always go alone (syncs, gossip, commands: large, or rare).
 * An estimate from a bounded walk (no JSON string is built): a frame
 * estimated past a quarter of a batch goes alone as well.
 */
function batchableBytes(message: LinkMessage): number | undefined {
  switch (message.t) {
    case 'ping':
    case 'pong':
    case 'leave':
      return 64;
    case 'res':
      return 200;
    case 'pg.leave':
      return 64 + message.group.length + message.scope.length + message.pids.reduce((n, pid) => n + pid.length + 3, 0);
    case 'gossip': {
      const bytes = 32 + jsonBytes(message.members, BATCH_BYTES / 4);
      return bytes > BATCH_BYTES / 4 ? undefined : bytes;
    }
    case 'rs.ack':
    case 'rs.synced':
    case 'rs.digest-req':
      return 64;
    case 'call':
    case 'call.reply':
    case 'rs.delta':
    case 'rs.regs':
    case 'rs.pull':
    case 'rs.digest': {
      const bytes = 64 + jsonBytes(message, BATCH_BYTES / 4);
      return bytes > BATCH_BYTES / 4 ? undefined : bytes;
    }
    case 'pg.join': {
      const limit = BATCH_BYTES / 4;
      let bytes = 64 + message.group.length + message.scope.length;
      for (const entry of message.entries) {
        bytes += entry.pid.length + 16 + (entry.value === undefined ? 0 : jsonBytes(entry.value, limit - bytes));
        if (bytes > limit) return undefined;
      }
      return bytes;
    }
    default:
      return undefined;
  }
}

/** Roughly how many bytes `value` takes as JSON, giving up (returning more than `budget`) once past `budget`. */
function jsonBytes(value: unknown, budget: number): number {
  let bytes = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && bytes <= budget) {
    const v = stack.pop();
    if (typeof v === 'string') bytes += v.length + 2;
    else if (v === null || typeof v !== 'object') bytes += 8;
    else if (Array.isArray(v)) {
      bytes += 2 + v.length;
      for (const x of v) stack.push(x);
    } else {
      for (const [k, x] of Object.entries(v)) {
        bytes += k.length + 4;
        stack.push(x);
      }
      bytes += 2;
    }
  }
  return bytes;
}
