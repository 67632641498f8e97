/**
 * Calls and casts to children anywhere in the cluster (issue 16), and the
 * handover of a moving child's state.
 *
 * Routing: one hop. The caller's node looks the child up in its own view
 * (`run:<id>` in pg, which every node holds: no scan, no message) and
 * sends a `call` frame (protocol.ts, since 2.3) straight to the node that
 * runs the instance, naming the instance's pid; that node hands it to the
 * instance's channel (supervisor/child-channel.ts) and answers `call.reply`
 * on the same link. A call to an instance on this node skips the link. A
 * cast is a call whose handler's result is not waited for: its reply says
 * only that the instance took it (or why not).
 *
 * Correlation: call-table.ts. Every call has a deadline (`timeoutMs`, for
 * the whole call: waiting for an instance included). A reply for a call id
 * that is unknown — settled, expired, or never ours — is dropped and logged
 * at debug; a reply from another node than the one the call went to, too.
 * A deadline whose timer runs late (this process was frozen) expires a turn
 * later, after the poll phase, so a reply already in the socket wins (race
 * "a caller woken from a freeze", call-table.ts).
 *
 * Between instances: when no instance is visible (a stop-first move, a
 * restart, a failover, a handover under way), the call waits — not by
 * polling: the distributed supervisor reports every change of the child's
 * `run:` group and every reconcile of it (`childChanged`), and the call is
 * routed again then. A node whose instance does not take messages any more
 * (stopping, handing over, gone, or an older pid) answers `moved`: nothing
 * was delivered, so the call is sent to the next instance (it never tries
 * that pid again) — a call never reaches a stopped instance
 * (LocalSupervisor.instanceChannel).
 *
 * At most once, exactly:
 * - a frame that could not be sent (no link to the node: `send` false) was
 *   not delivered: the call waits for another instance;
 * - `moved` says the frame was not delivered: likewise;
 * - race "the link drops with the call outstanding": the frame went out and
 *   no reply came back, so the instance may or may not have handled it.
 *   The call is NOT sent again (that could deliver it twice): it fails at
 *   once with `timeout`, its message saying the outcome is unknown. A caller
 *   that must know makes its messages idempotent (an id per request the
 *   child remembers) and calls again.
 * - a graceful leave is not a lost link: the leaving node stops its
 *   children, waits (within its leave grace) until every message delivered
 *   to them has been answered (`delivered`), and only then sends `leave`.
 *   Links are FIFO, so when a peer's `leave` arrives, every call still
 *   outstanding to it was not delivered to a running instance: it is routed
 *   again (`peerLeaving`), not failed;
 * - race "a late reply": the deadline settled the call; the reply finds no
 *   entry and is dropped (never given to a later call: the table's ids are
 *   never reused, and random per incarnation).
 *
 * Race "a call right after start" (an outsider's look at issue 12): a node
 * that has just started — empty, or from a data dir — holds no spec, or an
 * old one, until it has synced with its peers, and every call it made then
 * failed at once with `not-found` although the child ran elsewhere: an
 * application restarted behind a load balancer answered its first requests
 * "no such child". Until the node has synced with another member
 * (reconciler.ts `knowsTheCluster`), a call to a child it holds no live
 * spec of waits (call-route.ts), like one between instances: the spec
 * arriving routes it (`childChanged`), the first sync routes every one
 * still waiting (`synced`): a child the cluster does not hold fails then,
 * as `not-found`, and a node that never syncs (its seeds do not answer,
 * even once it is ready alone) fails it at its deadline as `timeout`,
 * saying so.
 *
 * Race "a retry loop that never yields" (an outsider's tour, real
 * processes): a worker retrying `await ctx.call(...)` at once on an error
 * — a typo'd id, a stopped child — never let its node's event loop turn,
 * since a call that fails here (not-found, not-running, a bad argument) or
 * that an instance on this node answers at once settles in microtasks
 * only: its links went silent, its peers declared it down after the
 * heartbeat timeout (and, in mode available, started its children beside
 * its own). Every call now settles in a later macrotask (`afterATurn`).
 *
 * Limits: a message and a reply are plain JSON of at most `maxBytes` (the
 * node's `callMaxBytes`, 1 MiB by default) as UTF-8 JSON text, checked at
 * both ends (`too-large`): the caller before sending, the receiver before
 * delivering; the child's node checks the reply before sending it, and the
 * caller when it arrives. A peer of protocol 2.2 takes no calls: `no-handler`
 * at once, naming its version.
 *
 * Outstanding calls are bounded (`maxOutstanding`, the node's
 * `maxOutstandingCalls`): one more is refused `overloaded` at once, not
 * sent. Race "a burst of calls takes the caller out of the cluster" (the
 * calls tour: 200,000 calls of 1 kB made in one loop from one embedded
 * node, to a child answering after 2 s): issuing them held the caller's
 * event loop 4 s, past its peers' heartbeat timeout; they closed its
 * links, 199,566 calls failed `timeout` ("may or may not have been
 * handled"), and the caller grew to 1.3 GB. Refusals cost little and leave
 * the loop free sooner; each settles a turn later (`afterATurn`), so a
 * retry loop yields.
 *
 * Handover (`sendHandover`, `takeReceived`): the state of an instance
 * stopped for a planned move goes to the node expected to start the next
 * one, in a `handover` frame sent before the stop — links are FIFO, so it
 * arrives before the `run:` leave that lets that node start the child
 * (stop-first). It keeps it for `handoverTtlMs`, for the start of that
 * revision; unused by then (the child started elsewhere, or not at all), it
 * is dropped with a warning.
 *
 * Race "the node it was handed to never ran it" (an outsider's re-check:
 * `ctl move` to a node frozen at that moment): the old instance handed its
 * state over and stopped; the target never started it (frozen, then timed
 * out), and the child started again from nothing on the node that had just
 * taken the state — every count given out a second time. The sender keeps
 * its copy (`sent`) until the node it went to runs the child (seen in
 * `childChanged`) or for `handoverTtlMs`; if it starts that revision again
 * itself meanwhile, with nothing handed to it, the instance takes its own
 * copy back: no update was acknowledged after it (the old instance took no
 * message once it was taken) and none by the target, which never ran.
 *
 * Race "a heal that reaches the source last" (an outsider's tour, network
 * namespaces, majority mode): a child pinned to n3 ran on n2 while n3 was
 * cut off; the heal reached n1 first, n2 counted n3 present through it and
 * moved the child back to its pin while its own link to n3 was still down.
 * The state could not be sent, the old instance stopped, and the child
 * started on n3 from nothing (704 counts given out a second time). Now a
 * handover with no link to its node waits for one (`linkUp`), at most
 * `waitMs` (the node's handover timeout), the old instance still closed to
 * messages and not stopped — so the new owner, which waits for that stop
 * (stop-first), cannot start before the state is on the link — and only
 * then gives up as before (logged; the next instance starts fresh).
 *
 * Race "the node it goes to dies during the handover" (an outsider's tour:
 * `ctl move j n1`, or a drain, and n1 SIGKILLed half a second later): the
 * state waited the whole handover timeout for a link to a node known down,
 * the instance closed to messages meanwhile (5 s of calls unanswered), and
 * was then dropped — the child started again from nothing, here or on the
 * node placement picked instead (31 to 176 acknowledged updates lost per
 * move). A handover waiting for a link to a peer that goes down now
 * resolves at once, `target-down`, and so does one whose node placement no
 * longer picks (the supervisor watches it while it waits, `abandonWait`:
 * the node may have gone down before the state was taken); the supervisor
 * hands the state to the node placement picks now, or keeps it here
 * (`keep`) for the instance that starts here next to take back, as when
 * the node it went to never ran it. A node placement still picks (a heal
 * that reaches this node last) is waited for as before.
 */
