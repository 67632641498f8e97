/**
 * A replica: one node's merged copy of a replicated store's registers, with
 * the fingerprints that let two replicas find where they differ without
 * sending what they hold (store/replication.ts does the talking).
 *
 * Registers
 * - A key names one register; its prefix names the register's *kind*
 *   (`RegisterKind`: how an untrusted value is decoded, the join, a
 *   canonical text). The replica holds exactly one value per key.
 * - Every change is a join: `merge(key, incoming)` replaces the held value
 *   with `join(held, incoming)`. Joins are commutative, associative and
 *   idempotent (each kind proves it in its tests), so replicas that have
 *   merged the same values hold the same registers, whatever the order,
 *   duplication or grouping of the merges. A merge that adds nothing changes
 *   nothing (compared by canonical text): no tick, no notification.
 * - `ignoreWhenAbsent`: a kind may refuse a value for a key the replica does
 *   not hold (a tombstone already collected everywhere: see
 *   distributed/tombstones.ts). `delete` is only for such collection and for
 *   a reset; it is not a replicated operation.
 *
 * Ticks: a counter bumped by every change; each key remembers the tick of
 * its last change. Replication records the tick with every message it sends,
 * so "the peer has acknowledged a message sent at tick T" means "the peer
 * holds what this replica held at T" (for a digest) or "what was written
 * here up to T" (for a delta).
 *
 * Fingerprints and digests (anti-entropy without sending the data)
 * - A register's fingerprint is hash53(key NUL text): 53 bits, so a JSON
 *   number carries it exactly.
 * - Key space is cut into 2^12 = 4,096 leaf buckets by hash53(key). A leaf's
 *   fingerprint is the XOR of its registers' fingerprints, kept up to date
 *   on every change (XOR out the old, XOR in the new: O(1)), as two 32-bit
 *   halves because JavaScript's bitwise operators are 32-bit.
 * - A new register's fingerprint waits until something reads one: it is
 *   computed when a digest, a bucket's fingerprint or the register's own is
 *   asked for (`hashPending`), not when it is merged. Invariant: a leaf's
 *   fingerprint is the XOR of the fingerprints computed so far of its
 *   registers, and every leaf holding a register without one is in
 *   `unhashedLeaves`; reads that need whole leaves compute those first. The
 *   registers that arrive between two digests (a burst of 10,000 starts:
 *   every node merges every one) are fingerprinted once, at the next digest
 *   (an anti-entropy round, a new link), off the path of the burst, where
 *   they were 3-6 % of a start's CPU summed over three nodes and an observer
 *   (docs/performance.md); an observer computes them when it compares a
 *   member's digest with its own. A change of a register already held is
 *   fingerprinted at once: the merge's "did anything change" compares
 *   fingerprints.
 * - A digest at level L (0..12) has 2^L buckets; bucket b is the XOR of the
 *   leaves it covers. Two replicas with equal bucket fingerprints hold the
 *   same registers there (up to a 2^-53 chance per differing bucket); an
 *   empty bucket is 0. The level is chosen so a bucket holds about 8
 *   registers (`levelFor`): a 20,000-register store has a 4,096-bucket
 *   digest (about 60 KB of JSON), a small one a digest of a few numbers.
 *
 * Memory: an entry keeps the value, its fingerprint (in two fields of
 * under 30 bits, which V8 keeps in the object as small integers: a 53-bit
 * number in one field is a heap number of its own, 16 bytes per register)
 * and its tick; not its leaf, which is a hash of the key away, nor the
 * canonical text (a child register's is a few hundred bytes: several MiB
 * of every node's heap at 20,000 registers). A merge that may have changed
 * a register compares fingerprints first: different fingerprints,
 * different registers; equal ones are confirmed by comparing the texts,
 * the held one computed again (a child register's in a few microseconds),
 * so equality never rests on a hash.
 *
 * Costs: a change is O(text of the register) for its fingerprint (a new
 * register's at the first digest or fingerprint read after it); reads are
 * map lookups; a digest is O(4,096); the entries of some buckets are found
 * through a per-leaf key index, never by scanning every key.
 *
 * Pure data: no timers, no I/O, no randomness.
 */
