/**
 * Links: authenticated, one-per-pair connections between nodes, with
 * heartbeats. Transport-agnostic, so the simulation tests exercise exactly
 * this code.
 *
 * The handshake (hello, challenge, auth, welcome; the proofs and the checks
 * of each frame) is in handshake.ts as pure functions; this file runs its
 * state machine per connection. The parts of an established link live
 * beside it: table.ts (the links), outbox.ts (batching), failure-detector.ts
 * (heartbeats and silence), types.ts (the records and events).
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
 * Failure detection (failure-detector.ts): pings, round trips, suspect and
 * timeout after silence; a closed connection (process killed, socket
 * reset) takes the link down at once.
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
 * incoming connections may be in their handshake at once, and each must
 * finish within `handshakeTimeoutMs`. When one more arrives, the oldest
 * incoming handshake is dropped to make room for it (refused with
 * `too-many-handshakes`), not the newcomer: an honest peer finishes its
 * handshake in two round trips, so it is never the oldest for long, while
 * a squatter that holds its connections open and silent is. Refusing the
 * newcomer instead let anyone who could reach the port, with no secret,
 * keep every `pogo ctl`, observer and rejoining member out with 64 silent
 * connections renewed every `handshakeTimeoutMs` (an outsider's tour). The
 * node's own dials do not count: they are its own doing, and a burst of
 * them (a gossip of many unreachable members) must not shut the port. The transport bounds what comes before (see
 * socketio.ts), and may have refused the peer already (a TLS client
 * certificate: `Conn.authError`), which is answered with `auth-failed` and
 * the reason. Every refusal is logged with its reason; refusals for the
 * limit, which come in floods, are summarised (at most `REFUSAL_LOG_BURST`
 * lines per second, then one line with the count of the rest).
 */
import type { Conn, TransportRefusal } from '../transport/transport.js';
import {
  PROTOCOL_VERSION,
  decodeBatch,
  decodeMessage,
  isNewerMinor,
  type Challenge,
  type Hello,
  type LinkMessage,
  type PeerMessage,
  type RejectCode,
} from '../protocol.js';
import { FailureDetector, linkHeartbeat } from './failure-detector.js';
import {
  announced,
  buildChallenge,
  buildHello,
  checkAuth,
  checkChallenge,
  checkClientHello,
  checkPeer,
  claimedProtocol,
  dialerProof,
  peerDialWins,
} from './handshake.js';
import { Outbox } from './outbox.js';
import { LinkTable } from './table.js';
import type { DialFailureCode, HeartbeatTiming, Link, LinkLayerOptions, LinkStats, LocalIdentity, PeerIdentity, ProtocolVersion } from './types.js';
import type { TimerHandle } from '../clock.js';

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
  /** The connection has opened (an accepted one opens just after it arrives; a frame sent before is lost). */
  opened: boolean;
}

/** Refusal lines logged per second at most before they are only counted (a flood must not flood the log). */
export const REFUSAL_LOG_BURST = 10;

