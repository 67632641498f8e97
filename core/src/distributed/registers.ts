/**
 * Replicated registers: the desired state of the distributed supervisor
 * (child specs, pins, drains, the rebalancing pause), kept in process groups
 * with no leader.
 *
 * Every member holds one membership in group `r:<key>` whose value is its
 * copy of the register. When a member sees copies that differ from its own,
 * it replaces its own with the *join* of all copies (`mergeChild` /
 * `mergeFlag`). The join is commutative, associative and idempotent, so every
 * member converges to the same value whatever the order of messages — and a
 * register survives as long as one member that holds it survives.
 *
 * Versions (`Ver`) are `time.seq.node` strings of fixed width, so they
 * compare as strings: later writes win ties by node name. They order writes
 * of one node strictly (the seq) and of different nodes roughly by time.
 *
 * A child register is a small join-semilattice:
 *   floor  the highest terminated revision: every spec at or below it is gone
 *   specs  concurrent start requests, rev → { spec, pin }; the live spec is
 *          the one with the smallest rev above the floor (first writer wins,
 *          so a conflicting second start loses, deterministically)
 *   pin    per rev, the newest { node | null, ver } (null: unpinned)
 * terminate = raise the floor to the highest rev known, which also cancels
 * pending starts of that id; a later start gets a higher rev and lives.
 */
import type { JsonValue } from '../groups.js';
import { canonicalOf } from '../protocol.js';
import type { ChildSpec } from '../supervisor/child-spec.js';

export type Ver = string;

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

export function verTime(ver: Ver): number {
  return parseInt(ver.slice(0, 10), 36);
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
  /** When the floor was written (ms, the writer's clock): tombstones expire counting from here, not from the spec's start. */
  floorAt?: number;
  specs: SpecEntry[];
}

export interface FlagRegister<T> {
  value: T;
  ver: Ver;
}

function maxVer(a: Ver | undefined, b: Ver | undefined): Ver | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/** The join of child registers. */
export function mergeChild(registers: readonly ChildRegister[]): ChildRegister {
  let floor: Ver | undefined;
  let floorAt: number | undefined;
  // The join of (floor, floorAt), ordered by floor and then by floorAt.
  for (const r of registers) {
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
      const pin = !held.pin ? entry.pin : !entry.pin ? held.pin : entry.pin.ver > held.pin.ver ? entry.pin : held.pin;
      if (pin !== held.pin) byRev.set(entry.rev, pin ? { ...held, pin } : held);
    }
  }
  const specs = [...byRev.values()].sort((a, b) => (a.rev < b.rev ? -1 : a.rev > b.rev ? 1 : 0));
  return floor !== undefined ? { floor, ...(floorAt !== undefined ? { floorAt } : {}), specs } : { specs };
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

/** Last writer wins. */
export function mergeFlag<T>(registers: ReadonlyArray<FlagRegister<T>>): FlagRegister<T> | undefined {
  let best: FlagRegister<T> | undefined;
  for (const r of registers) if (!best || r.ver > best.ver) best = r;
  return best;
}

export function sameRegister(a: unknown, b: unknown): boolean {
  return canonicalOf(a) === canonicalOf(b);
}

export function asJson(value: ChildRegister | FlagRegister<unknown>): JsonValue {
  return value as unknown as JsonValue;
}
