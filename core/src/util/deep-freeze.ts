/**
 * Deep freezing: replicated state (process group values, the store's
 * registers) is handed out without copies, so it is frozen once, all the
 * way down, and no reader can alter it.
 */

/** Freezes `value` and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k in o) if (Object.hasOwn(o, k)) deepFreeze(o[k]);
    Object.freeze(value);
  }
  return value;
}
