/**
 * The desired state of the distributed supervisor: its replicated store
 * (store/replica.ts, store/replication.ts) with the registers of
 * registers.ts under the keys of tags.ts, read and written through typed
 * methods. Every node holds one merged copy of every register, so a spec
 * survives as long as one member does.
 *
 * Writes are joins made here and sent as deltas; each returns the replica
 * tick a caller waits on with `heldByAll` (every listed member holds the
 * write: store/replication.ts, acknowledgements). Reads never wait.
 *
 * Tombstones are collected by tombstones.ts through `collect`; the durable
 * copy on disk (persistence.ts) is told of every change through `onChange`.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { StoreMessage } from '../protocol.js';
import { Replica } from '../store/replica.js';
import { Replication } from '../store/replication.js';
import type { ChildSpec } from '../supervisor/child-spec.js';
import type { Flags } from './events.js';
import {
  VersionClock,
  desiredStateKinds,
  highestRev,
  isCollected,
  joinChild,
  liveSpec,
  mergeChild,
  type ChildRegister,
  type FlagRegister,
  type SpecEntry,
  type Ver,
} from './registers.js';
import { key, parseKey } from './tags.js';
import { rosterRegressed } from './tombstones.js';
import { EMPTY_REGISTER } from './view.js';
import { deepFreeze } from '../util/deep-freeze.js';

/** Registers the store holds, by kind. */
export interface StoreSummary {
  /** Registers in the store, of every kind. */
  registers: number;
  /** Child registers with a live spec. */
  children: number;
  /** Child registers of terminated children, not yet known to every member. */
  tombstones: number;
  /** Tombstones every member is known to hold, about to be dropped. */
  collected: number;
  /** Drain and pause flags. */
  flags: number;
  /** Roster entries: one membership flag per node the store has heard of (false once the node is forgotten). */
  roster: number;
  /** Changes so far. */
  tick: number;
}

export interface DesiredStateOptions {
  node: string;
  scope: string;
  observer: boolean;
  clock: Clock;
  log: Logger;
  antiEntropyIntervalMs: number;
  /** How often members bridged across a partial partition get the root digest, ms (store/bridge.ts). */
  bridgeIntervalMs?: number;
  send(peer: string, message: StoreMessage): void;
  /** Keys changed, locally (`from` undefined) or by what a peer sent. */
  onChange(keys: readonly string[], from: string | undefined): void;
  /** Something a waiter may care about: a peer acknowledged or synced, came or went. */
  onProgress(): void;
  settledTick(): number;
  savedTick(): number;
  /**
   * `peer` sent its own roster entry older than the one held here (`held`):
   * it came back from an older file (tombstones.ts, 5). Called while its
   * message is being merged; forgetting it here refuses the rest.
   */
  regressed(peer: string, held: FlagRegister, incoming: FlagRegister): void;
  /** Whether this member passes an observer's writes on to the other observers (store/replication.ts `relay`). */
  relaysObserverWrites?(): boolean;
}

export class DesiredState {
  /** Flags and roster entries are indexed (a handful among many children): `draining` and `roster` do not pass over every child. */
  readonly replica = new Replica(desiredStateKinds, (k) => !k.startsWith('c:'));
  readonly replication: Replication;
  private readonly vclock: VersionClock;

  constructor(private readonly o: DesiredStateOptions) {
    this.vclock = new VersionClock(o.node, () => o.clock.now());
    this.replication = new Replication({
      scope: o.scope,
      replica: this.replica,
      clock: o.clock,
      log: o.log.child({ layer: 'store' }),
      observer: o.observer,
      antiEntropyIntervalMs: o.antiEntropyIntervalMs,
      ...(o.bridgeIntervalMs === undefined ? {} : { bridgeIntervalMs: o.bridgeIntervalMs }),
      send: o.send,
      onChange: (keys, from) => this.changed(keys, from),
      settledTick: () => o.settledTick(),
      savedTick: () => o.savedTick(),
      onProgress: () => o.onProgress(),
      // A member forgotten by the cluster (tombstones.ts) is refused all but its own roster entry, and never pulled from.
      // A member whose own entry comes back older than the one held here came back from an older file (tombstones.ts,
      // 5): `regressed` forgets it before anything else it sent is looked at.
      accepts: (peer, k, value) => {
        if (k !== this.rosterKey(peer)) return !this.isForgotten(peer);
        const held = this.rosterEntry(peer);
        if (!o.observer && rosterRegressed(held, value as FlagRegister)) o.regressed(peer, held!, value as FlagRegister);
        return true;
      },
      pullsFrom: (peer) => !this.isForgotten(peer),
      ...(o.relaysObserverWrites === undefined ? {} : { relaysObserverWrites: o.relaysObserverWrites }),
      // A member's own roster entry goes first on every link: a member that was forgotten and came back
      // empty is taken back before its digest is looked at.
      greeting: () => {
        if (o.observer) return [];
        const own = this.replica.get(key.roster(o.node));
        return own === undefined ? [] : [[key.roster(o.node), own]];
      },
    });
  }

