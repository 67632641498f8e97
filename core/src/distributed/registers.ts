/**
 * The registers of the desired state: what the distributed supervisor keeps
 * in its replicated store (store/replica.ts), one merged copy per node, and
 * the joins that make any delivery order converge.
 *
 * Versions (`Ver`) are `time.seq.node` strings of fixed width, so they
 * compare as strings: later writes win ties by node name. They order writes
 * of one node strictly (the seq) and of different nodes roughly by time.
 *
 * A child register (key `c:<id>`) is a small join-semilattice:
 *   floor      the highest terminated revision: every spec at or below it is gone
 *   floorAt    when the floor was written (ms, the writer's clock): the
 *              tombstone's age counts from here, not from the spec's start
 *   collected  the floor that every member is known to hold (tombstones.ts):
 *              once `collected` reaches `floor` and no spec is above it, the
 *              register is a collected tombstone, dropped everywhere and never
 *              taken back from anyone (`ignoreWhenAbsent`)
 *   specs      concurrent start requests, rev → { spec, pin }; the live spec is
 *              the one with the smallest rev above the floor (first writer wins,
 *              so a conflicting second start loses, deterministically)
 *   pin        per rev, the newest { node | null, ver } (null: unpinned)
 * join = max floor (with its floorAt), max collected, union of specs above
 * the floor, newest pin per rev. terminate = raise the floor to the highest
 * rev known, which also cancels pending starts of that id; a later start
 * gets a higher rev and lives.
 *
 * Flag registers (last writer wins by version): `f:drain:<node>` (is the
 * node draining), `f:pause` (is rebalancing paused cluster-wide) and
 * `m:<node>` (the roster: true while the node is a member the cluster must
 * wait for before it collects a tombstone, false once it is forgotten).
 *
 * Every join here is commutative, associative and idempotent
 * (registers.test.ts proves it with fast-check), and each kind has a
 * canonical text: equal registers, equal text.
 */
import { z } from 'zod';
import { deepFreeze } from '../util/deep-freeze.js';
import { NODE_NAME_PATTERN } from '../protocol.js';
import { ChildSpecSchema, decodeWireSpec, shareCommonParts, wireSpec, type ChildSpec } from '../supervisor/child-spec.js';
import { TextBuilder, writeSpecText, type TextSink } from '../supervisor/spec-text.js';
import type { KindOf, RegisterKind } from '../store/replica.js';
import { childIdOfKey, parseKey } from './tags.js';

/** A version of a register write: a fixed-width `time.seq.node` string that orders writes by plain string comparison. */
export type Ver = string;

/** Versions more than this far in a peer's future are refused: they would win every later write until real time caught up. */
export const MAX_FUTURE_MS = 60 * 60 * 1000;

/** Makes versions for one node: strictly increasing, comparable as strings. */
export class VersionClock {
  private seq = 0;
  private last = 0;
  constructor(
    private readonly node: string,
    private readonly now: () => number,
  ) {}

  next(): Ver {
    const t = Math.max(this.now(), this.last);
    if (t !== this.last) this.seq = 0;
    this.last = t;
    this.seq++;
    return `${t.toString(36).padStart(10, '0')}.${this.seq.toString(36).padStart(6, '0')}.${this.node}`;
  }
}

/** The time (ms) a version was made at. */
export function verTime(ver: Ver): number {
  return parseInt(ver.slice(0, 10), 36);
}

/** The node that made a version (the one that executed the write). */
export function verNode(ver: Ver): string {
  return ver.slice(18);
}

export interface Pin {
  node: string | null;
  ver: Ver;
}

export interface SpecEntry {
  rev: Ver;
  spec: ChildSpec;
  pin?: Pin;
}

export interface ChildRegister {
  floor?: Ver;
  floorAt?: number;
  collected?: Ver;
  specs: SpecEntry[];
}

export interface FlagRegister<T = boolean> {
  value: T;
  ver: Ver;
}