import type { Clock } from '../clock.js';
import type { JsonValue } from '../groups.js';
import type { Logger } from '../logger.js';
import { jsonBytes } from '../observer/command-size.js';
import { isJsonValue, type CallFrame, type CallReplyFrame, type HandoverFrame } from '../protocol.js';
import type { Random } from '../random.js';
import { DEFAULT_CALL_TIMEOUT_MS, MESSAGE_ERROR_CODES, MessageError, type MessageErrorCode } from '../supervisor/child-channel.js';
import type { LocalSupervisor } from '../supervisor/local-supervisor.js';
import { routeCall, type RouteInput } from './call-route.js';
import { CallTable } from './call-table.js';

/** What became of a handover (`sendHandover`). */
export type HandoverResult = 'sent' | 'not-sent' | 'target-down';

/** Longest timeout a call may ask for (a day). */
export const MAX_CALL_TIMEOUT_MS = 86_400_000;
/** Default largest message, reply or handover state (UTF-8 JSON text). */
export const DEFAULT_CALL_MAX_BYTES = 1024 * 1024;

/** A call's reply and the instance that gave it. */
export interface CallAnswer {
  /** What the child's message handler returned (JSON). */
  reply: JsonValue;
  /** Name of the node whose instance answered. */
  node: string;
  /** Pid of the instance that answered. */
  pid: string;
}

