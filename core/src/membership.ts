/**
 * Membership: the member table, gossip, and dialling towards a full mesh.
 *
 * Each node keeps a table name → member (incarnation, address, role, labels,
 * workers, status). The status of a peer is this node's own view, taken from
 * its direct link (as Erlang distribution does): `up` while linked, `suspect`
 * while the link is silent, `down` when the link is gone, `left` after the
 * peer announced a graceful leave. Gossip only spreads *who exists*: every
 * member learned from gossip is dialled, so the members form a full mesh.
 *
 * Merge rules for a gossiped entry (`mergeMember`, a pure function):
 * 1. Entries about this node itself are ignored: a node is the only
 *    authority about itself.
 * 2. An unknown name is added as `down` (then dialled) — or as `left`, as a
 *    tombstone, when the gossip says it left.
 * 3. Same incarnation: metadata (address, labels, workers, role) is taken
 *    when the entry's `version` is higher (only the member bumps it); a
 *    gossiped `left` is taken unless we are linked to that incarnation (our
 *    own link will tell us directly).
 * 4. Another incarnation: the one that started later (ties: larger
 *    incarnation) replaces the one we hold — unless we are linked to the one
 *    we hold, which is then evidently alive (direct knowledge beats gossip).
 *
 * Gossip traffic: on link up both sides send their whole table; a change
 * worth spreading (a member learned, a leave, our own metadata) goes at once
 * to every linked peer as a delta; every `gossipIntervalMs` the whole table
 * goes to one random linked peer (anti-entropy).
 *
 * Reachability: statuses are each node's own, so each node also tells its
 * linked peers whom it cannot hear (`reach`: its whole list, with how long
 * it has not heard each, sent on every change and on link up). A node keeps
 * the latest report of each linked peer (`unheardBy`): netsplit majority mode
 * counts them before it takes over a member's children. When a link goes
 * down, the member keeps when it was last heard and when it last confirmed
 * hearing us (`lastHeardAt`, `confirmedAt`).
 *
 * Dialling: seeds and every known member that is neither up nor left are
 * dialled with exponential backoff and jitter (`reconnectBaseMs` doubling up
 * to `reconnectMaxMs`); a member whose link just went down first after one
 * gossip interval (see `onLinkDown`). Race "the lone node of a whole-cluster
 * restart": a node linked to no one caps its backoff at a fifth of
 * `reconnectMaxMs` (1 s with `lan`); so does an observer towards a member
 * its linked peers still hear (race "an observer cut from one member
 * only", at `cutOffAlone`). A member that is no one's seed and came
 * back first is dialled by nobody (the others know it only by name, from
 * their saved roster): it reached its seeds only at its next attempt, up to
 * 5 s after they were up, took every child alone at its ready timeout and
 * handed most of them over (the tour: 77 of 106 started twice) while the
 * others waited for it. An address that is neither a seed nor
 * a known member's (a member restarted elsewhere, one forgotten) is not
 * dialled any more. A seed whose name turns out to be a linked member is
 * not dialled again. Seeds come from the configuration (fixed) and from DNS
 * discovery (`setDiscoveredSeeds`, replaced on every change of the answer):
 * a discovered address that leaves the answer is no longer dialled as a
 * seed, but a link to it stays, and a member known at it is dialled as any
 * member is (until it is forgotten). Members down for `downReapAfterMs` and
 * tombstones older than `leftReapAfterMs` are forgotten (and kept from
 * coming back through stale gossip for as long again).
 *
 * A failed dial is logged at an address's 1st, 2nd, 4th, … attempt, and at
 * most ten one by one per ten seconds for the whole node, the rest in one
 * line (`logDialFailure`): a DNS answer of hundreds of dead addresses
 * stays readable.
 *
 * Observers are dialled by no one: an observer (`pogo observe`, the desktop
 * app) dials every member it learns of, and its link is its own to make
 * again. It listens on loopback and announces that address, so a member
 * that lost one (a laptop closed, the app quit without its leave) dialled
 * `127.0.0.1:<its port>` on its own host for `downReapAfterMs` (15 min),
 * failing every time or, worse, reaching whatever else listens there; and
 * two desktop apps on one cluster dialled each other's loopback.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { DialFailure, DialFailureCode, Link, LinkLayer } from './link.js';
import type { Logger } from './logger.js';
import type { LinkMessage, MemberInfo, MemberStatus, SaveFailing, WaitsFor } from './protocol.js';
import type { Random } from './random.js';

/** Whether a member's status says it is linked to this node: up, or up but suspected (silent for a while, not yet down). */
export function isLinked(status: string): boolean {
  return status === 'up' || status === 'suspect';
}

