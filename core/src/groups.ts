/**
 * Process groups, after Erlang's `pg`: named groups of pids, replicated to
 * every directly linked node, in independent scopes.
 *
 * Model
 * - A *scope* is an independent overlay (its own groups, its own monitors).
 *   Scopes this node creates (`createScope`, or implicitly by `join`) are its
 *   *local scopes*; a scope is also known while some up peer announces it.
 * - A pid is `node/incarnation/localId`. Each node is the only writer of its
 *   own memberships: only pids of this node's current incarnation may join.
 * - A pid may join a group several times and must leave as often; members
 *   are listed once per join. Each join may carry a small JSON `value`.
 * - Empty groups do not exist: a group disappears with its last member, and
 *   every map is cleaned up with it.
 *
 * Protocol (between two linked nodes; the link is per-pair FIFO)
 * - `peerUp(P)`: send P one `pg.sync {scope, groups}` per local scope (even
 *   an empty one). A sync *replaces* everything the receiver held of the
 *   sender in that scope; the receiver diffs old against new per group and
 *   emits monitor `leave`/`join` events for the difference only.
 * - Afterwards every local change is sent to every up peer as a delta:
 *   `pg.join {scope, group, entries}` appends the entries in order;
 *   `pg.leave {scope, group, pids}` removes, for each listed pid, its oldest
 *   occurrence (as a local `leave` does, so replicas keep the owner's order).
 *   Creating a new local scope while peers are up sends them an empty sync.
 * - `peerDown(P)`: drop all of P's entries in every scope (leave events).
 * - Messages are applied only while their sender is up. No timers, no
 *   acknowledgements: with FIFO links and "sync replaces", every pair of
 *   linked nodes converges (strong eventual consistency). Visibility is not
 *   transitive: a node sees only the groups of nodes it is linked to.
 * - Caller contract (met by link.ts): `peerUp(P)` is called before any frame
 *   of that link reaches `handleMessage`, and `peerDown(P)` when it closes.
 *   The acceptor's link is up before it sends `welcome`, the dialer's when it
 *   reads `welcome`, so neither side's sync can arrive before its `peerUp`.
 *
 * Data layout (chosen so ~10,000 groups of one member stay cheap: every
 * operation costs O(size of the touched group), never O(all groups))
 * - per scope: group → node → members in join order, plus node → groups (an
 *   index for building a sync and for `peerDown`);
 * - per local pid: scope → groups it is in (an index for `leaveAll`).
 * Members are frozen objects (values deep-frozen copies), so reads hand them
 * out without copying and no caller can alter the replicated state.
 *
 * Monitors: `monitor(scope, group, fn)` returns the group's members,
 * `monitor(scope, undefined, fn)` a `Map` group → members of the whole scope
 * (sorted by group; a Map because group names are arbitrary strings), then
 * `fn` receives one event per change with the members that joined or left.
 * Events are queued and delivered after the state change is complete, in
 * order, each to the listeners subscribed when it happened; a listener that
 * throws is logged and the others still run.
 *
 * Robustness: `handleMessage` never throws. Semantic problems in a peer's
 * message (a pid of another node, leaving an entry we do not hold) drop the
 * offending part with a warn log naming the peer and the reason.
 */
import type { Logger } from './logger.js';
import { GroupNameSchema, MAX_GROUP_NAME, MAX_NESTING, MAX_SCOPE_NAME, ScopeNameSchema, canonicalOf, describeIssues, isJsonValue, parsePid, type JsonValue, type PgEntry, type PgJoin, type PgLeave, type PgSync } from './protocol.js';

/** Any JSON value: protocol.ts's, re-exported here for the modules that import it with the groups. */
export type { JsonValue } from './protocol.js';

/** A member of a process group: its pid, node and value. */
export interface PgMember {
  /** The member's pid (`<node>/<incarnation>/<local id>`). */
  readonly pid: string;
  /** The node the pid lives on (the only node that may change its memberships). */
  readonly node: string;
  /** The small JSON value given at join, if any. */
  readonly value?: JsonValue;
}

/** A process group change: members joined or left a group. */
export interface PgEvent {
  /** Whether the members joined or left. */
  readonly kind: 'join' | 'leave';
  /** The scope of the group. */
  readonly scope: string;
  /** The group's name. */
  readonly group: string;
  /** The members that joined or left (one per join), never empty. */
  readonly members: readonly PgMember[];
}

