/**
 * Seeds as written by operators: what `--seeds` and `--dns-server` accept.
 *
 * A seed is one of
 *
 *   host:port          dialled as given (`10.0.0.1:4370`, `[::1]:4370`, `n1:4370`)
 *   dns:<name>:<port>  every A and AAAA record of <name>, each dialled at <port>
 *   dns-srv:<name>     every SRV record of <name>: its target's A/AAAA records,
 *                      each dialled at the record's port
 *
 * The plain form is tried first, so `dns:4370` stays the host `dns` at port
 * 4370 (a docker-compose service may be called `dns`); `dns:` and `dns-srv:`
 * start a DNS seed only when what follows is not a port.
 *
 * A DNS server (`--dns-server`) is an IP address with an optional port
 * (default 53): `127.0.0.1:5353`, `10.96.0.10`, `[::1]:53`, `::1`. Names are
 * refused, since the resolver that would look them up is the one being set.
 *
 * Everything here is pure; parsing never throws and says what is wrong.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { AddressSchema } from '../protocol.js';

export type SeedSpec =
  /** Dialled as given. */
  | { kind: 'address'; address: string }
  /** A and AAAA records of `name`, each at `port`. */
  | { kind: 'dns'; name: string; port: number }
  /** SRV records of `name`: each target's addresses at the record's port. */
  | { kind: 'dns-srv'; name: string };

export type DnsSeedSpec = Exclude<SeedSpec, { kind: 'address' }>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A host name as DNS carries it: dot-separated labels of letters, digits, `-` and `_` (SRV names), at most 253 characters, an optional final dot. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function checkName(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0) return 'the name is empty';
  if (bare.length > 253) return 'the name is longer than 253 characters';
  const bad = bare.split('.').find((label) => !LABEL.test(label));
  if (bad !== undefined) return `${JSON.stringify(bad)} is not a DNS label (letters, digits, - and _, at most 63 characters, not starting or ending with -)`;
  return undefined;
}

function checkPort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text)) return `${JSON.stringify(text)} is not a port`;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : `port ${port} is out of range (1-65535)`;
}

/** One seed as written (see the header). */
export function parseSeed(text: string): Parsed<SeedSpec> {
  const seed = text.trim();
  if (AddressSchema.safeParse(seed).success) {
    // The wire's address form allows port 0 (a client that does not listen says so); a seed is dialled.
    const port = checkPort(seed.slice(seed.lastIndexOf(':') + 1));
    return typeof port === 'string' ? { ok: false, error: `${JSON.stringify(seed)}: ${port}` } : { ok: true, value: { kind: 'address', address: seed } };
  }
  if (seed.startsWith('dns-srv:')) {
    const name = seed.slice('dns-srv:'.length);
    const problem = name.includes(':') ? 'dns-srv:<name> takes no port (each SRV record carries its own)' : checkName(name);
    return problem === undefined ? { ok: true, value: { kind: 'dns-srv', name } } : { ok: false, error: `${JSON.stringify(seed)}: ${problem}` };
  }
  if (seed.startsWith('dns:')) {
    const rest = seed.slice('dns:'.length);
    const colon = rest.lastIndexOf(':');
    if (colon < 0) return { ok: false, error: `${JSON.stringify(seed)}: give the port too, as dns:<name>:<port>` };
    const name = rest.slice(0, colon);
    const port = checkPort(rest.slice(colon + 1));
    const problem = typeof port === 'string' ? port : checkName(name);
    return problem === undefined
      ? { ok: true, value: { kind: 'dns', name, port: port as number } }
      : { ok: false, error: `${JSON.stringify(seed)}: ${problem}` };
  }
  return { ok: false, error: `${JSON.stringify(seed)} is not host:port, dns:<name>:<port> or dns-srv:<name>` };
}

/** The seed as an operator writes it (`parseSeed`'s inverse, for logs and status). */
export function formatSeed(seed: SeedSpec): string {
  switch (seed.kind) {
    case 'address':
      return seed.address;
    case 'dns':
      return `dns:${seed.name}:${seed.port}`;
    case 'dns-srv':
      return `dns-srv:${seed.name}`;
  }
}

/**
 * Splits written seeds into the ones dialled as given and the ones resolved through DNS. Throws nothing:
 * `seeds` were validated by `SeedTextSchema`; a stray bad one is reported in `invalid`.
 */
export function splitSeeds(seeds: readonly string[]): { addresses: string[]; dns: DnsSeedSpec[]; invalid: string[] } {
  const out = { addresses: [] as string[], dns: [] as DnsSeedSpec[], invalid: [] as string[] };
  for (const text of seeds) {
    const parsed = parseSeed(text);
    if (!parsed.ok) out.invalid.push(parsed.error);
    else if (parsed.value.kind === 'address') out.addresses.push(parsed.value.address);
    else out.dns.push(parsed.value);
  }
  return out;
}

/** A DNS server for `Resolver.setServers`: an IP with an optional port (see the header). */
export function parseDnsServer(text: string): Parsed<string> {
  const server = text.trim();
  if (isIP(server) !== 0) return { ok: true, value: server };
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(server);
  const plain = /^([^:]+):(\d{1,5})$/.exec(server);
  const match = bracketed ?? plain;
  if (!match || isIP(match[1]!) === 0)
    return { ok: false, error: `${JSON.stringify(server)} is not an IP address with an optional port (e.g. 127.0.0.1:5353, 10.96.0.10, [::1]:53)` };
  const port = checkPort(match[2]!);
  return typeof port === 'string' ? { ok: false, error: `${JSON.stringify(server)}: ${port}` } : { ok: true, value: server };
}

/** Config schema of one seed as written. */
export const SeedTextSchema = z
  .string()
  .max(300)
  .superRefine((text, ctx) => {
    const parsed = parseSeed(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });

/** Config schema of one DNS server as written. */
export const DnsServerSchema = z
  .string()
  .max(100)
  .superRefine((text, ctx) => {
    const parsed = parseDnsServer(text);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
  });