/** A cluster member as membership sees it: identity, address, role, status. */
export interface Member extends MemberInfo {
  /** When `status` last changed (this node's clock). */
  since: number;
  /** Why the status last changed, for operators. */
  reason: string;
  /** This node's own knowledge, never gossiped: when it last heard this incarnation (kept once the link is gone). */
  lastHeardAt?: number;
  /** Never gossiped: the send time (this node's clock) of the newest ping of ours this incarnation echoed back. */
  confirmedAt?: number;
  /** Never gossiped: linked members' reports that they cannot hear this incarnation, and since when (this node's clock). */
  unheardBy?: ReadonlyArray<{ reporter: string; since: number }>;
  /** Never gossiped: it is down because it closed the link itself, on purpose (it was alive then: it timed this node out, say). */
  closedByPeer?: boolean;
}

/** A membership change: a member joined, changed status or left. */
export type MemberEvent =
  | { kind: 'member-up'; member: Member }
  | { kind: 'member-down'; member: Member; reason: string }
  | { kind: 'member-left'; member: Member; reason: string }
  | { kind: 'member-suspect'; member: Member; suspect: boolean }
  | { kind: 'member-updated'; member: Member };

export interface MembershipTiming {
  /** Interval of the anti-entropy gossip round, in ms. */
  gossipIntervalMs: number;
  /** First redial delay after a failure, in ms; doubles each failure. */
  reconnectBaseMs: number;
  /** Cap of the redial delay, in ms. */
  reconnectMaxMs: number;
  /** How long a member stays in the table while down, in ms. */
  downReapAfterMs: number;
  /** How long a `left` tombstone is kept, in ms. */
  leftReapAfterMs: number;
}

export interface MembershipOptions {
  self: MemberInfo;
  seeds: readonly string[];
  links: Pick<LinkLayer, 'dial' | 'isDialling' | 'isBusyWith' | 'all' | 'get' | 'send' | 'sendWithNextFrame'>;
  clock: Clock;
  random: Random;
  log: Logger;
  timing: MembershipTiming;
  onEvent(event: MemberEvent): void;
  /** A peer's report of whom it cannot hear changed (or went with its link). */
  onReach?(): void;
}

export type MergeOutcome = { action: 'ignore' } | { action: 'add' | 'update' | 'replace'; member: Member };

/** Rules 1-4 of the header. `linkedIncarnation` is the incarnation we hold a link to, if any. */
export function mergeMember(
  local: Member | undefined,
  incoming: MemberInfo,
  ctx: { selfName: string; linkedIncarnation: string | undefined; now: number },
): MergeOutcome {
  if (incoming.name === ctx.selfName) return { action: 'ignore' };
  if (!local) {
    const status: MemberStatus = incoming.status === 'left' ? 'left' : 'down';
    return { action: 'add', member: { ...incoming, status, since: ctx.now, reason: 'learned from gossip' } };
  }
  if (incoming.incarnation === local.incarnation) {
    let next: Member = local;
    if (incoming.version > local.version) {
      next = {
        ...next,
        address: incoming.address,
        role: incoming.role,
        labels: incoming.labels,
        workers: incoming.workers,
        capacity: incoming.capacity,
        commands: incoming.commands,
        ready: incoming.ready,
        startable: incoming.startable,
        lease: incoming.lease,
        netsplit: incoming.netsplit,
        saveFailing: incoming.saveFailing,
        waitsFor: incoming.waitsFor,
        version: incoming.version,
      };
    }
    if (incoming.status === 'left' && local.status !== 'left' && ctx.linkedIncarnation !== local.incarnation) {
      next = { ...next, status: 'left', since: ctx.now, reason: 'left (learned from gossip)' };
    }
    return next === local ? { action: 'ignore' } : { action: 'update', member: next };
  }
  const newer = incoming.startedAt > local.startedAt || (incoming.startedAt === local.startedAt && incoming.incarnation > local.incarnation);
  if (!newer || ctx.linkedIncarnation === local.incarnation) return { action: 'ignore' };
  const status: MemberStatus = incoming.status === 'left' ? 'left' : 'down';
  return { action: 'replace', member: { ...incoming, status, since: ctx.now, reason: 'new incarnation learned from gossip' } };
}

interface DialTarget {
  attempts: number;
  timer: TimerHandle | undefined;
  lastError: string | undefined;
  /** The last failure, when it was a refusal that says a live cluster answers there and will not take this node (`REFUSALS`). */
  refusal: { code: DialFailureCode; message: string } | undefined;
}