/** A callback for process group events. */
export type PgListener = (event: PgEvent) => void;

/** A monitor on a group or on all groups: the snapshot now, and a stop function. */
export interface PgMonitor<Snapshot> {
  /** The state at subscription time; events start after it. */
  readonly snapshot: Snapshot;
  /** Stops events; idempotent. */
  unsubscribe(): void;
}

/** A process-group message between nodes: the sender's local memberships of one scope (`pg.sync`, on link up), or one join or leave. */
export type PgMessage = PgSync | PgJoin | PgLeave;

/** How the groups module reaches peers; per-pair FIFO, typically the link layer. */
export interface PeerChannel {
  /** Sends `message` to `peer`; messages to one peer must arrive in the order they were sent. */
  send(peer: string, message: PgMessage): void;
}

/** Options of ProcessGroups: this node's name and incarnation, the peer channel, the logger. */
export interface ProcessGroupsOptions {
  /** This node's name. */
  node: string;
  /** This node's incarnation; pids of earlier incarnations may not join. */
  incarnation: string;
  /** How messages reach peers. */
  channel: PeerChannel;
  /** Where ProcessGroups logs dropped or invalid peer messages. */
  log: Logger;
}

/** JSON view of every scope for status endpoints: `{ [scope]: { [group]: members } }`. */
export type PgSnapshot = Record<string, Record<string, PgMember[]>>;

/** A caller error (invalid pid, name or value); the message says what to fix. */
export class PgError extends Error {
  /** Always `PgError`. */
  override readonly name = 'PgError';
}

interface ScopeState {
  readonly name: string;
  /** group → node → members in join order. Invariant: no empty array, no empty inner map. */
  readonly groups: Map<string, Map<string, PgMember[]>>;
  /** node → groups where it has at least one member (index for syncs and `peerDown`). */
  readonly groupsByNode: Map<string, Set<string>>;
  /** Up peers that announced this scope (by a sync or a join) since their link came up. */
  readonly announcedBy: Set<string>;
  /** group → the change count when it last changed (see `stamp`); gone with the group. */
  readonly stamps: Map<string, number>;
}

interface Subscription {
  readonly listener: PgListener;
  active: boolean;
}

interface QueuedEvent {
  readonly event: PgEvent;
  /** The subscriptions that existed when the change happened. */
  readonly subscriptions: readonly Subscription[];
}

/** Erlang pg-style process groups, replicated to every node. */
export class ProcessGroups {
  private readonly node: string;
  private readonly incarnation: string;
  private readonly channel: PeerChannel;
  private readonly log: Logger;

  /** Peers whose link is up: the only senders we accept and the receivers of deltas. */
  private readonly upPeers = new Set<string>();
  /** Scopes created on this node; each is synced to every peer that comes up. */
  private readonly localScopes = new Set<string>();
  /** Every known scope: local ones, and those announced by an up peer. */
  private readonly scopeStates = new Map<string, ScopeState>();
  /** local pid → scope → groups it has joined (index for `leaveAll`). */
  private readonly pidIndex = new Map<string, Map<string, Set<string>>>();
  /** scope → subscriptions to the whole scope. */
  private readonly scopeMonitors = new Map<string, Set<Subscription>>();
  /** scope → group → subscriptions to that group. */
  private readonly groupMonitors = new Map<string, Map<string, Set<Subscription>>>();
  /** "peer NUL scope" → groups a sync in parts has listed so far (see applySync). */
  private readonly partialSyncs = new Map<string, Set<string>>();
  /** Arrays of each scope's subscriptions (see scopeSubscriptions). */
  private readonly scopeSubscriptionArrays = new WeakMap<Set<Subscription>, readonly Subscription[]>();
  /** Events not yet delivered; `queueHead` is the next one. */
  private readonly eventQueue: QueuedEvent[] = [];
  private queueHead = 0;
  /** Changes to any group so far: the source of stamps. */
  private changes = 0;
  private delivering = false;

  constructor(options: ProcessGroupsOptions) {
    this.node = options.node;
    this.incarnation = options.incarnation;
    this.channel = options.channel;
    this.log = options.log.child({ module: 'groups' });
  }