/** Options of a call to a child: how long the whole call may take. */
export interface CallOptions {
  /** How long the whole call may take, waiting for an instance included (default DEFAULT_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** A node's call router in figures: what it holds now, and counters since the node started. */
export interface CallFigures {
  /** Calls and casts made on this node and not settled yet (waiting for an instance included). */
  outstanding: number;
  /** Of those, the ones waiting for an instance (the child is between instances). */
  waiting: number;
  /** Messages handed to instances on this node and not answered yet. */
  delivering: number;
  /** Handover states held: received and not taken yet, sent and kept, or waiting for a link. */
  handoversHeld: number;
  /** Calls made on this node since start. */
  calls: number;
  /** Casts made on this node since start. */
  casts: number;
  /** Messages handed to instances on this node since start. */
  delivered: number;
  /** Answers `moved` (the call went on to the next instance). */
  moved: number;
  /** Replies that found no outstanding call (settled, expired, not ours). */
  lateReplies: number;
  /** Calls failed `timeout` because the link to the child's node dropped with them outstanding. */
  linkLost: number;
  /** Calls and casts refused `overloaded`: made with `maxOutstanding` outstanding already. */
  overloaded: number;
}

/** A call-routing frame sent between nodes: a call to an instance, its reply, or a state handover. */
export type CallWire = CallFrame | CallReplyFrame | HandoverFrame;

export interface CallRouterOptions {
  node: string;
  clock: Clock;
  random: Random;
  log: Logger;
  local: Pick<LocalSupervisor, 'instanceChannel'>;
  /** What this node sees of child `id` now (the route's inputs but `skip`). */
  locate(id: string): Omit<RouteInput, 'skip' | 'pastDeadline'>;
  /** Sends a frame to a linked peer; false when there is no link. */
  send(peer: string, frame: CallWire): boolean;
  /** Whether `peer` speaks protocol 2.3 or later (takes calls and handovers). */
  takesCalls(peer: string): boolean;
  maxBytes: number;
  handoverTtlMs: number;
  /** Whether this node's instances may take messages now (false: its majority lease ran out); true when not given. */
  mayDeliver?(): boolean;
  /** Members (not left) this node has no link to now: a call can reach no instance there. */
  unlinked?(): readonly string[];
  /** Most calls and casts outstanding at once (made here, not settled); one more is refused `overloaded`. None when not given. */
  maxOutstanding?: number;
}

/** A handover waiting for a link to the node it goes to (`sendHandover`). */
interface ParkedHandover {
  id: string;
  rev: string;
  state: JsonValue;
  timer: ReturnType<Clock['setTimeout']>;
  done: (result: HandoverResult) => void;
}

/** What delivering a message to an instance came to. */
type Outcome = { ok: true; body: JsonValue } | { ok: false; code: MessageErrorCode | 'moved'; message: string };

interface Pending {
  readonly id: string;
  readonly body: JsonValue;
  readonly cast: boolean;
  readonly deadline: number;
  readonly timeoutMs: number;
  /** Instances that answered `moved` or could not be reached: not tried again. */
  readonly skip: Set<string>;
  /** Where the frame went and no answer came yet. */
  at: { node: string; pid: string } | undefined;
  waiting: boolean;
  readonly resolve: (answer: CallAnswer) => void;
  readonly reject: (err: MessageError) => void;
}

const KNOWN_CODES: ReadonlySet<string> = new Set([...MESSAGE_ERROR_CODES, 'moved']);

/** A peer's error code as this node reads it: an unknown one (a newer peer's) is a handler error. */
function readCode(code: string): MessageErrorCode | 'moved' {
  return KNOWN_CODES.has(code) ? (code as MessageErrorCode | 'moved') : 'handler-error';
}

function tooLarge(what: string, bytes: number, max: number): string {
  return `${what} is ${bytes} bytes of JSON, more than the limit of ${max} (callMaxBytes)`;
}

/**
 * The event loop's turns, as far as calls need to know: `turn` moves on in
 * the check phase after any turn in which a call was made (one
 * `setImmediate` per turn, not per call).
 */
let turn = 0;
let turnMarked = false;
function currentTurn(): number {
  if (!turnMarked) {
    turnMarked = true;
    setImmediate(() => {
      turn++;
      turnMarked = false;
    });
  }
  return turn;
}

/**
 * Settles as `p` does, but never in the turn the call was made in (race "a
 * retry loop that never yields", header): a call that settles in the same
 * turn (a local failure, an instance here answering at once) is held for a
 * `setImmediate`; one answered by a frame from a peer has seen the loop
 * turn and settles at once. Holding every call cost a pipelined caller its
 * batching: each reply's continuation ran in its own `setImmediate`, so
 * the calls it made went out in a frame each (the calls benchmark's
 * calls/s fell by about a fifth).
 */
function afterATurn<T>(p: Promise<T>): Promise<T> {
  const made = currentTurn();
  return p.then(
    (value) => (turn === made ? new Promise<T>((resolve) => setImmediate(() => resolve(value))) : value),
    (err: unknown) => (turn === made ? new Promise<T>((_, reject) => setImmediate(() => reject(err as Error))) : Promise.reject(err as Error)),
  );
}

/**
 * A refusal `overloaded`, without a stack trace: capturing one was most of a
 * refusal's cost (150,000 refusals in the tour's burst: 1.6 s of the
 * caller's loop with the collector's share), and the refusal's cause is the
 * count in its message, not the line that made the call.
 */
function overloadedError(message: string): MessageError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new MessageError('overloaded', message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export class CallRouter {
  private readonly table: CallTable<Pending>;
  /** Calls waiting for an instance of each child. */
  private readonly waiting = new Map<string, Set<string>>();
  private readonly received = new Map<string, { rev: string; state: JsonValue; from: string; timer: ReturnType<Clock['setTimeout']> }>();
  /** States this node handed over (`sendHandover`), kept until the node they went to runs the child (see the header). */
  private readonly sent = new Map<string, { rev: string; to: string; state: JsonValue; timer: ReturnType<Clock['setTimeout']> }>();
  /** Handovers waiting for a link to the node they go to, by that node (race "a heal that reaches the source last"). */
  private readonly awaitingLink = new Map<string, ParkedHandover[]>();
  private stopped = false;
  /** Messages handed to instances here and not answered yet; `idle` waits for none. */
  private inDelivery = 0;
  private idle: Array<() => void> = [];
  private overloadedText: { n: number; text: string } | undefined;
  /** Counters for tests and metrics. */
  readonly stats = { calls: 0, casts: 0, delivered: 0, moved: 0, lateReplies: 0, linkLost: 0, overloaded: 0 };

  constructor(private readonly o: CallRouterOptions) {
    this.table = new CallTable<Pending>(o.clock, o.random.hex(4), (cid, p) => this.expired(cid, p));
  }

  /** Sends `body` to child `id` and resolves with its reply (see the header); never settles in the turn it was made in. */
  call(id: string, body: JsonValue, options: CallOptions = {}, cast = false): Promise<CallAnswer> {
    return afterATurn(this.callNow(id, body, options, cast));
  }

  private callNow(id: string, body: JsonValue, options: CallOptions, cast: boolean): Promise<CallAnswer> {
    if (this.stopped) return Promise.reject(new MessageError('not-running', `${this.o.node} is shutting down; it routes no more calls`));
    // Race "a burst of calls takes the caller out of the cluster" (see the header): refused at once, nothing sent,
    // before the message is checked or measured (in the tour's burst those were most of a refusal's cost).
    const max = this.o.maxOutstanding;
    if (max !== undefined && this.table.size >= max) {
      this.stats.overloaded++;
      return Promise.reject(overloadedError(this.overloadedMessage()));
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_CALL_TIMEOUT_MS) {
      return Promise.reject(new TypeError(`timeoutMs must be a whole number of ms from 1 to ${MAX_CALL_TIMEOUT_MS}`));
    }
    if (typeof id !== 'string' || id.length === 0 || id.length > 256)
      return Promise.reject(new MessageError('not-found', `no child with id ${JSON.stringify(id)?.slice(0, 80)}`));
    if (body === undefined || !isJsonValue(body))
      return Promise.reject(new TypeError('a message must be plain JSON (strings, finite numbers, booleans, null, arrays, plain objects)'));
    const bytes = jsonBytes(body);
    if (bytes > this.o.maxBytes) return Promise.reject(new MessageError('too-large', tooLarge('the message', bytes, this.o.maxBytes)));
    if (cast) this.stats.casts++;
    else this.stats.calls++;
    return new Promise<CallAnswer>((resolve, reject) => {
      const deadline = this.o.clock.now() + timeoutMs;
      const p: Pending = { id, body, cast, deadline, timeoutMs, skip: new Set(), at: undefined, waiting: false, resolve, reject };
      const cid = this.table.open(p, deadline);
      this.route(cid, p);
    });
  }

  /** Why a call is refused `overloaded`; the count formatted once per count, not per refusal (`toLocaleString` is slow). */
  private overloadedMessage(): string {
    const n = this.table.size;
    if (this.overloadedText?.n !== n)
      this.overloadedText = {
        n,
        text:
          `${this.o.node} has ${n.toLocaleString('en-US')} calls and casts outstanding, its limit (maxOutstandingCalls): ` +
          'this one was not sent; wait for some to settle, or raise the limit',
      };
    return this.overloadedText.text;
  }

  /** This node synced with another member for the first time (since it started or discarded its state): every waiting call is routed again. */
  synced(): void {
    for (const id of [...this.waiting.keys()]) this.childChanged(id);
  }

  /** The child's `run:` group or its register changed: calls waiting for it are routed again. */
  childChanged(id: string): void {
    const kept = this.sent.get(id);
    if (kept !== undefined && this.o.locate(id).runners.some((r) => r.node === kept.to)) this.dropSent(id);
    const cids = this.waiting.get(id);
    if (cids === undefined) return;
    this.waiting.delete(id);
    for (const cid of cids) {
      const p = this.table.get(cid);
      if (p === undefined) continue;
      p.waiting = false;
      this.route(cid, p);
    }
  }

  /** A frame from `peer` (validated by its schema). */
  handle(peer: string, frame: CallWire): void {
    if (frame.t === 'call') this.onCall(peer, frame);
    else if (frame.t === 'call.reply') this.onReply(peer, frame);
    else this.onHandover(peer, frame);
  }

  /**
   * The link to `peer` dropped: calls sent there have an unknown outcome (see the header: not sent again); handovers
   * waiting for a link to it resolve `target-down` (race "the node it goes to dies during the handover").
   */
  peerDown(peer: string): void {
    const parked = this.awaitingLink.get(peer);
    if (parked !== undefined) {
      this.awaitingLink.delete(peer);
      for (const h of parked) {
        this.o.clock.clearTimeout(h.timer);
        h.done('target-down');
      }
    }
    for (const [cid, p] of this.table.entries()) {
      if (p.at?.node !== peer) continue;
      this.stats.linkLost++;
      this.fail(
        cid,
        new MessageError(
          'timeout',
          `lost the link to ${peer} before ${p.id} answered; the message may or may not have been handled (delivery is at most once: it is not sent again)`,
        ),
      );
    }
  }

  /** `peer` announced its leave (see the header): calls outstanding to it were not delivered; they go to the next instance. */
  peerLeaving(peer: string): void {
    for (const [cid, p] of this.table.entries()) {
      if (p.at?.node !== peer) continue;
      p.skip.add(p.at.pid);
      p.at = undefined;
      this.route(cid, p);
    }
  }

  /** Resolves once every message delivered to an instance here has been answered (or after `withinMs`). */
  async delivered(withinMs: number): Promise<void> {
    if (this.inDelivery === 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.o.clock.clearTimeout(timer);
        this.idle = this.idle.filter((w) => w !== done);
        resolve();
      };
      const timer = this.o.clock.setTimeout(done, withinMs);
      this.idle.push(done);
    });
  }

