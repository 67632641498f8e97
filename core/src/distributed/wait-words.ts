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

/**
 * The members a wait names (`notLinked`, `roster`) that none here reaches,
 * sorted: gone for good, or cut off by the network. `reached` says whether
 * the one looking (a member for `pogo ctl status`, the app's observer) is
 * linked to a member now.
 */
export function unreachedWaitedFor(gaps: Pick<WaitsFor, 'notLinked' | 'roster'>, reached: (name: string) => boolean): string[] {
  return [...new Set([...gaps.notLinked, ...gaps.roster])].filter((n) => !reached(n)).sort();
}

/**
 * What to do about them, one clause with no end mark ("n3 is reached by no
 * member here: if it is gone for good, pogo ctl forget n3 ends the wait; …").
 * Empty for none.
 */
export function unreachedAdvice(lost: readonly string[]): string {
  if (lost.length === 0) return '';
  const one = lost.length === 1;
  return (
    `${lost.join(', ')} ${one ? 'is' : 'are'} reached by no member here: if ${one ? 'it is' : 'they are'} gone for good, ` +
    `pogo ctl forget ${lost[0]}${one ? '' : ' (each)'} ends the wait; otherwise look at the network to ${one ? 'it' : 'them'}`
  );
}