  // ---------------------------------------------------------------- links

  /** The link to `peer` came up: send it a snapshot of every local scope. */
  peerUp(peer: string): void {
    if (peer === this.node) {
      this.log.warn({ peer }, 'pg: ignoring peerUp for this node itself');
      return;
    }
    if (this.upPeers.has(peer)) {
      // Race "link replaced without a down": resending the syncs is harmless,
      // since a sync replaces what the peer holds of us.
      this.log.debug({ peer }, 'pg: peer was already up; sending syncs again');
    }
    this.upPeers.add(peer);
    this.dropPartialSyncs(peer);
    for (const scopeName of this.localScopes) this.send(peer, this.buildSync(scopeName));
  }

  /** The link to `peer` went down: forget all of its memberships. */
  peerDown(peer: string): void {
    if (!this.upPeers.delete(peer)) {
      this.log.debug({ peer }, 'pg: peerDown for a peer that was not up; nothing to drop');
      return;
    }
    this.dropPartialSyncs(peer);
    for (const scope of [...this.scopeStates.values()]) {
      // The peer's whole index goes at once (not group by group: that rehashed the set thousands of times).
      const groups = scope.groupsByNode.get(peer);
      scope.groupsByNode.delete(peer);
      for (const group of groups ?? []) this.enqueue('leave', scope.name, group, this.detach(scope, group, peer));
      scope.announcedBy.delete(peer);
      this.dropScopeIfUnknown(scope);
    }
    this.deliver();
  }

  private dropPartialSyncs(peer: string): void {
    for (const key of this.partialSyncs.keys()) if (key.startsWith(`${peer}\u0000`)) this.partialSyncs.delete(key);
  }

  /** True once `peer` (up) has announced `scope` to us: its snapshot of that scope has arrived. */
  announced(scope: string, peer: string): boolean {
    return this.scopeStates.get(scope)?.announcedBy.has(peer) ?? false;
  }

  /** Names of the peers whose link is up, sorted. */
  peers(): string[] {
    return [...this.upPeers].sort();
  }

  /** Applies a `pg.*` message from `peer` (already validated by its schema). Never throws. */
  handleMessage(peer: string, message: PgMessage): void {
    try {
      if (!this.upPeers.has(peer)) {
        // Race "delta after link down / before link up": what the peer holds is
        // exchanged in full by the syncs of the next link up, so dropping is safe.
        this.log.debug({ peer, t: message.t, scope: message.scope }, 'pg: ignoring message from a peer that is not up');
        return;
      }
      switch (message.t) {
        case 'pg.sync':
          this.applySync(peer, message);
          break;
        case 'pg.join':
          this.applyJoin(peer, message);
          break;
        case 'pg.leave':
          this.applyLeave(peer, message);
          break;
        default: {
          const unknown: never = message;
          this.log.warn({ peer, t: (unknown as { t?: unknown }).t }, 'pg: ignoring message of unknown type');
        }
      }
    } catch (err) {
      // Defensive: a bug here must cost one message, never the node.
      this.log.error({ err, peer }, 'pg: failed to apply message from peer; dropped');
    } finally {
      this.deliver();
    }
  }

  // ---------------------------------------------------------------- local writes

  /** Creates a local scope (idempotent); peers that are up learn of it at once. */
  createScope(name: string): void {
    this.checkName(ScopeNameSchema, name, 'scope');
    this.ensureLocalScope(name);
  }

  /**
   * Adds `pid` (a process of this node) to `group`, once more if it is
   * already a member. Throws `PgError` for a foreign pid, an invalid name or
   * a value that is not JSON.
   */
  join(scope: string, group: string, pid: string, value?: JsonValue): void {
    this.checkName(ScopeNameSchema, scope, 'scope');
    this.checkName(GroupNameSchema, group, 'group');
    this.checkLocalPid(pid, scope, group);
    // The wire schema's own test (`JsonSchema` is `isJsonValue`), without zod's per-call cost: a value the peers would reject never leaves this node.
    if (value !== undefined && !isJsonValue(value)) throw new PgError(`cannot join ${pid} to pg group ${JSON.stringify(group)}: the value must be plain JSON (strings, finite numbers, booleans, null, arrays, plain objects, at most ${MAX_NESTING} levels deep)`);
    const member = makeMember(pid, this.node, value);
    const state = this.ensureLocalScope(scope);
    this.appendEntries(state, group, this.node, [member]);
    this.indexPid(pid, scope, group);
    this.broadcast({ t: 'pg.join', scope, group, entries: [toEntry(member)] });
    this.enqueue('join', scope, group, [member]);
    this.deliver();
  }