  /** Fails every outstanding call and drops held handovers (the node stops). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const [cid] of this.table.entries()) this.fail(cid, new MessageError('not-running', `${this.o.node} is shutting down`));
    for (const h of this.received.values()) this.o.clock.clearTimeout(h.timer);
    this.received.clear();
    for (const id of [...this.sent.keys()]) this.dropSent(id);
    this.giveUpLinkWaits();
  }

  /** This node's lease ran out (majority mode): the handovers waiting for a link are given up (local-instances.ts `hurry`). */
  abandonHandoverWaits(): void {
    this.giveUpLinkWaits('handover not sent: this node lost its majority while waiting for a link to the next node');
  }

  /** Resolves every handover waiting for a link as not sent, logging `why` for each when given. */
  private giveUpLinkWaits(why?: string): void {
    const parked = [...this.awaitingLink.entries()];
    this.awaitingLink.clear();
    for (const [to, hs] of parked)
      for (const h of hs) {
        this.o.clock.clearTimeout(h.timer);
        if (why !== undefined) this.o.log.warn({ child: h.id, to }, why);
        h.done('not-sent');
      }
  }

  /** The link to `peer` came up: the handovers waiting for it are sent now (see the header). */
  linkUp(peer: string): void {
    const parked = this.awaitingLink.get(peer);
    if (parked === undefined) return;
    this.awaitingLink.delete(peer);
    for (const h of parked) {
      this.o.clock.clearTimeout(h.timer);
      h.done(this.trySend(h.id, h.rev, peer, h.state, true) ? 'sent' : 'not-sent');
    }
  }