import { Hash53, TWO_32, hash53 } from '../hash.js';

/** Digests have 2^LEAF_LEVEL leaves. */
export const LEAF_LEVEL = 12;
const LEAVES = 2 ** LEAF_LEVEL;

/** How one kind of register (one key prefix) is decoded, joined and fingerprinted. */
export interface RegisterKind<T = unknown> {
  /**
   * Checks an untrusted value (from a peer or a file) and returns it frozen,
   * or a reason. `now` lets a kind refuse versions from the far future.
   * Never throws.
   */
  decode(key: string, value: unknown, now: number): { ok: true; value: T } | { ok: false; reason: string };
  /** The least upper bound of two values: commutative, associative, idempotent. */
  join(a: T, b: T): T;
  /** A canonical text: two values are equal exactly when their texts are. */
  text(value: T): string;
  /**
   * The same text written piece by piece (optional): the fingerprint of a
   * new or changed register is then hashed from the pieces, without
   * building the text (a child register's is a few hundred bytes, and every
   * node fingerprints every register it takes).
   */
  writeText?(value: T, out: Hash53): unknown;
  /**
   * The value as it travels to peers (optional): a shorter form that
   * `decode` turns back into an equal value (a child register's spec
   * without the fields at their defaults). Written once per send, not
   * kept. Without it the value travels as it is held.
   */
  wire?(value: T): unknown;
  /** True when `value`, arriving for a key this replica does not hold, is not worth keeping. */
  ignoreWhenAbsent?(value: T): boolean;
}

/** Which kind a key is (by its prefix); undefined for a key no kind claims (rejected). */
export type KindOf = (key: string) => RegisterKind | undefined;

interface Entry {
  readonly value: unknown;
  /**
   * hash53(key NUL text), the register's fingerprint (see the header; the
   * text itself is not kept), as `hashHi * 2^27 + hashLo`; `hashHi` is
   * UNHASHED until it is computed.
   */
  hashHi: number;
  hashLo: number;
  readonly tick: number;
}

const TWO_27 = 2 ** 27;
/** `Entry.hashHi` of a register whose fingerprint is not computed yet (a real one is 0..2^26-1). */
const UNHASHED = -1;

/** The fingerprint an entry holds. */
function hashOfEntry(e: Entry): number {
  return e.hashHi * TWO_27 + e.hashLo;
}

/** A register's fingerprint: hash53(key NUL text). */
function fingerprint(key: string, text: string): number {
  return hash53(`${key}\u0000${text}`);
}

/** The fingerprint of `value` at `key`, from its text's pieces when its kind writes them. */
function fingerprintOf(kind: RegisterKind, key: string, value: unknown): number {
  if (kind.writeText === undefined) return fingerprint(key, kind.text(value));
  const hash = new Hash53().add(key).add('\u0000');
  kind.writeText(value, hash);
  return hash.finish();
}

/** The level whose buckets hold about 8 registers each for a store of `count`. */
export function levelFor(count: number): number {
  if (count <= 8) return 0;
  return Math.min(LEAF_LEVEL, Math.ceil(Math.log2(count / 8)));
}

/** The leaf bucket of a key. */
export function leafOf(key: string): number {
  return Math.floor(hash53(key) / 2 ** (53 - LEAF_LEVEL));
}

/** The leaves [from, to) that bucket `bucket` of a digest at `level` covers. */
export function leafRange(level: number, bucket: number): [number, number] {
  const width = 2 ** (LEAF_LEVEL - level);
  return [bucket * width, (bucket + 1) * width];
}