  /**
   * Removes one membership of `pid` in `group` (its oldest). Returns false
   * when the pid is not a member (including pids of other nodes, which are
   * never local members).
   */
  leave(scope: string, group: string, pid: string): boolean {
    const state = this.scopeStates.get(scope);
    if (state === undefined) return false;
    const removed = this.removeFirst(state, group, this.node, pid);
    if (removed === undefined) return false;
    if (!this.entriesOf(state, group, this.node).some((m) => m.pid === pid)) this.unindexPid(pid, scope, group);
    this.broadcast({ t: 'pg.leave', scope, group, pids: [pid] });
    this.enqueue('leave', scope, group, [removed]);
    this.deliver();
    return true;
  }

  /** Removes every membership of `pid` in every scope (its process died). Returns how many were removed. */
  leaveAll(pid: string): number {
    const scopes = this.pidIndex.get(pid);
    if (scopes === undefined) return 0;
    this.pidIndex.delete(pid);
    let count = 0;
    for (const [scopeName, groups] of scopes) {
      const state = this.scopeStates.get(scopeName);
      if (state === undefined) continue; // unreachable: local scopes are never dropped
      for (const group of groups) {
        const current = this.entriesOf(state, group, this.node);
        const kept = current.filter((m) => m.pid !== pid);
        if (kept.length === current.length) continue;
        const removed = current.filter((m) => m.pid === pid);
        this.replaceEntries(state, group, this.node, kept);
        count += removed.length;
        // One pid per occurrence: the receiver removes one occurrence per listed pid.
        this.broadcast({ t: 'pg.leave', scope: scopeName, group, pids: removed.map((m) => m.pid) });
        this.enqueue('leave', scopeName, group, removed);
      }
    }
    this.deliver();
    return count;
  }

  // ---------------------------------------------------------------- reads (never wait)

  /** All members of a group on every up node: local first, then peers by name, join order within a node. */
  getMembers(scope: string, group: string): PgMember[] {
    const byNode = this.scopeStates.get(scope)?.groups.get(group);
    if (byNode === undefined) return [];
    // Hot (a reconcile reads three groups per child): no sort for the common one or two nodes.
    const local = byNode.get(this.node);
    const result = local === undefined ? [] : local.slice();
    const othersCount = byNode.size - (local === undefined ? 0 : 1);
    if (othersCount === 0) return result;
    if (othersCount === 1) {
      for (const [node, members] of byNode) if (node !== this.node) for (const m of members) result.push(m);
      return result;
    }
    const others: string[] = [];
    for (const node of byNode.keys()) if (node !== this.node) others.push(node);
    others.sort();
    for (const node of others) for (const m of byNode.get(node)!) result.push(m);
    return result;
  }

  /** Members of a group on this node, in join order. */
  getLocalMembers(scope: string, group: string): PgMember[] {
    const state = this.scopeStates.get(scope);
    return state === undefined ? [] : [...this.entriesOf(state, group, this.node)];
  }

  /**
   * A number that changes whenever the group's members change (0 for a group
   * that does not exist); never reused, so equal stamps mean nothing changed
   * in between. Lets a reader skip work on groups it has already seen.
   */
  stamp(scope: string, group: string): number {
    return this.scopeStates.get(scope)?.stamps.get(group) ?? 0;
  }

  /** Changes to any group of any scope so far: equal counts, no membership changed in between (a digest of them all). */
  get changeCount(): number {
    return this.changes;
  }

  /** Non-empty groups of a scope (any node), unsorted: for a sweep that reads them all. */
  groupNames(scope: string): Iterable<string> {
    return this.scopeStates.get(scope)?.groups.keys() ?? [];
  }

  /** Non-empty groups of a scope (any node), sorted. */
  whichGroups(scope: string): string[] {
    const state = this.scopeStates.get(scope);
    return state === undefined ? [] : [...state.groups.keys()].sort();
  }