  private dropSent(id: string): void {
    const kept = this.sent.get(id);
    if (kept === undefined) return;
    this.o.clock.clearTimeout(kept.timer);
    this.sent.delete(id);
  }

  get outstanding(): number {
    return this.table.size;
  }

  /** What the router holds now and has done since start (metrics.ts: pogo_calls_*). */
  figures(): CallFigures {
    let waiting = 0;
    for (const set of this.waiting.values()) waiting += set.size;
    let awaitingLink = 0;
    for (const hs of this.awaitingLink.values()) awaitingLink += hs.length;
    return {
      outstanding: this.table.size,
      waiting,
      delivering: this.inDelivery,
      handoversHeld: this.received.size + this.sent.size + awaitingLink,
      ...this.stats,
    };
  }

  // ---- the caller's side -------------------------------------------------------

  private route(cid: string, p: Pending): void {
    // Bounded: each pass either ends the call, parks it, sends it, or adds a pid to `skip`.
    for (;;) {
      const route = routeCall({ ...this.o.locate(p.id), skip: p.skip, pastDeadline: p.deadline <= this.o.clock.now() });
      if (route.to === 'fail') {
        this.fail(
          cid,
          route.code === 'not-running'
            ? new MessageError('not-running', `${p.id} was terminated; it runs nowhere`)
            : new MessageError('not-found', `no child with id ${JSON.stringify(p.id)}`),
        );
        return;
      }
      if (route.to === 'wait') {
        p.waiting = true;
        let set = this.waiting.get(p.id);
        if (set === undefined) this.waiting.set(p.id, (set = new Set()));
        set.add(cid);
        return;
      }
      const { node, pid } = route;
      const left = Math.max(1, p.deadline - this.o.clock.now());
      if (node === this.o.node) {
        p.at = { node, pid };
        void this.deliver(p.id, pid, p.body, p.cast, left).then((outcome) => this.outcome(cid, node, pid, outcome));
        return;
      }
      if (!this.o.takesCalls(node)) {
        this.fail(cid, new MessageError('no-handler', `${p.id} runs on ${node}, whose protocol version is older than 2.3 and takes no calls; upgrade it`));
        return;
      }
      const frame: CallFrame = p.cast
        ? { t: 'call', cid, id: p.id, pid, body: p.body, timeoutMs: left, cast: true }
        : { t: 'call', cid, id: p.id, pid, body: p.body, timeoutMs: left };
      p.at = { node, pid };
      if (this.o.send(node, frame)) return;
      // Not sent at all (no link): certainly not delivered. Another instance, or wait for one.
      p.at = undefined;
      p.skip.add(pid);
    }
  }

