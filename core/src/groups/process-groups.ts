/**
 * Process groups, after Erlang's `pg`: named groups of pids, replicated to
 * every directly linked node, in independent scopes. This file is the
 * orchestrator: peers, local writes, reads and validation; the parts live
 * beside it (table.ts: the data layout; sync.ts: syncs and their
 * reassembly; monitors.ts: subscriptions and event delivery; members.ts:
 * member values).
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
 *   sender in that scope (sync.ts).
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
 * Per local pid: scope → groups it is in (an index for `leaveAll`). Per
 * scope: how many groups have each name prefix (`hasGroupsWithPrefix`, for
 * a reader that would otherwise look up, per id, groups that almost never
 * exist), and optionally its owner's value sharer (`shareValues`: parts of
 * a member's value swapped for equal ones the owner holds, before the value
 * is frozen; memory only, never what is stored or sent).
 *
 * Robustness: `handleMessage` never throws. Semantic problems in a peer's
 * message (a pid of another node, leaving an entry we do not hold) drop the
 * offending part with a warn log naming the peer and the reason.
 */
import type { Logger } from '../logger.js';
import {
  GroupNameSchema,
  MAX_GROUP_NAME,
  MAX_NESTING,
  MAX_SCOPE_NAME,
  ScopeNameSchema,
  describeIssues,
  isJsonValue,
  isPidOf,
  parsePid,
  type JsonValue,
  type PgEntry,
  type PgJoin,
  type PgLeave,
} from '../protocol.js';
import { makeMember, toEntry } from './members.js';
import { GroupMonitors } from './monitors.js';
import { SyncReassembly, buildSync } from './sync.js';
import { GroupTable, addTo, removeFrom, type ScopeState } from './table.js';
import {
  PgError,
  type PeerChannel,
  type PgListener,
  type PgMember,
  type PgMessage,
  type PgMonitor,
  type PgSnapshot,
  type PgValueSharer,
  type ProcessGroupsOptions,
} from './types.js';

/**
 * The groups a local pid has joined: one (scope, group) pair — nearly every
 * pid, a child instance in its `run:` group, and no Map and Set made for it
 * at every start — or, once it joins a second, scope → groups.
 */