  /** Scopes created here or announced by an up peer, sorted. */
  scopes(): string[] {
    return [...this.scopeStates.keys()].sort();
  }

  /** Plain JSON view of the given scopes (default: every known scope) and their groups (keys sorted); unknown scopes are left out. */
  snapshot(scopes: readonly string[] = this.scopes()): PgSnapshot {
    return Object.fromEntries(scopes.filter((scope) => this.scopeStates.has(scope)).map((scope) => [scope, Object.fromEntries(this.scopeSnapshot(scope))]));
  }

  /**
   * Subscribes to a group (snapshot: its members) or, with `group`
   * undefined, to a whole scope (snapshot: Map group → members, sorted by
   * group). The scope need not exist yet. Events follow the snapshot.
   */
  monitor(scope: string, group: string, listener: PgListener): PgMonitor<PgMember[]>;
  /** Subscribes to every group of `scope`; the snapshot maps each group name to its members, sorted by group. */
  monitor(scope: string, group: undefined, listener: PgListener): PgMonitor<Map<string, PgMember[]>>;
  monitor(scope: string, group: string | undefined, listener: PgListener): PgMonitor<PgMember[] | Map<string, PgMember[]>> {
    const subscription: Subscription = { listener, active: true };
    if (group === undefined) {
      addTo(this.scopeMonitors, scope, subscription);
      return {
        snapshot: this.scopeSnapshot(scope),
        unsubscribe: () => {
          subscription.active = false;
          removeFrom(this.scopeMonitors, scope, subscription);
        },
      };
    }
    let byGroup = this.groupMonitors.get(scope);
    if (byGroup === undefined) this.groupMonitors.set(scope, (byGroup = new Map()));
    addTo(byGroup, group, subscription);
    return {
      snapshot: this.getMembers(scope, group),
      unsubscribe: () => {
        subscription.active = false;
        const groups = this.groupMonitors.get(scope);
        if (groups === undefined) return;
        removeFrom(groups, group, subscription);
        if (groups.size === 0) this.groupMonitors.delete(scope);
      },
    };
  }

  // ---------------------------------------------------------------- applying peers' messages

  private applySync(peer: string, message: PgSync): void {
    const scope = this.ensureScope(message.scope);
    // A large sync comes in parts (`more` on all but the last; link.ts splits it): each part is
    // applied as it comes, so no single frame holds this node for long, and what the peer no
    // longer holds is dropped — and the scope counts as announced — only with the last part.
    const key = `${peer}\u0000${message.scope}`;
    const seen = this.partialSyncs.get(key) ?? new Set<string>();
    this.partialSyncs.delete(key);
    const incoming = new Map<string, PgMember[]>();
    for (const { group, entries } of message.groups) {
      const members = this.acceptEntries(peer, message, group, entries);
      if (members.length === 0) continue;
      const already = incoming.get(group);
      if (already === undefined) incoming.set(group, members);
      else {
        this.log.debug({ peer, scope: message.scope, group }, 'pg: sync lists a group twice; merging its entries');
        already.push(...members);
      }
    }
    for (const [group, next] of incoming) {
      if (seen.has(group)) {
        // Listed again by a later part: more entries of the same group.
        this.appendEntries(scope, group, peer, next);
        this.enqueue('join', scope.name, group, next);
        continue;
      }
      seen.add(group);
      const { left, joined } = diffMembers(this.entriesOf(scope, group, peer), next);
      this.replaceEntries(scope, group, peer, next); // also when equal as multisets: adopt the owner's order
      this.enqueue('leave', scope.name, group, left);
      this.enqueue('join', scope.name, group, joined);
    }
    if (message.more === true) {
      this.partialSyncs.set(key, seen);
      return;
    }
    scope.announcedBy.add(peer);
    // Race "stale view after a reconnect": the sync replaces what we held of the
    // peer; only the difference is reported to monitors.
    for (const group of [...(scope.groupsByNode.get(peer) ?? [])]) {
      if (seen.has(group)) continue;
      const removed = this.replaceEntries(scope, group, peer, []);
      this.enqueue('leave', scope.name, group, removed);
    }
  }

  private applyJoin(peer: string, message: PgJoin): void {
    const scope = this.ensureScope(message.scope);
    scope.announcedBy.add(peer);
    const members = this.acceptEntries(peer, message, message.group, message.entries);
    if (members.length === 0) return;
    this.appendEntries(scope, message.group, peer, members);
    this.enqueue('join', scope.name, message.group, members);
  }

