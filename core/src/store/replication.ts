/**
 * Replication of one store scope between linked nodes: every node holds one
 * merged replica (store/replica.ts), changes travel once to each peer, and
 * replicas that missed something find the difference by fingerprints.
 *
 * Protocol (per link, which is FIFO; all messages name the scope)
 * - Deltas. A local write changes this replica; the merged register goes
 *   to every linked peer in the next `rs.delta`, one per peer per event-loop
 *   turn (a turn's writes to one key travel once, with its last value), in
 *   parts of MAX_STORE_ENTRIES, each register in its kind's wire form
 *   (`RegisterKind.wire`: a child's specs without their default fields),
 *   which the receiver decodes to an equal value. Receivers merge and never re-broadcast: the
 *   mesh is full, so each peer hears each write from its writer. A member
 *   costs one message per peer per turn of writes, not one per register per
 *   member (the first version's pg copies cost members² per change).
 * - Digests (link up, and every `antiEntropyIntervalMs`). A member sends
 *   `rs.digest {count, level, buckets}`: fingerprints of its replica at a
 *   level chosen for its size on link up, just the root (level 0)
 *   periodically. The receiver, to become a superset of the sender's state:
 *     * if the sender's level is too coarse for the larger of the two
 *       replicas and the fingerprints differ, asks `rs.digest-req {level}`
 *       and waits for the finer digest;
 *     * otherwise the buckets where the sender has something (non-zero) and
 *       the fingerprints differ are *pending*; each is pulled with
 *       `rs.pull {buckets, have}` (`have`: the puller's own key fingerprints
 *       there), answered by `rs.regs` with just the sender's registers the
 *       puller lacks or holds differently, in parts (race "a pull storm":
 *       at most MAX_STORE_ENTRIES registers a turn over every pull being
 *       answered, a part of each in turn: `answerSome`);
 *     * race "the same bucket differs from several peers" (a node restarted
 *       into 20 members): a bucket is pulled from one peer at a time; when
 *       that answer is merged, every peer's pending buckets are compared
 *       again, and a bucket that now matches is resolved without a pull. So
 *       a restarted node receives each register about once, not once per
 *       peer;
 *     * when nothing is pending, the receiver holds at least the sender's
 *       state as of the digest, and says so with `rs.synced {seq}`.
 *   Pulls go only to members: an observer's replica is never pulled (an
 *   observer sends no digests; its writes travel as deltas — one member
 *   passes them on to the other observers, `relay` — and it drops
 *   its replica when it has no member left, see `forgetAll`). Visibility is
 *   not transitive in a partial mesh; the periodic root digests repair that,
 *   and a member that hears two members which cannot hear each other sends
 *   both its root digest every heartbeat meanwhile (`bridge`, bridge.ts:
 *   race "a partial partition"), so a write crosses the cut in a heartbeat
 *   and a few round trips instead of an anti-entropy interval.
 * - Acknowledgements. A member acknowledges what it received (from a member
 *   or an observer) with a cumulative `rs.ack {seq}`, at most one per peer per turn, and its
 *   sync with `rs.synced`. Both wait until what the messages changed has
 *   been *acted on* (`settledTick`: the supervisor has reconciled those
 *   children and none of them is still starting here) — race "terminate
 *   during a start": a node that acknowledged a tombstone before a start it
 *   had begun became visible let the terminate resolve while the child came
 *   up. `rs.synced` also waits until the state is on disk (`savedTick`),
 *   because it licenses the collection of tombstones.
 * - What the sender learns: per peer, the replica tick of the newest
 *   acknowledged delta (`deltaAckedTick`: the peer holds every write made
 *   here up to it) and of the newest synced digest (`syncedTick`: the peer
 *   holds this whole replica as it was then). `holdsWrite(peer, tick)` and
 *   `holdsState(peer, tick)` answer waiters (a start, a terminate) and the
 *   tombstone collector. A new link starts from nothing: its first message
 *   is a digest of the replica at link up.
 *
 * Robustness: every register is decoded by its kind before it is merged; a
 * bad one is dropped with a logged reason and the rest still applies. A
 * duplicate or old `seq` is ignored; a pull for buckets beyond the digest,
 * an answer to a pull never made, a digest for another scope (node.ts) are
 * logged and ignored. Nothing a peer sends can throw out of here.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import {
  MAX_DIGEST_LEVEL,
  MAX_PULL_HAVE,
  MAX_STORE_ENTRIES,
  type StoreAck,
  type StoreDelta,
  type StoreDigest,
  type StoreDigestRequest,
  type StoreMessage,
  type StorePull,
  type StoreRegs,
  type StoreSynced,
} from '../protocol.js';
import { LEAF_LEVEL, leafRange, levelFor, type Replica } from './replica.js';

export interface ReplicationOptions {
  scope: string;
  replica: Replica;
  clock: Clock;
  log: Logger;
  /** Sends to a linked peer (per-pair FIFO; the link layer batches per turn). */
  send(peer: string, message: StoreMessage): void;
  /** An observer: it sends no digests and no acknowledgements, and keeps its replica only while it has a member. */
  observer: boolean;
  antiEntropyIntervalMs: number;
  /** How often bridged peers (`bridge`, bridge.ts) get the root digest, ms (default: antiEntropyIntervalMs). */
  bridgeIntervalMs?: number;
  /** Registers that changed through what `from` sent (local writes are not reported). */
  onChange(keys: readonly string[], from: string): void;
  /** The tick up to which changes have been acted on here; acknowledgements wait for it. Default: the current tick. */
  settledTick?(): number;
  /** The tick up to which the replica is on disk; `rs.synced` waits for it. Default: the current tick. */
  savedTick?(): number;
  /** A peer acknowledged or synced, came or went: waiters may look again. */
  onProgress?(): void;
  /** Whether a register `key` from `peer` (decoded: `value`) may be merged (default: yes). A refusal stops acknowledgements on that link. */
  accepts?(peer: string, key: string, value: unknown): boolean;
  /** Whether this node pulls from `peer` on its digests (default: members). */
  pullsFrom?(peer: string): boolean;
  /** Registers to send a new peer first, before the digest (a node's own roster entry). */
  greeting?(peer: string): Array<[string, unknown]>;
  /**
   * Whether this member passes what an observer writes on to its other
   * observer peers (`relay`, race "one observer's write, another
   * observer"). One member should (the distributed supervisor names the
   * first member up by name), not each: every one would send every observer
   * a copy. Default: none does.
   */
  relaysObserverWrites?(): boolean;
}

