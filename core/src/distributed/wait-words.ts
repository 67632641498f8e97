/**
 * The words of a member's wait for readiness (member metadata `waitsFor`,
 * protocol 2.7; readiness.ts `readinessGaps`): whom and what it waits for,
 * one part each. One wording for every place that says it — `explain`,
 * `pogo ctl status` and the desktop app's attention lane and board (the
 * renderer imports it through observer/state.ts) — so they cannot drift
 * apart. Pure, no imports but types: it runs in the browser too.
 */
import type { WaitsFor } from '../protocol.js';

/** What a member waits for, one part each (empty: nothing named: it links to and syncs with every member it knows of). */
export function waitedForParts(gaps: Pick<WaitsFor, 'notLinked' | 'roster' | 'notSynced' | 'joined' | 'leased'>): string[] {
  const parts: string[] = [];
  const linkless = gaps.notLinked.filter((n) => !gaps.roster.includes(n));
  if (linkless.length > 0) parts.push(`a link to ${linkless.join(', ')}`);
  if (gaps.roster.length > 0) parts.push(`${gaps.roster.join(', ')} (in its saved roster, not heard of since it restarted)`);
  if (gaps.notSynced.length > 0) parts.push(`the state of ${gaps.notSynced.join(', ')} (linked, not synced yet)`);
  if (!gaps.joined) parts.push('a first link to any of its seeds');
  if (!gaps.leased) parts.push('a majority of the expected members (majority mode)');
  return parts;
}