/**
 * Dial failures that mean a live node of a cluster answered and refused
 * this one for what it is — the secret, its name, the cluster's name, the
 * protocol, TLS (a certificate it does not trust, or one end speaking TLS
 * and the other not: transport.ts `TransportRefusal`; an outsider's tour
 * found a node without the cluster's TLS settings taking every child alone
 * at its ready timeout) — rather than "nobody there yet" (unreachable, a timeout, a busy
 * or stopping peer). Retrying changes nothing until someone fixes a
 * setting, and a node that only ever meets these must not take children on
 * its own (the reconciler's readiness: it would run a second copy of every
 * child the cluster already runs).
 */
/** At most this many failed dials are logged one by one per `DIAL_LOG_WINDOW_MS`; the rest in one line (`logDialFailure`). */
const DIAL_WARNINGS_PER_WINDOW = 10;
const DIAL_LOG_WINDOW_MS = 10_000;

const REFUSALS: ReadonlySet<DialFailureCode> = new Set<DialFailureCode>(['auth-failed', 'duplicate-name', 'cluster-mismatch', 'version-mismatch', 'tls']);

/**
 * The member table: a Map, with its entries indexed by address and a count of
 * the linked ones, rebuilt on first use after a change. Dialling asks both on
 * every attempt (`wantsDial`, `alone`); scanning the whole table each time
 * cost 80 % of a node's CPU, and seconds of event-loop lag (/healthz took
 * 4 s), once a peer had gossiped 5,000 members that could not be reached
 * (an outsider's tour): each of ~1,000 addresses redialled with its backoff.
 */
class MemberTable extends Map<string, Member> {
  private index: { byAddress: Map<string, Member[]>; linked: Member[] } | undefined;

  override set(name: string, member: Member): this {
    this.index = undefined;
    return super.set(name, member);
  }

  override delete(name: string): boolean {
    this.index = undefined;
    return super.delete(name);
  }

  override clear(): void {
    this.index = undefined;
    super.clear();
  }

  private built(): { byAddress: Map<string, Member[]>; linked: Member[] } {
    if (this.index) return this.index;
    const byAddress = new Map<string, Member[]>();
    const linked: Member[] = [];
    for (const m of this.values()) {
      const at = byAddress.get(m.address);
      if (at) at.push(m);
      else byAddress.set(m.address, [m]);
      if (isLinked(m.status)) linked.push(m);
    }
    return (this.index = { byAddress, linked });
  }

  /** The entries with this address, in table order. */
  atAddress(address: string): readonly Member[] {
    return this.built().byAddress.get(address) ?? [];
  }

  /** The entries whose status is linked (up or suspect), in table order. */
  linked(): readonly Member[] {
    return this.built().linked;
  }
}

export class Membership {
  private readonly table = new MemberTable();
  private self: Member;
  private readonly seeds: Set<string>;
  /** Seeds found by DNS discovery (discovery/seed-discovery.ts), the latest answer. */
  private discovered = new Set<string>();
  /** Addresses known to reach a given node name (seeds, aliases). */
  private readonly aliases = new Map<string, string>();
  /** Addresses that turned out to be this node itself. */
  private readonly selfAddresses = new Set<string>();
  private readonly dialing = new Map<string, DialTarget>();
  /** Dial failures logged one by one in the current window, and those only counted (see `logDialFailure`). */
  private dialLog = { windowEnd: -Infinity, logged: 0, quiet: 0, quietAddresses: new Set<string>(), timer: undefined as TimerHandle | undefined };
  /** Reaped name → incarnation, ignored in gossip until `until`. */
  private readonly reaped = new Map<string, { incarnation: string; until: number }>();
  private gossipTimer: TimerHandle | undefined;
  private stopped = false;
  /** Each linked peer's latest `reach` report: name → incarnation and since when (our clock) it has not heard it. */
  private readonly reports = new Map<string, Map<string, { incarnation: string; since: number }>>();
  /** A first dial to a member never heard of failed since the last gossip round: our `reach` list may have grown (`unheardList`). */
  private reachStale = false;
  /** Our own last `reach` list as sent, to send only changes. */
  private lastReach = '';

  constructor(private readonly o: MembershipOptions) {
    this.self = { ...o.self, version: Math.max(1, o.self.version), status: 'up', since: o.clock.now(), reason: 'self' };
    this.seeds = new Set(o.seeds.filter((s) => s !== o.self.address));
  }

