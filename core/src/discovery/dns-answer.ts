/**
 * DNS answers → seed addresses: the decisions of DNS discovery, as pure
 * functions (seed-discovery.ts does the I/O and the timing).
 *
 * One lookup of a seed is a handful of queries (A and AAAA of a name; for
 * SRV, the SRV query and then A and AAAA of each target). Each query ends in
 * one of three ways (`classifyDnsError`):
 *
 *   records   the addresses it returned
 *   empty     the name does not exist (NXDOMAIN) or has no record of that
 *             type (NODATA): a real answer, "nobody there right now" —
 *             a Kubernetes headless service with no ready pod says this
 *   failed    no answer: timeout, refused, server failure, cancelled
 *
 * `combineQueries` folds them into one outcome for the seed: an `answer`
 * (every query answered, records or empty) or a `failure` (some query went
 * unanswered; the addresses the others returned ride along). Then
 * `nextAddresses` decides the seed's address set: an answer replaces it
 * outright; a failure only adds to it, so a DNS server that is down for a
 * while does not make the node forget the cluster. An address that leaves
 * the set is no longer dialled as a seed; a link to it is kept (membership
 * handles nodes that die).
 *
 * Logging once per change, not every interval: `outcomeKey` is the same for
 * the same outcome, so the caller logs only when a seed's key changes.
 *
 * Jitter: `jitteredDelay` spreads lookups over ±20% of the interval, so the
 * nodes of a cluster started together do not all ask at the same instant.
 */
import { isIP } from 'node:net';

/** What one DNS query gave. `addresses` are `host:port` strings ready to dial. */
export type QueryResult = { kind: 'records'; addresses: string[] } | { kind: 'empty'; code: string } | { kind: 'failed'; code: string; message: string };

/** What one lookup of a seed gave. */
export type LookupOutcome =
  /** Every query was answered; `addresses` may be empty (`empty` then says why: the codes seen). */
  | { kind: 'answer'; addresses: string[]; empty?: string }
  /** Some query went unanswered; `addresses` are what the answered ones returned. */
  | { kind: 'failure'; addresses: string[]; error: string };

/** The most addresses one seed contributes (as many as static seeds may be given). */
export const MAX_ADDRESSES_PER_SEED = 1000;

/** Error codes of a real answer without records: the name does not exist, or has no record of the asked type. */
const EMPTY_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/** A query's error (Node's `dns` error codes) as a result: an empty answer or a failure. */
export function classifyDnsError(err: unknown): QueryResult {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'EUNKNOWN';
  const message = err instanceof Error ? err.message : String(err);
  return EMPTY_CODES.has(code) ? { kind: 'empty', code } : { kind: 'failed', code, message };
}

/** `host:port` for an IP from an A or AAAA record (IPv6 in brackets); undefined for anything that is not an IP. */
export function addressOf(ip: string, port: number): string | undefined {
  const family = isIP(ip);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Folds a seed's query results into one outcome (see the header). Addresses are deduplicated, sorted and capped. */
export function combineQueries(results: readonly QueryResult[]): LookupOutcome {
  const addresses = new Set<string>();
  const empty = new Set<string>();
  const failed: string[] = [];
  for (const r of results) {
    if (r.kind === 'records') for (const a of r.addresses) addresses.add(a);
    else if (r.kind === 'empty') empty.add(r.code);
    else failed.push(`${r.code}: ${r.message}`);
  }
  const list = [...addresses].sort().slice(0, MAX_ADDRESSES_PER_SEED);
  if (failed.length > 0) return { kind: 'failure', addresses: list, error: [...new Set(failed)].join('; ') };
  return list.length === 0 && empty.size > 0 ? { kind: 'answer', addresses: list, empty: [...empty].sort().join(',') } : { kind: 'answer', addresses: list };
}

/** The seed's address set after a lookup: an answer replaces it, a failure only adds (see the header). */
export function nextAddresses(previous: ReadonlySet<string>, outcome: LookupOutcome): Set<string> {
  if (outcome.kind === 'answer') return new Set(outcome.addresses);
  return new Set([...previous, ...outcome.addresses]);
}

/** What entered and what left a set of addresses, each sorted. */
export function diffAddresses(previous: ReadonlySet<string>, next: ReadonlySet<string>): { added: string[]; removed: string[] } {
  return {
    added: [...next].filter((a) => !previous.has(a)).sort(),
    removed: [...previous].filter((a) => !next.has(a)).sort(),
  };
}

/** The same for the same outcome: log a seed's outcome only when this changes. */
export function outcomeKey(outcome: LookupOutcome): string {
  return outcome.kind === 'answer' ? `answer|${outcome.empty ?? ''}|${outcome.addresses.join(',')}` : `failure|${outcome.error}`;
}

/** The wait before the next lookup: `intervalMs` ±20%, from `unit` uniform in [0, 1). */
export function jitteredDelay(intervalMs: number, unit: number): number {
  return Math.max(1, Math.round(intervalMs * (0.8 + 0.4 * unit)));
}