export class LinkLayer {
  /** Node links by name, client links by connection (clients' names are labels, not identities: see the header). */
  private readonly table = new LinkTable();
  private readonly pending = new Set<Pending>();
  private readonly outbox: Outbox;
  private readonly detector: FailureDetector;
  private stopping = false;
  private onAllLinksClosed: (() => void) | undefined;
  /** Refusal log throttle: lines logged in the current one-second window, and refusals not logged. */
  private refusalWindow = { start: Number.NEGATIVE_INFINITY, logged: 0, suppressed: 0 };
  /** Nonces of our own hellos that our acceptor refused as `self` (we dialled our own address). */
  private readonly selfNonces = new Set<string>();
  /** framesOut counts link messages; transportFramesOut what went on the wire (a batch is one). */
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, batchesOut: 0, transportFramesOut: 0, invalidFrames: 0, handshakesRejected: 0, stalledMs: 0 };

  /**
   * How long this node's own timers had been kept from running, in the stall
   * under way or one that ended within the last tick (failure-detector.ts
   * `ownStallMs`), in ms; 0 when it runs on time.
   */
  ownStallMs(): number {
    return this.detector.ownStallMs(this.o.clock.now());
  }

  constructor(private readonly o: LinkLayerOptions) {
    // Refusals the transport makes itself (TLS, HTTP, its own limits) go to the node's log too.
    o.transport.useLog?.(o.log.child({ layer: 'transport' }));
    this.outbox = new Outbox({ clock: o.clock, stats: this.stats, isCurrent: (link) => this.isCurrent(link), safely: (fn) => this.safely(fn) });
    this.detector = new FailureDetector({
      clock: o.clock,
      log: o.log,
      timing: o.config.timing,
      stats: this.stats,
      host: {
        everyLink: () => this.everyLink(),
        enqueue: (link, message) => void this.outbox.enqueue(link, message),
        flush: (link) => this.outbox.flush(link),
        // Its own verdict on a silent peer: our stalls are credited already (race "our own stall").
        close: (link, reason) => this.closeLink(link, reason, false, true),
        suspectChanged: (link) => {
          if (!link.client) this.emit(() => this.o.events.suspect(link));
        },
        confirmed: (link) => {
          if (!link.client) this.emit(() => this.o.events.confirmed(link));
        },
        stopping: () => this.stopping,
        safely: (fn) => this.safely(fn),
      },
    });
  }

  get identity(): LocalIdentity {
    return this.o.identity;
  }

  /** Starts the heartbeat ticker. Call once the transport listens. */
  start(): void {
    this.detector.start();
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
    let incoming = 0;
    let oldest: Pending | undefined;
    for (const p of this.pending) {
      if (p.dialledAddress !== undefined) continue;
      incoming++;
      oldest ??= p; // a Set iterates in insertion order
    }
    const limit = this.o.config.maxPendingHandshakes;
    if (incoming >= limit) {
      if (oldest === undefined) {
        // A limit of 0: nothing to make room in.
        this.stats.handshakesRejected++;
        this.logRefusal(conn.remote, limit, 'refused one');
        this.refuseRaw(conn, 'too-many-handshakes', `too many connections in handshake (limit ${limit})`);
        return;
      }
      this.evict(oldest, limit);
    }
    this.track(conn, undefined, 'in:awaiting-hello');
  }

  /** Drops the oldest incoming handshake to make room for a newer one (see the header). */
  private evict(p: Pending, limit: number): void {
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    this.stats.handshakesRejected++;
    const message = `too many connections in handshake (limit ${limit}); this one was the oldest, dropped for a newer one`;
    if (p.opened) {
      this.write(p.conn, { t: 'reject', code: 'too-many-handshakes', message });
      p.conn.close(`too-many-handshakes: ${message}`);
    } else {
      this.refuseRaw(p.conn, 'too-many-handshakes', message);
    }
    this.logRefusal(p.conn.remote, limit, `dropped the oldest, ${p.state}${p.peer ? ` (says it is ${p.peer.name})` : ''}, for a newer one`);
  }

  /** A refusal for the limit, logged at most REFUSAL_LOG_BURST times a second (they come in floods). */
  private logRefusal(remote: string | undefined, limit: number, what: string): void {
    const throttle = this.refusalThrottle();
    if (throttle.log)
      this.o.log.warn(
        { remote, limit, code: 'too-many-handshakes', ...(throttle.suppressed > 0 ? { suppressed: throttle.suppressed } : {}) },
        `too many connections in handshake (limit ${limit}, --max-pending-handshakes); ${what}`,
      );
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
    if (this.table.links.has(name)) return true;
    for (const p of this.pending) if (p.peer?.name === name) return true;
    return false;
  }

  get(name: string): Link | undefined {
    return this.table.links.get(name);
  }

  /** Every link to a node (client links are not among them). */
  all(): Link[] {
    return [...this.table.links.values()];
  }

  /** Client links open now. */
  get clientCount(): number {
    return this.table.clients.size;
  }

  /** Node links and client links: what heartbeats and silence checks cover. */
  private everyLink(): Link[] {
    return this.table.everyLink();
  }

  /** Whether `link` is still open (not replaced or closed). */
  private isCurrent(link: Link): boolean {
    return this.table.isCurrent(link);
  }

  /** Sends a frame on this very link (a reply to a client, whose name is no address); false when it has closed. */
  sendOn(link: Link, message: LinkMessage): boolean {
    if (!this.isCurrent(link)) return false;
    this.outbox.send(link, message);
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
    const link = this.table.links.get(name);
    if (!link) return false;
    this.outbox.send(link, message);
    return true;
  }

  /**
   * Like `send`, for a frame nothing waits on (periodic gossip): it rides
   * with whatever goes next on the link, at the latest with the next
   * heartbeat's ping, instead of costing both ends a frame of its own.
   */
  sendWithNextFrame(name: string, message: LinkMessage): boolean {
    const link = this.table.links.get(name);
    if (!link) return false;
    this.outbox.enqueue(link, message);
    return true;
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
    for (const link of [...this.table.clients.values()]) {
      this.outbox.enqueue(link, { t: 'leave', reason });
      this.closeLink(link, `shutting down: ${reason}`);
    }
    for (const link of this.all()) this.send(link.peer.name, { t: 'leave', reason });
    if (this.table.links.size === 0) finish();
    else this.onAllLinksClosed = finish;
  }

  /** Closes every link and handshake and stops timers (no leave announcement). */
  shutdown(abrupt = false): void {
    this.stopping = true;
    this.detector.stop();
    for (const link of this.everyLink()) this.closeLink(link, 'shutting down', abrupt);
    for (const p of [...this.pending]) this.abandon(p, 'shutting down');
  }

  /** Closes this very link (a client's: its name is no address). */
  closeOn(link: Link, reason: string): void {
    if (this.isCurrent(link)) this.closeLink(link, reason);
  }

  /** Closes the link to `name` (for tests and operators); the peer sees it go down. */
  disconnect(name: string, reason: string): void {
    const link = this.table.links.get(name);
    if (link) this.closeLink(link, reason);
  }

  // ---- handshake -------------------------------------------------------

  private track(conn: Conn, dialledAddress: string | undefined, state: HandshakeState): void {
    const p: Pending = {
      conn,
      dialledAddress,
      state,
      nonce: this.o.random.hex(16),
      peer: undefined,
      peerNonce: undefined,
      peerProtocol: undefined,
      peerTiming: undefined,
      client: false,
      timer: undefined,
      done: false,
      opened: false,
    };
    this.pending.add(p);
    p.timer = this.o.clock.setTimeout(
      () => this.fail(p, 'handshake-timeout', `no handshake within ${this.o.config.timing.handshakeTimeoutMs} ms`, true),
      this.o.config.timing.handshakeTimeoutMs,
    );
    conn.setHandlers({
      onOpen: () => {
        p.opened = true;
        this.safely(() => this.onPendingOpen(p));
      },
      onMessage: (raw) => this.safely(() => (p.done ? this.onLinkFrame(conn, raw) : this.onHandshakeFrame(p, raw))),
      onClose: (reason, byPeer, refused) =>
        this.safely(() => (p.done ? this.onLinkClosed(conn, reason, byPeer === true) : this.onPendingClosed(p, reason, refused))),
      onInvalid: (reason: string) => this.safely(() => this.onInvalidFrame(conn, p, reason)),
    });
  }

  private onPendingOpen(p: Pending): void {
    if (p.done || p.state !== 'out:connecting') return;
    const hello = buildHello(this.o.identity, p.nonce, this.o.config.timing);
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
      // A peer that cannot even read our hello speaks another protocol major: a peer of our major reads a
      // newer minor's hello tolerantly. The first release (1.x) decodes strictly and answers `malformed`
      // ("Unrecognized key"), not `version-mismatch`; taken for what it said, a node upgraded in a rolling
      // restart was not refused by a known code, took every child at its ready timeout and ran a second
      // copy of each beside the old members. Say what it is, and let membership count it as a refusal.
      if (m.code === 'malformed' && p.state === 'out:awaiting-challenge' && m.message.startsWith('invalid handshake frame')) {
        this.fail(
          p,
          'version-mismatch',
          `refused by peer, in its words: "${m.message}": it cannot read the hello of protocol ${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}, ` +
            `so it runs a release of another protocol major (the first release speaks 1.x); nodes of different majors do not link — ` +
            `upgrade every node (a whole-cluster restart)`,
          false,
        );
        return;
      }
      // The peer's own words, quoted and attributed: "n1 does not hold our cluster secret" read, in n1's own log, as n1's verdict.
      this.fail(p, m.code, `refused by peer${p.peer ? ` ${p.peer.name}` : ''}, in its words: "${m.message}"`, false, p.peer?.name);
      return;
    }
    if (p.state === 'in:awaiting-hello' && m.t === 'hello') return this.onHello(p, m);
    if (p.state === 'out:awaiting-challenge' && m.t === 'challenge') return this.onChallenge(p, m);
    if (p.state === 'in:awaiting-auth' && m.t === 'auth') {
      const peer = p.peer!;
      const refusal = checkAuth(this.o.config.secret, this.o.identity, p.nonce, peer, p.peerNonce!, m.proof);
      if (refusal) {
        this.fail(p, refusal.code, refusal.message, true, peer.name);
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

  private onHello(p: Pending, m: Hello): void {
    const peer: PeerIdentity = { name: m.name, incarnation: m.incarnation, startedAt: m.startedAt, address: m.address, role: m.role };
    p.peerProtocol = { major: m.protocol.major, minor: m.protocol.minor };
    if (m.client === true) return this.onClientHello(p, m, peer);
    const refusal = checkPeer(this.o.identity, { ...peer, cluster: m.cluster, protocol: m.protocol }, this.table.links.get(peer.name));
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
      if (peerDialWins(peer.name, this.o.identity.name)) {
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
    this.write(p.conn, buildChallenge(this.o.config.secret, this.o.identity, p.nonce, peer, m, this.o.config.timing));
  }

  /**
   * A client's hello (see the header): the cluster and the major version
   * must match; none of the node rules apply (names, one link per pair). The
   * challenge proves this node holds the secret, as to any peer.
   */
  private onClientHello(p: Pending, m: Hello, peer: PeerIdentity): void {
    const refusal = checkClientHello(this.o.identity, this.o.events.client !== undefined, m);
    if (refusal) return this.fail(p, refusal.code, refusal.message, true, peer.name);
    p.peer = peer;
    p.peerNonce = m.nonce;
    p.peerTiming = announced(m.heartbeat);
    p.client = true;
    p.state = 'in:awaiting-auth';
    this.write(p.conn, buildChallenge(this.o.config.secret, this.o.identity, p.nonce, peer, m, this.o.config.timing));
  }

  private onChallenge(p: Pending, m: Challenge): void {
    const peer: PeerIdentity = { name: m.name, incarnation: m.incarnation, startedAt: m.startedAt, address: m.address, role: m.role };
    p.peer = peer;
    p.peerProtocol = { major: m.protocol.major, minor: m.protocol.minor };
    const refusal = checkChallenge(this.o.config.secret, this.o.identity, p.nonce, m, this.table.links.get(peer.name));
    if (refusal) {
      this.fail(p, refusal.code, refusal.message, refusal.tellPeer, peer.name);
      return;
    }
    p.peerTiming = announced(m.heartbeat);
    p.state = 'out:awaiting-welcome';
    this.write(p.conn, { t: 'auth', proof: dialerProof(this.o.config.secret, this.o.identity, p.nonce, peer, m.nonce) });
  }

  private establish(p: Pending): void {
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    if (p.client) return this.establishClient(p);
    const peer = p.peer!;
    // Rule 4: a newer handshake with the same peer replaces an older link.
    const old = this.table.links.get(peer.name);
    if (old) this.closeLink(old, old.peer.incarnation === peer.incarnation ? 'replaced by a newer link' : `replaced by incarnation ${peer.incarnation}`);
    const link = this.newLink(p, false);
    const { protocol, timing } = link;
    this.table.links.set(peer.name, link);
    this.o.log.debug(
      {
        peer: peer.name,
        incarnation: peer.incarnation,
        direction: link.direction,
        protocol: `${protocol.major}.${protocol.minor}`,
        intervalMs: timing.heartbeatIntervalMs,
        suspectAfterMs: timing.suspectAfterMs,
        timeoutMs: timing.heartbeatTimeoutMs,
      },
      'link up',
    );
    // A link that pings faster than the ticker runs: the ticker speeds up now, not after its current wait.
    this.detector.linkAdded(link);
    if (isNewerMinor(protocol))
      this.o.log.info(
        { peer: peer.name, protocol: `${protocol.major}.${protocol.minor}`, ours: `${PROTOCOL_VERSION.major}.${PROTOCOL_VERSION.minor}` },
        'peer speaks a newer minor protocol version; what this node does not know of it is ignored',
      );
    this.emit(() => this.o.events.linkUp(link));
  }

  private newLink(p: Pending, client: boolean): Link {
    const now = this.o.clock.now();
    const protocol = p.peerProtocol ?? { ...PROTOCOL_VERSION };
    const timing = linkHeartbeat(this.o.config.timing, p.peerTiming);
    // nextPingAt now: the first ping goes at the next tick, so the peer hears (and confirms) us soon.
    return {
      peer: p.peer!,
      client,
      direction: p.conn.direction,
      dialledAddress: p.dialledAddress,
      establishedAt: now,
      lastHeardAt: now,
      suspect: false,
      rttMs: undefined,
      confirmedAt: undefined,
      confirmedSeq: -1,
      pingIn: undefined,
      protocol,
      peerTiming: p.peerTiming,
      timing,
      nextPingAt: now,
      conn: p.conn,
      outbox: [],
      outboxBytes: 0,
      flushTimer: undefined,
      flushQueued: false,
    };
  }

  /** A client's link (see the header): kept apart, reported through `events.client` only. */
  private establishClient(p: Pending): void {
    const link = this.newLink(p, true);
    this.table.clients.set(p.conn, link);
    this.o.log.debug({ client: link.peer.name, remote: p.conn.remote, protocol: `${link.protocol.major}.${link.protocol.minor}` }, 'client linked');
    this.detector.linkAdded(link);
    this.emit(() => this.o.events.client!.up(link));
  }

  private fail(p: Pending, code: DialFailureCode, message: string, tellPeer: boolean, peerName?: string): void {
    if (p.done) return;
    p.done = true;
    this.pending.delete(p);
    this.o.clock.clearTimeout(p.timer);
    if (code !== 'simultaneous-dial' && code !== 'already-linked') this.stats.handshakesRejected++;
    // Only handshake refusals go to the peer: the others are this end's own findings (no link, TLS), or not the peer's business.
    const told = code !== 'unreachable' && code !== 'already-linked' && code !== 'not-a-member' && code !== 'tls';
    if (tellPeer && told) this.write(p.conn, { t: 'reject', code, message });
    p.conn.close(`${code}: ${message}`);
    // A dial's failure is the dialler's to report (membership: the first, then as the count doubles); a
    // warning here too said "handshake failed … ECONNREFUSED" every few seconds for as long as a dead member was dialled.
    const level = p.dialledAddress !== undefined || code === 'simultaneous-dial' || code === 'already-linked' || code === 'self' ? 'debug' : 'warn';
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

  private onPendingClosed(p: Pending, reason: string, refused?: TransportRefusal): void {
    if (p.done) return;
    this.fail(p, refused ?? 'unreachable', reason, false, p.peer?.name);
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
    return this.table.linkOf(conn);
  }

  private onLinkFrame(conn: Conn, raw: unknown): void {
    const link = this.linkOf(conn);
    if (!link) return; // Race: a frame on a link that was just replaced or closed.
    this.detector.heard(link);
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
        this.o.log.debug(
          { peer: link.peer.name, t: decoded.unknownType, protocol: `${link.protocol.major}.${link.protocol.minor}` },
          'message type from a newer protocol version ignored',
        );
        return;
      }
      this.stats.invalidFrames++;
      this.o.log.warn({ peer: link.peer.name, reason: decoded.reason }, 'invalid frame dropped');
      return;
    }
    const m: PeerMessage = decoded.message;
    switch (m.t) {
      case 'ping':
        this.detector.onPing(link, m);
        return;
      case 'pong':
        this.detector.onPong(link, m);
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

  private onLinkClosed(conn: Conn, reason: string, byPeer: boolean): void {
    const link = this.linkOf(conn);
    if (link) this.removeLink(link, reason, byPeer);
  }

  /** `silent`: the failure detector closes it, the peer silent past its timeout with our own stalls credited. */
  private closeLink(link: Link, reason: string, abrupt = false, silent = false): void {
    this.outbox.flush(link);
    // Gone from the table first: a transport may report the close from inside `close` (Socket.IO
    // does), and that report must not stand in for this one (its words, and no `silent`).
    this.removeLink(link, reason, false, silent);
    link.conn.close(reason, abrupt);
  }

  private removeLink(link: Link, reason: string, byPeer = false, silent = false): void {
    if (!this.isCurrent(link)) return;
    this.outbox.discard(link);
    if (link.client) {
      this.table.clients.delete(link.conn);
      this.o.log.debug({ client: link.peer.name, reason }, 'client link closed');
      this.emit(() => this.o.events.client?.down(link, reason));
      return;
    }
    this.table.links.delete(link.peer.name);
    this.o.log.debug({ peer: link.peer.name, reason }, 'link down');
    // Race "a link closes as this node wakes" (failure-detector.ts): after a stall of ours past the
    // suspect time, the peer most likely timed us out, alive; it counts as closed by the peer.
    const stalledMs = byPeer || silent ? 0 : this.detector.ownStallMs(this.o.clock.now());
    const away = stalledMs >= link.timing.suspectAfterMs;
    if (away)
      this.o.log.warn(
        { peer: link.peer.name, reason, stalledMs },
        `link to ${link.peer.name} closed as this node ran again after ${stalledMs} ms: taken as closed by the peer, which most likely timed this node out`,
      );
    this.emit(() => this.o.events.linkDown(link, reason, byPeer || away));
    if (this.table.links.size === 0) this.onAllLinksClosed?.();
  }

  /**
   * The seq the next ping will carry: once a peer has echoed a ping with at
   * least this seq (`Link.confirmedSeq`), it has processed everything sent
   * to it before this call.
   */
  get nextPingSeq(): number {
    return this.detector.nextPingSeq;
  }

  /** Probes the link to `name` now: the peer answers at once with a ping that echoes ours (a round trip, not a heartbeat). */
  probe(name: string): void {
    const link = this.table.links.get(name);
    if (link) this.detector.ping(link, true);
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