  start(): void {
    for (const seed of this.seeds) this.ensureDialing(seed);
    this.scheduleGossip();
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.gossipTimer);
    this.o.clock.clearTimeout(this.dialLog.timer);
    for (const target of this.dialing.values()) this.o.clock.clearTimeout(target.timer);
    this.dialing.clear();
  }

  /** Every member including this node, sorted by name. */
  members(): Member[] {
    return [this.self, ...this.table.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): Member | undefined {
    return name === this.self.name ? this.self : this.table.get(name);
  }

  /** Changes this node's own metadata and spreads it. */
  updateSelf(patch: {
    labels?: Record<string, string>;
    workers?: string[];
    commands?: string[];
    capacity?: number;
    ready?: boolean;
    startable?: boolean;
    /** Saving the desired state fails (since when, why); undefined: it works again. */
    saveFailing?: SaveFailing | undefined;
    /** What it waits for while it is not ready (protocol 2.7); undefined: nothing (ready). */
    waitsFor?: WaitsFor | undefined;
  }): void {
    this.self = { ...this.self, ...patch, version: this.self.version + 1 };
    this.broadcast([this.info(this.self)]);
  }

  /**
   * The addresses DNS discovery found, replacing the previous ones: new ones
   * are dialled at once; one that left is no longer dialled as a seed (a
   * pending redial stops unless a known member lives there; links stay).
   */
  setDiscoveredSeeds(addresses: readonly string[]): void {
    const next = new Set(addresses.filter((a) => a !== this.self.address));
    const memberAddresses = new Set([...this.table.values()].filter((m) => m.status !== 'left').map((m) => m.address));
    for (const address of this.discovered) {
      if (!next.has(address) && !this.seeds.has(address) && !memberAddresses.has(address)) this.stopDialing(address);
    }
    this.discovered = next;
    for (const address of next) this.ensureDialing(address);
  }

  /** Dial state for operators: address → attempts and last error. */
  dialStatus(): Array<{ address: string; attempts: number; lastError: string | undefined }> {
    return [...this.dialing.entries()].map(([address, t]) => ({ address, attempts: t.attempts, lastError: t.lastError }));
  }

  /** The addresses still dialled whose last answer refused this node for good (see `REFUSALS`), with the reason. */
  refusals(): Array<{ address: string; code: DialFailureCode; message: string }> {
    const out: Array<{ address: string; code: DialFailureCode; message: string }> = [];
    for (const [address, t] of this.dialing) if (t.refusal !== undefined) out.push({ address, ...t.refusal });
    return out;
  }

  // ---- link events --------------------------------------------------------

  onLinkUp(link: Link): void {
    const peer = link.peer;
    const now = this.o.clock.now();
    const old = this.table.get(peer.name);
    this.reaped.delete(peer.name);
    if (link.dialledAddress !== undefined && link.dialledAddress !== peer.address) this.aliases.set(link.dialledAddress, peer.name);
    if (old && old.incarnation !== peer.incarnation && isLinked(old.status)) {
      this.o.onEvent({ kind: 'member-down', member: { ...old, status: 'down' }, reason: `replaced by incarnation ${peer.incarnation}` });
    }
    const sameIncarnation = old?.incarnation === peer.incarnation;
    const member: Member = {
      name: peer.name,
      incarnation: peer.incarnation,
      startedAt: peer.startedAt,
      address: peer.address,
      role: peer.role,
      labels: sameIncarnation ? old.labels : {},
      workers: sameIncarnation ? old.workers : [],
      ...(sameIncarnation
        ? {
            capacity: old.capacity,
            commands: old.commands,
            ready: old.ready,
            startable: old.startable,
            lease: old.lease,
            netsplit: old.netsplit,
            saveFailing: old.saveFailing,
            waitsFor: old.waitsFor,
          }
        : {}),
      // 0: metadata not yet known (a member's own entries start at version 1);
      // the peer's own gossip, sent on link up, fills it in.
      version: sameIncarnation ? old.version : 0,
      status: 'up',
      since: now,
      reason: 'linked',
    };
    this.table.set(peer.name, member);
    this.stopDialing(peer.address);
    if (link.dialledAddress !== undefined) this.stopDialing(link.dialledAddress);
    this.o.log.info({ peer: peer.name, incarnation: peer.incarnation, address: peer.address, role: peer.role }, 'member up');
    this.o.onEvent({ kind: 'member-up', member });
    this.o.links.send(peer.name, { t: 'gossip', members: this.tableInfo() });
    // Tell everyone else right away, so they dial the newcomer without waiting for a gossip round.
    this.broadcast([this.info(member)], peer.name);
    this.o.links.send(peer.name, { t: 'reach', unheard: this.unheardList() });
    this.spreadReach();
  }

  onLinkDown(link: Link, reason: string, byPeer = false): void {
    if (this.stopped) return; // we are leaving: our own links closing is not news
    const member = this.table.get(link.peer.name);
    if (!member || member.incarnation !== link.peer.incarnation) return;
    if (member.status === 'left') return;
    const down: Member = {
      ...member,
      status: 'down',
      since: this.o.clock.now(),
      reason,
      lastHeardAt: link.lastHeardAt,
      ...(link.confirmedAt !== undefined ? { confirmedAt: link.confirmedAt } : {}),
      ...(byPeer ? { closedByPeer: true } : {}),
    };
    this.table.set(member.name, down);
    if (this.reports.delete(member.name)) this.o.onReach?.();
    this.o.log.warn({ peer: member.name, incarnation: member.incarnation, reason }, 'member down');
    // Race "a takeover heard before its reason": our `reach` report goes out before anything the member-down
    // event sets off here (the supervisor's starts of the member's children, their `run:` joins), so a peer — an
    // observer judging who is cut off — hears why before it hears what followed. Sent after, one copy of a frozen
    // member's children read "ticker-3 started on demo-1" on the timeline, 6 ms before "demo-3 down (cut off)".
    this.spreadReach();
    this.o.onEvent({ kind: 'member-down', member: down, reason });
    // Race "redialling the dead while taking over from it": a member whose process died refuses
    // at once, and a survivor would spend its takeover window making a socket, being refused and
    // logging it. The first redial waits one gossip interval; a peer that only lost its link
    // dials us too, and gossip or a seed brings it back sooner if it restarts.
    if (!this.stopped) this.ensureDialing(member.address, this.o.timing.gossipIntervalMs);
  }

  /**
   * Linked members that report they cannot hear this incarnation of `name`, and since when (our clock; never earlier than true).
   * An observer's report is no member's word: it counts for no quorum and echoes no lease, so majority mode waiting for it
   * (netsplit-majority.ts `fresh`) never took over a member that the observer could not hear either.
   */
  unheardBy(name: string, incarnation: string): Array<{ reporter: string; since: number }> {
    const out: Array<{ reporter: string; since: number }> = [];
    for (const [reporter, report] of this.reports) {
      if (this.table.get(reporter)?.role !== 'member') continue;
      const entry = report.get(name);
      if (entry && entry.incarnation === incarnation && this.o.links.get(reporter)) out.push({ reporter, since: entry.since });
    }
    return out;
  }

  /**
   * The members (not observers) we cannot hear now, with how long we have not
   * heard each. Race "a member met late reported unheard": one learned from
   * gossip is down in our table until our link to it is up, and every member
   * still meeting the others at start named the newcomers it had not linked
   * yet; an observer took "n1, n2 cannot hear n3" for a cut-off (ten
   * node-downs in one simulated start of five members with 20-300 ms links;
   * once on real processes). A member never heard of here (this incarnation)
   * is unheard only once a dial to it has failed (said at the next gossip
   * round).
   */
  private unheardList(): Array<{ name: string; incarnation: string; silentMs: number }> {
    const now = this.o.clock.now();
    const out: Array<{ name: string; incarnation: string; silentMs: number }> = [];
    for (const m of this.table.values()) {
      if (m.role !== 'member' || m.status !== 'down') continue;
      if (m.lastHeardAt === undefined && (this.dialing.get(m.address)?.attempts ?? 0) === 0) continue;
      out.push({ name: m.name, incarnation: m.incarnation, silentMs: Math.max(0, now - (m.lastHeardAt ?? this.self.startedAt)) });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Sends our `reach` list to every linked peer when its membership changed (who, not how long). */
  private spreadReach(): void {
    if (this.stopped) return;
    const list = this.unheardList();
    const key = list.map((u) => `${u.name}/${u.incarnation}`).join(',');
    if (key === this.lastReach) return;
    this.lastReach = key;
    for (const link of this.o.links.all()) this.o.links.send(link.peer.name, { t: 'reach', unheard: list });
  }

  onSuspect(link: Link): void {
    const member = this.table.get(link.peer.name);
    if (!member || member.incarnation !== link.peer.incarnation) return;
    if (member.status !== 'up' && member.status !== 'suspect') return;
    const next: Member = { ...member, status: link.suspect ? 'suspect' : 'up', since: this.o.clock.now(), reason: link.suspect ? 'link silent' : 'linked' };
    this.table.set(member.name, next);
    this.o.onEvent({ kind: 'member-suspect', member: next, suspect: link.suspect });
  }

  onMessage(link: Link, message: Extract<LinkMessage, { t: 'gossip' | 'leave' | 'reach' }>): void {
    if (message.t === 'reach') {
      const now = this.o.clock.now();
      const report = new Map<string, { incarnation: string; since: number }>();
      for (const u of message.unheard) if (u.name !== link.peer.name) report.set(u.name, { incarnation: u.incarnation, since: now - u.silentMs });
      const before = this.reports.get(link.peer.name);
      this.reports.set(link.peer.name, report);
      if (before !== undefined) for (const [name, was] of before) if (!report.has(name)) this.heardAgain(name, was.incarnation);
      this.o.onReach?.();
      return;
    }
    if (message.t === 'leave') {
      const member = this.table.get(link.peer.name);
      if (!member || member.incarnation !== link.peer.incarnation) return;
      const left: Member = { ...member, status: 'left', since: this.o.clock.now(), reason: message.reason };
      this.table.set(member.name, left);
      this.stopDialing(member.address);
      this.o.log.info({ peer: member.name, reason: message.reason }, 'member left');
      this.o.onEvent({ kind: 'member-left', member: left, reason: message.reason });
      this.broadcast([this.info(left)], member.name);
      this.spreadReach();
      return;
    }
    const spread: MemberInfo[] = [];
    const now = this.o.clock.now();
    let changed = false;
    for (const incoming of message.members) {
      const tomb = this.reaped.get(incoming.name);
      if (tomb && tomb.incarnation === incoming.incarnation && tomb.until > now) continue;
      const local = this.table.get(incoming.name);
      const linkedIncarnation = this.o.links.get(incoming.name)?.peer.incarnation;
      const outcome = mergeMember(local, incoming, { selfName: this.self.name, linkedIncarnation, now });
      if (outcome.action === 'ignore') continue;
      const member = outcome.member;
      this.table.set(member.name, member);
      changed = true;
      if (outcome.action === 'update') {
        if (member.status === 'left' && local?.status !== 'left') {
          this.stopDialing(member.address);
          this.o.onEvent({ kind: 'member-left', member, reason: member.reason });
        } else {
          this.o.onEvent({ kind: 'member-updated', member });
        }
        continue;
      }
      // add / replace: someone we should know about.
      if (outcome.action === 'replace' && local && isLinked(local.status)) {
        this.o.onEvent({ kind: 'member-down', member: { ...local, status: 'down' }, reason: 'replaced by a newer incarnation' });
      }
      this.o.log.debug({ peer: member.name, from: link.peer.name, status: member.status }, 'member learned from gossip');
      spread.push(this.info(member));
      if (member.status !== 'left') this.ensureDialing(member.address);
    }
    if (spread.length > 0) this.broadcast(spread, link.peer.name);
    // Race "a member restarted while cut off" (an outsider's tour, network namespaces): its new incarnation
    // reached the others only through gossip (the observer's), down for them; their `reach` still named the
    // old one, so the observer, linked to the new one, found no report against it and showed it up, green,
    // not cut off. A down member learned or replaced through gossip is reported too (sent only on a change).
    if (changed) this.spreadReach();
  }

  onDialFailed(address: string, failure: DialFailure): void {
    const target = this.dialing.get(address);
    if (failure.code === 'self') {
      if (!this.selfAddresses.has(address)) this.o.log.info({ address }, `${address} reaches this node itself; not dialled again`);
      this.selfAddresses.add(address);
      this.stopDialing(address);
      return;
    }
    if (failure.code === 'already-linked') {
      if (failure.peerName !== undefined) this.aliases.set(address, failure.peerName);
      this.stopDialing(address);
      return;
    }
    if (!target || this.stopped) return;
    target.attempts++;
    // A first failed dial to a member never heard of makes it unheard (`unheardList`): said at the next gossip round,
    // which walks the table anyway (a dial attempt does not: 1,000 dead gossiped addresses, membership-scale.test).
    if (target.attempts === 1) this.reachStale = true;
    target.lastError = `${failure.code}: ${failure.message}`;
    target.refusal = REFUSALS.has(failure.code) ? { code: failure.code, message: failure.message } : undefined;
    // Log the first failure and then each time the count doubles, so a dead seed doesn't flood the log.
    // A lost simultaneous dial is normal: the other side's dial makes the link.
    if (failure.code !== 'simultaneous-dial' && (target.attempts & (target.attempts - 1)) === 0) this.logDialFailure(address, target, failure);
    this.schedule(address, target, this.backoff(target.attempts, failure.code === 'simultaneous-dial', this.alone() || this.cutOffAlone(address)));
  }

  /**
   * Logs a failed dial, at most `DIAL_WARNINGS_PER_WINDOW` one by one per
   * `DIAL_LOG_WINDOW_MS`; the rest are counted and said in one line when the
   * window ends. Each address already logs only at its 1st, 2nd, 4th, …
   * attempt, but a DNS name answering with hundreds of dead addresses (a
   * tour: 501 records, 500 dead) still made 2,000 warnings in 15 s.
   */
  private logDialFailure(address: string, target: DialTarget, failure: DialFailure): void {
    const now = this.o.clock.now();
    const w = this.dialLog;
    if (now >= w.windowEnd) {
      w.windowEnd = now + DIAL_LOG_WINDOW_MS;
      w.logged = 0;
    }
    if (w.logged < DIAL_WARNINGS_PER_WINDOW) {
      w.logged++;
      this.o.log.warn(
        { address, attempts: target.attempts, code: failure.code, peer: failure.peerName },
        `cannot link to ${address}: ${failure.message}; retrying with backoff`,
      );
      return;
    }
    w.quiet++;
    w.quietAddresses.add(address);
    w.timer ??= this.o.clock.setTimeout(
      () => {
        w.timer = undefined;
        if (this.stopped || w.quiet === 0) return;
        this.o.log.warn(
          { failures: w.quiet, addresses: w.quietAddresses.size },
          `cannot link to ${w.quietAddresses.size} more address(es) (${w.quiet} failed dials not logged one by one); ` +
            'retrying each with backoff (GET /status lists every address dialled and its last error)',
        );
        w.quiet = 0;
        w.quietAddresses.clear();
      },
      Math.max(0, w.windowEnd - now),
    );
  }

  /**
   * Race "an observer cut from one member only": the link between an
   * observer and one member breaks while the other members still hear it
   * (their `reach` reports do not list it). No report will ever change to
   * say it is heard again (`heardAgain` never fires), and the member cannot
   * dial back (an observer announces a loopback address), so the observer's
   * own backoff is the only way back: on the wan preset, 15-30 s after the
   * heal (an outsider's tour measured 14.3 s after a 90 s cut, `pogo
   * observe --preset wan` in network namespaces). A member its linked peers
   * hear is alive, and only this observer's path to it is in question: its
   * redial waits at most a fifth of `reconnectMaxMs`, as a lone node's does.
   */
  private cutOffAlone(address: string): boolean {
    if (this.self.role !== 'observer') return false;
    for (const m of this.table.atAddress(address)) {
      if (m.role !== 'member' || m.status !== 'down') continue;
      for (const [reporter, report] of this.reports) {
        if (reporter !== m.name && this.table.get(reporter)?.role === 'member' && this.o.links.get(reporter) && !report.has(m.name)) return true;
      }
    }
    return false;
  }

  /** Whether no other node is linked to this one (the lone node of a whole-cluster restart: see the header). */
  private alone(): boolean {
    for (const m of this.table.linked()) if (m.name !== this.self.name) return false;
    return true;
  }

  // ---- dialling -----------------------------------------------------------

  private wantsDial(address: string): boolean {
    if (this.stopped || this.selfAddresses.has(address) || address === this.self.address) return false;
    const aliasOf = this.aliases.get(address);
    if (aliasOf !== undefined && this.o.links.isBusyWith(aliasOf)) return false;
    let known = false;
    for (const member of this.table.atAddress(address)) {
      if (this.o.links.isBusyWith(member.name)) return false;
      // A member that left is not dialled for its own sake; its address may still be a seed's.
      // Nor is an observer: it dials the members (see the header, "observers are dialled by no one").
      if (member.status !== 'left' && member.role === 'member') known = true;
    }
    // Race "a member restarted at another address" (a new IP, a new port): once its new incarnation
    // replaced the entry, its old address belongs to no member, and only seeds are dialled for their own sake.
    // Race "the whole cluster restarted gracefully": every seed's member left, and a node that stayed up (an
    // observer: the desktop app) dialled none of them until the entries were reaped, five minutes later.
    return known || this.seeds.has(address) || this.discovered.has(address);
  }

  /**
   * Race "a heal this node hears of second-hand": a peer that could not hear
   * `name` hears it again, while this node, which lost it too, waits out its
   * redial backoff. Nothing else brings the next attempt forward
   * (`ensureDialing` leaves a waiting redial alone), and the member cannot
   * always dial back: an observer (`pogo observe`, the desktop app) listens
   * on loopback, so members dial its announced address in vain. An observer
   * on the wan preset (backoff up to 30 s) showed the split's state for
   * 11.6 s after the heal, every second of it waiting for its own redial (a
   * re-check of an outsider's tour, each member's link log). So the backoff
   * starts over and the member is dialled within a base delay.
   */
  private heardAgain(name: string, incarnation: string): void {
    const member = this.table.get(name);
    if (member === undefined || member.incarnation !== incarnation || member.status !== 'down') return;
    const target = this.dialing.get(member.address);
    if (target === undefined || this.o.links.isDialling(member.address)) return;
    target.attempts = 0;
    this.schedule(member.address, target, Math.round(this.o.timing.reconnectBaseMs * this.o.random.next()));
  }

  private ensureDialing(address: string, firstDelayMs = 0): void {
    if (this.dialing.has(address) || !this.wantsDial(address)) return;
    const target: DialTarget = { attempts: 0, timer: undefined, lastError: undefined, refusal: undefined };
    this.dialing.set(address, target);
    this.schedule(address, target, firstDelayMs);
  }

  private schedule(address: string, target: DialTarget, delayMs: number): void {
    this.o.clock.clearTimeout(target.timer);
    target.timer = this.o.clock.setTimeout(() => {
      target.timer = undefined;
      if (!this.wantsDial(address)) {
        this.stopDialing(address);
        return;
      }
      if (!this.o.links.isDialling(address)) this.o.links.dial(address);
    }, delayMs);
  }

  private stopDialing(address: string): void {
    const target = this.dialing.get(address);
    if (!target) return;
    this.o.clock.clearTimeout(target.timer);
    this.dialing.delete(address);
  }

  private backoff(attempts: number, benign: boolean, alone: boolean): number {
    const { reconnectBaseMs, reconnectMaxMs } = this.o.timing;
    if (benign) return reconnectBaseMs;
    const cap = alone ? Math.max(reconnectBaseMs, reconnectMaxMs / 5) : reconnectMaxMs;
    const raw = Math.min(cap, reconnectBaseMs * 2 ** Math.min(30, attempts - 1));
    return Math.round(raw * (0.5 + 0.5 * this.o.random.next()));
  }

  // ---- gossip -------------------------------------------------------------

  private scheduleGossip(): void {
    this.gossipTimer = this.o.clock.setTimeout(() => {
      try {
        this.gossipRound();
      } catch (err) {
        this.o.log.error({ err }, 'gossip round failed');
      }
      if (!this.stopped) this.scheduleGossip();
    }, this.o.timing.gossipIntervalMs);
  }

  private gossipRound(): void {
    const now = this.o.clock.now();
    for (const member of [...this.table.values()]) {
      const age = now - member.since;
      const reap = (member.status === 'down' && age >= this.o.timing.downReapAfterMs) || (member.status === 'left' && age >= this.o.timing.leftReapAfterMs);
      if (reap) {
        this.table.delete(member.name);
        this.stopDialing(member.address);
        this.reaped.set(member.name, { incarnation: member.incarnation, until: now + Math.max(this.o.timing.downReapAfterMs, this.o.timing.leftReapAfterMs) });
        this.o.log.info({ peer: member.name, status: member.status }, 'member forgotten');
      } else if (member.status === 'down') {
        this.ensureDialing(member.address);
      }
    }
    for (const [name, tomb] of this.reaped) if (tomb.until <= now) this.reaped.delete(name);
    if (this.reachStale) {
      this.reachStale = false;
      this.spreadReach();
    }
    for (const seed of this.seeds) this.ensureDialing(seed);
    for (const seed of this.discovered) this.ensureDialing(seed);
    const links = this.o.links.all();
    if (links.length > 0) {
      const target = links[this.o.random.int(links.length)]!;
      // Anti-entropy, not news (news is broadcast at once): it rides with the next heartbeat.
      this.o.links.sendWithNextFrame(target.peer.name, { t: 'gossip', members: this.tableInfo() });
    }
  }

  private broadcast(members: MemberInfo[], except?: string): void {
    for (const link of this.o.links.all()) {
      if (link.peer.name !== except) this.o.links.send(link.peer.name, { t: 'gossip', members });
    }
  }

  private tableInfo(): MemberInfo[] {
    return this.members().map((m) => this.info(m));
  }

  private info(m: Member): MemberInfo {
    const info: MemberInfo = {
      name: m.name,
      incarnation: m.incarnation,
      startedAt: m.startedAt,
      address: m.address,
      role: m.role,
      labels: m.labels,
      workers: m.workers,
      version: m.version,
      status: m.status,
    };
    if (m.capacity !== undefined) info.capacity = m.capacity;
    if (m.commands !== undefined) info.commands = m.commands;
    if (m.ready !== undefined) info.ready = m.ready;
    if (m.startable !== undefined) info.startable = m.startable;
    if (m.lease !== undefined) info.lease = m.lease;
    if (m.netsplit !== undefined) info.netsplit = m.netsplit;
    if (m.saveFailing !== undefined) info.saveFailing = m.saveFailing;
    if (m.waitsFor !== undefined) info.waitsFor = m.waitsFor;
    return info;
  }
}