  /** Ids of the children whose register holds no live spec (tombstones, collected ones): what tombstones.ts looks at. */
  deadIds(): ReadonlySet<string> {
    if (this.dead === undefined) {
      // Built on first use (after a restore, which merges straight into the replica), then kept by `changed`.
      this.dead = new Set();
      for (const k of this.replica.keys()) this.noteDead(k);
    }
    return this.dead;
  }

  private dead: Set<string> | undefined;

  private noteDead(k: string): void {
    if (this.dead === undefined || !k.startsWith('c:')) return;
    const r = this.replica.get(k) as ChildRegister | undefined;
    if (r !== undefined && r.specs.length === 0) this.dead.add(k.slice(2));
    else if (this.dead.size > 0) this.dead.delete(k.slice(2)); // no id cut out for every child started while none is dead
  }

  private changed(keys: readonly string[], from: string | undefined): void {
    if (this.dead !== undefined) for (const k of keys) this.noteDead(k);
    this.o.onChange(keys, from);
  }

  /** Whether the roster says `node` is forgotten. */
  isForgotten(node: string): boolean {
    return (this.replica.get(this.rosterKey(node)) as FlagRegister | undefined)?.value === false;
  }

  /** The roster entry of `node`, if any. */
  rosterEntry(node: string): FlagRegister | undefined {
    return this.replica.get(this.rosterKey(node)) as FlagRegister | undefined;
  }

  /** `m:<node>`, one string per node: asked twice for every register a peer sends (`accepts`), a key built each time was hashed each time. */
  private rosterKey(node: string): string {
    let k = this.rosterKeys.get(node);
    if (k === undefined) {
      // Bounded: names of members come and go over a long life; past this many, start over.
      if (this.rosterKeys.size >= 4096) this.rosterKeys.clear();
      this.rosterKeys.set(node, (k = key.roster(node)));
    }
    return k;
  }

  private readonly rosterKeys = new Map<string, string>();

  start(): void {
    this.replication.start();
  }

  stop(): void {
    this.replication.stop();
  }

  get tick(): number {
    return this.replica.tick;
  }

  // ---- reads ---------------------------------------------------------------------

  child(id: string): ChildRegister {
    return (this.replica.get(key.child(id)) as ChildRegister | undefined) ?? EMPTY_REGISTER;
  }

  /** The tick of the child's last change (undefined when the store holds nothing for it). */
  childTick(id: string): number | undefined {
    return this.replica.tickOf(key.child(id));
  }

  /** Every child id the store holds a register for (live, or a tombstone). */
  *childIds(): IterableIterator<string> {
    for (const k of this.replica.keys()) if (k.startsWith('c:')) yield k.slice(2);
  }

  /** Nodes whose drain flag is set. */
  draining(): Set<string> {
    const out = new Set<string>();
    for (const k of this.replica.selectedKeys()) {
      const parsed = parseKey(k);
      if (parsed?.kind === 'drain' && (this.replica.get(k) as FlagRegister).value) out.add(parsed.node);
    }
    return out;
  }

  get paused(): boolean {
    return (this.replica.get(key.pause) as FlagRegister | undefined)?.value ?? false;
  }

  /** Every drain flag (set or cleared) by node, and the pause flag, with their versions. */
  flags(): Flags {
    const drains = new Map<string, FlagRegister>();
    for (const k of this.replica.selectedKeys()) {
      const parsed = parseKey(k);
      if (parsed?.kind === 'drain') drains.set(parsed.node, this.replica.get(k) as FlagRegister);
    }
    return { drains, pause: this.replica.get(key.pause) as FlagRegister | undefined };
  }

  /** The roster (tombstones.ts): members by name, true while tombstones wait for them. */
  roster(): Map<string, boolean> {
    const out = new Map<string, boolean>();
    for (const k of this.replica.selectedKeys()) {
      const parsed = parseKey(k);
      if (parsed?.kind === 'roster') out.set(parsed.node, (this.replica.get(k) as FlagRegister).value);
    }
    return out;
  }

  /** What the store holds, by kind (status endpoints, the soak's metadata checks). */
  summary(): StoreSummary {
    const out: StoreSummary = { registers: this.replica.size, children: 0, tombstones: 0, collected: 0, flags: 0, roster: 0, tick: this.replica.tick };
    for (const [k, v] of this.replica.all()) {
      const parsed = parseKey(k);
      if (parsed?.kind === 'child') {
        const r = v as ChildRegister;
        if (r.specs.length > 0) out.children++;
        else if (isCollected(r)) out.collected++;
        else out.tombstones++;
      } else if (parsed?.kind === 'roster') out.roster++;
      else out.flags++;
    }
    return out;
  }

  // ---- writes (local; each returns the tick to wait on) --------------------------------