type PeerRole = 'member' | 'observer';

interface Sent {
  readonly seq: number;
  readonly tick: number;
  readonly kind: 'delta' | 'digest' | 'regs';
}

interface PeerDigest {
  readonly seq: number;
  readonly level: number;
  readonly buckets: readonly number[];
  /** Buckets (at `level`) still to resolve. */
  readonly pending: Set<number>;
}

interface Peer {
  readonly name: string;
  readonly role: PeerRole;
  /** Seq of the last seq'd message sent on this link. */
  outSeq: number;
  /** Seq'd messages sent and not yet acknowledged, oldest first. */
  unacked: Sent[];
  /** Digests acknowledged (processed), waiting for `rs.synced`. */
  unsynced: Sent[];
  deltaAckedTick: number;
  syncedTick: number;
  /** Highest seq received. */
  inSeq: number;
  /** Received seq'd messages not yet acknowledged, with the replica tick after each was applied. */
  toAck: Array<{ seq: number; tick: number }>;
  ackedIn: number;
  /** The peer's digest being synced against. */
  digest: PeerDigest | undefined;
  /** A finer digest was asked for. */
  awaitingDigest: boolean;
  /** Synced with the peer's digest `seq` as of replica tick `tick`: `rs.synced` once settled and saved. */
  syncDone: { seq: number; tick: number } | undefined;
  /** The peer's first digest since the link came up has been resolved. */
  caughtUp: boolean;
  /** Something it sent was refused (`accepts`): nothing more is acknowledged on this link. */
  refused: boolean;
}

interface Pull {
  readonly id: number;
  readonly peer: string;
  readonly level: number;
  readonly buckets: readonly number[];
}

/** A pull being answered, a part per turn (`answerSome`). */
interface Answer {
  /** The link it came on: a new link to the same peer does not get it. */
  readonly peer: Peer;
  readonly pull: number;
  readonly level: number;
  readonly buckets: readonly number[];
  /** The first bucket not yet looked at. */
  nextBucket: number;
  /** The puller's fingerprints. */
  readonly have: ReadonlyMap<string, number>;
  /** Keys found to differ, sent up to `keysAt`. */
  keys: string[];
  keysAt: number;
}