  private onReply(peer: string, frame: CallReplyFrame): void {
    const p = this.table.get(frame.cid);
    if (p === undefined || p.at?.node !== peer) {
      this.stats.lateReplies++;
      this.o.log.debug({ peer, cid: frame.cid }, 'a call reply for no outstanding call (settled, expired, or not ours); dropped');
      return;
    }
    const outcome: Outcome = frame.ok
      ? { ok: true, body: frame.body ?? null }
      : { ok: false, code: readCode(frame.error?.code ?? 'handler-error'), message: frame.error?.message ?? 'failed' };
    this.outcome(frame.cid, peer, p.at.pid, outcome);
  }

  private outcome(cid: string, node: string, pid: string, outcome: Outcome): void {
    const p = this.table.get(cid);
    if (p === undefined || p.at?.node !== node || p.at.pid !== pid) return; // settled meanwhile (its deadline)
    if (!outcome.ok) {
      if (outcome.code !== 'moved') {
        this.fail(cid, new MessageError(outcome.code, outcome.message));
        return;
      }
      this.stats.moved++;
      p.at = undefined;
      p.skip.add(pid);
      this.route(cid, p);
      return;
    }
    if (!p.cast) {
      const bytes = jsonBytes(outcome.body);
      if (bytes > this.o.maxBytes) {
        this.fail(cid, new MessageError('too-large', tooLarge(`${p.id}'s reply`, bytes, this.o.maxBytes)));
        return;
      }
    }
    this.table.settle(cid);
    p.resolve({ reply: p.cast ? null : outcome.body, node, pid });
  }

  /**
   * What a call that found no instance adds when some members are not linked here. Race "a partial partition hides
   * the instance" (the calls tour: n1 and n3 cut apart, n2 hearing both): for the whole split every call from n1 to a
   * child running on n3 said it was "between instances, or cannot start" — it ran, and handled 20,930 messages.
   */
  private unseen(): string {
    const away = this.o.unlinked?.() ?? [];
    if (away.length === 0) return '';
    const names = [...away].sort().join(', ');
    return `; or it runs on ${names}, which ${this.o.node} has no link to: a call reaches only instances on nodes linked to the caller's`;
  }

  private expired(cid: string, p: Pending): void {
    this.unpark(cid, p);
    const why =
      p.at !== undefined
        ? `${p.id} (${p.at.pid} on ${p.at.node}) did not answer within ${p.timeoutMs} ms`
        : this.unsynced(p.id)
          ? `${this.o.node} has not synced with the cluster yet (with no other member: still linking, or its seeds do not answer), so within ` +
            `${p.timeoutMs} ms it could not tell whether ${p.id} exists or where it runs`
          : `no instance of ${p.id} took the message within ${p.timeoutMs} ms (it is between instances, or cannot start)${this.unseen()}`;
    p.reject(new MessageError('timeout', why));
  }