  private applyLeave(peer: string, message: PgLeave): void {
    const scope = this.scopeStates.get(message.scope);
    const removed: PgMember[] = [];
    for (const pid of message.pids) {
      if (!this.belongsTo(peer, pid, message, message.group)) continue;
      const member = scope === undefined ? undefined : this.removeFirst(scope, message.group, peer, pid);
      if (member === undefined) {
        // Cannot happen with FIFO links and a correct peer; keep going, the next sync repairs any divergence.
        this.log.warn({ peer, scope: message.scope, group: message.group, pid }, 'pg: peer left a group we do not hold it in; ignored');
        continue;
      }
      removed.push(member);
    }
    if (scope !== undefined) this.enqueue('leave', scope.name, message.group, removed);
  }

  /** The entries of a peer's message that are the peer's own pids, as members. */
  private acceptEntries(peer: string, message: PgMessage, group: string, entries: readonly PgEntry[]): PgMember[] {
    const members: PgMember[] = [];
    for (const entry of entries) {
      // Decoded from the peer's frame for this call alone: frozen in place.
      if (this.belongsTo(peer, entry.pid, message, group)) members.push(makeMember(entry.pid, peer, entry.value, true));
    }
    return members;
  }

  /** Only the owner writes a membership: a pid of any other node is dropped and logged. */
  private belongsTo(peer: string, pid: string, message: PgMessage, group: string): boolean {
    const owner = parsePid(pid)?.node;
    if (owner === peer) return true;
    const reason = owner === undefined ? 'malformed pid' : `pid belongs to node ${owner}, not to the sender`;
    this.log.warn({ peer, t: message.t, scope: message.scope, group, pid, reason }, `pg: dropped entry from ${peer}: ${reason}`);
    return false;
  }

  // ---------------------------------------------------------------- state helpers

  private ensureScope(name: string): ScopeState {
    let state = this.scopeStates.get(name);
    if (state === undefined) {
      state = { name, groups: new Map(), groupsByNode: new Map(), announcedBy: new Set(), stamps: new Map() };
      this.scopeStates.set(name, state);
    }
    return state;
  }

  private ensureLocalScope(name: string): ScopeState {
    const state = this.ensureScope(name);
    if (!this.localScopes.has(name)) {
      this.localScopes.add(name);
      // Peers that are already up got our syncs before this scope existed.
      this.broadcast({ t: 'pg.sync', scope: name, groups: [] });
    }
    return state;
  }

  /** Forgets a scope nobody here created and no up peer announces (it is empty then). */
  private dropScopeIfUnknown(scope: ScopeState): void {
    if (this.localScopes.has(scope.name) || scope.announcedBy.size > 0 || scope.groups.size > 0) return;
    this.scopeStates.delete(scope.name);
  }

  private entriesOf(scope: ScopeState, group: string, node: string): readonly PgMember[] {
    return scope.groups.get(group)?.get(node) ?? [];
  }

  private appendEntries(scope: ScopeState, group: string, node: string, members: readonly PgMember[]): void {
    const current = scope.groups.get(group)?.get(node);
    if (current === undefined) this.replaceEntries(scope, group, node, [...members]);
    else {
      current.push(...members);
      this.touch(scope, group);
    }
  }

  /** Removes the oldest member of `node` in `group` with this pid; undefined when there is none. */
  private removeFirst(scope: ScopeState, group: string, node: string, pid: string): PgMember | undefined {
    const current = scope.groups.get(group)?.get(node);
    const index = current?.findIndex((m) => m.pid === pid) ?? -1;
    if (current === undefined || index < 0) return undefined;
    const [removed] = current.splice(index, 1);
    if (current.length === 0) this.replaceEntries(scope, group, node, []);
    else this.touch(scope, group);
    return removed;
  }

