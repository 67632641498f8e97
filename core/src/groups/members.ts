/**
 * Member values: how a member is made, compared and put on the wire.
 *
 * Members are frozen objects (values deep-frozen copies), so reads hand them
 * out without copying and no caller can alter the replicated state. Values
 * are no longer interned (see `freezeValue`): each member holds its own.
 *
 * `diffMembers` is the multiset difference a sync uses to report only what
 * changed (pure).
 */
import { canonicalOf, type JsonValue, type PgEntry } from '../protocol.js';
import { deepFreeze } from '../util/deep-freeze.js';
import type { PgMember, PgValueSharer } from './types.js';

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
 * frozen in place; a local caller's value is copied first (`copyJson`: as
 * through JSON, what the wire carries anyway), so no caller keeps a handle
 * on replicated state.
 *
 * Until the desired state moved to its own store, equal values were
 * interned (a WeakRef table keyed by their JSON): every member held a copy
 * of every register. Values are per instance now (`run:` `{rev, restarts}`),
 * so sharing saved nothing and cost a JSON text, a WeakRef and a
 * finalizer per value: 4 µs → 0.35 µs per value received (micro-benchmark,
 * 50,000 values).
 */
function freezeValue(value: JsonValue, owned: boolean, group: string, share: PgValueSharer | undefined): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  const own = owned ? value : copyJson(value);
  if (share !== undefined) {
    try {
      share(group, own);
    } catch {
      // Sharing only saves memory: a sharer that fails leaves the value as it was decoded.
    }
  }
  return deepFreeze(own);
}

/**
 * A copy of a JSON value (one `isJsonValue` accepts) equal to what a trip
 * through JSON text makes of it (-0 is 0, a `__proto__` key an own field),
 * without writing the text: a local join copies its value (every child
 * instance started joins `run:`).
 */
export function copyJson(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object') return Object.is(v, -0) ? 0 : v;
  if (Array.isArray(v)) return v.map(copyJson);
  const out: Record<string, JsonValue> = {};
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const item = copyJson(v[k]!);
    if (k === '__proto__') Object.defineProperty(out, k, { value: item, enumerable: true, writable: true, configurable: true });
    else out[k] = item;
  }
  return out;
}

/** A frozen member of `group`; `share`: the scope's sharer (process-groups.ts `shareValues`), given the value before it is frozen. */
export function makeMember(pid: string, node: string, value: JsonValue | undefined, owned = false, group = '', share?: PgValueSharer): PgMember {
  return Object.freeze(value === undefined ? { pid, node } : { pid, node, value: freezeValue(value, owned, group, share) });
}

export function toEntry(member: PgMember): PgEntry {
  return member.value === undefined ? { pid: member.pid } : { pid: member.pid, value: member.value };
}