  /** Waiting only because this node has not synced yet (no live spec here). */
  private unsynced(id: string): boolean {
    const where = this.o.locate(id);
    return where.syncing && !where.live;
  }

  private fail(cid: string, err: MessageError): void {
    const p = this.table.settle(cid);
    if (p === undefined) return;
    this.unpark(cid, p);
    p.reject(err);
  }

  private unpark(cid: string, p: Pending): void {
    if (!p.waiting) return;
    const set = this.waiting.get(p.id);
    set?.delete(cid);
    if (set?.size === 0) this.waiting.delete(p.id);
  }

  // ---- the child's side -------------------------------------------------------

  private onCall(peer: string, frame: CallFrame): void {
    const bytes = jsonBytes(frame.body);
    const answer = (outcome: Outcome): void => {
      const reply: CallReplyFrame = outcome.ok
        ? { t: 'call.reply', cid: frame.cid, ok: true, body: outcome.body }
        : { t: 'call.reply', cid: frame.cid, ok: false, error: { code: outcome.code, message: outcome.message.slice(0, 2000) } };
      if (!this.o.send(peer, reply)) this.o.log.debug({ peer, child: frame.id }, 'the link to the caller dropped before its reply; the reply is lost');
    };
    if (bytes > this.o.maxBytes) {
      answer({ ok: false, code: 'too-large', message: tooLarge('the message', bytes, this.o.maxBytes) });
      return;
    }
    void this.deliver(frame.id, frame.pid, frame.body, frame.cast === true, frame.timeoutMs).then((outcome) => {
      if (outcome.ok && frame.cast !== true) {
        const size = jsonBytes(outcome.body);
        if (size > this.o.maxBytes) outcome = { ok: false, code: 'too-large', message: tooLarge(`${frame.id}'s reply`, size, this.o.maxBytes) };
      }
      answer(outcome);
    });
  }

  /** Hands a message to instance `pid` of `id` on this node. Never rejects. */
  private async deliver(id: string, pid: string, body: JsonValue, cast: boolean, timeoutMs: number): Promise<Outcome> {
    // Majority mode, the lease run out (a node woken from a freeze may read its sockets before its timers run): its
    // instances stop, and the majority may run the child already. `moved`: the caller tries the next instance.
    if (this.o.mayDeliver?.() === false)
      return { ok: false, code: 'moved', message: `${this.o.node} has no majority behind it (its lease ran out): its instances take no messages` };
    const found = this.o.local.instanceChannel(id, pid);
    if ('none' in found) return { ok: false, code: 'moved', message: `${pid} takes no messages now` };
    const channel = found.channel;
    if (channel === undefined) return { ok: false, code: 'no-handler', message: `${id} is a kind of child that takes no messages` };
    this.stats.delivered++;
    this.inDelivery++;
    try {
      if (cast) {
        channel.cast(body);
        return { ok: true, body: null };
      }
      return { ok: true, body: await channel.call(body, timeoutMs) };
    } catch (err) {
      if (err instanceof MessageError) return { ok: false, code: err.code, message: err.message };
      return { ok: false, code: 'handler-error', message: err instanceof Error ? err.message : String(err) };
    } finally {
      // The answer is sent in this same turn (onCall's continuation runs before any timer), before a leave can be.
      if (--this.inDelivery === 0) for (const w of this.idle.splice(0)) w();
    }
  }

  // ---- handover ---------------------------------------------------------------

  /**
   * Sends a moving instance's state to the node expected to start the next one: `sent`, or `not-sent` (logged) when
   * it cannot. With no link to that node it waits for one, at most `waitMs` (see the header), and resolves
   * `target-down` (not logged: the caller decides) if that node goes down meanwhile.
   */
  sendHandover(id: string, rev: string, to: string, state: JsonValue, waitMs = 0): Promise<HandoverResult> {
    const bytes = jsonBytes(state);
    if (bytes > this.o.maxBytes) {
      this.o.log.warn({ child: id, to, bytes }, `handover not sent: ${tooLarge('the state', bytes, this.o.maxBytes)}; the next instance starts fresh`);
      return Promise.resolve('not-sent');
    }
    if (this.trySend(id, rev, to, state, waitMs <= 0 || this.stopped)) return Promise.resolve('sent');
    if (waitMs <= 0 || this.stopped || !this.o.takesCalls(to)) return Promise.resolve('not-sent');
    this.o.log.info({ child: id, to, waitMs }, 'no link to the next node yet; the handover waits for it');
    return new Promise<HandoverResult>((done) => {
      const timer = this.o.clock.setTimeout(() => {
        this.takeParked(to, (h) => h.timer === timer);
        this.o.log.warn({ child: id, to, waitMs }, `handover not sent: no link to the next node within ${waitMs} ms; the next instance starts fresh`);
        done('not-sent');
      }, waitMs);
      const parked = this.awaitingLink.get(to) ?? [];
      parked.push({ id, rev, state, timer, done });
      this.awaitingLink.set(to, parked);
    });
  }