  /**
   * Sets `node`'s members of `group` (taking ownership of the array) and
   * returns the previous ones. The only place that creates or deletes map
   * entries, so empty groups cannot survive.
   */
  private replaceEntries(scope: ScopeState, group: string, node: string, members: PgMember[]): PgMember[] {
    let byNode = scope.groups.get(group);
    const previous = byNode?.get(node) ?? [];
    if (members.length > 0) {
      if (byNode === undefined) scope.groups.set(group, (byNode = new Map()));
      byNode.set(node, members);
      addTo(scope.groupsByNode, node, group);
      this.touch(scope, group);
    } else if (byNode !== undefined) {
      this.detach(scope, group, node);
      removeFrom(scope.groupsByNode, node, group);
    }
    return previous;
  }

  /** Drops `node`'s members of `group` (and the group once it is empty), leaving the node → groups index to the caller; returns them. */
  private detach(scope: ScopeState, group: string, node: string): PgMember[] {
    const byNode = scope.groups.get(group);
    const removed = byNode?.get(node) ?? [];
    byNode?.delete(node);
    if (byNode?.size === 0) scope.groups.delete(group);
    this.touch(scope, group);
    return removed;
  }

  /** Records a change of `group`: a new stamp, or none once the group is gone (counted all the same: `changeCount`). */
  private touch(scope: ScopeState, group: string): void {
    if (scope.groups.has(group)) scope.stamps.set(group, ++this.changes);
    else {
      scope.stamps.delete(group);
      this.changes++;
    }
  }

  private indexPid(pid: string, scope: string, group: string): void {
    let scopes = this.pidIndex.get(pid);
    if (scopes === undefined) this.pidIndex.set(pid, (scopes = new Map()));
    addTo(scopes, scope, group);
  }

  private unindexPid(pid: string, scope: string, group: string): void {
    const scopes = this.pidIndex.get(pid);
    if (scopes === undefined) return;
    removeFrom(scopes, scope, group);
    if (scopes.size === 0) this.pidIndex.delete(pid);
  }

  private scopeSnapshot(scope: string): Map<string, PgMember[]> {
    return new Map(this.whichGroups(scope).map((group) => [group, this.getMembers(scope, group)]));
  }

  private buildSync(scopeName: string): PgSync {
    const state = this.scopeStates.get(scopeName);
    const groups: PgSync['groups'] = [];
    for (const group of state?.groupsByNode.get(this.node) ?? []) {
      groups.push({ group, entries: this.entriesOf(state!, group, this.node).map(toEntry) });
    }
    return { t: 'pg.sync', scope: scopeName, groups };
  }

  // ---------------------------------------------------------------- validation

  private checkName(schema: typeof ScopeNameSchema | typeof GroupNameSchema, name: string, what: 'scope' | 'group'): void {
    // The schemas' whole test, without zod's per-call cost; zod only words the refusal.
    if (typeof name === 'string' && name.length >= 1 && name.length <= (what === 'scope' ? MAX_SCOPE_NAME : MAX_GROUP_NAME)) return;
    const parsed = schema.safeParse(name);
    if (!parsed.success) throw new PgError(`invalid pg ${what} name ${JSON.stringify(String(name).slice(0, 80))}: ${describeIssues(parsed.error)}`);
  }

  private checkLocalPid(pid: string, scope: string, group: string): void {
    const parts = parsePid(pid);
    if (parts === undefined) throw new PgError(`cannot join ${JSON.stringify(String(pid).slice(0, 80))} to pg group ${JSON.stringify(group)} in scope ${JSON.stringify(scope)}: not a pid (expected node/incarnation/localId)`);
    if (parts.node !== this.node || parts.incarnation !== this.incarnation) {
      throw new PgError(
        `cannot join ${pid} to pg group ${JSON.stringify(group)} in scope ${JSON.stringify(scope)}: only processes of this node (${this.node}/${this.incarnation}) may join; join on the node that owns the pid`,
      );
    }
  }

  // ---------------------------------------------------------------- side effects

  private broadcast(message: PgMessage): void {
    for (const peer of this.upPeers) this.send(peer, message);
  }

  private send(peer: string, message: PgMessage): void {
    try {
      this.channel.send(peer, message);
    } catch (err) {
      // Race "link closing while we send": the peer gets a full sync on the next link up.
      this.log.error({ err, peer, t: message.t, scope: message.scope }, 'pg: failed to send to peer');
    }
  }