  /** Requests a start of `spec`: a new revision (first start wins: the earliest revision above the floor is the live one). */
  requestStart(spec: ChildSpec): { tick: number; rev: Ver } {
    const id = spec.id;
    const rev = this.vclock.next();
    // Validated by the caller; frozen like every spec the store holds (local-instances.ts trusts them).
    deepFreeze(spec);
    const held = this.child(id);
    // A new child (nearly every start): the join with nothing is the one entry, already normal; the
    // general join builds a map, a sorted copy and spread objects per start (a burst's caller).
    const next: ChildRegister = held === EMPTY_REGISTER ? { specs: [{ rev, spec }] } : mergeChild([held, { specs: [{ rev, spec }] }]);
    this.write(key.child(id), deepFreeze(next));
    return { tick: this.replica.tick, rev };
  }

  /** Terminates every revision the register holds (raises its floor to the highest one). */
  terminate(id: string): { tick: number; floor: Ver } | undefined {
    const register = this.child(id);
    const floor = highestRev(register);
    if (floor === undefined) return undefined;
    this.write(key.child(id), deepFreeze(joinChild(register, { floor, floorAt: this.o.clock.now(), specs: [] })));
    return { tick: this.replica.tick, floor };
  }

  /** Pins the live revision to `node` (null: unpins). */
  pin(id: string, live: SpecEntry, node: string | null): number {
    this.write(key.child(id), deepFreeze(mergeChild([this.child(id), { specs: [{ ...live, pin: { node, ver: this.vclock.next() } }] }])));
    return this.replica.tick;
  }

  /** Sends the child's register to every peer again; the tick to wait on for every member to hold it. */
  touch(id: string): number {
    const tick = this.replication.touch(key.child(id));
    return tick;
  }

  setDrain(node: string, draining: boolean): void {
    this.write(key.drain(node), deepFreeze({ value: draining, ver: this.vclock.next() }));
  }

  setPause(paused: boolean): void {
    this.write(key.pause, deepFreeze({ value: paused, ver: this.vclock.next() }));
  }

  /** Puts `node` on the roster (true) or forgets it (false), unless it already says so (`force`: write anyway, with a new version). */
  setRoster(node: string, member: boolean, force = false): void {
    const held = this.replica.get(key.roster(node)) as FlagRegister | undefined;
    if (held?.value === member && !force) return;
    this.write(key.roster(node), deepFreeze({ value: member, ver: this.vclock.next() }));
  }

  /** Writes `node`'s roster entry again (still a member, a new version) unless it is forgotten (tombstones.ts, 5). */
  affirmRoster(node: string): void {
    if (this.rosterEntry(node)?.value === true) this.setRoster(node, true, true);
  }

  /** Whether any of `keys` is a collected tombstone now (one whose mark just landed here, when `keys` just changed). */
  collectedAmong(keys: readonly string[]): boolean {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.startsWith('c:')) continue;
      const r = this.replica.get(k) as ChildRegister | undefined;
      if (r !== undefined && isCollected(r)) return true;
    }
    return false;
  }

  /** Marks a tombstone collected: every member holds it (tombstones.ts). */
  markCollected(id: string): void {
    const r = this.child(id);
    if (r.floor === undefined || r.specs.length > 0) return;
    this.write(key.child(id), deepFreeze(joinChild(r, { collected: r.floor, specs: [] })));
  }

  /** The tick up to which `member` is known to hold this whole replica. */
  syncedTick(member: string): number {
    return this.replication.syncedTick(member);
  }

  /**
   * Discards every register (this member was forgotten while it held stale
   * state: tombstones.ts); the caller rejoins the roster and relinks, so the
   * state comes back from the others.
   */
  reset(): void {
    const keys = [...this.replica.keys()];
    for (const k of keys) this.replica.delete(k);
    if (keys.length > 0) this.changed(keys, undefined);
  }

  /** Writes a register that is already decoded (a restored one, a collected tombstone). */
  write(k: string, value: unknown): boolean {
    const changed = this.replication.write(k, value);
    if (changed) this.changed([k], undefined);
    return changed;
  }

  /** Drops a register here only (a collected tombstone everyone holds); not replicated. */
  drop(k: string): void {
    if (this.replica.delete(k)) this.changed([k], undefined);
  }

  // ---- what peers hold ------------------------------------------------------------

  /** Whether every one of `members` holds every write made here up to `tick`. */
  heldByAll(tick: number, members: readonly string[]): boolean {
    return members.every((m) => this.replication.holdsWrite(m, tick));
  }

  /** The highest tick every one of `members` holds every write up to (Infinity for none). */
  heldTick(members: readonly string[]): number {
    let held = Infinity;
    for (const m of members) held = Math.min(held, this.replication.heldTick(m));
    return held;
  }

  /** Whether `member` holds this replica's whole state as of `tick`. */
  holdsState(member: string, tick: number): boolean {
    return this.replication.holdsState(member, tick);
  }

  /** Whether this node has merged member `peer`'s state as of their link coming up. */
  caughtUpWith(peer: string): boolean {
    return this.replication.caughtUpWith(peer);
  }

  /** The live spec of `id`, if any. */
  live(id: string): SpecEntry | undefined {
    return liveSpec(this.child(id));
  }
}