  /** Sends a handover frame and keeps a copy (`sent`); false when it cannot, logged only when `final` (or it never will). */
  private trySend(id: string, rev: string, to: string, state: JsonValue, final: boolean): boolean {
    if (!this.o.takesCalls(to)) {
      this.o.log.warn({ child: id, to }, 'handover not sent: the next node speaks a protocol older than 2.3; the next instance starts fresh');
      return false;
    }
    if (!this.o.send(to, { t: 'handover', id, rev, state })) {
      if (final) this.o.log.warn({ child: id, to }, 'handover not sent: no link to the next node; the next instance starts fresh');
      return false;
    }
    this.keep(id, rev, to, state);
    return true;
  }

  /** Whether a handover of `id` waits for a link to `to`. */
  waitsForLink(id: string, to: string): boolean {
    return this.awaitingLink.get(to)?.some((h) => h.id === id) ?? false;
  }

  /** Ends the wait of the handover of `id` for a link to `to`: it resolves `target-down` (the caller found `to` is not where it goes now). */
  abandonWait(id: string, to: string): void {
    const h = this.takeParked(to, (x) => x.id === id);
    if (h === undefined) return;
    this.o.clock.clearTimeout(h.timer);
    h.done('target-down');
  }

  /** Takes the first handover waiting for a link to `to` that `which` picks out of the wait; the one taken, if any. */
  private takeParked(to: string, which: (h: ParkedHandover) => boolean): ParkedHandover | undefined {
    const parked = this.awaitingLink.get(to);
    const h = parked?.find(which);
    if (parked === undefined || h === undefined) return undefined;
    const rest = parked.filter((x) => x !== h);
    if (rest.length > 0) this.awaitingLink.set(to, rest);
    else this.awaitingLink.delete(to);
    return h;
  }

  /**
   * Keeps a state this node could not hand to `to` (gone down first: see the header) as if handed over: the
   * instance of revision `rev` that starts here next takes it back (`takeReceived`), within `handoverTtlMs`.
   */
  keep(id: string, rev: string, to: string, state: JsonValue): void {
    this.dropSent(id);
    const timer = this.o.clock.setTimeout(() => {
      if (this.sent.get(id)?.timer === timer) this.sent.delete(id);
    }, this.o.handoverTtlMs);
    this.sent.set(id, { rev, to, state, timer });
  }

  /** The state handed over for revision `rev` of `id`, once (a start takes it). */
  takeReceived(id: string, rev: string): JsonValue | undefined {
    const h = this.received.get(id);
    if (h === undefined) return this.takeBack(id, rev);
    this.dropSent(id);
    this.received.delete(id);
    this.o.clock.clearTimeout(h.timer);
    if (h.rev !== rev) {
      this.o.log.warn({ child: id, handedFor: h.rev, starting: rev }, 'handover dropped: it was for another revision of the child; the instance starts fresh');
      return undefined;
    }
    return h.state;
  }

  /** The state this node handed over for revision `rev` of `id`, when the node it went to never ran it (see the header); once. */
  private takeBack(id: string, rev: string): JsonValue | undefined {
    const kept = this.sent.get(id);
    if (kept === undefined) return undefined;
    this.dropSent(id);
    if (kept.rev !== rev || this.o.locate(id).runners.some((r) => r.node === kept.to)) return undefined;
    this.o.log.info({ child: id, to: kept.to }, `${kept.to}, the node the child's state was for, never ran it: the new instance here takes that state back`);
    return kept.state;
  }

  private onHandover(peer: string, frame: HandoverFrame): void {
    const bytes = jsonBytes(frame.state);
    if (bytes > this.o.maxBytes) {
      this.o.log.warn(
        { child: frame.id, from: peer, bytes },
        `handover refused: ${tooLarge('the state', bytes, this.o.maxBytes)}; the next instance starts fresh`,
      );
      return;
    }
    const old = this.received.get(frame.id);
    if (old) this.o.clock.clearTimeout(old.timer);
    const timer = this.o.clock.setTimeout(() => {
      if (this.received.get(frame.id)?.timer !== timer) return;
      this.received.delete(frame.id);
      this.o.log.warn(
        { child: frame.id, from: peer },
        `handover unused after ${this.o.handoverTtlMs} ms (the child started elsewhere, or not at all); dropped`,
      );
    }, this.o.handoverTtlMs);
    this.received.set(frame.id, { rev: frame.rev, state: frame.state, from: peer, timer });
  }
}