  private enqueue(kind: PgEvent['kind'], scope: string, group: string, members: readonly PgMember[]): void {
    if (members.length === 0) return;
    const forGroup = this.groupMonitors.get(scope)?.get(group);
    const forScope = this.scopeMonitors.get(scope);
    // The common case, one scope monitor and none on the group, allocates nothing per event.
    const subscriptions = forGroup === undefined ? this.scopeSubscriptions(scope, forScope) : [...forGroup, ...(forScope ?? [])];
    if (subscriptions.length === 0) return;
    this.eventQueue.push({ event: Object.freeze({ kind, scope, group, members: Object.freeze([...members]) }), subscriptions });
  }

  /** The scope's subscriptions as an array, rebuilt only when they change. */
  private scopeSubscriptions(scope: string, set: Set<Subscription> | undefined): readonly Subscription[] {
    if (set === undefined) return [];
    let cached = this.scopeSubscriptionArrays.get(set);
    if (cached === undefined || cached.length !== set.size || cached.some((s) => !set.has(s))) {
      cached = [...set];
      this.scopeSubscriptionArrays.set(set, cached);
    }
    return cached;
  }

  /**
   * Delivers queued events in order. Race "a listener changes groups or
   * subscribes from inside its callback": the nested call only queues (we are
   * already delivering), so events stay in order; a new subscriber does not
   * get events already in its snapshot; an unsubscribed one gets no more.
   */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.queueHead < this.eventQueue.length) {
        const { event, subscriptions } = this.eventQueue[this.queueHead++]!;
        for (const subscription of subscriptions) {
          if (!subscription.active) continue;
          try {
            subscription.listener(event);
          } catch (err) {
            this.log.error({ err, scope: event.scope, group: event.group, kind: event.kind }, 'pg: monitor listener threw; ignored');
          }
        }
      }
    } finally {
      this.eventQueue.length = 0;
      this.queueHead = 0;
      this.delivering = false;
    }
  }
}

// -------------------------------------------------------------------- pure helpers

/**
 * The multiset difference between two member lists of one node: `left` are
 * in `previous` but not in `next`, `joined` the reverse. Members are equal
 * when pid and value are equal (a pid that rejoined with another value left
 * and joined).
 */
export function diffMembers(previous: readonly PgMember[], next: readonly PgMember[]): { left: PgMember[]; joined: PgMember[] } {
  return { left: subtract(previous, next), joined: subtract(next, previous) };
}

function subtract(from: readonly PgMember[], remove: readonly PgMember[]): PgMember[] {
  const available = new Map<string, number>();
  for (const m of remove) {
    const key = memberKey(m);
    available.set(key, (available.get(key) ?? 0) + 1);
  }
  const result: PgMember[] = [];
  for (const m of from) {
    const key = memberKey(m);
    const count = available.get(key) ?? 0;
    if (count > 0) available.set(key, count - 1);
    else result.push(m);
  }
  return result;
}

function memberKey(m: PgMember): string {
  // A pid never contains NUL, so the key is unambiguous.
  return m.value === undefined ? m.pid : `${m.pid}\u0000${canonicalOf(m.value)}`;
}

/**
 * A member's frozen value. `owned`: the caller hands `value` over (a value
 * just decoded from a peer's frame, referenced by nothing else), so it is
 * frozen in place; a local caller's value is copied first (through JSON,
 * what the wire carries anyway), so no caller keeps a handle on replicated
 * state.
 *
 * Until the desired state moved to its own store, equal values were
 * interned (a WeakRef table keyed by their JSON): every member held a copy
 * of every register. Values are per instance now (`run:` `{rev, restarts}`),
 * so sharing saved nothing and cost a JSON text, a WeakRef and a
 * finalizer per value: 4 µs → 0.35 µs per value received (micro-benchmark,
 * 50,000 values).
 */
function freezeValue(value: JsonValue, owned: boolean): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  return deepFreeze(owned ? value : (JSON.parse(JSON.stringify(value)) as JsonValue));
}

function makeMember(pid: string, node: string, value: JsonValue | undefined, owned = false): PgMember {
  return Object.freeze(value === undefined ? { pid, node } : { pid, node, value: freezeValue(value, owned) });
}

function toEntry(member: PgMember): PgEntry {
  return member.value === undefined ? { pid: member.pid } : { pid: member.pid, value: member.value };
}

/** Freezes `value` and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) deepFreeze(o[k]);
    Object.freeze(value);
  }
  return value;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