function maxVer(a: Ver | undefined, b: Ver | undefined): Ver | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

function newerPin(a: Pin | undefined, b: Pin | undefined): Pin | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.ver > a.ver ? b : a;
}

/** The join of child registers (for one or many; `mergeChild([r])` normalises r). */
export function mergeChild(registers: readonly ChildRegister[]): ChildRegister {
  let floor: Ver | undefined;
  let floorAt: number | undefined;
  let collected: Ver | undefined;
  // The join of (floor, floorAt), ordered by floor and then by floorAt.
  for (const r of registers) {
    collected = maxVer(collected, r.collected);
    if (r.floor === undefined) continue;
    if (floor === undefined || r.floor > floor) {
      floor = r.floor;
      floorAt = r.floorAt;
    } else if (r.floor === floor && r.floorAt !== undefined && (floorAt === undefined || r.floorAt > floorAt)) floorAt = r.floorAt;
  }
  const byRev = new Map<Ver, SpecEntry>();
  for (const r of registers) {
    for (const entry of r.specs) {
      if (floor !== undefined && entry.rev <= floor) continue;
      const held = byRev.get(entry.rev);
      if (!held) {
        byRev.set(entry.rev, entry);
        continue;
      }
      const pin = newerPin(held.pin, entry.pin);
      if (pin !== held.pin) byRev.set(entry.rev, pin ? { ...held, pin } : held);
    }
  }
  const specs = [...byRev.values()].sort((a, b) => (a.rev < b.rev ? -1 : a.rev > b.rev ? 1 : 0));
  return {
    ...(floor !== undefined ? { floor } : {}),
    ...(floorAt !== undefined ? { floorAt } : {}),
    ...(collected !== undefined ? { collected } : {}),
    specs,
  };
}

/** The join of two child registers. */
export function joinChild(a: ChildRegister, b: ChildRegister): ChildRegister {
  return mergeChild([a, b]);
}

/** The live spec of a register (smallest rev above the floor), if any. */
export function liveSpec(register: ChildRegister): SpecEntry | undefined {
  return register.specs[0];
}

/** The highest rev in the register (what a terminate must cover). */
export function highestRev(register: ChildRegister): Ver | undefined {
  let high = register.floor;
  for (const s of register.specs) high = maxVer(high, s.rev);
  return high;
}

/** A tombstone: no spec, a floor. */
export function isTombstone(register: ChildRegister): boolean {
  return register.specs.length === 0 && register.floor !== undefined;
}

/** A tombstone every member is known to hold: dropped, and never taken back. */
export function isCollected(register: ChildRegister): boolean {
  return isTombstone(register) && register.collected !== undefined && register.collected >= register.floor!;
}

/** Nothing at all (the bottom of the lattice): the same as holding no register. */
export function isEmptyChild(register: ChildRegister): boolean {
  return register.specs.length === 0 && register.floor === undefined;
}

/** Last writer wins (by version). */
export function joinFlag<T>(a: FlagRegister<T>, b: FlagRegister<T>): FlagRegister<T> {
  return b.ver > a.ver ? b : a;
}

/** Last writer wins over many (undefined for none). */
export function mergeFlag<T>(registers: ReadonlyArray<FlagRegister<T>>): FlagRegister<T> | undefined {
  let best: FlagRegister<T> | undefined;
  for (const r of registers) if (!best || r.ver > best.ver) best = r;
  return best;
}

/** The canonical text of a child register (equality). */
export function childText(r: ChildRegister): string {
  return writeChildText(r, new TextBuilder()).text;
}

/** Writes `childText(r)` to `out`, piece by piece (the store's fingerprint feeds it to a hash, never building it); returns `out`. */
export function writeChildText<T extends TextSink>(r: ChildRegister, out: T): T {
  out.add('c|');
  out.add(r.floor ?? '');
  out.add('|');
  out.add(r.floorAt === undefined ? '' : String(r.floorAt));
  out.add('|');
  out.add(r.collected ?? '');
  for (let i = 0; i < r.specs.length; i++) {
    const s = r.specs[i]!;
    out.add('|');
    out.add(s.pin === undefined ? s.rev : JSON.stringify([s.rev, s.pin.node, s.pin.ver]));
    out.add('|');
    writeSpecText(s.spec, out);
  }
  return out;
}