export class Replication {
  private readonly peers = new Map<string, Peer>();
  /** Pulls in flight, by id. */
  private readonly pulls = new Map<number, Pull>();
  /** Per leaf: pulls in flight covering it. */
  private readonly leafInFlight = new Uint16Array(2 ** LEAF_LEVEL);
  private nextPull = 1;
  private flushQueued = false;
  /**
   * Delta entries waiting for the end of the turn, for every linked peer: one
   * map, not one per peer (at 20 members a write was 19 map entries, and a
   * flush built 19 arrays of the same pairs). A peer that links later in the
   * same turn gets them too, which is harmless: merges are idempotent.
   */
  private readonly outbox = new Map<string, unknown>();
  /** Registers an observer changed here, for this member's observer peers at the end of the turn (`relay`). */
  private readonly relayed = new Map<string, unknown>();
  private ackQueued = false;
  private antiEntropyTimer: TimerHandle | undefined;
  /** Peers bridged across a partial partition (`bridge`), with the replica tick of the last root digest each got from it (-1: none yet). */
  private readonly bridged = new Map<string, number>();
  private bridgeTimer: TimerHandle | undefined;
  /** Pulls being answered, in turn; the timer of the next part. */
  private answers: Answer[] = [];
  private answerTimer: TimerHandle | undefined;
  /** Registers answered since the last answer timer (a turn's budget is MAX_STORE_ENTRIES). */
  private answered = 0;
  private stopped = false;
  /** Counters for metrics and benchmarks. */
  readonly stats = { deltasOut: 0, entriesOut: 0, entriesIn: 0, digestsOut: 0, pullsOut: 0, regsOut: 0, rejected: 0 };

  constructor(private readonly o: ReplicationOptions) {}

  get replica(): Replica {
    return this.o.replica;
  }

