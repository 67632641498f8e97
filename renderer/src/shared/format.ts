/**
 * Formatters the views share: durations, wall-clock times and counts, as
 * text the same in every locale (so tests and screenshots read the same on
 * every machine). Pure.
 */

/** "1,000": a count with thousands separators (the same in every locale, like the rest of the text). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "84 ms", "1.2 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')} s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local wall-clock time, HH:MM:SS. */
export function clockTime(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local wall-clock time with milliseconds, HH:MM:SS.mmm. */
export function clockTimeMs(at: number): string {
  return `${clockTime(at)}.${pad(new Date(at).getMilliseconds(), 3)}`;
}

/** "n1", "n1 and n2", "n1, n2 and n3". */
export function listWords(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