export class Replica {
  private readonly entries = new Map<string, Entry>();
  /**
   * Keys per leaf (the index for `keysInBuckets`), unordered: an exact-length array, not a Set (a
   * leaf holds about eight keys: a Set's hash table cost 170 B per leaf, 0.7 MiB at 20,000
   * registers; removing from an array of eight is a short scan).
   */
  private readonly leafKeys: Array<string[] | undefined> = new Array(LEAVES);
  /** Each leaf's fingerprint as two 32-bit halves (high 21 bits, low 32 bits): of its registers fingerprinted so far. */
  private readonly leafHi = new Uint32Array(LEAVES);
  private readonly leafLo = new Uint32Array(LEAVES);
  /** Leaves that may hold a register without its fingerprint (listed once: `unhashedFlag`). */
  private unhashedLeaves: number[] = [];
  private readonly unhashedFlag = new Uint8Array(LEAVES);
  private _tick = 0;
  /** Keys that `indexed` selects (a few flags among many children): read without a pass over every key. */
  private readonly selected = new Set<string>();

  /** `indexed`: which keys `selectedKeys` lists (none by default). */
  constructor(
    readonly kindOf: KindOf,
    private readonly indexed: (key: string) => boolean = () => false,
  ) {}

  /** The held keys `indexed` selects. */
  selectedKeys(): ReadonlySet<string> {
    return this.selected;
  }

