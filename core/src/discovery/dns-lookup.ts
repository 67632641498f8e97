/**
 * The DNS side of discovery: one lookup of a seed, through Node's
 * `dns.promises.Resolver` (c-ares: it asks DNS servers directly and reads
 * neither /etc/hosts nor the search domains of /etc/resolv.conf, so give
 * Kubernetes names fully qualified).
 *
 *   dns:<name>:<port>  A and AAAA of <name> at once; each address at <port>
 *   dns-srv:<name>     SRV of <name>; then A and AAAA of every target (an IP
 *                      target is taken as it is), each at its record's port
 *
 * Each query's outcome is classified and folded by dns-answer.ts. A lookup
 * never rejects: errors are outcomes.
 *
 * `expandSeeds` looks every seed up once, for a client (`pogo ctl`) that
 * dials seeds in order rather than staying in the cluster.
 *
 * `DnsQueries` is the seam: `createDnsQueries` wraps a real resolver (its
 * servers from `--dns-server`, else the system's); tests pass a fake.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { MAX_ADDRESSES_PER_SEED, addressOf, classifyDnsError, combineQueries, type LookupOutcome, type QueryResult } from './dns-answer.js';
import { formatSeed, parseSeed, type DnsSeedSpec } from './seed-spec.js';

/** One SRV record of a `dns-srv:` seed: a target host and the port it serves on. */
export interface SrvRecord {
  /** The target host name (or IP address) the record points at. */
  name: string;
  /** The TCP port on the target. */
  port: number;
  /** The record's priority (lower is preferred), as DNS returned it. */
  priority: number;
  /** The record's weight among records of equal priority, as DNS returned it. */
  weight: number;
}

/** The queries discovery makes. Each rejects with a Node `dns` error (its `code`) when there is no answer. */
export interface DnsQueries {
  /** The IPv4 addresses (A records) of `name`. */
  resolve4(name: string): Promise<string[]>;
  /** The IPv6 addresses (AAAA records) of `name`. */
  resolve6(name: string): Promise<string[]>;
  /** The SRV records of `name`. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** Abandons every query in flight: they reject with `ECANCELLED`. */
  cancel(): void;
  /** The servers asked (`--dns-server`, else the system's), for logs: a failure names them. */
  getServers?(): string[];
}

/**
 * A resolver asking `servers` (IP or IP:port, as `parseDnsServer` accepts;
 * empty: the system's). Each query waits `timeoutMs` per try, two tries.
 */
export function createDnsQueries(servers: readonly string[], timeoutMs: number): DnsQueries {
  const resolver = new Resolver({ timeout: Math.max(50, Math.round(timeoutMs)), tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return resolver;
}

async function query(run: () => Promise<string[]>, port: number): Promise<QueryResult> {
  try {
    const addresses = (await run()).map((ip) => addressOf(ip, port)).filter((a): a is string => a !== undefined);
    return { kind: 'records', addresses };
  } catch (err) {
    return classifyDnsError(err);
  }
}

/** A and AAAA of `host` at `port` (an IP literal is its own answer). */
function hostQueries(queries: DnsQueries, host: string, port: number): Array<Promise<QueryResult>> {
  if (isIP(host) !== 0) {
    const address = addressOf(host, port);
    return [Promise.resolve({ kind: 'records', addresses: address ? [address] : [] })];
  }
  return [query(() => queries.resolve4(host), port), query(() => queries.resolve6(host), port)];
}

/** One lookup of a DNS seed (see the header). Never rejects. */
export async function lookupSeed(queries: DnsQueries, seed: DnsSeedSpec): Promise<LookupOutcome> {
  if (seed.kind === 'dns') return combineQueries(await Promise.all(hostQueries(queries, seed.name, seed.port)));
  let records: SrvRecord[];
  try {
    records = await queries.resolveSrv(seed.name);
  } catch (err) {
    return combineQueries([classifyDnsError(err)]);
  }
  // Each record once per target and port; as many as one seed may contribute.
  const targets = [...new Map(records.map((r) => [`${r.name}|${r.port}`, r])).values()].slice(0, MAX_ADDRESSES_PER_SEED);
  if (targets.length === 0) return { kind: 'answer', addresses: [], empty: 'ENODATA' };
  return combineQueries(await Promise.all(targets.flatMap((r) => hostQueries(queries, r.name.replace(/\.$/, ''), r.port))));
}

/**
 * Every seed looked up once, in the order given: a `host:port` stays as it
 * is, a DNS seed becomes the addresses it gives now (deduplicated). For a
 * client that dials seeds one by one (`pogo ctl`); `problems` says why a
 * DNS seed gave no address.
 */
export async function expandSeeds(seeds: readonly string[], queries: DnsQueries): Promise<{ addresses: string[]; problems: string[] }> {
  const parsed = seeds.map(parseSeed);
  const outcomes = await Promise.all(parsed.map((p) => (p.ok && p.value.kind !== 'address' ? lookupSeed(queries, p.value) : Promise.resolve(undefined))));
  const addresses = new Set<string>();
  const problems: string[] = [];
  parsed.forEach((p, i) => {
    const outcome = outcomes[i];
    if (!p.ok) problems.push(p.error);
    else if (p.value.kind === 'address') addresses.add(p.value.address);
    else if (outcome && outcome.addresses.length > 0) for (const a of outcome.addresses) addresses.add(a);
    else problems.push(`${formatSeed(p.value)}: ${outcome?.kind === 'failure' ? outcome.error : `no address (${outcome?.empty ?? 'empty answer'})`}`);
  });
  return { addresses: [...addresses], problems };
}