type PidGroups = { readonly scope: string; readonly group: string } | Map<string, Set<string>>;

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
  /** Every known scope's groups (table.ts). */
  private readonly table: GroupTable;
  /** local pid → the groups it has joined (index for `leaveAll`; `PidGroups`). */
  private readonly pidIndex = new Map<string, PidGroups>();
  private readonly monitors: GroupMonitors;
  private readonly syncs: SyncReassembly;
  /** Per scope, its owner's sharer (`shareValues`). */
  private readonly sharers = new Map<string, PgValueSharer>();

  constructor(options: ProcessGroupsOptions) {
    this.node = options.node;
    this.incarnation = options.incarnation;
    this.channel = options.channel;
    this.log = options.log.child({ module: 'groups' });
    this.table = new GroupTable(this.node);
    this.monitors = new GroupMonitors(this.log);
    this.syncs = new SyncReassembly(this.table, this.monitors, this.log);
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
    this.syncs.dropPeer(peer);
    for (const scopeName of this.localScopes) this.send(peer, buildSync(this.table, this.node, scopeName));
  }

  /** The link to `peer` went down: forget all of its memberships. */
  peerDown(peer: string): void {
    if (!this.upPeers.delete(peer)) {
      this.log.debug({ peer }, 'pg: peerDown for a peer that was not up; nothing to drop');
      return;
    }
    this.syncs.dropPeer(peer);
    for (const scope of [...this.table.scopeStates.values()]) {
      // The peer's whole index goes at once (not group by group: that rehashed the set thousands of times).
      const groups = scope.groupsByNode.get(peer);
      scope.groupsByNode.delete(peer);
      for (const group of groups ?? []) this.monitors.enqueue('leave', scope.name, group, this.table.detach(scope, group, peer));
      scope.announcedBy.delete(peer);
      this.dropScopeIfUnknown(scope);
    }
    this.monitors.deliver();
  }

  /** True once `peer` (up) has announced `scope` to us: its snapshot of that scope has arrived. */
  announced(scope: string, peer: string): boolean {
    return this.table.scopeStates.get(scope)?.announcedBy.has(peer) ?? false;
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
          this.syncs.apply(peer, message, (group, entries) => this.acceptEntries(peer, message, group, entries));
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
      this.monitors.deliver();
    }
  }

  // ---------------------------------------------------------------- local writes

  /** Creates a local scope (idempotent); peers that are up learn of it at once. */
  createScope(name: string): void {
    this.checkName(ScopeNameSchema, name, 'scope');
    this.ensureLocalScope(name);
  }

  /**
   * Gives every member value of `scope` from now on, local or a peer's, to
   * `share` before it is frozen (`PgValueSharer`: it may swap parts for
   * equal ones it holds); `undefined` stops it. A value arrives as new
   * strings, and the distributed supervisor's `run:` values repeat a
   * revision its store already holds: one copy of it per child on every
   * node (40 bytes: 800 KB at 20,000 children). What pg stores, sends and
   * compares stays the same JSON.
   */
  shareValues(scope: string, share: PgValueSharer | undefined): void {
    if (share === undefined) this.sharers.delete(scope);
    else this.sharers.set(scope, share);
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
    if (value !== undefined && !isJsonValue(value))
      throw new PgError(
        `cannot join ${pid} to pg group ${JSON.stringify(group)}: the value must be plain JSON (strings,` +
          ` finite numbers, booleans, null, arrays, plain objects, at most ${MAX_NESTING} levels deep)`,
      );
    const member = makeMember(pid, this.node, value, false, group, this.sharers.get(scope));
    const state = this.ensureLocalScope(scope);
    this.table.appendEntries(state, group, this.node, [member]);
    this.indexPid(pid, scope, group);
    this.broadcast({ t: 'pg.join', scope, group, entries: [toEntry(member)] });
    this.monitors.enqueue('join', scope, group, [member]);
    this.monitors.deliver();
  }

  /**
   * Removes one membership of `pid` in `group` (its oldest). Returns false
   * when the pid is not a member (including pids of other nodes, which are
   * never local members).
   */
  leave(scope: string, group: string, pid: string): boolean {
    const state = this.table.scopeStates.get(scope);
    if (state === undefined) return false;
    const removed = this.table.removeFirst(state, group, this.node, pid);
    if (removed === undefined) return false;
    if (!this.table.entriesOf(state, group, this.node).some((m) => m.pid === pid)) this.unindexPid(pid, scope, group);
    this.broadcast({ t: 'pg.leave', scope, group, pids: [pid] });
    this.monitors.enqueue('leave', scope, group, [removed]);
    this.monitors.deliver();
    return true;
  }

  /** Removes every membership of `pid` in every scope (its process died). Returns how many were removed. */
  leaveAll(pid: string): number {
    const held = this.pidIndex.get(pid);
    if (held === undefined) return 0;
    this.pidIndex.delete(pid);
    let count = 0;
    const scopes = held instanceof Map ? held : [[held.scope, [held.group]] as const];
    for (const [scopeName, groups] of scopes) {
      const state = this.table.scopeStates.get(scopeName);
      if (state === undefined) continue; // unreachable: local scopes are never dropped
      for (const group of groups) {
        const current = this.table.entriesOf(state, group, this.node);
        const kept = current.filter((m) => m.pid !== pid);
        if (kept.length === current.length) continue;
        const removed = current.filter((m) => m.pid === pid);
        this.table.replaceEntries(state, group, this.node, kept);
        count += removed.length;
        // One pid per occurrence: the receiver removes one occurrence per listed pid.
        this.broadcast({ t: 'pg.leave', scope: scopeName, group, pids: removed.map((m) => m.pid) });
        this.monitors.enqueue('leave', scopeName, group, removed);
      }
    }
    this.monitors.deliver();
    return count;
  }

  // ---------------------------------------------------------------- reads (never wait)

  /** All members of a group on every up node: local first, then peers by name, join order within a node. */
  getMembers(scope: string, group: string): PgMember[] {
    return this.table.getMembers(scope, group);
  }

  /**
   * `getMembers` for a reader that looks at once (the supervisor's reads of
   * a child's groups at every reconcile): no copy when one node holds the
   * whole group. Valid until the next change to the group; never keep or
   * change it.
   */
  readMembers(scope: string, group: string): readonly PgMember[] {
    return this.table.readMembers(scope, group);
  }

  /** Members of a group on this node, in join order. */
  getLocalMembers(scope: string, group: string): PgMember[] {
    const state = this.table.scopeStates.get(scope);
    return state === undefined ? [] : [...this.table.entriesOf(state, group, this.node)];
  }

  /**
   * Whether `scope` holds any group whose name has `prefix` — its part up to
   * and including the first `:` (`fail:` for `fail:c1`). O(1): a reader
   * that would look up, for every id, a group that almost never exists (a
   * failed start's, an OS process's) asks this once instead, without
   * building each name to miss it.
   */
  hasGroupsWithPrefix(scope: string, prefix: string): boolean {
    return this.table.hasPrefix(scope, prefix);
  }

  /**
   * A number that changes whenever the group's members change (0 for a group
   * that does not exist); never reused, so equal stamps mean nothing changed
   * in between. Lets a reader skip work on groups it has already seen.
   */
  stamp(scope: string, group: string): number {
    return this.table.stamp(scope, group);
  }

  /** Changes to any group of any scope so far: equal counts, no membership changed in between (a digest of them all). */
  get changeCount(): number {
    return this.table.changeCount;
  }

  /** Non-empty groups of a scope (any node), unsorted: for a sweep that reads them all. */
  groupNames(scope: string): Iterable<string> {
    return this.table.groupNames(scope);
  }

  /** Non-empty groups of a scope (any node), sorted. */
  whichGroups(scope: string): string[] {
    return this.table.whichGroups(scope);
  }

  /** Scopes created here or announced by an up peer, sorted. */
  scopes(): string[] {
    return this.table.scopes();
  }

  /** Plain JSON view of the given scopes (default: every known scope) and their groups (keys sorted); unknown scopes are left out. */
  snapshot(scopes: readonly string[] = this.scopes()): PgSnapshot {
    return Object.fromEntries(
      scopes.filter((scope) => this.table.scopeStates.has(scope)).map((scope) => [scope, Object.fromEntries(this.table.scopeSnapshot(scope))]),
    );
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
    const unsubscribe = this.monitors.subscribe(scope, group, listener);
    return { snapshot: group === undefined ? this.table.scopeSnapshot(scope) : this.table.getMembers(scope, group), unsubscribe };
  }

  // ---------------------------------------------------------------- applying peers' messages

  private applyJoin(peer: string, message: PgJoin): void {
    const scope = this.table.ensureScope(message.scope);
    scope.announcedBy.add(peer);
    const members = this.acceptEntries(peer, message, message.group, message.entries);
    if (members.length === 0) return;
    this.table.appendEntries(scope, message.group, peer, members);
    this.monitors.enqueue('join', scope.name, message.group, members);
  }

  private applyLeave(peer: string, message: PgLeave): void {
    const scope = this.table.scopeStates.get(message.scope);
    const removed: PgMember[] = [];
    for (const pid of message.pids) {
      if (!this.belongsTo(peer, pid, message, message.group)) continue;
      const member = scope === undefined ? undefined : this.table.removeFirst(scope, message.group, peer, pid);
      if (member === undefined) {
        // Cannot happen with FIFO links and a correct peer; keep going, the next sync repairs any divergence.
        this.log.warn({ peer, scope: message.scope, group: message.group, pid }, 'pg: peer left a group we do not hold it in; ignored');
        continue;
      }
      removed.push(member);
    }
    if (scope !== undefined) this.monitors.enqueue('leave', scope.name, message.group, removed);
  }

  /** The entries of a peer's message that are the peer's own pids, as members. */
  private acceptEntries(peer: string, message: PgMessage, group: string, entries: readonly PgEntry[]): PgMember[] {
    const members: PgMember[] = [];
    const share = this.sharers.get(message.scope);
    for (const entry of entries) {
      // Decoded from the peer's frame for this call alone: frozen in place.
      if (this.belongsTo(peer, entry.pid, message, group)) members.push(makeMember(entry.pid, peer, entry.value, true, group, share));
    }
    return members;
  }

  /** Only the owner writes a membership: a pid of any other node is dropped and logged. */
  private belongsTo(peer: string, pid: string, message: PgMessage, group: string): boolean {
    if (isPidOf(pid, peer)) return true;
    const owner = parsePid(pid)?.node;
    const reason = owner === undefined ? 'malformed pid' : `pid belongs to node ${owner}, not to the sender`;
    this.log.warn({ peer, t: message.t, scope: message.scope, group, pid, reason }, `pg: dropped entry from ${peer}: ${reason}`);
    return false;
  }

  // ---------------------------------------------------------------- state helpers

  private ensureLocalScope(name: string): ScopeState {
    const state = this.table.ensureScope(name);
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
    this.table.scopeStates.delete(scope.name);
  }

  private indexPid(pid: string, scope: string, group: string): void {
    const held = this.pidIndex.get(pid);
    if (held === undefined) this.pidIndex.set(pid, { scope, group });
    else if (held instanceof Map) addTo(held, scope, group);
    else if (held.scope !== scope || held.group !== group) {
      const scopes = new Map<string, Set<string>>();
      addTo(scopes, held.scope, held.group);
      addTo(scopes, scope, group);
      this.pidIndex.set(pid, scopes);
    }
  }

  private unindexPid(pid: string, scope: string, group: string): void {
    const held = this.pidIndex.get(pid);
    if (held === undefined) return;
    if (held instanceof Map) {
      removeFrom(held, scope, group);
      if (held.size === 0) this.pidIndex.delete(pid);
    } else if (held.scope === scope && held.group === group) this.pidIndex.delete(pid);
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
    if (parts === undefined)
      throw new PgError(
        `cannot join ${JSON.stringify(String(pid).slice(0, 80))} to pg group ${JSON.stringify(group)} ` +
          `in scope ${JSON.stringify(scope)}: not a pid (expected node/incarnation/localId)`,
      );
    if (parts.node !== this.node || parts.incarnation !== this.incarnation) {
      throw new PgError(
        `cannot join ${pid} to pg group ${JSON.stringify(group)} in scope ${JSON.stringify(scope)}: only ` +
          `processes of this node (${this.node}/${this.incarnation}) may join; join on the node that owns the pid`,
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
}