export function flagText(r: FlagRegister<boolean>): string {
  return `f|${r.value ? 1 : 0}|${r.ver}`;
}

// ---- decoding untrusted registers (peers, files) ---------------------------------------

const VER_PATTERN = /^[0-9a-z]{10}\.[0-9a-z]{6}\.[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
export const VerSchema = z.string().regex(VER_PATTERN, 'must be a version (time.seq.node)');
export const ChildRegisterSchema = z
  .object({
    floor: VerSchema.optional(),
    floorAt: z.number().int().min(0).optional(),
    collected: VerSchema.optional(),
    specs: z
      .array(
        z
          .object({
            rev: VerSchema,
            spec: ChildSpecSchema,
            pin: z
              .object({ node: z.string().regex(NODE_NAME_PATTERN).nullable(), ver: VerSchema })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
export const FlagSchema = z.object({ value: z.boolean(), ver: VerSchema }).strict();

type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Why `v` is too far in the future (past `limit`), if it is. */
function tooNew(v: Ver | undefined, limit: number): string | undefined {
  return v !== undefined && verTime(v) > limit ? `version ${v} is in the future` : undefined;
}

/** Already what `mergeChild([r])` would make of it: specs sorted by rev, none at or below the floor, one entry per rev. */
function isNormal(r: ChildRegister): boolean {
  for (let i = 0; i < r.specs.length; i++) {
    const rev = r.specs[i]!.rev;
    if (r.floor !== undefined && rev <= r.floor) return false;
    if (i > 0 && rev <= r.specs[i - 1]!.rev) return false;
  }
  return true;
}

function issues(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(register)'}: ${issue.message}`;
}

/**
 * Decodes an untrusted child register for child `id`: validated,
 * normalised, frozen. A register as another node writes it takes the fast
 * path (`fastChildRegister`, checked against `ChildRegisterSchema` in
 * registers.test.ts); anything else goes through zod, which says what is
 * wrong.
 */
export function decodeChild(id: string, value: unknown, now: number): Decoded<ChildRegister> {
  const fast = fastChildRegister(value);
  let r: ChildRegister;
  if (fast !== undefined) r = fast;
  else {
    const parsed = ChildRegisterSchema.safeParse(value);
    if (!parsed.success) return { ok: false, reason: issues(parsed.error) };
    r = parsed.data;
  }
  const limit = now + MAX_FUTURE_MS;
  let future = tooNew(r.floor, limit) ?? tooNew(r.collected, limit);
  for (const s of r.specs) {
    if (s.spec.id !== id) return { ok: false, reason: `holds a spec for ${JSON.stringify(s.spec.id)}, not ${JSON.stringify(id)}` };
    future ??= tooNew(s.rev, limit) ?? tooNew(s.pin?.ver, limit);
    shareCommonParts(s.spec);
  }
  if (future) return { ok: false, reason: `${future} (more than ${MAX_FUTURE_MS / 60_000} min ahead: a clock far off?)` };
  return { ok: true, value: deepFreeze(isNormal(r) ? r : mergeChild([r])) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function onlyKeys(v: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in v) if (Object.hasOwn(v, k) && (!allowed.has(k) || v[k] === undefined)) return false;
  return true;
}

const REGISTER_KEYS: ReadonlySet<string> = new Set(['floor', 'floorAt', 'collected', 'specs']);
const ENTRY_KEYS: ReadonlySet<string> = new Set(['rev', 'spec', 'pin']);
const PIN_KEYS: ReadonlySet<string> = new Set(['node', 'ver']);
export const isVer = (v: unknown): v is Ver => typeof v === 'string' && VER_PATTERN.test(v);

/** A child register exactly as `ChildRegisterSchema` would accept it, with normalised specs — or undefined (then zod decides). Never throws. */
export function fastChildRegister(v: unknown): ChildRegister | undefined {
  try {
    if (!isPlainObject(v) || !onlyKeys(v, REGISTER_KEYS)) return undefined;
    const { floor, floorAt, collected, specs } = v;
    if (floor !== undefined && !isVer(floor)) return undefined;
    if (collected !== undefined && !isVer(collected)) return undefined;
    if (floorAt !== undefined && !(typeof floorAt === 'number' && Number.isSafeInteger(floorAt) && floorAt >= 0)) return undefined;
    if (!Array.isArray(specs) || specs.length > 64) return undefined;
    for (let i = 0; i < specs.length; i++) {
      if (!(i in specs)) return undefined;
      const e = specs[i] as unknown;
      if (!isPlainObject(e) || !onlyKeys(e, ENTRY_KEYS) || !isVer(e['rev'])) return undefined;
      const spec = decodeWireSpec(e['spec']);
      if (spec === undefined) return undefined;
      // A spec as it travels, its defaults left out (`wireChild`): the entry takes the whole one (an entry
      // refused further on goes through zod, for which the two are the same).
      if (spec !== e['spec']) e['spec'] = spec;
      const pin = e['pin'];
      if (
        pin !== undefined &&
        (!isPlainObject(pin) ||
          !onlyKeys(pin, PIN_KEYS) ||
          !isVer(pin['ver']) ||
          !(pin['node'] === null || (typeof pin['node'] === 'string' && NODE_NAME_PATTERN.test(pin['node']))))
      )
        return undefined;
    }
    return v as unknown as ChildRegister;
  } catch {
    return undefined;
  }
}

export function decodeFlag(value: unknown, now: number): Decoded<FlagRegister<boolean>> {
  const parsed = FlagSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: issues(parsed.error) };
  const future = tooNew(parsed.data.ver, now + MAX_FUTURE_MS);
  if (future) return { ok: false, reason: `${future} (more than ${MAX_FUTURE_MS / 60_000} min ahead: a clock far off?)` };
  return { ok: true, value: deepFreeze(parsed.data) };
}

/**
 * A child register as it travels (protocol 2.8): each spec without the
 * fields at their defaults (child-spec.ts `wireSpec`); `decodeChild` reads
 * it back to an equal register. Fields that are undefined are the ones JSON
 * leaves out. Made at each send and dropped once written.
 */
export function wireChild(r: ChildRegister): unknown {
  const specs = new Array<unknown>(r.specs.length);
  for (let i = 0; i < r.specs.length; i++) {
    const s = r.specs[i]!;
    specs[i] = { rev: s.rev, spec: wireSpec(s.spec), pin: s.pin };
  }
  return { floor: r.floor, floorAt: r.floorAt, collected: r.collected, specs };
}

export const childKind: RegisterKind<ChildRegister> = {
  decode(key, value, now) {
    const id = childIdOfKey(key);
    if (id === undefined) return { ok: false, reason: 'not a child key' };
    return decodeChild(id, value, now);
  },
  join: (a, b) => deepFreeze(joinChild(a, b)),
  text: childText,
  writeText: writeChildText,
  wire: wireChild,
  ignoreWhenAbsent: (r) => isCollected(r) || isEmptyChild(r),
};

const flagKind: RegisterKind<FlagRegister<boolean>> = {
  decode: (_key, value, now) => decodeFlag(value, now),
  join: (a, b) => joinFlag(a, b),
  text: flagText,
};

/** The register kind of a desired-state key (the store's `kindOf`). */
export const desiredStateKinds: KindOf = (key) => {
  // Nearly every key is a child's, asked about several times per register received: no object made for it.
  if (key.startsWith('c:')) return key.length > 2 ? childKind : undefined;
  return parseKey(key) === undefined ? undefined : flagKind;
};