  /** Changes so far: bumped by every change (see the header). */
  get tick(): number {
    return this._tick;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): unknown {
    return this.entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The tick of the key's last change, or undefined when it is not held. */
  tickOf(key: string): number | undefined {
    return this.entries.get(key)?.tick;
  }

  /** The register's fingerprint, or undefined when it is not held. */
  hashOf(key: string): number | undefined {
    const e = this.entries.get(key);
    return e === undefined ? undefined : this.fingerprintOfEntry(key, e);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** Every (key, value), in no particular order. */
  *all(): IterableIterator<[string, unknown]> {
    for (const [key, e] of this.entries) yield [key, e.value];
  }

  /**
   * Joins `incoming` (already decoded by its kind) into the register at
   * `key`. Returns true when the held value changed.
   */
  merge(key: string, incoming: unknown): boolean {
    const kind = this.kindOf(key);
    if (kind === undefined) return false;
    const held = this.entries.get(key);
    if (held === undefined) {
      if (kind.ignoreWhenAbsent?.(incoming)) return false;
      // Fingerprinted when first read (see the header).
      this.put(key, incoming, undefined);
      return true;
    }
    if (incoming === held.value) return false;
    const joined = kind.join(held.value, incoming);
    if (joined === held.value) return false;
    const hash = fingerprintOf(kind, key, joined);
    // Equal fingerprints almost always mean equal registers; the texts, built only then, make sure.
    if (hash === this.fingerprintOfEntry(key, held) && kind.text(joined) === kind.text(held.value)) return false;
    this.put(key, joined, hash);
    return true;
  }

  /** Removes a register (collection of a tombstone, a reset); not replicated. Returns true when it was held. */
  delete(key: string): boolean {
    const held = this.entries.get(key);
    if (held === undefined) return false;
    const leaf = leafOf(key);
    if (held.hashHi !== UNHASHED) this.xor(leaf, hashOfEntry(held));
    this.dropFromLeaf(leaf, key);
    this.entries.delete(key);
    this.selected.delete(key);
    this._tick++;
    return true;
  }

  /** Bumps the tick without a change (marks "after this moment" for acknowledgements). */
  bump(): number {
    return ++this._tick;
  }

  /** Fingerprints of the 2^level buckets (0 for an empty bucket). */
  digest(level: number): number[] {
    this.hashPending();
    const buckets = 2 ** level;
    const width = LEAVES / buckets;
    const out = new Array<number>(buckets);
    for (let b = 0; b < buckets; b++) {
      let hi = 0;
      let lo = 0;
      for (let leaf = b * width; leaf < (b + 1) * width; leaf++) {
        hi ^= this.leafHi[leaf]!;
        lo ^= this.leafLo[leaf]!;
      }
      out[b] = (hi >>> 0) * TWO_32 + (lo >>> 0);
    }
    return out;
  }

  /** The fingerprint of one bucket of a digest at `level`. */
  bucketHash(level: number, bucket: number): number {
    this.hashPending();
    const [from, to] = leafRange(level, bucket);
    let hi = 0;
    let lo = 0;
    for (let leaf = from; leaf < to; leaf++) {
      hi ^= this.leafHi[leaf]!;
      lo ^= this.leafLo[leaf]!;
    }
    return (hi >>> 0) * TWO_32 + (lo >>> 0);
  }

  /** The keys held in the given buckets of a digest at `level`. */
  *keysInBuckets(level: number, buckets: Iterable<number>): IterableIterator<string> {
    for (const bucket of buckets) {
      const [from, to] = leafRange(level, bucket);
      for (let leaf = from; leaf < to; leaf++) {
        const keys = this.leafKeys[leaf];
        if (keys !== undefined) yield* keys;
      }
    }
  }

  /** Holds `value` at `key` with its fingerprint `hash`, or with none yet (undefined: see the header). */
  private put(key: string, value: unknown, hash: number | undefined): void {
    const held = this.entries.get(key);
    const leaf = leafOf(key);
    // A register changed: its old fingerprint leaves its leaf's.
    if (held !== undefined && held.hashHi !== UNHASHED) this.xor(leaf, hashOfEntry(held));
    const entry: Entry = { value, hashHi: UNHASHED, hashLo: 0, tick: ++this._tick };
    if (hash === undefined) this.markUnhashed(leaf);
    else this.setHash(entry, leaf, hash);
    this.entries.set(key, entry);
    if (held === undefined && this.indexed(key)) this.selected.add(key);
    // A key already held stays in its leaf's list (its fingerprint changed, not its place).
    if (held !== undefined) return;
    const keys = this.leafKeys[leaf];
    // A new list one longer, exactly as long (`push` reserves 17 more slots: 150 B per leaf).
    this.leafKeys[leaf] = keys === undefined ? [key] : keys.concat(key);
  }

  /** Takes `key` out of its leaf's list of keys. */
  private dropFromLeaf(leaf: number, key: string): void {
    const keys = this.leafKeys[leaf];
    if (keys === undefined) return;
    const at = keys.indexOf(key);
    if (at < 0) return;
    // Unordered: the last key takes the place of the one removed.
    const last = keys.pop()!;
    if (at < keys.length) keys[at] = last;
    if (keys.length === 0) this.leafKeys[leaf] = undefined;
  }

  /** Records `hash` as the entry's fingerprint and adds it to its leaf's. */
  private setHash(entry: Entry, leaf: number, hash: number): void {
    // `| 0`: int32-typed, so V8 gives both fields its small-integer representation (computed as
    // doubles they would be boxed: a heap number each).
    const hashLo = (hash % TWO_27) | 0;
    entry.hashHi = ((hash - hashLo) / TWO_27) | 0;
    entry.hashLo = hashLo;
    this.xor(leaf, hash);
  }

  /** The fingerprint of the register held at `key` (in `leaf`, when the caller knows it), computed now if it has none yet. */
  private fingerprintOfEntry(key: string, entry: Entry, leaf?: number): number {
    // A held key has a kind: merge refuses keys without one. The leaf only when needed: a hash of the key.
    if (entry.hashHi === UNHASHED) this.setHash(entry, leaf ?? leafOf(key), fingerprintOf(this.kindOf(key)!, key, entry.value));
    return hashOfEntry(entry);
  }

  private markUnhashed(leaf: number): void {
    if (this.unhashedFlag[leaf] === 1) return;
    this.unhashedFlag[leaf] = 1;
    this.unhashedLeaves.push(leaf);
  }

  /** Fingerprints every register that has none yet, so that every leaf's fingerprint covers all of its registers. */
  private hashPending(): void {
    if (this.unhashedLeaves.length === 0) return;
    const leaves = this.unhashedLeaves;
    this.unhashedLeaves = [];
    for (const leaf of leaves) {
      this.unhashedFlag[leaf] = 0;
      for (const key of this.leafKeys[leaf] ?? []) this.fingerprintOfEntry(key, this.entries.get(key)!, leaf);
    }
  }

  private xor(leaf: number, hash: number): void {
    const lo = hash % TWO_32;
    const hi = (hash - lo) / TWO_32;
    this.leafHi[leaf] = (this.leafHi[leaf]! ^ hi) >>> 0;
    this.leafLo[leaf] = (this.leafLo[leaf]! ^ lo) >>> 0;
  }
}