  start(): void {
    this.scheduleAntiEntropy();
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.antiEntropyTimer);
    this.o.clock.clearTimeout(this.bridgeTimer);
    this.o.clock.clearTimeout(this.answerTimer);
    this.answers = [];
  }

  // ---- local writes ------------------------------------------------------

  /**
   * Joins `value` into the register at `key` here and, when that changed it,
   * sends the merged register to every linked peer at the end of the turn.
   * `value` must be a decoded, frozen register of the key's kind. Returns
   * whether the replica changed.
   */
  write(key: string, value: unknown): boolean {
    if (!this.o.replica.merge(key, value)) return false;
    this.enqueue(key);
    return true;
  }

  /**
   * Sends the held register at `key` to every peer again, changed or not,
   * and returns a tick to wait on with `holdsWrite` (a caller that must
   * know every member holds a value this node may have learned from
   * someone else).
   */
  touch(key: string): number {
    const tick = this.o.replica.bump();
    if (this.o.replica.has(key)) this.enqueue(key);
    return tick;
  }

  /** Replica tick now: `holdsWrite(peer, tick)` after a write made before this call. */
  get tick(): number {
    return this.o.replica.tick;
  }

  /** Whether `peer` holds every write made here up to `tick`. */
  holdsWrite(peer: string, tick: number): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && (p.deltaAckedTick >= tick || p.syncedTick >= tick);
  }

  /** The highest tick up to which `peer` holds every write made here (0 when not linked). */
  heldTick(peer: string): number {
    const p = this.peers.get(peer);
    return p === undefined ? 0 : Math.max(p.deltaAckedTick, p.syncedTick);
  }

  /** The tick of this replica's state that `peer` is known to hold all of (0 when not linked). */
  syncedTick(peer: string): number {
    return this.peers.get(peer)?.syncedTick ?? 0;
  }

  /** Whether `peer` holds this replica's whole state as of `tick`. */
  holdsState(peer: string, tick: number): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && p.syncedTick >= tick;
  }

  /** Whether this node has merged what member `peer` held when their link came up (its first digest is resolved). */
  caughtUpWith(peer: string): boolean {
    return this.peers.get(peer)?.caughtUp === true;
  }

  linkedPeers(): string[] {
    return [...this.peers.keys()];
  }

  // ---- links ---------------------------------------------------------------

  /** The link to `peer` came up (after its pg sync was sent): start from nothing, send our digest. */
  peerUp(peer: string, role: PeerRole): void {
    this.dropPeer(peer);
    const p: Peer = {
      name: peer,
      role,
      outSeq: 0,
      unacked: [],
      unsynced: [],
      deltaAckedTick: 0,
      syncedTick: 0,
      inSeq: 0,
      toAck: [],
      ackedIn: 0,
      digest: undefined,
      awaitingDigest: false,
      syncDone: undefined,
      caughtUp: false,
      refused: false,
    };
    this.peers.set(peer, p);
    const greeting = (this.o.greeting?.(peer) ?? []).map(([key, value]): [string, unknown] => [key, this.wire(key, value)]);
    if (greeting.length > 0) {
      const seq = this.record(p, 'delta');
      this.o.send(peer, { t: 'rs.delta', scope: this.o.scope, seq, entries: greeting });
    }
    if (!this.o.observer) this.sendDigest(p, levelFor(this.o.replica.size));
    this.o.onProgress?.();
  }

  /** The link went down: whatever was in flight on it is gone; its pulls are made elsewhere. */
  peerDown(peer: string): void {
    if (!this.dropPeer(peer)) return;
    if (this.o.observer && ![...this.peers.values()].some((p) => p.role === 'member')) this.forgetAll();
    this.schedulePulls();
    this.o.onProgress?.();
  }

  /**
   * Race "an observer's stale replica": an observer that has lost every
   * member keeps nothing. Its replica is a view, pulled again on the next
   * link; kept, it could hold a spec whose tombstone the members collected
   * meanwhile, and an operator's move sent from it would bring the child
   * back (members are safe: collection waits for each of them).
   */
  private forgetAll(): void {
    const keys = [...this.o.replica.keys()];
    for (const key of keys) this.o.replica.delete(key);
    if (keys.length > 0) this.o.onChange(keys, this.o.scope);
  }

  private dropPeer(peer: string): boolean {
    const p = this.peers.get(peer);
    if (!p) return false;
    this.peers.delete(peer);
    for (const pull of [...this.pulls.values()]) if (pull.peer === peer) this.endPull(pull);
    // Its answers end with the link (the puller pulls again on the next): `answerSome` sends only to linked peers.
    if (this.answers.length > 0) this.answers = this.answers.filter((a) => a.peer !== p);
    return true;
  }

  /** Handles a store message from `peer` (validated by its schema). Never throws. */
  handle(peer: string, m: StoreMessage): void {
    const p = this.peers.get(peer);
    if (!p) {
      // Race "message after link down / before link up": the next link starts with a digest exchange.
      this.o.log.debug({ peer, t: m.t, scope: m.scope }, 'store: message from a peer that is not linked; ignored');
      return;
    }
    try {
      switch (m.t) {
        case 'rs.delta':
          return this.onDelta(p, m);
        case 'rs.digest':
          return this.onDigest(p, m);
        case 'rs.digest-req':
          return this.onDigestRequest(p, m);
        case 'rs.pull':
          return this.onPull(p, m);
        case 'rs.regs':
          return this.onRegs(p, m);
        case 'rs.ack':
          return this.onAck(p, m);
        case 'rs.synced':
          return this.onSynced(p, m);
      }
    } catch (err) {
      // Defensive: a bug here must cost one message, never the node.
      this.o.log.error({ err, peer, t: m.t }, 'store: failed to handle a message; dropped');
    }
  }

  /** Acted-on and saved ticks may have advanced: send the acknowledgements that waited for them. */
  kick(): void {
    if (this.peers.size > 0) this.queueAcks();
  }

  // ---- receiving -----------------------------------------------------------------

  /** A seq'd message: false when it is a duplicate or out of order (then it is dropped). */
  private accept(p: Peer, seq: number, t: string): boolean {
    if (seq <= p.inSeq) {
      this.o.log.warn({ peer: p.name, t, seq, last: p.inSeq }, 'store: message with an old sequence number; ignored');
      return false;
    }
    p.inSeq = seq;
    return true;
  }

  private onDelta(p: Peer, m: StoreDelta): void {
    if (!this.accept(p, m.seq, m.t)) return;
    this.mergeEntries(p, m.entries);
    this.noteReceived(p, m.seq);
  }

  private onRegs(p: Peer, m: StoreRegs): void {
    if (!this.accept(p, m.seq, m.t)) return;
    this.mergeEntries(p, m.entries);
    this.noteReceived(p, m.seq);
    if (m.more) return;
    const pull = this.pulls.get(m.pull);
    if (!pull || pull.peer !== p.name) {
      this.o.log.warn({ peer: p.name, pull: m.pull }, 'store: an answer to a pull this node did not make; its registers were merged');
      return;
    }
    this.endPull(pull);
    // Its answer is merged: for this peer's digest the buckets are done even if the fingerprints still
    // differ — they can differ only by registers this replica refuses (a collected tombstone it no
    // longer holds), which holds nothing it lacks. Without this, two replicas would pull the same
    // collected tombstone from each other for ever and never sync.
    const d = p.digest;
    if (d && d.level === pull.level) for (const b of pull.buckets) d.pending.delete(b);
    this.schedulePulls();
  }

  private mergeEntries(p: Peer, entries: ReadonlyArray<readonly [string, unknown]>): void {
    const now = this.o.clock.now();
    const changed: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      // Not `[key, raw] =`: destructuring walks an iterator too.
      const entry = entries[i]!;
      const key = entry[0];
      const raw = entry[1];
      const kind = this.o.replica.kindOf(key);
      if (kind === undefined) {
        this.reject(p.name, key, 'no register kind has this key');
        continue;
      }
      const decoded = kind.decode(key, raw, now);
      if (!decoded.ok) {
        this.reject(p.name, key, decoded.reason);
        continue;
      }
      if (this.o.accepts && !this.o.accepts(p.name, key, decoded.value)) {
        // Race "a forgotten member back with stale state": nothing of it is taken (tombstones.ts), and
        // since its message is not applied, nothing more is acknowledged on this link (acks are cumulative).
        if (!p.refused)
          this.o.log.warn(
            { peer: p.name, key: key.slice(0, 200) },
            `store: refusing registers from ${p.name} (forgotten by the cluster); it must take the state from the others first`,
          );
        p.refused = true;
        continue;
      }
      if (this.o.replica.merge(key, decoded.value)) changed.push(key);
    }
    this.stats.entriesIn += entries.length;
    if (changed.length === 0) return;
    if (p.role === 'observer') this.relay(changed);
    this.o.onChange(changed, p.name);
  }

  /**
   * Race "one observer's write, another observer": observers link to
   * members, not to each other, and receivers never re-broadcast, so a
   * start made through one observer (its supervisor's API) reached another
   * only with a member's next root digest, an anti-entropy interval (30 s
   * by default) later: its timeline and board showed nothing meanwhile.
   * The relaying member sends what an observer changed here to its observer
   * peers at the end of the turn (the writer among them: a copy it merges
   * as a no-op). A member that does not relay, or an observer it cannot
   * reach, is left to the digests, as before.
   */
  private relay(keys: readonly string[]): void {
    if (this.o.observer || this.o.relaysObserverWrites?.() !== true) return;
    for (let i = 0; i < keys.length; i++) this.relayed.set(keys[i]!, this.o.replica.get(keys[i]!));
    this.queueFlush();
  }

  private reject(peer: string, key: string, reason: string): void {
    this.stats.rejected++;
    this.o.log.warn({ peer, key: key.slice(0, 200), reason }, `store: dropped a register from ${peer}: ${reason}`);
  }

  private noteReceived(p: Peer, seq: number): void {
    // Members acknowledge whoever wrote (an observer's start waits for the members too); observers never do.
    if (this.o.observer || p.refused) return;
    p.toAck.push({ seq, tick: this.o.replica.tick });
    this.queueAcks();
  }

  private onDigest(p: Peer, m: StoreDigest): void {
    if (!this.accept(p, m.seq, m.t)) return;
    if (p.role !== 'member' || !(this.o.pullsFrom?.(p.name) ?? true)) {
      // Never pulled from (an observer sends no digest; a forgotten member is refused until it rejoins).
      p.refused = p.role === 'member' || p.refused;
      return;
    }
    this.noteReceived(p, m.seq);
    const wanted = levelFor(Math.max(m.count, this.o.replica.size));
    if (m.level < wanted && this.differs(m.level, m.buckets)) {
      // Too coarse to pull from cheaply: ask for a finer one, which supersedes this one.
      p.awaitingDigest = true;
      this.o.send(p.name, { t: 'rs.digest-req', scope: this.o.scope, level: wanted });
      return;
    }
    p.awaitingDigest = false;
    const pending = new Set<number>();
    for (let b = 0; b < m.buckets.length; b++) {
      const theirs = m.buckets[b]!;
      if (theirs !== 0 && theirs !== this.o.replica.bucketHash(m.level, b)) pending.add(b);
    }
    p.digest = { seq: m.seq, level: m.level, buckets: m.buckets, pending };
    this.schedulePulls();
  }

  private differs(level: number, buckets: readonly number[]): boolean {
    const mine = this.o.replica.digest(level);
    return buckets.some((h, b) => h !== 0 && h !== mine[b]);
  }

  private onDigestRequest(p: Peer, m: StoreDigestRequest): void {
    if (this.o.observer) return;
    this.sendDigest(p, Math.min(MAX_DIGEST_LEVEL, m.level));
  }

  private onPull(p: Peer, m: StorePull): void {
    const have = new Map<string, number>();
    for (const [key, hash] of m.have) have.set(key, hash);
    const buckets = m.buckets.filter((b) => b < 2 ** m.level);
    this.answers.push({ peer: p, pull: m.pull, level: m.level, buckets, nextBucket: 0, have, keys: [], keysAt: 0 });
    // Race "a pull storm": a small answer (the usual anti-entropy repair) goes in this turn; a large
    // one, or one behind others, goes a part per timer turn (see `answerSome`).
    if (this.answered < MAX_STORE_ENTRIES) this.answerSome(false);
  }

  /**
   * Sends at most MAX_STORE_ENTRIES registers of the pulls waiting for an
   * answer, a part of each in turn, and leaves the rest to the next timer
   * turn. Race "a pull storm": after a caller's burst dropped its links
   * (20,000 starts from one node at 20 members), every peer pulled what it
   * lacked from it on relinking, and it answered every pull at once: seconds
   * in one turn, in which it answered no ping, so its links dropped again.
   * Parts take their sequence numbers as they go (the link is FIFO with the
   * deltas sent meanwhile) and read each register as it is then: a newer
   * value than at the pull is as good (joins are monotone), and a register
   * dropped meanwhile (a collected tombstone) is left out.
   */
  private answerSome(onTimer: boolean): void {
    if (onTimer) {
      this.answerTimer = undefined;
      this.answered = 0;
    }
    if (this.stopped) return;
    let budget = MAX_STORE_ENTRIES - this.answered;
    while (budget > 0 && this.answers.length > 0) {
      const a = this.answers.shift()!;
      const entries = this.nextPart(a, budget);
      const last = a.nextBucket >= a.buckets.length && a.keysAt >= a.keys.length;
      const seq = this.record(a.peer, 'regs');
      this.stats.regsOut++;
      const m: StoreRegs = last
        ? { t: 'rs.regs', scope: this.o.scope, seq, pull: a.pull, entries }
        : { t: 'rs.regs', scope: this.o.scope, seq, pull: a.pull, entries, more: true };
      this.o.send(a.peer.name, m);
      budget -= Math.max(1, entries.length);
      if (!last) this.answers.push(a);
    }
    this.answered = MAX_STORE_ENTRIES - Math.max(0, budget);
    // The next timer turn goes on with the rest, and opens a new turn's budget for pulls answered at once.
    if ((this.answers.length > 0 || this.answered > 0) && this.answerTimer === undefined)
      this.answerTimer = this.o.clock.setTimeout(() => this.answerSome(true), 0);
  }

  /** The next at most `max` registers of an answer the puller lacks or holds differently (fewer only at its end). */
  private nextPart(a: Answer, max: number): Array<[string, unknown]> {
    const replica = this.o.replica;
    while (a.keys.length - a.keysAt < max && a.nextBucket < a.buckets.length) {
      if (a.keysAt > 0) {
        a.keys = a.keys.slice(a.keysAt);
        a.keysAt = 0;
      }
      for (const key of replica.keysInBuckets(a.level, [a.buckets[a.nextBucket++]!])) if (a.have.get(key) !== replica.hashOf(key)) a.keys.push(key);
    }
    const entries: Array<[string, unknown]> = [];
    while (entries.length < max && a.keysAt < a.keys.length) {
      const key = a.keys[a.keysAt++]!;
      const value = replica.get(key);
      if (value !== undefined) entries.push([key, this.wire(key, value)]);
    }
    return entries;
  }

  /** `value` (held at `key`) as it travels: its kind's `wire` form, or as it is. */
  private wire(key: string, value: unknown): unknown {
    const kind = this.o.replica.kindOf(key);
    return kind?.wire === undefined ? value : kind.wire(value);
  }

  private onAck(p: Peer, m: StoreAck): void {
    while (p.unacked.length > 0 && p.unacked[0]!.seq <= m.seq) {
      const sent = p.unacked.shift()!;
      if (sent.kind === 'delta') p.deltaAckedTick = Math.max(p.deltaAckedTick, sent.tick);
      else if (sent.kind === 'digest') p.unsynced.push(sent);
    }
    this.o.onProgress?.();
  }

  private onSynced(p: Peer, m: StoreSynced): void {
    // A digest can be synced before its ack arrives (same turn): look in both queues.
    for (const queue of [p.unsynced, p.unacked]) {
      for (const sent of queue) if (sent.kind === 'digest' && sent.seq <= m.seq) p.syncedTick = Math.max(p.syncedTick, sent.tick);
    }
    p.unsynced = p.unsynced.filter((s) => s.seq > m.seq);
    this.o.onProgress?.();
  }

  // ---- pulling -------------------------------------------------------------------

  /**
   * Resolves what every peer's digest left pending: a bucket that matches
   * now is done; one that still differs is pulled, unless a pull covering
   * any of its leaves is in flight (then it waits for that answer).
   */
  private schedulePulls(): void {
    for (const p of this.peers.values()) {
      const d = p.digest;
      if (!d) continue;
      const toPull: number[] = [];
      for (const b of d.pending) {
        if (this.o.replica.bucketHash(d.level, b) === d.buckets[b]) {
          d.pending.delete(b);
          continue;
        }
        if (!this.inFlight(d.level, b)) toPull.push(b);
      }
      if (toPull.length > 0) this.pull(p, d.level, toPull);
      if (d.pending.size === 0) {
        p.digest = undefined;
        p.caughtUp = true;
        p.syncDone = { seq: d.seq, tick: this.o.replica.tick };
        this.queueAcks();
        this.o.onProgress?.();
      }
    }
  }

  /** Sends pulls for `buckets`, each listing at most MAX_PULL_HAVE of our fingerprints. */
  private pull(p: Peer, level: number, buckets: number[]): void {
    let batch: number[] = [];
    let have: Array<[string, number]> = [];
    const send = (): void => {
      if (batch.length === 0) return;
      const pull: Pull = { id: this.nextPull++, peer: p.name, level, buckets: batch };
      this.pulls.set(pull.id, pull);
      for (const b of batch) this.markInFlight(level, b, 1);
      this.stats.pullsOut++;
      this.o.send(p.name, { t: 'rs.pull', scope: this.o.scope, pull: pull.id, level, buckets: batch, have });
      batch = [];
      have = [];
    };
    for (const b of buckets) {
      const mine: Array<[string, number]> = [];
      for (const key of this.o.replica.keysInBuckets(level, [b])) mine.push([key, this.o.replica.hashOf(key)!]);
      if (have.length + mine.length > MAX_PULL_HAVE) send();
      batch.push(b);
      // A bucket holding more than a pull may list (only at a coarse level): list what fits; the answer then repeats some registers.
      for (const entry of mine) if (have.length < MAX_PULL_HAVE) have.push(entry);
    }
    send();
  }

  private endPull(pull: Pull): void {
    if (!this.pulls.delete(pull.id)) return;
    for (const b of pull.buckets) this.markInFlight(pull.level, b, -1);
  }

  private inFlight(level: number, bucket: number): boolean {
    const [from, to] = leafRange(level, bucket);
    for (let leaf = from; leaf < to; leaf++) if (this.leafInFlight[leaf]! > 0) return true;
    return false;
  }

  private markInFlight(level: number, bucket: number, delta: 1 | -1): void {
    const [from, to] = leafRange(level, bucket);
    for (let leaf = from; leaf < to; leaf++) this.leafInFlight[leaf] = this.leafInFlight[leaf]! + delta;
  }

  // ---- sending -------------------------------------------------------------------

  private record(p: Peer, kind: Sent['kind']): number {
    const seq = ++p.outSeq;
    // Only members acknowledge: nothing to remember for an observer.
    if (p.role === 'member') p.unacked.push({ seq, tick: this.o.replica.tick, kind });
    return seq;
  }

  private sendDigest(p: Peer, level: number): void {
    const seq = this.record(p, 'digest');
    this.stats.digestsOut++;
    this.o.send(p.name, { t: 'rs.digest', scope: this.o.scope, seq, count: this.o.replica.size, level, buckets: this.o.replica.digest(level) });
  }

  private enqueue(key: string): void {
    if (this.peers.size === 0) return;
    this.outbox.set(key, this.o.replica.get(key));
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // End of this turn: every write of the turn goes in one delta per peer.
    queueMicrotask(() => this.flush());
  }

  /** Sends what waits for the end of the turn now (a graceful stop: the last writes go before the leave). */
  flushNow(): void {
    this.flush();
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.stopped) return;
    if (this.outbox.size > 0) this.sendParts(this.takeEntries(this.outbox), () => true);
    if (this.relayed.size > 0) this.sendParts(this.takeEntries(this.relayed), (p) => p.role === 'observer');
  }

  /** `held`'s registers in their wire form, `held` emptied. */
  private takeEntries(held: Map<string, unknown>): Array<[string, unknown]> {
    const entries: Array<[string, unknown]> = [];
    // forEach: no [key, value] pair made per entry to destructure (a burst sends thousands a turn).
    held.forEach((value, key) => entries.push([key, this.wire(key, value)]));
    held.clear();
    return entries;
  }

  /** Sends `entries` as deltas, in parts of MAX_STORE_ENTRIES, to every peer `to` picks. */
  private sendParts(entries: Array<[string, unknown]>, to: (p: Peer) => boolean): void {
    const parts: Array<typeof entries> = [];
    for (let at = 0; at < entries.length; at += MAX_STORE_ENTRIES) parts.push(entries.slice(at, at + MAX_STORE_ENTRIES));
    for (const p of this.peers.values()) {
      if (!to(p)) continue;
      for (const part of parts) {
        const seq = this.record(p, 'delta');
        this.stats.deltasOut++;
        this.stats.entriesOut += part.length;
        this.o.send(p.name, { t: 'rs.delta', scope: this.o.scope, seq, entries: part });
      }
    }
  }

  private queueAcks(): void {
    if (this.ackQueued || this.o.observer) return;
    this.ackQueued = true;
    queueMicrotask(() => this.flushAcks());
  }

  /** Sends the acknowledgements whose changes have been acted on (and synced states that are saved). */
  private flushAcks(): void {
    this.ackQueued = false;
    if (this.stopped) return;
    const settled = this.o.settledTick?.() ?? this.o.replica.tick;
    const saved = Math.min(settled, this.o.savedTick?.() ?? this.o.replica.tick);
    for (const p of this.peers.values()) {
      let seq = p.ackedIn;
      while (p.toAck.length > 0 && p.toAck[0]!.tick <= settled) seq = p.toAck.shift()!.seq;
      if (seq > p.ackedIn) {
        p.ackedIn = seq;
        this.o.send(p.name, { t: 'rs.ack', scope: this.o.scope, seq });
      }
      if (p.syncDone && p.syncDone.tick <= saved) {
        this.o.send(p.name, { t: 'rs.synced', scope: this.o.scope, seq: p.syncDone.seq });
        p.syncDone = undefined;
      }
    }
  }

  // ---- anti-entropy -------------------------------------------------------------

  private scheduleAntiEntropy(): void {
    if (this.stopped || this.o.observer) return;
    this.antiEntropyTimer = this.o.clock.setTimeout(() => {
      this.antiEntropy();
      this.scheduleAntiEntropy();
    }, this.o.antiEntropyIntervalMs);
  }

  /** Sends every peer the root fingerprint; a peer that differs asks for more. */
  antiEntropy(): void {
    if (this.stopped || this.o.observer) return;
    for (const p of this.peers.values()) this.sendDigest(p, 0);
  }

  /**
   * The peers that get the root fingerprint every `bridgeIntervalMs` rather
   * than every anti-entropy pass (bridge.ts: linked members that cannot hear
   * each other); a peer new to the list gets it at once, an empty list stops
   * the timer. A peer gets it again only when this replica changed since its
   * last one: what it can pull from here comes from here.
   */
  bridge(peers: readonly string[]): void {
    if (this.stopped || this.o.observer) return;
    const next = new Set(peers);
    for (const name of [...this.bridged.keys()]) if (!next.has(name)) this.bridged.delete(name);
    let added = false;
    for (const name of next) {
      if (this.bridged.has(name)) continue;
      this.bridged.set(name, -1);
      added = true;
    }
    if (added) this.sendBridged();
    if (this.bridged.size === 0) {
      this.o.clock.clearTimeout(this.bridgeTimer);
      this.bridgeTimer = undefined;
    } else if (this.bridgeTimer === undefined) this.scheduleBridge();
  }

  /** The peers `bridge` was last given (tests and status). */
  bridgedPeers(): string[] {
    return [...this.bridged.keys()];
  }

  private scheduleBridge(): void {
    this.bridgeTimer = this.o.clock.setTimeout(() => {
      this.bridgeTimer = undefined;
      if (this.stopped || this.bridged.size === 0) return;
      this.sendBridged();
      this.scheduleBridge();
    }, this.o.bridgeIntervalMs ?? this.o.antiEntropyIntervalMs);
  }

  private sendBridged(): void {
    const tick = this.o.replica.tick;
    for (const [name, last] of this.bridged) {
      const p = this.peers.get(name);
      if (p === undefined || p.role !== 'member' || last === tick) continue;
      this.bridged.set(name, tick);
      this.sendDigest(p, 0);
    }
  }
}
